package console_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/directory"
)

// TestNestedGroups: a group's page lists the groups in it and the groups
// it is in; an admin who may write adds one from the org's groups and
// removes it, and a cycle or the group itself is refused next to the form.
func TestNestedGroups(t *testing.T) {
	f := newFixture(t)
	ids := map[string]string{}
	for _, name := range []string{"all", "eng", "solo"} {
		g, err := f.d.CreateGroup(ctx, "example", directory.GroupInput{Name: name, Description: "The " + name + " group"})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = g.ID
	}
	all, eng := "/console/groups/"+ids["all"], "/console/groups/"+ids["eng"]
	b := f.browser(t)
	csrf := b.signIn("admin", "admin-Password-1")

	// The form offers the org's other groups.
	code, page, _ := b.get(all)
	if code != 200 || !strings.Contains(page, "Groups in this group (0)") || !strings.Contains(page, "Member of (0)") ||
		!strings.Contains(page, `<option value="`+ids["eng"]+`">eng</option>`) || strings.Contains(page, `<option value="`+ids["all"]+`"`) {
		t.Fatalf("all's page: %d\n%s", code, page)
	}

	// Add eng to all: listed there, and all is listed on eng's page.
	code, _, h := b.post(all+"/groups", url.Values{"csrf": {csrf}, "group": {ids["eng"]}})
	if code != http.StatusSeeOther || h.Get("Location") != all {
		t.Fatalf("add eng to all: %d %s", code, h.Get("Location"))
	}
	_, page, _ = b.get(all)
	if !strings.Contains(page, "Groups in this group (1)") || !strings.Contains(page, `<a href="`+eng+`">eng</a>`) ||
		!strings.Contains(page, "Added group eng.") || !strings.Contains(page, `aria-label="Remove group eng"`) ||
		strings.Contains(page, `<option value="`+ids["eng"]+`"`) {
		t.Fatalf("all's page after adding eng:\n%s", page)
	}
	_, page, _ = b.get(eng)
	if !strings.Contains(page, "Member of (1)") || !strings.Contains(page, `<a href="`+all+`">all</a>`) {
		t.Fatalf("eng's page after adding it to all:\n%s", page)
	}
	// By name, a second time: nothing changes.
	if code, _, _ := b.post(all+"/groups", url.Values{"csrf": {csrf}, "group": {"ENG"}}); code != http.StatusSeeOther {
		t.Fatalf("add eng again: %d", code)
	}
	if _, page, _ = b.get(all); !strings.Contains(page, "Group eng was already in this group.") {
		t.Fatalf("all's page after adding eng again:\n%s", page)
	}

	// Refusals, next to the form, with the group asked for still chosen.
	for _, tc := range []struct {
		name, path, group, msg string
	}{
		{"a cycle", eng, ids["all"], "group all cannot be a member of eng: eng is already in all, and groups do not form cycles"},
		{"itself", eng, ids["eng"], "group eng cannot be a member of itself"},
		{"an unknown group", eng, "nogroup", "No group named nogroup."},
		{"no group", eng, " ", "Choose the group to add."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, page, _ := b.post(tc.path+"/groups", url.Values{"csrf": {csrf}, "group": {tc.group}})
			if code != http.StatusBadRequest || !strings.Contains(page, `<p class="field-error" id="group-error">`+html.EscapeString(tc.msg)+`</p>`) ||
				!strings.Contains(page, `aria-describedby="group-error"`) {
				t.Fatalf("%d\n%s", code, page)
			}
		})
	}
	if _, page, _ := b.post(eng+"/groups", url.Values{"csrf": {csrf}, "group": {ids["all"]}}); !strings.Contains(page, `<option value="`+ids["all"]+`" selected>all</option>`) {
		t.Errorf("the refused group is not chosen again:\n%s", page)
	}
	if gs, err := f.d.ChildGroups(ctx, "example", "eng"); err != nil || len(gs) != 0 {
		t.Fatalf("groups in eng after the refusals: %v, %v", gs, err)
	}
	// Without the CSRF token, nothing; an unknown page group is a 404.
	if code, _, _ := b.post(eng+"/groups", url.Values{"group": {ids["solo"]}}); code != http.StatusForbidden {
		t.Fatalf("add without the CSRF token: %d", code)
	}
	if code, _, _ := b.post("/console/groups/00gnothing/groups", url.Values{"csrf": {csrf}, "group": {ids["solo"]}}); code != http.StatusNotFound {
		t.Fatalf("add to an unknown group: %d", code)
	}

	// A read-only admin sees the lists, but no form and no remove button,
	// and cannot post.
	rb := f.browser(t)
	rcsrf := rb.signIn("viewer", "viewer-Password-1")
	_, page, _ = rb.get(all)
	if !strings.Contains(page, `<a href="`+eng+`">eng</a>`) || strings.Contains(page, "Add a group") || strings.Contains(page, "Remove group") {
		t.Fatalf("all's page for a read-only admin:\n%s", page)
	}
	if code, _, _ := rb.post(all+"/groups/"+ids["eng"]+"/remove", url.Values{"csrf": {rcsrf}}); code != http.StatusForbidden {
		t.Fatalf("remove as a read-only admin: %d", code)
	}
	if code, _, _ := rb.post(all+"/groups", url.Values{"csrf": {rcsrf}, "group": {ids["solo"]}}); code != http.StatusForbidden {
		t.Fatalf("add as a read-only admin: %d", code)
	}

	// Remove eng from all.
	if code, _, h := b.post(all+"/groups/"+ids["eng"]+"/remove", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther || h.Get("Location") != all {
		t.Fatalf("remove eng from all: %d %s", code, h.Get("Location"))
	}
	_, page, _ = b.get(all)
	if !strings.Contains(page, "Groups in this group (0)") || !strings.Contains(page, "Removed group eng from this group.") ||
		!strings.Contains(page, `<option value="`+ids["eng"]+`">eng</option>`) {
		t.Fatalf("all's page after removing eng:\n%s", page)
	}
	// Now the other way round is no cycle.
	if code, _, _ := b.post(eng+"/groups", url.Values{"csrf": {csrf}, "group": {"all"}}); code != http.StatusSeeOther {
		t.Fatalf("add all to eng: %d", code)
	}
	if gs, err := f.d.ParentGroups(ctx, "example", "all"); err != nil || len(gs) != 1 || gs[0].Name != "eng" {
		t.Fatalf("parents of all: %v, %v", gs, err)
	}
}
