package directory_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// cheap keeps argon2id fast under -race; the parameters are not under test.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// clock is the tests' clock: still, or moving step at each reading.
type clock struct {
	t    time.Time
	step time.Duration
}

func (c *clock) now() time.Time {
	if c.step != 0 {
		c.t = c.t.Add(c.step)
	}
	return c.t
}

func newDir(t *testing.T) (*directory.Directory, store.Store, *clock) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	d, err := directory.New(directory.Config{Store: st, Password: cheap, Now: c.now, LoginFlushInterval: time.Hour, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); st.Close() })
	if _, err := d.CreateOrg(context.Background(), directory.OrgInput{Name: "example", CustomAttributes: []string{"costCenter"}}); err != nil {
		t.Fatal(err)
	}
	return d, st, c
}

func mustUser(t *testing.T, d *directory.Directory, login, pw string, status string) *directory.User {
	t.Helper()
	u, err := d.CreateUser(context.Background(), "example", directory.UserInput{
		Profile:  directory.Profile{Login: login, Email: login + "@example.com", FirstName: "F", LastName: "L"},
		Password: []byte(pw), Status: status})
	if err != nil {
		t.Fatalf("create %s: %v", login, err)
	}
	return u
}

func wantCode(t *testing.T, err error, code directory.Code) {
	t.Helper()
	if got := directory.CodeOf(err); got != code {
		t.Fatalf("error %v: code %v, want %v", err, got, code)
	}
}

