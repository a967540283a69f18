package directory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// syncBuf is a log sink safe for the writer goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// auditDir is a directory with org "example" whose Close the test calls
// itself (Close flushes the system log) before reading events.
type auditDir struct {
	d   *directory.Directory
	st  store.Store
	clk *clock
	log *syncBuf
	org *directory.Org
}

func newAuditDir(t *testing.T, wrap func(store.Store) store.Store, cfg directory.Config) *auditDir {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &auditDir{clk: &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}, log: &syncBuf{}}
	a.st = st
	if wrap != nil {
		a.st = wrap(st)
	}
	cfg.Store, cfg.Password, cfg.Now, cfg.LoginFlushInterval, cfg.Sleep = a.st, cheap, a.clk.now, time.Hour, noSleep
	cfg.Logger = slog.New(slog.NewTextHandler(a.log, nil))
	if a.d, err = directory.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.d.Close() })
	if a.org, err = a.d.CreateOrg(context.Background(), directory.OrgInput{Name: "example"}); err != nil {
		t.Fatal(err)
	}
	return a
}

// events closes the directory (flushing the log) and returns the org's
// events with their documents decoded.
func (a *auditDir) events(t *testing.T) ([]*store.Event, []directory.LogEvent) {
	t.Helper()
	a.d.Close()
	evs, err := a.st.Events(context.Background(), store.EventQuery{OrgID: a.org.ID, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]directory.LogEvent, len(evs))
	for i, e := range evs {
		if err := json.Unmarshal(e.Doc, &docs[i]); err != nil {
			t.Fatalf("event %d: %v: %s", e.Seq, err, e.Doc)
		}
	}
	return evs, docs
}

func (a *auditDir) auth(login, pw string) error {
	_, err := a.d.Authenticate(context.Background(), directory.AuthRequest{OrgID: a.org.ID, Login: login, Password: []byte(pw),
		Client: directory.ClientInfo{IP: "192.0.2.7", TLS: true, Protocol: "ldap", BindDN: "uid=" + login + ",dc=example,dc=okta,dc=com"}})
	return err
}

