package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/ldapserver"
)

// pgCluster is a private PostgreSQL cluster on 127.0.0.1 started for one
// test, with SSL on (hostssl lines need it) and LDAPTLS_CACERT set in the
// postmaster's environment so its LDAP client trusts dirgate's CA.
type pgCluster struct {
	bin    string // directory of initdb, pg_ctl, postgres
	dir    string // data directory
	sock   string // unix socket directory
	port   int
	runAs  *user.User // nil: the current user (PostgreSQL refuses root)
	logf   string
	caFile string
}

// pgBinDir finds Debian's PostgreSQL server binaries.
func pgBinDir(t *testing.T) string {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			matches = []string{p}
		}
	}
	if len(matches) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL server binaries not found (apt-get install postgresql)")
		}
		t.Skip("PostgreSQL server binaries not found (apt-get install postgresql)")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql not found (apt-get install postgresql-client)")
	}
	return filepath.Dir(matches[len(matches)-1])
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPostgres initialises and starts a cluster whose pg_hba.conf lets
// the superuser in over the unix socket and everyone else only through
// hbaLines. caFile is the CA the server's LDAP client trusts.
func startPostgres(t *testing.T, caFile string, hbaLines ...string) *pgCluster {
	t.Helper()
	c := &pgCluster{bin: pgBinDir(t), port: freePort(t), caFile: caFile}
	root, err := os.MkdirTemp("", "dirgate-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	c.dir, c.sock, c.logf = filepath.Join(root, "data"), filepath.Join(root, "sock"), filepath.Join(root, "postgres.log")
	for _, d := range []string{c.sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The CA must be readable by the postmaster's user.
	ca := filepath.Join(root, "ldap-ca.pem")
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c.caFile = ca
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres system user (apt-get install postgresql): %v", err)
		}
		c.runAs = u
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{root, c.sock, ca} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := c.run(t, filepath.Join(c.bin, "initdb"), "-D", c.dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// PostgreSQL's own TLS for the hostssl lines.
	certPEM, keyPEM, err := ldapserver.GenerateSelfSigned([]string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.writeOwned(t, filepath.Join(c.dir, "server.crt"), certPEM)
	c.writeOwned(t, filepath.Join(c.dir, "server.key"), keyPEM)
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nssl = on\nfsync = off\nlog_connections = on\n", c.port, c.sock)
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	hba := "local all postgres trust\n" + strings.Join(hbaLines, "\n") + "\n"
	c.writeOwned(t, filepath.Join(c.dir, "pg_hba.conf"), []byte(hba))

	if out, err := c.run(t, filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-l", c.logf, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(c.logf)
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		c.run(t, filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-m", "immediate", "-w", "stop")
		if t.Failed() {
			log, _ := os.ReadFile(c.logf)
			t.Logf("postgres log:\n%s", log)
		}
	})
	return c
}

// run runs a server binary as the cluster's user with LDAPTLS_CACERT set.
func (c *pgCluster) run(t *testing.T, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+c.caFile, "LDAPTLS_REQCERT=demand", "LDAPRC=/nonexistent", "LC_ALL=C.UTF-8")
	cmd.Dir = "/"
	if c.runAs != nil {
		uid, _ := strconv.Atoi(c.runAs.Uid)
		gid, _ := strconv.Atoi(c.runAs.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = append(cmd.Env, "HOME="+c.runAs.HomeDir, "USER=postgres")
	}
	return cmd.CombinedOutput()
}

func (c *pgCluster) writeOwned(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if c.runAs != nil {
		uid, _ := strconv.Atoi(c.runAs.Uid)
		gid, _ := strconv.Atoi(c.runAs.Gid)
		if err := os.Chown(name, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
}

// superSQL runs SQL as the superuser over the unix socket.
func (c *pgCluster) superSQL(t *testing.T, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", c.sock, "-p", strconv.Itoa(c.port), "-U", "postgres", "-d", "postgres", "-At", "-c", sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql as postgres: %v\n%s\nSQL: %s", err, out, sql)
	}
	return string(out)
}

// login runs psql over TCP with SSL as user with PGPASSWORD, as a person
// logging in would, and returns psql's output and whether it succeeded.
func (c *pgCluster) login(t *testing.T, user, password string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "psql", "-X", "-At", "-c", "select current_user",
		fmt.Sprintf("host=127.0.0.1 port=%d dbname=postgres sslmode=require connect_timeout=30", c.port), "-U", user)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=30")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// pgHBALDAP is the reference documents' search+bind line for one org, with
// PostgreSQL's own quoting of the bind password.
func pgHBALDAP(group, ldapHost string, ldapsPort int, baseDN, bindDN, bindPW string) string {
	return fmt.Sprintf(`hostssl all +%s 127.0.0.1/32 ldap ldapserver=%s ldapscheme=ldaps ldapport=%d ldapbasedn="%s" ldapsearchattribute=uid ldapbinddn="%s" ldapbindpasswd="%s"`,
		group, ldapHost, ldapsPort, baseDN, bindDN, strings.ReplaceAll(bindPW, `"`, `""`))
}
