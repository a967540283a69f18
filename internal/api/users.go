package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// Users: /api/v1/users, Okta's User object and its lifecycle.

const (
	usersDefaultLimit = 200
	usersMaxLimit     = 200
)

// userJSON is Okta's User.
type userJSON struct {
	ID                    string            `json:"id"`
	Status                string            `json:"status"`
	Created               jsonTime          `json:"created"`
	Activated             jsonTime          `json:"activated"`
	StatusChanged         jsonTime          `json:"statusChanged"`
	LastLogin             jsonTime          `json:"lastLogin"`
	LastUpdated           jsonTime          `json:"lastUpdated"`
	PasswordChanged       jsonTime          `json:"passwordChanged"`
	TransitioningToStatus *string           `json:"transitioningToStatus"`
	Type                  userTypeJSON      `json:"type"`
	Profile               map[string]string `json:"profile"`
	Credentials           credentialsOut    `json:"credentials"`
	Links                 map[string]any    `json:"_links"`
}

// userTypeJSON names the user type; dirgate's ids are its two type names.
type userTypeJSON struct {
	ID string `json:"id"`
}

type credentialsOut struct {
	Password *struct{} `json:"password,omitempty"`
	Provider provider  `json:"provider"`
}

type provider struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

var oktaProvider = provider{Type: "OKTA", Name: "OKTA"}

func link(href string) map[string]string { return map[string]string{"href": href} }

func postLink(href string) map[string]string {
	return map[string]string{"href": href, "method": "POST"}
}

func (s *Server) userOut(r *http.Request, u *directory.User) *userJSON {
	self := s.base(r) + "/api/v1/users/" + u.ID
	links := map[string]any{"self": link(self)}
	for _, a := range directory.AllowedActions(u.Status) {
		if a == "delete" {
			continue
		}
		links[lifecycleLinkName(a)] = postLink(self + "/lifecycle/" + a)
	}
	if u.PasswordHash != "" {
		links["changePassword"] = postLink(self + "/credentials/change_password")
	}
	out := &userJSON{ID: u.ID, Status: u.Status,
		Created: jsonTime(u.Created), Activated: jsonTime(u.Activated), StatusChanged: jsonTime(u.StatusChanged),
		LastLogin: jsonTime(u.LastLogin), LastUpdated: jsonTime(u.LastUpdated), PasswordChanged: jsonTime(u.PasswordChanged),
		Type:        userTypeJSON{ID: u.Type},
		Profile:     profileOut(&u.Profile),
		Credentials: credentialsOut{Provider: oktaProvider},
		Links:       links}
	if u.PasswordHash != "" {
		out.Credentials.Password = &struct{}{}
	}
	return out
}

// lifecycleLinkName is Okta's _links name of an action.
func lifecycleLinkName(a string) string {
	switch a {
	case "expire_password":
		return "expirePassword"
	}
	return a
}

// profileOut is a profile as Okta's flat object: base and custom
// attributes side by side; unset ones are left out (login never is).
func profileOut(p *directory.Profile) map[string]string {
	out := make(map[string]string, 4+len(p.Custom))
	out["login"] = p.Login
	for _, name := range directory.BaseProfileAttributes {
		if v, ok := directory.ProfileValue(p, name); ok {
			out[name] = v
		}
	}
	for k, v := range p.Custom {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// profileIn is a profile in a request: attribute -> value, "" for null.
// Only strings (and null) are values.
type profileIn map[string]string

func (p *profileIn) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return &fieldError{"profile", "expected an object of attributes"}
	}
	if raw == nil {
		return &fieldError{"profile", "expected an object of attributes, got null"}
	}
	*p = make(profileIn, len(raw))
	for k, v := range raw {
		if bytes.Equal(v, []byte("null")) {
			(*p)[k] = ""
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return &fieldError{"profile." + k, "expected a string or null"}
		}
		(*p)[k] = s
	}
	return nil
}

// profile builds a whole profile from p.
func (p profileIn) profile() directory.Profile {
	var out directory.Profile
	for k, v := range p {
		directory.SetProfileValue(&out, k, v)
	}
	return out
}

type passwordIn struct {
	Value *string `json:"value"`
}

type credentialsIn struct {
	Password *passwordIn `json:"password"`
	Provider *provider   `json:"provider"`
}

// createUserIn is Okta's CreateUserRequest.
type createUserIn struct {
	Profile     profileIn      `json:"profile"`
	Credentials *credentialsIn `json:"credentials"`
	GroupIDs    []string       `json:"groupIds"`
	Type        *userTypeJSON  `json:"type"`
}

