package interop

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The console's guards in chromium: a read-only admin is shown no form
// that changes anything, and a change it forces from the page's own
// context is refused; a form without its CSRF token is refused.

// changeForms counts the page's forms that post anything but a sign-out
// (form.method is "post" whatever the attribute's case), and buttons that
// would post through another form.
const changeForms = `[...document.forms].filter(f => f.method === "post" && new URL(f.action).pathname !== "/console/signout").length +
	document.querySelectorAll("button[formmethod], input[formmethod]").length`

// navStatus is the HTTP status of the page the browser shows.
const navStatus = `performance.getEntriesByType("navigation")[0].responseStatus`

// showUser returns a field of `dirgate user show` (which reads the
// database, not the server's snapshot).
func showUser(t *testing.T, data, login, field string) string {
	t.Helper()
	out := mustDirgate(t, "", "user", "show", "--data", data, "--org", "example", "--login", login)
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dirgate user show %s has no %s:\n%s", login, field, out)
	}
	return m[1]
}

func userStatus(t *testing.T, data, login string) string { return showUser(t, data, login, "status") }

func TestConsoleReadOnlyAdmin(t *testing.T) {
	chromium := requireChromium(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Console-viewer-1\n", "user", "create", "--data", data, "--org", "example", "--login", "viewer",
		"--first", "Vera", "--last", "Viewer", "--role", "read_only_admin", "--password-stdin")
	mustDirgate(t, mfaPolicyFile, "policy", "apply", "--data", data, "--org", "example", "-f", "-") // something on the Policies page
	alice := showUser(t, data, "alice", "id")
	s := startDirgate(t, data, "--no-demo")
	ctx := newBrowser(t, chromium, filepath.Join(data, "tls", "server.pem"))
	dir := screenshotDir(t)
	if err := chromedp.Do(ctx, signInSteps(s.httpURL, "viewer", "Console-viewer-1")); err != nil {
		t.Fatalf("signing in as the read-only admin: %v", err)
	}

	for _, pg := range []struct {
		name, path string
		want       []string // in the page's main text
		shot       string
	}{
		{"People", "/console/people", []string{"alice", "bob", "carol", "SUSPENDED"}, ""},
		{"alice's page", "/console/people/" + alice, []string{"Alice Example", "ACTIVE", "alice@example.com", alice}, "readonly-person"},
		{"Groups", "/console/groups", []string{"eng"}, ""},
		{"a group", "/console/groups/eng", []string{"Members (1)", "alice"}, ""},
		{"Policies", "/console/policies", []string{"MFA for people over LDAP", "LDAP needs MFA"}, ""},
		{"Admin roles", "/console/roles", []string{"READ_ONLY_ADMIN (2)", "viewer", "ldap-bind"}, ""},
		{"LDAP Interface", "/console/ldap", []string{"LDAP Interface", exBase, "ou=users," + exBase}, ""},
	} {
		err := chromedp.Do(ctx, chromedp.Navigate(s.httpURL+pg.path), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		if err != nil {
			t.Fatalf("the %s page: %v", pg.name, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range pg.want {
			if !strings.Contains(text, w) {
				t.Errorf("the %s page does not show %q:\n%s", pg.name, w, text)
			}
		}
		who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.who`)))
		if err != nil || !strings.Contains(who, "read-only") {
			t.Errorf("the %s page's header: %q, %v; want it to say read-only", pg.name, who, err)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](changeForms))
		if err != nil || n != 0 {
			t.Errorf("the %s page has %d forms that change something (%v)", pg.name, n, err)
		}
		if pg.shot != "" {
			shots(t, ctx, dir, pg.shot)
		}
	}

	// From alice's page, a suspension posted with the page's own CSRF
	// token (the sign-out form's): the session is real, the role is not
	// enough.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.httpURL+"/console/people/"+alice), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Status int    `json:"status"`
		Token  bool   `json:"token"`
		Body   string `json:"body"`
	}
	a, err := chromedp.Run(ctx, chromedp.Evaluate[answer](`(async () => {
		const csrf = document.querySelector('form[action="/console/signout"] input[name="csrf"]').value;
		const r = await fetch("/console/people/`+alice+`/lifecycle/suspend",
			{method: "POST", body: new URLSearchParams({csrf}), redirect: "manual"});
		return {status: r.status, token: csrf.length > 20, body: await r.text()};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Token || a.Status != 403 || !strings.Contains(a.Body, `class="error"`) || !strings.Contains(a.Body, "ORG_ADMIN") {
		t.Fatalf("a suspension posted by the read-only admin: %d (token %v)\n%s", a.Status, a.Token, a.Body)
	}
	if st := userStatus(t, data, "alice"); st != "ACTIVE" {
		t.Fatalf("alice is %s after the refused suspension", st)
	}
	// The same answer, as the browser shows it when the post is a form's.
	err = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.createElement("form");
		f.method = "post";
		f.action = "/console/people/`+alice+`/lifecycle/suspend";
		const i = document.createElement("input");
		i.type = "hidden"; i.name = "csrf";
		i.value = document.querySelector('form[action="/console/signout"] input[name="csrf"]').value;
		f.append(i);
		document.body.append(f);
		f.submit();
	})()`), chromedp.WaitVisible(chromedp.CSS(`p.error`)))
	if err != nil {
		t.Fatalf("a forced form: %v", err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.error`)))
	if err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](navStatus))
	if err != nil || status != 403 || !strings.Contains(msg, "ORG_ADMIN") {
		t.Fatalf("a forced form: status %d (%v), message %q", status, err, msg)
	}
	shots(t, ctx, dir, "readonly-refused")
	if st := userStatus(t, data, "alice"); st != "ACTIVE" {
		t.Fatalf("alice is %s after the refused form", st)
	}
}

