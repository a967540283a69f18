package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/api"
)

// TestNestedGroups: /api/dirgate/v1/groups/{id}/groups and /parents put
// groups in groups, list them both ways in GET /api/v1/groups/{id}'s
// shape, and refuse cycles, a group in itself and unknown groups, in
// Okta's error shape.
func TestNestedGroups(t *testing.T) {
	f := newFixture(t, api.Config{})
	ids := map[string]string{}
	for _, name := range []string{"all", "eng", "backend", "ops"} {
		res := f.do(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"`+name+`"}}`)
		if res.status != 200 {
			t.Fatalf("create group %s: %d %s", name, res.status, res.body)
		}
		var g struct{ ID string }
		res.json(t, &g)
		ids[name] = g.ID
	}
	const base = "/api/dirgate/v1/groups/"
	names := func(t *testing.T, path string) []string {
		t.Helper()
		res := f.do(t, f.readOnly, "GET", path, "")
		if res.status != 200 {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		var gs []struct {
			Profile struct{ Name string }
		}
		res.json(t, &gs)
		out := []string{}
		for _, g := range gs {
			out = append(out, g.Profile.Name)
		}
		return out
	}

	// backend in eng in all (by id and by name), ops in all too.
	for _, p := range []string{base + ids["all"] + "/groups/eng", base + "eng/groups/" + ids["backend"], base + "all/groups/ops"} {
		if res := f.do(t, f.orgAdmin, "PUT", p, ""); res.status != 204 || len(res.body) != 0 {
			t.Fatalf("PUT %s: %d %s", p, res.status, res.body)
		}
	}
	if res := f.do(t, f.orgAdmin, "PUT", base+"all/groups/eng", ""); res.status != 204 {
		t.Fatalf("PUT again: %d %s", res.status, res.body)
	}
	if got := strings.Join(names(t, base+"all/groups"), ","); got != "eng,ops" {
		t.Errorf("groups in all: %s, want eng,ops", got)
	}
	if got := strings.Join(names(t, base+ids["backend"]+"/parents"), ","); got != "eng" {
		t.Errorf("parents of backend: %s, want eng", got)
	}
	if got := strings.Join(names(t, base+"ops/parents"), ","); got != "all" {
		t.Errorf("parents of ops: %s, want all", got)
	}
	if got := names(t, base+"all/parents"); len(got) != 0 {
		t.Errorf("parents of all: %v, want none", got)
	}

	// The items are GET /api/v1/groups/{id}'s groups, byte for byte.
	one := f.do(t, f.readOnly, "GET", "/api/v1/groups/eng", "")
	list := f.do(t, f.readOnly, "GET", base+"backend/parents", "")
	var items []json.RawMessage
	list.json(t, &items)
	if len(items) != 1 || string(items[0]) != string(one.body) {
		t.Errorf("a listed group is not GET /api/v1/groups/{id}'s:\n%s\n%s", list.body, one.body)
	}
	// The users API still lists users only.
	if res := f.do(t, f.readOnly, "GET", "/api/v1/groups/all/users", ""); res.status != 200 || string(res.body) != "[]" {
		t.Errorf("users of all: %d %s, want []", res.status, res.body)
	}

	for _, tc := range []struct {
		name, token, method, path string
		status                    int
		code                      string
		mention                   []string
	}{
		{"a cycle", f.orgAdmin, "PUT", base + "backend/groups/eng", 400, "E0000001", []string{"eng cannot be a member of backend", "cycles"}},
		{"a cycle through a group", f.orgAdmin, "PUT", base + ids["backend"] + "/groups/" + ids["all"], 400, "E0000001", []string{"all cannot be a member of backend", "cycles"}},
		{"itself", f.orgAdmin, "PUT", base + "eng/groups/eng", 400, "E0000001", []string{"eng", "itself"}},
		{"an unknown parent", f.orgAdmin, "PUT", base + "nogroup/groups/eng", 404, "E0000007", []string{"nogroup"}},
		{"an unknown child", f.orgAdmin, "PUT", base + "eng/groups/nogroup", 404, "E0000007", []string{"nogroup"}},
		{"removing an unknown child", f.orgAdmin, "DELETE", base + "eng/groups/nogroup", 404, "E0000007", []string{"nogroup"}},
		{"listing an unknown group", f.readOnly, "GET", base + "nogroup/groups", 404, "E0000007", []string{"nogroup"}},
		{"the parents of an unknown group", f.readOnly, "GET", base + "nogroup/parents", 404, "E0000007", []string{"nogroup"}},
		{"a read-only admin puts", f.readOnly, "PUT", base + "eng/groups/all", 403, "E0000006", nil},
		{"a read-only admin removes", f.readOnly, "DELETE", base + "all/groups/eng", 403, "E0000006", nil},
		{"no token", "", "GET", base + "all/groups", 401, "E0000011", nil},
		{"POST", f.orgAdmin, "POST", base + "all/groups/eng", 405, "E0000022", []string{"PUT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, tc.token, tc.method, tc.path, "")
			if res.status != tc.status || res.errorCode() != tc.code {
				t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, res.status, res.body, tc.status, tc.code)
			}
			for _, m := range tc.mention {
				if !strings.Contains(string(res.body), m) {
					t.Errorf("%s %s: %s does not mention %q", tc.method, tc.path, res.body, m)
				}
			}
		})
	}
	// Nothing refused changed anything.
	if got := strings.Join(names(t, base+"backend/groups"), ","); got != "" {
		t.Errorf("groups in backend after the refusals: %s", got)
	}
	if got := strings.Join(names(t, base+"eng/groups"), ","); got != "backend" {
		t.Errorf("groups in eng after the refusals: %s", got)
	}
	if got := strings.Join(names(t, base+"all/parents"), ","); got != "" {
		t.Errorf("parents of all after the refusals: %s", got)
	}

	// Remove, twice (204 both times), and the lists follow.
	for range 2 {
		if res := f.do(t, f.orgAdmin, "DELETE", base+"all/groups/eng", ""); res.status != 204 {
			t.Fatalf("DELETE: %d %s", res.status, res.body)
		}
	}
	if got := strings.Join(names(t, base+"all/groups"), ","); got != "ops" {
		t.Errorf("groups in all after removing eng: %s, want ops", got)
	}
	if got := strings.Join(names(t, base+"eng/parents"), ","); got != "" {
		t.Errorf("parents of eng after removing it from all: %s", got)
	}
	// With the link gone there is no cycle: what was refused is allowed.
	if res := f.do(t, f.orgAdmin, "PUT", base+"backend/groups/all", ""); res.status != 204 {
		t.Fatalf("all in backend once no cycle: %d %s", res.status, res.body)
	}
	if got := strings.Join(names(t, base+"all/parents"), ","); got != "backend" {
		t.Errorf("parents of all: %s, want backend", got)
	}
}

// TestOrgTransitiveMemberOf: PUT /api/dirgate/v1/orgs/{name}/ldap sets
// transitiveMemberOf as it does writes, each leaving the other alone.
func TestOrgTransitiveMemberOf(t *testing.T) {
	f := newFixture(t, api.Config{})
	_, inst, err := f.d.CreateInstallationToken(ctx, "provisioning")
	if err != nil {
		t.Fatal(err)
	}
	ldap := func(t *testing.T, res *response) (writes, transitive bool) {
		t.Helper()
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		var o struct {
			LDAP map[string]any `json:"ldap"`
		}
		res.json(t, &o)
		w, ok1 := o.LDAP["writes"].(bool)
		tr, ok2 := o.LDAP["transitiveMemberOf"].(bool)
		if !ok1 || !ok2 {
			t.Fatalf("ldap has no writes or transitiveMemberOf boolean: %s", res.body)
		}
		return w, tr
	}
	const path = "/api/dirgate/v1/orgs/example/ldap"
	if w, tr := ldap(t, f.do(t, inst, "GET", "/api/dirgate/v1/orgs/example", "")); w || tr {
		t.Errorf("defaults: writes %v, transitiveMemberOf %v; want both false", w, tr)
	}
	if w, tr := ldap(t, f.do(t, inst, "PUT", path, `{"transitiveMemberOf":true}`)); w || !tr {
		t.Errorf("transitiveMemberOf on: writes %v, transitiveMemberOf %v", w, tr)
	}
	if w, tr := ldap(t, f.do(t, inst, "PUT", path, `{"writes":true}`)); !w || !tr {
		t.Errorf("writes on: writes %v, transitiveMemberOf %v", w, tr)
	}
	if w, tr := ldap(t, f.do(t, inst, "GET", "/api/dirgate/v1/orgs/example", "")); !w || !tr {
		t.Errorf("read back: writes %v, transitiveMemberOf %v", w, tr)
	}
	if w, tr := ldap(t, f.do(t, inst, "PUT", path, `{"transitiveMemberOf":false,"writes":false}`)); w || tr {
		t.Errorf("both off: writes %v, transitiveMemberOf %v", w, tr)
	}
	if o, err := f.d.Org(ctx, "example"); err != nil || o.LDAP.TransitiveMemberOf || o.LDAP.Writes {
		t.Errorf("the directory's org: %+v, %v", o, err)
	}
	if res := f.do(t, inst, "PUT", path, `{"transitiveMemberOf":"yes"}`); res.status != 400 || res.errorCode() != "E0000001" ||
		!strings.Contains(string(res.body), "transitiveMemberOf") {
		t.Errorf("a string: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.super, "PUT", path, `{"transitiveMemberOf":true}`); res.status != 403 {
		t.Errorf("an org admin's token: %d %s", res.status, res.body)
	}
}
