package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/directory"
)

func TestRoles(t *testing.T) {
	f := newFixture(t)
	if _, err := f.d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "root"},
		Password: []byte("root-Password-1"), Roles: []string{directory.RoleSuperAdmin}}); err != nil {
		t.Fatal(err)
	}
	carol, _ := f.d.User(ctx, "example", "carol")

	// An org admin sees the roles page but cannot assign.
	b := f.browser(t)
	csrf := b.signIn("admin", "admin-Password-1")
	code, page, _ := b.get("/console/roles")
	if code != 200 || !strings.Contains(page, "ORG_ADMIN (1)") || !strings.Contains(page, ">admin</a>") {
		t.Fatalf("roles: %d\n%s", code, page)
	}
	if _, page, _ = b.get("/console/people/" + carol.ID); strings.Contains(page, `action="/console/people/`+carol.ID+`/roles"`) {
		t.Errorf("an org admin sees the role form")
	}
	if code, _, _ := b.post("/console/people/"+carol.ID+"/roles", url.Values{"csrf": {csrf}, "role": {"SUPER_ADMIN"}}); code != http.StatusForbidden {
		t.Fatalf("an org admin assigning SUPER_ADMIN: %d", code)
	}

	// A super admin assigns and removes.
	s := f.browser(t)
	scsrf := s.signIn("root", "root-Password-1")
	if code, _, _ := s.post("/console/people/"+carol.ID+"/roles", url.Values{"csrf": {scsrf}, "role": {"READ_ONLY_ADMIN"}}); code != http.StatusSeeOther {
		t.Fatalf("assign: %d", code)
	}
	if u, _ := f.d.User(ctx, "example", "carol"); len(u.Roles) != 1 || u.Roles[0] != directory.RoleReadOnlyAdmin {
		t.Fatalf("carol's roles: %v", u.Roles)
	}
	if code, _, _ := s.post("/console/people/"+carol.ID+"/roles/READ_ONLY_ADMIN/remove", url.Values{"csrf": {scsrf}}); code != http.StatusSeeOther {
		t.Fatalf("remove: %d", code)
	}
	if u, _ := f.d.User(ctx, "example", "carol"); len(u.Roles) != 0 {
		t.Fatalf("carol's roles after removing: %v", u.Roles)
	}
}
