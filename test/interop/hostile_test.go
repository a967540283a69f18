package interop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/bench/hostile"
)

// TestHostileClients runs bench/hostile against dirgate serve with 10,000
// users for a few seconds: idle connections, slowloris, stalled TLS
// handshakes, oversized and deeply nested messages, a storm of expensive
// substring searches, a flood of outstanding operations on one
// connection, abandon storms, StartTLS amid operations, 1 MiB passwords
// and injection attempts, all from 127.0.0.2, while a well-behaved client
// on 127.0.0.1 searches and logs in. Every one of its operations must
// succeed, no attack may get in, the server's memory must stay bounded,
// and it must be ready afterwards. The figures (latencies) are logged;
// bench/README.md has a longer run at 100,000 users.
func TestHostileClients(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	// DIRGATE_HOSTILE_USERS and DIRGATE_HOSTILE_DURATION make the longer
	// run of bench/README.md (100000 users, 60s).
	users, duration := 10000, 8*time.Second
	if v, err := strconv.Atoi(os.Getenv("DIRGATE_HOSTILE_USERS")); err == nil && v > 1000 {
		users = v
	}
	if v, err := time.ParseDuration(os.Getenv("DIRGATE_HOSTILE_DURATION")); err == nil && v > 0 {
		duration = v
	}
	mustDirgate(t, "", "import", "--data", data, "--org", "example", writeUsersLDIF(t, t.TempDir(), exBase, users))
	// A short read timeout, so that slowloris is seen disconnected
	// within the run (the default is 30 s).
	s := startDirgate(t, data, "--no-demo", "--ldap-read-timeout", "2s")
	pem, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	ldapURL, _ := url.Parse(s.ldapURL)
	ldapsURL, _ := url.Parse(s.ldapsURL)
	rep, err := hostile.Run(context.Background(), hostile.Config{
		LDAP: ldapURL.Host, LDAPS: ldapsURL.Host,
		TLS:    &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		BindDN: bindDN, BindPassword: bindPW,
		UserDN: "uid=user000123," + exUsers, UserPassword: "password-user000123", UserUID: "user000123",
		VictimDN:  "uid=user000999," + exUsers,
		Base:      exBase,
		Duration:  duration,
		ServerPID: s.cmd.Process.Pid,
		Idle:      200,
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Markdown(&b)
	t.Logf("%d users:\n%s", users, b.String())
	if rep.ProbeFailures > 0 {
		t.Errorf("the well-behaved client failed %d times; first: %s", rep.ProbeFailures, rep.FirstProbeFailure)
	}
	if rep.ProbeSearches < 10 || rep.ProbeLogins < 10 {
		t.Errorf("the well-behaved client did only %d searches and %d logins", rep.ProbeSearches, rep.ProbeLogins)
	}
	for _, br := range rep.Breaches {
		t.Errorf("breach: %s", br)
	}
	for name, c := range rep.Attacks {
		if c.Conns.Load() == 0 {
			t.Errorf("attack %q made no connection: the test does not test it", name)
		}
		if strings.HasPrefix(name, "slowloris") && c.Closed.Load() == 0 {
			t.Errorf("%s: no connection was closed by the server's 2 s read timeout", name)
		}
	}
	if grew := rep.RSSMax - rep.RSSBefore; grew > 512<<10 {
		t.Errorf("server RSS grew by %d MiB under attack", grew>>10)
	}
	if r, err := s.get("/readyz"); err != nil || r.StatusCode != 200 {
		t.Errorf("not ready after the attacks: %v %v", r, err)
	}
}
