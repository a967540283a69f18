package directory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

const lockoutPolicy = `
kind: password
name: Lock after 3
priority: 1
people: {groups: {include: [Everyone]}}
settings:
  minLength: 8
  lockout: {maxAttempts: 3, autoUnlockMinutes: 30}
`

// TestLockout: failed sign-ins are counted in the store before the answer,
// lock the user out at the policy's threshold, unlock automatically after
// the policy's minutes (injected clock) or by an admin, and a success
// resets the count. Without a password policy the default locks after 10
// and never unlocks by itself.
func TestLockout(t *testing.T) {
	d, st, c := newDir(t)
	ctx := context.Background()
	mustUser(t, d, "alice", "right-password", "")
	mustUser(t, d, "bob", "right-password", "")
	if _, err := d.ApplyPolicies(ctx, "example", parse(t, lockoutPolicy), directory.PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	auth := func(login, pw string) error {
		_, err := d.Authenticate(ctx, authReq(t, d, login, pw))
		return err
	}
	reason := func(err error) string {
		var e *directory.Error
		if errors.As(err, &e) {
			return e.Reason
		}
		return ""
	}
	status := func(login string) (string, int) {
		u, err := d.User(ctx, "example", login)
		if err != nil {
			t.Fatal(err)
		}
		return u.Status, u.FailedLogins
	}

	// Two failures, then a success: the count is reset.
	auth("alice", "x")
	auth("alice", "x")
	if s, n := status("alice"); s != directory.StatusActive || n != 2 {
		t.Fatalf("after 2 failures: %s %d", s, n)
	}
	if err := auth("alice", "right-password"); err != nil {
		t.Fatal(err)
	}
	if _, n := status("alice"); n != 0 {
		t.Fatalf("a success left the count at %d", n)
	}
	// Three failures lock; the right password is then refused.
	for range 3 {
		auth("alice", "x")
	}
	if s, n := status("alice"); s != directory.StatusLockedOut || n != 3 {
		t.Fatalf("after 3 failures: %s %d", s, n)
	}
	if err := auth("alice", "right-password"); reason(err) != "user is LOCKED_OUT" {
		t.Fatalf("locked out user: %v", err)
	}
	// The count survives a restart: a second Directory on the same store
	// sees it (nothing is kept only in memory).
	d2, err := directory.New(directory.Config{Store: st, Password: cheap, Now: c.now, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if u, _ := d2.User(ctx, "example", "alice"); u.FailedLogins < 3 {
		t.Fatalf("the count was not persisted: %d", u.FailedLogins)
	}
	c.t = c.t.Add(29 * time.Minute)
	if err := auth("alice", "right-password"); reason(err) != "user is LOCKED_OUT" {
		t.Fatalf("unlocked too early: %v", err)
	}
	c.t = c.t.Add(2 * time.Minute)
	if err := auth("alice", "right-password"); err != nil {
		t.Fatalf("not unlocked after 30 minutes: %v", err)
	}
	if s, n := status("alice"); s != directory.StatusActive || n != 0 {
		t.Fatalf("after auto unlock: %s %d", s, n)
	}
	// An admin unlock starts a fresh count.
	for range 3 {
		auth("alice", "x")
	}
	if _, err := d.Lifecycle(ctx, "example", "alice", directory.ActionUnlock); err != nil {
		t.Fatal(err)
	}
	auth("alice", "x")
	auth("alice", "x")
	if err := auth("alice", "right-password"); err != nil {
		t.Fatalf("after admin unlock and 2 failures: %v", err)
	}

	// The default policy: 10 failures, no automatic unlock.
	if err := d.DeletePolicy(ctx, "example", "password", "Lock after 3"); err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		auth("bob", "x")
		if s, _ := status("bob"); s != directory.StatusActive {
			t.Fatalf("bob locked after %d failures", i+1)
		}
	}
	auth("bob", "x")
	if s, _ := status("bob"); s != directory.StatusLockedOut {
		t.Fatalf("bob not locked after 10 failures: %s", s)
	}
	c.t = c.t.Add(30 * 24 * time.Hour)
	if err := auth("bob", "right-password"); reason(err) != "user is LOCKED_OUT" {
		t.Fatalf("the default unlocked by itself: %v", err)
	}
}
