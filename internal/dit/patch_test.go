package dit

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// sameView reports how got (patched) differs from want (built from the
// same data): entries, their order, attributes and bytes, the lookups by
// DN and id, the memberships and every index answer.
func sameView(got, want *orgView) error {
	if len(got.entries) != len(want.entries) || got.nUsers != want.nUsers {
		return fmt.Errorf("%d entries, %d users; want %d, %d", len(got.entries), got.nUsers, len(want.entries), want.nUsers)
	}
	if !slices.Equal(got.ous, want.ous) {
		return fmt.Errorf("ous %v, want %v", got.ous, want.ous)
	}
	for i := range want.entries {
		if err := sameEntryAs(got, want, &got.entries[i], &want.entries[i]); err != nil {
			return fmt.Errorf("entry %d (%s): %w", i, want.entries[i].dn, err)
		}
	}
	for _, e := range []struct{ got, want *entry }{{&got.rootDSE, &want.rootDSE}, {&got.schema, &want.schema}} {
		if err := sameEntryAs(got, want, e.got, e.want); err != nil {
			return fmt.Errorf("%q: %w", e.want.dn, err)
		}
	}
	live := 0
	for sid, at := range got.pos {
		if at < 0 {
			continue
		}
		live++
		if int(at) >= len(got.entries) || got.entries[at].sid != int32(sid) {
			return fmt.Errorf("pos[%d] = %d, which is not that entry", sid, at)
		}
	}
	if live != len(got.entries) {
		return fmt.Errorf("%d live sids for %d entries", live, len(got.entries))
	}
	for _, m := range []struct {
		name      string
		got, want map[string]int32
	}{{"byNorm", got.byNorm, want.byNorm}, {"byUserID", got.byUserID, want.byUserID}, {"byGroupID", got.byGroupID, want.byGroupID}} {
		if len(m.got) != len(m.want) {
			return fmt.Errorf("%s has %d keys, want %d", m.name, len(m.got), len(m.want))
		}
		for k, s := range m.want {
			g, ok := m.got[k]
			if !ok || got.pos[g] != want.pos[s] {
				return fmt.Errorf("%s[%q] is at %d, want %d", m.name, k, got.pos[g], want.pos[s])
			}
		}
	}
	if len(got.dupNorms) != len(want.dupNorms) {
		return fmt.Errorf("dupNorms %v, want %v", got.dupNorms, want.dupNorms)
	}
	for _, c := range []struct {
		name      string
		got, want csr
		n         int
	}{{"memberOf", got.memberOf, want.memberOf, want.nUsers}, {"members", got.members, want.members, len(want.entries) - 3 - want.nUsers}} {
		if len(c.got.off) != c.n+1 {
			return fmt.Errorf("%s has %d lists, want %d", c.name, len(c.got.off)-1, c.n)
		}
		for i := range c.n {
			if !slices.Equal(c.got.list(i), c.want.list(i)) {
				return fmt.Errorf("%s[%d] = %v, want %v", c.name, i, c.got.list(i), c.want.list(i))
			}
		}
	}
	for slot := range want.idx {
		g, w := &got.idx[slot], &want.idx[slot]
		if len(g.keys) != len(w.keys) {
			return fmt.Errorf("index of %s: %d keys, want %d", globalAttrs[indexedAttrs[slot]].name, len(g.keys), len(w.keys))
		}
		for k := range w.keys {
			if !slices.Equal(g.get(k), w.get(k)) {
				return fmt.Errorf("index of %s, %q: %v, want %v", globalAttrs[indexedAttrs[slot]].name, k, g.get(k), w.get(k))
			}
		}
		lists := len(g.off) - 1
		if len(g.keys)+len(g.free) != lists {
			return fmt.Errorf("index of %s: %d keys and %d free lists of %d", globalAttrs[indexedAttrs[slot]].name, len(g.keys), len(g.free), lists)
		}
	}
	return nil
}

