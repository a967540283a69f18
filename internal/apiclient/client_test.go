package apiclient_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/api"
	"github.com/dirgate/dirgate/internal/apiclient"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/directory/dirtest"
	"github.com/dirgate/dirgate/internal/totp"
)

var ctx = context.Background()

// server is dirgate's API over a directory with org acme and a super
// admin, and a client of it.
type server struct {
	d      *directory.Directory
	srv    *httptest.Server
	token  string
	client *apiclient.Client
}

func newServer(t *testing.T, tls bool) *server {
	t.Helper()
	d := dirtest.New(t, directory.OrgInput{Name: "acme", CustomAttributes: []string{"costCenter"}})
	if _, err := d.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "admin"}, Roles: []string{directory.RoleSuperAdmin}}); err != nil {
		t.Fatal(err)
	}
	_, secret, err := d.CreateToken(ctx, "acme", "admin", "test")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{d: d, token: secret}
	h := api.New(api.Config{Directory: d, RateLimit: -1}).Handler()
	var opts []apiclient.Option
	if tls {
		s.srv = httptest.NewTLSServer(h)
		ca := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}), 0o600)
		opts = append(opts, apiclient.WithCAFile(ca))
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	if s.client, err = apiclient.New(s.srv.URL, secret, nil, opts...); err != nil {
		t.Fatal(err)
	}
	return s
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantCode(t *testing.T, err error, code directory.Code, msg string) {
	t.Helper()
	var de *directory.Error
	if !errors.As(err, &de) || de.Code != code || de.Message != msg {
		t.Fatalf("error %v (domain %+v), want %v %q", err, de, code, msg)
	}
	if directory.CodeOf(err) != code {
		t.Fatalf("CodeOf(%v) = %v", err, directory.CodeOf(err))
	}
}