// ok returns v once the test checked err: ok(f())(t).
func ok[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestEventsOfEachOperation(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{})
	d, ctx, org := a.d, context.Background(), "example"
	alice := mustUser(t, d, "alice", "password-alice", "")
	bob := mustUser(t, d, "bob", "password-bob", directory.StatusStaged)
	ok(d.Lifecycle(ctx, org, "bob", directory.ActionActivate))(t)
	ok(d.Lifecycle(ctx, org, "bob", directory.ActionSuspend))(t)
	ok(d.Lifecycle(ctx, org, "bob", directory.ActionUnsuspend))(t)
	ok(d.UpdateProfile(ctx, org, "alice", directory.Profile{Login: "alice", FirstName: "Alice", LastName: "Liddell"}))(t)
	ok(d.SetPassword(ctx, org, "alice", []byte("password-alice-2")))(t)
	ok(d.Lifecycle(ctx, org, "alice", directory.ActionExpirePassword))(t)
	ok(d.AssignRole(ctx, org, "alice", "org_admin"))(t)
	ok(d.RemoveRole(ctx, org, "alice", "ORG_ADMIN"))(t)
	g := ok(d.CreateGroup(ctx, org, directory.GroupInput{Name: "eng"}))(t)
	ok(d.AddMember(ctx, org, "eng", "bob"))(t)
	ok(d.AddMember(ctx, org, "eng", "bob"))(t) // no change: no event
	ok(d.RemoveMember(ctx, org, "eng", "bob"))(t)
	ok(d.RemoveMember(ctx, org, "eng", "bob"))(t) // no change: no event
	ok(d.UpdateGroup(ctx, org, "eng", directory.GroupInput{Name: "engineering"}))(t)
	if err := d.DeleteGroup(ctx, org, "engineering"); err != nil {
		t.Fatal(err)
	}
	ok(d.Import(ctx, org, []directory.ImportUser{{UserInput: directory.UserInput{Profile: directory.Profile{Login: "carol"}, Status: directory.StatusLockedOut}}}, nil, nil))(t)
	ok(d.Lifecycle(ctx, org, "carol", directory.ActionUnlock))(t)
	ok(d.Lifecycle(ctx, org, "bob", directory.ActionDeactivate))(t)
	if err := d.DeleteUser(ctx, org, "bob"); err != nil {
		t.Fatal(err)
	}
	ok(d.ChangePassword(ctx, org, "alice", []byte("password-alice-2"), []byte("password-alice-3")))(t)

	evs, docs := a.events(t)
	byType := map[string][]int{}
	for i, e := range evs {
		byType[e.EventType] = append(byType[e.EventType], i)
		doc := docs[i]
		if doc.UUID != e.UUID || doc.EventType != e.EventType || doc.Outcome.Result != e.Outcome || e.OrgID != a.org.ID {
			t.Errorf("event %d: row %+v does not match doc %+v", e.Seq, e, doc)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", doc.Published); err != nil || !strings.HasSuffix(doc.Published, ".000Z") {
			t.Errorf("published %q: %v", doc.Published, err)
		}
		if doc.Actor.Type != "SystemPrincipal" || doc.Severity != directory.SeverityInfo || doc.DisplayMessage == "" || e.ActorID != "" {
			t.Errorf("%s: actor %+v severity %s message %q", e.EventType, doc.Actor, doc.Severity, doc.DisplayMessage)
		}
	}
	target := func(typ string) []directory.LogTarget {
		t.Helper()
		is := byType[typ]
		if len(is) != 1 {
			t.Errorf("%s: %d events, want 1", typ, len(is))
			return nil
		}
		if docs[is[0]].Outcome.Result != directory.ResultSuccess {
			t.Errorf("%s: outcome %+v", typ, docs[is[0]].Outcome)
		}
		return docs[is[0]].Target
	}
	userTarget := func(typ string, u *directory.User) {
		t.Helper()
		tg := target(typ)
		if len(tg) == 0 || tg[0].ID != u.ID || tg[0].Type != "User" || tg[0].AlternateID != u.Profile.Login {
			t.Errorf("%s: target %+v, want user %s", typ, tg, u.Profile.Login)
		}
	}
	carol := ok(d.User(ctx, org, "carol"))(t)
	for _, tc := range []struct {
		typ string
		u   *directory.User
	}{
		{directory.EventUserActivate, bob}, {directory.EventUserSuspend, bob}, {directory.EventUserUnsuspend, bob},
		{directory.EventUserDeactivate, bob}, {directory.EventUserDelete, bob}, {directory.EventUserUnlock, carol},
		{directory.EventUserUpdateProfile, alice}, {directory.EventUserExpirePassword, alice},
	} {
		userTarget(tc.typ, tc.u)
	}
	if n := len(byType[directory.EventUserCreate]); n != 2 { // alice, bob (an import is not a create)
		t.Errorf("user.lifecycle.create: %d events, want 2", n)
	}
	if n := len(byType[directory.EventUserUpdatePassword]); n != 2 { // set, change
		t.Errorf("user.account.update_password: %d events, want 2", n)
	}
	for _, typ := range []string{directory.EventPrivilegeGrant, directory.EventPrivilegeRevoke} {
		if tg := target(typ); len(tg) != 2 || tg[0].ID != alice.ID || tg[1].ID != directory.RoleOrgAdmin || tg[1].Type != "ROLE" {
			t.Errorf("%s: targets %+v", typ, tg)
		}
	}
	for _, typ := range []string{directory.EventGroupCreate, directory.EventGroupUpdate, directory.EventGroupDelete} {
		if tg := target(typ); len(tg) != 1 || tg[0].ID != g.ID || tg[0].Type != "UserGroup" {
			t.Errorf("%s: targets %+v", typ, tg)
		}
	}
	for _, typ := range []string{directory.EventGroupMembershipAdd, directory.EventGroupMembershipRemove} {
		if tg := target(typ); len(tg) != 2 || tg[0].ID != bob.ID || tg[1].ID != g.ID {
			t.Errorf("%s: targets %+v", typ, tg)
		}
	}
	if n := len(byType[directory.EventAuthViaLDAP]); n != 0 {
		t.Errorf("%d authentication events without a sign-in", n)
	}
}