func TestConsoleCSRFMissing(t *testing.T) {
	chromium := requireChromium(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Console-admin-1\n", "user", "create", "--data", data, "--org", "example", "--login", "admin",
		"--first", "Ada", "--last", "Admin", "--role", "org_admin", "--password-stdin")
	alice := showUser(t, data, "alice", "id")
	s := startDirgate(t, data, "--no-demo")
	dir := screenshotDir(t)
	const refused = "CSRF token is missing or wrong"

	// Sign-in: the form without its token.
	ctx := newBrowser(t, chromium, filepath.Join(data, "tls", "server.pem"))
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.httpURL+"/console/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#org`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/console/signin"] input[name="csrf"]').remove()`),
		chromedp.SendKeys(chromedp.CSS(`#org`), "example"),
		chromedp.SendKeys(chromedp.CSS(`#login`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "Console-admin-1"),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "`+refused+`")]`)),
	)
	if err != nil {
		t.Fatalf("signing in without the CSRF token: %v", err)
	}
	checkRefused(t, ctx, refused)
	shots(t, ctx, dir, "csrf-signin-refused")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.httpURL+"/console/people"), chromedp.WaitVisible(chromedp.CSS(`#org`))); err != nil {
		t.Fatalf("after the refused sign-in, the console is not the sign-in page: %v", err)
	}

	// A lifecycle form without its token.
	err = chromedp.Do(ctx,
		signInSteps(s.httpURL, "admin", "Console-admin-1"),
		chromedp.Navigate(s.httpURL+"/console/people/"+alice),
		chromedp.WaitVisible(chromedp.Search(`//button[text()="Suspend"]`)),
	)
	if err != nil {
		t.Fatalf("alice's page: %v", err)
	}
	// For an org admin the page has forms that change things (so the
	// read-only admin's count of none means something).
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](changeForms)); err != nil || n < 3 {
		t.Errorf("alice's page for an org admin has %d forms that change something (%v)", n, err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => {
		const i = document.querySelector('form[action$="/lifecycle/suspend"] input[name="csrf"]');
		if (!i) return 0;
		i.remove();
		return document.querySelectorAll('form[action$="/lifecycle/suspend"] input[name="csrf"]').length + 1;
	})()`))
	if err != nil || n != 1 {
		t.Fatalf("removing the Suspend form's token: %d, %v", n, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//button[text()="Suspend"]`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "`+refused+`")]`)),
	)
	if err != nil {
		t.Fatalf("suspending without the CSRF token: %v", err)
	}
	checkRefused(t, ctx, refused)
	shots(t, ctx, dir, "csrf-suspend-refused")
	if st := userStatus(t, data, "alice"); st != "ACTIVE" {
		t.Fatalf("alice is %s after a suspension without the CSRF token", st)
	}
	// The session is still good, and the form with its token works.
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.httpURL+"/console/people/"+alice),
		chromedp.Click(chromedp.Search(`//button[text()="Suspend"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if err != nil {
		t.Fatalf("suspending with the token: %v", err)
	}
	if st := userStatus(t, data, "alice"); st != "SUSPENDED" {
		t.Fatalf("alice is %s after the suspension with the token", st)
	}
}

// checkRefused: the browser shows a 403 that says msg.
func checkRefused(t *testing.T, ctx context.Context, msg string) {
	t.Helper()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](navStatus))
	if err != nil || status != 403 {
		t.Errorf("the refusal's status: %d, %v; want 403", status, err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
	if err != nil || !strings.Contains(body, msg) {
		t.Errorf("the refusal says %q (%v), want %q", body, err, msg)
	}
}
