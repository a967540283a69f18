package storecopy

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/pgtest"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/postgres"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

var ctx = context.Background()

// t0 has nanoseconds, which SQLite keeps and PostgreSQL does not.
var t0 = time.Date(2025, 6, 7, 8, 9, 10, 123_456_789, time.UTC)

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func id(prefix string, n int) string { return fmt.Sprintf("%s%017d", prefix, n) }

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func all(errs ...error) error { return errors.Join(errs...) }

// fixture is what fill wrote, for the tests' own checks.
type fixture struct {
	acme, beta, gone string // org ids; gone was deleted, its events kept
	ann              string // a user of acme with every field set
	annLogin         time.Time
	token            string // ann's API token
	tokenUsed        time.Time
	events           int // events in all
}

// fill writes every kind of record into s: two orgs (and a third deleted
// after it logged events), users with every field set (last logins also
// through RecordLogins, POSIX uidNumbers), groups (gidNumbers),
// memberships and group links (nested groups), the orgs' POSIX counters
// (acme's uid counter past a number no user holds), factors, policies,
// API
// tokens of an org and of the installation (last use through
// RecordTokenUses), integrations with user and group links, and events of
// every org, of no org and of the deleted org, more than a batch's worth.
func fill(t *testing.T, s store.Store) fixture {
	t.Helper()
	f := fixture{acme: id("00o", 1), beta: id("00o", 2), gone: id("00o", 3), ann: id("00u", 1)}
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	update(t, s, func(tx store.Tx) error {
		return all(
			tx.CreateOrg(&store.Org{ID: f.acme, Name: "acme", Suffix: "dc=okta,dc=com", Created: at(0),
				CustomAttributes: []string{"costCenter"}, MFASeparator: "|", SelfServiceAttributes: []string{"nickName"}}),
			tx.CreateOrg(&store.Org{ID: f.beta, Name: "beta", Suffix: "dc=example,dc=org", Created: at(1),
				SelfServiceAttributes: []string{}}), // empty: nothing editable (nil is the default set)
			tx.CreateOrg(&store.Org{ID: f.gone, Name: "gone", Suffix: "dc=okta,dc=com", Created: at(2)}),
		)
	})
	update(t, s, func(tx store.Tx) error {
		var errs []error
		// uidNumber allocates the org's next one (from 10000), gidNumber
		// the next group number (from 20000).
		number := func(org, kind string, lo int64) int64 {
			n, err := tx.NextPOSIXNumber(org, kind, lo, lo+9999)
			errs = append(errs, err)
			return n
		}
		for n, login := range []string{"ann", "bob", "cat", "dan"} {
			org := f.acme
			if login == "dan" {
				org = f.beta
			}
			u := &store.User{
				ID: id("00u", n+1), OrgID: org, Status: store.StatusActive, Type: store.TypePerson, LoginKey: login,
				Profile: store.Profile{Login: login + "@example.com", Email: login + "@example.com", FirstName: "F" + login,
					LastName: "L" + login, DisplayName: "D " + login, NickName: "n", Title: "T", Department: "Dep",
					Organization: "Org", MobilePhone: "+1 555 0100", PrimaryPhone: "+1 555 0101",
					Custom: map[string]string{"costCenter": "cc-" + login, "badge": "7"}},
				PasswordHash: "{ARGON2}$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + login,
				Roles:        []string{"READ_ONLY_ADMIN"},
				Created:      at(10), Activated: at(11), StatusChanged: at(12), LastLogin: at(13), LastUpdated: at(14),
				PasswordChanged: at(15), FailedLogins: n, LastFailedLogin: at(16),
				PasswordHistory: []string{"{SSHA}b2xk" + login, "{SSHA}b2xkZXI="},
			}
			if login == "cat" {
				u.Status, u.Type, u.Roles, u.Profile.Custom, u.PasswordHash, u.PasswordHistory = store.StatusSuspended, store.TypeServiceAccount, nil, nil, "", nil
				u.Activated, u.LastLogin = time.Time{}, time.Time{}
			} else {
				u.UIDNumber = number(org, store.POSIXUID, 10000) // ann 10000, bob 10001; dan 10000 of beta
			}
			errs = append(errs, tx.CreateUser(u))
		}
		number(f.acme, store.POSIXUID, 10000) // 10002, of no user: the counter goes on from 10003
		errs = append(errs, tx.CreateUser(&store.User{ID: id("00u", 9), OrgID: f.gone, Status: store.StatusActive,
			Type: store.TypePerson, LoginKey: "zed", Profile: store.Profile{Login: "zed"}, Created: at(9),
			UIDNumber: number(f.gone, store.POSIXUID, 10000)}))
		for n, name := range []string{"eng", "ops", "sre"} {
			g := &store.Group{ID: id("00g", n+1), OrgID: f.acme, NameKey: name, Name: strings.ToUpper(name),
				Description: "the " + name, Created: at(20), LastUpdated: at(21), LastMembershipUpdated: at(22)}
			if name != "sre" {
				g.GIDNumber = number(f.acme, store.POSIXGID, 20000) // eng 20000, ops 20001
			}
			errs = append(errs, tx.CreateGroup(g))
		}
		errs = append(errs, tx.CreateGroup(&store.Group{ID: id("00g", 4), OrgID: f.beta, NameKey: "all", Name: "All", Created: at(20)}))
		// sre is in ops and in eng, ops in eng.
		for _, l := range [][2]int{{2, 3}, {1, 2}, {1, 3}} {
			_, err := tx.AddGroupLink(id("00g", l[0]), id("00g", l[1]))
			errs = append(errs, err)
		}
		for _, m := range [][2]int{{1, 1}, {1, 2}, {2, 2}} {
			_, err := tx.AddMember(id("00g", m[0]), id("00u", m[1]))
			errs = append(errs, err)
		}
		_, err := tx.AddMember(id("00g", 4), id("00u", 4))
		errs = append(errs, err,
			tx.CreateFactor(&store.Factor{ID: id("00f", 1), OrgID: f.acme, UserID: f.ann, Type: store.FactorTOTP, Status: store.FactorActive,
				Secret: "v1.k1.c2VhbGVk", LastStep: 58_000_123, Created: at(30), Activated: at(31), LastUpdated: at(32)}),
			tx.CreateFactor(&store.Factor{ID: id("00f", 2), OrgID: f.acme, UserID: f.ann, Type: store.FactorPush,
				Status: store.FactorPendingActivation, Created: at(33)}),
			tx.CreatePolicy(&store.Policy{ID: id("00p", 1), OrgID: f.acme, Kind: store.PolicySignOn, Name: "MFA", NameKey: "mfa", Priority: 1,
				Doc: []byte(`{"name":"MFA",  "rules":[{"factor":"totp"}]}`), Created: at(40), LastUpdated: at(41)}),
			tx.CreatePolicy(&store.Policy{ID: id("00p", 2), OrgID: f.acme, Kind: store.PolicyPassword, Name: "Default", NameKey: "default",
				Priority: 2, Created: at(42)}),
			tx.CreateToken(&store.Token{ID: id("00T", 1), OrgID: f.acme, UserID: f.ann, Name: "ci", Hash: strings.Repeat("a", 64), Created: at(50)}),
			tx.CreateToken(&store.Token{ID: id("00T", 2), Name: "installation", Hash: strings.Repeat("b", 64), Created: at(51), LastUsed: at(52)}),
			tx.CreateIntegration(&store.Integration{ID: id("0oa", 1), OrgID: f.acme, Name: "AD", NameKey: "ad", Kind: "ldap", Default: true,
				Settings: []byte(`{"urls":["ldaps://ad.example"]}`), Owned: []string{"email"}, Secret: "sealed", State: []byte(`{"lastRun":"x"}`),
				Created: at(60), LastUpdated: at(61)}),
			tx.CreateIntegration(&store.Integration{ID: id("0oa", 2), OrgID: f.beta, Name: "Other", NameKey: "other", Kind: "ldap", Created: at(62)}),
			tx.PutSyncUser(store.SyncLink{IntegrationID: id("0oa", 1), ExternalID: "ext-bob", LocalID: id("00u", 2)}),
			tx.PutSyncUser(store.SyncLink{IntegrationID: id("0oa", 1), ExternalID: "ext-cat", LocalID: id("00u", 3)}),
			tx.PutSyncGroup(store.SyncLink{IntegrationID: id("0oa", 1), ExternalID: "ext-ops", LocalID: id("00g", 2)}),
		)
		return all(errs...)
	})
	f.annLogin, f.tokenUsed = at(100).Add(7*time.Nanosecond), at(101)
	if err := s.RecordLogins(ctx, map[string]time.Time{f.ann: f.annLogin}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordTokenUses(ctx, map[string]time.Time{id("00T", 1): f.tokenUsed}); err != nil {
		t.Fatal(err)
	}
	f.token = id("00T", 1)

	// Events: interleaved orgs in batches, more of acme than a batch.
	var evs []*store.Event
	for i := range 2*eventBatch + 321 {
		org := []string{f.acme, f.acme, f.acme, f.beta, "", f.gone}[i%6]
		e := &store.Event{UUID: fmt.Sprintf("0190a0b0-0000-7000-8000-%012d", i), Published: at(1000 + i),
			OrgID: org, EventType: "user.authentication.auth_via_ldap", Outcome: []string{"SUCCESS", "FAILURE", ""}[i%3],
			ActorID: f.ann, TargetID: id("00u", 2), Doc: fmt.Appendf(nil, `{"n":%d, "org":%q}`, i, org)}
		if i%7 == 0 {
			e.ActorID, e.TargetID, e.Doc = "", "", nil
		}
		evs = append(evs, e)
		if len(evs) == 500 {
			if err := s.AppendEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
			f.events += len(evs)
			evs = nil
		}
	}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	f.events += len(evs)
	update(t, s, func(tx store.Tx) error { return tx.DeleteOrg(f.gone) })
	return f
}

func mustChecksum(t *testing.T, s store.Store) *Summary {
	t.Helper()
	sum, err := Checksum(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// wantCounts checks the summary's counts of fill's records.
func wantCounts(t *testing.T, sum *Summary, f fixture) {
	t.Helper()
	want := map[string]int{KindOrgs: 2, KindUsers: 4, KindGroups: 4, KindMemberships: 4, KindGroupLinks: 3, KindPOSIXCounters: 3,
		KindFactors: 2, KindPolicies: 2, KindTokens: 2, KindIntegrations: 2, KindSyncUsers: 2, KindSyncGroups: 1, KindEvents: f.events}
	for _, k := range Kinds {
		if got := sum.Kind(k).Count; got != want[k] {
			t.Errorf("%s: %d, want %d", k, got, want[k])
		}
	}
}

// TestCopy: everything fill wrote arrives; the summaries of source and
// target are equal (and the report says so); the records read back the
// same, last logins and token uses included; every event keeps its UUID,
// time, document and order, those of the deleted org too, under new
// Seqs; and the target's change feed names the deleted org.
func TestCopy(t *testing.T) {
	src, dst := openSQLite(t), openSQLite(t)
	f := fill(t, src)
	var progress []string
	rep, err := Copy(ctx, src, dst, func(what string, n int) { progress = append(progress, fmt.Sprintf("%s=%d", what, n)) })
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if !reflect.DeepEqual(rep.Source, rep.Target) {
		t.Errorf("report: source %+v, target %+v", rep.Source, rep.Target)
	}
	if rep.DeletedOrgs != 1 {
		t.Errorf("DeletedOrgs = %d, want 1", rep.DeletedOrgs)
	}
	wantCounts(t, rep.Source, f)
	if s, d := mustChecksum(t, src), mustChecksum(t, dst); !reflect.DeepEqual(s, d) || s.SHA256 != rep.Source.SHA256 {
		t.Errorf("checksums after the copy:\n src %+v\n dst %+v", s, d)
	}
	for _, want := range []string{"orgs=2", "users=4", "memberships=4", "group-links=3", "posix-next=3", "tokens=2", "sync-groups=1", "deleted orgs=1", fmt.Sprintf("events=%d", f.events)} {
		if !slices.Contains(progress, want) {
			t.Errorf("progress %q lacks %q", progress, want)
		}
	}

	// The records themselves, read back from both.
	read := func(s store.Store) (u *store.User, tok *store.Token, orgs []*store.Org) {
		err := s.View(ctx, func(r store.Reader) (err error) {
			if u, err = r.User(f.ann); err != nil {
				return err
			}
			if tok, err = r.Token(f.token); err != nil {
				return err
			}
			orgs, err = r.Orgs()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	su, stok, sorgs := read(src)
	du, dtok, dorgs := read(dst)
	if !reflect.DeepEqual(su, du) || !du.LastLogin.Equal(f.annLogin) {
		t.Errorf("user:\n src %+v\n dst %+v", su, du)
	}
	if !reflect.DeepEqual(stok, dtok) || !dtok.LastUsed.Equal(f.tokenUsed) {
		t.Errorf("token: src %+v, dst %+v", stok, dtok)
	}
	if !reflect.DeepEqual(sorgs, dorgs) || dorgs[1].SelfServiceAttributes == nil {
		t.Errorf("orgs:\n src %+v\n dst %+v", sorgs, dorgs)
	}
	err = dst.View(ctx, func(r store.Reader) error {
		links, err := r.GroupLinks(f.acme)
		if err != nil {
			return err
		}
		want := []store.GroupLink{{ParentID: id("00g", 1), ChildID: id("00g", 2)}, {ParentID: id("00g", 1), ChildID: id("00g", 3)},
			{ParentID: id("00g", 2), ChildID: id("00g", 3)}}
		if !slices.Equal(links, want) {
			t.Errorf("the target's group links: %v, want %v", links, want)
		}
		for _, c := range []posixCounter{{f.acme, store.POSIXUID, 10003}, {f.acme, store.POSIXGID, 20002},
			{f.beta, store.POSIXUID, 10001}, {f.beta, store.POSIXGID, 0}} {
			if n, err := r.POSIXCounter(c.OrgID, c.Kind); err != nil || n != c.Next {
				t.Errorf("the target's POSIX %s counter of org %s: %d, %v; want %d", c.Kind, c.OrgID, n, err, c.Next)
			}
		}
		for _, g := range []struct {
			id   string
			want int64
		}{{id("00g", 1), 20000}, {id("00g", 2), 20001}, {id("00g", 3), 0}} {
			if got, err := r.Group(g.id); err != nil || got.GIDNumber != g.want {
				t.Errorf("the target's group %s: %+v, %v; want gidNumber %d", g.id, got, err, g.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if su.UIDNumber != 10000 {
		t.Errorf("ann's uidNumber = %d, want 10000", su.UIDNumber)
	}

	for _, org := range []string{f.acme, f.beta, "", f.gone} {
		q := store.EventQuery{OrgID: org, Limit: 10 * eventBatch}
		se, err := src.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		de, err := dst.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(se) == 0 || len(se) != len(de) {
			t.Fatalf("events of org %q: %d in the source, %d in the target", org, len(se), len(de))
		}
		for i := range se {
			s, d := *se[i], *de[i]
			s.Seq, d.Seq = 0, 0
			if !reflect.DeepEqual(s, d) {
				t.Fatalf("event %d of org %q:\n src %+v\n dst %+v", i, org, s, d)
			}
		}
	}
	var named bool
	cs, err := dst.ChangesSince(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		named = named || c.OrgID == f.gone
	}
	if !named {
		t.Error("the target's change feed does not name the deleted org")
	}
	err = dst.View(ctx, func(r store.Reader) error {
		_, err := r.OrgByName(TombstoneName(f.gone))
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the tombstone org is there: %v", err)
	}

	// And on again: the copy of a copy is the same (the tombstone lets
	// it find the deleted org's events).
	again := openSQLite(t)
	rep2, err := Copy(ctx, dst, again, nil)
	if err != nil {
		t.Fatalf("second Copy: %v", err)
	}
	if rep2.Target.SHA256 != rep.Source.SHA256 || rep2.DeletedOrgs != 1 {
		t.Errorf("copy of the copy: %+v, want %+v", rep2.Target, rep.Source)
	}
	// A copy goes on allocating where the source left off.
	update(t, again, func(tx store.Tx) error {
		n, err := tx.NextPOSIXNumber(f.acme, store.POSIXUID, 10000, 19999)
		if err == nil && n != 10003 {
			t.Errorf("the copy's next uidNumber: %d, want 10003", n)
		}
		return err
	})
}

// TestCopyRefusesNonEmptyTarget: a target with an org, with an
// installation token, with events of no org, or that once held an org
// (change sequence > 0) is refused with ErrNotEmpty, and left as it was.
func TestCopyRefusesNonEmptyTarget(t *testing.T) {
	src := openSQLite(t)
	fill(t, src)
	for _, tc := range []struct {
		name, want string
		prep       func(t *testing.T, s store.Store)
	}{
		{"org", "1 orgs", func(t *testing.T, s store.Store) {
			update(t, s, func(tx store.Tx) error { return tx.CreateOrg(&store.Org{ID: id("00o", 7), Name: "other"}) })
		}},
		{"installation token", "installation API tokens", func(t *testing.T, s store.Store) {
			update(t, s, func(tx store.Tx) error {
				return tx.CreateToken(&store.Token{ID: id("00T", 7), Name: "x", Hash: strings.Repeat("c", 64)})
			})
		}},
		{"events", "system log events", func(t *testing.T, s store.Store) {
			if err := s.AppendEvents(ctx, []*store.Event{{UUID: "u-1", Published: t0}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"deleted org", "change sequence 2", func(t *testing.T, s store.Store) {
			update(t, s, func(tx store.Tx) error { return tx.CreateOrg(&store.Org{ID: id("00o", 7), Name: "other"}) })
			update(t, s, func(tx store.Tx) error { return tx.DeleteOrg(id("00o", 7)) })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := openSQLite(t)
			tc.prep(t, dst)
			before := mustChecksum(t, dst)
			seq, err := dst.Seq(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Copy(ctx, src, dst, nil)
			if !errors.Is(err, ErrNotEmpty) || rep != nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "empty database") {
				t.Fatalf("Copy into a target with %s: %v, %v", tc.name, rep, err)
			}
			if after := mustChecksum(t, dst); !reflect.DeepEqual(before, after) {
				t.Errorf("the refused copy changed the target")
			}
			if s, err := dst.Seq(ctx); err != nil || s != seq {
				t.Errorf("the refused copy wrote changes: seq %d, was %d (%v)", s, seq, err)
			}
		})
	}
}

// TestChecksumDetectsTampering: after a copy, changing one field of one
// user in the target (through the store), an event more, a membership
// less, a group link less, a POSIX number of a user or a group or a
// counter moved on each change the target's checksum, and Diff names the
// kind changed, only it.
func TestChecksumDetectsTampering(t *testing.T) {
	src, dst := openSQLite(t), openSQLite(t)
	f := fill(t, src)
	rep, err := Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev := rep.Target
	step := func(what, kind string, fn func()) {
		t.Helper()
		fn()
		sum := mustChecksum(t, dst)
		if sum.SHA256 == prev.SHA256 {
			t.Errorf("%s: checksum unchanged", what)
		}
		if d := prev.Diff(sum); !slices.Equal(d, []string{kind}) {
			t.Errorf("%s: Diff = %q, want [%s]", what, d, kind)
		}
		prev = sum
	}
	step("a user's failed logins", KindUsers, func() {
		update(t, dst, func(tx store.Tx) error {
			u, err := tx.User(f.ann)
			if err != nil {
				return err
			}
			u.FailedLogins++
			return tx.UpdateUser(u)
		})
	})
	step("a user's password hash", KindUsers, func() {
		update(t, dst, func(tx store.Tx) error {
			u, err := tx.User(id("00u", 2))
			if err != nil {
				return err
			}
			u.PasswordHash += "x"
			return tx.UpdateUser(u)
		})
	})
	step("a last login a microsecond later", KindUsers, func() {
		if err := dst.RecordLogins(ctx, map[string]time.Time{f.ann: f.annLogin.Add(time.Microsecond)}); err != nil {
			t.Fatal(err)
		}
	})
	step("one event more", KindEvents, func() {
		if err := dst.AppendEvents(ctx, []*store.Event{{UUID: "extra", Published: t0, OrgID: f.beta}}); err != nil {
			t.Fatal(err)
		}
	})
	step("one membership less", KindMemberships, func() {
		update(t, dst, func(tx store.Tx) error { _, err := tx.RemoveMember(id("00g", 1), id("00u", 2)); return err })
	})
	step("one group link less", KindGroupLinks, func() {
		update(t, dst, func(tx store.Tx) error { _, err := tx.RemoveGroupLink(id("00g", 1), id("00g", 3)); return err })
	})
	step("a user's uidNumber", KindUsers, func() {
		update(t, dst, func(tx store.Tx) error {
			u, err := tx.User(id("00u", 2))
			if err != nil {
				return err
			}
			u.UIDNumber = 10002
			return tx.UpdateUser(u)
		})
	})
	step("a group's gidNumber", KindGroups, func() {
		update(t, dst, func(tx store.Tx) error {
			g, err := tx.Group(id("00g", 3))
			if err != nil {
				return err
			}
			g.GIDNumber = 20005
			return tx.UpdateGroup(g)
		})
	})
	step("a POSIX counter moved on", KindPOSIXCounters, func() {
		update(t, dst, func(tx store.Tx) error { _, err := tx.NextPOSIXNumber(f.beta, store.POSIXGID, 1, 1); return err })
	})
	if d := mustChecksum(t, src).Diff(prev); len(d) != 6 {
		t.Errorf("source against the tampered target: Diff = %q", d)
	}
}

// lossy is a store whose CreateUser forgets the last login: a backend
// that lost a field.
type lossy struct{ store.Store }

type lossyTx struct{ store.Tx }

func (l lossy) Update(ctx context.Context, fn func(store.Tx) error) error {
	return l.Store.Update(ctx, func(tx store.Tx) error { return fn(lossyTx{tx}) })
}

func (tx lossyTx) CreateUser(u *store.User) error {
	c := *u
	c.LastLogin = time.Time{}
	return tx.Tx.CreateUser(&c)
}

// TestCopyFailsOnMismatch: a target that keeps a record differently
// fails the copy with a *MismatchError naming the kind, and the error
// says the target now holds a partial copy.
func TestCopyFailsOnMismatch(t *testing.T) {
	src := openSQLite(t)
	fill(t, src)
	rep, err := Copy(ctx, src, lossy{openSQLite(t)}, nil)
	var me *MismatchError
	if !errors.As(err, &me) || !slices.Equal(me.Kinds, []string{KindUsers}) || rep == nil {
		t.Fatalf("Copy into a lossy store: %v, %v", rep, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "differs from the source in users (source 4") || !strings.Contains(msg, "partial copy") {
		t.Errorf("error: %s", msg)
	}
}

// TestCopyPostgres: SQLite to PostgreSQL and back keeps the summary,
// although PostgreSQL keeps times to the microsecond only (the fixture's
// have nanoseconds). Skipped without PostgreSQL's server binaries.
func TestCopyPostgres(t *testing.T) {
	src := openSQLite(t)
	f := fill(t, src)
	pg := pgtest.Start(t, pgtest.Options{})
	pg.SuperSQL(t, "CREATE DATABASE copy")
	dst, err := postgres.Open(ctx, pg.SuperURL("copy"), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatalf("Copy to PostgreSQL: %v", err)
	}
	wantCounts(t, rep.Target, f)
	back := openSQLite(t)
	rep2, err := Copy(ctx, dst, back, nil)
	if err != nil {
		t.Fatalf("Copy back to SQLite: %v", err)
	}
	if rep2.Target.SHA256 != rep.Source.SHA256 {
		t.Errorf("round trip: %+v, want %+v", rep2.Target, rep.Source)
	}
	if _, err := Copy(ctx, src, dst, nil); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("a second copy into the PostgreSQL store: %v", err)
	}
}