func sameEntryAs(gv, wv *orgView, g, w *entry) error {
	switch {
	case g.dn != w.dn || g.norm != w.norm:
		return fmt.Errorf("DN %q (%q), want %q (%q)", g.dn, g.norm, w.dn, w.norm)
	case !bytes.Equal(g.enc, w.enc):
		return fmt.Errorf("encoded differently:\n got %q\nwant %q", g.enc, w.enc)
	case !slices.Equal(g.spans, w.spans) || g.nUser != w.nUser:
		return fmt.Errorf("spans %v (%d user), want %v (%d)", g.spans, g.nUser, w.spans, w.nUser)
	case g.lo != w.lo || g.hi != w.hi || g.depth != w.depth || g.kind != w.kind || g.showAll != w.showAll:
		return fmt.Errorf("place %d-%d depth %d kind %d, want %d-%d %d %d", g.lo, g.hi, g.depth, g.kind, w.lo, w.hi, w.depth, w.kind)
	case g.active != w.active || g.viewAll != w.viewAll || g.login != w.login || g.id != w.id || g.key != w.key:
		return fmt.Errorf("user fields %v %v %q %q %q, want %v %v %q %q %q", g.active, g.viewAll, g.login, g.id, g.key, w.active, w.viewAll, w.login, w.id, w.key)
	case !sameCredential(g.cred, w.cred):
		return fmt.Errorf("credential %+v, want %+v", g.cred, w.cred)
	case !slices.Equal(g.norms, w.norms):
		return fmt.Errorf("norms %q, want %q", g.norms, w.norms)
	}
	// What filters see: the same attributes and match values.
	var gm, wm matcher
	ga, wa := gm.of(gv, g, nil).Attributes, wm.of(wv, w, nil).Attributes
	if len(ga) != len(wa) {
		return fmt.Errorf("%d attributes, want %d", len(ga), len(wa))
	}
	for k, a := range wa {
		if b := ga[k]; b.Type != a.Type || !slices.Equal(b.Values, a.Values) {
			return fmt.Errorf("attribute %d: %s %q, want %s %q", k, b.Type, b.Values, a.Type, a.Values)
		}
	}
	return nil
}

// patchFilters are searched in the patched and the built view alike.
var patchFilters = []string{
	"(objectClass=*)", "(objectClass=inetOrgPerson)", "(objectClass=groupOfUniqueNames)",
	"(uid=u3)", "(uid=U3)", "(mail=u3@x.example)", "(cn=group 2)", "(cn=Group  2)",
	"(organizationalStatus=SUSPENDED)", "(title=t1)", "(costCenter=c1)",
	"(&(objectClass=inetOrgPerson)(memberOf=cn=group 1,ou=groups," + acmeBase + "))",
	"(uniqueMember=uid=u5,ou=users," + acmeBase + ")",
	"(|(uid=u1)(uid=u2)(cn=group 3))", "(uid=u*)", "(!(memberOf=*))", "(entryUUID=" + entryUUID("00u1") + ")",
	"(uniqueIdentifier=00g2)", "(hasSubordinates=TRUE)", "(numSubordinates=3)",
}

// sameAnswers runs patchFilters against both views as the fixture's
// admin.
func sameAnswers(t *testing.T, got, want *orgView) error {
	t.Helper()
	dg, dw := viewDIT(got), viewDIT(want)
	for _, f := range patchFilters {
		for _, q := range []query{
			{base: acmeBase, scope: ldap.ScopeWholeSubtree, filter: f, attrs: []string{"*", "+"}},
			{base: usersOU, scope: ldap.ScopeSingleLevel, filter: f, attrs: []string{"cn", "memberOf"}},
			{base: groupsOU, scope: ldap.ScopeWholeSubtree, filter: f, attrs: []string{"uniqueMember", "modifyTimestamp"}},
		} {
			g, errG := run(t, dg, asAdmin, q)
			w, errW := run(t, dw, asAdmin, q)
			if fmt.Sprint(errG) != fmt.Sprint(errW) {
				return fmt.Errorf("%s under %s: error %v, want %v", f, q.base, errG, errW)
			}
			if fmt.Sprint(g) != fmt.Sprint(w) {
				return fmt.Errorf("%s under %s:\n got %v\nwant %v", f, q.base, g, w)
			}
		}
	}
	for _, dn := range []string{aliceDN, "uid=u3," + acmeBase, "UID=U3,OU=USERS," + acmeBase, "cn=group 2,ou=groups," + acmeBase} {
		if a, b := dg.snap.Load().resolveBind(dn), dw.snap.Load().resolveBind(dn); a.user != b.user {
			return fmt.Errorf("bind DN %s resolves to %d, want %d", dn, a.user, b.user)
		}
	}
	return nil
}

