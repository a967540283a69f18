package api_test

import (
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/api"
)

// TestOrgAdminCannotManageSuperAdmin: as in Okta, and as over LDAP, an
// ORG_ADMIN's token neither sets a SUPER_ADMIN's password, changes its
// profile, suspends nor deletes it (403 E0000006); the same token manages
// a read-only admin, and a super admin manages the super admin.
func TestOrgAdminCannotManageSuperAdmin(t *testing.T) {
	f := newFixture(t, api.Config{})
	for _, tc := range []struct{ name, method, path, body string }{
		{"a password", "POST", "/api/v1/users/super", `{"credentials":{"password":{"value":"Another-passw0rd!"}}}`},
		{"a profile", "POST", "/api/v1/users/super", `{"profile":{"title":"Demoted"}}`},
		{"a suspension", "POST", "/api/v1/users/super/lifecycle/suspend", ""},
		{"a deletion", "DELETE", "/api/v1/users/super", ""},
	} {
		res := f.do(t, f.orgAdmin, tc.method, tc.path, tc.body)
		if res.status != 403 || !strings.Contains(string(res.body), "E0000006") || !strings.Contains(string(res.body), "only a super admin") {
			t.Errorf("%s by an ORG_ADMIN: %d %s", tc.name, res.status, res.body)
		}
	}
	if res := f.do(t, f.orgAdmin, "POST", "/api/v1/users/readonly", `{"profile":{"title":"Auditor"}}`); res.status != 200 {
		t.Errorf("an ORG_ADMIN changing a read-only admin: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.super, "POST", "/api/v1/users/super", `{"profile":{"title":"Chief"}}`); res.status != 200 {
		t.Errorf("a super admin changing itself: %d %s", res.status, res.body)
	}
}
