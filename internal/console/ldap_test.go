package console_test

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/dirgate/dirgate/internal/console"
	"github.com/dirgate/dirgate/internal/directory"
)

const testCA = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBATAKBggqhkjOPQQDAjAAMB4XDTI2MDEwMTAwMDAwMFoX\n-----END CERTIFICATE-----\n"

// newLDAPFixture is newFixture with the LDAP interface on
// ldap.example.com (389 StartTLS, 636 LDAPS), a CA file when withCA, and
// a SUPER_ADMIN "super" (password super-Password-1), who may give the
// bind account its admin role.
func newLDAPFixture(t *testing.T, withCA bool) *fixture {
	t.Helper()
	return newLDAPFixtureOn(t, console.LDAPInfo{Host: "ldap.example.com", LDAPPort: 389, LDAPSPort: 636}, withCA)
}

func newLDAPFixtureOn(t *testing.T, li console.LDAPInfo, withCA bool) *fixture {
	t.Helper()
	f := newFixture(t)
	cfg := console.Config{Directory: f.d, LDAP: li}
	if withCA {
		cfg.CAFile = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(cfg.CAFile, []byte(testCA), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "super"},
		Password: []byte("super-Password-1"), Roles: []string{directory.RoleSuperAdmin}}); err != nil {
		t.Fatal(err)
	}
	s, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Config.Handler = s.Handler()
	return f
}

const base = "dc=example,dc=okta,dc=com"

// snippet is the text of the page's textarea id, unescaped.
func snippet(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<textarea[^>]* id="` + id + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no textarea %s in the page:\n%s", id, page)
	}
	return html.UnescapeString(m[1])
}

// codeOf is the text of the page's <code id=id>, unescaped.
func codeOf(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<code id="` + id + `">([^<]*)</code>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no code %s in the page:\n%s", id, page)
	}
	return html.UnescapeString(m[1])
}

// pgHBALine is the page's pg_hba.conf line for database db over scheme
// ("ldaps" on 636 or "ldap ldaptls=1" on 389).
func pgHBALine(db, scheme, login, pw string) string {
	port := "636"
	if scheme != "ldaps" {
		port = "389"
	}
	return `hostssl ` + db + ` +immuta_user all ldap ldapserver=ldap.example.com ldapscheme=` + scheme + ` ldapport=` + port + ` ldapbasedn="ou=users,` + base +
		`" ldapsearchattribute=uid ldapbinddn="uid=` + login + `,` + base + `" ldapbindpasswd="` + pw + `"`
}

func pgHBAWant(login, pw string) string { return pgHBALine("all", "ldaps", login, pw) }

// checkHelm checks the Helm snippet is YAML whose
// queryEngine.clientPgHBARules is the one rule, and that alt ("" for
// none) follows as a comment, valid YAML once uncommented.
func checkHelm(t *testing.T, helm, rule, alt string) {
	t.Helper()
	var v struct {
		QueryEngine struct {
			ClientPgHBARules []string `yaml:"clientPgHBARules"`
		} `yaml:"queryEngine"`
	}
	if err := yaml.Unmarshal([]byte(helm), &v); err != nil {
		t.Fatalf("the Helm snippet is not YAML: %v\n%s", err, helm)
	}
	if got := v.QueryEngine.ClientPgHBARules; len(got) != 1 || got[0] != rule {
		t.Fatalf("queryEngine.clientPgHBARules = %q, want [%q]\n%s", got, rule, helm)
	}
	want := "queryEngine:\n  clientPgHBARules:\n    - " + rule + "\n"
	if alt == "" && helm != want || !strings.HasPrefix(helm, want) {
		t.Errorf("the Helm snippet:\n%s\nwant:\n%s", helm, want)
	}
	if alt == "" {
		return
	}
	if err := yaml.Unmarshal([]byte(strings.Replace(helm, "    # - ", "    - ", 1)), &v); err != nil {
		t.Fatalf("the Helm snippet with its alternative uncommented is not YAML: %v\n%s", err, helm)
	}
	if got := v.QueryEngine.ClientPgHBARules; len(got) != 2 || got[1] != alt {
		t.Fatalf("the Helm snippet's alternative = %q, want %q\n%s", got, alt, helm)
	}
}

