package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
)

// Policies: /api/v1/policies and their rules, in Okta's shape, over the
// same policy documents the CLI applies from files (package policy).
//
// Where dirgate differs from Okta, the JSON says so in Okta's own terms:
// a rule's network zone lists CIDR prefixes itself (Okta names zone
// objects); authContext.authType takes ANY, LDAP_INTERFACE and dirgate's
// API and CONSOLE; conditions.userType is dirgate's (person or
// service_account); people name groups and users by id or name. Rules have
// no ids of their own in a policy document: a rule's id is derived from
// its policy and name, so renaming a rule changes its id.

const (
	typeSignOn   = "OKTA_SIGN_ON"
	typePassword = "PASSWORD"
)

var kindTypes = map[policy.Kind]string{policy.KindSignOn: typeSignOn, policy.KindPassword: typePassword}

func kindOf(t string) (policy.Kind, error) {
	for k, v := range kindTypes {
		if strings.EqualFold(t, v) {
			return k, nil
		}
	}
	return "", validation("type", "the policy type is "+typeSignOn+" or "+typePassword+", not "+quote(t))
}

type selectionJSON struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

type peopleJSON struct {
	Groups *selectionJSON `json:"groups,omitempty"`
	Users  *selectionJSON `json:"users,omitempty"`
}

type policyConditions struct {
	People *peopleJSON `json:"people,omitempty"`
}

type complexityJSON struct {
	MinLength         *int     `json:"minLength,omitempty"`
	MinLowerCase      *int     `json:"minLowerCase,omitempty"`
	MinUpperCase      *int     `json:"minUpperCase,omitempty"`
	MinNumber         *int     `json:"minNumber,omitempty"`
	MinSymbol         *int     `json:"minSymbol,omitempty"`
	ExcludeUsername   *bool    `json:"excludeUsername,omitempty"`
	ExcludeAttributes []string `json:"excludeAttributes,omitempty"`
}

type ageJSON struct {
	MaxAgeDays   *int `json:"maxAgeDays,omitempty"`
	HistoryCount *int `json:"historyCount,omitempty"`
}

type lockoutJSON struct {
	MaxAttempts       *int `json:"maxAttempts,omitempty"`
	AutoUnlockMinutes *int `json:"autoUnlockMinutes,omitempty"`
}

type passwordSettingsJSON struct {
	Complexity *complexityJSON `json:"complexity,omitempty"`
	Age        *ageJSON        `json:"age,omitempty"`
	Lockout    *lockoutJSON    `json:"lockout,omitempty"`
}

type policySettings struct {
	Password *passwordSettingsJSON `json:"password,omitempty"`
}

// policyJSON is Okta's Policy (OKTA_SIGN_ON or PASSWORD).
type policyJSON struct {
	ID          string            `json:"id,omitempty"`
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Priority    int               `json:"priority"`
	Status      string            `json:"status,omitempty"`
	System      bool              `json:"system"`
	Created     *jsonTime         `json:"created,omitempty"`
	LastUpdated *jsonTime         `json:"lastUpdated,omitempty"`
	Conditions  *policyConditions `json:"conditions,omitempty"`
	Settings    *policySettings   `json:"settings,omitempty"`
	Links       map[string]any    `json:"_links,omitempty"`
}

func selectionOut(s policy.Selection) *selectionJSON {
	if len(s.Include) == 0 && len(s.Exclude) == 0 {
		return nil
	}
	return &selectionJSON{Include: s.Include, Exclude: s.Exclude}
}

func selectionIn(s *selectionJSON) policy.Selection {
	if s == nil {
		return policy.Selection{}
	}
	return policy.Selection{Include: s.Include, Exclude: s.Exclude}
}

func ptr[T any](v T) *T { return &v }