// TestUsers walks the user calls over TLS: create, get (by id, login,
// "me", a login with a slash, a user named "me"), list over several pages,
// profile updates, password, lifecycle, roles, groups, delete, and the
// errors mapped back to the directory's.
func TestUsers(t *testing.T) {
	s := newServer(t, true)
	c := s.client
	pw := []byte(`Ann-"pass\word`)
	ann := must[*apiclient.User](t)(c.CreateUser(ctx, apiclient.NewUser{
		Profile:  map[string]string{"login": "ann", "email": "ann@acme.example", "costCenter": "7"},
		Password: pw, Staged: true}))
	if ann.Status != "STAGED" || !ann.HasPassword || ann.Profile["costCenter"] != "7" || ann.Type != "person" || !ann.Activated.IsZero() {
		t.Fatalf("created %+v", ann)
	}
	if string(pw) != `Ann-"pass\word` {
		t.Fatal("CreateUser changed the caller's password")
	}
	for _, ref := range []string{ann.ID, "ann", "ANN"} {
		if u := must[*apiclient.User](t)(c.User(ctx, ref)); u.ID != ann.ID {
			t.Errorf("User(%q) = %s", ref, u.ID)
		}
	}
	if me := must[*apiclient.User](t)(c.Me(ctx)); me.Login() != "admin" {
		t.Errorf("Me = %s", me.Login())
	}
	_, err := c.User(ctx, "me")
	wantCode(t, err, directory.CodeNotFound, `no user "me" in org acme`)
	slash := must[*apiclient.User](t)(c.CreateUser(ctx, apiclient.NewUser{Profile: map[string]string{"login": "a/b"}}))
	meUser := must[*apiclient.User](t)(c.CreateUser(ctx, apiclient.NewUser{Profile: map[string]string{"login": "me"}}))
	if u := must[*apiclient.User](t)(c.User(ctx, "a/b")); u.ID != slash.ID {
		t.Errorf("User(a/b) = %s", u.Login())
	}
	if u := must[*apiclient.User](t)(c.User(ctx, "me")); u.ID != meUser.ID {
		t.Errorf(`User("me") = %s, want the user named me`, u.Login())
	}

	// Several pages.
	for i := range 5 {
		must[*apiclient.User](t)(c.CreateUser(ctx, apiclient.NewUser{Profile: map[string]string{"login": fmt.Sprintf("u%d", i)}}))
	}
	all := must[[]*apiclient.User](t)(c.ListUsers(ctx, &apiclient.ListOptions{Limit: 2}))
	if len(all) != 9 {
		t.Fatalf("ListUsers: %d users, want 9", len(all))
	}
	seen := map[string]bool{}
	for _, u := range all {
		if seen[u.ID] {
			t.Fatalf("user %s twice", u.ID)
		}
		seen[u.ID] = true
	}
	if us := must[[]*apiclient.User](t)(c.ListUsers(ctx, &apiclient.ListOptions{Filter: `profile.login eq "ann"`, Limit: 1})); len(us) != 1 || us[0].ID != ann.ID {
		t.Errorf("filtered list: %v", us)
	}

	u := must[*apiclient.User](t)(c.UpdateProfile(ctx, "ann", map[string]string{"firstName": "Ann", "costCenter": ""}))
	if u.Profile["firstName"] != "Ann" || u.Profile["costCenter"] != "" || u.Profile["email"] != "ann@acme.example" {
		t.Errorf("partial update: %v", u.Profile)
	}
	u = must[*apiclient.User](t)(c.ReplaceProfile(ctx, "ann", map[string]string{"login": "ann", "lastName": "Lee"}))
	if u.Profile["email"] != "" || u.Profile["lastName"] != "Lee" {
		t.Errorf("replace: %v", u.Profile)
	}
	if err := c.Lifecycle(ctx, "ann", "activate"); err != nil {
		t.Fatal(err)
	}
	org := must[*directory.Org](t)(s.d.Org(ctx, "acme"))
	// The password arrived as given (quote, backslash and all): it verifies.
	if _, err := s.d.Authenticate(ctx, directory.AuthRequest{OrgID: org.ID, Login: "ann", Password: pw}); err != nil {
		t.Errorf("the password given at creation does not verify: %v", err)
	}
	if _, err := c.SetPassword(ctx, "ann", []byte("New-pass\u00e9-1\t")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.Authenticate(ctx, directory.AuthRequest{OrgID: org.ID, Login: "ann", Password: []byte("New-pass\u00e9-1\t")}); err != nil {
		t.Errorf("the password set over the API does not verify: %v", err)
	}
	_, err = c.SetPassword(ctx, "ann", []byte{0xff, 'x'})
	if err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("a non-UTF-8 password: %v", err)
	}

	// Errors, in the directory's words.
	_, err = c.CreateUser(ctx, apiclient.NewUser{Profile: map[string]string{"login": "ANN"}})
	wantCode(t, err, directory.CodeConflict, "a user with login ANN already exists in this org")
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != apiclient.CodeValidation || ae.Domain().Field != "login" ||
		ae.Error() != "Api validation failed: login; login: An object with this field already exists in the current organization: a user with login ANN already exists in this org (HTTP 400 E0000001, POST /api/v1/users)" {
		t.Errorf("conflict error: %#v\n%s", ae, ae)
	}
	err = c.Lifecycle(ctx, "a/b", "unlock")
	wantCode(t, err, directory.CodeInvalid, "cannot unlock user a/b: the user is ACTIVE; from ACTIVE the allowed actions are: deactivate, expire_password, suspend")
	_, err = c.User(ctx, "nobody")
	wantCode(t, err, directory.CodeNotFound, `no user "nobody" in org acme`)
	if !apiclient.IsStatus(fmt.Errorf("wrapped: %w", err), 404) {
		t.Error("IsStatus does not see through wrapping")
	}

	// Roles.
	if r := must[*apiclient.Role](t)(c.AssignRole(ctx, "ann", "org_admin")); r.Type != "ORG_ADMIN" {
		t.Errorf("AssignRole: %+v", r)
	}
	if rs := must[[]*apiclient.Role](t)(c.Roles(ctx, "ann")); len(rs) != 1 || rs[0].Type != "ORG_ADMIN" || rs[0].Created.IsZero() {
		t.Errorf("Roles: %+v", rs)
	}
	if err := c.RemoveRole(ctx, "ann", "ORG_ADMIN"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.RemoveRole(ctx, "ann", "ORG_ADMIN"), directory.CodeNotFound, "user ann does not have the role ORG_ADMIN")

	// Okta's DELETE: deactivates, then deletes.
	if err := c.DeleteUser(ctx, "u0"); err != nil {
		t.Fatal(err)
	}
	if u := must[*apiclient.User](t)(c.User(ctx, "u0")); u.Status != "DEPROVISIONED" {
		t.Errorf("after one DELETE: %s", u.Status)
	}
	if err := c.DeleteUser(ctx, "u0"); err != nil {
		t.Fatal(err)
	}
	_, err = c.User(ctx, "u0")
	wantCode(t, err, directory.CodeNotFound, `no user "u0" in org acme`)

	if org := must[string](t)(c.OrgName(ctx)); org != "acme" {
		t.Errorf("OrgName = %q", org)
	}
}