// viewDIT is a DIT serving just o, as acme.
func viewDIT(o *orgView) *DIT {
	d := &DIT{log: quiet()}
	d.snap.Store(newSnapshot(1, map[string]*orgView{acmeID: o}, nil))
	return d
}

// randomChanges writes random changes to acme through the fake: users
// and groups created, updated, renamed (also in case only) and deleted,
// memberships, statuses, roles, and writes LDAP does not show.
type randomChanges struct {
	f   *fakeSource
	r   *rand.Rand
	ids int
}

func (c *randomChanges) users() []string {
	var out []string
	for id, u := range c.f.users {
		if u.OrgID == acmeID && id != adminID {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (c *randomChanges) groups() []string {
	var out []string
	for id, g := range c.f.groups {
		if g.OrgID == acmeID {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (c *randomChanges) pick(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[c.r.IntN(len(s))]
}

// login returns a login no acme user has (LoginKey is unique per org).
func (c *randomChanges) login() string {
	for {
		var l string
		switch c.r.IntN(10) {
		case 0:
			l = fmt.Sprintf("U%d", c.r.IntN(40)) // upper case
		case 1:
			l = fmt.Sprintf("a+b,%d", c.r.IntN(40)) // escaped in the DN
		case 2:
			l = fmt.Sprintf("two  spaces %d", c.r.IntN(8)) // normalises like "two spaces n"
		case 3:
			l = fmt.Sprintf("two spaces %d", c.r.IntN(8))
		default:
			l = fmt.Sprintf("u%d", c.r.IntN(40))
		}
		taken := false
		for _, u := range c.f.users {
			taken = taken || u.OrgID == acmeID && u.LoginKey == strings.ToLower(l)
		}
		if !taken {
			return l
		}
	}
}

func (c *randomChanges) groupName() string {
	for {
		n := fmt.Sprintf("group %d", c.r.IntN(60))
		if c.r.IntN(4) == 0 {
			n = fmt.Sprintf("Group %d", c.r.IntN(60))
		}
		taken := false
		for _, g := range c.f.groups {
			taken = taken || g.OrgID == acmeID && g.NameKey == strings.ToLower(n)
		}
		if !taken {
			return n
		}
	}
}

func (c *randomChanges) one() string {
	f, r := c.f, c.r
	users, groups := c.users(), c.groups()
	at := t0.Add(time.Duration(r.IntN(1000)) * time.Minute)
	switch k := r.IntN(20); {
	case k < 2 || len(users) < 3:
		c.ids++
		id := fmt.Sprintf("00u%d", c.ids)
		l := c.login()
		f.addUser(acmeID, id, directory.Profile{Login: l, Email: strings.ToLower(l) + "@x.example", Title: fmt.Sprintf("t%d", r.IntN(3))}, "password")
		return "create user " + l
	case k < 4:
		id := c.pick(users)
		f.updateUser(id, func(u *directory.User) {
			u.Profile.Title = fmt.Sprintf("t%d", r.IntN(3))
			u.Profile.DisplayName = []string{"", "Some One", "u3"}[r.IntN(3)]
			u.Profile.Custom = map[string]string{"costCenter": fmt.Sprintf("c%d", r.IntN(3))}
			u.LastUpdated = at
		})
		return "update user " + id
	case k == 4:
		id, l := c.pick(users), c.login()
		f.updateUser(id, func(u *directory.User) { u.Profile.Login, u.LoginKey, u.LastUpdated = l, strings.ToLower(l), at })
		return "rename user " + id + " to " + l
	case k == 5:
		id := c.pick(users)
		f.updateUser(id, func(u *directory.User) {
			if u.Profile.Login == strings.ToLower(u.Profile.Login) {
				u.Profile.Login = strings.ToUpper(u.Profile.Login)
			} else {
				u.Profile.Login = strings.ToLower(u.Profile.Login)
			}
		})
		return "change the case of " + id
	case k == 6:
		id := c.pick(users)
		f.deleteUser(id)
		return "delete user " + id
	case k == 7:
		id := c.pick(users)
		f.updateUser(id, func(u *directory.User) {
			u.Status = []string{directory.StatusActive, directory.StatusSuspended, directory.StatusStaged}[r.IntN(3)]
		})
		return "status of " + id
	case k == 8:
		id := c.pick(users)
		f.updateUser(id, func(u *directory.User) {
			u.Roles = [][]string{nil, {directory.RoleReadOnlyAdmin}}[r.IntN(2)]
		})
		return "roles of " + id
	case k == 9:
		id := c.pick(users)
		f.updateUser(id, func(u *directory.User) { u.PasswordHash = fmt.Sprintf("{FAKE}%d", r.Int()) })
		return "password hash of " + id
	case k == 10 || len(groups) < 2:
		c.ids++
		id, n := fmt.Sprintf("00g%d", c.ids), c.groupName()
		var ms []string
		for _, u := range users {
			if r.IntN(3) == 0 {
				ms = append(ms, u)
			}
		}
		f.addGroup(acmeID, id, n, "", ms...)
		return "create group " + n
	case k == 11:
		id, n := c.pick(groups), c.groupName()
		if r.IntN(2) == 0 { // case only
			n = strings.ToUpper(f.groups[id].Name)
		}
		f.updateGroup(id, func(g *directory.Group) { g.Name, g.NameKey, g.LastUpdated = n, strings.ToLower(n), at })
		return "rename group " + id + " to " + n
	case k == 12:
		id := c.pick(groups)
		f.updateGroup(id, func(g *directory.Group) { g.Description, g.LastUpdated = fmt.Sprintf("d%d", r.IntN(3)), at })
		return "describe group " + id
	case k == 13:
		id := c.pick(groups)
		f.deleteGroup(id)
		return "delete group " + id
	case k < 16 || k == 19:
		g, u := c.pick(groups), c.pick(users)
		f.updateGroup(g, func(g *directory.Group) { g.LastMembershipUpdated = at })
		f.addMember(g, u)
		return "add " + u + " to " + g
	case k == 17:
		// A login LoginKey folds alike (as strings.ToLower and DN
		// matching may fold some letters differently): the entry stays
		// in place, under another DN.
		id := c.pick(users)
		f.updateUser(id, func(u *directory.User) { u.Profile.Login += "~" })
		return "respell " + id
	case k == 18:
		id := c.pick(groups)
		f.updateGroup(id, func(g *directory.Group) { g.Name += "~" })
		return "respell group " + id
	default:
		g := c.pick(groups)
		ms := slices.Sorted(func(yield func(string) bool) {
			for u := range f.members[g] {
				if !yield(u) {
					return
				}
			}
		})
		u := c.pick(ms)
		if u == "" {
			return "nothing"
		}
		f.removeMember(g, u)
		return "remove " + u + " from " + g
	}
}

// TestPatchMatchesBuild applies random changes, refreshes after each few,
// and compares the patched view with one built from the same data.
func TestPatchMatchesBuild(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			f := fixture()
			whys := &whyLog{}
			d, err := New(f, Options{Logger: slog.New(whys)})
			if err != nil {
				t.Fatal(err)
			}
			c := &randomChanges{f: f, r: rand.New(rand.NewPCG(seed, 7))}
			ctx := context.Background()
			patched, rebuilt := 0, 0
			var log []string
			for step := range 150 {
				for range 1 + c.r.IntN(4) {
					log = append(log, c.one())
				}
				orgLoads := f.orgLds
				if err := d.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
				if f.orgLds == orgLoads {
					patched++
				} else {
					rebuilt++
				}
				got := d.snap.Load().orgs[acmeID]
				want, err := buildOrg(f.orgData(f.orgs[0]), quiet(), false)
				if err != nil {
					t.Fatal(err)
				}
				if err := sameView(got, want); err != nil {
					t.Fatalf("step %d, after %q: %v", step, log[max(0, len(log)-4):], err)
				}
				if err := sameAnswers(t, got, want); err != nil {
					t.Fatalf("step %d, after %q: %v", step, log[max(0, len(log)-4):], err)
				}
			}
			t.Logf("%d refreshes patched, %d rebuilt: %v", patched, rebuilt, whys.whys)
			for why := range whys.whys {
				if !strings.Contains(why, "same DN") && !strings.Contains(why, "DN another has") {
					t.Errorf("rebuilt because %s", why)
				}
			}
			if patched < rebuilt*3 {
				t.Errorf("only %d of %d refreshes patched", patched, patched+rebuilt)
			}
		})
	}
}

// TestPatchNestedMatchesBuild is TestPatchMatchesBuild for an org with
// nested groups, memberOf direct (even seeds) or transitive (odd): users'
// changes are patched, groups' rebuild the org, and either way the view
// is what a build gives; every tenth step a link changes.
func TestPatchNestedMatchesBuild(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			f := fixture()
			f.orgs[0].LDAP.TransitiveMemberOf = seed%2 == 1
			f.link(everyoneID, engID, true)
			f.link(engID, rndID, true)
			f.link(everyoneID, adminsID, true)
			d, err := New(f, Options{Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			c := &randomChanges{f: f, r: rand.New(rand.NewPCG(seed, 11))}
			ctx := context.Background()
			patched, nested := 0, 0
			var log []string
			for step := range 120 {
				for range 1 + c.r.IntN(3) {
					log = append(log, c.one())
				}
				if gs := c.groups(); step%10 == 9 || !f.linked() && len(gs) >= 2 {
					p, k := c.pick(gs), c.pick(gs)
					// Only "down" the sorted ids, so no cycle forms.
					if p > k {
						p, k = k, p
					}
					if p != k {
						f.link(p, k, c.r.IntN(3) > 0 || !f.linked())
						log = append(log, "link "+k+" in "+p)
					}
				}
				orgLoads := f.orgLds
				if err := d.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
				if f.orgLds == orgLoads {
					patched++
				}
				got := d.snap.Load().orgs[acmeID]
				want, err := buildOrg(f.orgData(f.orgs[0]), quiet(), false)
				if err != nil {
					t.Fatal(err)
				}
				if want.nest != nil {
					nested++
				}
				if err := sameView(got, want); err != nil {
					t.Fatalf("step %d, after %q: %v", step, log[max(0, len(log)-4):], err)
				}
				if err := sameAnswers(t, got, want); err != nil {
					t.Fatalf("step %d, after %q: %v", step, log[max(0, len(log)-4):], err)
				}
			}
			if patched == 0 || nested < 100 {
				t.Errorf("%d refreshes patched, %d of 120 with nested groups", patched, nested)
			}
			t.Logf("%d of 120 refreshes patched, %d with nested groups", patched, nested)
		})
	}
}

// whyLog counts why refreshes rebuilt orgs instead of patching them.
type whyLog struct {
	mu   sync.Mutex
	whys map[string]int
}

func (w *whyLog) Enabled(context.Context, slog.Level) bool { return true }
func (w *whyLog) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *whyLog) WithGroup(string) slog.Handler            { return w }

func (w *whyLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "why" {
			w.mu.Lock()
			if w.whys == nil {
				w.whys = map[string]int{}
			}
			w.whys[a.Value.String()]++
			w.mu.Unlock()
		}
		return true
	})
	return nil
}

