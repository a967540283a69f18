package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

const mfaEveryone = `
kind: sign-on
name: MFA over LDAP
priority: 1
people: {groups: {include: [Everyone]}}
rules:
  - {name: LDAP needs MFA, priority: 1, conditions: {authType: ldap}, action: mfa}
`

// pushEnv is a factorEnv whose directory waits timeout for a push.
func pushEnv(t *testing.T, timeout time.Duration) (*factorEnv, *directory.Directory) {
	t.Helper()
	e := newFactorEnv(t)
	st, err := sqlite.Open(e.db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.New(directory.Config{Store: st, Password: cheap, Now: e.c.now, LoginFlushInterval: time.Hour,
		Secrets: e.keys, Sleep: noSleep, PushTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); st.Close() })
	if _, err := d.ApplyPolicies(context.Background(), "example", parse(t, mfaEveryone), directory.PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	return e, d
}

type authResult struct {
	u   *directory.User
	err error
}

// bindAsync starts alice's sign-in with pw over "LDAP" and returns where
// its result arrives.
func bindAsync(d *directory.Directory, orgID, pw string) <-chan authResult {
	ch := make(chan authResult, 1)
	go func() {
		u, err := d.Authenticate(context.Background(), directory.AuthRequest{OrgID: orgID, Login: "alice", Password: []byte(pw),
			Client: directory.ClientInfo{IP: "192.0.2.7", Protocol: "ldap", TLS: true, App: "uid=pg-bind,dc=example,dc=okta,dc=com"}})
		ch <- authResult{u, err}
	}()
	return ch
}

// waitPending waits until alice has n push sign-ins waiting.
func waitPending(t *testing.T, d *directory.Directory, orgID, userID string, n int) []directory.PushRequest {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps := d.PendingPushes(orgID, userID)
		if len(ps) == n {
			return ps
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d push sign-ins waiting, want %d", len(ps), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantDenied(t *testing.T, r authResult, msg, reason string) {
	t.Helper()
	var de *directory.Error
	if !errors.As(r.err, &de) || de.Code != directory.CodePolicyDenied || de.Message != msg || !strings.Contains(de.Reason, reason) {
		t.Fatalf("got %v, want policy denied %q with reason containing %q", r.err, msg, reason)
	}
}

// TestPushSignIn: "<password>,push" waits for the user's answer; an
// approval signs in, a denial, a timeout or a user without push sign-ins
// is the sign-on policy's denial; a wrong password sends no push; only
// the user answers their own requests, and they are bounded per user.
func TestPushSignIn(t *testing.T) {
	e, d := pushEnv(t, time.Minute)
	ctx := context.Background()
	o, _ := d.Org(ctx, "example")
	alice := e.alice

	// Not turned on: no wait, the no-factor message.
	wantDenied(t, <-bindAsync(d, o.ID, "password-alice,push"), directory.MsgNoFactor, "not turned push sign-ins on")
	if _, err := d.EnrollPush(ctx, "example", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.EnrollPush(ctx, "example", "alice"); directory.CodeOf(err) != directory.CodeConflict {
		t.Fatalf("a second push enrolment: %v", err)
	}

	// Approved.
	ch := bindAsync(d, o.ID, "password-alice,PUSH")
	ps := waitPending(t, d, o.ID, alice.ID, 1)
	if c := ps[0].Client; c.IP != "192.0.2.7" || c.Protocol != "ldap" || !c.TLS || c.App != "uid=pg-bind,dc=example,dc=okta,dc=com" {
		t.Errorf("the request shows %+v", c)
	}
	if !ps[0].Expires.After(ps[0].Created) {
		t.Errorf("created %v, expires %v", ps[0].Created, ps[0].Expires)
	}
	bob := mustUser(t, d, "bob", "password-bob", "")
	if err := d.AnswerPush(ctx, o.ID, bob.ID, ps[0].ID, true); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("bob answering alice's push: %v", err)
	}
	select {
	case r := <-ch:
		t.Fatalf("the sign-in ended before an answer: %v", r.err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := d.AnswerPush(ctx, o.ID, alice.ID, ps[0].ID, true); err != nil {
		t.Fatal(err)
	}
	if r := <-ch; r.err != nil || r.u == nil || r.u.ID != alice.ID {
		t.Fatalf("approved: %v %v", r.u, r.err)
	}
	if err := d.AnswerPush(ctx, o.ID, alice.ID, ps[0].ID, true); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("answering twice: %v", err)
	}
	if n := len(d.PendingPushes(o.ID, alice.ID)); n != 0 {
		t.Fatalf("%d waiting after the answer", n)
	}

	// Denied.
	ch = bindAsync(d, o.ID, "password-alice,push")
	ps = waitPending(t, d, o.ID, alice.ID, 1)
	if err := d.AnswerPush(ctx, o.ID, alice.ID, ps[0].ID, false); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, <-ch, directory.MsgPolicyDenied, "denied by the user")

	// A wrong password sends nothing.
	if r := <-bindAsync(d, o.ID, "wrong,push"); directory.CodeOf(r.err) != directory.CodeInvalidCredentials {
		t.Fatalf("a wrong password with push: %v", r.err)
	}

	// At most three wait per user; the fourth is refused at once.
	chs := []<-chan authResult{bindAsync(d, o.ID, "password-alice,push"), bindAsync(d, o.ID, "password-alice,push"), bindAsync(d, o.ID, "password-alice,push")}
	ps = waitPending(t, d, o.ID, alice.ID, 3)
	wantDenied(t, <-bindAsync(d, o.ID, "password-alice,push"), directory.MsgPolicyDenied, "too many push sign-ins")
	for _, p := range ps {
		if err := d.AnswerPush(ctx, o.ID, alice.ID, p.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range chs {
		wantDenied(t, <-c, directory.MsgPolicyDenied, "denied by the user")
	}

	// The system log has the pushes sent and the answers, by alice.
	d.Close()
	evs, err := e.d.Events(ctx, "example", directory.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, ev := range evs {
		counts[ev.EventType]++
	}
	if counts[directory.EventPushSent] != 5 || counts[directory.EventPushApprove] != 1 || counts[directory.EventPushDeny] != 4 {
		t.Errorf("push events in the system log: %v", counts)
	}
}

// TestPushTimeout: a push nobody answers is denied after PushTimeout.
func TestPushTimeout(t *testing.T) {
	e, d := pushEnv(t, 200*time.Millisecond)
	ctx := context.Background()
	if _, err := d.EnrollPush(ctx, "example", "alice"); err != nil {
		t.Fatal(err)
	}
	o, _ := d.Org(ctx, "example")
	wantDenied(t, <-bindAsync(d, o.ID, "password-alice,push"), directory.MsgPolicyDenied, "not answered within 200ms")
	if n := len(d.PendingPushes(o.ID, e.alice.ID)); n != 0 {
		t.Fatalf("%d waiting after the timeout", n)
	}
}

// TestExpiredPasswordAfterMFA: a user whose password expired is told so
// only after the sign-on policy's MFA, not with the password alone.
func TestExpiredPasswordAfterMFA(t *testing.T) {
	_, d := pushEnv(t, time.Minute)
	ctx := context.Background()
	if _, err := d.EnrollPush(ctx, "example", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Lifecycle(ctx, "example", "alice", directory.ActionExpirePassword); err != nil {
		t.Fatal(err)
	}
	o, _ := d.Org(ctx, "example")
	u, _ := d.User(ctx, "example", "alice")
	wantDenied(t, <-bindAsync(d, o.ID, "password-alice"), directory.MsgPolicyDenied, "no code given")
	ch := bindAsync(d, o.ID, "password-alice,push")
	ps := waitPending(t, d, o.ID, u.ID, 1)
	if err := d.AnswerPush(ctx, o.ID, u.ID, ps[0].ID, true); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	var de *directory.Error
	if !errors.As(r.err, &de) || de.Message != directory.MsgPasswordExpired {
		t.Fatalf("an expired password after MFA: %v", r.err)
	}
}

// TestSelfService: users edit only the attributes their org allows, and
// the org's list is validated.
func TestSelfService(t *testing.T) {
	e := newFactorEnv(t)
	d, ctx := e.d, context.Background()
	o, _ := d.Org(ctx, "example")
	a, err := d.Account(ctx, o.ID, e.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Editable, ",") != strings.Join(directory.DefaultSelfServiceAttributes, ",") || len(a.PasswordRules) == 0 {
		t.Fatalf("account: editable %v, password rules %v", a.Editable, a.PasswordRules)
	}
	u, err := d.UpdateOwnProfile(ctx, o.ID, e.alice.ID, map[string]string{"nickName": "Al", "mobilePhone": "+1 555 0100"})
	if err != nil || u.Profile.NickName != "Al" || u.Profile.MobilePhone != "+1 555 0100" {
		t.Fatalf("own profile: %+v %v", u, err)
	}
	_, err = d.UpdateOwnProfile(ctx, o.ID, e.alice.ID, map[string]string{"email": "evil@example.com"})
	var de *directory.Error
	if !errors.As(err, &de) || de.Code != directory.CodeInvalid || de.Field != "profile.email" || !strings.Contains(de.Message, "does not let users change their own email") {
		t.Fatalf("own email: %v", err)
	}
	if _, err := d.SetSelfServiceAttributes(ctx, "example", []string{"login"}); directory.CodeOf(err) != directory.CodeInvalid {
		t.Fatalf("login self-editable: %v", err)
	}
	if _, err := d.SetSelfServiceAttributes(ctx, "example", []string{"shoeSize"}); directory.CodeOf(err) != directory.CodeInvalid {
		t.Fatalf("an unknown attribute: %v", err)
	}
	if o, err = d.SetSelfServiceAttributes(ctx, "example", []string{"email", " email"}); err != nil || strings.Join(directory.SelfServiceAttributesOf(o), ",") != "email" {
		t.Fatalf("email only: %v %v", o, err)
	}
	if _, err := d.UpdateOwnProfile(ctx, o.ID, e.alice.ID, map[string]string{"nickName": "Ally"}); directory.CodeOf(err) != directory.CodeInvalid {
		t.Fatalf("nickName after the org took it away: %v", err)
	}
	if o, err = d.SetSelfServiceAttributes(ctx, "example", []string{}); err != nil || len(directory.SelfServiceAttributesOf(o)) != 0 {
		t.Fatalf("none: %v %v", o, err)
	}
	if o, err = d.SetSelfServiceAttributes(ctx, "example", nil); err != nil || len(directory.SelfServiceAttributesOf(o)) != len(directory.DefaultSelfServiceAttributes) {
		t.Fatalf("default again: %v %v", o, err)
	}
}
