package dit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
	"github.com/dirgate/dirgate/internal/store"
)

// fakeSource is an in-memory directory with a change feed, standing in for
// *directory.Directory.
type fakeSource struct {
	mu        sync.Mutex
	seq       uint64
	orgs      []*directory.Org
	users     map[string]*directory.User // by id
	groups    map[string]*directory.Group
	members   map[string]map[string]bool // group id -> user ids
	links     map[string]map[string]bool // group id -> the ids of the groups in it
	passwords map[string]string          // user id -> password
	changes   []store.Change

	// authErr, when set, is what Authenticate returns.
	authErr error
	auths   []directory.AuthRequest // what Authenticate was asked
	loads   int                     // Load calls
	orgLds  int                     // LoadOrg calls
	deltas  int                     // LoadDelta calls
}

func newFakeSource() *fakeSource {
	return &fakeSource{users: map[string]*directory.User{}, groups: map[string]*directory.Group{},
		members: map[string]map[string]bool{}, links: map[string]map[string]bool{}, passwords: map[string]string{}}
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func (f *fakeSource) change(orgID string, k store.Kind, id string) {
	f.seq++
	f.changes = append(f.changes, store.Change{Seq: f.seq, OrgID: orgID, Kind: k, ID: id, At: t0})
}

func (f *fakeSource) addOrg(id, name string, custom ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orgs = append(f.orgs, &directory.Org{ID: id, Name: name, Suffix: directory.DefaultSuffix, Created: t0, CustomAttributes: custom})
	f.change(id, store.KindOrg, id)
}

// addUser adds an ACTIVE user with the given password.
func (f *fakeSource) addUser(orgID, id string, p directory.Profile, pw string, roles ...string) *directory.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := &directory.User{ID: id, OrgID: orgID, Status: directory.StatusActive, Type: store.TypePerson,
		LoginKey: strings.ToLower(p.Login), Profile: p, Roles: roles, PasswordHash: "{FAKE}",
		Created: t0, LastUpdated: t0.Add(time.Hour)}
	f.users[id] = u
	f.passwords[id] = pw
	f.change(orgID, store.KindUser, id)
	return u
}

func (f *fakeSource) updateUser(id string, fn func(*directory.User)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[id]
	fn(u)
	f.change(u.OrgID, store.KindUser, id)
}

func (f *fakeSource) deleteUser(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[id]
	delete(f.users, id)
	for _, m := range f.members {
		delete(m, id)
	}
	f.change(u.OrgID, store.KindUser, id)
}

func (f *fakeSource) addGroup(orgID, id, name, desc string, members ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[id] = &directory.Group{ID: id, OrgID: orgID, Name: name, NameKey: strings.ToLower(name),
		Description: desc, Created: t0, LastUpdated: t0, LastMembershipUpdated: t0.Add(2 * time.Hour)}
	f.members[id] = map[string]bool{}
	for _, m := range members {
		f.members[id][m] = true
	}
	f.change(orgID, store.KindGroup, id)
}

func (f *fakeSource) addMember(groupID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[groupID][userID] = true
	f.change(f.groups[groupID].OrgID, store.KindMembership, groupID)
}

func (f *fakeSource) removeMember(groupID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.members[groupID], userID)
	f.change(f.groups[groupID].OrgID, store.KindMembership, groupID)
}

func (f *fakeSource) updateGroup(id string, fn func(*directory.Group)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groups[id]
	fn(g)
	f.change(g.OrgID, store.KindGroup, id)
}

// deleteGroup removes the group, its memberships and its links: a change
// of the group, and one of each group it was in, as the store records it.
func (f *fakeSource) deleteGroup(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groups[id]
	delete(f.groups, id)
	delete(f.members, id)
	delete(f.links, id)
	f.change(g.OrgID, store.KindGroup, id)
	for p, kids := range f.links {
		if kids[id] {
			delete(kids, id)
			f.change(g.OrgID, store.KindGroupLink, p)
		}
	}
}

