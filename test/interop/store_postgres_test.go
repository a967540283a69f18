package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dirgate/dirgate/internal/pgtest"
)

// TestServePostgresStore: two `dirgate serve` nodes over one PostgreSQL
// store (each with its own data directory for TLS, sharing the key that
// seals TOTP secrets) serve the same org: a user created through the CLI
// on the store binds on both, and a suspension made through node 1's
// store reaches node 2's LDAP within the poll interval.
func TestServePostgresStore(t *testing.T) {
	requireLdapsearch(t)
	pg := pgtest.Start(t, pgtest.Options{})
	pg.SuperSQL(t, "CREATE DATABASE dirgate")
	url := "postgres://postgres@/dirgate?host=" + pg.Sock + "&port=" + strings.TrimSpace(pg.SuperSQL(t, "SHOW port")) + "&sslmode=disable"
	key := filepath.Join(t.TempDir(), "secret.key")
	common := []string{"--store", url, "--secret-key-file", key}
	d1, d2 := t.TempDir(), t.TempDir()

	mustDirgate(t, "", append([]string{"init", "--data", d1, "--org", "example"}, common...)...)
	mustDirgate(t, bindPW+"\n", append([]string{"user", "create", "--data", d1, "--org", "example", "--login", "ldap-bind",
		"--service-account", "--role", "read_only_admin", "--password-stdin"}, common...)...)
	for _, u := range []string{"alice", "bob"} {
		mustDirgate(t, u+"-password\n", append([]string{"user", "create", "--data", d1, "--org", "example", "--login", u, "--password-stdin"}, common...)...)
	}
	conn, err := pgx.Connect(context.Background(), pg.SuperURL("dirgate"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var users int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&users); err != nil || users != 3 {
		t.Fatalf("users in PostgreSQL: %d, %v", users, err)
	}

	n1 := startDirgate(t, d1, append([]string{"--no-demo"}, common...)...)
	n2 := startDirgate(t, d2, append([]string{"--no-demo"}, common...)...)
	for i, n := range []*dgServer{n1, n2} {
		r := n.ldapsearch(t, "-LLL", "-x", "-H", n.ldapsURL, "-D", aliceExD, "-w", "alice-password", "-b", aliceExD, "-s", "base", "uid")
		if r.code != 0 || len(dns(r.stdout)) != 1 {
			t.Fatalf("alice's bind on node %d: exit %d %s", i+1, r.code, r.stderr)
		}
	}
	mustDirgate(t, "", append([]string{"user", "suspend", "--data", d1, "--org", "example", "--login", "alice"}, common...)...)
	eventually(t, "node 2 refuses suspended alice", func() error {
		r := n2.ldapsearch(t, "-LLL", "-x", "-H", n2.ldapsURL, "-D", aliceExD, "-w", "alice-password", "-b", aliceExD, "-s", "base", "uid")
		if r.code != 49 {
			return errorString("alice still binds on node 2: " + r.stderr)
		}
		return nil
	})

	// Lockout across nodes: the default policy's 10 failed binds, five on
	// each node, lock bob out on both (a per-node count would not).
	bobDN := "uid=bob," + exUsers
	for i := range 10 {
		n := []*dgServer{n1, n2}[i%2]
		if r := n.ldapsearch(t, "-LLL", "-x", "-H", n.ldapsURL, "-D", bobDN, "-w", "wrong", "-b", bobDN, "-s", "base", "uid"); r.code != 49 {
			t.Fatalf("wrong password %d: exit %d %s", i+1, r.code, r.stderr)
		}
	}
	eventually(t, "bob locked out on both nodes", func() error {
		for i, n := range []*dgServer{n1, n2} {
			if r := n.ldapsearch(t, "-LLL", "-x", "-H", n.ldapsURL, "-D", bobDN, "-w", "bob-password", "-b", bobDN, "-s", "base", "uid"); r.code != 49 {
				return errorString(fmt.Sprintf("bob's right password on node %d: exit %d", i+1, r.code))
			}
		}
		return nil
	})
	if out := mustDirgate(t, "", append([]string{"user", "show", "--data", d1, "--org", "example", "--login", "bob", "--output", "json"}, common...)...); !strings.Contains(out, `"LOCKED_OUT"`) {
		t.Errorf("bob after 10 failures over two nodes:\n%s", out)
	}
}

// TestServePostgresStoreOutage: while the PostgreSQL store is down, serve
// says not ready, LDAP keeps answering searches and right-password binds
// from its snapshot, and a wrong password (which must be counted) fails
// closed with unavailable, never as a success; once the database is back
// the node is ready again and counts failures.
func TestServePostgresStoreOutage(t *testing.T) {
	requireLdapsearch(t)
	pg := pgtest.Start(t, pgtest.Options{})
	pg.SuperSQL(t, "CREATE DATABASE dirgate")
	url := "postgres://postgres@/dirgate?host=" + pg.Sock + "&port=" + strings.TrimSpace(pg.SuperSQL(t, "SHOW port")) + "&sslmode=disable&connect_timeout=2"
	common := []string{"--store", url, "--secret-key-file", filepath.Join(t.TempDir(), "secret.key")}
	data := t.TempDir()
	// serve over an empty shared store makes no demo org (nodes would
	// race to make it).
	first := startDirgate(t, t.TempDir(), common...)
	eventually(t, "the banner says there is no org", func() error {
		if !strings.Contains(first.out.String(), "No orgs yet") || !strings.Contains(first.out.String(), "--store URL --org NAME") {
			return errorString("serve's output:\n" + first.out.String())
		}
		return nil
	})
	if strings.Contains(first.out.String(), "created the demo org") {
		t.Fatalf("serve made the demo org in a shared PostgreSQL store:\n%s", first.out.String())
	}
	first.stop(t)
	mustDirgate(t, "", append([]string{"init", "--data", data, "--org", "example"}, common...)...)
	mustDirgate(t, bindPW+"\n", append([]string{"user", "create", "--data", data, "--org", "example", "--login", "ldap-bind",
		"--service-account", "--role", "read_only_admin", "--password-stdin"}, common...)...)
	mustDirgate(t, "alice-password\n", append([]string{"user", "create", "--data", data, "--org", "example", "--login", "alice", "--password-stdin"}, common...)...)
	n := startDirgate(t, data, append([]string{"--no-demo"}, common...)...)
	ready := func() int {
		resp, err := n.get("/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	pg.Kill(t)
	eventually(t, "not ready while the store is down", func() error {
		if c := ready(); c != 503 {
			return errorString(fmt.Sprintf("/readyz %d", c))
		}
		return nil
	})
	if r := n.ldapsearch(t, asBind(n.ldapsURL, "-b", exUsers, "(uid=alice)", "uid")...); r.code != 0 || len(dns(r.stdout)) != 1 {
		t.Errorf("a search while the store is down: exit %d %s", r.code, r.stderr)
	}
	if r := n.ldapsearch(t, "-LLL", "-x", "-H", n.ldapsURL, "-D", aliceExD, "-w", "alice-password", "-b", aliceExD, "-s", "base", "uid"); r.code != 0 {
		t.Errorf("alice's right password while the store is down: exit %d %s", r.code, r.stderr)
	}
	r := n.ldapsearch(t, "-LLL", "-x", "-H", n.ldapsURL, "-D", aliceExD, "-w", "wrong", "-b", aliceExD, "-s", "base", "uid")
	if r.code != 52 && r.code != 51 {
		t.Errorf("a wrong password while the store is down: exit %d (want 52 unavailable or 51 busy) %s", r.code, r.stderr)
	}
	t.Logf("wrong password during the outage: exit %d: %s", r.code, strings.TrimSpace(r.stderr))

	pg.Restart(t)
	eventually(t, "ready once the store is back", func() error {
		if c := ready(); c != 200 {
			return errorString(fmt.Sprintf("/readyz %d", c))
		}
		return nil
	})
	if r := n.ldapsearch(t, "-LLL", "-x", "-H", n.ldapsURL, "-D", aliceExD, "-w", "wrong", "-b", aliceExD, "-s", "base", "uid"); r.code != 49 {
		t.Errorf("a wrong password once the store is back: exit %d %s", r.code, r.stderr)
	}
}
