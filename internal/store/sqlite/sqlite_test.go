package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
	"github.com/dirgate/dirgate/internal/store/storetest"
)

var ctx = context.Background()

func openAt(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func tempPath(t testing.TB) string { return filepath.Join(t.TempDir(), "dirgate.db") }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		path := tempPath(t)
		t.Cleanup(func() {
			// Runs after Run has closed the store: the file reopens sound.
			s := openAt(t, path)
			defer s.Close()
			if err := s.Check(ctx); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
		return openAt(t, path)
	})
}

func TestCheck(t *testing.T) {
	s := openAt(t, tempPath(t))
	defer s.Close()
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check on a new database: %v", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := tempPath(t)
	if err := openAt(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	// Play a newer dirgate: bump the recorded version.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE meta SET value = 99 WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := sqlite.Open(path, sqlite.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("err = %v, want store.ErrNewerSchema", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "99") || !regexp.MustCompile(`up to [1-9]`).MatchString(msg) {
		t.Errorf("error %q does not name both versions", msg)
	}
}

func TestBadPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := sqlite.Open(p, sqlite.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func org(n int) *store.Org {
	return &store.Org{ID: fmt.Sprintf("00o%017d", n), Name: fmt.Sprintf("org%d", n), Suffix: "dc=okta,dc=com", Created: time.Now()}
}

func user(n int, orgID string) *store.User {
	login := fmt.Sprintf("user%07d@example.com", n)
	now := time.Now()
	return &store.User{
		ID:       fmt.Sprintf("00u%017d", n),
		OrgID:    orgID,
		Status:   store.StatusActive,
		Type:     store.TypePerson,
		LoginKey: login,
		Profile: store.Profile{
			Login: login, Email: login, FirstName: "First", LastName: fmt.Sprintf("Last%d", n),
			DisplayName: "First Last", Department: "Engineering", Title: "Engineer",
			Custom: map[string]string{"employeeNumber": fmt.Sprint(n)},
		},
		PasswordHash:  "{ARGON2}$argon2id$v=19$m=65536,t=1,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		Created:       now,
		Activated:     now,
		StatusChanged: now,
		LastUpdated:   now,
	}
}

// Two handles on one file behave as two processes would: each sees the
// other's commits, and their writers take turns instead of failing.
func TestTwoHandlesShareFile(t *testing.T) {
	path := tempPath(t)
	a, b := openAt(t, path), openAt(t, path)
	defer a.Close()
	defer b.Close()

	o := org(1)
	if err := a.Update(ctx, func(tx store.Tx) error { return tx.CreateOrg(o) }); err != nil {
		t.Fatal(err)
	}
	if err := b.View(ctx, func(r store.Reader) error { _, err := r.Org(o.ID); return err }); err != nil {
		t.Fatalf("b does not see a's org: %v", err)
	}

	const perHandle = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*perHandle)
	for h, s := range []*sqlite.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perHandle {
				n := h*perHandle + i
				errs <- s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(user(n, o.ID)) })
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update: %v", err)
		}
	}
	for name, s := range map[string]*sqlite.Store{"a": a, "b": b} {
		seq, err := s.Seq(ctx)
		if err != nil || seq != 1+2*perHandle {
			t.Errorf("%s: Seq = %d, %v; want %d", name, seq, err, 1+2*perHandle)
		}
		c, err := s.ChangesSince(ctx, 0, 1000)
		if err != nil || len(c) != 1+2*perHandle {
			t.Fatalf("%s: %d changes, %v", name, len(c), err)
		}
		for i, ch := range c {
			if ch.Seq != uint64(i+1) {
				t.Fatalf("%s: change %d has seq %d", name, i, ch.Seq)
			}
		}
		err = s.View(ctx, func(r store.Reader) error {
			us, err := r.Users(o.ID)
			if err == nil && len(us) != 2*perHandle {
				err = fmt.Errorf("%d users, want %d", len(us), 2*perHandle)
			}
			return err
		})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := tempPath(t)
	s := openAt(t, path)
	o := org(1)
	u := user(1, o.ID)
	u.Roles = []string{"SUPER_ADMIN"}
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateOrg(o); err != nil {
			return err
		}
		return tx.CreateUser(u)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path)
	defer s.Close()
	if seq, err := s.Seq(ctx); err != nil || seq != 2 {
		t.Errorf("Seq after reopen = %d, %v; want 2", seq, err)
	}
	err = s.View(ctx, func(r store.Reader) error {
		got, err := r.UserByLogin(o.ID, u.LoginKey)
		if err != nil {
			return err
		}
		if got.ID != u.ID || !got.Created.Equal(u.Created) || len(got.Roles) != 1 || got.Profile.Custom["employeeNumber"] != "1" {
			return fmt.Errorf("user after reopen = %+v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Changes continue from where they were.
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(user(2, o.ID)) }); err != nil {
		t.Fatal(err)
	}
	if seq, err := s.Seq(ctx); err != nil || seq != 3 {
		t.Errorf("Seq after a write = %d, %v; want 3", seq, err)
	}
}

// A user in a missing org fails the foreign key, reported as ErrNotFound.
func TestMissingOrgIsNotFound(t *testing.T) {
	s := openAt(t, tempPath(t))
	defer s.Close()
	err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(user(1, "00onope")) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateUser in a missing org: %v, want ErrNotFound", err)
	}
}