// linked reports whether any group is in another.
func (f *fakeSource) linked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, kids := range f.links {
		if len(kids) > 0 {
			return true
		}
	}
	return false
}

// link puts group child in group parent, or takes it out.
func (f *fakeSource) link(parent, child string, in bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.links[parent] == nil {
		f.links[parent] = map[string]bool{}
	}
	if in {
		f.links[parent][child] = true
	} else {
		delete(f.links[parent], child)
	}
	f.change(f.groups[parent].OrgID, store.KindGroupLink, parent)
}

func cloneUser(u *directory.User) *directory.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Profile.Custom = maps.Clone(u.Profile.Custom)
	return &c
}

func (f *fakeSource) orgData(o *directory.Org) *directory.OrgData {
	oc := *o
	od := &directory.OrgData{Org: &oc}
	for _, u := range f.users {
		if u.OrgID == o.ID {
			od.Users = append(od.Users, cloneUser(u))
		}
	}
	slices.SortFunc(od.Users, func(a, b *directory.User) int { return strings.Compare(a.LoginKey, b.LoginKey) })
	for _, g := range f.groups {
		if g.OrgID == o.ID {
			gc := *g
			od.Groups = append(od.Groups, &gc)
			for u := range f.members[g.ID] {
				od.Memberships = append(od.Memberships, store.Membership{GroupID: g.ID, UserID: u})
			}
			for c := range f.links[g.ID] {
				od.GroupLinks = append(od.GroupLinks, store.GroupLink{ParentID: g.ID, ChildID: c})
			}
		}
	}
	slices.SortFunc(od.GroupLinks, func(a, b store.GroupLink) int {
		return cmp.Or(strings.Compare(a.ParentID, b.ParentID), strings.Compare(a.ChildID, b.ChildID))
	})
	return od
}

func (f *fakeSource) Load(ctx context.Context) (*directory.Data, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	d := &directory.Data{Seq: f.seq}
	for _, o := range f.orgs {
		d.Orgs = append(d.Orgs, f.orgData(o))
	}
	return d, nil
}

func (f *fakeSource) LoadOrg(ctx context.Context, orgID string) (*directory.OrgData, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orgLds++
	for _, o := range f.orgs {
		if o.ID == orgID {
			return f.orgData(o), f.seq, nil
		}
	}
	return nil, 0, &directory.Error{Code: directory.CodeNotFound, Message: "no such org"}
}

func (f *fakeSource) LoadDelta(ctx context.Context, orgID string, userIDs, groupIDs []string) (*directory.Delta, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deltas++
	var org *directory.Org
	for _, o := range f.orgs {
		if o.ID == orgID {
			oc := *o
			org = &oc
		}
	}
	if org == nil {
		return nil, 0, &directory.Error{Code: directory.CodeNotFound, Message: "no such org"}
	}
	d := &directory.Delta{Org: org, Users: map[string]*directory.User{}, Groups: map[string]*directory.Group{},
		UserGroups: map[string][]string{}, GroupMembers: map[string][]string{}}
	for _, id := range userIDs {
		u := f.users[id]
		if u == nil || u.OrgID != orgID {
			continue
		}
		d.Users[id] = cloneUser(u)
		gs := []string{}
		for g, m := range f.members {
			if m[id] {
				gs = append(gs, g)
			}
		}
		slices.Sort(gs)
		d.UserGroups[id] = gs
	}
	for _, id := range groupIDs {
		g := f.groups[id]
		if g == nil || g.OrgID != orgID {
			continue
		}
		gc := *g
		d.Groups[id] = &gc
		d.GroupMembers[id] = slices.Sorted(maps.Keys(f.members[id]))
	}
	return d, f.seq, nil
}

func (f *fakeSource) Seq(ctx context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq, nil
}

