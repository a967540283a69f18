package directory_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// The org BenchmarkLoad100k loads: as a 100k-user LDIF import leaves it.
const (
	load100kUsers   = 100_000
	load100kGroups  = 2_000
	load100kMembers = 50 // per group: 100,000 memberships
)

// load100kDB is the database BenchmarkLoad100k reads, built once per test
// process (the import takes seconds) and removed by TestMain.
var load100kDB struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func load100kPath(b *testing.B) string {
	b.Helper()
	db := &load100kDB
	db.once.Do(func() {
		if db.dir, db.err = os.MkdirTemp("", "dirgate-load100k-"); db.err != nil {
			return
		}
		db.path = filepath.Join(db.dir, "dirgate.db")
		db.err = buildLoad100k(db.path)
	})
	if db.err != nil {
		b.Fatal(db.err)
	}
	return db.path
}

// buildLoad100k imports the org through Directory.Import, as dirgate
// import does: inetOrgPerson-like profiles with {SSHA} hashes, groups of
// 50 members.
func buildLoad100k(path string) error {
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := directory.New(directory.Config{Store: st, Password: cheap, LoginFlushInterval: time.Hour, Sleep: noSleep})
	if err != nil {
		return err
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.CreateOrg(ctx, directory.OrgInput{Name: "bench"}); err != nil {
		return err
	}
	users := make([]directory.ImportUser, load100kUsers)
	for i := range users {
		uid := fmt.Sprintf("user%06d", i)
		salt := fmt.Appendf(nil, "s%07d", i)
		h := sha1.Sum(append([]byte("password-"+uid), salt...))
		users[i].Profile = directory.Profile{Login: uid, Email: uid + "@example.com",
			FirstName: fmt.Sprintf("First%d", i%997), LastName: fmt.Sprintf("Last%d", i)}
		users[i].PasswordHash = "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
		users[i].Source = fmt.Sprintf("entry %d", i)
	}
	groups := make([]directory.ImportGroup, load100kGroups)
	for g := range groups {
		groups[g].Name = fmt.Sprintf("group%04d", g)
		groups[g].Description = "bench group " + groups[g].Name
		for m := range load100kMembers {
			groups[g].MemberLogins = append(groups[g].MemberLogins, users[g*load100kMembers+m].Profile.Login)
		}
	}
	res, err := d.Import(ctx, "bench", users, groups, nil)
	if err != nil {
		return err
	}
	if res.Users != load100kUsers || res.Groups != load100kGroups || res.Memberships != load100kGroups*load100kMembers {
		return fmt.Errorf("imported %+v", res)
	}
	return nil
}

// TestMain removes the database BenchmarkLoad100k built, if it ran.
func TestMain(m *testing.M) {
	code := m.Run()
	if load100kDB.dir != "" {
		os.RemoveAll(load100kDB.dir)
	}
	os.Exit(code)
}

// BenchmarkLoad100k is dirgate serve's start-up read: Directory.Load of
// one org of 100,000 users, 2,000 groups and 100,000 memberships from
// SQLite.
func BenchmarkLoad100k(b *testing.B) {
	path := load100kPath(b)
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := directory.New(directory.Config{Store: st, Password: cheap, LoginFlushInterval: time.Hour, Sleep: noSleep})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { d.Close(); st.Close() }()
	ctx := context.Background()
	runtime.GC() // start from a heap without the import's garbage, as serve does
	b.ReportAllocs()
	for b.Loop() {
		data, err := d.Load(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(data.Orgs) != 1 || len(data.Orgs[0].Users) != load100kUsers || len(data.Orgs[0].Groups) != load100kGroups ||
			len(data.Orgs[0].Memberships) != load100kGroups*load100kMembers {
			b.Fatalf("loaded %d orgs", len(data.Orgs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/load100kUsers, "ns/user")
}
