package postgres_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/postgres"

	"github.com/jackc/pgx/v5/pgconn"
)

var t0 = time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)

func testOrg(n int, name string) *store.Org {
	return &store.Org{ID: fmt.Sprintf("00o%017d", n), Name: name, Suffix: "dc=okta,dc=com", Created: t0}
}

func testUser(n int, org, login string) *store.User {
	return &store.User{ID: fmt.Sprintf("00u%017d", n), OrgID: org, Status: store.StatusActive, Type: store.TypePerson,
		LoginKey: strings.ToLower(login), Profile: store.Profile{Login: login}, Created: t0}
}

func testGroup(n int, org, name string) *store.Group {
	return &store.Group{ID: fmt.Sprintf("00g%017d", n), OrgID: org, NameKey: name, Name: name}
}

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func seq(t *testing.T, s store.Store) uint64 {
	t.Helper()
	n, err := s.Seq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testFailedWritesKeepTheTransaction: every write that fails with
// ErrConflict or ErrNotFound leaves the transaction usable, as in SQLite
// (a failed PostgreSQL statement would abort it): after all of them in
// one Update, a write still succeeds and commits, alone. So does
// ErrExhausted of NextPOSIXNumber.
func testFailedWritesKeepTheTransaction(t *testing.T, dbs *databases) {
	s := dbs.openStore(t)
	acme, beta := testOrg(1, "acme"), testOrg(2, "beta")
	ann, bob := testUser(1, acme.ID, "ann"), testUser(2, acme.ID, "bob")
	cat := testUser(3, beta.ID, "cat")
	ann.UIDNumber = 1000
	admins, devs := testGroup(1, acme.ID, "admins"), testGroup(2, acme.ID, "devs")
	admins.GIDNumber = 2000
	others := testGroup(3, beta.ID, "others")
	policy := &store.Policy{ID: "00p1", OrgID: acme.ID, Kind: store.PolicySignOn, Name: "p", NameKey: "p"}
	policy2 := &store.Policy{ID: "00p2", OrgID: acme.ID, Kind: store.PolicySignOn, Name: "q", NameKey: "q"}
	token := &store.Token{ID: "00T1", OrgID: acme.ID, UserID: ann.ID, Name: "t", Hash: "h1"}
	ad := &store.Integration{ID: "0oa1", OrgID: acme.ID, Name: "ad", NameKey: "ad", Kind: "ldap"}
	ldap := &store.Integration{ID: "0oa2", OrgID: acme.ID, Name: "ldap", NameKey: "ldap", Kind: "ldap"}
	factor := &store.Factor{ID: "00f1", OrgID: acme.ID, UserID: ann.ID, Type: store.FactorTOTP, Status: store.FactorActive}
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{
			tx.CreateOrg(acme), tx.CreateOrg(beta), tx.CreateUser(ann), tx.CreateUser(bob), tx.CreateUser(cat),
			tx.CreateGroup(admins), tx.CreateGroup(devs), tx.CreateGroup(others), tx.CreatePolicy(policy), tx.CreatePolicy(policy2),
			tx.CreateToken(token), tx.CreateIntegration(ad), tx.CreateIntegration(ldap), tx.CreateFactor(factor),
			tx.PutSyncUser(store.SyncLink{IntegrationID: ad.ID, ExternalID: "x-ann", LocalID: ann.ID}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	before := seq(t, s)
	renamed := func(o store.Org, name string) *store.Org { o.Name = name; return &o }
	login := func(u store.User, key string) *store.User { u.LoginKey = key; return &u }
	group := func(g store.Group, key string) *store.Group { g.NameKey = key; return &g }
	policyNamed := func(p store.Policy, key string) *store.Policy { p.NameKey = key; return &p }
	integrationNamed := func(in store.Integration, key string) *store.Integration { in.NameKey = key; return &in }
	uid := func(u store.User, n int64) *store.User { u.UIDNumber = n; return &u }
	gid := func(g store.Group, n int64) *store.Group { g.GIDNumber = n; return &g }
	fresh := testUser(10, acme.ID, "fresh")
	update(t, s, func(tx store.Tx) error {
		for _, tc := range []struct {
			name string
			err  error
			want error
		}{
			{"CreateOrg, id taken", tx.CreateOrg(testOrg(1, "gamma")), store.ErrConflict},
			{"CreateOrg, name taken", tx.CreateOrg(testOrg(3, "acme")), store.ErrConflict},
			{"UpdateOrg, name taken", tx.UpdateOrg(renamed(*acme, "beta")), store.ErrConflict},
			{"UpdateOrg, missing", tx.UpdateOrg(testOrg(9, "nine")), store.ErrNotFound},
			{"CreateUser, login taken", tx.CreateUser(testUser(4, acme.ID, "ann")), store.ErrConflict},
			{"CreateUser, id taken", tx.CreateUser(testUser(1, beta.ID, "zed")), store.ErrConflict},
			{"CreateUser, missing org", tx.CreateUser(testUser(5, "00o9", "zed")), store.ErrNotFound},
			{"UpdateUser, login taken", tx.UpdateUser(login(*bob, "ann")), store.ErrConflict},
			{"UpdateUser, missing", tx.UpdateUser(testUser(9, acme.ID, "nine")), store.ErrNotFound},
			{"CreateUser, uidNumber taken", tx.CreateUser(uid(*testUser(6, acme.ID, "zed"), 1000)), store.ErrConflict},
			{"UpdateUser, uidNumber taken", tx.UpdateUser(uid(*bob, 1000)), store.ErrConflict},
			{"DeleteUser, missing", tx.DeleteUser("00u9"), store.ErrNotFound},
			{"CreateGroup, name taken", tx.CreateGroup(testGroup(3, acme.ID, "admins")), store.ErrConflict},
			{"CreateGroup, missing org", tx.CreateGroup(testGroup(4, "00o9", "x")), store.ErrNotFound},
			{"UpdateGroup, name taken", tx.UpdateGroup(group(*devs, "admins")), store.ErrConflict},
			{"CreateGroup, gidNumber taken", tx.CreateGroup(gid(*testGroup(5, acme.ID, "y"), 2000)), store.ErrConflict},
			{"UpdateGroup, gidNumber taken", tx.UpdateGroup(gid(*devs, 2000)), store.ErrConflict},
			{"NextPOSIXNumber, missing org", func() error { _, err := tx.NextPOSIXNumber("00o9", store.POSIXUID, 1, 9); return err }(), store.ErrNotFound},
			{"NextPOSIXNumber, exhausted", func() error {
				if _, err := tx.NextPOSIXNumber(acme.ID, store.POSIXUID, 5, 5); err != nil {
					return err
				}
				_, err := tx.NextPOSIXNumber(acme.ID, store.POSIXUID, 5, 5)
				return err
			}(), store.ErrExhausted},
			{"AddMember, missing user", func() error { _, err := tx.AddMember(admins.ID, "00u9"); return err }(), store.ErrNotFound},
			{"AddMember, missing group", func() error { _, err := tx.AddMember("00g9", ann.ID); return err }(), store.ErrNotFound},
			{"AddGroupLink, in itself", func() error { _, err := tx.AddGroupLink(admins.ID, admins.ID); return err }(), store.ErrConflict},
			{"AddGroupLink, missing parent", func() error { _, err := tx.AddGroupLink("00g9", devs.ID); return err }(), store.ErrNotFound},
			{"AddGroupLink, missing child", func() error { _, err := tx.AddGroupLink(admins.ID, "00g9"); return err }(), store.ErrNotFound},
			{"AddGroupLink, child of another org", func() error { _, err := tx.AddGroupLink(admins.ID, others.ID); return err }(), store.ErrNotFound},
			{"RemoveGroupLink, missing child", func() error { _, err := tx.RemoveGroupLink(admins.ID, "00g9"); return err }(), store.ErrNotFound},
			{"CreateFactor, id taken", tx.CreateFactor(factor), store.ErrConflict},
			{"CreateFactor, user of another org", tx.CreateFactor(&store.Factor{ID: "00f2", OrgID: acme.ID, UserID: cat.ID}), store.ErrNotFound},
			{"CreatePolicy, name taken", tx.CreatePolicy(&store.Policy{ID: "00p3", OrgID: acme.ID, Kind: store.PolicySignOn, NameKey: "p"}), store.ErrConflict},
			{"CreatePolicy, missing org", tx.CreatePolicy(&store.Policy{ID: "00p4", OrgID: "00o9", Kind: store.PolicySignOn, NameKey: "p"}), store.ErrNotFound},
			{"UpdatePolicy, name taken", tx.UpdatePolicy(policyNamed(*policy2, "p")), store.ErrConflict},
			{"CreateToken, hash taken", tx.CreateToken(&store.Token{ID: "00T2", OrgID: acme.ID, UserID: bob.ID, Hash: "h1"}), store.ErrConflict},
			{"CreateToken, user of another org", tx.CreateToken(&store.Token{ID: "00T3", OrgID: acme.ID, UserID: cat.ID, Hash: "h3"}), store.ErrNotFound},
			{"CreateIntegration, name taken", tx.CreateIntegration(&store.Integration{ID: "0oa3", OrgID: acme.ID, NameKey: "ad"}), store.ErrConflict},
			{"UpdateIntegration, name taken", tx.UpdateIntegration(integrationNamed(*ldap, "ad")), store.ErrConflict},
			{"PutSyncUser, linked elsewhere", tx.PutSyncUser(store.SyncLink{IntegrationID: ldap.ID, ExternalID: "y", LocalID: ann.ID}), store.ErrConflict},
			{"PutSyncUser, missing user", tx.PutSyncUser(store.SyncLink{IntegrationID: ad.ID, ExternalID: "y", LocalID: "00u9"}), store.ErrNotFound},
			{"DeleteOrg, missing", tx.DeleteOrg("00o9"), store.ErrNotFound},
		} {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
			}
		}
		return tx.CreateUser(fresh)
	})
	if got := seq(t, s); got != before+1 {
		t.Errorf("Seq = %d, want %d (one change: the last write)", got, before+1)
	}
	if err := s.View(ctx, func(r store.Reader) error {
		if _, err := r.User(fresh.ID); err != nil {
			return err
		}
		links, err := r.SyncUsers(ad.ID)
		if err != nil {
			return err
		}
		if len(links) != 1 || links[0].LocalID != ann.ID {
			t.Errorf("links after a refused PutSyncUser: %+v", links)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// testFailedStatementAbortsUpdate: a statement PostgreSQL refuses aborts
// the transaction; if fn ignores the error, Update still fails, and
// nothing is written.
func testFailedStatementAbortsUpdate(t *testing.T, dbs *databases) {
	s := dbs.openStore(t)
	update(t, s, func(tx store.Tx) error { return tx.CreateOrg(testOrg(1, "acme")) })
	before := seq(t, s)
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(testUser(1, testOrg(1, "").ID, "ann")); err != nil {
			return err
		}
		bad := testOrg(2, "nul\x00name") // PostgreSQL text holds no NUL
		if err := tx.CreateOrg(bad); err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateOrg with a NUL: %v, want another error", err)
		}
		return nil // ignored
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Errorf("Update after an ignored failed statement: %v, want PostgreSQL's error", err)
	}
	if got := seq(t, s); got != before {
		t.Errorf("Seq = %d, want %d", got, before)
	}
	update(t, s, func(tx store.Tx) error { return tx.CreateUser(testUser(1, testOrg(1, "").ID, "ann")) })
}

func TestMapErr(t *testing.T) {
	for _, tc := range []struct {
		code string
		want error
	}{{"23505", store.ErrConflict}, {"23503", store.ErrNotFound}} {
		err := postgres.MapErr(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: tc.code}))
		if !errors.Is(err, tc.want) {
			t.Errorf("MapErr(%s) = %v, want %v", tc.code, err, tc.want)
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			t.Errorf("MapErr(%s) lost the PostgreSQL error: %v", tc.code, err)
		}
	}
	other := &pgconn.PgError{Code: "40001"}
	if err := postgres.MapErr(other); errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("MapErr(40001) = %v", err)
	}
}

// testPrefixFold: UsersPageWhere's prefix match is strings.EqualFold of
// the prefix's length of the value, for the runes whose folds take
// another number of bytes or that lower() would not fold alike.
func testPrefixFold(t *testing.T, dbs *databases) {
	s := dbs.openStore(t)
	org := testOrg(1, "acme")
	logins := []string{
		"kelvin", "\u212Aelvin", // KELVIN SIGN, 3 bytes, folds with k
		"sam", "\u017Fam", "Sam", // LONG S folds with s
		"σοφία", "ΣΟΦΊΑ", "ςοφία", // sigma, final sigma
		"straße", "STRASSE", "strasse",
		"Ångström", "\u212Bngström", // ANGSTROM SIGN
		"ǅemal", "ǆemal", "Ǆemal", // titlecase digraph
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(org); err != nil {
			return err
		}
		for i, l := range logins {
			u := testUser(i+1, org.ID, fmt.Sprint("user", i))
			u.Profile.Login = l
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	hasPrefixFold := func(v, p string) bool { return len(v) >= len(p) && strings.EqualFold(v[:len(p)], p) }
	for _, prefix := range []string{"k", "K", "\u212A", "ke", "\u212Ae", "s", "\u017F", "sa", "\u017Fa", "σ", "ς", "Σο",
		"stra", "straß", "STRAẞ", "å", "\u212B", "ǆ", "ǅe", "x", "kelvinx"} {
		var want []string
		for i, l := range logins {
			if hasPrefixFold(l, prefix) {
				want = append(want, fmt.Sprintf("00u%017d", i+1))
			}
		}
		var got []string
		if err := s.View(ctx, func(r store.Reader) error {
			us, err := r.UsersPageWhere(org.ID, "", 100, "", prefix)
			for _, u := range us {
				got = append(got, u.ID)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("prefix %q: users %v, want %v", prefix, got, want)
		}
	}
}

// testPruneInBatches: a prune larger than a transaction's batch goes on
// to the end and keeps the counts right.
func testPruneInBatches(t *testing.T, dbs *databases) {
	s := dbs.openStore(t)
	postgres.SetPruneBatch(s, 7)
	var batch []*store.Event
	for i := range 40 {
		batch = append(batch, &store.Event{UUID: fmt.Sprint("e", i), OrgID: "o", EventType: "t", Outcome: "SUCCESS",
			Published: t0.Add(time.Duration(i) * 10 * time.Second)})
	}
	if err := s.AppendEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneEvents(ctx, t0.Add(300*time.Second)) // events 0-29
	if err != nil || n != 30 {
		t.Fatalf("PruneEvents = %d, %v; want 30", n, err)
	}
	var buckets []store.EventBucket
	if err := s.View(ctx, func(r store.Reader) error {
		var err error
		buckets, err = r.EventCounts(store.EventCountQuery{OrgID: "o", EventTypes: []string{"t"},
			Since: t0.Truncate(time.Hour), Until: t0.Truncate(time.Hour).Add(time.Hour), Width: time.Hour})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 1 || buckets[0].Count != 10 {
		t.Errorf("counts after pruning = %+v, want 10 events", buckets)
	}
}
