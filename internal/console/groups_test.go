package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestGroups(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	csrf := b.signIn("admin", "admin-Password-1")

	// A create refused for its field says so next to it.
	code, page, _ := b.post("/console/groups", url.Values{"csrf": {csrf}, "name": {" "}})
	if code != http.StatusBadRequest || !strings.Contains(page, `id="name-error"`) || !strings.Contains(page, "group name is required") {
		t.Fatalf("create without a name: %d\n%s", code, page)
	}
	code, _, h := b.post("/console/groups", url.Values{"csrf": {csrf}, "name": {"ops"}, "description": {"Operations"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/groups/00g") {
		t.Fatalf("create: %d %s", code, h.Get("Location"))
	}
	gpath := h.Get("Location")
	code, page, _ = b.post("/console/groups", url.Values{"csrf": {csrf}, "name": {"OPS"}})
	if code != http.StatusBadRequest || !strings.Contains(page, "already exists") {
		t.Fatalf("a taken name: %d\n%s", code, page)
	}

	// Find people, add them, remove one.
	code, page, _ = b.get(gpath + "?find=car")
	if code != 200 || !strings.Contains(page, `aria-label="Add carol"`) {
		t.Fatalf("find car: %d\n%s", code, page)
	}
	for _, login := range []string{"carol", "viewer"} {
		if code, _, _ := b.post(gpath+"/members", url.Values{"csrf": {csrf}, "login": {login}}); code != http.StatusSeeOther {
			t.Fatalf("add %s: %d", login, code)
		}
	}
	code, page, _ = b.post(gpath+"/members", url.Values{"csrf": {csrf}, "login": {"nobody"}})
	if code != http.StatusBadRequest || !strings.Contains(page, `id="login-error"`) {
		t.Fatalf("add nobody: %d\n%s", code, page)
	}
	ms, err := f.d.GroupMembers(ctx, "example", "ops")
	if err != nil || len(ms) != 2 {
		t.Fatalf("members: %d, %v", len(ms), err)
	}
	viewer, _ := f.d.User(ctx, "example", "viewer")
	if code, _, _ := b.post(gpath+"/members/"+viewer.ID+"/remove", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("remove: %d", code)
	}
	_, page, _ = b.get(gpath)
	if !strings.Contains(page, "Members (1)") || !strings.Contains(page, ">carol</a>") || !strings.Contains(page, "Removed from the group.") {
		t.Fatalf("the group after removing viewer:\n%s", page)
	}

	// Rename, then delete.
	if code, _, _ := b.post(gpath, url.Values{"csrf": {csrf}, "name": {"operations"}, "description": {"Ops"}}); code != http.StatusSeeOther {
		t.Fatalf("rename: %d", code)
	}
	if _, page, _ = b.get("/console/groups?q=oper"); !strings.Contains(page, ">operations</a>") {
		t.Fatalf("groups q=oper:\n%s", page)
	}
	if code, _, _ := b.post(gpath+"/delete", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	if code, _, _ := b.get(gpath); code != http.StatusNotFound {
		t.Fatalf("a deleted group's page: %d", code)
	}

	// A read-only admin sees the groups and no forms, and cannot post.
	rb := f.browser(t)
	rcsrf := rb.signIn("viewer", "viewer-Password-1")
	if _, page, _ = rb.get("/console/groups"); strings.Contains(page, "Create group") {
		t.Fatalf("a read-only admin sees the create form:\n%s", page)
	}
	if code, _, _ := rb.post("/console/groups", url.Values{"csrf": {rcsrf}, "name": {"x"}}); code != http.StatusForbidden {
		t.Fatalf("create as a read-only admin: %d", code)
	}
}
