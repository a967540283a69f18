package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store/sqlite"
	"path/filepath"
)

// TestUnknownUserCostsAVerification: an unknown user, a user without a
// password and a wrong password each cost one slow verification and get
// the same answer, so neither the answer nor the CPU tells them apart.
func TestUnknownUserCostsAVerification(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	mustUser(t, d, "alice", "right-password", "")
	if _, err := d.CreateUser(ctx, "example", directory.UserInput{
		Profile: directory.Profile{Login: "nopw", Email: "nopw@example.com", FirstName: "N", LastName: "P"}}); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, login := range []string{"nobody", "nopw", "alice"} {
		before := d.PasswordVerifications()
		_, err := d.Authenticate(ctx, authReq(t, d, login, "wrong-password"))
		wantCode(t, err, directory.CodeInvalidCredentials)
		msgs = append(msgs, err.(*directory.Error).Message)
		if n := d.PasswordVerifications() - before; n != 1 {
			t.Errorf("%s: %d slow verifications, want 1", login, n)
		}
	}
	if msgs[0] != msgs[1] || msgs[1] != msgs[2] || msgs[0] != directory.MsgInvalidCredentials {
		t.Errorf("messages differ: %q", msgs)
	}
	// A right password costs one too.
	before := d.PasswordVerifications()
	if _, err := d.Authenticate(ctx, authReq(t, d, "alice", "right-password")); err != nil {
		t.Fatal(err)
	}
	if n := d.PasswordVerifications() - before; n != 1 {
		t.Errorf("a right bind: %d slow verifications, want 1", n)
	}
	// A password over the length bound costs none: argon2 is not a
	// denial of service through huge inputs.
	before = d.PasswordVerifications()
	huge := make([]byte, 1<<20)
	for i := range huge {
		huge[i] = 'a'
	}
	_, err := d.Authenticate(ctx, authReq(t, d, "alice", string(huge)))
	wantCode(t, err, directory.CodeInvalidCredentials)
	if n := d.PasswordVerifications() - before; n != 0 {
		t.Errorf("a 1 MiB password ran %d slow verifications", n)
	}
}

// TestFailureFloor: every failed sign-in waits out the failure floor from
// its start (with the injected clock still, the whole floor), so unknown
// users and wrong passwords answer at the same time; a failure that took
// longer waits no more, and successes never wait.
func TestFailureFloor(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	var slept []time.Duration
	const floor = 250 * time.Millisecond
	d, err := directory.New(directory.Config{Store: st, Password: cheap, Now: c.now, LoginFlushInterval: time.Hour,
		FailureFloor: floor, Sleep: func(_ context.Context, d time.Duration) { slept = append(slept, d) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); st.Close() })
	ctx := context.Background()
	if _, err := d.CreateOrg(ctx, directory.OrgInput{Name: "example"}); err != nil {
		t.Fatal(err)
	}
	mustUser(t, d, "alice", "right-password", "")
	for _, login := range []string{"nobody", "alice"} {
		slept = nil
		_, err := d.Authenticate(ctx, authReq(t, d, login, "wrong-password"))
		wantCode(t, err, directory.CodeInvalidCredentials)
		if len(slept) != 1 || slept[0] != floor {
			t.Errorf("%s: slept %v, want the whole floor %v (the clock did not move)", login, slept, floor)
		}
	}
	slept = nil
	if _, err := d.Authenticate(ctx, authReq(t, d, "alice", "right-password")); err != nil || len(slept) != 0 {
		t.Errorf("a success slept %v (%v)", slept, err)
	}
	// A failure that already took longer than the floor waits no more.
	c.step = floor
	slept = nil
	_, err = d.Authenticate(ctx, authReq(t, d, "nobody", "wrong-password"))
	wantCode(t, err, directory.CodeInvalidCredentials)
	if len(slept) != 1 || slept[0] != 0 {
		t.Errorf("a failure slower than the floor slept %v, want 0", slept)
	}
}
