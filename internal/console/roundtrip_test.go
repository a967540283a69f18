package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// What a request asks of the store, counted by a wrapper around the store
// the directory is given:
//
//   - a read is one round trip of its own: a read transaction (View) or
//     a read outside one (Events, Seq, ChangesSince);
//   - a query is one statement: each Reader method called in a
//     transaction, and each read outside one;
//   - a list query is one that returns many records (Users, UsersPage,
//     Groups, Events, …), and a list read a read that makes one;
//   - a write is an Update (the system log is appended to by the
//     directory's writer in the background, not by the request).
//
// A list page must read the same for an org of 5 users as for one of 500
// (and a group of 5 members as of 500, a log of 5 events as of 2,500, a
// filter that keeps everyone as one that keeps one), and beyond what
// every signed-in request reads (the session's admin, measured on the
// LDAP Interface page, whose handler reads nothing) make one list read
// holding one list query for each list it shows, and at most one other
// read (a lookup: the system log's org).

// counts is what one request read.
type counts struct {
	Reads, ListReads, Queries, ListQueries, Writes int
	Calls                                          map[string]int // queries by method
}

func (c counts) String() string {
	names := slices.Sorted(maps.Keys(c.Calls))
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, " %s:%d", n, c.Calls[n])
	}
	return fmt.Sprintf("reads %d (list %d), queries %d (list %d), writes %d;%s", c.Reads, c.ListReads, c.Queries, c.ListQueries, c.Writes, b.String())
}

// listMethods are the queries that return many records.
var listMethods = map[string]bool{
	"Orgs": true, "Users": true, "UsersPage": true, "UsersPageWhere": true, "Groups": true, "Memberships": true,
	"GroupMembers": true, "GroupUsers": true, "UserGroups": true, "Factors": true, "Policies": true, "Tokens": true,
	"Events": true, "ChangesSince": true, "GroupLinks": true, "ChildGroups": true, "ParentGroups": true,
}

// countingStore counts what is asked of it while on.
type countingStore struct {
	store.Store
	mu sync.Mutex
	on bool
	c  counts
}

func (s *countingStore) start() {
	s.mu.Lock()
	s.on, s.c = true, counts{Calls: map[string]int{}}
	s.mu.Unlock()
}

func (s *countingStore) stop() counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = false
	return s.c
}

// query counts one statement; it reports whether it is a list query.
func (s *countingStore) query(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on {
		s.c.Queries++
		s.c.Calls[name]++
		if listMethods[name] {
			s.c.ListQueries++
		}
	}
	return listMethods[name]
}

// read counts a read; list says whether it made a list query.
func (s *countingStore) read(list bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on {
		s.c.Reads++
		if list {
			s.c.ListReads++
		}
	}
}

func (s *countingStore) write() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on {
		s.c.Writes++
	}
}

func (s *countingStore) View(ctx context.Context, fn func(store.Reader) error) error {
	r := &countingReader{s: s}
	defer func() { s.read(r.list) }()
	return s.Store.View(ctx, func(inner store.Reader) error {
		r.Reader = inner
		return fn(r)
	})
}

func (s *countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.write()
	return s.Store.Update(ctx, fn)
}

func (s *countingStore) Events(ctx context.Context, q store.EventQuery) ([]*store.Event, error) {
	s.read(s.query("Events"))
	return s.Store.Events(ctx, q)
}

func (s *countingStore) Seq(ctx context.Context) (uint64, error) {
	s.read(s.query("Seq"))
	return s.Store.Seq(ctx)
}

func (s *countingStore) ChangesSince(ctx context.Context, since uint64, limit int) ([]store.Change, error) {
	s.read(s.query("ChangesSince"))
	return s.Store.ChangesSince(ctx, since, limit)
}

// countingReader counts each Reader method it forwards.
type countingReader struct {
	store.Reader
	s    *countingStore
	list bool // a list query was made
}

func (r *countingReader) q(name string) {
	if r.s.query(name) {
		r.list = true
	}
}