func TestLDAPPageShowsConnectionDetails(t *testing.T) {
	f := newLDAPFixture(t, true)
	b := f.browser(t)
	b.signIn("viewer", "viewer-Password-1")
	code, page, _ := b.get("/console/ldap")
	if code != http.StatusOK || !strings.Contains(page, "<h1>LDAP Interface</h1>") {
		t.Fatalf("GET /console/ldap: %d\n%s", code, page)
	}
	for id, want := range map[string]string{
		"ldap-host":     "ldap.example.com",
		"ldaps-port":    "636",
		"ldaps-url":     "ldaps://ldap.example.com:636",
		"ldap-port":     "389",
		"ldap-url":      "ldap://ldap.example.com:389",
		"base-dn":       base,
		"users-dn":      "ou=users," + base,
		"groups-dn":     "ou=groups," + base,
		"bind-dn":       "uid=<login>," + base,
		"bind-dn-ou":    "uid=<login>,ou=users," + base,
		"mfa-separator": ",",
		"mfa-form":      "<password>,<code>",
	} {
		if got := codeOf(t, page, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if !strings.Contains(page, "StartTLS required") {
		t.Error("the page does not say StartTLS is required")
	}
	if !strings.Contains(page, `href="/console/ldap/ca.pem"`) || !strings.Contains(page, "example-ca.pem") {
		t.Errorf("no CA download link:\n%s", page)
	}
	rule := pgHBAWant("ldap-bind", "<password of ldap-bind>")
	if got := snippet(t, page, "snippet-pghba"); got != rule {
		t.Errorf("pg_hba line:\n%s\nwant:\n%s", got, rule)
	}
	alt := pgHBALine("all", "ldap ldaptls=1", "ldap-bind", "<password of ldap-bind>")
	if got := snippet(t, page, "snippet-pghba-alt"); got != alt {
		t.Errorf("pg_hba line over StartTLS:\n%s\nwant:\n%s", got, alt)
	}
	checkHelm(t, snippet(t, page, "snippet-helm"),
		pgHBALine("immuta", "ldaps", "ldap-bind", "<password of ldap-bind>"), pgHBALine("immuta", "ldap ldaptls=1", "ldap-bind", "<password of ldap-bind>"))
	trust := snippet(t, page, "snippet-trust")
	for _, want := range []string{"TLS_CACERT", "LDAPTLS_CACERT", "example-ca.pem", "ldapserver=ldap.example.com must be a name in dirgate's certificate", "ldapbindpasswd included"} {
		if !strings.Contains(trust, want) {
			t.Errorf("the trust text lacks %q:\n%s", want, trust)
		}
	}
	if !strings.Contains(page, "dirgate pg-hba --org example") || !strings.Contains(page, "dirgate pgsync --org example") {
		t.Error("the page does not name dirgate pg-hba and dirgate pgsync")
	}
	wantQ := `LDAPTLS_CACERT=example-ca.pem ldapsearch -H ldaps://ldap.example.com:636 -x -D "uid=ldap-bind,` + base + `" -W -b "ou=users,` + base + `" "(uid=someone)"`
	if got := snippet(t, page, "snippet-ldapsearch"); got != wantQ {
		t.Errorf("ldapsearch:\n%s\nwant:\n%s", got, wantQ)
	}
	for _, id := range []string{"snippet-pghba", "snippet-pghba-alt", "snippet-helm", "snippet-trust", "snippet-ldapsearch"} {
		if !strings.Contains(page, `<label for="`+id+`">`) || !strings.Contains(page, `<output for="`+id+`"`) {
			t.Errorf("%s has no label or output", id)
		}
	}
}

func TestLDAPCADownload(t *testing.T) {
	f := newLDAPFixture(t, true)
	b := f.browser(t)
	b.signIn("viewer", "viewer-Password-1")
	code, body, h := b.get("/console/ldap/ca.pem")
	if code != http.StatusOK || body != testCA {
		t.Fatalf("GET ca.pem: %d %q", code, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/x-pem-file" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := h.Get("Content-Disposition"); cd != `attachment; filename="example-ca.pem"` {
		t.Errorf("Content-Disposition %q", cd)
	}

	// With the operator's certificate there is nothing to download.
	f = newLDAPFixture(t, false)
	b = f.browser(t)
	b.signIn("viewer", "viewer-Password-1")
	_, page, _ := b.get("/console/ldap")
	if strings.Contains(page, "/console/ldap/ca.pem") || !strings.Contains(page, `id="ca-operator">This server uses the operator's own certificate`) {
		t.Fatalf("the page without a CA file:\n%s", page)
	}
	if q := snippet(t, page, "snippet-ldapsearch"); strings.Contains(q, "LDAPTLS_CACERT") {
		t.Errorf("ldapsearch names a CA file there is none of: %s", q)
	}
	if code, _, _ := b.get("/console/ldap/ca.pem"); code != http.StatusNotFound {
		t.Fatalf("GET ca.pem without a CA file: %d, want 404", code)
	}
}

var passwordRE = regexp.MustCompile(`<code id="bind-password">([0-9A-Za-z]{24})</code>`)

func TestLDAPBindAccount(t *testing.T) {
	f := newLDAPFixture(t, true)
	b := f.browser(t)
	csrf := b.signIn("super", "super-Password-1")
	_, page, _ := b.get("/console/ldap")
	if !strings.Contains(page, `action="/console/ldap/bind-account"`) || !strings.Contains(page, `<label for="login">`) ||
		!strings.Contains(page, `value="ldap-bind"`) {
		t.Fatalf("no bind account form:\n%s", page)
	}
	// Without the CSRF token, nothing happens.
	if code, _, _ := b.post("/console/ldap/bind-account", url.Values{"login": {"ldap-bind"}}); code != http.StatusForbidden {
		t.Fatalf("create without a CSRF token: %d, want 403", code)
	}
	if _, err := f.d.User(ctx, "example", "ldap-bind"); err == nil {
		t.Fatal("created without a CSRF token")
	}

	code, page, h := b.post("/console/ldap/bind-account", url.Values{"csrf": {csrf}, "login": {"ldap-bind"}})
	if code != http.StatusOK || h.Get("Location") != "" {
		t.Fatalf("create: %d %s\n%s", code, h.Get("Location"), page)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("the password page may be cached: Cache-Control %q", h.Get("Cache-Control"))
	}
	m := passwordRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no password on the result page:\n%s", page)
	}
	pw := m[1]
	if got := codeOf(t, page, "created-dn"); got != "uid=ldap-bind,"+base {
		t.Errorf("bind DN %q", got)
	}
	if got := codeOf(t, page, "created-dn-ou"); got != "uid=ldap-bind,ou=users,"+base {
		t.Errorf("bind DN with ou=users %q", got)
	}
	rule := pgHBAWant("ldap-bind", pw)
	if got := snippet(t, page, "snippet-pghba"); got != rule {
		t.Errorf("pg_hba line:\n%s\nwant:\n%s", got, rule)
	}
	checkHelm(t, snippet(t, page, "snippet-helm"), pgHBALine("immuta", "ldaps", "ldap-bind", pw), pgHBALine("immuta", "ldap ldaptls=1", "ldap-bind", pw))

	u, err := f.d.User(ctx, "example", "ldap-bind")
	if err != nil {
		t.Fatal(err)
	}
	if u.Type != "service_account" || len(u.Roles) != 1 || u.Roles[0] != directory.RoleReadOnlyAdmin || u.Status != directory.StatusActive {
		t.Fatalf("the bind account: type %s, roles %v, status %s", u.Type, u.Roles, u.Status)
	}
	o, _ := f.d.Org(ctx, "example")
	if _, err := f.d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: "ldap-bind", Password: []byte(pw),
		Client: directory.ClientInfo{IP: "127.0.0.1", TLS: true, Protocol: "ldap"}}); err != nil {
		t.Fatalf("the shown password does not authenticate: %v", err)
	}

	// Shown once: not on the next page, nor in a flash.
	for _, path := range []string{"/console/ldap", "/console/"} {
		if _, page, _ := b.get(path); strings.Contains(page, pw) {
			t.Fatalf("%s shows the password again", path)
		}
	}

	// A taken login is refused next to the field.
	code, page, _ = b.post("/console/ldap/bind-account", url.Values{"csrf": {csrf}, "login": {"LDAP-BIND"}})
	if code != http.StatusBadRequest || !regexp.MustCompile(`id="login-error">[^<]*already exists`).MatchString(page) ||
		!strings.Contains(page, `aria-invalid="true"`) || passwordRE.MatchString(page) {
		t.Fatalf("a taken login: %d\n%s", code, page)
	}
}

