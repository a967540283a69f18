package console_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/connector/ldapsource/ldaptest"
	"github.com/dirgate/dirgate/internal/console"
	"github.com/dirgate/dirgate/internal/directory"
)

// newIntegrationFixture is newFixture with a SUPER_ADMIN "root"
// (password root-Password-1), who may add, test and sync integrations.
func newIntegrationFixture(t *testing.T, opts ...func(*console.Config)) *fixture {
	t.Helper()
	f := newFixture(t, opts...)
	if _, err := f.d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "root"},
		Password: []byte("root-Password-1"), Roles: []string{directory.RoleSuperAdmin}}); err != nil {
		t.Fatal(err)
	}
	return f
}

const bindSecret = "Bind-Secret-Never-Shown-42"

// ldapForm is the Add LDAP directory form filled in for a directory at
// rawURL, as an admin posts it.
func ldapForm(csrf, name, rawURL string) url.Values {
	return url.Values{
		"csrf": {csrf}, "name": {name}, "defaultGroups": {""},
		"urls": {rawURL}, "startTLS": {"on"}, "caCert": {""}, "bindDN": {"cn=sync,ou=Service,dc=corp,dc=example"},
		"bindPassword": {bindSecret}, "timeout": {"5s"},
		"userSearchBase": {"ou=Staff,dc=corp,dc=example"}, "userAttribute": {"uid"}, "userSearchFilter": {""}, "loginAttribute": {""},
		"profile_email": {"mail"}, "profile_firstName": {"givenName"}, "profile_lastName": {"sn"},
		"custom_name_1": {"costCenter"}, "custom_attr_1": {"departmentNumber"}, "custom_name_2": {""}, "custom_attr_2": {""},
		"scheduledSync": {"on"}, "schedule": {"0 */1 * * *"}, "paging": {"on"}, "pageSize": {"1000"},
		"groupSearchBase": {"ou=Groups,dc=corp,dc=example"}, "groupSearchFilter": {"(objectClass=groupOfNames)"},
		"groupNameAttribute": {"cn"}, "groupMemberAttribute": {"member"}, "groupMemberForm": {""},
		"groupMapping":  {"Immuta Users=immuta_users\r\nStaff = staff"},
		"attributeSync": {"employeeNumber"}, "attributePrefix": {"ldap"},
		"externalEndpoint": {""}, "removal": {"suspend"},
	}
}

// fieldError is the error the page shows by field id (its
// field-error paragraph, linked from the input), or "".
func fieldError(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(id) + `-error">([^<]*)</p>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	if !regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*aria-describedby="[^"]*` + regexp.QuoteMeta(id) + `-error`).MatchString(page) {
		t.Errorf("the error of %s is not linked from its input (aria-describedby)", id)
	}
	return html.UnescapeString(m[1])
}

// inputValue is the value attribute of the input id, unescaped.
func inputValue(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<input[^>]* id="` + regexp.QuoteMeta(id) + `"[^>]* value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no input %s with a value in the page", id)
	}
	return html.UnescapeString(m[1])
}