// TestPatchReadsRacingWrites: a membership written between ChangesSince
// and LoadDelta is read with the records it names, so the view stays
// consistent (both ways) before the next refresh applies its change.
func TestPatchReadsRacingWrites(t *testing.T) {
	f := fixture()
	d := newDIT(t, f)
	f.addUser(acmeID, "00udave", directory.Profile{Login: "dave"}, "password")
	d.src = &racingSource{fakeSource: f, during: func() { f.addMember(engID, "00udave") }}
	orgLoads := f.orgLds
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	want, err := buildOrg(f.orgData(f.orgs[0]), quiet(), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameView(d.snap.Load().orgs[acmeID], want); err != nil {
		t.Error(err)
	}
	if f.orgLds != orgLoads || f.deltas < 2 {
		t.Errorf("%d org loads, %d delta loads; want a patch that read twice", f.orgLds-orgLoads, f.deltas)
	}
	if err := d.Refresh(context.Background()); err != nil || d.Seq() != f.seq {
		t.Fatalf("seq %d of %d: %v", d.Seq(), f.seq, err)
	}
	if err := sameView(d.snap.Load().orgs[acmeID], want); err != nil {
		t.Error(err)
	}
}

// TestPatchFallsBack: an org change, and too many changes, rebuild the
// org (LoadOrg) instead of patching it; a write LDAP does not show keeps
// the view as it is.
func TestPatchFallsBack(t *testing.T) {
	f := fixture()
	d := newDIT(t, f)
	ctx := context.Background()
	refresh := func() {
		t.Helper()
		if err := d.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := d.snap.Load().orgs[acmeID]
	f.updateUser(aliceID, func(u *directory.User) { u.PasswordHistory = []string{"{FAKE}old"} })
	orgLoads := f.orgLds
	refresh()
	if f.orgLds != orgLoads || d.snap.Load().orgs[acmeID] != before {
		t.Error("a write of the password history changed the view")
	}
	// A new hash is not in what LDAP shows, but binds need it: the
	// entry is patched, the org not rebuilt.
	f.updateUser(aliceID, func(u *directory.User) { u.PasswordHash = "{FAKE}new" })
	refresh()
	o := d.snap.Load().orgs[acmeID]
	if f.orgLds != orgLoads || o == before {
		t.Fatal("a new password hash: the view was rebuilt or kept")
	}
	if c := o.entries[o.pos[o.byUserID[aliceID]]].cred; c == nil || c.PasswordHash != "{FAKE}new" {
		t.Fatalf("credential after the change: %+v", c)
	}
	before = o

	f.mu.Lock()
	f.orgs[0].Name = "acme2"
	f.change(acmeID, store.KindOrg, acmeID)
	f.mu.Unlock()
	f.updateUser(aliceID, func(u *directory.User) { u.Profile.Title = "x" })
	refresh()
	if f.orgLds != orgLoads+1 {
		t.Errorf("an org change: %d org loads, want 1", f.orgLds-orgLoads)
	}
	if es, err := run(t, d, as(acmeID, adminID, ""), query{base: "dc=acme2,dc=okta,dc=com", scope: ldap.ScopeBaseObject}); err != nil || len(es) != 1 {
		t.Errorf("the renamed org: %d entries, %v", len(es), err)
	}

	for i := range 70 {
		f.addUser(acmeID, fmt.Sprintf("00umany%d", i), directory.Profile{Login: fmt.Sprintf("many%d", i)}, "password")
	}
	orgLoads = f.orgLds
	refresh()
	if f.orgLds != orgLoads+1 {
		t.Errorf("70 new users in an org of 20 entries: %d org loads, want 1", f.orgLds-orgLoads)
	}
}

// TestPatchWithDirectory patches from a real Directory over SQLite
// (directory.LoadDelta) and compares with views built from LoadOrg.
func TestPatchWithDirectory(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir, err := directory.New(directory.Config{Store: st, Password: password.Params{Memory: 64, Time: 1, Threads: 1}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	check := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	org, err := dir.CreateOrg(ctx, directory.OrgInput{Name: "acme", CustomAttributes: []string{"costCenter"}})
	check(org, err)
	for _, l := range []string{"svc", "alice", "bob", "carol", "dave"} {
		check(dir.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: l + "@acme.example"}, Password: []byte("password"),
			Roles: map[bool][]string{true: {directory.RoleReadOnlyAdmin}}[l == "svc"]}))
	}
	check(dir.CreateGroup(ctx, "acme", directory.GroupInput{Name: "Engineering"}))
	check(dir.CreateGroup(ctx, "acme", directory.GroupInput{Name: "Ops"}))
	check(dir.AddMember(ctx, "acme", "Engineering", "alice@acme.example"))
	check(dir.AddMember(ctx, "acme", "Engineering", "bob@acme.example"))
	check(dir.AddMember(ctx, "acme", "Ops", "bob@acme.example"))

	orgLoads := 0
	src := &loadCounter{Source: dir, orgLoads: &orgLoads}
	d, err := New(src, Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		write func()
	}{
		{"profile", func() {
			check(dir.UpdateProfile(ctx, "acme", "alice@acme.example", directory.Profile{Login: "alice@acme.example", Title: "CTO", Custom: map[string]string{"costCenter": "C1"}}))
		}},
		{"rename", func() {
			check(dir.UpdateProfile(ctx, "acme", "bob@acme.example", directory.Profile{Login: "zed@acme.example", Email: "zed@acme.example"}))
		}},
		{"new member", func() { check(dir.AddMember(ctx, "acme", "Ops", "carol@acme.example")) }},
		{"new user in a group", func() {
			check(dir.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "erin@acme.example"}}))
			check(dir.AddMember(ctx, "acme", "Engineering", "erin@acme.example"))
		}},
		{"group renamed", func() {
			check(dir.UpdateGroup(ctx, "acme", "Engineering", directory.GroupInput{Name: "Builders", Description: "b"}))
		}},
		{"member removed", func() { check(dir.RemoveMember(ctx, "acme", "Ops", "zed@acme.example")) }},
		{"suspended", func() { check(dir.Lifecycle(ctx, "acme", "carol@acme.example", directory.ActionSuspend)) }},
		{"role", func() { check(dir.AssignRole(ctx, "acme", "dave@acme.example", directory.RoleOrgAdmin)) }},
		{"user deleted", func() {
			check(dir.Lifecycle(ctx, "acme", "zed@acme.example", directory.ActionDeactivate))
			check(nil, dir.DeleteUser(ctx, "acme", "zed@acme.example"))
		}},
		{"group deleted", func() { check(nil, dir.DeleteGroup(ctx, "acme", "Ops")) }},
		{"password", func() { check(dir.SetPassword(ctx, "acme", "alice@acme.example", []byte("new-password"))) }},
	}
	for _, s := range steps {
		s.write()
		before := orgLoads
		if err := d.Refresh(ctx); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if orgLoads != before {
			t.Errorf("%s: the org was rebuilt, not patched", s.name)
		}
		od, _, err := dir.LoadOrg(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, err := buildOrg(od, quiet(), false)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameView(d.snap.Load().orgs[org.ID], want); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
	}
}