func (f *fakeSource) ChangesSince(ctx context.Context, seq uint64, limit int) ([]store.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Change
	for _, c := range f.changes {
		if c.Seq > seq && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func credentials(reason string) error {
	return &directory.Error{Code: directory.CodeInvalidCredentials, Message: directory.MsgInvalidCredentials, Reason: reason}
}

// Authenticate behaves as the directory's: only an ACTIVE user with the
// right password succeeds.
func (f *fakeSource) Authenticate(ctx context.Context, req directory.AuthRequest) (*directory.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pw := string(req.Password)
	req.Password = nil // never kept
	f.auths = append(f.auths, req)
	if f.authErr != nil {
		return nil, f.authErr
	}
	var u *directory.User
	for _, x := range f.users {
		if x.OrgID == req.OrgID && (req.UserID != "" && x.ID == req.UserID || req.UserID == "" && x.LoginKey == strings.ToLower(req.Login)) {
			u = x
		}
	}
	switch {
	case u == nil:
		return nil, credentials("no such user")
	case f.passwords[u.ID] != pw:
		return nil, credentials("wrong password")
	case u.Status != directory.StatusActive:
		return nil, credentials("user is " + u.Status)
	}
	return cloneUser(u), nil
}

// countingSource counts every call to the Source.
type countingSource struct {
	Source
	n atomic.Int64
}

func (c *countingSource) Load(ctx context.Context) (*directory.Data, error) {
	c.n.Add(1)
	return c.Source.Load(ctx)
}

func (c *countingSource) LoadOrg(ctx context.Context, id string) (*directory.OrgData, uint64, error) {
	c.n.Add(1)
	return c.Source.LoadOrg(ctx, id)
}

func (c *countingSource) LoadDelta(ctx context.Context, id string, users, groups []string) (*directory.Delta, uint64, error) {
	c.n.Add(1)
	return c.Source.LoadDelta(ctx, id, users, groups)
}

func (c *countingSource) Seq(ctx context.Context) (uint64, error) {
	c.n.Add(1)
	return c.Source.Seq(ctx)
}

func (c *countingSource) ChangesSince(ctx context.Context, seq uint64, limit int) ([]store.Change, error) {
	c.n.Add(1)
	return c.Source.ChangesSince(ctx, seq, limit)
}

func (c *countingSource) Authenticate(ctx context.Context, req directory.AuthRequest) (*directory.User, error) {
	c.n.Add(1)
	return c.Source.Authenticate(ctx, req)
}

// The fixture: org acme with an admin, plain users (logins with '+', ”',
// upper case), a suspended user and a suspended super admin, groups and a
// custom attribute; org globex, which reuses a login of acme.
const (
	acmeID   = "00oacme"
	globexID = "00oglobex"
	acmeBase = "dc=acme,dc=okta,dc=com"
	gBase    = "dc=globex,dc=okta,dc=com"

	adminID  = "00uadmin"
	aliceID  = "00ualice"
	bobID    = "00ubob"
	obrienID = "00uobrien"
	carolID  = "00ucarol"
	samID    = "00usam"
	susanID  = "00ususan"
	hankID   = "00uhank"
	galiceID = "00ugalice"

	engID      = "00geng"
	adminsID   = "00gadmins"
	everyoneID = "00geveryone"
	emptyID    = "00gempty"
	rndID      = "00grnd"

	adminDN = "uid=admin@acme.example,ou=users," + acmeBase
	aliceDN = "uid=alice@acme.example,ou=users," + acmeBase
	bobDN   = `uid=bob\+test@acme.example,ou=users,` + acmeBase
	obrDN   = "uid=o'brien@acme.example,ou=users," + acmeBase
	carolDN = "uid=Carol.Upper@Acme.Example,ou=users," + acmeBase
	samDN   = "uid=sam@acme.example,ou=users," + acmeBase
	susanDN = "uid=susan@acme.example,ou=users," + acmeBase
	engDN   = "cn=Engineering,ou=groups," + acmeBase
	admsDN  = "cn=Admins,ou=groups," + acmeBase
	allDN   = "cn=Everyone,ou=groups," + acmeBase
	emptyDN = "cn=Empty,ou=groups," + acmeBase
	rndDN   = `cn=R&D\, Europe,ou=groups,` + acmeBase
	hankDN  = "uid=hank@globex.example,ou=users," + gBase
)

func fixture() *fakeSource {
	f := newFakeSource()
	f.addOrg(acmeID, "acme", "costCenter", "employeeNumber", "userPassword", "bad name", "memberOf")
	f.addUser(acmeID, adminID, directory.Profile{Login: "admin@acme.example", Email: "admin@acme.example", FirstName: "Ada", LastName: "Admin"}, "admin-password", directory.RoleReadOnlyAdmin)
	f.addUser(acmeID, aliceID, directory.Profile{Login: "alice@acme.example", Email: "alice@acme.example", FirstName: "Alice", LastName: "Liddell",
		DisplayName: "Alice L.", NickName: "al", Title: "Engineer", Department: "R&D", Organization: "Acme", MobilePhone: "+1 555 0100",
		PrimaryPhone: "+1 555 0101", Custom: map[string]string{"costCenter": "CC-42", "employeeNumber": "1001", "userPassword": "leak", "memberOf": "x"}}, "alice-password")
	f.addUser(acmeID, bobID, directory.Profile{Login: "bob+test@acme.example", Email: "bob@acme.example", FirstName: "Bob", LastName: "Builder",
		Custom: map[string]string{"costCenter": "CC-7"}}, "bob-password")
	f.addUser(acmeID, obrienID, directory.Profile{Login: "o'brien@acme.example", LastName: "O'Brien"}, "obrien-password")
	f.addUser(acmeID, carolID, directory.Profile{Login: "Carol.Upper@Acme.Example"}, "carol-password")
	f.addUser(acmeID, samID, directory.Profile{Login: "sam@acme.example", FirstName: "Sam"}, "sam-password")
	f.updateUser(samID, func(u *directory.User) { u.Status = directory.StatusSuspended })
	f.addUser(acmeID, susanID, directory.Profile{Login: "susan@acme.example"}, "susan-password", directory.RoleSuperAdmin)
	f.updateUser(susanID, func(u *directory.User) { u.Status = directory.StatusSuspended })
	f.addGroup(acmeID, engID, "Engineering", "Builds things", aliceID, bobID, carolID)
	f.addGroup(acmeID, adminsID, "Admins", "", adminID)
	f.addGroup(acmeID, everyoneID, "Everyone", "All of us", adminID, aliceID, bobID, obrienID, carolID, samID, susanID)
	f.addGroup(acmeID, emptyID, "Empty", "")
	f.addGroup(acmeID, rndID, "R&D, Europe", "", aliceID)

	f.addOrg(globexID, "globex")
	f.addUser(globexID, hankID, directory.Profile{Login: "hank@globex.example"}, "hank-password", directory.RoleOrgAdmin)
	f.addUser(globexID, galiceID, directory.Profile{Login: "alice@acme.example"}, "other-alice-password")
	return f
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newDIT(t testing.TB, src Source) *DIT {
	t.Helper()
	d, err := New(src, Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// as is the identity a bind as user id of org would give.
func as(org, id, dn string) *ldapserver.Identity {
	return &ldapserver.Identity{DN: dn, Value: &principal{OrgID: org, UserID: id}}
}

var (
	asAdmin = as(acmeID, adminID, adminDN)
	asAlice = as(acmeID, aliceID, aliceDN)
	asHank  = as(globexID, hankID, hankDN)
)

// gotEntry is a decoded search result entry.
type gotEntry struct {
	DN    string
	Attrs map[string][]string // type as sent -> values
	Order []string            // types in the order sent
}

// collector is an entryWriter that keeps what the cursor writes.
type collector struct {
	t       testing.TB
	entries []gotEntry
	cur     *gotEntry
	raw     []byte
}

func (c *collector) Begin(dn string) {
	c.entries = append(c.entries, gotEntry{DN: dn, Attrs: map[string][]string{}})
	c.cur = &c.entries[len(c.entries)-1]
	c.raw = c.raw[:0]
}

func (c *collector) Raw(b []byte) { c.raw = append(c.raw, b...) }

func (c *collector) End() {
	r := ber.NewReader(c.raw)
	for !r.Empty() {
		seq, err := r.Enter(ber.TagSequence)
		if err != nil {
			c.t.Fatalf("entry %s: bad PartialAttribute: %v", c.cur.DN, err)
		}
		typ, err := seq.OctetString(ber.TagOctetString)
		if err != nil {
			c.t.Fatal(err)
		}
		set, err := seq.Enter(ber.TagSet)
		if err != nil {
			c.t.Fatal(err)
		}
		vals := []string{}
		for !set.Empty() {
			v, err := set.OctetString(ber.TagOctetString)
			if err != nil {
				c.t.Fatal(err)
			}
			vals = append(vals, string(v))
		}
		if _, dup := c.cur.Attrs[string(typ)]; dup {
			c.t.Errorf("entry %s: attribute %s sent twice", c.cur.DN, typ)
		}
		c.cur.Attrs[string(typ)] = vals
		c.cur.Order = append(c.cur.Order, string(typ))
	}
}

// query describes one search.
type query struct {
	base      string
	scope     ldap.Scope
	filter    string
	attrs     []string
	typesOnly bool
}

// run searches as who and returns the entries or the error.
func run(t testing.TB, d *DIT, who *ldapserver.Identity, q query) ([]gotEntry, error) {
	t.Helper()
	if q.filter == "" {
		q.filter = "(objectClass=*)"
	}
	f, err := ldap.ParseFilter(q.filter)
	if err != nil {
		t.Fatalf("filter %q: %v", q.filter, err)
	}
	req := &ldap.SearchRequest{BaseObject: q.base, Scope: q.scope, Filter: f, Attributes: q.attrs, TypesOnly: q.typesOnly}
	c, err := d.search(who, req)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	col := &collector{t: t}
	for {
		err := c.next(context.Background(), col)
		if err != nil {
			if err.Error() == "EOF" {
				return col.entries, nil
			}
			return col.entries, err
		}
	}
}

func dns(es []gotEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.DN)
	}
	return out
}

// resultCode is the LDAP result code an error carries (0 for nil).
func resultCode(t testing.TB, err error) ldap.ResultCode {
	t.Helper()
	if err == nil {
		return ldap.Success
	}
	re, ok := err.(*ldapserver.ResultError)
	if !ok {
		t.Fatalf("error %v (%T) is not a *ldapserver.ResultError", err, err)
	}
	return re.Code
}

// bigSource is an org "big" of n users (user00000 ..., the first an org
// admin) in groups of 100, plus an "all" group.
func bigSource(n int) *fakeSource {
	f := newFakeSource()
	f.addBigOrg("00obig", "big", n)
	return f
}

func (f *fakeSource) addBigOrg(orgID, name string, n int) {
	f.addOrg(orgID, name)
	all := make([]string, 0, n)
	for i := range n {
		id := fmt.Sprintf("00u%s%07d", name, i)
		var roles []string
		if i == 0 {
			roles = []string{directory.RoleOrgAdmin}
		}
		f.addUser(orgID, id, directory.Profile{Login: fmt.Sprintf("user%05d@%s.example", i, name), Email: fmt.Sprintf("user%05d@%s.example", i, name),
			FirstName: "User", LastName: fmt.Sprintf("Number %d", i), Title: "Staff", Department: fmt.Sprintf("dept%d", i%10)}, "password", roles...)
		all = append(all, id)
	}
	for g := 0; g*100 < n; g++ {
		f.addGroup(orgID, fmt.Sprintf("00g%s%05d", name, g), fmt.Sprintf("group%04d", g), "", all[g*100:min(n, g*100+100)]...)
	}
	f.addGroup(orgID, "00g"+name+"all", "all", "everyone", all...)
}

// ChangePasswordAs is not faked: password changes are tested over a real
// directory (password_test.go).
func (f *fakeSource) ChangePasswordAs(context.Context, directory.PasswordChange) (string, error) {
	return "", errors.New("fakeSource: password changes are not faked")
}