// checkAccessible checks that every input, select and textarea of page
// has a label, and that every aria-describedby names elements that exist.
func checkAccessible(t *testing.T, page string) {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if ids[m[1]] {
			t.Errorf("id %s twice in the page", m[1])
		}
		ids[m[1]] = true
	}
	labels := map[string]bool{}
	for _, m := range regexp.MustCompile(`<label[^>]* for="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		labels[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<(input|select|textarea)\b([^>]*)>`).FindAllStringSubmatch(page, -1) {
		if strings.Contains(m[2], `type="hidden"`) {
			continue
		}
		id := regexp.MustCompile(` id="([^"]+)"`).FindStringSubmatch(m[2])
		if id == nil || !labels[id[1]] {
			t.Errorf("a %s without a label: %s", m[1], m[0])
		}
	}
	for _, m := range regexp.MustCompile(`aria-describedby="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("aria-describedby names %s, which is not in the page", id)
			}
		}
	}
	if strings.Count(page, "<fieldset") != strings.Count(page, "<legend>") {
		t.Errorf("%d fieldsets, %d legends", strings.Count(page, "<fieldset"), strings.Count(page, "<legend>"))
	}
}

func TestIntegrationFormRefusesUserAttributeAndFilter(t *testing.T) {
	f := newIntegrationFixture(t)
	b := f.browser(t)
	b.signIn("root", "root-Password-1")
	code, page, _ := b.get("/console/integrations/new")
	if code != 200 || !strings.Contains(page, "<legend>Credentials and options</legend>") {
		t.Fatalf("the form: %d\n%s", code, page)
	}
	checkAccessible(t, page)
	for _, legend := range []string{"Display name and default permissions", "Profile schema", "Scheduled sync", "Pagination",
		"Group sync", "Attribute sync", "External endpoint", "Removal", "Delegated authentication", "Default directory"} {
		if !strings.Contains(page, "<legend>"+legend+"</legend>") {
			t.Errorf("no fieldset %q", legend)
		}
	}
	if v := inputValue(t, page, "schedule"); v != "0 */1 * * *" {
		t.Errorf("the schedule is %q by default", v)
	}
	if v := inputValue(t, page, "pageSize"); v != "1000" {
		t.Errorf("the page size is %q by default", v)
	}

	form := ldapForm(csrfOf(t, page), "Corporate AD", "ldaps://ad.corp.example:636")
	form.Set("userSearchFilter", "(objectClass=person)")
	code, page, _ = b.post("/console/integrations", form)
	if code != http.StatusBadRequest {
		t.Fatalf("both a user attribute and a filter: %d\n%s", code, page)
	}
	msg := fieldError(t, page, "userSearchFilter")
	if !strings.Contains(msg, "not both") || !strings.Contains(msg, "unclear which users") {
		t.Errorf("the filter's error: %q\n%s", msg, page)
	}
	if e := fieldError(t, page, "userAttribute"); e != "" {
		t.Errorf("an error by the user attribute too: %q", e)
	}
	if !strings.Contains(page, `<a href="#userSearchFilter">User search filter</a>`) {
		t.Errorf("the error summary does not link to the filter:\n%s", page)
	}
	// Refilled, but for the password.
	if inputValue(t, page, "userSearchFilter") != "(objectClass=person)" || inputValue(t, page, "bindDN") != "cn=sync,ou=Service,dc=corp,dc=example" ||
		inputValue(t, page, "custom_name_1") != "costCenter" {
		t.Errorf("the form is not refilled:\n%s", page)
	}
	if strings.Contains(page, bindSecret) {
		t.Error("the refused form shows the bind password")
	}
	checkAccessible(t, page)
	if ins, _ := f.d.Integrations(ctx, "example"); len(ins) != 0 {
		t.Fatalf("a refused form created %d integrations", len(ins))
	}

	// Other refusals, each by its field.
	for _, tc := range []struct {
		field, value, errField, want string
	}{
		{"name", "", "name", "display name"},
		{"urls", "https://ad.corp.example", "urls", "not an LDAP URL"},
		{"startTLS", "", "startTLS", "StartTLS"}, // with an ldap:// URL below
		{"bindPassword", "", "bindPassword", "password"},
		{"pageSize", "many", "pageSize", "whole number"},
		{"schedule", "every hour", "schedule", "cron"},
		{"groupMapping", "nothing to map", "groupMapping", "source group=dirgate group"},
		{"externalEndpoint", "http://hr.corp.example/x", "externalEndpoint", "https://"},
		{"defaultGroups", "no-such-group", "defaultGroups", "no-such-group"},
		{"custom_name_2", "email", "customProfile", "profile field of its own"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			_, page, _ := b.get("/console/integrations/new")
			form := ldapForm(csrfOf(t, page), "Corporate AD", "ldaps://ad.corp.example:636")
			form.Set(tc.field, tc.value)
			if tc.field == "startTLS" {
				form.Set("urls", "ldap://ad.corp.example:389")
			}
			if tc.field == "custom_name_2" {
				form.Set("custom_attr_2", "mail")
			}
			code, page, _ := b.post("/console/integrations", form)
			if code != http.StatusBadRequest {
				t.Fatalf("%d\n%s", code, page)
			}
			got := ""
			if tc.errField == "customProfile" {
				if m := regexp.MustCompile(`id="customProfile-error">([^<]*)<`).FindStringSubmatch(page); m != nil {
					got = html.UnescapeString(m[1])
				}
			} else {
				got = fieldError(t, page, tc.errField)
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("the error by %s: %q, want %q in it\n%s", tc.errField, got, tc.want, page)
			}
			if strings.Contains(page, bindSecret) {
				t.Error("the refused form shows the bind password")
			}
		})
	}
	if ins, _ := f.d.Integrations(ctx, "example"); len(ins) != 0 {
		t.Fatalf("refused forms created %d integrations", len(ins))
	}
}

func TestIntegrationCreateEditDelete(t *testing.T) {
	f := newIntegrationFixture(t)
	b := f.browser(t)
	csrf := b.signIn("root", "root-Password-1")
	var pages []string
	get := func(path string) string {
		t.Helper()
		code, page, _ := b.get(path)
		if code != 200 {
			t.Fatalf("GET %s: %d\n%s", path, code, page)
		}
		pages = append(pages, page)
		return page
	}
	code, page, h := b.post("/console/integrations", ldapForm(csrf, "Corporate AD", "ldaps://ad1.corp.example:636\r\nldaps://ad2.corp.example"))
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/integrations/") {
		t.Fatalf("a valid form: %d %s\n%s", code, h.Get("Location"), page)
	}
	ins, err := f.d.Integrations(ctx, "example")
	if err != nil || len(ins) != 1 {
		t.Fatalf("integrations: %v %v", ins, err)
	}
	in := ins[0]
	if h.Get("Location") != "/console/integrations/"+in.ID || in.Name != "Corporate AD" || in.Kind != directory.KindLDAP {
		t.Fatalf("created %+v, redirected to %s", in, h.Get("Location"))
	}
	set, err := ldapsource.SettingsOf(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(set.URLs, " ") != "ldaps://ad1.corp.example:636 ldaps://ad2.corp.example" || set.UserAttribute != "uid" ||
		set.Profile["email"] != "mail" || set.Profile["custom:costCenter"] != "departmentNumber" || set.GroupMap["Immuta Users"] != "immuta_users" ||
		set.GroupMap["Staff"] != "staff" || set.Removal != ldapsource.RemoveSuspend || set.PageSize != 1000 || !set.Paging ||
		set.Schedule != "0 */1 * * *" || set.AttributePrefix != "ldap" || len(set.Attributes) != 1 {
		t.Errorf("settings: %+v", set)
	}
	if strings.Join(in.Owned, ",") != "costCenter,email,firstName,lastName,ldapemployeeNumber" {
		t.Errorf("owned: %v", in.Owned)
	}
	if pw, err := f.d.IntegrationSecret(in); err != nil || string(pw) != bindSecret {
		t.Fatalf("the stored password: %q %v", pw, err)
	}
	page = get("/console/integrations/" + in.ID)
	if !strings.Contains(page, "Added the LDAP directory Corporate AD") || !strings.Contains(page, "ldaps://ad2.corp.example") ||
		!strings.Contains(page, `action="/console/integrations/`+in.ID+`/test-connection"`) || !strings.Contains(page, "stored (encrypted; never shown)") {
		t.Errorf("the integration's page:\n%s", page)
	}
	checkAccessible(t, page)
	// The directory's refusals show by their field too: a name taken.
	code, page, _ = b.post("/console/integrations", ldapForm(csrf, "corporate ad", "ldaps://ad3.corp.example"))
	if code != http.StatusBadRequest || !strings.Contains(fieldError(t, page, "name"), "already exists") || strings.Contains(page, bindSecret) {
		t.Errorf("a name taken: %d\n%s", code, page)
	}
	page = get("/console/integrations")
	if !strings.Contains(page, `href="/console/integrations/`+in.ID+`">Corporate AD</a>`) || !strings.Contains(page, "costCenter, email") ||
		!strings.Contains(page, `href="/console/integrations/new"`) || !strings.Contains(page, `href="/console/ldap"`) {
		t.Errorf("the list:\n%s", page)
	}
	if page := get("/console/ldap"); !strings.Contains(page, `href="/console/integrations"`) {
		t.Errorf("the LDAP Interface page does not link the integrations")
	}

	// Edit: prefilled; an empty password keeps the stored one.
	page = get("/console/integrations/" + in.ID + "/edit")
	if inputValue(t, page, "name") != "Corporate AD" || inputValue(t, page, "custom_name_1") != "costCenter" ||
		!strings.Contains(page, `value="suspend" checked`) || !strings.Contains(page, "Immuta Users=immuta_users\nStaff=staff") {
		t.Errorf("the edit form is not prefilled:\n%s", page)
	}
	checkAccessible(t, page)
	form := ldapForm(csrfOf(t, page), "Corporate AD (EU)", "ldaps://ad1.corp.example:636")
	form.Set("bindPassword", "")
	form.Del("scheduledSync")
	form.Set("custom_name_1", "")
	form.Set("custom_attr_1", "")
	code, page, h = b.post("/console/integrations/"+in.ID+"/edit", form)
	if code != http.StatusSeeOther || h.Get("Location") != "/console/integrations/"+in.ID {
		t.Fatalf("edit: %d %s\n%s", code, h.Get("Location"), page)
	}
	in, _ = f.d.Integration(ctx, "example", in.ID)
	set, _ = ldapsource.SettingsOf(in)
	if in.Name != "Corporate AD (EU)" || set.Schedule != ldapsource.ScheduleManual || set.Profile["custom:costCenter"] != "" || len(set.URLs) != 1 {
		t.Errorf("after the edit: %s %+v", in.Name, set)
	}
	if pw, err := f.d.IntegrationSecret(in); err != nil || string(pw) != bindSecret {
		t.Fatalf("the password after an edit without one: %q %v", pw, err)
	}
	page = get("/console/integrations/" + in.ID)
	if !strings.Contains(page, "synced only with Sync now") {
		t.Errorf("a manual schedule is not shown as such:\n%s", page)
	}
	// A new password replaces it.
	form.Set("bindPassword", "Another-Secret-7")
	if code, page, _ := b.post("/console/integrations/"+in.ID+"/edit", form); code != http.StatusSeeOther {
		t.Fatalf("edit with a password: %d\n%s", code, page)
	}
	in, _ = f.d.Integration(ctx, "example", in.ID)
	if pw, _ := f.d.IntegrationSecret(in); string(pw) != "Another-Secret-7" {
		t.Fatalf("the password after an edit with one: %q", pw)
	}
	get("/console/integrations/" + in.ID + "/edit")
	for _, p := range pages {
		if strings.Contains(p, bindSecret) || strings.Contains(p, "Another-Secret-7") {
			t.Fatalf("a page shows the bind password:\n%s", p)
		}
	}

	// Delete.
	if code, _, h := b.post("/console/integrations/"+in.ID+"/delete", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther || h.Get("Location") != "/console/integrations" {
		t.Fatalf("delete: %d %s", code, h.Get("Location"))
	}
	if ins, _ := f.d.Integrations(ctx, "example"); len(ins) != 0 {
		t.Fatalf("%d integrations after the delete", len(ins))
	}
	if page := get("/console/integrations"); !strings.Contains(page, "Deleted the directory integration Corporate AD (EU)") || !strings.Contains(page, "No directory integrations yet") {
		t.Errorf("the list after the delete:\n%s", page)
	}
}

// addIntegration adds an integration as the CLI would.
func addLDAPIntegration(t *testing.T, d *directory.Directory, name string, set *ldapsource.Settings, pw string) *directory.Integration {
	t.Helper()
	if err := set.Normalize(); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	in, err := d.CreateIntegration(ctx, "example", directory.IntegrationInput{Name: name, Kind: directory.KindLDAP, Settings: raw,
		Owned: ldapsource.Owned(set), Secret: []byte(pw)})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestIntegrationReadOnlyAdmins(t *testing.T) {
	f := newIntegrationFixture(t)
	in := addLDAPIntegration(t, f.d, "Corporate AD", &ldapsource.Settings{URLs: []string{"ldaps://127.0.0.1:1"}, BindDN: "cn=sync,dc=corp",
		UserBase: "dc=corp", UserAttribute: "uid"}, bindSecret)
	for _, who := range []string{"viewer", "admin"} { // READ_ONLY_ADMIN, ORG_ADMIN
		t.Run(who, func(t *testing.T) {
			b := f.browser(t)
			csrf := b.signIn(who, who+"-Password-1")
			for _, path := range []string{"/console/integrations", "/console/integrations/" + in.ID} {
				code, page, _ := b.get(path)
				if code != 200 || !strings.Contains(page, "Corporate AD") || !strings.Contains(page, "takes a SUPER_ADMIN") {
					t.Fatalf("%s: %d\n%s", path, code, page)
				}
				if strings.Contains(page, `action="/console/integrations`) || strings.Contains(page, "/console/integrations/new") ||
					strings.Contains(page, "/edit\"") || strings.Count(page, "<form") != 1 { // signing out
					t.Errorf("%s offers changes to a %s:\n%s", path, who, page)
				}
				if strings.Contains(page, bindSecret) {
					t.Errorf("%s shows the bind password", path)
				}
			}
			if code, page, _ := b.get("/console/integrations/" + in.ID); !strings.Contains(page, "ldaps://127.0.0.1:1") || code != 200 {
				t.Errorf("the settings are not shown: %d\n%s", code, page)
			}
			for _, path := range []string{"/console/integrations/new", "/console/integrations/" + in.ID + "/edit"} {
				if code, _, _ := b.get(path); code != http.StatusForbidden {
					t.Errorf("GET %s as %s: %d, want 403", path, who, code)
				}
			}
			for _, path := range []string{"/console/integrations", "/console/integrations/" + in.ID + "/edit", "/console/integrations/" + in.ID + "/delete",
				"/console/integrations/" + in.ID + "/test-connection", "/console/integrations/" + in.ID + "/test-login",
				"/console/integrations/" + in.ID + "/test-sync", "/console/integrations/" + in.ID + "/sync"} {
				if code, _, _ := b.post(path, ldapForm(csrf, "Taken over", "ldaps://evil.example")); code != http.StatusForbidden {
					t.Errorf("POST %s as %s: %d, want 403", path, who, code)
				}
			}
		})
	}
	if ins, _ := f.d.Integrations(ctx, "example"); len(ins) != 1 || ins[0].Name != "Corporate AD" {
		t.Fatalf("integrations after the refused posts: %v", ins)
	}
	// Without the CSRF token a SUPER_ADMIN's post does nothing either.
	b := f.browser(t)
	b.signIn("root", "root-Password-1")
	if code, _, _ := b.post("/console/integrations/"+in.ID+"/delete", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("delete without a CSRF token: %d", code)
	}
}

