package ldapsource_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/connector/ldapsource/ldaptest"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/directory/dirtest"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/sealed"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

var ctx = context.Background()

func newDirectory(t *testing.T) *directory.Directory {
	return dirtest.New(t, directory.OrgInput{Name: "example"})
}

// openLDAPSettings are what an administrator enters for the fixture's
// OpenLDAP tree.
func openLDAPSettings(t *testing.T, s *ldaptest.Server) *ldapsource.Settings {
	t.Helper()
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	return &ldapsource.Settings{
		URLs: []string{s.URL}, StartTLS: true, CACert: string(ca), BindDN: s.BindDN,
		UserBase: s.UsersBase, UserAttribute: s.LoginAttr,
		Profile: map[string]string{"email": "mail", "firstName": "givenName", "lastName": "sn", "title": "title"},
		Paging:  true, GroupBase: s.GroupsBase, GroupFilter: "(objectClass=groupOfNames)",
		Attributes: []string{"employeeNumber"}, AttributePrefix: "ldap-",
	}
}

func addIntegration(t *testing.T, d *directory.Directory, s *ldaptest.Server, set *ldapsource.Settings) *directory.Integration {
	t.Helper()
	if err := set.Normalize(); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	in, err := d.CreateIntegration(ctx, "example", directory.IntegrationInput{Name: "Source LDAP", Kind: directory.KindLDAP,
		Settings: raw, Owned: ldapsource.Owned(set), Secret: []byte(s.BindPassword)})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func logins(us []*directory.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Profile.Login)
	}
	slices.Sort(out)
	return out
}