// updateUserIn is the body of a user update (POST partial, PUT whole).
type updateUserIn struct {
	Profile     profileIn      `json:"profile"`
	Credentials *credentialsIn `json:"credentials"`
}

func (c *credentialsIn) password() []byte {
	if c == nil || c.Password == nil || c.Password.Value == nil {
		return nil
	}
	return []byte(*c.Password.Value)
}

func (c *credentialsIn) check() error {
	if c != nil && c.Provider != nil && (c.Provider.Type != "OKTA" || (c.Provider.Name != "" && c.Provider.Name != "OKTA")) {
		return validation("credentials.provider", "dirgate keeps its users' credentials itself: the provider is OKTA")
	}
	return nil
}

// userRef is the {id} of a path: an id, a login, or "me".
func userRef(r *http.Request, c *call) string {
	id := r.PathValue("id")
	if id == "me" {
		return c.p.User.ID
	}
	return id
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *call) error {
	var in createUserIn
	if err := s.decode(r, &in); err != nil {
		return err
	}
	if in.Profile == nil {
		return validation("profile", "a user needs a profile with at least a login")
	}
	if err := in.Credentials.check(); err != nil {
		return err
	}
	activate, err := boolParam(r, "activate", true)
	if err != nil {
		return err
	}
	ui := directory.UserInput{Profile: in.Profile.profile(), Password: in.Credentials.password(), Status: directory.StatusStaged}
	if activate {
		ui.Status = directory.StatusActive
	}
	if in.Type != nil {
		switch in.Type.ID {
		case store.TypePerson, "":
		case store.TypeServiceAccount:
			ui.ServiceAccount = true
		default:
			return validation("type.id", "the user type is person or service_account, not "+in.Type.ID)
		}
	}
	u, err := s.dir.CreateUserInGroups(c.ctx, c.org, ui, in.GroupIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.userOut(r, u))
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.dir.User(c.ctx, c.org, userRef(r, c))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.userOut(r, u))
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := limitParam(r, usersDefaultLimit, usersMaxLimit)
	if err != nil {
		return err
	}
	match, err := s.userMatcher(r, c)
	if err != nil {
		return err
	}
	users, next, err := s.dir.ListUsers(c.ctx, c.org, r.URL.Query().Get("after"), limit, match)
	if err != nil {
		return err
	}
	writeList(s, w, r, users, func(u *directory.User) *userJSON { return s.userOut(r, u) }, true, next)
	return nil
}

// updateUser is POST (partial: the attributes given change, the rest
// stay) and PUT (the profile is replaced whole).
func (s *Server) updateUser(partial bool) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		var in updateUserIn
		if err := s.decode(r, &in); err != nil {
			return err
		}
		if err := in.Credentials.check(); err != nil {
			return err
		}
		if in.Profile == nil && (!partial || in.Credentials.password() == nil) {
			return validation("profile", "the request has no profile to update")
		}
		ref := userRef(r, c)
		var u *directory.User
		var err error
		if pw := in.Credentials.password(); pw != nil {
			if u, err = s.dir.SetPassword(c.ctx, c.org, ref, pw); err != nil {
				return err
			}
		}
		switch {
		case in.Profile != nil && partial:
			u, err = s.dir.PatchProfile(c.ctx, c.org, ref, in.Profile)
		case in.Profile != nil:
			u, err = s.dir.UpdateProfile(c.ctx, c.org, ref, in.Profile.profile())
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.userOut(r, u))
		return nil
	}
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.dir.DeactivateOrDelete(c.ctx, c.org, userRef(r, c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) lifecycle(w http.ResponseWriter, r *http.Request, c *call) error {
	name := r.PathValue("action")
	switch name {
	case "reset_password":
		return validation("action", "reset_password sends a recovery link by email, which dirgate does not do: "+
			"use expire_password?tempPassword=true to give the user a temporary password; they sign in to the console "+
			"(/console/) with it and must choose a new one there")
	case "expire_password_with_temp_password":
		return s.expireWithTemp(w, r, c)
	case "reset_factors":
		if _, err := s.dir.ResetFactors(c.ctx, c.org, userRef(r, c)); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, struct{}{})
		return nil
	}
	a, e := directory.ParseAction(name)
	if e != nil || name != string(a) {
		return notFound("lifecycle operation " + name + " (known: " + joinActions() + ")")
	}
	if a == directory.ActionExpirePassword {
		temp, err := boolParam(r, "tempPassword", false)
		if err != nil {
			return err
		}
		if temp {
			return s.expireWithTemp(w, r, c)
		}
	}
	u, err := s.dir.Lifecycle(c.ctx, c.org, userRef(r, c), a)
	if err != nil {
		return err
	}
	if a == directory.ActionExpirePassword {
		writeJSON(w, http.StatusOK, s.userOut(r, u))
		return nil
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// expireWithTemp is expire_password_with_temp_password (and the older
// expire_password?tempPassword=true): Okta's TempPassword answer.
func (s *Server) expireWithTemp(w http.ResponseWriter, r *http.Request, c *call) error {
	_, pw, err := s.dir.ExpireWithTempPassword(c.ctx, c.org, userRef(r, c))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"tempPassword": pw})
	return nil
}

