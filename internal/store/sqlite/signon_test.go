package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// A database left by a dirgate that knew only schema version 1 opens,
// migrates to the current version in place, and keeps its data: users
// start with no failed sign-ins and no password history.
func TestMigrateFromVersion1(t *testing.T) {
	path := tempPath(t)
	if err := sqlite.CreateAtVersion(path, 1); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 3, 4, 5, 6, 7, 123_000_000, time.UTC)
	db, err := sql.Open("sqlite", path+"?_foreign_keys=1")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO orgs VALUES ('00o00000000000000001', 'acme', 'dc=okta,dc=com', ?1, '["employeeNumber"]')`,
		`INSERT INTO users VALUES ('00u00000000000000001', '00o00000000000000001', 'ann', 'ACTIVE', 'person',
			'ann', 'ann@example.com', 'Ann', 'Example', 'Ann Example', '', 'Engineer', 'R&D', 'Acme', '', '',
			'{"employeeNumber":"42"}', '{SSHA}c2FsdA==', '["READ_ONLY_ADMIN"]', ?1, ?1, ?1, NULL, ?1, ?1)`,
		`INSERT INTO groups VALUES ('00g00000000000000001', '00o00000000000000001', 'admins', 'Admins', '', ?1, ?1, ?1)`,
		`INSERT INTO memberships VALUES ('00g00000000000000001', '00u00000000000000001')`,
		`INSERT INTO changes VALUES (1, '00o00000000000000001', 'org', '00o00000000000000001', ?1),
			(2, '00o00000000000000001', 'user', '00u00000000000000001', ?1),
			(3, '00o00000000000000001', 'group', '00g00000000000000001', ?1)`,
		`UPDATE meta SET value = 3 WHERE key = 'seq'`,
	} {
		if _, err := db.Exec(q, t0.UnixNano()); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if v := schemaVersion(t, db); v != 1 {
		t.Fatalf("schema_version before = %d, want 1", v)
	}
	db.Close()

	s := openAt(t, path)
	want := &store.User{
		ID: "00u00000000000000001", OrgID: "00o00000000000000001", Status: store.StatusActive, Type: store.TypePerson,
		LoginKey: "ann",
		Profile: store.Profile{Login: "ann", Email: "ann@example.com", FirstName: "Ann", LastName: "Example",
			DisplayName: "Ann Example", Title: "Engineer", Department: "R&D", Organization: "Acme",
			Custom: map[string]string{"employeeNumber": "42"}},
		PasswordHash: "{SSHA}c2FsdA==", Roles: []string{"READ_ONLY_ADMIN"},
		Created: t0, Activated: t0, StatusChanged: t0, LastUpdated: t0, PasswordChanged: t0,
	}
	checkUser := func(what string, want *store.User) {
		t.Helper()
		err := s.View(ctx, func(r store.Reader) error {
			u, err := r.User(want.ID)
			if err != nil {
				return err
			}
			if fmt.Sprintf("%+v", *u) != fmt.Sprintf("%+v", *want) {
				return fmt.Errorf("user:\n got %+v\nwant %+v", *u, *want)
			}
			ms, err := r.Memberships(want.OrgID)
			if err != nil || len(ms) != 1 {
				return fmt.Errorf("memberships = %v, %v", ms, err)
			}
			o, err := r.Org(want.OrgID)
			if err != nil || len(o.CustomAttributes) != 1 {
				return fmt.Errorf("org = %+v, %v", o, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	checkUser("after migrating", want)
	if seq, err := s.Seq(ctx); err != nil || seq != 3 {
		t.Errorf("Seq after migrating = %d, %v; want 3", seq, err)
	}
	if c, err := s.ChangesSince(ctx, 0, 10); err != nil || len(c) != 3 || c[2].Kind != store.KindGroup {
		t.Errorf("ChangesSince after migrating = %+v, %v", c, err)
	}

	// The new columns and tables work.
	want.FailedLogins, want.LastFailedLogin, want.PasswordHistory = 2, t0.Add(time.Hour), []string{"{SSHA}b2xk"}
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.UpdateUser(want); err != nil {
			return err
		}
		if err := tx.CreateFactor(&store.Factor{ID: "00f00000000000000001", OrgID: want.OrgID, UserID: want.ID,
			Type: store.FactorTOTP, Status: store.FactorActive, Secret: "sealed", Created: t0}); err != nil {
			return err
		}
		return tx.CreatePolicy(&store.Policy{ID: "00p00000000000000001", OrgID: want.OrgID, Kind: store.PolicySignOn,
			Name: "MFA", NameKey: "mfa", Priority: 1, Doc: []byte(`{}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvents(ctx, []*store.Event{{UUID: "u1", Published: t0, OrgID: want.OrgID}}); err != nil {
		t.Fatal(err)
	}
	if seq, err := s.Seq(ctx); err != nil || seq != 6 {
		t.Errorf("Seq after three writes = %d, %v; want 6", seq, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening migrates nothing more and keeps everything.
	s = openAt(t, path)
	defer s.Close()
	checkUser("after reopening", want)
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, want := schemaVersion(t, db), sqlite.LatestVersion(); v != want {
		t.Errorf("schema_version after = %d, want %d", v, want)
	}
	err = s.View(ctx, func(r store.Reader) error {
		o, err := r.Org(want.OrgID)
		if err == nil && o.MFASeparator != "" {
			t.Errorf("migrated org's MFA separator = %q, want the default (empty)", o.MFASeparator)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	var problems int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&problems); err != nil || problems != 0 {
		t.Errorf("foreign_key_check: %d problems, %v", problems, err)
	}
}

// The migrated schema is the schema of a new database.
func TestMigratedSchemaMatchesNew(t *testing.T) {
	old, fresh := tempPath(t), tempPath(t)
	if err := sqlite.CreateAtVersion(old, 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{old, fresh} {
		if err := openAt(t, p).Close(); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := schema(t, old), schema(t, fresh); a != b {
		t.Errorf("migrated schema:\n%s\nnew schema:\n%s", a, b)
	}
}

func schemaVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil {
		t.Fatalf("schema_version: %v", err)
	}
	return v
}

func schema(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, q string
		if err := rows.Scan(&typ, &name, &q); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, q)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Every query of the system log reads through an index, never a whole
// table (the log is the largest by far), and sorts no pages: a page is
// large, so a query sorts page ids, if any.
func TestEventQueriesUseIndexes(t *testing.T) {
	path := tempPath(t)
	if err := openAt(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	queries := map[string]store.EventQuery{
		"org":                  {OrgID: "o", Limit: 100},
		"org after":            {OrgID: "o", AfterSeq: 7, Limit: 100},
		"org since":            {OrgID: "o", Since: t0, Limit: 100},
		"org until":            {OrgID: "o", Until: t0, Limit: 100},
		"org window":           {OrgID: "o", Since: t0, Until: t0.Add(time.Hour), Limit: 100},
		"org since after":      {OrgID: "o", Since: t0, AfterSeq: 7, Limit: 100},
		"org type":             {OrgID: "o", EventType: "user.session.start", Limit: 100},
		"org type after":       {OrgID: "o", EventType: "user.session.start", AfterSeq: 7, Limit: 100},
		"org type since":       {OrgID: "o", EventType: "user.session.start", Since: t0, Limit: 100},
		"org type window":      {OrgID: "o", EventType: "user.session.start", Since: t0, Until: t0.Add(time.Hour), Limit: 100},
		"everything":           {OrgID: "o", EventType: "x", Since: t0, Until: t0.Add(time.Hour), AfterSeq: 7, Limit: 100},
		"no org, until":        {OrgID: "", Until: t0, Limit: 100},
		"far bounds (clamped)": {OrgID: "o", Since: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 1},
	}
	check := func(what, query string, args ...any) {
		t.Helper()
		steps := plan(t, db, query, args...)
		if len(steps) == 0 {
			t.Fatalf("%s: no plan", what)
		}
		for _, line := range steps {
			if strings.HasPrefix(line, "SCAN ") && line != "SCAN orgs" && !strings.Contains(line, " USING ") {
				t.Errorf("%s: %s: plan step %q reads a whole table", what, query, line)
			}
			if strings.Contains(line, "TEMP B-TREE") {
				t.Errorf("%s: %s: plan step %q sorts", what, query, line)
			}
		}
	}
	for name, q := range queries {
		query, args := sqlite.EventsQuery(q)
		check(name, query, args...)
	}
	check("prune", sqlite.PruneQuery, t0.UnixNano(), 10_000)
}

func plan(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A prune larger than one transaction's share deletes everything asked
// for, in several transactions, and nothing else: with pages of many
// events, and of one event (many look-ups of pages per transaction).
func TestPruneEventsInBatches(t *testing.T) {
	for _, pageBytes := range []int{0, 1} {
		t.Run(fmt.Sprintf("pageBytes=%d", pageBytes), func(t *testing.T) { testPruneEventsInBatches(t, pageBytes) })
	}
}

func testPruneEventsInBatches(t *testing.T, pageBytes int) {
	s := openAt(t, tempPath(t))
	defer s.Close()
	const perTx = 100
	sqlite.SetPruneBatch(s, perTx)
	if pageBytes > 0 {
		sqlite.SetPageBytes(s, pageBytes)
	}
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	old := 2*perTx + 17
	var batch []*store.Event
	for i := range old + 5 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		if i >= old {
			at = t0.Add(time.Hour)
		}
		batch = append(batch, &store.Event{UUID: fmt.Sprint(i), Published: at, OrgID: fmt.Sprint(i % 3)})
		if len(batch) == 100 || i == old+4 {
			if err := s.AppendEvents(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	// First exactly two transactions' worth, then the rest.
	n, err := s.PruneEvents(ctx, t0.Add(2*perTx*time.Millisecond))
	if err != nil || n != 2*perTx {
		t.Errorf("PruneEvents = %d, %v; want %d", n, err, 2*perTx)
	}
	n, err = s.PruneEvents(ctx, t0.Add(time.Minute))
	if err != nil || n != int64(old-2*perTx) {
		t.Errorf("PruneEvents = %d, %v; want %d", n, err, old-2*perTx)
	}
	left := 0
	for org := range 3 {
		es, err := s.Events(ctx, store.EventQuery{OrgID: fmt.Sprint(org), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		left += len(es)
	}
	if left != 5 {
		t.Errorf("%d events left, want 5", left)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}

// Events with OrgID "" selects the events of no org, and only those.
func TestEventsOfNoOrg(t *testing.T) {
	s := openAt(t, tempPath(t))
	defer s.Close()
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	err := s.AppendEvents(ctx, []*store.Event{
		{UUID: "a", Published: t0, OrgID: "00o00000000000000001"},
		{UUID: "b", Published: t0, EventType: "system.start"},
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Events(ctx, store.EventQuery{Limit: 10})
	if err != nil || len(es) != 1 || es[0].UUID != "b" {
		t.Errorf("Events of no org = %+v, %v; want b only", es, err)
	}
}

// A batch with an unusable event appends nothing and sets no Seq.
func TestAppendEventsRejectsBatch(t *testing.T) {
	s := openAt(t, tempPath(t))
	defer s.Close()
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	for name, bad := range map[string]*store.Event{
		"nil":                nil,
		"no UUID":            {Published: t0, OrgID: "o"},
		"no published time":  {UUID: "x", OrgID: "o"},
		"time out of range":  {UUID: "x", Published: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), OrgID: "o"},
		"UUID of the good 1": {UUID: "good", Published: t0, OrgID: "o"},
	} {
		good := &store.Event{UUID: "good", Published: t0, OrgID: "o"}
		err := s.AppendEvents(ctx, []*store.Event{good, bad})
		if err == nil {
			t.Errorf("%s: AppendEvents succeeded", name)
		}
		if name == "UUID of the good 1" && !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: err = %v, want ErrConflict", name, err)
		}
		if good.Seq != 0 {
			t.Errorf("%s: Seq of the good event set to %d", name, good.Seq)
		}
		if es, err := s.Events(ctx, store.EventQuery{OrgID: "o", Limit: 10}); err != nil || len(es) != 0 {
			t.Errorf("%s: events after = %d, %v; want none", name, len(es), err)
		}
	}
}

// Event numbers go on upwards across a reopen, even after the newest
// events were pruned.
func TestEventSeqAfterPruneAndReopen(t *testing.T) {
	path := tempPath(t)
	s := openAt(t, path)
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	first := []*store.Event{{UUID: "a", Published: t0, OrgID: "o"}, {UUID: "b", Published: t0, OrgID: "o"}}
	if err := s.AppendEvents(ctx, first); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneEvents(ctx, t0.Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("PruneEvents = %d, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path)
	defer s.Close()
	next := &store.Event{UUID: "c", Published: t0, OrgID: "o"}
	if err := s.AppendEvents(ctx, []*store.Event{next}); err != nil {
		t.Fatal(err)
	}
	if next.Seq <= first[1].Seq {
		t.Errorf("Seq after prune and reopen = %d, want > %d", next.Seq, first[1].Seq)
	}
}