// TestSyncFromOpenLDAP: 10,000 users and 200 groups from slapd, paged at
// 1000 past a size limit of 500; duplicate emails left empty; a second run
// changes nothing; a change, a removal and a membership change in slapd
// arrive with the next run; without paging the run fails loudly and writes
// nothing.
func TestSyncFromOpenLDAP(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 10000, Groups: 200, SizeLimit: 500, DuplicateEmails: 3})
	d := newDirectory(t)
	set := openLDAPSettings(t, src)
	in := addIntegration(t, d, src, set)

	// Without paging, the size limit is an error and nothing is written.
	unpaged := *set
	unpaged.Paging = false
	bad := addIntegrationNamed(t, d, src, &unpaged, "Unpaged")
	if _, err := ldapsource.Run(ctx, d, "example", bad, false, nil); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Fatalf("an unpaged run past the size limit: %v", err)
	}
	if us, _ := d.Users(ctx, "example"); len(us) != 0 {
		t.Fatalf("an unpaged run wrote %d users", len(us))
	}

	start := time.Now()
	rep, err := ldapsource.Run(ctx, d, "example", in, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run of 10,000 users and 200 groups: %v (%+v)", time.Since(start).Round(time.Millisecond), *rep)
	if rep.Created != 10000 || rep.GroupsCreated != 200 || len(rep.DuplicateEmails) != 3 {
		t.Fatalf("first run: created %d, groups %d, duplicate emails %v", rep.Created, rep.GroupsCreated, rep.DuplicateEmails)
	}
	us, err := d.Users(ctx, "example")
	if err != nil || len(us) != 10000 {
		t.Fatalf("%d users, %v", len(us), err)
	}
	byLogin := map[string]*directory.User{}
	for _, u := range us {
		byLogin[u.Profile.Login] = u
	}
	empty := 0
	for _, want := range src.Users {
		u := byLogin[want.Login]
		if u == nil {
			t.Fatalf("%s not synced", want.Login)
		}
		if u.Profile.FirstName != want.GivenName || u.Profile.LastName != want.Surname || u.Profile.Custom["ldap-employeeNumber"] != want.EmployeeNumber {
			t.Fatalf("%s: %+v, want %+v", want.Login, u.Profile, want)
		}
		if u.Profile.Email == "" {
			empty++
		} else if !strings.EqualFold(u.Profile.Email, want.Email) {
			t.Fatalf("%s: email %q, want %q", want.Login, u.Profile.Email, want.Email)
		}
	}
	if empty != 3 {
		t.Errorf("%d users without email, want the 3 duplicates", empty)
	}
	for _, g := range src.Groups {
		if g.Kind != ldaptest.GroupOfNames {
			continue
		}
		ms, err := d.GroupMembers(ctx, "example", g.Name)
		if err != nil {
			t.Fatalf("group %s: %v", g.Name, err)
		}
		want := slices.Clone(g.MemberLogins)
		slices.Sort(want)
		if got := logins(ms); !slices.Equal(got, want) {
			t.Fatalf("group %s: %d members, want %d", g.Name, len(got), len(want))
		}
	}
	again, err := ldapsource.Run(ctx, d, "example", in, false, nil)
	if err != nil || again.Created+again.Updated+again.Deactivated+again.MembersAdded+again.MembersRemoved != 0 || again.Unchanged != 10000 {
		t.Fatalf("second run: %+v %v", again, err)
	}

	// Change the source: a new first name, a user deleted, a member out.
	conn := src.Conn(t)
	changed, gone := src.Users[10], src.Users[11]
	group := src.Groups[0]
	mustLDAP(t, conn.Modify(modify(changed.DN, "givenName", "Renamed")))
	mustLDAP(t, conn.Del(ldap.NewDelRequest(gone.DN, nil)))
	leaver := group.Members[0]
	mr := ldap.NewModifyRequest(group.DN, nil)
	mr.Delete("member", []string{leaver})
	mustLDAP(t, conn.Modify(mr))
	dry, err := ldapsource.Run(ctx, d, "example", in, true, nil)
	if err != nil || dry.Updated != 1 || dry.Deactivated != 1 || dry.Examples["deactivated"][0] != gone.Login {
		t.Fatalf("dry run after the changes: %+v %v", dry, err)
	}
	rep, err = ldapsource.Run(ctx, d, "example", in, false, nil)
	if err != nil || rep.Updated != 1 || rep.Deactivated != 1 || rep.MembersRemoved < 1 {
		t.Fatalf("third run: %+v %v", rep, err)
	}
	if u, _ := d.User(ctx, "example", changed.Login); u.Profile.FirstName != "Renamed" {
		t.Errorf("%s after the change: %+v", changed.Login, u.Profile)
	}
	if u, _ := d.User(ctx, "example", gone.Login); u.Status != directory.StatusDeprovisioned {
		t.Errorf("%s deleted in the source is %s", gone.Login, u.Status)
	}
	ms, _ := d.GroupMembers(ctx, "example", group.Name)
	for _, m := range ms {
		if strings.EqualFold(m.Profile.Login, loginOfDN(src, leaver)) && leaver != gone.DN {
			t.Errorf("%s is still in %s", m.Profile.Login, group.Name)
		}
	}
	// Runs are incremental now: one more change, and the next run reads
	// the users changed since the last (at most those of the latest
	// second), and removes nobody present.
	time.Sleep(1100 * time.Millisecond) // modifyTimestamp has whole seconds
	again2 := src.Users[20]
	mustLDAP(t, conn.Modify(modify(again2.DN, "title", "Chief")))
	in, _ = d.Integration(ctx, "example", in.ID)
	rep, err = ldapsource.Run(ctx, d, "example", in, false, nil)
	if err != nil || !rep.Incremental || rep.Users > 3 || rep.Updated != 1 || rep.Deactivated != 0 {
		t.Fatalf("an incremental run: %+v %v", rep, err)
	}
	if u, _ := d.User(ctx, "example", again2.Login); u.Profile.Title != "Chief" {
		t.Errorf("%s after the incremental run: %+v", again2.Login, u.Profile)
	}
	// Mapped fields are read-only in dirgate.
	_, err = d.PatchProfile(ctx, "example", changed.Login, map[string]string{"firstName": "Local"})
	var de *directory.Error
	if !errors.As(err, &de) || !strings.Contains(de.Message, "Source LDAP") {
		t.Errorf("editing a mapped field: %v", err)
	}
}

