package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// Users: /api/v1/users. A user reference (ref) is a user's id or login.

// NewUser is a user to create.
type NewUser struct {
	// Profile is the base and custom attributes (login is required).
	Profile map[string]string
	// Password is the initial password (nil: none). The request body
	// that carries it is cleared once sent; Password is the caller's.
	Password []byte
	// Staged creates the user STAGED instead of ACTIVE (?activate=false).
	Staged         bool
	ServiceAccount bool     // type.id service_account (else person)
	GroupIDs       []string // groups (ids or names) to add it to, in the same transaction
}

// usersPath is /api/v1/users[/ref…].
func usersPath(ref string, more ...string) string {
	p := "/api/v1/users"
	if ref != "" {
		p += "/" + seg(ref)
	}
	for _, m := range more {
		p += "/" + m
	}
	return p
}

// userRef is ref as a path segment. "me" in a path is the token's own
// admin, so a user whose login is "me" is found by a filtered list and
// named by its id.
func (c *Client) userRef(ctx context.Context, ref string) (string, error) {
	if ref != "me" {
		return ref, nil
	}
	us, err := c.ListUsers(ctx, &ListOptions{Filter: `profile.login eq "me"`})
	if err != nil {
		return "", err
	}
	if len(us) == 0 {
		msg := `no user "me"`
		if org, err := c.OrgName(ctx); err == nil {
			msg += " in org " + org
		}
		return "", newError(http.MethodGet, usersPath("me"), http.StatusNotFound, true,
			mustJSON(wireErrorOf(CodeNotFound, notFoundPrefix+msg)))
	}
	return us[0].ID, nil
}

func wireErrorOf(code, summary string) map[string]any {
	return map[string]any{"errorCode": code, "errorSummary": summary, "errorCauses": []any{}}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// CreateUser creates a user (POST /api/v1/users).
func (c *Client) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	in := map[string]any{"profile": nu.Profile}
	if nu.ServiceAccount {
		in["type"] = map[string]string{"id": "service_account"}
	}
	if len(nu.GroupIDs) > 0 {
		in["groupIds"] = nu.GroupIDs
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	if nu.Password != nil {
		if body, err = withPassword(body, nu.Password); err != nil {
			return nil, err
		}
		defer clear(body)
	}
	q := url.Values{"activate": {strconv.FormatBool(!nu.Staged)}}
	var u User
	if _, err := c.do(ctx, request{method: http.MethodPost, path: usersPath(""), query: q, body: body}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// User returns a user (GET /api/v1/users/{ref}).
func (c *Client) User(ctx context.Context, ref string) (*User, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	var u User
	if _, err := c.get(ctx, usersPath(ref), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Me returns the admin the token acts as (GET /api/v1/users/me).
func (c *Client) Me(ctx context.Context) (*User, error) {
	var u User
	if _, err := c.get(ctx, usersPath("me"), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListUsers returns every user that opts selects (nil: all), reading
// page after page (in id order, the API's).
func (c *Client) ListUsers(ctx context.Context, opts *ListOptions) ([]*User, error) {
	return listAll[*User](ctx, c, usersPath(""), opts.values())
}

// UpdateProfile sets the given profile attributes and keeps the others
// ("" clears one): POST /api/v1/users/{ref}, Okta's partial update.
func (c *Client) UpdateProfile(ctx context.Context, ref string, set map[string]string) (*User, error) {
	return c.updateUser(ctx, http.MethodPost, ref, set)
}

// ReplaceProfile replaces the whole profile: PUT /api/v1/users/{ref}.
func (c *Client) ReplaceProfile(ctx context.Context, ref string, p map[string]string) (*User, error) {
	return c.updateUser(ctx, http.MethodPut, ref, p)
}

func (c *Client) updateUser(ctx context.Context, method, ref string, p map[string]string) (*User, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	in := make(map[string]*string, len(p))
	for k, v := range p {
		if v == "" {
			in[k] = nil // null: clear it
		} else {
			in[k] = &v
		}
	}
	body, err := jsonBody(map[string]any{"profile": in})
	if err != nil {
		return nil, err
	}
	var u User
	if _, err := c.do(ctx, request{method: method, path: usersPath(ref), body: body}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// SetPassword sets a user's password as an administrator (POST
// /api/v1/users/{ref} with credentials.password.value); the password
// policy applies. The request body is cleared once sent.
func (c *Client) SetPassword(ctx context.Context, ref string, pw []byte) (*User, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	body, err := withPassword([]byte("{}"), pw)
	if err != nil {
		return nil, err
	}
	defer clear(body)
	var u User
	if _, err := c.do(ctx, request{method: http.MethodPost, path: usersPath(ref), body: body}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Lifecycle runs a lifecycle operation (POST
// /api/v1/users/{ref}/lifecycle/{action}): activate, deactivate, suspend,
// unsuspend, unlock, expire_password, reset_factors. The answer says
// nothing of the user's new status: get the user to learn it.
func (c *Client) Lifecycle(ctx context.Context, ref, action string) error {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return err
	}
	return c.post(ctx, usersPath(ref, "lifecycle", seg(action)), nil, nil, nil)
}

// DeleteUser is Okta's DELETE /api/v1/users/{ref}: a user that is not yet
// DEPROVISIONED is deactivated (and kept); a DEPROVISIONED one is
// deleted. The answer (204) does not say which happened.
func (c *Client) DeleteUser(ctx context.Context, ref string) error {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return err
	}
	return c.del(ctx, usersPath(ref))
}

// Roles lists a user's admin roles (GET /api/v1/users/{ref}/roles).
func (c *Client) Roles(ctx context.Context, ref string) ([]*Role, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	var rs []*Role
	if _, err := c.get(ctx, usersPath(ref, "roles"), nil, &rs); err != nil {
		return nil, err
	}
	return rs, nil
}

// AssignRole gives a user an admin role (POST /api/v1/users/{ref}/roles;
// any case; no change if it holds it). It takes a SUPER_ADMIN's token.
func (c *Client) AssignRole(ctx context.Context, ref, role string) (*Role, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	var r Role
	if err := c.post(ctx, usersPath(ref, "roles"), nil, map[string]string{"type": role}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// RemoveRole takes an admin role from a user (DELETE
// /api/v1/users/{ref}/roles/{role}). It takes a SUPER_ADMIN's token.
func (c *Client) RemoveRole(ctx context.Context, ref, role string) error {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return err
	}
	return c.del(ctx, usersPath(ref, "roles", seg(role)))
}

// UserGroups lists the groups a user belongs to (GET
// /api/v1/users/{ref}/groups).
func (c *Client) UserGroups(ctx context.Context, ref string) ([]*Group, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	var gs []*Group
	if _, err := c.get(ctx, usersPath(ref, "groups"), nil, &gs); err != nil {
		return nil, err
	}
	return gs, nil
}

// --- the token's org

// OrgName returns the name of the org the token acts in (Okta's
// GET /api/v1/org: the subdomain is the org's name).
func (c *Client) OrgName(ctx context.Context) (string, error) {
	var o struct {
		Subdomain string `json:"subdomain"`
	}
	if _, err := c.get(ctx, "/api/v1/org", nil, &o); err != nil {
		return "", err
	}
	if o.Subdomain == "" {
		return "", errors.New("the server's /api/v1/org names no org (is it a dirgate server of another version?)")
	}
	return o.Subdomain, nil
}