func TestGroupsAndFactors(t *testing.T) {
	s := newServer(t, false)
	c := s.client
	g := must[*apiclient.Group](t)(c.CreateGroup(ctx, "eng", "Engineers"))
	if g.Name != "eng" || g.Description != "Engineers" || g.Type != "OKTA_GROUP" || g.Created.IsZero() {
		t.Fatalf("created %+v", g)
	}
	_, err := c.CreateGroup(ctx, "ENG", "")
	wantCode(t, err, directory.CodeConflict, "a group named ENG already exists in this org")
	for i := range 3 {
		login := fmt.Sprintf("m%d", i)
		must[*apiclient.User](t)(c.CreateUser(ctx, apiclient.NewUser{Profile: map[string]string{"login": login}}))
		if err := c.AddGroupMember(ctx, "eng", login); err != nil {
			t.Fatal(err)
		}
	}
	if ms := must[[]*apiclient.User](t)(c.GroupMembers(ctx, g.ID, 1)); len(ms) != 3 {
		t.Errorf("members over pages of 1: %d", len(ms))
	}
	if err := c.RemoveGroupMember(ctx, "eng", "m0"); err != nil {
		t.Fatal(err)
	}
	if gs := must[[]*apiclient.Group](t)(c.UserGroups(ctx, "m0")); len(gs) != 0 {
		t.Errorf("m0's groups: %v", gs)
	}
	g = must[*apiclient.Group](t)(c.UpdateGroup(ctx, "eng", "engineering", "All"))
	if got := must[*apiclient.Group](t)(c.Group(ctx, g.ID)); got.Name != "engineering" || got.Description != "All" {
		t.Errorf("after update: %+v", got)
	}
	if gs := must[[]*apiclient.Group](t)(c.ListGroups(ctx, &apiclient.ListOptions{Q: "engi"})); len(gs) != 1 {
		t.Errorf("ListGroups q: %v", gs)
	}
	if err := c.DeleteGroup(ctx, "engineering"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Group(ctx, "engineering")
	wantCode(t, err, directory.CodeNotFound, `no group "engineering" in org acme`)

	e := must[*apiclient.Enrollment](t)(c.EnrollTOTP(ctx, "m1"))
	if e.Factor.Status != "PENDING_ACTIVATION" || e.SharedSecret == "" || !strings.HasPrefix(e.URI, "otpauth://totp/") {
		t.Fatalf("enrolled %+v", e.Factor)
	}
	for _, s := range []string{fmt.Sprint(e), fmt.Sprintf("%+v %#v %s", e, e, e)} {
		if strings.Contains(s, e.SharedSecret) {
			t.Errorf("an Enrollment formats with its secret: %s", s)
		}
	}
	secret, err := totp.DecodeSecret(e.SharedSecret)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ActivateFactor(ctx, "m1", e.Factor.ID, "000000x")
	if ae := (*apiclient.Error)(nil); !errors.As(err, &ae) || ae.Code != apiclient.CodeFactorCode || directory.CodeOf(err) != directory.CodeInvalidCredentials {
		t.Errorf("a wrong code: %v", err)
	}
	f := must[*apiclient.Factor](t)(c.ActivateFactor(ctx, "m1", e.Factor.ID, totp.Code(secret, time.Now())))
	if f.Status != "ACTIVE" || f.CredentialID != "m1" {
		t.Errorf("activated %+v", f)
	}
	if fs := must[[]*apiclient.Factor](t)(c.Factors(ctx, "m1")); len(fs) != 1 || fs[0].Status != "ACTIVE" {
		t.Errorf("factors: %+v", fs)
	}
	if err := c.ResetFactors(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if fs := must[[]*apiclient.Factor](t)(c.Factors(ctx, "m1")); len(fs) != 0 {
		t.Errorf("factors after reset: %+v", fs)
	}
	e = must[*apiclient.Enrollment](t)(c.EnrollTOTP(ctx, "m2"))
	if err := c.DeleteFactor(ctx, "m2", e.Factor.ID); err != nil {
		t.Fatal(err)
	}
}

// TestErrorAnswers: refusals by the server map to the directory's codes,
// read as one line, and never hold the token.
func TestErrorAnswers(t *testing.T) {
	s := newServer(t, false)
	bad, err := apiclient.New(s.srv.URL, "00"+strings.Repeat("Q", 40), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.ListUsers(ctx, nil)
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != apiclient.CodeInvalidToken ||
		directory.CodeOf(err) != directory.CodeInvalidCredentials || err.Error() != "Invalid token provided (HTTP 401 E0000011, GET /api/v1/users)" {
		t.Errorf("bad token: %v", err)
	}
	if strings.Contains(err.Error(), strings.Repeat("Q", 40)) {
		t.Error("the token is in the error")
	}
	ro := must[*apiclient.User](t)(s.client.CreateUser(ctx, apiclient.NewUser{Profile: map[string]string{"login": "ro"}}))
	must[*apiclient.Role](t)(s.client.AssignRole(ctx, ro.ID, "READ_ONLY_ADMIN"))
	_, roToken, err := s.d.CreateToken(ctx, "acme", "ro", "ro")
	if err != nil {
		t.Fatal(err)
	}
	roc := must[*apiclient.Client](t)(apiclient.New(s.srv.URL, roToken, nil))
	_, err = roc.CreateGroup(ctx, "x", "")
	wantCode(t, err, directory.CodeForbidden,
		"You do not have permission to perform the requested action: to change users and groups takes ORG_ADMIN or SUPER_ADMIN; ro holds READ_ONLY_ADMIN")
}

// TestTokenNotFormatted: a Client formats, logs and fails without its
// token.
func TestTokenNotFormatted(t *testing.T) {
	tok := "00" + strings.Repeat("S", 40)
	c, err := apiclient.New("https://127.0.0.1:1", tok, nil, apiclient.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "client", c)
	_, callErr := c.User(ctx, "alice")
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c, c, c),
		fmt.Sprintf("%+v", struct{ C *apiclient.Client }{c}), logged.String(), callErr.Error()} {
		if strings.Contains(s, tok) || strings.Contains(s, "SSSS") {
			t.Errorf("the token is shown: %s", s)
		}
	}
	if !strings.Contains(fmt.Sprint(c), "127.0.0.1:1") {
		t.Errorf("a Client formats as %s", c)
	}
	for _, bad := range []string{"", "00abc def", "00abc\n", "tok\u00e9n"} {
		_, err := apiclient.New("https://127.0.0.1:1", bad, nil)
		if err == nil || (bad != "" && strings.Contains(err.Error(), bad)) {
			t.Errorf("New with token %q: %v", bad, err)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	tok := "00" + strings.Repeat("T", 40)
	for _, tc := range []struct{ url, want string }{
		{"127.0.0.1:8080", "want https://HOST[:PORT]"},
		{"ftp://x", "want https://HOST[:PORT]"},
		{"https://", "want https://HOST[:PORT]"},
		{"http://dirgate.example:8080", "plain http would send the API token in clear"},
		{"https://u:" + tok + "@dirgate.example", "carries no credentials"},
		{"https://" + tok + "@dirgate.example", "carries no credentials"},
		{"https://dirgate.example/?t=" + tok, "want no query"},
		{"https://dirgate.example/api/v1", "without /api/v1"},
	} {
		_, err := apiclient.New(tc.url, tok, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tok) {
			t.Errorf("New(%q): %v, want an error with %q and without the token", tc.url, err, tc.want)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost", "http://[::1]:80/", "https://dirgate.example/prefix/"} {
		c, err := apiclient.New(ok, tok, nil)
		if err != nil {
			t.Errorf("New(%q): %v", ok, err)
		} else if strings.HasSuffix(c.BaseURL(), "/") {
			t.Errorf("BaseURL %q ends with a slash", c.BaseURL())
		}
	}
	if _, err := apiclient.New("https://x", tok, nil, apiclient.WithCAFile(filepath.Join(t.TempDir(), "nope.pem"))); err == nil {
		t.Error("a missing CA file was accepted")
	}
	if _, err := apiclient.New("https://x", tok, &http.Client{Transport: roundTripper(nil)}, apiclient.WithCAFile("x")); err == nil {
		t.Error("a CA file with a foreign Transport was accepted")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestUnknownCA: without the server's CA the call fails with x509's
// error, naming the path.
func TestUnknownCA(t *testing.T) {
	s := newServer(t, true)
	c := must[*apiclient.Client](t)(apiclient.New(s.srv.URL, s.token, nil))
	_, err := c.ListGroups(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "GET /api/v1/groups: tls: failed to verify certificate") || strings.Contains(err.Error(), s.token) {
		t.Errorf("unknown CA: %v", err)
	}
}

// TestNestedGroups: groups put in groups and taken out, listed both ways,
// and a cycle refused with the directory's error.
func TestNestedGroups(t *testing.T) {
	s := newServer(t, false)
	c := s.client
	all := must[*apiclient.Group](t)(c.CreateGroup(ctx, "all", ""))
	must[*apiclient.Group](t)(c.CreateGroup(ctx, "eng", ""))
	must[*apiclient.Group](t)(c.CreateGroup(ctx, "a/b", "")) // a slash in a path segment
	for _, child := range []string{"eng", "a/b"} {
		if err := c.AddGroupToGroup(ctx, all.ID, child); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AddGroupToGroup(ctx, "all", "eng"); err != nil { // in already
		t.Fatal(err)
	}
	names := func(gs []*apiclient.Group) string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(must[[]*apiclient.Group](t)(c.ChildGroups(ctx, "all"))); got != "a/b,eng" {
		t.Errorf("groups in all: %s", got)
	}
	if got := must[[]*apiclient.Group](t)(c.ParentGroups(ctx, "a/b")); len(got) != 1 || got[0].ID != all.ID || got[0].Type != "OKTA_GROUP" {
		t.Errorf("parents of a/b: %+v", got)
	}
	err := c.AddGroupToGroup(ctx, "eng", "all")
	wantCode(t, err, directory.CodeInvalid, "group all cannot be a member of eng: eng is already in all, and groups do not form cycles")
	err = c.AddGroupToGroup(ctx, "eng", "eng")
	wantCode(t, err, directory.CodeInvalid, "group eng cannot be a member of itself")
	err = c.AddGroupToGroup(ctx, "eng", "nogroup")
	wantCode(t, err, directory.CodeNotFound, `no group "nogroup" in org acme`)
	_, err = c.ChildGroups(ctx, "nogroup")
	wantCode(t, err, directory.CodeNotFound, `no group "nogroup" in org acme`)
	if err := c.RemoveGroupFromGroup(ctx, "all", "a/b"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveGroupFromGroup(ctx, "all", "a/b"); err != nil { // out already
		t.Fatal(err)
	}
	if got := names(must[[]*apiclient.Group](t)(c.ChildGroups(ctx, "all"))); got != "eng" {
		t.Errorf("groups in all after removing a/b: %s", got)
	}
	if got := must[[]*apiclient.Group](t)(c.ParentGroups(ctx, "a/b")); len(got) != 0 {
		t.Errorf("parents of a/b after its removal: %+v", got)
	}
}
