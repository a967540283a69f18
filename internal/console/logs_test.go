package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSystemLog(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	csrf := b.signIn("admin", "admin-Password-1")
	carol, _ := f.d.User(ctx, "example", "carol")
	b.post("/console/people/"+carol.ID+"/lifecycle/suspend", url.Values{"csrf": {csrf}})
	b.post("/console/people/"+carol.ID+"/lifecycle/unsuspend", url.Values{"csrf": {csrf}})
	// A failed sign-in, in another browser.
	o := f.browser(t)
	_, page, _ := o.get("/console/signin")
	o.post("/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "org": {"example"}, "login": {"viewer"}, "password": {"wrong"}})
	if err := f.d.Close(); err != nil { // writes the queued events
		t.Fatal(err)
	}

	code, page, h := b.get("/console/logs")
	if code != 200 {
		t.Fatalf("logs: %d %s\n%s", code, h.Get("Location"), page)
	}
	i, j := strings.Index(page, "Unsuspend user"), strings.Index(page, "Suspend user")
	if i < 0 || j < 0 || i > j {
		t.Fatalf("want unsuspend listed before suspend (newest first):\n%s", page)
	}
	if !strings.Contains(page, "<details>") || !strings.Contains(page, `&#34;eventType&#34;: &#34;user.lifecycle.suspend&#34;`) {
		t.Errorf("events do not expand to their document:\n%s", page)
	}
	_, page, _ = b.get("/console/logs?outcome=FAILURE")
	if !strings.Contains(page, "viewer") || strings.Contains(page, "Suspend user") {
		t.Errorf("outcome FAILURE:\n%s", page)
	}
	_, page, _ = b.get("/console/logs?type=user.lifecycle.suspend&user=admin")
	if !strings.Contains(page, "Suspend user") || strings.Contains(page, "Unsuspend user") {
		t.Errorf("type user.lifecycle.suspend:\n%s", page)
	}
	if code, page, _ = b.get("/console/logs?since=yesterday"); code != http.StatusBadRequest || !strings.Contains(page, "not a time") {
		t.Errorf("since=yesterday: %d\n%s", code, page)
	}
	_, page, _ = b.get("/console/")
	if !strings.Contains(page, "Recent events") || !strings.Contains(page, "Unsuspend user") {
		t.Errorf("the dashboard's recent events:\n%s", page)
	}
}
