package directory_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

// TestPOSIXNumbers: turning POSIX accounts on numbers the users and groups
// there are, in the order they were created; new ones get the next
// numbers; a number is never given twice, not even after its user is
// deleted; a full range says so; a range cannot move below the numbers
// given out; turning POSIX off and on keeps the numbers.
func TestPOSIXNumbers(t *testing.T) {
	d, _, c := newDir(t)
	ctx := context.Background()
	c.step = time.Second
	a := mustUser(t, d, "ann", "password-ann", "")
	b := mustUser(t, d, "bob", "password-bob", "")
	if _, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: "eng"}); err != nil {
		t.Fatal(err)
	}
	if a.UIDNumber != 0 {
		t.Fatalf("a user of an org without POSIX has uidNumber %d", a.UIDNumber)
	}
	o, err := d.SetPOSIX(ctx, "example", directory.POSIXSettings{Enabled: true, UIDMin: 5000, UIDMax: 5002})
	if err != nil {
		t.Fatal(err)
	}
	if p := o.LDAP.POSIX; p.GIDMin != directory.DefaultGIDMin || p.PrimaryGID != directory.DefaultPrimaryGID ||
		p.Home != directory.DefaultHome || p.Shell != directory.DefaultShell {
		t.Errorf("defaults not applied: %+v", p)
	}
	uid := func(login string) int64 {
		t.Helper()
		u, err := d.User(ctx, "example", login)
		if err != nil {
			t.Fatal(err)
		}
		return u.UIDNumber
	}
	if uid(a.Profile.Login) != 5000 || uid(b.Profile.Login) != 5001 {
		t.Errorf("numbered in creation order: ann %d, bob %d; want 5000, 5001", uid("ann"), uid("bob"))
	}
	if g, err := d.Group(ctx, "example", "eng"); err != nil || g.GIDNumber != directory.DefaultGIDMin {
		t.Errorf("eng's gidNumber: %v %v", g, err)
	}
	if g, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: "ops"}); err != nil || g.GIDNumber != directory.DefaultGIDMin+1 {
		t.Errorf("a new group's gidNumber: %v %v", g, err)
	}
	carol := mustUser(t, d, "carol", "password-carol", "")
	if carol.UIDNumber != 5002 {
		t.Errorf("a new user's uidNumber: %d, want 5002", carol.UIDNumber)
	}
	_, err = d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "dave"}})
	wantCode(t, err, directory.CodeInvalid)
	if !strings.Contains(err.Error(), "no uidNumber left in 5000-5002") {
		t.Errorf("a full range: %v", err)
	}
	for range 2 {
		if _, err := d.DeactivateOrDelete(ctx, "example", "carol"); err != nil {
			t.Fatal(err)
		}
	}
	_, err = d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "dave"}})
	wantCode(t, err, directory.CodeInvalid) // carol's 5002 is not given again
	_, err = d.SetPOSIX(ctx, "example", directory.POSIXSettings{Enabled: true, UIDMin: 100, UIDMax: 200})
	wantCode(t, err, directory.CodeInvalid)
	if !strings.Contains(err.Error(), "up to 5002 were already given out") {
		t.Errorf("a range below the numbers given: %v", err)
	}
	if _, err := d.SetPOSIX(ctx, "example", directory.POSIXSettings{Enabled: true, UIDMin: 5000, UIDMax: 5010}); err != nil {
		t.Fatal(err)
	}
	if dave := mustUser(t, d, "dave", "password-dave", ""); dave.UIDNumber != 5003 {
		t.Errorf("after widening, dave's uidNumber: %d, want 5003", dave.UIDNumber)
	}
	if _, err := d.SetPOSIX(ctx, "example", directory.POSIXSettings{}); err != nil {
		t.Fatal(err)
	}
	erin := mustUser(t, d, "erin", "password-erin", "")
	if erin.UIDNumber != 0 {
		t.Errorf("with POSIX off, a new user's uidNumber: %d", erin.UIDNumber)
	}
	if _, err := d.SetPOSIX(ctx, "example", directory.POSIXSettings{Enabled: true, UIDMin: 5000, UIDMax: 5010}); err != nil {
		t.Fatal(err)
	}
	if uid("ann") != 5000 || uid("erin") != 5004 {
		t.Errorf("after off and on: ann %d (want 5000), erin %d (want 5004)", uid("ann"), uid("erin"))
	}

	for _, bad := range []directory.POSIXSettings{
		{Enabled: true, UIDMin: 10, UIDMax: 5},
		{Enabled: true, GIDMax: 1 << 40},
		{Enabled: true, Home: "home/{login}"},
		{Enabled: true, Home: "/home/{user}"},
		{Enabled: true, Shell: "/bin/sh -x"},
	} {
		_, err := d.SetPOSIX(ctx, "example", bad)
		wantCode(t, err, directory.CodeInvalid)
	}
	u := &directory.User{UIDNumber: 7, Profile: directory.Profile{Login: "ann@example.com"}}
	if got := directory.HomeDirectory("/home/{localpart}/{uidNumber}/{login}", u); got != "/home/ann/7/ann@example.com" {
		t.Errorf("HomeDirectory: %q", got)
	}
}