func (s *Server) policyOut(r *http.Request, p *policy.Policy) *policyJSON {
	self := s.base(r) + "/api/v1/policies/" + p.ID
	out := &policyJSON{ID: p.ID, Type: kindTypes[p.Kind], Name: p.Name, Description: p.Description, Priority: p.Priority,
		Status: string(p.Status), Links: map[string]any{"self": link(self)}}
	if g, u := selectionOut(p.People.Groups), selectionOut(p.People.Users); g != nil || u != nil {
		out.Conditions = &policyConditions{People: &peopleJSON{Groups: g, Users: u}}
	}
	if p.Kind == policy.KindSignOn {
		out.Links["rules"] = link(self + "/rules")
	}
	if p.Kind == policy.KindPassword {
		s := policy.DefaultPasswordSettings()
		if p.Settings != nil {
			s = *p.Settings
		}
		out.Settings = &policySettings{Password: &passwordSettingsJSON{
			Complexity: &complexityJSON{MinLength: ptr(s.MinLength), MinLowerCase: ptr(s.MinLowerCase), MinUpperCase: ptr(s.MinUpperCase),
				MinNumber: ptr(s.MinNumber), MinSymbol: ptr(s.MinSymbol), ExcludeUsername: ptr(s.ExcludeUsername),
				ExcludeAttributes: s.ExcludeAttributes},
			Age:     &ageJSON{MaxAgeDays: ptr(s.MaxAgeDays), HistoryCount: ptr(s.HistoryCount)},
			Lockout: &lockoutJSON{MaxAttempts: ptr(s.Lockout.MaxAttempts), AutoUnlockMinutes: ptr(s.Lockout.AutoUnlockMinutes)},
		}}
	}
	return out
}

