package directory_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// countingStore counts read transactions.
type countingStore struct {
	store.Store
	views atomic.Int64
}

func (c *countingStore) View(ctx context.Context, fn func(store.Reader) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

// TestAuthenticateFromCredential: with the snapshot's credential and
// compiled policies, a sign-in reads nothing from the store; after a write
// through the Directory (a failure counted, a suspension) it reads the
// store for a while, so the stale credential cannot let the user in.
func TestAuthenticateFromCredential(t *testing.T) {
	var cs *countingStore
	a := newAuditDir(t, func(st store.Store) store.Store { cs = &countingStore{Store: st}; return cs }, directory.Config{})
	ctx := context.Background()
	u := mustUser(t, a.d, "alice", "password-alice", "")
	si := ok(a.d.SignInOf(ctx, a.org.ID))(t)
	cred := directory.CredentialOf(u) // as a snapshot built now holds it
	auth := func(pw string) error {
		_, err := a.d.Authenticate(ctx, directory.AuthRequest{OrgID: a.org.ID, UserID: u.ID, Password: []byte(pw),
			SignIn: si, Credential: cred, Client: directory.ClientInfo{IP: "192.0.2.7", Protocol: "ldap"}})
		return err
	}
	views := func() int64 { return cs.views.Load() }

	a.clk.t = a.clk.t.Add(time.Minute) // the user's creation has settled
	v := views()
	if err := auth("password-alice"); err != nil {
		t.Fatal(err)
	}
	if n := views() - v; n != 0 {
		t.Fatalf("a sign-in from the credential read the store %d times", n)
	}
	// A failure is counted in the store; the next sign-in reads it.
	if auth("wrong-password") == nil {
		t.Fatal("a wrong password signed in")
	}
	v = views()
	if err := auth("password-alice"); err != nil {
		t.Fatal(err)
	}
	if views() == v {
		t.Fatal("the sign-in after a failure did not read the store")
	}
	// Suspended through the Directory: the credential still says ACTIVE,
	// the store is read and the user refused.
	ok(a.d.Lifecycle(ctx, "example", "alice", directory.ActionSuspend))(t)
	if err := auth("password-alice"); directory.CodeOf(err) != directory.CodeInvalidCredentials {
		t.Fatalf("suspended user with a stale credential: %v", err)
	}
	// Once settled, the credential counts again: a snapshot by then holds
	// the new one (here: the stale one still says ACTIVE, which shows it).
	a.clk.t = a.clk.t.Add(time.Minute)
	if err := auth("password-alice"); err != nil {
		t.Fatalf("settled: %v", err)
	}
	// A credential of another user, or without compiled policies, is not used.
	other := mustUser(t, a.d, "bob", "password-bob", "")
	a.clk.t = a.clk.t.Add(time.Minute)
	v = views()
	_, err := a.d.Authenticate(ctx, directory.AuthRequest{OrgID: a.org.ID, UserID: other.ID, Password: []byte("password-alice"),
		SignIn: si, Credential: cred, Client: directory.ClientInfo{IP: "192.0.2.7", Protocol: "ldap"}})
	if directory.CodeOf(err) != directory.CodeInvalidCredentials || views() == v {
		t.Fatalf("alice's credential for bob: %v, %d store reads", err, views()-v)
	}
}

// TestBindCache: a successful sign-in is remembered, so the same password
// is not verified again, until the TTL passes, the password changes, a
// sign-in fails, or the policies are compiled anew; a wrong password is
// never taken for the remembered one.
func TestBindCache(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{BindCacheTTL: time.Minute})
	ctx := context.Background()
	u := mustUser(t, a.d, "alice", "password-alice", "")
	si := ok(a.d.SignInOf(ctx, a.org.ID))(t)
	auth := func(pw string, si *directory.SignIn) error {
		_, err := a.d.Authenticate(ctx, directory.AuthRequest{OrgID: a.org.ID, UserID: u.ID, Password: []byte(pw), SignIn: si,
			Client: directory.ClientInfo{IP: "192.0.2.7", Protocol: "ldap"}})
		return err
	}
	step := func(name, pw string, si *directory.SignIn, wantOK, wantHit bool) {
		t.Helper()
		hits := a.d.BindCacheHits()
		err := auth(pw, si)
		if (err == nil) != wantOK {
			t.Fatalf("%s: %v", name, err)
		}
		if hit := a.d.BindCacheHits() > hits; hit != wantHit {
			t.Fatalf("%s: remembered %v, want %v", name, hit, wantHit)
		}
	}
	step("first", "password-alice", si, true, false)
	step("again", "password-alice", si, true, true)
	step("a wrong password", "password-alicf", si, false, false)
	step("after a failure", "password-alice", si, true, false)
	step("remembered again", "password-alice", si, true, true)
	a.clk.t = a.clk.t.Add(time.Minute)
	step("after the TTL", "password-alice", si, true, false)
	step("policies compiled anew", "password-alice", ok(a.d.SignInOf(ctx, a.org.ID))(t), true, false)
	ok(a.d.SetPassword(ctx, "example", "alice", []byte("new-password-alice")))(t)
	step("the old password after a change", "password-alice", si, false, false)
	step("the new one", "new-password-alice", si, true, false)
	step("the new one again", "new-password-alice", si, true, true)

	off := newAuditDir(t, nil, directory.Config{BindCacheTTL: -1})
	mustUser(t, off.d, "alice", "password-alice", "")
	for range 2 {
		if err := off.auth("alice", "password-alice"); err != nil {
			t.Fatal(err)
		}
	}
	if n := off.d.BindCacheHits(); n != 0 {
		t.Fatalf("cache off: %d hits", n)
	}
}

// TestCredentialOf: a credential carries the user's sign-in fields, with
// the display name the system log uses, whatever the profile has.
func TestCredentialOf(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		profile directory.Profile
		display string
	}{
		{"display name", directory.Profile{Login: "ann@x.example", DisplayName: "Ann X", FirstName: "Ann"}, "Ann X"},
		{"first and last", directory.Profile{Login: "ann@x.example", FirstName: "Ann", LastName: "Lee"}, "Ann Lee"},
		{"login only", directory.Profile{Login: "ann@x.example"}, "ann@x.example"},
		{"nothing", directory.Profile{}, ""},
	} {
		u := &directory.User{ID: "00u1", OrgID: "00o1", Status: directory.StatusActive, Type: store.TypePerson,
			PasswordHash: "{SSHA}abc", FailedLogins: 2, PasswordChanged: at, StatusChanged: at.Add(time.Hour), Profile: tt.profile}
		want := directory.Credential{UserID: "00u1", OrgID: "00o1", Login: tt.profile.Login, DisplayName: tt.display,
			PasswordHash: "{SSHA}abc", Status: directory.StatusActive, Type: store.TypePerson, FailedLogins: 2,
			PasswordChanged: at, StatusChanged: at.Add(time.Hour)}
		if got := directory.CredentialOf(u); *got != want {
			t.Errorf("%s: %+v, want %+v", tt.name, *got, want)
		}
	}
}