func (r *countingReader) Seq() (uint64, error)              { r.q("Seq"); return r.Reader.Seq() }
func (r *countingReader) Org(id string) (*store.Org, error) { r.q("Org"); return r.Reader.Org(id) }
func (r *countingReader) OrgByName(n string) (*store.Org, error) {
	r.q("OrgByName")
	return r.Reader.OrgByName(n)
}
func (r *countingReader) Orgs() ([]*store.Org, error)         { r.q("Orgs"); return r.Reader.Orgs() }
func (r *countingReader) User(id string) (*store.User, error) { r.q("User"); return r.Reader.User(id) }
func (r *countingReader) UserByLogin(o, k string) (*store.User, error) {
	r.q("UserByLogin")
	return r.Reader.UserByLogin(o, k)
}
func (r *countingReader) Users(o string) ([]*store.User, error) {
	r.q("Users")
	return r.Reader.Users(o)
}
func (r *countingReader) Group(id string) (*store.Group, error) {
	r.q("Group")
	return r.Reader.Group(id)
}
func (r *countingReader) GroupByName(o, k string) (*store.Group, error) {
	r.q("GroupByName")
	return r.Reader.GroupByName(o, k)
}
func (r *countingReader) UserCounts(o string) (map[string]int, error) {
	r.q("UserCounts")
	return r.Reader.UserCounts(o)
}
func (r *countingReader) UsersPage(o, after string, limit int) ([]*store.User, error) {
	r.q("UsersPage")
	return r.Reader.UsersPage(o, after, limit)
}
func (r *countingReader) Groups(o string) ([]*store.Group, error) {
	r.q("Groups")
	return r.Reader.Groups(o)
}
func (r *countingReader) Memberships(o string) ([]store.Membership, error) {
	r.q("Memberships")
	return r.Reader.Memberships(o)
}
func (r *countingReader) GroupMembers(g string) ([]string, error) {
	r.q("GroupMembers")
	return r.Reader.GroupMembers(g)
}
func (r *countingReader) UserGroups(u string) ([]string, error) {
	r.q("UserGroups")
	return r.Reader.UserGroups(u)
}
func (r *countingReader) Factor(id string) (*store.Factor, error) {
	r.q("Factor")
	return r.Reader.Factor(id)
}
func (r *countingReader) Factors(u string) ([]*store.Factor, error) {
	r.q("Factors")
	return r.Reader.Factors(u)
}
func (r *countingReader) Policy(id string) (*store.Policy, error) {
	r.q("Policy")
	return r.Reader.Policy(id)
}
func (r *countingReader) Policies(o string) ([]*store.Policy, error) {
	r.q("Policies")
	return r.Reader.Policies(o)
}
func (r *countingReader) Token(id string) (*store.Token, error) {
	r.q("Token")
	return r.Reader.Token(id)
}
func (r *countingReader) TokenByHash(h string) (*store.Token, error) {
	r.q("TokenByHash")
	return r.Reader.TokenByHash(h)
}
func (r *countingReader) Tokens(o string) ([]*store.Token, error) {
	r.q("Tokens")
	return r.Reader.Tokens(o)
}

func (r *countingReader) UsersPageWhere(o, after string, limit int, status, prefix string) ([]*store.User, error) {
	r.q("UsersPageWhere")
	return r.Reader.UsersPageWhere(o, after, limit, status, prefix)
}

func (r *countingReader) GroupUsers(g string) ([]*store.User, error) {
	r.q("GroupUsers")
	return r.Reader.GroupUsers(g)
}

func (r *countingReader) GroupLinks(o string) ([]store.GroupLink, error) {
	r.q("GroupLinks")
	return r.Reader.GroupLinks(o)
}

func (r *countingReader) ChildGroups(g string) ([]string, error) {
	r.q("ChildGroups")
	return r.Reader.ChildGroups(g)
}

func (r *countingReader) ParentGroups(g string) ([]string, error) {
	r.q("ParentGroups")
	return r.Reader.ParentGroups(g)
}

// countedSite is a site whose directory reads through a countingStore,
// with events in its system log: n of them, the oldest a FAILURE, the
// others SUCCESS by user<i%users>.
func countedSite(t *testing.T, users, events int) (*site, *countingStore) {
	t.Helper()
	var cs *countingStore
	s, closeAll := newSite(t, t.TempDir(), users, func(st store.Store) store.Store { cs = &countingStore{Store: st}; return cs })
	t.Cleanup(closeAll)
	o, err := s.d.Org(ctx, "example")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).UTC()
	evs := make([]*store.Event, events)
	for i := range evs {
		le := directory.LogEvent{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), EventType: "user.session.start",
			Published: at.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano), Severity: "INFO",
			DisplayMessage: "User login to the console", Outcome: directory.LogOutcome{Result: directory.ResultSuccess},
			Actor: directory.LogActor{Type: "User", AlternateID: fmt.Sprintf("user%06d", i%max(users, 1))}}
		if i == 0 {
			le.Outcome.Result = directory.ResultFailure
		}
		doc, err := json.Marshal(&le)
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = &store.Event{UUID: le.UUID, Published: at.Add(time.Duration(i) * time.Millisecond), OrgID: o.ID,
			EventType: le.EventType, Outcome: le.Outcome.Result, Doc: doc}
	}
	if err := cs.Store.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	return s, cs
}