func addIntegrationNamed(t *testing.T, d *directory.Directory, s *ldaptest.Server, set *ldapsource.Settings, name string) *directory.Integration {
	t.Helper()
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	in, err := d.CreateIntegration(ctx, "example", directory.IntegrationInput{Name: name, Kind: directory.KindLDAP,
		Settings: raw, Owned: ldapsource.Owned(set), Secret: []byte(s.BindPassword)})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func loginOfDN(s *ldaptest.Server, dn string) string {
	for _, u := range s.Users {
		if u.DN == dn {
			return u.Login
		}
	}
	return ""
}

func modify(dn, attr, value string) *ldap.ModifyRequest {
	mr := ldap.NewModifyRequest(dn, nil)
	mr.Replace(attr, []string{value})
	return mr
}

func mustLDAP(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSyncFromAD: an Active-Directory-like tree of 10,000 users and 200
// groups (sAMAccountName, user and group classes, member DNs) paged at
// 1000 past a size limit of 500 (unpaged, the run fails loudly), chosen
// with a user search filter that leaves disabled accounts out,
// case-insensitive logins, a group mapped to a dirgate group, and the
// first URL unreachable (failover). A changed department, an account
// disabled in the source and a member leaving arrive with the next
// (incremental) run: the disabled user is deactivated.
func TestSyncFromAD(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.AD, Users: 10000, Groups: 200, DisabledUsers: 20, SizeLimit: 500})
	d := newDirectory(t)
	if _, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: "eng-ad"}); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(src.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	mapped := src.Groups[1]
	set := &ldapsource.Settings{
		URLs: []string{"ldaps://127.0.0.1:1", src.LDAPSURL}, CACert: string(ca), BindDN: src.BindDN, UserBase: src.UsersBase,
		UserFilter: "(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))", LoginAttribute: "sAMAccountName",
		CaseInsensitive: true, Paging: true, PageSize: 1000,
		Profile:   map[string]string{"email": "mail", "firstName": "givenName", "lastName": "sn", "department": "department", "displayName": "displayName"},
		GroupBase: src.GroupsBase, GroupFilter: "(objectClass=group)", GroupMap: map[string]string{mapped.Name: "eng-ad"},
	}
	in := addIntegration(t, d, src, set)
	unpaged := *set
	unpaged.Paging = false
	bad := addIntegrationNamed(t, d, src, &unpaged, "Unpaged AD")
	if _, err := ldapsource.Run(ctx, d, "example", bad, false, nil); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Fatalf("an unpaged run past the size limit: %v", err)
	}
	rep, err := ldapsource.Run(ctx, d, "example", in, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 9980 || rep.GroupsCreated != 199 {
		t.Fatalf("AD run: %d created (want 10,000 less 20 disabled), %d groups created (want 200 less the mapped one)", rep.Created, rep.GroupsCreated)
	}
	for _, want := range src.Users {
		u, err := d.User(ctx, "example", want.Login)
		if want.Disabled {
			if err == nil {
				t.Fatalf("disabled %s was synced", want.Login)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", want.Login, err)
		}
		if u.Profile.Login != strings.ToLower(want.Login) || u.Profile.Department != want.Department || u.Profile.DisplayName != want.DisplayName {
			t.Fatalf("%s: %+v", want.Login, u.Profile)
		}
	}
	ms, err := d.GroupMembers(ctx, "example", "eng-ad")
	if err != nil {
		t.Fatal(err)
	}
	var wantMembers []string
	for _, l := range mapped.MemberLogins {
		if u := src.User(l); u != nil && !u.Disabled {
			wantMembers = append(wantMembers, strings.ToLower(l))
		}
	}
	slices.Sort(wantMembers)
	if got := logins(ms); !slices.Equal(got, wantMembers) {
		t.Errorf("eng-ad (mapped from %s): %d members, want %d", mapped.Name, len(got), len(wantMembers))
	}
	if _, err := d.Group(ctx, "example", mapped.Name); directory.CodeOf(err) != directory.CodeNotFound && !strings.EqualFold(mapped.Name, "eng-ad") {
		t.Errorf("the mapped source group %s was also created: %v", mapped.Name, err)
	}

	// Change the source: a department changes, an account is disabled
	// (so the filter leaves it out), a member leaves the mapped group.
	// The next run, incremental, brings all three.
	var active []ldaptest.User
	for _, u := range src.Users {
		if !u.Disabled && slices.Contains(mapped.MemberLogins, u.Login) {
			active = append(active, u)
		}
	}
	if len(active) < 3 {
		t.Fatalf("the mapped group has %d active members", len(active))
	}
	moved, disabled, leaver := active[0], active[1], active[2]
	conn := src.Conn(t)
	mustLDAP(t, conn.Modify(modify(moved.DN, "department", "Moved Dept")))
	mustLDAP(t, conn.Modify(modify(disabled.DN, "userAccountControl", "514")))
	mr := ldap.NewModifyRequest(mapped.DN, nil)
	mr.Delete("member", []string{leaver.DN})
	mustLDAP(t, conn.Modify(mr))
	in, _ = d.Integration(ctx, "example", in.ID)
	rep, err = ldapsource.Run(ctx, d, "example", in, false, nil)
	if err != nil || !rep.Incremental || rep.Updated != 1 || rep.Deactivated != 1 || rep.MembersRemoved != 2 {
		t.Fatalf("the run after the changes (want incremental, 1 updated, 1 deactivated, 2 members removed: the leaver and the disabled one): %+v %v", rep, err)
	}
	if u, _ := d.User(ctx, "example", moved.Login); u.Profile.Department != "Moved Dept" {
		t.Errorf("%s after the change: %+v", moved.Login, u.Profile)
	}
	if u, _ := d.User(ctx, "example", disabled.Login); u.Status != directory.StatusDeprovisioned {
		t.Errorf("%s disabled in the source is %s", disabled.Login, u.Status)
	}
	ms, _ = d.GroupMembers(ctx, "example", "eng-ad")
	for _, m := range ms {
		if m.Profile.Login == strings.ToLower(leaver.Login) {
			t.Errorf("%s is still in eng-ad", leaver.Login)
		}
	}
}

func TestDue(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 20, 0, 0, time.UTC)
	for _, tc := range []struct {
		rule      string
		last, now time.Time
		want      bool
	}{
		{ldapsource.DefaultSchedule, time.Time{}, t0.Add(30 * time.Minute), false}, // created 10:20, next 11:00
		{ldapsource.DefaultSchedule, time.Time{}, t0.Add(40 * time.Minute), true},
		{ldapsource.DefaultSchedule, t0.Add(40 * time.Minute), t0.Add(90 * time.Minute), false}, // ran 11:00, next 12:00
		{ldapsource.DefaultSchedule, t0.Add(40 * time.Minute), t0.Add(100 * time.Minute), true},
		{"*/15 * * * *", t0, t0.Add(10 * time.Minute), true},
		{"@daily", t0, t0.Add(10 * time.Hour), false},
		{ldapsource.ScheduleManual, time.Time{}, t0.Add(1000 * time.Hour), false},
	} {
		got, err := ldapsource.Due(tc.rule, t0, tc.last, tc.now)
		if err != nil || got != tc.want {
			t.Errorf("Due(%q, last %v, now %v) = %v, %v; want %v", tc.rule, tc.last, tc.now, got, err, tc.want)
		}
	}
	if _, err := ldapsource.ParseSchedule("every hour"); err == nil {
		t.Error("a rule that is not cron parsed")
	}
}