// loadCounter counts LoadOrg calls.
type loadCounter struct {
	Source
	orgLoads *int
}

func (c *loadCounter) LoadOrg(ctx context.Context, id string) (*directory.OrgData, uint64, error) {
	*c.orgLoads++
	return c.Source.LoadOrg(ctx, id)
}

// TestPatchWhileSearching: patches never modify what published snapshots
// share (run with -race).
func TestPatchWhileSearching(t *testing.T) {
	f := fixture()
	d := newDIT(t, f)
	c := &randomChanges{f: f, r: rand.New(rand.NewPCG(99, 1))}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				for _, q := range []query{
					{base: acmeBase, scope: ldap.ScopeWholeSubtree, filter: "(|(uid=u1)(memberOf=cn=group 1,ou=groups," + acmeBase + "))"},
					{base: usersOU, scope: ldap.ScopeSingleLevel, filter: "(objectClass=inetOrgPerson)", attrs: []string{"+"}},
					{base: "uid=u2," + usersOU, scope: ldap.ScopeBaseObject},
				} {
					if _, err := run(t, d, asAdmin, q); err != nil && resultCode(t, err) != ldap.NoSuchObject {
						t.Error(err)
					}
				}
				d.snap.Load().resolveBind("uid=u3," + acmeBase)
			}
		})
	}
	for range 100 {
		c.one()
		if err := d.Refresh(context.Background()); err != nil {
			t.Error(err)
		}
	}
	cancel()
	wg.Wait()
}