func joinActions() string {
	names := make([]string, 0, len(directory.Actions)+1)
	for _, a := range directory.Actions {
		names = append(names, string(a))
	}
	names = append(names, "reset_password", "reset_factors", "expire_password_with_temp_password")
	sort.Strings(names)
	return strings.Join(names, ", ")
}

type changePasswordIn struct {
	OldPassword *passwordIn `json:"oldPassword"`
	NewPassword *passwordIn `json:"newPassword"`
	// RevokeSessions is Okta's; dirgate keeps no sessions to revoke (LDAP
	// binds are one-off), so it changes nothing.
	RevokeSessions *bool `json:"revokeSessions"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *call) error {
	var in changePasswordIn
	if err := s.decode(r, &in); err != nil {
		return err
	}
	if in.OldPassword == nil || in.OldPassword.Value == nil {
		return validation("oldPassword", "the current password is required")
	}
	if in.NewPassword == nil || in.NewPassword.Value == nil {
		return validation("newPassword", "the new password is required")
	}
	u, err := s.dir.ChangePassword(c.ctx, c.org, userRef(r, c), []byte(*in.OldPassword.Value), []byte(*in.NewPassword.Value))
	if err != nil {
		return err
	}
	out := credentialsOut{Provider: oktaProvider}
	if u.PasswordHash != "" {
		out.Password = &struct{}{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) userGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	gs, err := s.dir.UserGroups(c.ctx, c.org, userRef(r, c))
	if err != nil {
		return err
	}
	writeList(s, w, r, gs, func(g *directory.Group) *groupJSON { return s.groupOut(r, g) }, false, "")
	return nil
}

// --- admin roles

// roleJSON is Okta's role assignment; its id is the role's type.
type roleJSON struct {
	ID             string         `json:"id"`
	Label          string         `json:"label"`
	Type           string         `json:"type"`
	Status         string         `json:"status"`
	AssignmentType string         `json:"assignmentType"`
	Created        jsonTime       `json:"created"`
	LastUpdated    jsonTime       `json:"lastUpdated"`
	Links          map[string]any `json:"_links"`
}

var roleLabels = map[string]string{
	directory.RoleSuperAdmin:    "Super Administrator",
	directory.RoleOrgAdmin:      "Organizational Administrator",
	directory.RoleReadOnlyAdmin: "Read Only Administrator",
}

func (s *Server) roleOut(r *http.Request, u *directory.User, role string) roleJSON {
	return roleJSON{ID: role, Label: roleLabels[role], Type: role, Status: "ACTIVE", AssignmentType: "USER",
		Created: jsonTime(u.LastUpdated), LastUpdated: jsonTime(u.LastUpdated),
		Links: map[string]any{"assignee": link(s.base(r) + "/api/v1/users/" + u.ID)}}
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := s.dir.User(c.ctx, c.org, userRef(r, c))
	if err != nil {
		return err
	}
	out := make([]roleJSON, 0, len(u.Roles))
	for _, role := range u.Roles {
		out = append(out, s.roleOut(r, u, role))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) assignRole(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Type string `json:"type"`
	}
	if err := s.decode(r, &in); err != nil {
		return err
	}
	if in.Type == "" {
		return validation("type", "the role type is required (one of "+joinRoles()+")")
	}
	u, err := s.dir.AssignRole(c.ctx, c.org, userRef(r, c), in.Type)
	if err != nil {
		return err
	}
	for _, role := range u.Roles {
		if strings.EqualFold(role, in.Type) {
			writeJSON(w, http.StatusCreated, s.roleOut(r, u, role))
			return nil
		}
	}
	return validation("type", "the role was not assigned")
}

func (s *Server) removeRole(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.dir.RemoveRole(c.ctx, c.org, userRef(r, c), r.PathValue("role")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func joinRoles() string {
	rs := slices.Clone(directory.Roles)
	sort.Strings(rs)
	return strings.Join(rs, ", ")
}