func TestIntegrationTestConnectionFailure(t *testing.T) {
	f := newIntegrationFixture(t)
	in := addLDAPIntegration(t, f.d, "Nowhere", &ldapsource.Settings{URLs: []string{"ldaps://127.0.0.1:1"}, BindDN: "cn=sync,dc=corp",
		UserBase: "dc=corp", UserAttribute: "uid", Timeout: ldapsource.Duration(5e9)}, bindSecret)
	b := f.browser(t)
	csrf := b.signIn("root", "root-Password-1")
	code, page, _ := b.post("/console/integrations/"+in.ID+"/test-connection", url.Values{"csrf": {csrf}})
	if code != 200 {
		t.Fatalf("test connection: %d\n%s", code, page)
	}
	if !regexp.MustCompile(`(?s)<li class="fail">\s*<span class="step-result">Failed</span>\s*<strong>Connect</strong> <code>ldaps://127.0.0.1:1</code>`).MatchString(page) ||
		!strings.Contains(page, "connect: 127.0.0.1:1: connection refused") || !strings.Contains(page, "Failed at step Connect") {
		t.Errorf("the report does not show the connect failure:\n%s", page)
	}
	checkAccessible(t, page)
	// Test user login without a login says what is missing; with one it
	// fails at the same step.
	_, page, _ = b.post("/console/integrations/"+in.ID+"/test-login", url.Values{"csrf": {csrf}})
	if !strings.Contains(page, "Give the login of a user") {
		t.Errorf("test login without a login:\n%s", page)
	}
	_, page, _ = b.post("/console/integrations/"+in.ID+"/test-login", url.Values{"csrf": {csrf}, "login": {"alice"}, "password": {"Alice-Secret-9"}})
	if !strings.Contains(page, "connection refused") || inputValue(t, page, "test-login") != "alice" || strings.Contains(page, "Alice-Secret-9") {
		t.Errorf("test login:\n%s", page)
	}
	// A sync that cannot connect says why, and records the failed run.
	_, page, _ = b.post("/console/integrations/"+in.ID+"/sync", url.Values{"csrf": {csrf}})
	if !strings.Contains(page, `id="result-error"`) || !strings.Contains(page, "connection refused") {
		t.Errorf("sync now:\n%s", page)
	}
	_, page, _ = b.get("/console/integrations")
	if !strings.Contains(page, `<span class="outcome failure">Failed</span>`) {
		t.Errorf("the list does not show the failed run:\n%s", page)
	}
}