// measure serves one GET and returns what it read.
func measure(t *testing.T, s *site, cs *countingStore, path string) counts {
	t.Helper()
	cs.start()
	rec := s.serve(http.MethodGet, path, nil)
	c := cs.stop()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, rec.Code, rec.Body)
	}
	return c
}

func TestListPagesReadOnce(t *testing.T) {
	small, smallCS := countedSite(t, 5, 5)
	big, bigCS := countedSite(t, 500, 2500) // more events than one read of the log returns (1000)
	// One more suspended user in each; ids are random, so the last one
	// may be among those siteUser made SUSPENDED (1 in 100): take the
	// last that is not.
	for _, s := range []*site{small, big} {
		var err error
		for i := len(s.ids) - 1; i >= 0; i-- {
			if _, err = s.d.Lifecycle(ctx, "example", s.ids[i], directory.ActionSuspend); directory.CodeOf(err) != directory.CodeIllegalTransition {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	const baseline = "/console/ldap" // its handler reads nothing: the session check alone
	for _, tc := range []struct {
		name  string
		path  func(s *site) string
		lists int // the lists the page shows
	}{
		{"people", func(*site) string { return "/console/people" }, 1},
		{"people, a deep page", func(s *site) string { return "/console/people?q=&status=&after=" + s.ids[len(s.ids)/2] }, 1},
		{"people, a search one matches", func(*site) string { return "/console/people?q=USER000003" }, 1},
		{"people, a search none matches", func(*site) string { return "/console/people?q=nomatch" }, 1},
		{"people, a search beyond ASCII", func(*site) string { return "/console/people?q=" + url.QueryEscape("Ünïcode") }, 1},
		{"people, a status few have", func(*site) string { return "/console/people?status=SUSPENDED" }, 1},
		{"people, a status and a search", func(s *site) string { return "/console/people?status=SUSPENDED&q=user0004" }, 1},
		{"groups", func(*site) string { return "/console/groups" }, 1},
		{"groups, a search", func(*site) string { return "/console/groups?q=te" }, 1},
		// A group's page lists its members, the groups in it, the groups
		// it is in and, for an admin who may write, the org's groups to
		// add to it.
		{"a group's members", func(*site) string { return "/console/groups/team" }, 4},
		{"a group's members and people to add", func(*site) string { return "/console/groups/team?find=user00049" }, 5},
		{"system log", func(*site) string { return "/console/logs" }, 1},
		{"system log, an outcome one event has", func(*site) string { return "/console/logs?outcome=FAILURE" }, 1},
		{"system log, a user", func(*site) string { return "/console/logs?user=user000001" }, 1},
		{"system log, an older page", func(*site) string { return "/console/logs?before=3" }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]counts
			for i, s := range []*site{small, big} {
				cs := []*countingStore{smallCS, bigCS}[i]
				base := measure(t, s, cs, baseline)
				c := measure(t, s, cs, tc.path(s))
				if c.Writes != 0 {
					t.Errorf("%d users: the page wrote to the store %d times", len(s.ids), c.Writes)
				}
				if n := c.ListQueries - base.ListQueries; n > tc.lists {
					t.Errorf("%d users: %d list queries for %d lists: %v", len(s.ids), n, tc.lists, c)
				}
				if n := c.ListReads - base.ListReads; n > tc.lists {
					t.Errorf("%d users: %d list reads for %d lists: %v", len(s.ids), n, tc.lists, c)
				}
				if n := c.Reads - base.Reads; n > tc.lists+1 {
					t.Errorf("%d users: %d reads for %d lists (and a lookup): %v", len(s.ids), n, tc.lists, c)
				}
				got[i] = c
			}
			t.Logf("%s: %v (the session check: %v)", tc.path(big), got[1], measure(t, big, bigCS, baseline))
			if got[0].Reads != got[1].Reads || !maps.Equal(got[0].Calls, got[1].Calls) {
				t.Errorf("reads grow with the org:\n  5 users:   %v\n  500 users: %v", got[0], got[1])
			}
		})
	}
}

// TestListUsersWhere: the People list's filter, done in the store's
// query, selects what directory.UserMatchesQ and the status select, in
// id order, page after page; case folds beyond ASCII too.
func TestListUsersWhere(t *testing.T) {
	s, closeAll := newSite(t, t.TempDir(), 30, nil)
	t.Cleanup(closeAll)
	for i, name := range [][2]string{{"Émile", "Zola"}, {"ÉMILE", "Durand"}, {"émilie", "Ǆemal"}, {"Øystein", "ǆuro"},
		{"ſam", "Kelvin\u212A"}, {"a_b", "a%b"}, {`a\b`, "100%"}, {"Straße", "STRASSE"}, {"日本", "太郎"}} {
		in := directory.UserInput{Profile: directory.Profile{Login: fmt.Sprintf("odd%02d", i), FirstName: name[0], LastName: name[1],
			Email: fmt.Sprintf("Odd.%02d@Example.COM", i)}}
		if i%2 == 1 {
			in.Status = directory.StatusStaged
		}
		if _, err := s.d.CreateUser(ctx, "example", in); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.d.Users(ctx, "example")
	if err != nil {
		t.Fatal(err)
	}
	// n is how many match (-1: not checked), so that the comparison below
	// is not of two empty lists.
	for _, tc := range []struct {
		f directory.UserFilter
		n int
	}{
		{directory.UserFilter{}, 40}, {directory.UserFilter{Q: "user00001"}, 10}, {directory.UserFilter{Q: "USER00001"}, 10},
		{directory.UserFilter{Q: "odd.0"}, 9}, {directory.UserFilter{Q: "ODD.0", Status: directory.StatusStaged}, 4},
		{directory.UserFilter{Status: directory.StatusSuspended}, 1}, {directory.UserFilter{Status: directory.StatusStaged}, 4},
		{directory.UserFilter{Q: "émile"}, 2}, {directory.UserFilter{Q: "ÉMIL"}, 3}, {directory.UserFilter{Q: "øy"}, 1},
		{directory.UserFilter{Q: "ǅ"}, 2}, {directory.UserFilter{Q: "ǆ"}, 2}, {directory.UserFilter{Q: "s"}, 1},
		{directory.UserFilter{Q: "S"}, 1}, {directory.UserFilter{Q: "ſ"}, 1}, {directory.UserFilter{Q: "kelvink"}, 0}, {directory.UserFilter{Q: "KELVIN\u212a"}, 1},
		{directory.UserFilter{Q: "a_"}, 1}, {directory.UserFilter{Q: "a%"}, 1}, {directory.UserFilter{Q: "a_b"}, 1},
		{directory.UserFilter{Q: `a\`}, 1}, {directory.UserFilter{Q: "100%"}, 1}, {directory.UserFilter{Q: "_"}, 0},
		{directory.UserFilter{Q: "%"}, 0}, {directory.UserFilter{Q: "stras"}, 1}, {directory.UserFilter{Q: "straß"}, 1},
		{directory.UserFilter{Q: "日"}, 1}, {directory.UserFilter{Q: "First0"}, 30}, {directory.UserFilter{Q: "last2"}, 11},
		{directory.UserFilter{Q: "nobody"}, 0}, {directory.UserFilter{Q: "user\x00"}, 0}, {directory.UserFilter{Q: "\xff"}, -1},
	} {
		f := tc.f
		var want []string
		for _, u := range all {
			if (f.Q == "" || directory.UserMatchesQ(u, f.Q)) && (f.Status == "" || u.Status == f.Status) {
				want = append(want, u.ID)
			}
		}
		sort.Strings(want)
		if tc.n >= 0 && len(want) != tc.n {
			t.Errorf("%+v: %d users match, the test expects %d", f, len(want), tc.n)
		}
		var got []string
		after, pages := "", 0
		for {
			page, next, err := s.d.ListUsersWhere(ctx, "example", after, 4, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			for _, u := range page {
				got = append(got, u.ID)
			}
			if pages++; next == "" || pages > 100 {
				break
			}
			if next != page[len(page)-1].ID {
				t.Fatalf("%+v: next %s is not the page's last id", f, next)
			}
			after = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: %d users %v, want %d %v", f, len(got), got, len(want), want)
		}
	}
}
