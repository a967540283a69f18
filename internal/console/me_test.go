package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/totp"
)

// signInAs signs in and returns where the console sends the user.
func (b *browser) signInAs(login, pw string) string {
	b.t.Helper()
	_, page, _ := b.get("/console/signin")
	code, body, h := b.post("/console/signin", url.Values{"csrf": {csrfOf(b.t, page)}, "org": {"example"}, "login": {login}, "password": {pw}})
	if code != http.StatusSeeOther {
		b.t.Fatalf("sign in as %s: %d\n%s", login, code, body)
	}
	return h.Get("Location")
}

// TestSelfServiceUser: a user without an admin role signs in to their own
// pages only, edits the attributes the org allows (and no other), and
// changes their password under the password policy.
func TestSelfServiceUser(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	if loc := b.signInAs("carol", "carol-Password-1"); loc != "/console/" {
		t.Fatalf("carol sent to %s", loc)
	}
	if code, _, h := b.get("/console/"); code != http.StatusSeeOther || h.Get("Location") != "/console/me" {
		t.Fatalf("carol's home: %d %s", code, h.Get("Location"))
	}
	code, page, _ := b.get("/console/me")
	if code != 200 || !strings.Contains(page, "My account") || strings.Contains(page, `href="/console/people"`) || !strings.Contains(page, `id="nickName"`) ||
		strings.Contains(page, `id="email"`) {
		t.Fatalf("carol's page: %d\n%s", code, page)
	}
	csrf := csrfOf(t, page)
	carol, _ := f.d.User(ctx, "example", "carol")
	admin, _ := f.d.User(ctx, "example", "admin")
	// The admin pages are closed to her.
	if code, _, h := b.get("/console/people"); code != http.StatusSeeOther || h.Get("Location") != "/console/me" {
		t.Fatalf("people for carol: %d %s", code, h.Get("Location"))
	}
	if code, _, _ := b.post("/console/people/"+admin.ID+"/lifecycle/suspend", url.Values{"csrf": {csrf}}); code != http.StatusForbidden {
		t.Fatalf("carol suspending the admin: %d", code)
	}
	// Her profile: nickName yes; email, not offered, is not taken.
	code, _, _ = b.post("/console/me/profile", url.Values{"csrf": {csrf}, "nickName": {"Caz"}, "email": {"evil@example.com"}})
	if code != http.StatusSeeOther {
		t.Fatalf("saving the profile: %d", code)
	}
	if u, _ := f.d.User(ctx, "example", "carol"); u.Profile.NickName != "Caz" || u.Profile.Email == "evil@example.com" {
		t.Fatalf("carol's profile: %+v", u.Profile)
	}
	// With the org allowing only email, a change to email is taken and
	// a bad one is explained by the field.
	if _, err := f.d.SetSelfServiceAttributes(ctx, "example", []string{"email"}); err != nil {
		t.Fatal(err)
	}
	code, page, _ = b.post("/console/me/profile", url.Values{"csrf": {csrf}, "email": {"not an address"}})
	if code != http.StatusBadRequest || !strings.Contains(page, `id="email-error"`) {
		t.Fatalf("a bad email: %d\n%s", code, page)
	}

	// Her password, with the policy's rules shown and enforced.
	code, page, _ = b.get("/console/me/password")
	if code != 200 || !strings.Contains(page, "at least 8 characters") {
		t.Fatalf("password page: %d\n%s", code, page)
	}
	for _, tc := range []struct {
		old, pw, confirm, want string
	}{
		{"wrong", "Carol-New-Pw-2", "Carol-New-Pw-2", "not your current password"},
		{"carol-Password-1", "Carol-New-Pw-2", "Carol-New-Pw-3", "not the same"},
		{"carol-Password-1", "short", "short", "at least 8 characters"},
	} {
		code, page, _ := b.post("/console/me/password", url.Values{"csrf": {csrf}, "oldPassword": {tc.old}, "password": {tc.pw}, "confirm": {tc.confirm}})
		if code != http.StatusBadRequest || !strings.Contains(page, tc.want) || !strings.Contains(page, "field-error") {
			t.Errorf("old %q new %q/%q: %d, want %q by the field", tc.old, tc.pw, tc.confirm, code, tc.want)
		}
	}
	code, _, _ = b.post("/console/me/password", url.Values{"csrf": {csrf}, "oldPassword": {"carol-Password-1"}, "password": {"Carol-New-Pw-2"}, "confirm": {"Carol-New-Pw-2"}})
	if code != http.StatusSeeOther {
		t.Fatalf("changing the password: %d", code)
	}
	o, _ := f.d.Org(ctx, "example")
	if _, err := f.d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: "carol", Password: []byte("Carol-New-Pw-2"), Client: directory.ClientInfo{Protocol: "ldap"}}); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	// She signs out like anyone.
	if code, _, h := b.post("/console/signout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther || h.Get("Location") != "/console/signin" {
		t.Fatalf("carol signing out: %d %s", code, h.Get("Location"))
	}
	if code, _, _ := b.get("/console/me"); code != http.StatusSeeOther {
		t.Fatalf("her page after signing out: %d", code)
	}
	// Everything was carol's doing in the system log.
	f.d.Close()
	evs, err := f.d.Events(ctx, "example", directory.EventFilter{EventType: directory.EventUserUpdatePassword})
	if err != nil || len(evs) != 1 || !strings.Contains(string(evs[0].Doc), `"alternateId":"carol"`) || evs[0].TargetID != carol.ID {
		t.Fatalf("password events: %v %v", evs, err)
	}
}

var qrSecretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// TestSelfServiceFactors: a user sets up their own authenticator app and
// push sign-ins, approves a push, and removes a factor.
func TestSelfServiceFactors(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.signInAs("carol", "carol-Password-1")
	_, page, _ := b.get("/console/me")
	csrf := csrfOf(t, page)
	code, page, _ := b.post("/console/me/totp/enroll", url.Values{"csrf": {csrf}})
	m := qrSecretRE.FindStringSubmatch(page)
	if code != 200 || m == nil || !strings.Contains(page, `src="data:image/png;base64,`) {
		t.Fatalf("enrolling: %d\n%s", code, page)
	}
	secret, err := totp.DecodeSecret(m[1])
	if err != nil {
		t.Fatal(err)
	}
	code, _, h := b.post("/console/me/totp/activate", url.Values{"csrf": {csrf}, "code": {totp.Code(secret, time.Now().Add(-30*time.Second))}})
	if _, page, _ = b.get(h.Get("Location")); code != http.StatusSeeOther || !strings.Contains(page, "authenticator app is set up") {
		t.Fatalf("activating: %d\n%s", code, page)
	}
	if code, _, _ := b.post("/console/me/push/enable", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("turning push on: %d", code)
	}
	fs, _ := f.d.Factors(ctx, "example", "carol")
	if len(fs) != 2 {
		t.Fatalf("carol's factors: %v", fs)
	}

	// A bind under an MFA policy with ",push" waits for her approval.
	mfa, err := policy.Parse([]byte("kind: sign-on\nname: MFA\npriority: 1\npeople: {groups: {include: [Everyone]}}\nrules:\n  - {name: r, priority: 1, conditions: {authType: ldap}, action: mfa}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.ApplyPolicies(ctx, "example", mfa, directory.PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	o, _ := f.d.Org(ctx, "example")
	done := make(chan error, 1)
	go func() {
		_, err := f.d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: "carol", Password: []byte("carol-Password-1,push"),
			Client: directory.ClientInfo{IP: "198.51.100.9", Protocol: "ldap", TLS: true, App: "uid=pg-bind,dc=example,dc=okta,dc=com"}})
		done <- err
	}()
	var id string
	for deadline := time.Now().Add(10 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		_, list, _ := b.get("/console/me/push?partial=1")
		if m := regexp.MustCompile(`/console/me/push/([0-9A-Za-z]+)/approve`).FindStringSubmatch(list); m != nil {
			if !strings.Contains(list, "198.51.100.9") || !strings.Contains(list, "bound as <code>uid=pg-bind,") || strings.Contains(list, "<html") {
				t.Fatalf("the request list:\n%s", list)
			}
			id = m[1]
		}
	}
	if id == "" {
		t.Fatal("no push request listed")
	}
	if _, page, _ := b.get("/console/me"); !strings.Contains(page, "waiting for your approval") {
		t.Errorf("no notice of the waiting sign-in on carol's page")
	}
	if code, _, _ := b.post("/console/me/push/"+id+"/approve", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("approving: %d", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("the approved bind: %v", err)
	}
	// Removing her factors is hers to do.
	for _, fa := range fs {
		if code, _, _ := b.post("/console/me/factors/"+fa.ID+"/reset", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
			t.Fatalf("removing %s: %d", fa.Type, code)
		}
	}
	if fs, _ := f.d.Factors(ctx, "example", "carol"); len(fs) != 0 {
		t.Fatalf("factors left: %v", fs)
	}
}

var tempRE = regexp.MustCompile(`temporary password of viewer is (\S+) `)

// TestExpiredPasswordSession: an admin resets a user's password on the
// person page, which shows the temporary password once; the user signs in
// with it to the change-password page and nothing else, until the
// password is changed.
func TestExpiredPasswordSession(t *testing.T) {
	f := newFixture(t)
	adm := f.browser(t)
	csrf := adm.signIn("admin", "admin-Password-1")
	viewer, _ := f.d.User(ctx, "example", "viewer")
	code, _, h := adm.post("/console/people/"+viewer.ID+"/password/temp", url.Values{"csrf": {csrf}})
	_, page, _ := adm.get(h.Get("Location"))
	m := tempRE.FindStringSubmatch(page)
	if code != http.StatusSeeOther || m == nil {
		t.Fatalf("reset password: %d\n%s", code, page)
	}
	temp := html.UnescapeString(m[1])
	if _, again, _ := adm.get(h.Get("Location")); strings.Contains(again, temp) {
		t.Fatal("the temporary password is shown twice")
	}
	b := f.browser(t)
	if loc := b.signInAs("viewer", temp); loc != "/console/me/password" {
		t.Fatalf("sent to %s", loc)
	}
	for _, p := range []string{"/console/", "/console/people", "/console/me"} {
		if code, _, h := b.get(p); code != http.StatusSeeOther || h.Get("Location") != "/console/me/password" {
			t.Fatalf("%s with an expired password: %d %s", p, code, h.Get("Location"))
		}
	}
	code, page, _ = b.get("/console/me/password")
	if code != 200 || !strings.Contains(page, "has expired") || strings.Contains(page, `href="/console/people"`) {
		t.Fatalf("the password page: %d\n%s", code, page)
	}
	code, _, _ = b.post("/console/me/password", url.Values{"csrf": {csrfOf(t, page)}, "oldPassword": {temp}, "password": {"Viewer-New-Pw-9"}, "confirm": {"Viewer-New-Pw-9"}})
	if code != http.StatusSeeOther {
		t.Fatalf("changing: %d", code)
	}
	if code, page, _ := b.get("/console/"); code != 200 || !strings.Contains(page, "Dashboard") {
		t.Fatalf("the dashboard after the change: %d", code)
	}
}