// policyIn builds a policy document from Okta's JSON; rules are kept from
// keep (a PUT does not touch rules, as in Okta).
func policyIn(in *policyJSON, keep []policy.Rule) (policy.Policy, error) {
	kind, err := kindOf(in.Type)
	if err != nil {
		return policy.Policy{}, err
	}
	p := policy.Policy{Kind: kind, Name: in.Name, Description: in.Description, Priority: in.Priority,
		Status: policy.Status(strings.ToUpper(in.Status)), Rules: keep}
	if p.Status == "" {
		p.Status = policy.StatusActive
	}
	if in.Conditions != nil && in.Conditions.People != nil {
		p.People = policy.People{Groups: selectionIn(in.Conditions.People.Groups), Users: selectionIn(in.Conditions.People.Users)}
	}
	if len(p.People.Groups.Include) == 0 && len(p.People.Users.Include) == 0 {
		p.People.Groups.Include = []string{policy.Everyone} // Okta's default: everyone
	}
	if in.Settings != nil {
		if kind != policy.KindPassword {
			return policy.Policy{}, validation("settings", "only a PASSWORD policy has settings; a sign-on policy decides with its rules")
		}
		s := policy.DefaultPasswordSettings()
		if pw := in.Settings.Password; pw != nil {
			if c := pw.Complexity; c != nil {
				set(&s.MinLength, c.MinLength)
				set(&s.MinLowerCase, c.MinLowerCase)
				set(&s.MinUpperCase, c.MinUpperCase)
				set(&s.MinNumber, c.MinNumber)
				set(&s.MinSymbol, c.MinSymbol)
				set(&s.ExcludeUsername, c.ExcludeUsername)
				if c.ExcludeAttributes != nil {
					s.ExcludeAttributes = c.ExcludeAttributes
				}
			}
			if a := pw.Age; a != nil {
				set(&s.MaxAgeDays, a.MaxAgeDays)
				set(&s.HistoryCount, a.HistoryCount)
			}
			if l := pw.Lockout; l != nil {
				set(&s.Lockout.MaxAttempts, l.MaxAttempts)
				set(&s.Lockout.AutoUnlockMinutes, l.AutoUnlockMinutes)
			}
		}
		p.Settings = &s
	}
	if err := policy.Validate(&p); err != nil {
		return policy.Policy{}, validation("policy", err.Error())
	}
	return p, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// policyByID finds the org's policy with the id.
func (s *Server) policyByID(c *call, id string) (*policy.Policy, error) {
	ps, err := s.dir.Policies(c.ctx, c.org)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i].ID == id {
			return &ps[i], nil
		}
	}
	return nil, notFound("policy " + id)
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, c *call) error {
	t := r.URL.Query().Get("type")
	if t == "" {
		return validation("type", "list policies of one type: ?type="+typeSignOn+" or ?type="+typePassword)
	}
	kind, err := kindOf(t)
	if err != nil {
		return err
	}
	ps, err := s.dir.Policies(c.ctx, c.org)
	if err != nil {
		return err
	}
	out := []*policyJSON{}
	for i := range ps {
		if ps[i].Kind == kind {
			out = append(out, s.policyOut(r, &ps[i]))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.policyByID(c, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.policyOut(r, p))
	return nil
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	var in policyJSON
	if err := s.decode(r, &in); err != nil {
		return err
	}
	p, err := policyIn(&in, nil)
	if err != nil {
		return err
	}
	return s.writePolicy(w, r, c, p, directory.PolicyCreateOnly)
}

func (s *Server) replacePolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	var in policyJSON
	if err := s.decode(r, &in); err != nil {
		return err
	}
	cur, err := s.policyByID(c, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := policyIn(&in, cur.Rules)
	if err != nil {
		return err
	}
	p.ID = cur.ID
	return s.writePolicy(w, r, c, p, directory.PolicyByID)
}

// writePolicy applies p and answers with the policy as stored.
func (s *Server) writePolicy(w http.ResponseWriter, r *http.Request, c *call, p policy.Policy, mode directory.PolicyMode) error {
	if _, err := s.dir.ApplyPolicies(c.ctx, c.org, []policy.Policy{p}, mode); err != nil {
		return err
	}
	ps, err := s.dir.Policies(c.ctx, c.org)
	if err != nil {
		return err
	}
	for i := range ps {
		if ps[i].Kind == p.Kind && (ps[i].ID == p.ID || strings.EqualFold(ps[i].Name, p.Name)) {
			writeJSON(w, http.StatusOK, s.policyOut(r, &ps[i]))
			return nil
		}
	}
	return notFound("policy " + p.Name)
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.policyByID(c, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.dir.DeletePolicy(c.ctx, c.org, p.Kind, p.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// policyLifecycle is activate / deactivate of a policy.
func (s *Server) policyLifecycle(w http.ResponseWriter, r *http.Request, c *call) error {
	status, err := lifecycleStatus(r.PathValue("action"))
	if err != nil {
		return err
	}
	p, err := s.policyByID(c, r.PathValue("id"))
	if err != nil {
		return err
	}
	p.Status = status
	if _, err := s.dir.ApplyPolicies(c.ctx, c.org, []policy.Policy{*p}, directory.PolicyByID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func lifecycleStatus(action string) (policy.Status, error) {
	switch action {
	case "activate":
		return policy.StatusActive, nil
	case "deactivate":
		return policy.StatusInactive, nil
	}
	return "", notFound("lifecycle operation " + action + " (known: activate, deactivate)")
}

// --- rules

// ruleJSON is Okta's sign-on PolicyRule.
type ruleJSON struct {
	ID          string          `json:"id,omitempty"`
	Type        string          `json:"type,omitempty"`
	Name        string          `json:"name"`
	Priority    int             `json:"priority"`
	Status      string          `json:"status,omitempty"`
	System      bool            `json:"system"`
	Conditions  *ruleConditions `json:"conditions,omitempty"`
	Actions     *ruleActions    `json:"actions,omitempty"`
	Created     *jsonTime       `json:"created,omitempty"`
	LastUpdated *jsonTime       `json:"lastUpdated,omitempty"`
	Links       map[string]any  `json:"_links,omitempty"`
}

type ruleConditions struct {
	Network     *networkJSON  `json:"network,omitempty"`
	AuthContext *authContext  `json:"authContext,omitempty"`
	UserType    *userTypeCond `json:"userType,omitempty"`
}

type networkJSON struct {
	Connection string   `json:"connection"` // ANYWHERE or ZONE
	Include    []string `json:"include,omitempty"`
	Exclude    []string `json:"exclude,omitempty"`
}

type authContext struct {
	AuthType string `json:"authType"`
}

type userTypeCond struct {
	Include []string `json:"include"`
}

type ruleActions struct {
	Signon *signonAction `json:"signon"`
}

type signonAction struct {
	Access        string `json:"access"` // ALLOW or DENY
	RequireFactor bool   `json:"requireFactor"`
}

var authTypes = map[policy.AuthType]string{policy.AuthAny: "ANY", policy.AuthLDAP: "LDAP_INTERFACE",
	policy.AuthAPI: "API", policy.AuthConsole: "CONSOLE"}

// ruleID is a rule's id: derived from its policy and (folded) name.
func ruleID(policyID, name string) string {
	h := sha256.Sum256([]byte(policyID + "/" + strings.ToLower(name)))
	return "0pr" + hex.EncodeToString(h[:])[:17]
}

func (s *Server) ruleOut(r *http.Request, policyID string, rl *policy.Rule) *ruleJSON {
	id := ruleID(policyID, rl.Name)
	out := &ruleJSON{ID: id, Type: "SIGN_ON", Name: rl.Name, Priority: rl.Priority, Status: string(rl.Status),
		Conditions: &ruleConditions{Network: &networkJSON{Connection: "ANYWHERE"}},
		Actions:    &ruleActions{Signon: &signonAction{Access: "ALLOW"}},
		Links:      map[string]any{"self": link(s.base(r) + "/api/v1/policies/" + policyID + "/rules/" + id)}}
	if n := rl.Conditions.Network; len(n.Include) > 0 || len(n.Exclude) > 0 {
		out.Conditions.Network = &networkJSON{Connection: "ZONE", Include: n.Include, Exclude: n.Exclude}
	}
	if t := rl.Conditions.AuthType; t != "" {
		out.Conditions.AuthContext = &authContext{AuthType: authTypes[t]}
	}
	if t := rl.Conditions.UserType; t != "" && t != policy.UserAny {
		out.Conditions.UserType = &userTypeCond{Include: []string{string(t)}}
	}
	switch rl.Action {
	case policy.ActionDeny:
		out.Actions.Signon.Access = "DENY"
	case policy.ActionMFA:
		out.Actions.Signon.RequireFactor = true
	}
	return out
}

func ruleIn(in *ruleJSON) (policy.Rule, error) {
	rl := policy.Rule{Name: in.Name, Priority: in.Priority, Status: policy.Status(strings.ToUpper(in.Status)), Action: policy.ActionAllow}
	if rl.Status == "" {
		rl.Status = policy.StatusActive
	}
	if in.Type != "" && in.Type != "SIGN_ON" {
		return rl, validation("type", "a sign-on policy's rules are of type SIGN_ON, not "+quote(in.Type))
	}
	if c := in.Conditions; c != nil {
		if n := c.Network; n != nil {
			switch n.Connection {
			case "ANYWHERE", "":
				if len(n.Include)+len(n.Exclude) > 0 {
					return rl, validation("conditions.network", "connection ANYWHERE takes no include or exclude; use ZONE with CIDR prefixes")
				}
			case "ZONE":
				rl.Conditions.Network = policy.Network{Include: n.Include, Exclude: n.Exclude}
			default:
				return rl, validation("conditions.network.connection", "connection is ANYWHERE or ZONE, not "+quote(n.Connection))
			}
		}
		if a := c.AuthContext; a != nil {
			found := false
			for k, v := range authTypes {
				if strings.EqualFold(a.AuthType, v) {
					rl.Conditions.AuthType, found = k, true
				}
			}
			if !found {
				return rl, validation("conditions.authContext.authType", "authType is ANY, LDAP_INTERFACE, API or CONSOLE, not "+quote(a.AuthType))
			}
		}
		if u := c.UserType; u != nil {
			if len(u.Include) != 1 {
				return rl, validation("conditions.userType.include", "name one user type: person or service_account")
			}
			rl.Conditions.UserType = policy.UserType(u.Include[0])
		}
	}
	if in.Actions != nil && in.Actions.Signon != nil {
		switch a := in.Actions.Signon; {
		case strings.EqualFold(a.Access, "DENY"):
			rl.Action = policy.ActionDeny
		case !strings.EqualFold(a.Access, "ALLOW"):
			return rl, validation("actions.signon.access", "access is ALLOW or DENY, not "+quote(a.Access))
		case a.RequireFactor:
			rl.Action = policy.ActionMFA
		}
	}
	return rl, nil
}

// signOnPolicy finds a sign-on policy by id (rules belong to those only).
func (s *Server) signOnPolicy(c *call, id string) (*policy.Policy, error) {
	p, err := s.policyByID(c, id)
	if err != nil {
		return nil, err
	}
	if p.Kind != policy.KindSignOn {
		return nil, validation("policyId", "policy "+id+" is a PASSWORD policy: dirgate's password policies have settings, not rules")
	}
	return p, nil
}

func ruleIndex(p *policy.Policy, id string) int {
	return slices.IndexFunc(p.Rules, func(rl policy.Rule) bool { return ruleID(p.ID, rl.Name) == id })
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.signOnPolicy(c, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]*ruleJSON, len(p.Rules))
	for i := range p.Rules {
		out[i] = s.ruleOut(r, p.ID, &p.Rules[i])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getRule(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.signOnPolicy(c, r.PathValue("id"))
	if err != nil {
		return err
	}
	i := ruleIndex(p, r.PathValue("rid"))
	if i < 0 {
		return notFound("rule " + r.PathValue("rid"))
	}
	writeJSON(w, http.StatusOK, s.ruleOut(r, p.ID, &p.Rules[i]))
	return nil
}

// editRules changes a sign-on policy's rules with fn and writes the policy;
// it answers with the rule named name, or 204 when name is "".
func (s *Server) editRules(w http.ResponseWriter, r *http.Request, c *call, status int, fn func(p *policy.Policy) (string, error)) error {
	p, err := s.signOnPolicy(c, r.PathValue("id"))
	if err != nil {
		return err
	}
	p.Rules = slices.Clone(p.Rules)
	name, err := fn(p)
	if err != nil {
		return err
	}
	if err := policy.Validate(p); err != nil {
		return validation("rules", err.Error())
	}
	if _, err := s.dir.ApplyPolicies(c.ctx, c.org, []policy.Policy{*p}, directory.PolicyByID); err != nil {
		return err
	}
	if name == "" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	for i := range p.Rules {
		if strings.EqualFold(p.Rules[i].Name, name) {
			writeJSON(w, status, s.ruleOut(r, p.ID, &p.Rules[i]))
			return nil
		}
	}
	return notFound("rule " + name)
}

func (s *Server) createRule(w http.ResponseWriter, r *http.Request, c *call) error {
	var in ruleJSON
	if err := s.decode(r, &in); err != nil {
		return err
	}
	rl, err := ruleIn(&in)
	if err != nil {
		return err
	}
	return s.editRules(w, r, c, http.StatusOK, func(p *policy.Policy) (string, error) {
		if slices.ContainsFunc(p.Rules, func(x policy.Rule) bool { return strings.EqualFold(x.Name, rl.Name) }) {
			return "", &directory.Error{Code: directory.CodeConflict, Field: "name", Message: "the policy has a rule named " + quote(rl.Name)}
		}
		p.Rules = append(p.Rules, rl)
		return rl.Name, nil
	})
}

func (s *Server) replaceRule(w http.ResponseWriter, r *http.Request, c *call) error {
	var in ruleJSON
	if err := s.decode(r, &in); err != nil {
		return err
	}
	rl, err := ruleIn(&in)
	if err != nil {
		return err
	}
	return s.editRules(w, r, c, http.StatusOK, func(p *policy.Policy) (string, error) {
		i := ruleIndex(p, r.PathValue("rid"))
		if i < 0 {
			return "", notFound("rule " + r.PathValue("rid"))
		}
		p.Rules[i] = rl
		return rl.Name, nil
	})
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.editRules(w, r, c, 0, func(p *policy.Policy) (string, error) {
		i := ruleIndex(p, r.PathValue("rid"))
		if i < 0 {
			return "", notFound("rule " + r.PathValue("rid"))
		}
		p.Rules = slices.Delete(p.Rules, i, i+1)
		return "", nil
	})
}

func (s *Server) ruleLifecycle(w http.ResponseWriter, r *http.Request, c *call) error {
	status, err := lifecycleStatus(r.PathValue("action"))
	if err != nil {
		return err
	}
	return s.editRules(w, r, c, 0, func(p *policy.Policy) (string, error) {
		i := ruleIndex(p, r.PathValue("rid"))
		if i < 0 {
			return "", notFound("rule " + r.PathValue("rid"))
		}
		p.Rules[i].Status = status
		return "", nil
	})
}
