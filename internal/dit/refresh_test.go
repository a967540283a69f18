package dit

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/store"
)

func TestRefresh(t *testing.T) {
	f := fixture()
	d := newDIT(t, f)
	ctx := context.Background()
	if d.Seq() != f.seq || !d.Ready() {
		t.Fatalf("after New: seq %d (source %d), ready %v", d.Seq(), f.seq, d.Ready())
	}
	uids := func(who string) []string {
		t.Helper()
		es, err := run(t, d, asAdmin, query{base: usersOU, scope: ldap.ScopeSingleLevel, filter: who, attrs: []string{"uid", "title", "memberOf"}})
		if err != nil {
			t.Fatal(err)
		}
		return dns(es)
	}
	refresh := func() {
		t.Helper()
		if err := d.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if d.Seq() != f.seq {
			t.Fatalf("after Refresh: seq %d, source %d", d.Seq(), f.seq)
		}
	}
	daveDN := "uid=dave@acme.example,ou=users," + acmeBase
	steps := []struct {
		name   string
		change func()
		check  func() bool
	}{
		{"a new user", func() {
			f.addUser(acmeID, "00udave", directory.Profile{Login: "dave@acme.example"}, "dave-password")
		}, func() bool { return slices.Equal(uids("(uid=dave@acme.example)"), []string{daveDN}) }},
		{"a profile change", func() {
			f.updateUser(aliceID, func(u *directory.User) { u.Profile.Title = "CTO" })
		}, func() bool { return slices.Equal(uids("(title=CTO)"), []string{aliceDN}) }},
		{"a membership", func() { f.addMember(engID, "00udave") }, func() bool {
			return slices.Equal(uids("(memberOf="+engDN+")"), []string{aliceDN, bobDN, carolDN, daveDN})
		}},
		{"a deleted user", func() { f.deleteUser(bobID) }, func() bool {
			e := one(t, d, engDN, "uniqueMember")
			return len(uids("(uid=bob+test@acme.example)")) == 0 && !slices.Contains(e.Attrs["uniqueMember"], bobDN)
		}},
	}
	for _, s := range steps {
		loads, orgLoads := f.loads, f.orgLds
		s.change()
		if s.check() {
			t.Fatalf("%s: visible before Refresh", s.name)
		}
		refresh()
		if !s.check() {
			t.Errorf("%s: not visible after Refresh", s.name)
		}
		if f.loads != loads {
			t.Errorf("%s: a change in one org reloaded everything", s.name)
		}
		if f.orgLds != orgLoads {
			t.Errorf("%s: the org was rebuilt instead of patched", s.name)
		}
	}

	// Losing ACTIVE (or admin rights) takes effect on the next operation.
	f.updateUser(adminID, func(u *directory.User) { u.Roles = nil })
	refresh()
	if es, _ := run(t, d, asAdmin, query{base: acmeBase, scope: ldap.ScopeWholeSubtree}); !slices.Equal(dns(es), []string{adminDN}) {
		t.Errorf("an admin whose role was removed still sees %q", dns(es))
	}
	f.updateUser(aliceID, func(u *directory.User) { u.Status = directory.StatusSuspended })
	refresh()
	if _, err := run(t, d, asAlice, query{base: aliceDN}); resultCode(t, err) != ldap.InsufficientAccessRights {
		t.Errorf("a suspended bound user: %v", err)
	}

	// A new org reloads everything.
	loads := f.loads
	f.addOrg("00onew", "newco")
	f.addUser("00onew", "00unew", directory.Profile{Login: "root@newco"}, "password", directory.RoleSuperAdmin)
	refresh()
	if f.loads != loads+1 {
		t.Errorf("a new org: %d full loads, want 1", f.loads-loads)
	}
	if es, err := run(t, d, as("00onew", "00unew", ""), query{base: "dc=newco,dc=okta,dc=com", scope: ldap.ScopeWholeSubtree}); err != nil || len(es) != 4 {
		t.Errorf("the new org: %d entries, %v", len(es), err)
	}

	// Nothing new: no load at all.
	loads, orgLoads := f.loads, f.orgLds
	refresh()
	if f.loads != loads || f.orgLds != orgLoads {
		t.Error("a refresh without changes loaded data")
	}
}