// TestScheduler: with an injected clock, an hourly integration runs at
// the hour, not before, once; while another process holds its run lease it
// is left alone; a manual run meanwhile is refused with a clear error.
func TestScheduler(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 20, Groups: 2})
	now := time.Date(2026, 12, 2, 10, 20, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := sealed.KeyFromString(strings.Repeat("cd", 32))
	keys, _ := sealed.NewKeys(key)
	d, err := directory.New(directory.Config{Store: st, Password: password.Params{Memory: 64, Time: 1, Threads: 1},
		LoginFlushInterval: time.Hour, Secrets: keys, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); st.Close() })
	if _, err := d.CreateOrg(ctx, directory.OrgInput{Name: "example"}); err != nil {
		t.Fatal(err)
	}
	in := addIntegration(t, d, src, openLDAPSettings(t, src)) // the default schedule: hourly
	sched := &ldapsource.Scheduler{Dir: d, Now: clock}
	reg := prometheus.NewRegistry()
	if err := sched.Register(reg); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		us, err := d.Users(ctx, "example")
		if err != nil {
			t.Fatal(err)
		}
		return len(us)
	}
	now = now.Add(30 * time.Minute) // 10:50
	sched.Tick(ctx)
	if n := count(); n != 0 {
		t.Fatalf("ran before the hour: %d users", n)
	}
	now = now.Add(11 * time.Minute) // 11:01
	sched.Tick(ctx)
	if n := count(); n != 20 {
		t.Fatalf("at the hour: %d users", n)
	}
	got, _ := d.Integration(ctx, "example", in.ID)
	if st := directory.StateOf(got); !st.LastStarted.Equal(now) || st.LastReport == nil || st.LastReport.Created != 20 || st.Holder != "" {
		t.Fatalf("the state after the run: %+v", st)
	}
	metrics := `
# HELP dirgate_sync_runs_total Directory integration sync runs, by org, integration and result (ok, error).
# TYPE dirgate_sync_runs_total counter
dirgate_sync_runs_total{integration="Source LDAP",org="example",result="ok"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(metrics), "dirgate_sync_runs_total"); err != nil {
		t.Errorf("metrics: %v", err)
	}
	if n, err := testutil.GatherAndCount(reg, "dirgate_sync_changes_total"); err != nil || n == 0 {
		t.Errorf("no change counts: %d %v", n, err)
	}
	// Another process holds the lease at noon: the tick leaves it.
	mustLDAP(t, src.Conn(t).Del(ldap.NewDelRequest(src.Users[0].DN, nil)))
	now = now.Add(time.Hour) // 12:01
	if err := d.BeginRun(ctx, in.ID, "other-node:1", time.Hour); err != nil {
		t.Fatal(err)
	}
	sched.Tick(ctx)
	if u, _ := d.User(ctx, "example", src.Users[0].Login); u.Status != directory.StatusActive {
		t.Fatalf("ran despite another holder's lease: %s", u.Status)
	}
	if _, err := ldapsource.Run(ctx, d, "example", got, false, nil); !errors.Is(err, directory.ErrRunning) || !strings.Contains(err.Error(), "other-node:1") {
		t.Fatalf("a manual run during another's: %v", err)
	}
	// The lease expires (the other process died): the next tick runs.
	now = now.Add(61 * time.Minute)
	sched.Tick(ctx)
	if u, _ := d.User(ctx, "example", src.Users[0].Login); u.Status != directory.StatusDeprovisioned {
		t.Fatalf("after the lease expired: %s", u.Status)
	}
}

// TestDelegatedAuthentication: synced users of an integration with
// delegated authentication sign in with their source password, checked at
// the source; a wrong one is refused; with the source down the sign-in
// fails closed (unavailable), never open; without delegation they have no
// password to sign in with.
func TestDelegatedAuthentication(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 10, Groups: 1})
	d := newDirectory(t)
	d.SetDelegate((&ldapsource.Delegator{Dir: d}).Check)
	set := openLDAPSettings(t, src)
	set.Delegated = true
	in := addIntegration(t, d, src, set)
	if _, err := ldapsource.Run(ctx, d, "example", in, false, nil); err != nil {
		t.Fatal(err)
	}
	o, _ := d.Org(ctx, "example")
	user := src.Users[5]
	auth := func(pw string) error {
		_, err := d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: user.Login, Password: []byte(pw), Client: directory.ClientInfo{Protocol: "ldap"}})
		return err
	}
	if err := auth(src.UserPassword(user.Login)); err != nil {
		t.Fatalf("the source password: %v", err)
	}
	if err := auth("wrong-password"); directory.CodeOf(err) != directory.CodeInvalidCredentials {
		t.Fatalf("a wrong password: %v", err)
	}
	// Without delegation, the synced user has no password here.
	plain := openLDAPSettings(t, src)
	raw, _ := json.Marshal(plain)
	if _, err := d.UpdateIntegration(ctx, "example", in.ID, directory.IntegrationInput{Name: in.Name, Kind: in.Kind, Settings: raw, Owned: in.Owned}); err != nil {
		t.Fatal(err)
	}
	d2 := &ldapsource.Delegator{Dir: d} // a fresh cache
	d.SetDelegate(d2.Check)
	if err := auth(src.UserPassword(user.Login)); directory.CodeOf(err) != directory.CodeInvalidCredentials {
		t.Fatalf("without delegation: %v", err)
	}
	// Delegation on again, and the source down: unavailable.
	raw, _ = json.Marshal(set)
	if _, err := d.UpdateIntegration(ctx, "example", in.ID, directory.IntegrationInput{Name: in.Name, Kind: in.Kind, Settings: raw, Owned: in.Owned}); err != nil {
		t.Fatal(err)
	}
	d.SetDelegate((&ldapsource.Delegator{Dir: d}).Check)
	src.Stop()
	if err := auth(src.UserPassword(user.Login)); directory.CodeOf(err) != directory.CodeUnavailable {
		t.Fatalf("with the source down: %v", err)
	}
}

// TestExternalEndpoint: the external groups and attributes endpoint's
// answer adds groups (which must exist) and attributes under the prefix;
// an endpoint that fails fails the run, which then writes nothing.
func TestExternalEndpoint(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 10, Groups: 1})
	d := newDirectory(t)
	if _, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: "contractors"}); err != nil {
		t.Fatal(err)
	}
	who := src.Users[3].Login
	var fail atomic.Bool
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `{"users": {%q: {"groups": ["contractors"], "attributes": {"badge": "B-17"}}}}`, who)
	}))
	defer hs.Close()
	set := openLDAPSettings(t, src)
	set.CACert += string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}))
	set.ExternalURL = hs.URL + "/groups.json?token=Sekret-Token-1"
	in := addIntegration(t, d, src, set)
	fail.Store(true)
	_, err := ldapsource.Run(ctx, d, "example", in, false, nil)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), hs.URL+"/groups.json") || strings.Contains(err.Error(), "Sekret") {
		t.Fatalf("a failing endpoint (its URL named without the query's token): %v", err)
	}
	// The failed run is in the system log, without the token.
	var failed *directory.LogEvent
	for deadline := time.Now().Add(10 * time.Second); failed == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		evs, err := d.Events(ctx, "example", directory.EventFilter{EventType: directory.EventSyncRun})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			var doc directory.LogEvent
			if err := json.Unmarshal(e.Doc, &doc); err == nil && doc.Outcome.Result == directory.ResultFailure {
				failed = &doc
			}
		}
	}
	if failed == nil || !strings.Contains(failed.Outcome.Reason, "503") || strings.Contains(failed.Outcome.Reason, "Sekret") {
		t.Fatalf("the failed run in the system log: %+v", failed)
	}
	if us, _ := d.Users(ctx, "example"); len(us) != 0 {
		t.Fatalf("a failed run wrote %d users", len(us))
	}
	fail.Store(false)
	if _, err := ldapsource.Run(ctx, d, "example", in, false, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(logins(mustMembers(t, d, "contractors")), ","); got != who {
		t.Errorf("contractors: %s, want %s", got, who)
	}
	if u, _ := d.User(ctx, "example", who); u.Profile.Custom["ldap-badge"] != "B-17" {
		t.Errorf("%s: %+v", who, u.Profile.Custom)
	}
}

func mustMembers(t *testing.T, d *directory.Directory, group string) []*directory.User {
	t.Helper()
	ms, err := d.GroupMembers(ctx, "example", group)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestSyncOptions: the settings that become the run's options reach it:
// manual approval (new users STAGED), default groups, and removal
// "suspend" (an active user deleted in slapd is suspended, not
// deactivated).
func TestSyncOptions(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 20, Groups: 2})
	d := newDirectory(t)
	if _, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: "everyone-ldap"}); err != nil {
		t.Fatal(err)
	}
	set := openLDAPSettings(t, src)
	set.GroupBase = "" // users only
	set.ManualApproval, set.DefaultGroups, set.Removal = true, []string{"everyone-ldap"}, ldapsource.RemoveSuspend
	in := addIntegration(t, d, src, set)
	rep, err := ldapsource.Run(ctx, d, "example", in, false, nil)
	if err != nil || rep.Created != 20 {
		t.Fatalf("first run: %+v %v", rep, err)
	}
	for _, su := range src.Users {
		if u, err := d.User(ctx, "example", su.Login); err != nil || u.Status != directory.StatusStaged {
			t.Fatalf("%s under manual approval: %+v %v", su.Login, u, err)
		}
	}
	if ms, err := d.GroupMembers(ctx, "example", "everyone-ldap"); err != nil || len(ms) != 20 {
		t.Fatalf("everyone-ldap (the default group): %d members, %v", len(ms), err)
	}
	// An admin approves one; both it and a still STAGED one are deleted in
	// the source: the approved one is suspended, the STAGED one (which a
	// suspension does not apply to) deactivated, so no approval lets it in.
	approved, staged := src.Users[3], src.Users[4]
	if _, err := d.Lifecycle(ctx, "example", approved.Login, directory.ActionActivate); err != nil {
		t.Fatal(err)
	}
	conn := src.Conn(t)
	mustLDAP(t, conn.Del(ldap.NewDelRequest(approved.DN, nil)))
	mustLDAP(t, conn.Del(ldap.NewDelRequest(staged.DN, nil)))
	in, _ = d.Integration(ctx, "example", in.ID)
	if rep, err = ldapsource.Run(ctx, d, "example", in, false, nil); err != nil || rep.Suspended != 1 || rep.Deactivated != 1 {
		t.Fatalf("the run after the deletions under removal suspend: %+v %v", rep, err)
	}
	if u, _ := d.User(ctx, "example", approved.Login); u.Status != directory.StatusSuspended {
		t.Errorf("%s (approved) deleted in the source is %s", approved.Login, u.Status)
	}
	if u, _ := d.User(ctx, "example", staged.Login); u.Status != directory.StatusDeprovisioned {
		t.Errorf("%s (STAGED) deleted in the source is %s", staged.Login, u.Status)
	}
}
