package api_test

import (
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/api"
)

// TestOrgs: an installation token manages orgs and nothing in them; an
// org admin's token cannot manage orgs.
func TestOrgs(t *testing.T) {
	f := newFixture(t, api.Config{LDAP: api.LDAPInfo{Host: "ldap.example.com", LDAPPort: 389, LDAPSPort: 636}})
	_, inst, err := f.d.CreateInstallationToken(ctx, "provisioning")
	if err != nil {
		t.Fatal(err)
	}
	res := f.do(t, inst, "POST", "/api/dirgate/v1/orgs", `{"name":"acme","customAttributes":["employeeNumber"]}`)
	if res.status != 201 || !strings.Contains(string(res.body), `"baseDN":"dc=acme,dc=okta,dc=com"`) ||
		!strings.Contains(string(res.body), `"ldapsUrl":"ldaps://ldap.example.com:636"`) {
		t.Fatalf("create org: %d %s", res.status, res.body)
	}
	res = f.do(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"mfaSeparator":"|"}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"mfaSeparator":"|"`) || !strings.Contains(string(res.body), "employeeNumber") {
		t.Fatalf("update org LDAP settings: %d %s", res.status, res.body)
	}
	if !strings.Contains(string(res.body), `"writes":false`) {
		t.Fatalf("LDAP writes are not off by default: %s", res.body)
	}
	res = f.do(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"writes":true}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"writes":true`) || !strings.Contains(string(res.body), `"mfaSeparator":"|"`) {
		t.Fatalf("turning LDAP writes on: %d %s", res.status, res.body)
	}
	if !strings.Contains(string(res.body), `"posix":{"enabled":false}`) {
		t.Fatalf("POSIX accounts are not off by default: %s", res.body)
	}
	res = f.do(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"posix":{"enabled":true,"uidMin":20000,"uidMax":29999}}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"posix":{"enabled":true,"uidMin":20000,"uidMax":29999,"gidMin":10000,"gidMax":59999,"primaryGid":100,"home":"/home/{login}","shell":"/bin/bash"}`) {
		t.Fatalf("turning POSIX accounts on: %d %s", res.status, res.body)
	}
	res = f.do(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"posix":{"enabled":true,"home":"relative"}}`)
	if res.status != 400 || !strings.Contains(string(res.body), "absolute path") {
		t.Fatalf("a relative home template: %d %s", res.status, res.body)
	}
	if res := f.do(t, inst, "POST", "/api/dirgate/v1/orgs", `{"name":"empty"}`); res.status != 201 {
		t.Fatalf("create org: %d %s", res.status, res.body)
	}
	if res := f.do(t, inst, "DELETE", "/api/dirgate/v1/orgs/empty", ""); res.status != 204 {
		t.Fatalf("delete an empty org: %d %s", res.status, res.body)
	}
	var orgs []struct{ Name string }
	res = f.do(t, inst, "GET", "/api/dirgate/v1/orgs", "")
	res.json(t, &orgs)
	if len(orgs) != 2 {
		t.Fatalf("list orgs: %s", res.body)
	}
	defer func() {
		// Forced, an org goes with everything in it, and its admins' tokens
		// stop working.
		if res := f.do(t, inst, "DELETE", "/api/dirgate/v1/orgs/example?force=true", ""); res.status != 204 {
			t.Fatalf("forced delete: %d %s", res.status, res.body)
		}
		if res := f.do(t, f.super, "GET", "/api/v1/users", ""); res.status != 401 {
			t.Fatalf("a token of the deleted org: %d %s", res.status, res.body)
		}
	}()
	for _, tc := range []struct {
		name, token, method, path, body string
		status                          int
		code, mention                   string
	}{
		{"installation token in an org", inst, "GET", "/api/v1/users", "", 403, "E0000006", "installation token"},
		{"super admin's token on orgs", f.super, "GET", "/api/dirgate/v1/orgs", "", 403, "E0000006", "installation token"},
		{"a taken org name", inst, "POST", "/api/dirgate/v1/orgs", `{"name":"acme"}`, 400, "E0000001", "acme"},
		{"a bad org name", inst, "POST", "/api/dirgate/v1/orgs", `{"name":"no spaces"}`, 400, "E0000001", ""},
		{"an unknown org", inst, "GET", "/api/dirgate/v1/orgs/nothing", "", 404, "E0000007", "nothing"},
		{"deleting an org with users", inst, "DELETE", "/api/dirgate/v1/orgs/example", "", 400, "E0000001", "force"},
		{"a bad separator", inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"mfaSeparator":"a"}`, 400, "E0000001", "mfaSeparator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, tc.token, tc.method, tc.path, tc.body)
			if res.status != tc.status || res.errorCode() != tc.code || !strings.Contains(string(res.body), tc.mention) {
				t.Errorf("%s %s: %d %s, want %d %s mentioning %q", tc.method, tc.path, res.status, res.body, tc.status, tc.code, tc.mention)
			}
		})
	}
}