func TestEventsOfAuthentication(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{})
	ctx := context.Background()
	alice := mustUser(t, a.d, "alice", "password-alice", "")
	bob := mustUser(t, a.d, "bob", "password-bob", "")
	ok(a.d.Lifecycle(ctx, "example", "bob", directory.ActionSuspend))(t)
	nopw := mustUser(t, a.d, "nopw", "", "")
	tests := []struct {
		login, pw string
		user      *directory.User // the actor and target, nil: unknown
		result    string
		reason    string
	}{
		{"alice", "password-alice", alice, directory.ResultSuccess, ""},
		{"alice", "wrong", alice, directory.ResultFailure, "wrong password"},
		{"alice", "", alice, directory.ResultFailure, "empty password"},
		{"nobody", "password", nil, directory.ResultFailure, "no such user"},
		{"bob", "password-bob", bob, directory.ResultFailure, "user is SUSPENDED"},
		{"nopw", "password", nopw, directory.ResultFailure, "user has no password"},
	}
	for _, tc := range tests {
		err := a.auth(tc.login, tc.pw)
		if (err == nil) != (tc.result == directory.ResultSuccess) {
			t.Fatalf("%s/%q: %v", tc.login, tc.pw, err)
		}
	}
	evs, docs := a.events(t)
	var auth []int
	for i, e := range evs {
		if e.EventType == directory.EventAuthViaLDAP {
			auth = append(auth, i)
		}
	}
	if len(auth) != len(tests) {
		t.Fatalf("%d authentication events, want %d", len(auth), len(tests))
	}
	for k, tc := range tests {
		e, doc := evs[auth[k]], docs[auth[k]]
		t.Run(tc.login+"/"+tc.reason, func(t *testing.T) {
			if doc.Outcome.Result != tc.result || doc.Outcome.Reason != tc.reason || e.Outcome != tc.result {
				t.Errorf("outcome %+v, want %s %q", doc.Outcome, tc.result, tc.reason)
			}
			wantSev := directory.SeverityWarn
			if tc.result == directory.ResultSuccess {
				wantSev = directory.SeverityInfo
			}
			if doc.Severity != wantSev {
				t.Errorf("severity %s, want %s", doc.Severity, wantSev)
			}
			if doc.Actor.Type != "User" || doc.Actor.AlternateID != tc.login {
				t.Errorf("actor %+v", doc.Actor)
			}
			if tc.user != nil && (doc.Actor.ID != tc.user.ID || e.ActorID != tc.user.ID || len(doc.Target) != 1 || doc.Target[0].ID != tc.user.ID || e.TargetID != tc.user.ID) {
				t.Errorf("actor %+v target %+v, want user %s", doc.Actor, doc.Target, tc.user.ID)
			}
			if tc.user == nil && (doc.Actor.ID != "" || len(doc.Target) != 0) {
				t.Errorf("unknown user: actor %+v target %+v", doc.Actor, doc.Target)
			}
			if c := doc.Client; c == nil || c.IPAddress != "192.0.2.7" || !c.TLS || c.Protocol != "ldap" {
				t.Errorf("client %+v", doc.Client)
			}
			if doc.DebugContext == nil || doc.DebugContext.DebugData["bindDN"] != "uid="+tc.login+",dc=example,dc=okta,dc=com" {
				t.Errorf("debugContext %+v", doc.DebugContext)
			}
		})
	}
}

func TestEventsNotWrittenForFailedWrites(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{})
	d, ctx, org := a.d, context.Background(), "example"
	mustUser(t, d, "alice", "password-alice", "")
	ok(d.CreateGroup(ctx, org, directory.GroupInput{Name: "eng"}))(t)
	fails := []struct {
		name string
		fn   func() error
	}{
		{"duplicate login", func() error {
			_, err := d.CreateUser(ctx, org, directory.UserInput{Profile: directory.Profile{Login: "ALICE"}})
			return err
		}},
		{"delete an active user (rolled back)", func() error { return d.DeleteUser(ctx, org, "alice") }},
		{"illegal transition", func() error { _, err := d.Lifecycle(ctx, org, "alice", directory.ActionUnsuspend); return err }},
		{"revoke a role not held", func() error { _, err := d.RemoveRole(ctx, org, "alice", directory.RoleOrgAdmin); return err }},
		{"duplicate group", func() error {
			_, err := d.CreateGroup(ctx, org, directory.GroupInput{Name: "ENG"})
			return err
		}},
		{"member of no group", func() error { _, err := d.AddMember(ctx, org, "nope", "alice"); return err }},
		{"delete no group", func() error { return d.DeleteGroup(ctx, org, "nope") }},
		{"invalid profile", func() error {
			_, err := d.UpdateProfile(ctx, org, "alice", directory.Profile{Login: "a b"})
			return err
		}},
	}
	for _, f := range fails {
		if err := f.fn(); err == nil {
			t.Fatalf("%s: no error", f.name)
		}
	}
	evs, _ := a.events(t)
	var types []string
	for _, e := range evs {
		types = append(types, e.EventType)
	}
	if want := []string{directory.EventUserCreate, directory.EventGroupCreate}; strings.Join(types, " ") != strings.Join(want, " ") {
		t.Fatalf("events %v, want only %v", types, want)
	}
}

