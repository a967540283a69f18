package directory_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// benchDir is a directory over SQLite with n imported {SSHA} users
// (password "password-<uid>"), as the benchmark against slapd loads them;
// with argon, their passwords are then set again (argon2id, cfg.Password).
func benchDir(b *testing.B, n int, cfg directory.Config, argon bool) (*directory.Directory, *directory.Org) {
	b.Helper()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cfg.Store, cfg.LoginFlushInterval, cfg.Sleep = st, time.Hour, noSleep
	if cfg.Password == (password.Params{}) {
		cfg.Password = cheap
	}
	d, err := directory.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close(); st.Close() })
	ctx := context.Background()
	o, err := d.CreateOrg(ctx, directory.OrgInput{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	users := make([]directory.ImportUser, n)
	for i := range users {
		uid := fmt.Sprintf("user%06d", i)
		salt := []byte(fmt.Sprintf("s%07d", i))
		h := sha1.Sum(append([]byte("password-"+uid), salt...))
		users[i].Profile = directory.Profile{Login: uid, Email: uid + "@example.com"}
		users[i].PasswordHash = "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
	}
	if _, err := d.Import(ctx, "bench", users, nil, nil); err != nil {
		b.Fatal(err)
	}
	for i := range users {
		if argon { // through the password policy's path, hashed with cfg.Password
			uid := users[i].Profile.Login
			if _, err := d.SetPassword(ctx, "bench", uid, []byte("password-"+uid)); err != nil {
				b.Fatal(err)
			}
		}
	}
	return d, o
}

// BenchmarkAuthenticate is a successful bind, the directory's whole share
// of it (user record, hash, policy, system log event): with the record
// read from the store, or taken from the snapshot's credential (as dit
// passes it) with the bind cache on or off; for imported {SSHA} users and
// for argon2id ones at the default cost.
func BenchmarkAuthenticate(b *testing.B) {
	for _, scheme := range []string{"ssha", "argon2id"} {
		for _, mode := range []string{"store", "snapshot", "snapshot-nocache"} {
			b.Run(scheme+"/"+mode, func(b *testing.B) {
				n, cfg := 1000, directory.Config{}
				if scheme == "argon2id" {
					n, cfg.Password = 16, password.DefaultParams
				}
				if mode == "snapshot-nocache" {
					cfg.BindCacheTTL = -1
				}
				d, o := benchDir(b, n, cfg, scheme == "argon2id")
				ctx := context.Background()
				si, err := d.SignInOf(ctx, o.ID)
				if err != nil {
					b.Fatal(err)
				}
				reqs := make([]directory.AuthRequest, n)
				for i := range reqs {
					uid := fmt.Sprintf("user%06d", i)
					reqs[i] = directory.AuthRequest{OrgID: o.ID, Login: uid, Password: []byte("password-" + uid), SignIn: si,
						Client: directory.ClientInfo{IP: "127.0.0.1", Protocol: "ldap"}}
					if mode != "store" {
						u, err := d.User(ctx, "bench", uid)
						if err != nil {
							b.Fatal(err)
						}
						reqs[i].UserID, reqs[i].Credential = u.ID, directory.CredentialOf(u)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					if _, err := d.Authenticate(ctx, reqs[i%len(reqs)]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
