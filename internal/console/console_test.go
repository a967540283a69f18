package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/console"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/directory/dirtest"
)

var ctx = context.Background()

// fixture: org example with an org admin, a read-only admin, a plain
// user and a service account, and the console over TLS.
type fixture struct {
	d   *directory.Directory
	srv *httptest.Server
}

func newFixture(t *testing.T, opts ...func(*console.Config)) *fixture {
	t.Helper()
	d := dirtest.New(t, directory.OrgInput{Name: "example"})
	for _, u := range []struct{ login, role string }{{"admin", directory.RoleOrgAdmin}, {"viewer", directory.RoleReadOnlyAdmin}, {"carol", ""}} {
		in := directory.UserInput{Profile: directory.Profile{Login: u.login, FirstName: strings.ToUpper(u.login[:1]) + u.login[1:], LastName: "Example"},
			Password: []byte(u.login + "-Password-1")}
		if u.role != "" {
			in.Roles = []string{u.role}
		}
		if _, err := d.CreateUser(ctx, "example", in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "app-svc"},
		Password: []byte("app-svc-Password-1"), ServiceAccount: true}); err != nil {
		t.Fatal(err)
	}
	cfg := console.Config{Directory: d}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, srv: httptest.NewTLSServer(s.Handler())}
	t.Cleanup(f.srv.Close)
	return f
}

// browser is a client with cookies that does not follow redirects.
type browser struct {
	t *testing.T
	f *fixture
	c *http.Client
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	c := new(http.Client)
	*c = *f.srv.Client() // a client of its own: srv.Client() is one shared value
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, f: f, c: c}
}