// blockingStore holds AppendEvents until released, so the queue fills.
type blockingStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingStore) AppendEvents(ctx context.Context, evs []*store.Event) error {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.Store.AppendEvents(ctx, evs)
}

func TestEventQueueOverflowIsCountedAndWarned(t *testing.T) {
	const queue, extra = 4, 3
	var bs *blockingStore
	a := newAuditDir(t, func(st store.Store) store.Store {
		bs = &blockingStore{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
		return bs
	}, directory.Config{EventQueueSize: queue})
	// The first event goes to the writer, which then blocks in the store.
	if a.auth("nobody", "x") == nil {
		t.Fatal("unknown user authenticated")
	}
	<-bs.entered
	for range queue + extra {
		if a.auth("nobody", "x") == nil {
			t.Fatal("unknown user authenticated")
		}
	}
	if got := a.d.DroppedEvents(); got != extra {
		t.Fatalf("DroppedEvents %d, want %d", got, extra)
	}
	if l := a.log.String(); !strings.Contains(l, "system log events dropped") || !strings.Contains(l, "queue is full") {
		t.Fatalf("no warning about dropped events in the log:\n%s", l)
	}
	if n := strings.Count(a.log.String(), "system log events dropped"); n != 1 {
		t.Errorf("%d warnings, want 1 (rate-limited)", n)
	}
	close(bs.release)
	evs, _ := a.events(t)
	if len(evs) != 1+queue {
		t.Fatalf("%d events stored, want %d (1 in flight + a full queue)", len(evs), 1+queue)
	}
}

func TestEventsCloseFlushes(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{})
	const n = 50
	for range n {
		a.auth("nobody", "x")
	}
	evs, _ := a.events(t) // closes at once, before the writer's first tick
	if len(evs) != n {
		t.Fatalf("%d events after Close, want %d", len(evs), n)
	}
	for i, e := range evs {
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Fatalf("events out of order: %d after %d", e.Seq, evs[i-1].Seq)
		}
	}
}

func TestEventRetention(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{EventRetention: 48 * time.Hour})
	ctx := context.Background()
	a.auth("old", "x")
	a.clk.t = a.clk.t.Add(47 * time.Hour)
	a.auth("new", "x")
	waitEvents(t, a, 2)
	a.clk.t = a.clk.t.Add(2 * time.Hour) // "old" is now 49 hours old
	n, err := a.d.PruneEvents(ctx)
	if err != nil || n != 1 {
		t.Fatalf("PruneEvents: %d, %v; want 1", n, err)
	}
	evs, docs := a.events(t)
	if len(evs) != 1 || docs[0].Actor.AlternateID != "new" {
		t.Fatalf("after pruning: %+v", docs)
	}
}

func TestEventRetentionDefaultAndForever(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retention time.Duration
		age       time.Duration
		pruned    int64
	}{
		{"default keeps 89 days", 0, 89 * 24 * time.Hour, 0},
		{"default prunes 91 days", 0, 91 * 24 * time.Hour, 1},
		{"negative keeps forever", -1, 10 * 365 * 24 * time.Hour, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuditDir(t, nil, directory.Config{EventRetention: tc.retention})
			a.auth("x", "y")
			waitEvents(t, a, 1)
			a.clk.t = a.clk.t.Add(tc.age)
			if n, err := a.d.PruneEvents(context.Background()); err != nil || n != tc.pruned {
				t.Fatalf("PruneEvents: %d, %v; want %d", n, err, tc.pruned)
			}
		})
	}
}

