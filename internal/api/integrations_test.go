package api_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/api"
	"github.com/dirgate/dirgate/internal/connector/ldapsource/ldaptest"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/dit"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

const integrations = "/api/dirgate/v1/integrations"

// unreachableSettings point at a port nothing listens on.
const unreachableSettings = `{"urls":["ldaps://127.0.0.1:1"],"bindDN":"cn=sync,dc=example,dc=com",
	"userSearchBase":"ou=people,dc=example,dc=com","userAttribute":"uid","timeout":"5s"}`

// integrationBody is a create or replace body.
func integrationBody(name, settings, extra string) string {
	return `{"name":` + quoteJSON(name) + `,"settings":` + settings + extra + `}`
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// apiErrorOf decodes an error answer.
func apiErrorOf(t *testing.T, res *response) (summary string, causes []string) {
	t.Helper()
	var e struct {
		ErrorSummary string `json:"errorSummary"`
		ErrorCauses  []struct {
			ErrorSummary string `json:"errorSummary"`
		} `json:"errorCauses"`
	}
	res.json(t, &e)
	for _, c := range e.ErrorCauses {
		causes = append(causes, c.ErrorSummary)
	}
	return e.ErrorSummary, causes
}

// testReportJSON is a test-connection or test-login answer.
type testReportJSON struct {
	OK    bool   `json:"ok"`
	URL   string `json:"url"`
	Steps []struct {
		Name    string `json:"name"`
		URL     string `json:"url"`
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	} `json:"steps"`
}

// syncReport is a sync or test-sync answer (the fields the tests read).
type syncReport struct {
	DryRun        bool                `json:"dryRun"`
	Incremental   bool                `json:"incremental"`
	Users         int                 `json:"users"`
	Created       int                 `json:"created"`
	Updated       int                 `json:"updated"`
	Unchanged     int                 `json:"unchanged"`
	Groups        int                 `json:"groups"`
	GroupsCreated int                 `json:"groupsCreated"`
	Examples      map[string][]string `json:"examples"`
}

// decodeAs decodes a successful answer as T (the zero T otherwise).
func decodeAs[T any](t *testing.T, res *response) (T, *response) {
	t.Helper()
	var v T
	if res.status < 300 {
		res.json(t, &v)
	}
	return v, res
}

// dirgateLDAP serves another directory's LDAP view (dirgate's own LDAP
// interface, plaintext on loopback) with users src-1 … src-n in its org
// "example" (password Src-password-<i>), as a source that needs no slapd.
// It returns the settings that sync those users (by the filter
// (uid=src-*), firstName and email mapped) and the bind password.
func dirgateLDAP(t *testing.T, n int) (settings, bindPassword string) {
	t.Helper()
	src := newFixture(t, api.Config{})
	for i := 1; i <= n; i++ {
		login := fmt.Sprintf("src-%d", i)
		if _, err := src.d.CreateUser(ctx, "example", directory.UserInput{
			Profile:  directory.Profile{Login: login, Email: login + "@source.example", FirstName: fmt.Sprintf("Source%d", i), LastName: "User"},
			Password: []byte(fmt.Sprintf("Src-password-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	quiet := slog.New(slog.DiscardHandler)
	view, err := dit.New(src.d, dit.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ldapserver.NewServer(ldapserver.Config{Backend: view, AllowPlaintext: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	o, err := src.d.Org(ctx, "example")
	if err != nil {
		t.Fatal(err)
	}
	base := directory.BaseDN(o)
	b, err := json.Marshal(map[string]any{
		"urls": []string{"ldap://" + l.Addr().String()}, "insecurePlaintext": true,
		"bindDN": "uid=super," + base, "userSearchBase": "ou=users," + base,
		"userSearchFilter": "(uid=src-*)", "profileSchema": map[string]string{"firstName": "givenName", "email": "mail"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b), "Adm1n-password!"
}

// openLDAPSettings are what an administrator enters for the slapd
// fixture's tree (as ldapsource's sync_test.go has them), as JSON.
func openLDAPSettings(t *testing.T, s *ldaptest.Server, paging bool) string {
	t.Helper()
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{
		"urls": []string{s.URL}, "startTLS": true, "caCert": string(ca), "bindDN": s.BindDN,
		"userSearchBase": s.UsersBase, "userAttribute": s.LoginAttr,
		"profileSchema": map[string]string{"email": "mail", "firstName": "givenName", "lastName": "sn", "title": "title"},
		"paging":        paging, "groupSearchBase": s.GroupsBase, "groupSearchFilter": "(objectClass=groupOfNames)",
		"attributeSync": []string{"employeeNumber"}, "attributePrefix": "ldap-",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIntegrationSettingsRefused: wrong settings are 400 E0000001 naming
// the setting (settings.<name>) and saying why, and nothing is created.
func TestIntegrationSettingsRefused(t *testing.T) {
	f := newFixture(t, api.Config{})
	for _, tc := range []struct {
		what, body, summary, cause string
	}{
		{"both userAttribute and userSearchFilter",
			integrationBody("Both", `{"urls":["ldaps://ad.example.com"],"bindDN":"cn=sync,dc=example,dc=com","userSearchBase":"dc=example,dc=com",
				"userAttribute":"uid","userSearchFilter":"(objectClass=person)"}`, ""),
			"Api validation failed: settings.userSearchFilter",
			"settings.userSearchFilter: give either a user attribute or a user search filter, not both: "},
		{"an unknown setting",
			integrationBody("Typo", `{"urls":["ldaps://ad.example.com"],"bindDN":"cn=sync","userSearchBase":"dc=example","userAtribute":"uid"}`, ""),
			"Api validation failed: settings.userAtribute", `settings.userAtribute: unknown setting "userAtribute"`},
		{"plain LDAP without StartTLS",
			integrationBody("Plain", `{"urls":["ldap://ad.example.com"],"bindDN":"cn=sync","userSearchBase":"dc=example","userAttribute":"uid"}`, ""),
			"Api validation failed: settings.startTLS", "settings.startTLS: ldap://ad.example.com is plain LDAP: turn StartTLS on"},
		{"a setting of the wrong type",
			integrationBody("Type", `{"urls":"ldaps://ad.example.com","bindDN":"cn=sync","userSearchBase":"dc=example","userAttribute":"uid"}`, ""),
			"Api validation failed: settings.urls", "settings.urls: expected a []string, got a JSON string"},
		{"no settings", `{"name":"None"}`, "Api validation failed: settings", "settings: give the integration's settings"},
		{"an empty bind password", integrationBody("Empty", unreachableSettings, `,"bindPassword":""`),
			"Api validation failed: bindPassword", "bindPassword: the bind password is empty"},
		{"no name", integrationBody("", unreachableSettings, ""), "Api validation failed: name", "name: an integration needs a display name"},
		{"an unknown property", integrationBody("Extra", unreachableSettings, `,"password":"x"`),
			"Api validation failed: password", `password: unknown property "password"`},
	} {
		res := f.do(t, f.super, "POST", integrations, tc.body)
		if res.status != 400 || res.errorCode() != "E0000001" {
			t.Errorf("%s: %d %s, want 400 E0000001", tc.what, res.status, res.body)
			continue
		}
		summary, causes := apiErrorOf(t, res)
		if summary != tc.summary || len(causes) != 1 || !strings.HasPrefix(causes[0], tc.cause) {
			t.Errorf("%s: summary %q, causes %q; want %q and a cause starting %q", tc.what, summary, causes, tc.summary, tc.cause)
		}
	}
	if ins, err := f.d.Integrations(ctx, "example"); err != nil || len(ins) != 0 {
		t.Errorf("after refused creates: %d integrations, %v", len(ins), err)
	}
}

// TestIntegrationPasswordWriteOnly: the bind password is stored (sealed)
// and never answered: not by the create, the get, the list or a replace;
// a replace without one keeps it, with one changes it.
func TestIntegrationPasswordWriteOnly(t *testing.T) {
	f := newFixture(t, api.Config{})
	const pw, pw2 = "S3cret-bind-password", "An0ther-bind-password"
	noPassword := func(what string, res *response) {
		t.Helper()
		for _, leak := range []string{pw, pw2, `"bindPassword"`} {
			if strings.Contains(string(res.body), leak) {
				t.Errorf("%s answers %q: %s", what, leak, res.body)
			}
		}
	}
	res := f.do(t, f.super, "POST", integrations, integrationBody("Corporate AD", unreachableSettings, `,"default":true,"bindPassword":"`+pw+`"`))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	noPassword("create", res)
	var created struct {
		ID              string         `json:"id"`
		Name            string         `json:"name"`
		Kind            string         `json:"kind"`
		Default         bool           `json:"default"`
		BindPasswordSet bool           `json:"bindPasswordSet"`
		OwnedAttributes []string       `json:"ownedAttributes"`
		Settings        map[string]any `json:"settings"`
	}
	res.json(t, &created)
	if !strings.HasPrefix(created.ID, "0oa") || created.Name != "Corporate AD" || created.Kind != "ldap" || !created.Default || !created.BindPasswordSet {
		t.Errorf("created: %s", res.body)
	}
	if created.Settings["loginAttribute"] != "uid" || created.Settings["removal"] != "deactivate" || created.Settings["timeout"] != "5s" {
		t.Errorf("the settings are not normalized: %v", created.Settings)
	}
	secret := func() string {
		t.Helper()
		in, err := f.d.Integration(ctx, "example", created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(in.Secret, pw) || strings.Contains(string(in.Settings), pw) {
			t.Errorf("the password is stored in clear: %q %s", in.Secret, in.Settings)
		}
		b, err := f.d.IntegrationSecret(in)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := secret(); got != pw {
		t.Errorf("stored password %q, want %q", got, pw)
	}
	for _, path := range []string{integrations, integrations + "/" + created.ID, integrations + "/" + url.PathEscape("corporate ad")} {
		res := f.do(t, f.readOnly, "GET", path, "")
		if res.status != 200 || !strings.Contains(string(res.body), created.ID) || !strings.Contains(string(res.body), `"bindPasswordSet":true`) {
			t.Errorf("GET %s: %d %s", path, res.status, res.body)
		}
		noPassword("GET "+path, res)
	}

	// A replace without the password keeps it; with one changes it.
	res = f.do(t, f.super, "PUT", integrations+"/"+created.ID, integrationBody("Corporate AD", strings.Replace(unreachableSettings, `"5s"`, `"7s"`, 1), ""))
	if res.status != 200 || !strings.Contains(string(res.body), `"timeout":"7s"`) || !strings.Contains(string(res.body), `"default":true`) {
		t.Fatalf("replace (without default: it stays the default): %d %s", res.status, res.body)
	}
	noPassword("replace", res)
	if got := secret(); got != pw {
		t.Errorf("after a replace without bindPassword: %q, want %q kept", got, pw)
	}
	res = f.do(t, f.super, "PUT", integrations+"/"+created.ID, integrationBody("Corporate AD", unreachableSettings, `,"bindPassword":"`+pw2+`"`))
	if res.status != 200 {
		t.Fatalf("replace with a password: %d %s", res.status, res.body)
	}
	noPassword("replace with a password", res)
	if res := f.do(t, f.super, "PUT", integrations+"/"+created.ID, integrationBody("Corporate AD", unreachableSettings, `,"default":false`)); !strings.Contains(string(res.body), `"default":false`) {
		t.Errorf("replace with default false: %d %s", res.status, res.body)
	}
	if got := secret(); got != pw2 {
		t.Errorf("after a replace with bindPassword: %q, want %q", got, pw2)
	}

	// Taken names, unknown ids, deletion.
	if res := f.do(t, f.super, "POST", integrations, integrationBody("corporate AD", unreachableSettings, "")); res.status != 400 || res.errorCode() != "E0000001" {
		t.Errorf("a taken name: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.readOnly, "GET", integrations+"/0oanothing", ""); res.status != 404 || res.errorCode() != "E0000007" {
		t.Errorf("an unknown id: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.super, "DELETE", integrations+"/"+created.ID, ""); res.status != 204 {
		t.Errorf("delete: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.readOnly, "GET", integrations, ""); res.status != 200 || string(res.body) != "[]" {
		t.Errorf("the list after the delete: %d %s", res.status, res.body)
	}
}

// TestIntegrationPermissions: any admin reads integrations; only a super
// admin creates, changes, deletes, tests and syncs them.
func TestIntegrationPermissions(t *testing.T) {
	f := newFixture(t, api.Config{})
	res := f.do(t, f.super, "POST", integrations, integrationBody("AD", unreachableSettings, `,"bindPassword":"pw"`))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	id := integrations + "/" + idOf(t, res)
	for _, tok := range []struct{ name, token string }{{"read-only admin", f.readOnly}, {"org admin", f.orgAdmin}} {
		for _, path := range []string{integrations, id} {
			if res := f.do(t, tok.token, "GET", path, ""); res.status != 200 {
				t.Errorf("%s: GET %s: %d %s", tok.name, path, res.status, res.body)
			}
		}
		for _, c := range []struct{ method, path, body string }{
			{"POST", integrations, integrationBody("Other", unreachableSettings, "")},
			{"PUT", id, integrationBody("AD", unreachableSettings, "")},
			{"DELETE", id, ""},
			{"POST", id + "/test-connection", ""},
			{"POST", id + "/test-login", `{"login":"ann","password":"pw"}`},
			{"POST", id + "/test-sync", ""},
			{"POST", id + "/sync", ""},
		} {
			res := f.do(t, tok.token, c.method, c.path, c.body)
			if res.status != 403 || res.errorCode() != "E0000006" {
				t.Errorf("%s: %s %s: %d %s, want 403 E0000006", tok.name, c.method, c.path, res.status, res.body)
			}
		}
	}
	if ins, _ := f.d.Integrations(ctx, "example"); len(ins) != 1 || ins[0].Name != "AD" {
		t.Errorf("after the refused calls: %v", ins)
	}
}

// TestIntegrationUnreachable: test-connection of a source nothing listens
// on is a 200 report whose connect step failed, saying why; test-sync and
// sync are 502 naming the step and the URL, and change nothing.
func TestIntegrationUnreachable(t *testing.T) {
	f := newFixture(t, api.Config{})
	res := f.do(t, f.super, "POST", integrations, integrationBody("Down", unreachableSettings, `,"bindPassword":"pw"`))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	id := integrations + "/" + idOf(t, res)
	for _, c := range []struct{ path, body string }{{id + "/test-connection", ""}, {id + "/test-login", `{"login":"ann","password":"pw"}`}} {
		res := f.do(t, f.super, "POST", c.path, c.body)
		if res.status != 200 {
			t.Fatalf("POST %s: %d %s", c.path, res.status, res.body)
		}
		var rep testReportJSON
		res.json(t, &rep)
		if rep.OK || len(rep.Steps) == 0 {
			t.Fatalf("POST %s: %s, want a failed report", c.path, res.body)
		}
		last := rep.Steps[len(rep.Steps)-1]
		if last.Name != "connect" || last.OK || last.URL != "ldaps://127.0.0.1:1" || last.Message == "" {
			t.Errorf("POST %s: the last step is %+v, want connect to ldaps://127.0.0.1:1 failed, and why", c.path, last)
		}
	}
	before, _ := f.d.Users(ctx, "example")
	for _, path := range []string{id + "/test-sync", id + "/sync"} {
		res := f.do(t, f.super, "POST", path, "")
		if res.status != 502 || res.errorCode() != "E0000009" {
			t.Errorf("POST %s: %d %s, want 502 E0000009", path, res.status, res.body)
			continue
		}
		summary, causes := apiErrorOf(t, res)
		if !strings.Contains(summary, `"Down" could not read its source, and changed nothing: connect ldaps://127.0.0.1:1: `) || len(causes) != 1 ||
			!strings.HasPrefix(causes[0], "connect ldaps://127.0.0.1:1: ") {
			t.Errorf("POST %s: summary %q, causes %q", path, summary, causes)
		}
	}
	if after, _ := f.d.Users(ctx, "example"); len(after) != len(before) {
		t.Errorf("a failed sync changed the users: %d, then %d", len(before), len(after))
	}
	// The failed run is recorded: GET shows why.
	var got struct {
		State *struct {
			Running    bool            `json:"running"`
			LastError  string          `json:"lastError"`
			LastReport json.RawMessage `json:"lastReport"`
		} `json:"state"`
	}
	f.do(t, f.readOnly, "GET", id, "").json(t, &got)
	if got.State == nil || got.State.Running || !strings.Contains(got.State.LastError, "127.0.0.1:1") || string(got.State.LastReport) != "null" {
		t.Errorf("the state after a failed sync: %+v", got.State)
	}
	// The login test's body is checked before the source is tried.
	if res := f.do(t, f.super, "POST", id+"/test-login", `{"login":"ann"}`); res.status != 400 || !strings.Contains(string(res.body), "password") {
		t.Errorf("test-login without a password: %d %s", res.status, res.body)
	}
}

// TestIntegrationSyncDirgateLDAP: a source served by dirgate's own LDAP
// interface (no slapd needed): test-connection and test-login pass, the
// dry run writes nothing, the sync creates the users with the mapped
// fields, which are then read-only through the users API.
func TestIntegrationSyncDirgateLDAP(t *testing.T) {
	f := newFixture(t, api.Config{})
	settings, bindPW := dirgateLDAP(t, 3)
	res := f.do(t, f.super, "POST", integrations, integrationBody("Dirgate source", settings, `,"bindPassword":`+quoteJSON(bindPW)))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	id := integrations + "/" + idOf(t, res)
	rep, res := decodeAs[testReportJSON](t, f.do(t, f.super, "POST", id+"/test-connection", ""))
	if res.status != 200 || !rep.OK {
		t.Errorf("test-connection: %d %s", res.status, res.body)
	}
	lastStep := func(r testReportJSON) string {
		if len(r.Steps) == 0 {
			return ""
		}
		return r.Steps[len(r.Steps)-1].Name
	}
	rep, res = decodeAs[testReportJSON](t, f.do(t, f.super, "POST", id+"/test-login", `{"login":"src-2","password":"Src-password-2"}`))
	if res.status != 200 || !rep.OK || lastStep(rep) != "bind as user" {
		t.Errorf("test-login: %d %s", res.status, res.body)
	}
	rep, res = decodeAs[testReportJSON](t, f.do(t, f.super, "POST", id+"/test-login", `{"login":"src-2","password":"wrong"}`))
	if res.status != 200 || rep.OK || lastStep(rep) != "bind as user" {
		t.Errorf("test-login with a wrong password: %d %s", res.status, res.body)
	}
	sr, res := decodeAs[syncReport](t, f.do(t, f.super, "POST", id+"/test-sync", ""))
	if res.status != 200 || !sr.DryRun || sr.Created != 3 {
		t.Errorf("test-sync: %d %s", res.status, res.body)
	}
	if _, err := f.d.User(ctx, "example", "src-1"); directory.CodeOf(err) != directory.CodeNotFound {
		t.Errorf("the dry run created src-1: %v", err)
	}
	sr, res = decodeAs[syncReport](t, f.do(t, f.super, "POST", id+"/sync", ""))
	if res.status != 200 || sr.DryRun || sr.Created != 3 || len(sr.Examples["created"]) != 3 {
		t.Errorf("sync: %d %s", res.status, res.body)
	}
	u, err := f.d.User(ctx, "example", "src-3")
	if err != nil || u.Profile.FirstName != "Source3" || u.Profile.Email != "src-3@source.example" {
		t.Fatalf("src-3 after the sync: %+v %v", u, err)
	}
	res = f.do(t, f.orgAdmin, "POST", "/api/v1/users/src-3", `{"profile":{"firstName":"Changed"}}`)
	if summary, causes := apiErrorOf(t, res); res.status != 400 || len(causes) != 1 || !strings.Contains(causes[0], `"Dirgate source"`) {
		t.Errorf("changing a mapped field: %d %q %q", res.status, summary, causes)
	}
}

// TestIntegrationSyncOpenLDAP: a real sync from slapd through the API: 50
// users and their groups arrive and GET /api/v1/users lists them; a
// mapped field is then read-only through the users API (400 naming the
// integration), an unmapped one is not; a second run changes nothing; an
// unpaged integration past the server's size limit is 502 and writes
// nothing.
func TestIntegrationSyncOpenLDAP(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 50, Groups: 5, SizeLimit: 20})
	f := newFixture(t, api.Config{})
	pwJSON := `,"bindPassword":` + quoteJSON(src.BindPassword)

	// Unpaged, the server's size limit (20) stops the search: 502, nothing
	// written.
	res := f.do(t, f.super, "POST", integrations, integrationBody("Unpaged", openLDAPSettings(t, src, false), pwJSON))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	res = f.do(t, f.super, "POST", integrations+"/Unpaged/sync", "")
	if summary, _ := apiErrorOf(t, res); res.status != 502 || !strings.Contains(summary, "size limit") || !strings.Contains(summary, "turn paging on") {
		t.Errorf("an unpaged sync past the size limit: %d %s", res.status, res.body)
	}
	if us, _ := f.d.Users(ctx, "example"); len(us) != 4 {
		t.Fatalf("the failed sync wrote users: %d", len(us))
	}
	if res := f.do(t, f.super, "DELETE", integrations+"/Unpaged", ""); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}

	res = f.do(t, f.super, "POST", integrations, integrationBody("Source LDAP", openLDAPSettings(t, src, true), pwJSON))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	id := integrations + "/" + idOf(t, res)
	var owned struct {
		OwnedAttributes []string `json:"ownedAttributes"`
	}
	res.json(t, &owned)
	if strings.Join(owned.OwnedAttributes, ",") != "email,firstName,lastName,ldap-employeeNumber,title" {
		t.Errorf("owned attributes: %v", owned.OwnedAttributes)
	}

	rep, res := decodeAs[testReportJSON](t, f.do(t, f.super, "POST", id+"/test-connection", ""))
	if res.status != 200 || !rep.OK || rep.URL != src.URL {
		t.Errorf("test-connection: %d %s", res.status, res.body)
	}
	who := src.Users[7].Login
	body := `{"login":` + quoteJSON(who) + `,"password":` + quoteJSON(src.UserPassword(who)) + `}`
	rep, res = decodeAs[testReportJSON](t, f.do(t, f.super, "POST", id+"/test-login", body))
	if res.status != 200 || !rep.OK {
		t.Errorf("test-login as %s: %d %s", who, res.status, res.body)
	}

	sr, res := decodeAs[syncReport](t, f.do(t, f.super, "POST", id+"/test-sync", ""))
	if res.status != 200 || !sr.DryRun || sr.Users != 50 || sr.Created != 50 {
		t.Errorf("test-sync: %d %s", res.status, res.body)
	}
	if us, _ := f.d.Users(ctx, "example"); len(us) != 4 {
		t.Fatalf("the dry run wrote users: %d", len(us))
	}
	sr, res = decodeAs[syncReport](t, f.do(t, f.super, "POST", id+"/sync", ""))
	if res.status != 200 || sr.DryRun || sr.Users != 50 || sr.Created != 50 || sr.GroupsCreated != 5 {
		t.Fatalf("sync: %d %s", res.status, res.body)
	}

	// GET /api/v1/users lists them, with their mapped fields.
	res = f.do(t, f.readOnly, "GET", "/api/v1/users?limit=200", "")
	if res.status != 200 {
		t.Fatalf("GET /api/v1/users: %d %s", res.status, res.body)
	}
	var listed []struct {
		ID      string            `json:"id"`
		Status  string            `json:"status"`
		Profile map[string]string `json:"profile"`
	}
	res.json(t, &listed)
	byLogin := map[string]map[string]string{}
	for _, u := range listed {
		byLogin[strings.ToLower(u.Profile["login"])] = u.Profile
	}
	if len(listed) != 54 {
		t.Errorf("GET /api/v1/users lists %d users, want the fixture's 4 and the 50 synced", len(listed))
	}
	for _, want := range src.Users {
		p := byLogin[strings.ToLower(want.Login)]
		if p == nil {
			t.Errorf("%s is not listed", want.Login)
			continue
		}
		if p["firstName"] != want.GivenName || p["lastName"] != want.Surname || p["ldap-employeeNumber"] != want.EmployeeNumber {
			t.Errorf("%s: %v, want %s %s %s", want.Login, p, want.GivenName, want.Surname, want.EmployeeNumber)
		}
	}

	// A mapped field is the source's: 400 naming the integration, through
	// a partial update and a full one; an unmapped field changes.
	synced := src.Users[3]
	path := "/api/v1/users/" + url.PathEscape(synced.Login)
	full := byLogin[strings.ToLower(synced.Login)]
	full["firstName"] = "Changed"
	fullBody, _ := json.Marshal(map[string]any{"profile": full})
	for _, c := range []struct{ method, body string }{
		{"POST", `{"profile":{"firstName":"Changed"}}`},
		{"PUT", string(fullBody)}, // the whole profile as read, but firstName
	} {
		res := f.do(t, f.orgAdmin, c.method, path, c.body)
		summary, causes := apiErrorOf(t, res)
		if res.status != 400 || res.errorCode() != "E0000001" || summary != "Api validation failed: firstName" || len(causes) != 1 ||
			!strings.Contains(causes[0], `directory integration "Source LDAP"`) {
			t.Errorf("%s %s changing firstName: %d %s", c.method, path, res.status, res.body)
		}
	}
	if res := f.do(t, f.orgAdmin, "POST", path, `{"profile":{"nickName":"Nick"}}`); res.status != 200 {
		t.Errorf("changing nickName, which is not mapped: %d %s", res.status, res.body)
	}
	if u, _ := f.d.User(ctx, "example", synced.Login); u.Profile.FirstName != synced.GivenName {
		t.Errorf("firstName changed to %q", u.Profile.FirstName)
	}

	// A second run changes nothing, incremental or full; the integration
	// records its runs.
	sr, res = decodeAs[syncReport](t, f.do(t, f.super, "POST", id+"/sync", ""))
	if res.status != 200 || sr.Created+sr.Updated != 0 {
		t.Errorf("second sync: %d %s", res.status, res.body)
	}
	sr, res = decodeAs[syncReport](t, f.do(t, f.super, "POST", id+"/sync?full=true", ""))
	if res.status != 200 || sr.Incremental || sr.Created+sr.Updated != 0 || sr.Unchanged != 50 {
		t.Errorf("a full sync: %d %s", res.status, res.body)
	}
	var got struct {
		State struct {
			Running    bool   `json:"running"`
			LastError  string `json:"lastError"`
			LastReport struct {
				Unchanged int `json:"unchanged"`
			} `json:"lastReport"`
		} `json:"state"`
	}
	f.do(t, f.readOnly, "GET", id, "").json(t, &got)
	if got.State.Running || got.State.LastError != "" || got.State.LastReport.Unchanged != 50 {
		t.Errorf("the state after the runs: %+v", got.State)
	}
}

// TestIntegrationSyncRunning: while another process holds the
// integration's run lease, a sync is 409 and GET says it runs; a dry run
// is not held back.
func TestIntegrationSyncRunning(t *testing.T) {
	f := newFixture(t, api.Config{})
	settings, bindPW := dirgateLDAP(t, 2)
	res := f.do(t, f.super, "POST", integrations, integrationBody("Busy", settings, `,"bindPassword":`+quoteJSON(bindPW)))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	iid := idOf(t, res)
	id := integrations + "/" + iid
	if err := f.d.BeginRun(ctx, iid, "elsewhere:1", time.Hour); err != nil {
		t.Fatal(err)
	}
	res = f.do(t, f.super, "POST", id+"/sync", "")
	if summary, _ := apiErrorOf(t, res); res.status != 409 || res.errorCode() != "E0000001" || !strings.Contains(summary, `"Busy" is running`) {
		t.Errorf("a sync while another runs: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.readOnly, "GET", id, ""); !strings.Contains(string(res.body), `"running":true`) {
		t.Errorf("GET while it runs: %s", res.body)
	}
	if _, res := decodeAs[syncReport](t, f.do(t, f.super, "POST", id+"/test-sync", "")); res.status != 200 {
		t.Errorf("a dry run while another runs: %d %s", res.status, res.body)
	}
	if err := f.d.EndRun(ctx, iid, "elsewhere:1", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if sr, res := decodeAs[syncReport](t, f.do(t, f.super, "POST", id+"/sync", "")); res.status != 200 || sr.Created != 2 {
		t.Errorf("a sync once the other ended: %d %s", res.status, res.body)
	}
}

// TestIntegrationSyncGoesOn: a run longer than the call's wait answers
// 202 with the integration's address, goes on after the call (a second
// call meanwhile is 409), and its outcome lands in the integration's
// state. The source here is a listener that never answers, so the run
// ends when its 2 s timeout does.
func TestIntegrationSyncGoesOn(t *testing.T) {
	f := newFixture(t, api.Config{})
	addr := ldaptest.Silent(t)
	settings := `{"urls":["ldaps://` + addr + `"],"bindDN":"cn=sync,dc=example,dc=com",
	"userSearchBase":"ou=people,dc=example,dc=com","userAttribute":"uid","timeout":"2s"}`
	res := f.do(t, f.super, "POST", integrations, integrationBody("Slow", settings, `,"bindPassword":"pw"`))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	id := integrations + "/" + idOf(t, res)
	res = f.do(t, f.super, "POST", id+"/sync?wait=0", "")
	if res.status != 202 || !strings.HasSuffix(res.header.Get("Location"), id) || !strings.Contains(string(res.body), `"running":true`) {
		t.Fatalf("a sync that does not end at once: %d %q %s", res.status, res.header.Get("Location"), res.body)
	}
	if summary, _ := apiErrorOf(t, f.do(t, f.super, "POST", id+"/sync", "")); !strings.Contains(summary, "is running on this server") {
		t.Errorf("a second sync while the first goes on: %s", summary)
	}
	if res := f.do(t, f.super, "POST", id+"/sync?wait=241", ""); res.status != 400 {
		t.Errorf("wait=241: %d %s", res.status, res.body)
	}
	type runState struct {
		State struct {
			Running   bool   `json:"running"`
			LastError string `json:"lastError"`
		} `json:"state"`
	}
	var state runState
	deadline := time.Now().Add(15 * time.Second)
	for {
		state, _ = decodeAs[runState](t, f.do(t, f.readOnly, "GET", id, ""))
		if !state.State.Running || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if state.State.Running || !strings.Contains(state.State.LastError, "no TLS handshake within 2s") {
		t.Errorf("the run's outcome in the state: %+v", state.State)
	}
}