func TestLDAPBindAccountRefusals(t *testing.T) {
	f := newLDAPFixture(t, true)
	for _, who := range []struct{ login, pw string }{{"viewer", "viewer-Password-1"}, {"admin", "admin-Password-1"}} {
		t.Run(who.login, func(t *testing.T) {
			b := f.browser(t)
			csrf := b.signIn(who.login, who.pw)
			code, page, _ := b.get("/console/ldap")
			if code != 200 || strings.Contains(page, "/console/ldap/bind-account") || strings.Contains(page, "Create read-only bind account") ||
				!strings.Contains(page, "SUPER_ADMIN") {
				t.Fatalf("the page for %s: %d\n%s", who.login, code, page)
			}
			if code, _, _ := b.post("/console/ldap/bind-account", url.Values{"csrf": {csrf}, "login": {"ldap-bind"}}); code != http.StatusForbidden {
				t.Fatalf("create as %s: %d, want 403", who.login, code)
			}
			if _, err := f.d.User(ctx, "example", "ldap-bind"); err == nil {
				t.Fatalf("%s created the bind account", who.login)
			}
		})
	}
}

func TestLDAPStartTLSOnlyAndOff(t *testing.T) {
	f := newLDAPFixtureOn(t, console.LDAPInfo{Host: "ldap.example.com", LDAPPort: 389}, true)
	b := f.browser(t)
	b.signIn("viewer", "viewer-Password-1")
	_, page, _ := b.get("/console/ldap")
	if strings.Contains(page, `id="ldaps-url"`) || codeOf(t, page, "ldap-url") != "ldap://ldap.example.com:389" {
		t.Fatalf("StartTLS only:\n%s", page)
	}
	want := `hostssl all +immuta_user all ldap ldapserver=ldap.example.com ldapscheme=ldap ldaptls=1 ldapport=389 ldapbasedn="ou=users,` + base +
		`" ldapsearchattribute=uid ldapbinddn="uid=ldap-bind,` + base + `" ldapbindpasswd="<password of ldap-bind>"`
	if got := snippet(t, page, "snippet-pghba"); got != want {
		t.Errorf("pg_hba line over StartTLS:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(page, "snippet-pghba-alt") {
		t.Error("an alternative line with StartTLS only")
	}
	checkHelm(t, snippet(t, page, "snippet-helm"), strings.Replace(want, "hostssl all ", "hostssl immuta ", 1), "")
	if got := snippet(t, page, "snippet-ldapsearch"); !strings.Contains(got, "-H ldap://ldap.example.com:389 -ZZ -x") {
		t.Errorf("ldapsearch over StartTLS: %s", got)
	}

	f = newLDAPFixtureOn(t, console.LDAPInfo{Host: "ldap.example.com"}, true)
	b = f.browser(t)
	b.signIn("viewer", "viewer-Password-1")
	_, page, _ = b.get("/console/ldap")
	if !strings.Contains(page, "The LDAP interface is off") || strings.Contains(page, "snippet-pghba") {
		t.Fatalf("both listeners off:\n%s", page)
	}
}
