package directory_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// noSleep keeps throttled answers from slowing tests that fail many
// sign-ins on purpose; TestThrottle looks at the delays themselves.
func noSleep(context.Context, time.Duration) {}

// TestThrottle: failed sign-ins from one address are answered later and
// later past the soft limit, then refused past the hard one until the
// window ends; another address and successful sign-ins are unaffected.
func TestThrottle(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	var delays []time.Duration
	d, err := directory.New(directory.Config{Store: st, Password: cheap, Now: c.now,
		Throttle: directory.ThrottleConfig{Window: time.Minute, Soft: 2, Hard: 5, Step: 100 * time.Millisecond, MaxDelay: 250 * time.Millisecond},
		Sleep: func(_ context.Context, x time.Duration) {
			mu.Lock()
			delays = append(delays, x)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	o, _ := d.CreateOrg(ctx, directory.OrgInput{Name: "example"})
	mustUser(t, d, "alice", "right-password", "")
	mustUser(t, d, "bob", "right-password", "")
	auth := func(ip, pw string) error {
		_, err := d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: "alice", Password: []byte(pw),
			Client: directory.ClientInfo{IP: ip, Protocol: "ldap"}})
		return err
	}
	for range 5 {
		if err := auth("192.0.2.1", "wrong"); directory.CodeOf(err) != directory.CodeInvalidCredentials {
			t.Fatal(err)
		}
	}
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}
	mu.Lock()
	got := append([]time.Duration(nil), delays...)
	mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	// Past the hard limit the account is refused from that address, even
	// with the right password; from another address it signs in, and so
	// does another account from the same address (users behind one
	// PostgreSQL server are not locked out together).
	if err := auth("192.0.2.1", "right-password"); directory.CodeOf(err) != directory.CodeThrottled {
		t.Fatalf("after 5 failures: %v", err)
	}
	if err := auth("198.51.100.9", "right-password"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	if _, err := d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: "bob", Password: []byte("right-password"),
		Client: directory.ClientInfo{IP: "192.0.2.1", Protocol: "ldap"}}); err != nil {
		t.Fatalf("another account from the same address: %v", err)
	}
	// Lockout (10 by default) is separate: 5 failures do not lock.
	c.t = c.t.Add(time.Minute)
	if err := auth("192.0.2.1", "right-password"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
