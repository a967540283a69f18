package interop

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsolePushSignIn: alice, no admin, signs in to her self-service
// page in chromium and turns push sign-ins on; under the MFA policy (the
// bind account exempt) an ldapsearch bind with "alice-password,push"
// waits until she approves it on the page (exit 0) or denies it (49 with
// Okta's policy message), and a PostgreSQL search+bind login with the same
// password waits for her too.
func TestConsolePushSignIn(t *testing.T) {
	chromium := requireChromium(t)
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, mfaPolicyFile, "policy", "apply", "--data", data, "--org", "example", "-f", "-")
	s := startDirgate(t, data, "--no-demo")
	ctx := newBrowser(t, chromium, filepath.Join(data, "tls", "server.pem"))
	dir := screenshotDir(t)

	err := chromedp.Do(ctx, signInUntil(s.httpURL, "alice", "alice-password", chromedp.Search(`//h1[contains(., "My account")]`)))
	if err != nil {
		t.Fatalf("alice signing in: %v", err)
	}
	shots(t, ctx, dir, "me")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//button[text()="Turn push sign-ins on"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Push sign-ins are on")]`)),
		chromedp.Navigate(s.httpURL+"/console/me/password"),
		chromedp.WaitVisible(chromedp.CSS(`#oldPassword`)),
	)
	if err != nil {
		t.Fatalf("turning push on: %v", err)
	}
	shots(t, ctx, dir, "password")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.httpURL+"/console/me/push"), chromedp.WaitVisible(chromedp.CSS(`#no-pushes`))); err != nil {
		t.Fatalf("the sign-in requests page: %v", err)
	}

	bind := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			ch <- s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", aliceExD, "-w", "alice-password,push", "-b", exBase, "-s", "base", "1.1")
		}()
		return ch
	}
	// answer waits for the request to show up on the page (its script
	// polls) and clicks the button; it returns the request's text.
	answer := func(button, shot string) string {
		t.Helper()
		btn := chromedp.Search(`//div[@id="pushes"]//button[text()="` + button + `"]`)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(btn)); err != nil {
			t.Fatalf("waiting for the request: %v", err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#pushes`)))
		if err != nil {
			t.Fatal(err)
		}
		if shot != "" {
			shots(t, ctx, dir, shot)
		}
		if err := chromedp.Do(ctx, chromedp.Click(btn), chromedp.WaitVisible(chromedp.CSS(`.flash`))); err != nil {
			t.Fatalf("clicking %s: %v", button, err)
		}
		return text
	}

	ch := bind()
	text := answer("Approve", "push")
	if !strings.Contains(text, "Sign-in to LDAP Interface from 127.0.0.1 over TLS") {
		t.Errorf("the request says %q", text)
	}
	if r := <-ch; r.code != 0 {
		t.Fatalf("the approved bind: exit %d %s", r.code, r.stderr)
	}
	ch = bind()
	answer("Deny", "")
	if r := <-ch; r.code != 49 || !strings.Contains(r.stderr, "Authentication denied by sign on policy.") {
		t.Fatalf("the denied bind: exit %d %s", r.code, r.stderr)
	}

	pg := startPostgres(t, s.caFile, pgHBALDAP("immuta", "127.0.0.1", s.ldapsPort, exBase, bindDN, bindPW))
	pg.SuperSQL(t, `CREATE ROLE immuta_user NOLOGIN; CREATE ROLE alice LOGIN IN ROLE immuta_user;`)
	type login struct {
		out string
		ok  bool
	}
	pgc := make(chan login, 1)
	go func() {
		out, ok := pg.Login(t, "alice", "alice-password,push")
		pgc <- login{out, ok}
	}()
	// PostgreSQL binds as the user on a connection of its own (after
	// searching on another), so the page knows the IP, not the account.
	text = answer("Approve", "")
	if !strings.Contains(text, "Sign-in to LDAP Interface from 127.0.0.1") {
		t.Errorf("the PostgreSQL request says %q", text)
	}
	if l := <-pgc; !l.ok || strings.TrimSpace(l.out) != "alice" {
		t.Fatalf("psql after approval: %v\n%s", l.ok, l.out)
	}
}