// TestIntegrationSyncFromSlapd: an integration added with the form for
// the slapd fixture passes its tests; the dry run shows the 30 users it
// would create and creates none; Sync now creates them.
func TestIntegrationSyncFromSlapd(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 30, Groups: 3})
	f := newIntegrationFixture(t)
	ca, err := os.ReadFile(src.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser(t)
	csrf := b.signIn("root", "root-Password-1")
	form := ldapForm(csrf, "Source LDAP", src.URL)
	form.Set("caCert", string(ca))
	form.Set("bindDN", src.BindDN)
	form.Set("bindPassword", src.BindPassword)
	form.Set("userSearchBase", src.UsersBase)
	form.Set("userAttribute", src.LoginAttr)
	form.Set("custom_name_1", "")
	form.Set("custom_attr_1", "")
	form.Set("groupSearchBase", src.GroupsBase)
	form.Set("groupMapping", "")
	form.Set("attributePrefix", "ldap")
	form.Set("removal", "deactivate")
	code, page, h := b.post("/console/integrations", form)
	if code != http.StatusSeeOther {
		t.Fatalf("add: %d\n%s", code, page)
	}
	path := h.Get("Location")
	// A local user with a source user's login: skipped, until migrated.
	local := src.Users[1]
	if _, err := f.d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: local.Login, FirstName: "Local", LastName: "User"}}); err != nil {
		t.Fatal(err)
	}
	var pages []string
	post := func(action string, form url.Values) string {
		t.Helper()
		form.Set("csrf", csrf)
		code, page, _ := b.post(path+"/"+action, form)
		if code != 200 {
			t.Fatalf("%s: %d\n%s", action, code, page)
		}
		pages = append(pages, page)
		return page
	}
	page = post("test-connection", url.Values{})
	if !strings.Contains(page, "Passed, with "+src.URL) || strings.Count(page, `<li class="ok">`) != 3 {
		t.Errorf("test connection:\n%s", page)
	}
	u := src.Users[5]
	page = post("test-login", url.Values{"login": {u.Login}, "password": {src.UserPassword(u.Login)}})
	if !strings.Contains(page, "Passed") || !strings.Contains(page, "bound as "+html.EscapeString(u.DN)) {
		t.Errorf("test login of %s:\n%s", u.Login, page)
	}
	page = post("test-login", url.Values{"login": {u.Login}, "password": {"wrong-Password-1"}})
	if !strings.Contains(page, "Failed at step Bind as user") {
		t.Errorf("test login with a wrong password:\n%s", page)
	}

	page = post("test-sync", url.Values{})
	if !strings.Contains(page, `<td id="dry-created">29</td>`) || !strings.Contains(page, `<td id="dry-users">30</td>`) ||
		!strings.Contains(page, `<td id="dry-groupsCreated">3</td>`) || !strings.Contains(page, "nothing was written") {
		t.Errorf("the dry run does not show 29 users to create:\n%s", page)
	}
	if !strings.Contains(page, "taken by a local user") {
		t.Errorf("the dry run does not say why %s is skipped:\n%s", local.Login, page)
	}
	// The migration's preview, then the migration: 29 created, 1 migrated.
	migrate := url.Values{"adopt": {"local"}, "adoptBy": {"login"}}
	page = post("test-sync", migrate)
	if !strings.Contains(page, "Preview the migration") || !strings.Contains(page, `<td id="dry-adopted">1</td>`) || !strings.Contains(page, `<td id="dry-created">29</td>`) {
		t.Errorf("the migration's preview:\n%s", page)
	}
	if !strings.Contains(page, `<option value="local">Local users`) || !strings.Contains(page, `formaction="`+path+`/test-sync"`) {
		t.Errorf("the page has no Migrate users form:\n%s", page)
	}
	if !strings.Contains(page, html.EscapeString(src.Users[0].Login)) {
		t.Errorf("the dry run shows no examples:\n%s", page)
	}
	for _, su := range src.Users {
		if _, err := f.d.User(ctx, "example", su.Login); err == nil && su.Login != local.Login {
			t.Fatalf("the dry run created %s", su.Login)
		}
	}

	if got, _ := f.d.User(ctx, "example", local.Login); got.Profile.FirstName != "Local" {
		t.Fatalf("the preview changed %s: %+v", local.Login, got.Profile)
	}
	page = post("sync", migrate)
	if !strings.Contains(page, `<td id="sync-created">29</td>`) || !strings.Contains(page, `<td id="sync-adopted">1</td>`) || strings.Contains(page, `id="result-error"`) {
		t.Errorf("migrate users:\n%s", page)
	}
	for _, su := range src.Users {
		got, err := f.d.User(ctx, "example", su.Login)
		if err != nil {
			t.Fatalf("%s after Sync now: %v", su.Login, err)
		}
		if got.Profile.FirstName != su.GivenName || got.Profile.Custom["ldapemployeeNumber"] != su.EmployeeNumber {
			t.Errorf("%s: %+v", su.Login, got.Profile)
		}
	}
	// A synced user's page shows the mapped fields read-only, naming the
	// integration; a forced change is refused by the field.
	synced, err := f.d.User(ctx, "example", src.Users[0].Login)
	if err != nil {
		t.Fatal(err)
	}
	_, person, _ := b.get("/console/people/" + synced.ID)
	if !regexp.MustCompile(`id="firstName"[^>]* readonly aria-describedby="firstName-owner"`).MatchString(person) ||
		!strings.Contains(person, "Kept by the directory integration Source LDAP") || !strings.Contains(person, "the directory integration Source LDAP</dd>") ||
		regexp.MustCompile(`id="title"[^>]* readonly`).MatchString(person) {
		t.Errorf("the synced user's page does not show the mapped fields read-only:\n%s", person)
	}
	code, person, _ = b.post("/console/people/"+synced.ID+"/profile", url.Values{"csrf": {csrf}, "login": {synced.Profile.Login},
		"email": {synced.Profile.Email}, "firstName": {"Forced"}, "lastName": {synced.Profile.LastName}, "title": {""}, "department": {""}})
	if code != http.StatusBadRequest || !strings.Contains(fieldError(t, person, "firstName"), `directory integration "Source LDAP"`) {
		t.Errorf("a forced change of a mapped field: %d %q", code, fieldError(t, person, "firstName"))
	}
	if !strings.Contains(page, `id="last-run"`) || !strings.Contains(page, "29 created") {
		t.Errorf("the last run is not shown:\n%s", page)
	}
	_, list, _ := b.get("/console/integrations")
	if !strings.Contains(list, `<span class="outcome success">OK</span>`) {
		t.Errorf("the list does not show the run:\n%s", list)
	}
	page = post("test-sync", url.Values{})
	if !strings.Contains(page, `<td id="dry-created">0</td>`) || !strings.Contains(page, `<td id="dry-updated">0</td>`) ||
		!strings.Contains(page, `<td id="dry-deactivated">0</td>`) {
		t.Errorf("a dry run after the sync:\n%s", page)
	}
	// A full run: every user read, nothing to change.
	page = post("sync", url.Values{"full": {"on"}})
	if !strings.Contains(page, "<h2 id=\"result-title\">Full sync</h2>") || !strings.Contains(page, `<td id="sync-users">30</td>`) ||
		!strings.Contains(page, `<td id="sync-unchanged">30</td>`) {
		t.Errorf("a full sync:\n%s", page)
	}
	pages = append(pages, list)
	for _, p := range pages {
		if strings.Contains(p, src.BindPassword) || strings.Contains(p, src.UserPassword(u.Login)) {
			t.Fatalf("a page shows a password:\n%s", p)
		}
	}
}