// waitEvents waits until the writer stored n events of the org.
func waitEvents(t *testing.T, a *auditDir, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		evs, err := a.d.Events(context.Background(), "example", directory.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= n {
			return
		}
	}
	t.Fatalf("fewer than %d events after 10 s", n)
}

func TestEventsFilter(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{})
	ctx := context.Background()
	t0 := a.clk.t
	mustUser(t, a.d, "alice", "password-alice", "")
	a.clk.t = t0.Add(time.Hour)
	a.auth("alice", "password-alice")
	a.clk.t = t0.Add(2 * time.Hour)
	a.auth("alice", "nope")
	waitEvents(t, a, 3)
	count := func(f directory.EventFilter) int {
		t.Helper()
		return len(ok(a.d.Events(ctx, "example", f))(t))
	}
	all := ok(a.d.Events(ctx, "example", directory.EventFilter{}))(t)
	for _, tc := range []struct {
		name string
		f    directory.EventFilter
		want int
	}{
		{"all", directory.EventFilter{}, 3},
		{"type", directory.EventFilter{EventType: directory.EventAuthViaLDAP}, 2},
		{"since", directory.EventFilter{Since: t0.Add(time.Hour)}, 2},
		{"until", directory.EventFilter{Until: t0.Add(time.Hour)}, 1},
		{"after seq", directory.EventFilter{AfterSeq: all[0].Seq}, 2},
		{"limit", directory.EventFilter{Limit: 1}, 1},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("%s: %d events, want %d", tc.name, got, tc.want)
		}
	}
	if _, err := a.d.Events(ctx, "nope", directory.EventFilter{}); directory.CodeOf(err) != directory.CodeNotFound {
		t.Errorf("unknown org: %v", err)
	}
}

// TestEventsHoldNoSecret drives sign-ins and password changes with
// distinctive passwords (right, wrong, with the MFA separator) and scans
// every stored event document for them.
func TestEventsHoldNoSecret(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{})
	ctx := context.Background()
	secrets := []string{"Zq7-right,Pq8x,Wz3k", "Xv9-wrong,Gy6t", "Kp4-newpw,Hc2r,Lb5n", "Jm2-changed-password", "Wt5-nouser-password"}
	mustUser(t, a.d, "alice", secrets[0], "")
	a.auth("alice", secrets[0])
	a.auth("alice", secrets[0]+",123456")
	a.auth("alice", secrets[1])
	a.auth("alice", secrets[1]+",654321")
	a.auth("nobody", secrets[4])
	ok(a.d.SetPassword(ctx, "example", "alice", []byte(secrets[2])))(t)
	a.auth("alice", secrets[2])
	ok(a.d.ChangePassword(ctx, "example", "alice", []byte(secrets[2]), []byte(secrets[3])))(t)
	a.auth("alice", secrets[3])
	evs, _ := a.events(t)
	if len(evs) < 9 {
		t.Fatalf("only %d events", len(evs))
	}
	for _, e := range evs {
		doc := strings.ReplaceAll(string(e.Doc), e.UUID, "")
		for _, s := range secrets {
			for _, part := range append(strings.Split(s, ","), s) {
				if len(part) >= 4 && strings.Contains(doc, part) {
					t.Errorf("event %s holds %q: %s", e.EventType, part, doc)
				}
			}
		}
		for _, bad := range []string{"123456", "654321", "argon2", "{SSHA"} {
			if strings.Contains(doc, bad) {
				t.Errorf("event %s holds %q: %s", e.EventType, bad, doc)
			}
		}
	}
}