func TestCreateUserValidation(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	mustUser(t, d, "alice", "password-alice", "")
	for _, tc := range []struct {
		name  string
		in    directory.UserInput
		code  directory.Code
		field string
	}{
		{"no login", directory.UserInput{}, directory.CodeInvalid, "profile.login"},
		{"space in login", directory.UserInput{Profile: directory.Profile{Login: "a b"}}, directory.CodeInvalid, "profile.login"},
		{"control char", directory.UserInput{Profile: directory.Profile{Login: "a\x01"}}, directory.CodeInvalid, "profile.login"},
		{"too long", directory.UserInput{Profile: directory.Profile{Login: strings.Repeat("a", 101)}}, directory.CodeInvalid, "profile.login"},
		{"bad email", directory.UserInput{Profile: directory.Profile{Login: "x", Email: "nope"}}, directory.CodeInvalid, "profile.email"},
		{"undeclared attribute", directory.UserInput{Profile: directory.Profile{Login: "x", Custom: map[string]string{"shoe": "9"}}}, directory.CodeInvalid, "profile.shoe"},
		{"bad status", directory.UserInput{Profile: directory.Profile{Login: "x"}, Status: "SUSPENDED"}, directory.CodeInvalid, "status"},
		{"bad role", directory.UserInput{Profile: directory.Profile{Login: "x"}, Roles: []string{"GOD"}}, directory.CodeInvalid, "role"},
		{"duplicate login, other case", directory.UserInput{Profile: directory.Profile{Login: "ALICE"}}, directory.CodeConflict, "profile.login"},
		{"bad hash", directory.UserInput{Profile: directory.Profile{Login: "x"}, PasswordHash: "{MD5}abc"}, directory.CodeInvalid, "credentials.password.hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.CreateUser(ctx, "example", tc.in)
			wantCode(t, err, tc.code)
			var e *directory.Error
			if errors.As(err, &e) && e.Field != tc.field {
				t.Fatalf("field %q, want %q", e.Field, tc.field)
			}
		})
	}
	if _, err := d.CreateUser(ctx, "nope", directory.UserInput{Profile: directory.Profile{Login: "x"}}); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("unknown org: %v", err)
	}
	// Roles are case-insensitive and canonicalised; a custom attribute is kept.
	u, err := d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "svc", Custom: map[string]string{"costCenter": "42"}},
		Roles: []string{"read_only_admin"}, ServiceAccount: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Roles) != 1 || u.Roles[0] != directory.RoleReadOnlyAdmin || u.Type != store.TypeServiceAccount || !directory.CanViewAll(u) {
		t.Fatalf("service account: %+v", u)
	}
	if !strings.HasPrefix(u.ID, "00u") || len(u.ID) != 20 {
		t.Fatalf("id %q", u.ID)
	}
	got, err := d.User(ctx, "example", "SVC")
	if err != nil || got.ID != u.ID || got.Profile.Custom["costCenter"] != "42" {
		t.Fatalf("lookup by login in other case: %+v %v", got, err)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	// Each row starts from a fresh user in the given status (reached by the
	// listed actions) and applies one action.
	steps := map[string][]directory.Action{
		directory.StatusStaged:          nil,
		directory.StatusActive:          {directory.ActionActivate},
		directory.StatusSuspended:       {directory.ActionActivate, directory.ActionSuspend},
		directory.StatusDeprovisioned:   {directory.ActionDeactivate},
		directory.StatusPasswordExpired: {directory.ActionActivate, directory.ActionExpirePassword},
	}
	for _, tc := range []struct {
		from   string
		action directory.Action
		to     string // "" = illegal
	}{
		{directory.StatusStaged, directory.ActionActivate, directory.StatusActive},
		{directory.StatusStaged, directory.ActionSuspend, ""},
		{directory.StatusStaged, directory.ActionDeactivate, directory.StatusDeprovisioned},
		{directory.StatusActive, directory.ActionSuspend, directory.StatusSuspended},
		{directory.StatusActive, directory.ActionActivate, ""},
		{directory.StatusActive, directory.ActionUnlock, ""},
		{directory.StatusActive, directory.ActionExpirePassword, directory.StatusPasswordExpired},
		{directory.StatusSuspended, directory.ActionUnsuspend, directory.StatusActive},
		{directory.StatusSuspended, directory.ActionDeactivate, directory.StatusDeprovisioned},
		{directory.StatusSuspended, directory.ActionSuspend, ""},
		{directory.StatusDeprovisioned, directory.ActionActivate, directory.StatusActive},
		{directory.StatusDeprovisioned, directory.ActionDeactivate, ""},
		{directory.StatusDeprovisioned, directory.ActionSuspend, ""},
		{directory.StatusPasswordExpired, directory.ActionDeactivate, directory.StatusDeprovisioned},
		{directory.StatusPasswordExpired, directory.ActionUnsuspend, ""},
	} {
		t.Run(tc.from+"/"+string(tc.action), func(t *testing.T) {
			d, _, c := newDir(t)
			mustUser(t, d, "u", "password", directory.StatusStaged)
			for _, a := range steps[tc.from] {
				if _, err := d.Lifecycle(ctx, "example", "u", a); err != nil {
					t.Fatal(err)
				}
			}
			c.t = c.t.Add(time.Minute)
			u, err := d.Lifecycle(ctx, "example", "u", tc.action)
			if tc.to == "" {
				wantCode(t, err, directory.CodeIllegalTransition)
				msg := err.Error()
				if !strings.Contains(msg, tc.from) || !strings.Contains(msg, "allowed actions are") {
					t.Fatalf("message does not say what is allowed: %q", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Status != tc.to || !u.StatusChanged.Equal(c.t) {
				t.Fatalf("status %s changed %v, want %s at %v", u.Status, u.StatusChanged, tc.to, c.t)
			}
		})
	}
}

func TestLockedOutUnlock(t *testing.T) {
	// LOCKED_OUT is reached by lockout (issue 5); an imported LOCKED_OUT
	// user lets us test unlock now.
	d, _, _ := newDir(t)
	ctx := context.Background()
	h, _ := password.NewHasher(cheap).Hash([]byte("password"))
	if _, err := d.Import(ctx, "example", []directory.ImportUser{{UserInput: directory.UserInput{
		Profile: directory.Profile{Login: "locked"}, PasswordHash: h, Status: directory.StatusLockedOut}}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Authenticate(ctx, authReq(t, d, "locked", "password")); directory.CodeOf(err) != directory.CodeInvalidCredentials {
		t.Fatalf("locked out user signed in: %v", err)
	}
	u, err := d.Lifecycle(ctx, "example", "locked", directory.ActionUnlock)
	if err != nil || u.Status != directory.StatusActive {
		t.Fatalf("unlock: %+v %v", u, err)
	}
	if _, err := d.Authenticate(ctx, authReq(t, d, "locked", "password")); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestDeleteOnlyDeprovisioned(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	mustUser(t, d, "u", "password", "")
	wantCode(t, d.DeleteUser(ctx, "example", "u"), directory.CodeIllegalTransition)
	if _, err := d.Lifecycle(ctx, "example", "u", directory.ActionDeactivate); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteUser(ctx, "example", "u"); err != nil {
		t.Fatal(err)
	}
	_, err := d.User(ctx, "example", "u")
	wantCode(t, err, directory.CodeNotFound)
}

func authReq(t *testing.T, d *directory.Directory, login, pw string) directory.AuthRequest {
	t.Helper()
	o, err := d.Org(context.Background(), "example")
	if err != nil {
		t.Fatal(err)
	}
	return directory.AuthRequest{OrgID: o.ID, Login: login, Password: []byte(pw), Client: directory.ClientInfo{IP: "127.0.0.1", Protocol: "ldap"}}
}

func TestAuthenticate(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	mustUser(t, d, "alice", "right, with ünïcode", "")
	mustUser(t, d, "staged", "password", directory.StatusStaged)
	for _, s := range []struct {
		login string
		steps []directory.Action
	}{
		{"suspended", []directory.Action{directory.ActionSuspend}},
		{"gone", []directory.Action{directory.ActionDeactivate}},
		{"expired", []directory.Action{directory.ActionExpirePassword}},
	} {
		mustUser(t, d, s.login, "password", "")
		for _, a := range s.steps {
			if _, err := d.Lifecycle(ctx, "example", s.login, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "nopw"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		login, pw string
		ok        bool
		reason    string
	}{
		{"alice", "right, with ünïcode", true, ""},
		{"ALICE", "right, with ünïcode", true, ""},
		{"alice", "wrong", false, "wrong password"},
		{"alice", "", false, "empty password"},
		{"nobody", "password", false, "no such user"},
		{"nopw", "password", false, "user has no password"},
		{"staged", "password", false, "user is STAGED"},
		{"suspended", "password", false, "user is SUSPENDED"},
		{"gone", "password", false, "user is DEPROVISIONED"},
		{"expired", "password", false, "password expired"},
	} {
		t.Run(tc.login+"/"+tc.pw, func(t *testing.T) {
			u, err := d.Authenticate(ctx, authReq(t, d, tc.login, tc.pw))
			if tc.ok {
				if err != nil || u == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *directory.Error
			msg := directory.MsgInvalidCredentials
			if tc.login == "expired" { // told, as the password was right
				msg = directory.MsgPasswordExpired
			}
			if !errors.As(err, &e) || e.Code != directory.CodeInvalidCredentials || e.Message != msg || e.Reason != tc.reason {
				t.Fatalf("got %#v, want invalid credentials because %q", err, tc.reason)
			}
		})
	}
	// A password change makes an expired user ACTIVE again.
	u, err := d.ChangePassword(ctx, "example", "expired", []byte("password"), []byte("new-password"))
	if err != nil || u.Status != directory.StatusActive {
		t.Fatalf("change password: %+v %v", u, err)
	}
	if _, err := d.ChangePassword(ctx, "example", "alice", []byte("not it"), []byte("x")); directory.CodeOf(err) != directory.CodeInvalidCredentials {
		t.Fatalf("change with wrong old password: %v", err)
	}
}

func TestLastLoginCoalesced(t *testing.T) {
	d, st, c := newDir(t)
	ctx := context.Background()
	u := mustUser(t, d, "alice", "password", "")
	seq0, _ := st.Seq(ctx)
	for range 5 {
		c.t = c.t.Add(time.Second)
		if _, err := d.Authenticate(ctx, authReq(t, d, "alice", "password")); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := d.User(ctx, "example", "alice"); !got.LastLogin.IsZero() {
		t.Fatalf("last login written per bind: %v", got.LastLogin)
	}
	if err := d.FlushLogins(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := d.User(ctx, "example", u.ID)
	if !got.LastLogin.Equal(c.t) {
		t.Fatalf("last login %v, want %v", got.LastLogin, c.t)
	}
	if seq, _ := st.Seq(ctx); seq != seq0 {
		t.Fatalf("bookkeeping bumped the change sequence %d -> %d", seq0, seq)
	}
}

// TestLegacyHashes: an imported hash verifies as imported and stays as it
// is; with UpgradeHashes, the first successful sign-in re-hashes it with
// argon2id.
func TestLegacyHashes(t *testing.T) {
	for _, upgrade := range []bool{false, true} {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := directory.New(directory.Config{Store: st, Password: cheap, Sleep: noSleep, UpgradeHashes: upgrade})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := d.CreateOrg(ctx, directory.OrgInput{Name: "example"}); err != nil {
			t.Fatal(err)
		}
		// {SSHA} of "secret" with salt "salt" (sha1("secret"+"salt") || "salt").
		const ssha = "{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5zYWx0"
		if _, err := d.Import(ctx, "example", []directory.ImportUser{{UserInput: directory.UserInput{Profile: directory.Profile{Login: "old"}, PasswordHash: ssha}}}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Authenticate(ctx, authReq(t, d, "old", "secret")); err != nil {
			t.Fatal(err)
		}
		u, _ := d.User(ctx, "example", "old")
		if upgraded := strings.HasPrefix(u.PasswordHash, "{ARGON2}$argon2id$"); upgraded != upgrade {
			t.Fatalf("UpgradeHashes %v: hash now %s…", upgrade, u.PasswordHash[:10])
		}
		if _, err := d.Authenticate(ctx, authReq(t, d, "old", "secret")); err != nil {
			t.Fatalf("UpgradeHashes %v: the hash no longer verifies: %v", upgrade, err)
		}
		d.Close()
		st.Close()
	}
}

func TestGroupsAndRoles(t *testing.T) {
	d, st, _ := newDir(t)
	ctx := context.Background()
	mustUser(t, d, "alice", "password", "")
	mustUser(t, d, "bob", "password", "")
	g, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: "Engineering", Description: "builders"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.CreateGroup(ctx, "example", directory.GroupInput{Name: "engineering"})
	wantCode(t, err, directory.CodeConflict)
	_, err = d.CreateGroup(ctx, "example", directory.GroupInput{Name: " "})
	wantCode(t, err, directory.CodeInvalid)

	seq0, _ := st.Seq(ctx)
	for _, login := range []string{"bob", "alice", "alice"} {
		if _, err := d.AddMember(ctx, "example", "engineering", login); err != nil {
			t.Fatal(err)
		}
	}
	if seq, _ := st.Seq(ctx); seq == seq0 {
		t.Fatal("membership changes did not bump the sequence")
	}
	members, err := d.GroupMembers(ctx, "example", g.ID)
	if err != nil || len(members) != 2 || members[0].Profile.Login != "alice" {
		t.Fatalf("members %v %v", members, err)
	}
	if changed, err := d.RemoveMember(ctx, "example", "Engineering", "bob"); err != nil || !changed {
		t.Fatalf("remove: %v %v", changed, err)
	}
	if changed, _ := d.RemoveMember(ctx, "example", "Engineering", "bob"); changed {
		t.Fatal("second remove reported a change")
	}
	gs, _ := d.UserGroups(ctx, "example", "alice")
	if len(gs) != 1 || gs[0].ID != g.ID {
		t.Fatalf("alice's groups %v", gs)
	}
	if _, err := d.AddMember(ctx, "example", "engineering", "nobody"); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("unknown member: %v", err)
	}

	u, err := d.AssignRole(ctx, "example", "bob", "org_admin")
	if err != nil || !directory.CanViewAll(u) {
		t.Fatalf("assign: %+v %v", u, err)
	}
	u, err = d.RemoveRole(ctx, "example", "bob", "ORG_ADMIN")
	if err != nil || directory.CanViewAll(u) {
		t.Fatalf("remove role: %+v %v", u, err)
	}
	_, err = d.RemoveRole(ctx, "example", "bob", "ORG_ADMIN")
	wantCode(t, err, directory.CodeNotFound)
	if err := d.DeleteGroup(ctx, "example", "engineering"); err != nil {
		t.Fatal(err)
	}
}

func TestImportAllOrNothing(t *testing.T) {
	d, st, _ := newDir(t)
	ctx := context.Background()
	mustUser(t, d, "taken", "password", "")
	seq0, _ := st.Seq(ctx)
	users := []directory.ImportUser{
		{UserInput: directory.UserInput{Profile: directory.Profile{Login: "new1"}}, Source: "line 1"},
		{UserInput: directory.UserInput{Profile: directory.Profile{Login: "TAKEN"}}, Source: "line 9"},
	}
	_, err := d.Import(ctx, "example", users, nil, nil)
	wantCode(t, err, directory.CodeConflict)
	if !strings.Contains(err.Error(), "line 9") {
		t.Fatalf("error does not say where: %v", err)
	}
	if _, err := d.User(ctx, "example", "new1"); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("a failed import left new1 behind: %v", err)
	}
	if seq, _ := st.Seq(ctx); seq != seq0 {
		t.Fatal("failed import bumped the sequence")
	}

	users[1].Profile.Login = "new2"
	var calls int
	res, err := d.Import(ctx, "example", users, []directory.ImportGroup{
		{GroupInput: directory.GroupInput{Name: "g"}, MemberLogins: []string{"new1", "NEW2", "taken", "ghost"}, Source: "line 20"},
	}, func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if res.Users != 2 || res.Groups != 1 || res.Memberships != 3 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "ghost") || calls != 3 {
		t.Fatalf("result %+v calls %d", res, calls)
	}
}

func TestOrgs(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	for _, in := range []directory.OrgInput{
		{Name: "Bad_Name"}, {Name: "-x"}, {Name: "ok", Suffix: "not a dn"},
		{Name: "ok", CustomAttributes: []string{"mail"}}, {Name: "ok", CustomAttributes: []string{"a", "A"}},
	} {
		if _, err := d.CreateOrg(ctx, in); directory.CodeOf(err) != directory.CodeInvalid {
			t.Errorf("%+v: %v", in, err)
		}
	}
	_, err := d.CreateOrg(ctx, directory.OrgInput{Name: "example"})
	wantCode(t, err, directory.CodeConflict)
	o, err := d.CreateOrg(ctx, directory.OrgInput{Name: "acme", Suffix: "dc=corp,dc=test"})
	if err != nil || directory.BaseDN(o) != "dc=acme,dc=corp,dc=test" {
		t.Fatalf("%v %v", o, err)
	}
	// The same login may exist in two orgs.
	mustUser(t, d, "alice", "password", "")
	if _, err := d.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "alice"}}); err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, d, "carol", "password", "")
	if _, err := d.UpdateProfile(ctx, "example", "carol", directory.Profile{Login: "carol", Custom: map[string]string{"costCenter": "7"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetCustomAttributes(ctx, "example", nil); directory.CodeOf(err) != directory.CodeInvalid {
		t.Fatalf("removing an attribute in use: %v", err)
	}
	if _, err := d.UpdateProfile(ctx, "example", u.ID, directory.Profile{Login: "alice"}); directory.CodeOf(err) != directory.CodeConflict {
		t.Fatalf("rename onto a taken login: %v", err)
	}
}
