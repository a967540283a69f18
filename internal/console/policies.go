package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
)

// Security → Authentication: the org's sign-on and password policies in
// order, each rule in plain words, and (SUPER_ADMIN) applying a policy
// document, as `dirgate policy apply` does.

func (s *Server) routesPolicies() {
	s.page("GET /console/policies", directory.PermRead, s.policies)
	s.page("POST /console/policies", directory.PermSecurity, s.applyPolicies)
}

type policyView struct {
	Kind, Name, Status, People string
	Priority                   int
	Rules                      []ruleView
	Settings                   []string
}

type ruleView struct {
	Name, Status, Words string
	Priority            int
}

type policiesData struct {
	SignOn, Password []policyView
	Doc              string
	Result           []string
}

func (s *Server) policies(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderPolicies(w, q, "", nil, "", http.StatusOK)
}

func (s *Server) renderPolicies(w http.ResponseWriter, q *request, doc string, result []string, errMsg string, status int) error {
	ps, err := s.dir.Policies(q.ctx, q.p.Org.Name)
	if err != nil {
		return err
	}
	d := policiesData{Doc: doc, Result: result}
	for _, p := range ps {
		v := policyView{Kind: string(p.Kind), Name: p.Name, Status: string(p.Status), Priority: p.Priority, People: peopleWords(p.People)}
		for _, rl := range p.Rules {
			v.Rules = append(v.Rules, ruleView{Name: rl.Name, Status: string(rl.Status), Priority: rl.Priority, Words: ruleWords(rl)})
		}
		if p.Kind == policy.KindPassword {
			v.Settings = settingsWords(p.Settings)
			d.Password = append(d.Password, v)
		} else {
			d.SignOn = append(d.SignOn, v)
		}
	}
	vw := s.view(q, "Authentication policies", "policies", d)
	vw.Error = errMsg
	s.render(w, status, "policies", vw)
	return nil
}

func (s *Server) applyPolicies(w http.ResponseWriter, r *http.Request, q *request) error {
	doc := r.PostFormValue("doc")
	ps, err := policy.Parse([]byte(doc))
	if err != nil {
		return s.renderPolicies(w, q, doc, nil, err.Error(), http.StatusBadRequest)
	}
	res, err := s.dir.ApplyPolicies(q.ctx, q.p.Org.Name, ps, directory.PolicyUpsert)
	if err != nil {
		if _, ferr := fieldErrors(err); ferr == nil {
			return s.renderPolicies(w, q, doc, nil, err.Error(), http.StatusBadRequest)
		}
		return err
	}
	var out []string
	for _, x := range []struct {
		what  string
		names []string
	}{{"created", res.Created}, {"updated", res.Updated}, {"unchanged", res.Unchanged}} {
		if len(x.names) > 0 {
			out = append(out, x.what+": "+strings.Join(x.names, ", "))
		}
	}
	return s.renderPolicies(w, q, "", out, "", http.StatusOK)
}

// peopleWords says whom a policy applies to.
func peopleWords(p policy.People) string {
	var in []string
	for _, g := range p.Groups.Include {
		if g == policy.Everyone {
			in = append(in, "everyone")
		} else {
			in = append(in, "group "+g)
		}
	}
	in = append(in, p.Users.Include...)
	words := "Applies to " + orNobody(in)
	var out []string
	for _, g := range p.Groups.Exclude {
		out = append(out, "group "+g)
	}
	out = append(out, p.Users.Exclude...)
	if len(out) > 0 {
		words += ", except " + strings.Join(out, ", ")
	}
	return words + "."
}

func orNobody(xs []string) string {
	if len(xs) == 0 {
		return "nobody"
	}
	return strings.Join(xs, ", ")
}

var authWords = map[policy.AuthType]string{policy.AuthLDAP: "an LDAP bind", policy.AuthAPI: "the REST API", policy.AuthConsole: "the console"}

// ruleWords says what a sign-on rule decides, in plain words.
func ruleWords(rl policy.Rule) string {
	how := "any sign-in"
	if w, ok := authWords[rl.Conditions.AuthType]; ok {
		how = "a sign-in through " + w
	}
	who := ""
	switch rl.Conditions.UserType {
	case policy.UserPerson:
		who = " by a person"
	case policy.UserServiceAccount:
		who = " by a service account"
	}
	where := " from anywhere"
	if n := rl.Conditions.Network; len(n.Include) > 0 || len(n.Exclude) > 0 {
		where = ""
		if len(n.Include) > 0 {
			where = " from " + strings.Join(n.Include, ", ")
		}
		if len(n.Exclude) > 0 {
			where += " but not from " + strings.Join(n.Exclude, ", ")
		}
	}
	var then string
	switch rl.Action {
	case policy.ActionDeny:
		then = "is refused"
	case policy.ActionMFA:
		then = "needs the password and a code from an authenticator app (MFA)"
	default:
		then = "needs only the password"
	}
	s := strings.ToUpper(how[:1]) + how[1:] + who + where + " " + then + "."
	if rl.Status == policy.StatusInactive {
		s += " (Inactive: it decides nothing.)"
	}
	return s
}

// settingsWords lists a password policy's requirements.
func settingsWords(ps *policy.PasswordSettings) []string {
	s := policy.DefaultPasswordSettings()
	if ps != nil {
		s = *ps
	}
	out := []string{fmt.Sprintf("At least %d characters.", s.MinLength)}
	var classes []string
	for _, c := range []struct {
		n    int
		what string
	}{{s.MinLowerCase, "lower-case"}, {s.MinUpperCase, "upper-case"}, {s.MinNumber, "digit"}, {s.MinSymbol, "symbol"}} {
		if c.n > 0 {
			classes = append(classes, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(classes) > 0 {
		out = append(out, "At least "+strings.Join(classes, ", ")+".")
	}
	if s.ExcludeUsername {
		out = append(out, "No part of the login.")
	}
	if s.HistoryCount > 0 {
		out = append(out, fmt.Sprintf("Not one of the last %d passwords.", s.HistoryCount))
	}
	if s.MaxAgeDays > 0 {
		out = append(out, fmt.Sprintf("Expires after %d days.", s.MaxAgeDays))
	}
	if s.Lockout.MaxAttempts > 0 {
		l := fmt.Sprintf("Locked after %d failed sign-ins in a row", s.Lockout.MaxAttempts)
		if s.Lockout.AutoUnlockMinutes > 0 {
			l += fmt.Sprintf(", unlocked after %d minutes.", s.Lockout.AutoUnlockMinutes)
		} else {
			l += ", until an admin unlocks."
		}
		out = append(out, l)
	}
	return out
}