func TestRefreshManyChanges(t *testing.T) {
	f := fixture()
	d, err := New(f, Options{MaxChanges: 2, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"00ux1", "00ux2", "00ux3"} {
		f.addUser(acmeID, id, directory.Profile{Login: id}, "password")
	}
	loads, orgLoads := f.loads, f.orgLds
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.loads != loads+1 || f.orgLds != orgLoads || d.Seq() != f.seq {
		t.Errorf("3 changes with MaxChanges 2: %d full loads, %d org loads, seq %d/%d", f.loads-loads, f.orgLds-orgLoads, d.Seq(), f.seq)
	}
}

// failingSource fails every read after New.
type failingSource struct {
	*fakeSource
	fail bool
}

var errDown = errors.New("store down")

func (f *failingSource) Seq(ctx context.Context) (uint64, error) {
	if f.fail {
		return 0, errDown
	}
	return f.fakeSource.Seq(ctx)
}

func (f *failingSource) LoadOrg(ctx context.Context, id string) (*directory.OrgData, uint64, error) {
	if f.fail {
		return nil, 0, errDown
	}
	return f.fakeSource.LoadOrg(ctx, id)
}

func (f *failingSource) LoadDelta(ctx context.Context, id string, users, groups []string) (*directory.Delta, uint64, error) {
	if f.fail {
		return nil, 0, errDown
	}
	return f.fakeSource.LoadDelta(ctx, id, users, groups)
}

func TestRefreshFailureKeepsServing(t *testing.T) {
	f := &failingSource{fakeSource: fixture()}
	d := newDIT(t, f)
	f.addUser(acmeID, "00udave", directory.Profile{Login: "dave"}, "password")
	f.fail = true
	if err := d.Refresh(context.Background()); !errors.Is(err, errDown) || d.Ready() {
		t.Errorf("failing refresh: %v, ready %v", err, d.Ready())
	}
	if es, err := run(t, d, asAdmin, query{base: aliceDN}); err != nil || len(es) != 1 {
		t.Errorf("search after a failed refresh: %d, %v", len(es), err)
	}
	f.fail = false
	if err := d.Refresh(context.Background()); err != nil || !d.Ready() {
		t.Errorf("recovered refresh: %v, ready %v", err, d.Ready())
	}
}

// TestRun: a change by any writer becomes visible while Run polls.
func TestRun(t *testing.T) {
	f := fixture()
	d, err := New(f, Options{PollInterval: 5 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.addUser(acmeID, "00udave", directory.Profile{Login: "dave"}, "password")
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := run(t, d, asAdmin, query{base: usersOU, scope: ldap.ScopeSingleLevel, filter: "(uid=dave)"})
		if err == nil && len(es) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new user never became visible")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRefreshSeqFromChanges: the snapshot's sequence is that of the last
// change it applied, never a later one an org load happened to see (that
// change, in another org, would be missed).
func TestRefreshSeqFromChanges(t *testing.T) {
	f := fixture()
	d := newDIT(t, f)
	f.addUser(acmeID, "00udave", directory.Profile{Login: "dave"}, "password")
	want := f.seq
	// Between ChangesSince and LoadOrg another writer changes globex.
	src := &racingSource{fakeSource: f, during: func() {
		f.addUser(globexID, "00uivy", directory.Profile{Login: "ivy"}, "password")
	}}
	d.src = src
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Seq() != want {
		t.Fatalf("seq %d, want %d (the last change applied)", d.Seq(), want)
	}
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if es, err := run(t, d, asHank, query{base: "ou=users," + gBase, scope: ldap.ScopeSingleLevel, filter: "(uid=ivy)"}); err != nil || len(es) != 1 {
		t.Errorf("the racing change was lost: %d entries, %v", len(es), err)
	}
}

type racingSource struct {
	*fakeSource
	during func()
}

func (r *racingSource) ChangesSince(ctx context.Context, seq uint64, limit int) ([]store.Change, error) {
	c, err := r.fakeSource.ChangesSince(ctx, seq, limit)
	if r.during != nil {
		r.during()
		r.during = nil
	}
	return c, err
}

// TestBrokenOrg: an org whose view cannot be built is left out (and
// logged) without failing the others or reloading on each of its changes.
func TestBrokenOrg(t *testing.T) {
	f := fixture()
	f.addOrg("00obad", "bad")
	f.orgs[len(f.orgs)-1].Suffix = "dc=okta,,dc=com"
	f.addUser("00obad", "00ubad", directory.Profile{Login: "root"}, "password", directory.RoleSuperAdmin)
	d := newDIT(t, f)
	if es, err := run(t, d, asAdmin, query{base: aliceDN}); err != nil || len(es) != 1 {
		t.Fatalf("the good org: %d entries, %v", len(es), err)
	}
	asBad := as("00obad", "00ubad", "")
	if _, err := run(t, d, asBad, query{base: ""}); resultCode(t, err) != ldap.InsufficientAccessRights {
		t.Errorf("a user of the broken org: %v", err)
	}
	loads := f.loads
	f.updateUser("00ubad", func(u *directory.User) { u.Profile.Title = "x" })
	if err := d.Refresh(context.Background()); err != nil || f.loads != loads {
		t.Errorf("a change in the broken org: %v, %d full loads", err, f.loads-loads)
	}
	f.mu.Lock()
	f.orgs[len(f.orgs)-1].Suffix = "dc=okta,dc=com"
	f.change("00obad", store.KindOrg, "00obad")
	f.mu.Unlock()
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if es, err := run(t, d, asBad, query{base: "dc=bad,dc=okta,dc=com", scope: ldap.ScopeWholeSubtree}); err != nil || len(es) != 4 {
		t.Errorf("the repaired org: %d entries, %v", len(es), err)
	}
}

// Factor changes are not in the snapshot: a refresh takes their sequence
// numbers without reading or rebuilding anything. A policy change reads
// the org's compiled policies alone and keeps every entry.
func TestRefreshSkipsChangesOutsideTheView(t *testing.T) {
	f := fixture()
	d := newDIT(t, f)
	before := d.snap.Load()
	loads, orgLoads, deltas := f.loads, f.orgLds, f.deltas
	f.mu.Lock()
	f.change(acmeID, store.KindFactor, "00ffactor")
	f.mu.Unlock()
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := d.snap.Load()
	if after.seq != f.seq {
		t.Fatalf("seq %d, want %d", after.seq, f.seq)
	}
	if f.loads != loads || f.orgLds != orgLoads || f.deltas != deltas {
		t.Fatalf("a factor change read the source: loads %d→%d, org loads %d→%d, deltas %d→%d",
			loads, f.loads, orgLoads, f.orgLds, deltas, f.deltas)
	}
	if after.orgs[acmeID] != before.orgs[acmeID] {
		t.Fatal("the org's view was replaced")
	}

	f.mu.Lock()
	f.change(acmeID, store.KindPolicy, "00ppolicy")
	f.mu.Unlock()
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.loads != loads || f.orgLds != orgLoads || f.deltas != deltas+1 {
		t.Fatalf("a policy change: loads %d→%d, org loads %d→%d, deltas %d→%d; want one delta",
			loads, f.loads, orgLoads, f.orgLds, deltas, f.deltas)
	}
	o, was := d.snap.Load().orgs[acmeID], before.orgs[acmeID]
	if o == was || &o.entries[0] != &was.entries[0] {
		t.Fatal("a policy change should give a new view sharing the entries")
	}
}
