package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
)

const strictPasswords = `
kind: password
name: Engineering
priority: 1
people: {groups: {include: [engineering]}}
settings:
  minLength: 12
  minUpperCase: 1
  minNumber: 1
  excludeUsername: true
  excludeAttributes: [lastName]
  history: 3
  maxAgeDays: 90
`

// TestPasswordPolicyOnNewPasswords: the password policy that applies to a
// user (by group; the default otherwise) decides which passwords an admin
// may set, a user may change to, and a user may be created with; every
// unmet requirement is listed, and never the password.
func TestPasswordPolicyOnNewPasswords(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	if _, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: "engineering"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser(ctx, "example", directory.UserInput{
		Profile:  directory.Profile{Login: "ed.jones@business.com", FirstName: "Ed", LastName: "Montgomery"},
		Password: []byte("Initial-Passw0rd")}); err != nil {
		t.Fatal(err)
	}
	mustUser(t, d, "plain", "plain-password", "")
	if _, err := d.AddMember(ctx, "example", "engineering", "ed.jones@business.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApplyPolicies(ctx, "example", parse(t, strictPasswords), directory.PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, login, pw string
		unmet           []string // settings; nil: accepted
	}{
		{"default policy: too short", "plain", "short", []string{"minLength"}},
		{"default policy: long enough", "plain", "8 chars!", nil},
		{"group policy: everything missing", "ed.jones@business.com", "jones", []string{"minLength", "minUpperCase", "minNumber", "excludeUsername"}},
		{"group policy: a part of the login", "ed.jones@business.com", "Business-2026-pw", []string{"excludeUsername"}},
		{"group policy: the last name", "ed.jones@business.com", "MONTGOMERY-2026-pw", []string{"excludeAttributes.lastName"}},
		{"group policy: the top-level domain is not checked", "ed.jones@business.com", "Dotcom-2026-pw", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.SetPassword(ctx, "example", tc.login, []byte(tc.pw))
			checkUnmet(t, err, tc.pw, tc.unmet)
		})
	}
	// A user changing its own password meets the same policy.
	_, err := d.ChangePassword(ctx, "example", "plain", []byte("8 chars!"), []byte("tiny"))
	checkUnmet(t, err, "tiny", []string{"minLength"})
	// So does a new user; an imported hash (of "tiny") cannot be checked
	// and is kept.
	_, err = d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "new"}, Password: []byte("tiny")})
	checkUnmet(t, err, "tiny", []string{"minLength"})
	if _, err := d.Import(ctx, "example", []directory.ImportUser{{UserInput: directory.UserInput{
		Profile: directory.Profile{Login: "legacy"}, PasswordHash: "{SSHA}GauLuSCXv4O5v8juON21QNOCELxzYWx0c2FsdA=="}}}, nil, nil); err != nil {
		t.Fatalf("import with a hash: %v", err)
	}
}

func checkUnmet(t *testing.T, err error, pw string, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var pe *policy.PasswordError
	if directory.CodeOf(err) != directory.CodeInvalid || !errors.As(err, &pe) {
		t.Fatalf("got %v, want a password policy refusal", err)
	}
	var got []string
	for _, r := range pe.Unmet {
		got = append(got, r.Setting)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("unmet %v, want %v (%v)", got, want, err)
	}
	if strings.Contains(err.Error(), pw) {
		t.Fatalf("the error holds the password: %v", err)
	}
}

// TestPasswordHistoryAndAge: with history 3 the current password and the
// two before it cannot be set again, the one before those can; a password
// older than maxAgeDays (injected clock) expires at the next sign-in,
// which is refused with a diagnostic saying so until it is changed.
func TestPasswordHistoryAndAge(t *testing.T) {
	d, _, c := newDir(t)
	ctx := context.Background()
	mustUser(t, d, "ann", "First-passw0rd", "")
	if _, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: "engineering"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddMember(ctx, "example", "engineering", "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApplyPolicies(ctx, "example", parse(t, strictPasswords), directory.PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	set := func(pw string) error {
		_, err := d.SetPassword(ctx, "example", "ann", []byte(pw))
		return err
	}
	for _, tc := range []struct {
		pw    string
		reuse bool
	}{
		{"First-passw0rd", true}, // the current one
		{"Second-passw0rd", false},
		{"Third-passw0rd", false},
		{"First-passw0rd", true}, // still one of the last 3
		{"Second-passw0rd", true},
		{"Fourth-passw0rd", false},
		{"First-passw0rd", false}, // now 4 back: allowed
	} {
		err := set(tc.pw)
		if tc.reuse {
			checkUnmet(t, err, tc.pw, []string{"history"})
		} else if err != nil {
			t.Fatalf("set %s: %v", tc.pw, err)
		}
	}
	u, err := d.User(ctx, "example", "ann")
	if err != nil || len(u.PasswordHistory) != 2 {
		t.Fatalf("history kept: %d hashes (want 2: history 3 counts the current one), %v", len(u.PasswordHistory), err)
	}
	// Changing one's own password checks the history too.
	_, err = d.ChangePassword(ctx, "example", "ann", []byte("First-passw0rd"), []byte("Fourth-passw0rd"))
	checkUnmet(t, err, "Fourth-passw0rd", []string{"history"})

	auth := func(pw string) error {
		_, err := d.Authenticate(ctx, authReq(t, d, "ann", pw))
		return err
	}
	c.t = c.t.Add(89 * 24 * time.Hour)
	if err := auth("First-passw0rd"); err != nil {
		t.Fatalf("day 89: %v", err)
	}
	c.t = c.t.Add(24 * time.Hour)
	// A wrong password says nothing of the expiry, nor expires it.
	var e *directory.Error
	if err := auth("Wrong-passw0rd"); !errors.As(err, &e) || e.Message != directory.MsgInvalidCredentials {
		t.Fatalf("day 90, wrong password: %v", err)
	}
	if u, _ := d.User(ctx, "example", "ann"); u.Status != directory.StatusActive {
		t.Fatalf("a wrong password expired it: %s", u.Status)
	}
	if err := auth("First-passw0rd"); !errors.As(err, &e) || e.Code != directory.CodeInvalidCredentials || e.Message != directory.MsgPasswordExpired {
		t.Fatalf("day 90: %v, want the password expired", err)
	}
	if u, _ := d.User(ctx, "example", "ann"); u.Status != directory.StatusPasswordExpired {
		t.Fatalf("status %s, want PASSWORD_EXPIRED", u.Status)
	}
	if _, err := d.ChangePassword(ctx, "example", "ann", []byte("First-passw0rd"), []byte("Fifth-passw0rd")); err != nil {
		t.Fatal(err)
	}
	if err := auth("Fifth-passw0rd"); err != nil {
		t.Fatalf("after the change: %v", err)
	}
	if n := countEvents(t, d, directory.EventUserExpirePassword); n != 1 {
		t.Fatalf("%d %s events, want 1", n, directory.EventUserExpirePassword)
	}
}

// countEvents closes d (which writes the queued system log) and counts
// the org's events of one type.
func countEvents(t *testing.T, d *directory.Directory, eventType string) int {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := d.Events(context.Background(), "example", directory.EventFilter{EventType: eventType})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}