// TestEventsOfPoliciesAndLockout: policy changes, a lockout and a sign-on
// policy denial are in the system log with their outcome and reason.
func TestEventsOfPoliciesAndLockout(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{})
	ctx := context.Background()
	mustUser(t, a.d, "alice", "right-password", "")
	mustUser(t, a.d, "carol", "right-password", "")
	ok(a.d.CreateGroup(ctx, "example", directory.GroupInput{Name: "contractors"}))(t)
	ok(a.d.AddMember(ctx, "example", "contractors", "carol"))(t)
	ok(a.d.ApplyPolicies(ctx, "example", parse(t, lockoutPolicy+"---\n"+`
kind: sign-on
name: Deny contractors
priority: 1
people: {groups: {include: [contractors]}}
rules: [{name: No, priority: 1, action: deny}]
`), directory.PolicyUpsert))(t)
	ok(a.d.ApplyPolicies(ctx, "example", parse(t, strings.ReplaceAll(lockoutPolicy, "maxAttempts: 3", "maxAttempts: 2")), directory.PolicyUpsert))(t)
	a.auth("alice", "x")
	a.auth("alice", "x")
	a.auth("carol", "right-password")
	if err := a.d.DeletePolicy(ctx, "example", "sign-on", "Deny contractors"); err != nil {
		t.Fatal(err)
	}
	_, docs := a.events(t)
	count := map[string]int{}
	for _, e := range docs {
		count[e.EventType]++
		switch e.EventType {
		case directory.EventUserLock:
			if len(e.Target) == 0 || e.Target[0].AlternateID != "alice" {
				t.Errorf("lock event target %+v", e.Target)
			}
		case directory.EventAuthViaLDAP:
			if e.Target[0].AlternateID == "carol" && (e.Outcome.Result != directory.ResultDeny || !strings.Contains(e.Outcome.Reason, "Deny contractors")) {
				t.Errorf("policy denial logged as %+v", e.Outcome)
			}
		}
	}
	for typ, want := range map[string]int{
		directory.EventPolicyCreate: 2, directory.EventPolicyUpdate: 1, directory.EventPolicyDelete: 1,
		directory.EventUserLock: 1, directory.EventAuthViaLDAP: 3,
	} {
		if count[typ] != want {
			t.Errorf("%s: %d events, want %d", typ, count[typ], want)
		}
	}
}

// TestEventsOfSignOnPolicy: a sign-in whose password was right and that an
// org policy decided writes policy.evaluate_sign_on naming the policy and
// rule, ALLOW, DENY or CHALLENGE; the built-in default writes none.
func TestEventsOfSignOnPolicy(t *testing.T) {
	a := newAuditDir(t, nil, directory.Config{})
	ctx := context.Background()
	mustUser(t, a.d, "alice", "password-alice", "")
	mustUser(t, a.d, "carol", "password-carol", "")
	mustUser(t, a.d, "dave", "password-dave", "")
	ok(a.d.CreateGroup(ctx, "example", directory.GroupInput{Name: "contractors"}))(t)
	ok(a.d.AddMember(ctx, "example", "contractors", "carol"))(t)
	a.auth("alice", "password-alice") // no policy yet: no event
	ok(a.d.ApplyPolicies(ctx, "example", parse(t, `
kind: sign-on
name: Contractors
priority: 1
people: {groups: {include: [contractors]}}
rules: [{name: Deny, priority: 1, action: deny}]
---
kind: sign-on
name: Everyone
priority: 2
people: {groups: {include: [Everyone]}, users: {exclude: [dave]}}
rules: [{name: MFA, priority: 1, action: mfa}]
---
kind: sign-on
name: Dave
priority: 3
people: {users: {include: [dave]}}
rules: [{name: Allow, priority: 1, action: allow}]
`), directory.PolicyUpsert))(t)
	a.auth("carol", "password-carol")
	a.auth("alice", "password-alice")
	a.auth("alice", "wrong-password") // the password decides first: no event
	a.auth("dave", "password-dave")
	evs, docs := a.events(t)
	var got []string
	for i, e := range evs {
		if e.EventType != directory.EventPolicySignOn {
			continue
		}
		d := docs[i]
		if len(d.Target) != 2 || d.Target[0].Type != "PolicyEntity" || d.Target[0].ID == "" || d.Target[1].Type != "PolicyRule" {
			t.Fatalf("targets %+v", d.Target)
		}
		got = append(got, d.Actor.AlternateID+" "+d.Target[0].DisplayName+"/"+d.Target[1].DisplayName+" "+d.Outcome.Result)
	}
	want := []string{"carol Contractors/Deny DENY", "alice Everyone/MFA CHALLENGE", "dave Dave/Allow ALLOW"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("policy events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
