package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/console"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// The list pages over a large org: 100,000 users imported in one
// transaction (Directory.Import, as `dirgate import` does), signed in as
// an org admin, each request served by s.Handler() in process.

// site is a console over an org "example" of imported users, with a
// signed-in org admin "admin".
type site struct {
	d      *directory.Directory
	st     store.Store // what the directory was given (a wrapper, if any)
	h      http.Handler
	cookie *http.Cookie
	csrf   string
	ids    []string // the imported users' ids, ascending (the list order)
}

// teamSize is how many users (the first) the site's group "team" holds.
const teamSize = 500

// siteUser is the i'th imported user: login user<i, six digits>; every
// hundredth (i%100 == 7) SUSPENDED; every group of 1000 shares a first
// name ("First<i/1000>").
func siteUser(i int) directory.ImportUser {
	uid := fmt.Sprintf("user%06d", i)
	u := directory.ImportUser{Source: uid}
	u.Profile = directory.Profile{Login: uid, Email: uid + "@example.com",
		FirstName: fmt.Sprintf("First%d", i/1000), LastName: fmt.Sprintf("Last%d", i)}
	if i%100 == 7 {
		u.Status = directory.StatusSuspended
	}
	return u
}

// newSite builds a site of n users (and the admin), and the group
// "team" of the first of them, in dir; wrap, when
// set, wraps the store the directory reads through.
func newSite(tb testing.TB, dir string, n int, wrap func(store.Store) store.Store) (*site, func()) {
	tb.Helper()
	st, err := sqlite.Open(filepath.Join(dir, "dirgate.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var ds store.Store = st
	if wrap != nil {
		ds = wrap(st)
	}
	d, err := directory.New(directory.Config{Store: ds, Password: password.Params{Memory: 64, Time: 1, Threads: 1},
		LoginFlushInterval: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	closeAll := func() { d.Close(); st.Close() }
	if _, err := d.CreateOrg(ctx, directory.OrgInput{Name: "example"}); err != nil {
		tb.Fatal(err)
	}
	users := make([]directory.ImportUser, n, n+1)
	for i := range users {
		users[i] = siteUser(i)
	}
	admin := directory.ImportUser{Source: "admin"}
	admin.Profile = directory.Profile{Login: "admin", FirstName: "Ada", LastName: "Admin"}
	admin.Password, admin.Roles = []byte("admin-Password-1"), []string{directory.RoleOrgAdmin}
	team := directory.ImportGroup{Source: "team"}
	team.Name, team.Description = "team", "the first 500 users"
	for i := range min(n, teamSize) {
		team.MemberLogins = append(team.MemberLogins, users[i].Profile.Login)
	}
	if _, err := d.Import(ctx, "example", append(users, admin), []directory.ImportGroup{team}, nil); err != nil {
		tb.Fatal(err)
	}
	all, err := d.Users(ctx, "example")
	if err != nil {
		tb.Fatal(err)
	}
	s := &site{d: d, st: ds}
	for _, u := range all {
		if u.Profile.Login != "admin" {
			s.ids = append(s.ids, u.ID)
		}
	}
	slices.Sort(s.ids)
	cs, err := console.New(console.Config{Directory: d})
	if err != nil {
		tb.Fatal(err)
	}
	s.h = cs.Handler()
	s.signIn(tb)
	return s, closeAll
}

var hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs the admin in, as a browser does: the form's token and its
// cookie, then the session cookie.
func (s *site) signIn(tb testing.TB) {
	tb.Helper()
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/signin", nil))
	m := hiddenCSRF.FindStringSubmatch(rec.Body.String())
	if m == nil || len(rec.Result().Cookies()) == 0 {
		tb.Fatalf("sign-in page: %d\n%s", rec.Code, rec.Body)
	}
	form := url.Values{"csrf": {m[1]}, "org": {"example"}, "login": {"admin"}, "password": {"admin-Password-1"}}
	req := httptest.NewRequest(http.MethodPost, "/console/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "dirgate_console" && c.Value != "" {
			s.cookie = c
		}
	}
	if rec.Code != http.StatusSeeOther || s.cookie == nil {
		tb.Fatalf("sign in: %d\n%s", rec.Code, rec.Body)
	}
	code, page := s.get(tb, "/console/people?q=admin")
	m = hiddenCSRF.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		tb.Fatalf("people after signing in: %d\n%s", code, page)
	}
	s.csrf = m[1]
}

// serve answers one signed-in request.
func (s *site) serve(method, path string, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(s.cookie)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func (s *site) get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	rec := s.serve(http.MethodGet, path, nil)
	return rec.Code, rec.Body.String()
}

// The benchmarks' site, built once per test process (the import takes
// seconds) and removed by TestMain.
const benchUsers = 100_000

var bench struct {
	once  sync.Once
	dir   string
	s     *site
	close func()
	err   error
}

func benchSite(b *testing.B) *site {
	b.Helper()
	bench.once.Do(func() {
		if bench.dir, bench.err = os.MkdirTemp("", "dirgate-console-bench-"); bench.err != nil {
			return
		}
		ok := false
		defer func() {
			if !ok && bench.err == nil {
				bench.err = fmt.Errorf("building the %d-user site failed", benchUsers)
			}
		}()
		bench.s, bench.close = newSite(b, bench.dir, benchUsers, nil)
		runtime.GC() // start from a heap without the import's garbage
		ok = true
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.close != nil {
		bench.close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

var nextLink = regexp.MustCompile(`after=([0-9A-Za-z]+)">Next page`)

// benchPage serves path b.N times; each answer must be 200 and show want
// (and the Next link when next is set).
func benchPage(b *testing.B, path, want string, next bool) {
	s := benchSite(b)
	code, page := s.get(b, path)
	if code != http.StatusOK || !strings.Contains(page, want) || nextLink.MatchString(page) != next {
		b.Fatalf("%s: %d, want %q and a Next link %v\n%s", path, code, want, next, page)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := s.serve(http.MethodGet, path, nil); rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, rec.Code)
		}
	}
}

// BenchmarkPeopleList is the People list's first page (50 of 100,000).
func BenchmarkPeopleList(b *testing.B) {
	s := benchSite(b)
	benchPage(b, "/console/people", `href="/console/people/`+s.ids[0]+`"`, true)
}

// BenchmarkPeopleListDeepPage is a page 90,000 users into the list, as
// its predecessor's Next link (after=<the last id it shows>) names it.
func BenchmarkPeopleListDeepPage(b *testing.B) {
	s := benchSite(b)
	const at = 90_000
	_, prev := s.get(b, "/console/people?q=&status=&after="+s.ids[at-peoplePageSize-1])
	m := nextLink.FindStringSubmatch(prev)
	if m == nil || m[1] != s.ids[at-1] {
		b.Fatalf("the page before: Next link %v, want after=%s", m, s.ids[at-1])
	}
	benchPage(b, "/console/people?q=&status=&after="+m[1], `href="/console/people/`+s.ids[at]+`"`, true)
}

// BenchmarkPeopleSearch is a search (a prefix of first name, last name,
// email or login) that ten of the 100,000 users match: user09999*.
func BenchmarkPeopleSearch(b *testing.B) {
	benchPage(b, "/console/people?q=user09999", ">user099999</a>", false)
}

// BenchmarkPeopleSearchStatus is the status filter SUSPENDED, which 1% of
// the users have: a page of 50 of them, with a Next link.
func BenchmarkPeopleSearchStatus(b *testing.B) {
	benchPage(b, "/console/people?status=SUSPENDED", `<span class="badge suspended">SUSPENDED</span>`, true)
}

// BenchmarkPeopleSearchStatusRare is a search and a status that one user
// matches (user099907, SUSPENDED): the filter's worst case, every row
// looked at.
func BenchmarkPeopleSearchStatusRare(b *testing.B) {
	benchPage(b, "/console/people?q=user09990&status=SUSPENDED", ">user099907</a>", false)
}

// BenchmarkGroupsList is the Groups list of an org of 100,000 users (and
// no groups: what it reads does not depend on the users).
func BenchmarkGroupsList(b *testing.B) {
	benchPage(b, "/console/groups", "Groups", false)
}

// BenchmarkGroupPage is a group of 500 members, all shown.
func BenchmarkGroupPage(b *testing.B) {
	benchPage(b, "/console/groups/team", "Members (500)", false)
}

// peoplePageSize is the People list's page (people.go's peoplePage).
const peoplePageSize = 50