func (b *browser) get(path string) (int, string, http.Header) {
	b.t.Helper()
	res, err := b.c.Get(b.f.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Header
}

func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	res, err := b.c.PostForm(b.f.srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

// signIn signs in and returns the dashboard's CSRF token.
func (b *browser) signIn(login, pw string) string {
	b.t.Helper()
	_, page, _ := b.get("/console/signin")
	code, body, h := b.post("/console/signin", url.Values{"csrf": {csrfOf(b.t, page)}, "org": {"example"}, "login": {login}, "password": {pw}})
	if code != http.StatusSeeOther || h.Get("Location") != "/console/" {
		b.t.Fatalf("sign in as %s: %d %s\n%s", login, code, h.Get("Location"), body)
	}
	code, dash, _ := b.get("/console/")
	if code != 200 || !strings.Contains(dash, "Dashboard") {
		b.t.Fatalf("dashboard after signing in: %d\n%s", code, dash)
	}
	return csrfOf(b.t, dash)
}

func TestSignInAndLifecycle(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	if code, _, h := b.get("/console/people"); code != http.StatusSeeOther || h.Get("Location") != "/console/signin" {
		t.Fatalf("people before signing in: %d %s", code, h.Get("Location"))
	}
	csrf := b.signIn("admin", "admin-Password-1")
	code, page, h := b.get("/console/people?q=car")
	if code != 200 || !strings.Contains(page, ">carol</a>") || strings.Contains(page, ">viewer</a>") {
		t.Fatalf("people q=car: %d\n%s", code, page)
	}
	for _, name := range []string{"Content-Security-Policy", "X-Frame-Options"} {
		if h.Get(name) == "" {
			t.Errorf("no %s header", name)
		}
	}
	carol, err := f.d.User(ctx, "example", "carol")
	if err != nil {
		t.Fatal(err)
	}
	code, page, _ = b.get("/console/people/" + carol.ID)
	if code != 200 || !strings.Contains(page, `/lifecycle/suspend"`) {
		t.Fatalf("carol's page: %d\n%s", code, page)
	}
	// Without the CSRF token, nothing happens.
	if code, _, _ := b.post("/console/people/"+carol.ID+"/lifecycle/suspend", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("suspend without a CSRF token: %d, want 403", code)
	}
	if code, _, _ := b.post("/console/people/"+carol.ID+"/lifecycle/suspend", url.Values{"csrf": {"wrong"}}); code != http.StatusForbidden {
		t.Fatalf("suspend with a wrong CSRF token: %d, want 403", code)
	}
	if u, _ := f.d.User(ctx, "example", "carol"); u.Status != directory.StatusActive {
		t.Fatalf("carol is %s after refused posts", u.Status)
	}
	code, _, h = b.post("/console/people/"+carol.ID+"/lifecycle/suspend", url.Values{"csrf": {csrf}})
	if code != http.StatusSeeOther {
		t.Fatalf("suspend: %d", code)
	}
	if u, _ := f.d.User(ctx, "example", "carol"); u.Status != directory.StatusSuspended {
		t.Fatalf("carol is %s, want SUSPENDED", u.Status)
	}
	_, page, _ = b.get(h.Get("Location"))
	if !strings.Contains(page, "is now SUSPENDED") {
		t.Errorf("no confirmation after suspending:\n%s", page)
	}
	// An illegal transition is explained, not done.
	code, page, _ = b.post("/console/people/"+carol.ID+"/lifecycle/suspend", url.Values{"csrf": {csrf}})
	if code != http.StatusBadRequest || !strings.Contains(page, "SUSPENDED") {
		t.Fatalf("suspending twice: %d\n%s", code, page)
	}
	// The system log names the admin.
	if err := f.d.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := f.d.Events(ctx, "example", directory.EventFilter{EventType: directory.EventUserSuspend})
	if err != nil || len(evs) != 1 || !strings.Contains(string(evs[0].Doc), `"alternateId":"admin"`) {
		t.Fatalf("suspend events: %v %v", evs, err)
	}
	// Signing out ends the session.
	if code, _, _ := b.post("/console/signout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", code)
	}
	if code, _, _ := b.get("/console/"); code != http.StatusSeeOther {
		t.Fatalf("dashboard after signing out: %d", code)
	}
}

func TestReadOnlyAdminChangesNothing(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	csrf := b.signIn("viewer", "viewer-Password-1")
	carol, _ := f.d.User(ctx, "example", "carol")
	code, page, _ := b.get("/console/people/" + carol.ID)
	if code != 200 || strings.Contains(page, "/lifecycle/") || !strings.Contains(page, "read-only") {
		t.Fatalf("carol's page for a read-only admin: %d\n%s", code, page)
	}
	if code, page, _ := b.post("/console/people/"+carol.ID+"/lifecycle/suspend", url.Values{"csrf": {csrf}}); code != http.StatusForbidden || !strings.Contains(page, "ORG_ADMIN") {
		t.Fatalf("suspend as a read-only admin: %d\n%s", code, page)
	}
	if u, _ := f.d.User(ctx, "example", "carol"); u.Status != directory.StatusActive {
		t.Fatalf("carol is %s", u.Status)
	}
}

func TestSignInRefusals(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	const csrf = "<fresh>" // each case reads the form anew: a refusal issues a new token
	for _, tc := range []struct {
		name string
		form url.Values
		code int
	}{
		{"no CSRF token", url.Values{"org": {"example"}, "login": {"admin"}, "password": {"admin-Password-1"}}, 403},
		{"wrong password", url.Values{"csrf": {csrf}, "org": {"example"}, "login": {"admin"}, "password": {"nope"}}, 401},
		{"unknown org", url.Values{"csrf": {csrf}, "org": {"nowhere"}, "login": {"admin"}, "password": {"admin-Password-1"}}, 401},
		{"a service account without an admin role", url.Values{"csrf": {csrf}, "org": {"example"}, "login": {"app-svc"}, "password": {"app-svc-Password-1"}}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, page, _ := b.get("/console/signin")
			if tc.form.Get("csrf") == csrf {
				tc.form.Set("csrf", csrfOf(t, page))
			}
			code, body, _ := b.post("/console/signin", tc.form)
			if code != tc.code {
				t.Fatalf("%d, want %d\n%s", code, tc.code, body)
			}
			if tc.code == 401 && !strings.Contains(body, "not right") {
				t.Errorf("no explanation:\n%s", body)
			}
		})
	}
	if code, _, _ := b.get("/console/"); code != http.StatusSeeOther {
		t.Fatalf("signed in after refusals: %d", code)
	}
}

func TestIdleTimeout(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	s, err := console.New(console.Config{Directory: f.d, IdleTimeout: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Config.Handler = s.Handler()
	b := f.browser(t)
	b.signIn("admin", "admin-Password-1")
	now = now.Add(2 * time.Minute)
	if code, _, _ := b.get("/console/"); code != http.StatusSeeOther {
		t.Fatalf("dashboard after the idle timeout: %d, want a redirect to sign in", code)
	}
}
