package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/api"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/directory/dirtest"
)

var ctx = context.Background()

// fixture is a directory with org "example" (custom attribute costCenter),
// an admin of each role and a plain user, a token for each admin, and the
// API served over httptest.
type fixture struct {
	d                         *directory.Directory
	srv                       *httptest.Server
	super, orgAdmin, readOnly string // tokens
	superID, orgAdminTokenID  string
	plain                     *directory.User
}

func newFixture(t *testing.T, cfg api.Config) *fixture {
	t.Helper()
	d := dirtest.New(t, directory.OrgInput{Name: "example", CustomAttributes: []string{"costCenter"}})
	f := &fixture{d: d}
	for _, a := range []struct {
		login, role string
		token       *string
	}{
		{"super", directory.RoleSuperAdmin, &f.super},
		{"orgadmin", directory.RoleOrgAdmin, &f.orgAdmin},
		{"readonly", directory.RoleReadOnlyAdmin, &f.readOnly},
	} {
		u, err := d.CreateUser(ctx, "example", directory.UserInput{
			Profile:  directory.Profile{Login: a.login, Email: a.login + "@example.com", FirstName: a.login, LastName: "Admin"},
			Password: []byte("Adm1n-password!"), Roles: []string{a.role}})
		if err != nil {
			t.Fatal(err)
		}
		tok, secret, err := d.CreateToken(ctx, "example", u.Profile.Login, a.login+" token")
		if err != nil {
			t.Fatal(err)
		}
		*a.token = secret
		if a.role == directory.RoleSuperAdmin {
			f.superID = u.ID
		}
		if a.role == directory.RoleOrgAdmin {
			f.orgAdminTokenID = tok.ID
		}
	}
	var err error
	f.plain, err = d.CreateUser(ctx, "example", directory.UserInput{
		Profile: directory.Profile{Login: "plain", Email: "plain@example.com", FirstName: "Plain", LastName: "User"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Directory = d
	f.srv = httptest.NewServer(api.New(cfg).Handler())
	t.Cleanup(f.srv.Close)
	return f
}

// response is one answer, its body decoded.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// errorCode is the errorCode of an error answer, "" for another.
func (r *response) errorCode() string {
	var e struct {
		ErrorCode string `json:"errorCode"`
	}
	json.Unmarshal(r.body, &e)
	return e.ErrorCode
}

func (f *fixture) do(t *testing.T, token, method, path, body string) *response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: bytes.TrimSpace(b)}
}

func TestCreateGetUser(t *testing.T) {
	f := newFixture(t, api.Config{})
	res := f.do(t, f.orgAdmin, "POST", "/api/v1/users?activate=false",
		`{"profile":{"login":"ann@example.com","email":"ann@example.com","firstName":"Ann","lastName":"Lee","costCenter":"cc-1"},
		  "credentials":{"password":{"value":"Ann-password-1"}}}`)
	if res.status != 200 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var u map[string]any
	res.json(t, &u)
	if u["status"] != "STAGED" {
		t.Errorf("status = %v, want STAGED", u["status"])
	}
	profile := u["profile"].(map[string]any)
	if profile["costCenter"] != "cc-1" || profile["login"] != "ann@example.com" {
		t.Errorf("profile = %v", profile)
	}
	if u["activated"] != nil || u["lastLogin"] != nil {
		t.Errorf("activated, lastLogin = %v, %v; want null", u["activated"], u["lastLogin"])
	}
	id := u["id"].(string)
	for _, ref := range []string{id, "ann@example.com", "ann%40example.com"} {
		res := f.do(t, f.readOnly, "GET", "/api/v1/users/"+ref, "")
		var got map[string]any
		res.json(t, &got)
		if res.status != 200 || got["id"] != id {
			t.Errorf("GET /users/%s: %d %s", ref, res.status, res.body)
		}
	}
}