// BenchmarkCreateUsers measures import speed: ns/op is per user, with
// perTx users in each Update (the import writes 100,000 in one).
func BenchmarkCreateUsers(b *testing.B) {
	for _, perTx := range []int{1, 100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("perTx=%d", perTx), func(b *testing.B) {
			s := openAt(b, tempPath(b))
			defer s.Close()
			o := org(1)
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateOrg(o) }); err != nil {
				b.Fatal(err)
			}
			users := make([]*store.User, b.N)
			for i := range users {
				users[i] = user(i, o.ID)
			}
			b.ResetTimer()
			for start := 0; start < b.N; start += perTx {
				batch := users[start:min(start+perTx, b.N)]
				err := s.Update(ctx, func(tx store.Tx) error {
					for _, u := range batch {
						if err := tx.CreateUser(u); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

// BenchmarkLoadUsers measures one View loading every user of an org;
// ns/op is per load.
func BenchmarkLoadUsers(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			s := openAt(b, tempPath(b))
			defer s.Close()
			o := org(1)
			err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.CreateOrg(o); err != nil {
					return err
				}
				for i := range n {
					if err := tx.CreateUser(user(i, o.ID)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				err := s.View(ctx, func(r store.Reader) error {
					us, err := r.Users(o.ID)
					if err == nil && len(us) != n {
						err = fmt.Errorf("%d users, want %d", len(us), n)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/user")
		})
	}
}

// BenchmarkRecordLogins measures a last-login flush at a sign-in peak:
// logins of 50,000 of 100,000 users, one RecordLogins call per op.
func BenchmarkRecordLogins(b *testing.B) {
	const n, signedIn = 100_000, 50_000
	s := openAt(b, tempPath(b))
	defer s.Close()
	o := org(1)
	ids := make([]string, n)
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateOrg(o); err != nil {
			return err
		}
		for i := range n {
			u := user(i, o.ID)
			ids[i] = u.ID
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	at := make(map[string]time.Time, signedIn)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		clear(at)
		t := time.Unix(1764633600+int64(i), 0)
		for j := range signedIn {
			at[ids[(i*7919+j*2)%n]] = t
		}
		if err := s.RecordLogins(ctx, at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/signedIn, "ns/login")
}

// The database holds password hashes: only its owner may read it.
func TestDatabaseFileIsPrivate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dirgate.db")
	s, err := sqlite.Open(p, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, f := range []string{p, p + "-wal"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", f, m)
		}
	}
}

// benchEvents returns n events shaped like the directory's bind events: a
// few orgs, a LogEvent document of about 730 bytes that differs from
// event to event where real ones do (UUID, time, user, client, transaction),
// and UUIDs of version 4 (random) or 7 (time-ordered).
func benchEvents(n, uuidVersion int) []*store.Event {
	now := time.Now()
	out := make([]*store.Event, n)
	for i := range out {
		out[i] = benchEvent(i, now, uuidVersion)
	}
	return out
}

func benchEvent(i int, now time.Time, uuidVersion int) *store.Event {
	id := uuid.New()
	if uuidVersion == 7 {
		id = uuid.Must(uuid.NewV7())
	}
	published := now.Add(time.Duration(i) * time.Microsecond)
	u := (i * 7919) % 1000
	user := fmt.Sprintf("00u%017d", u)
	login := fmt.Sprintf("user%d@example.com", u)
	doc := fmt.Appendf(nil, `{"uuid":%q,"published":%q,"eventType":"user.authentication.auth_via_ldap","version":"0","severity":"INFO",`+
		`"displayMessage":"Authenticate user via LDAP","actor":{"id":%q,"type":"User","alternateId":%q,"displayName":"User %d"},`+
		`"client":{"ipAddress":"192.0.2.%d","protocol":"ldap","tls":true},"outcome":{"result":"SUCCESS"},`+
		`"target":[{"id":%q,"type":"User","alternateId":%q}],"transaction":{"type":"LDAP","id":"%08x"},`+
		`"debugContext":{"debugData":{"bindDN":"uid=%s,ou=users,dc=acme,dc=okta,dc=com","resultCode":0}},`+
		`"authenticationContext":{"authenticationProvider":"LDAP_INTERFACE"}}`,
		id.String(), published.UTC().Format("2006-01-02T15:04:05.000Z07:00"), user, login, u,
		i%250, user, login, uint32(i*2654435761), login)
	return &store.Event{
		UUID:      id.String(),
		Published: published,
		OrgID:     fmt.Sprintf("00o%017d", i%4),
		EventType: "user.authentication.auth_via_ldap",
		Outcome:   "SUCCESS",
		ActorID:   user,
		TargetID:  user,
		Doc:       doc,
	}
}

// BenchmarkAppendEvents measures the system log's write path: ns/op is
// per event, with perBatch events in each AppendEvents (the directory
// flushes its queue in batches of up to 1000). cpu-ns/event is the CPU
// time of the AppendEvents calls (see cpuTime). Events are made 1000 at
// a time with the timer stopped, so that the benchmark's own garbage
// stays small.
//
// A unique index on the UUID costs most once the log is large: random
// (version 4) UUIDs dirty about one index page per event, time-ordered
// (version 7) ones append to the index's last pages.
func BenchmarkAppendEvents(b *testing.B) {
	for _, bc := range []struct{ perBatch, uuidVersion int }{{1, 4}, {100, 4}, {1000, 4}, {1, 7}, {100, 7}, {1000, 7}} {
		b.Run(fmt.Sprintf("perBatch=%d/uuid=v%d", bc.perBatch, bc.uuidVersion), func(b *testing.B) {
			s := openAt(b, tempPath(b))
			defer s.Close()
			now := time.Now()
			var evs []*store.Event
			var cpu time.Duration
			runtime.LockOSThread() // for cpuTime
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				if len(evs) == 0 {
					b.StopTimer()
					evs = make([]*store.Event, min(max(bc.perBatch, 1000), b.N-done))
					for i := range evs {
						evs[i] = benchEvent(done+i, now, bc.uuidVersion)
					}
					b.StartTimer()
				}
				batch := evs[:min(bc.perBatch, len(evs))]
				evs = evs[len(batch):]
				c := cpuTime()
				if err := s.AppendEvents(ctx, batch); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c
				done += len(batch)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if cpu > 0 {
				b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/event")
			}
		})
	}
}