// TestIntegrationSyncGoesOn: Sync now of a run longer than the page's
// wait says the run goes on, Last run shows it running, and once it ends
// (here: a source that accepts and never answers, so its 2 s timeout)
// the page shows how.
func TestIntegrationSyncGoesOn(t *testing.T) {
	f := newIntegrationFixture(t, func(c *console.Config) { c.SyncWait = 50 * time.Millisecond })
	addr := ldaptest.Silent(t)
	b := f.browser(t)
	csrf := b.signIn("root", "root-Password-1")
	form := ldapForm(csrf, "Slow LDAP", "ldaps://"+addr)
	form.Set("startTLS", "")
	form.Set("timeout", "2s")
	code, page, h := b.post("/console/integrations", form)
	if code != http.StatusSeeOther {
		t.Fatalf("add: %d\n%s", code, page)
	}
	path := h.Get("Location")
	code, page, _ = b.post(path+"/sync", url.Values{"csrf": {csrf}})
	if code != 200 || !strings.Contains(page, `id="result-running"`) || !strings.Contains(page, "Running since") {
		t.Fatalf("sync now of a long run: %d\n%s", code, page)
	}
	if _, page, _ = b.post(path+"/sync", url.Values{"csrf": {csrf}}); !strings.Contains(page, "is running on this server") {
		t.Errorf("a second Sync now while the first goes on:\n%s", page)
	}
	deadline := time.Now().Add(15 * time.Second)
	for strings.Contains(page, "Running since") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		_, page, _ = b.get(path)
	}
	if !strings.Contains(page, `<span class="outcome failure">Failed</span>`) || !strings.Contains(page, "no TLS handshake within 2s") {
		t.Errorf("the run's end under Last run:\n%s", page)
	}
}
