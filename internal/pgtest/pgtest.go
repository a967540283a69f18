// Package pgtest starts a private PostgreSQL cluster on 127.0.0.1 for a
// test, for testing what dirgate does with PostgreSQL: logins through a
// pg_hba.conf LDAP line against dirgate's LDAP interface, and dirgate
// managing roles. Tests import it, and the benchmark (Launch) for a
// PostgreSQL store.
//
//	pg := pgtest.Start(t, pgtest.Options{CAFile: caFile, HBA: []string{hbaLine}})
//	pg.SuperSQL(t, `CREATE ROLE alice LOGIN`)
//	out, ok := pg.Login(t, "alice", "alice-password")
//
// Start runs initdb (trust for local connections, no fsync), writes a
// self-signed certificate for 127.0.0.1 and localhost so that hostssl
// lines work, and starts the postmaster with pg_ctl, listening on a free
// port of 127.0.0.1 and on a unix socket. pg_hba.conf lets the superuser
// postgres in over the unix socket without a password and everyone else
// only through Options.HBA (later SetHBA). The cluster is stopped
// (immediately: its data is thrown away) and its directory removed when
// the test ends; on failure the server's log goes to the test's log.
//
// PostgreSQL refuses to run as root, so as root the cluster's files
// belong to, and its server binaries run as, the postgres system user
// (which Debian's postgresql package creates). The clients (psql, or a Go
// driver through SuperURL) run as the test.
package pgtest

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

// Options says how to set the cluster up.
type Options struct {
	// CAFile is the PEM of the CA that the postmaster's LDAP client trusts
	// (LDAPTLS_CACERT), for ldaps:// or StartTLS pg_hba.conf lines; "" for
	// none. Start copies it where the postgres user can read it.
	CAFile string
	// HBA are the pg_hba.conf lines after the superuser's
	// "local all postgres trust".
	HBA []string
	// Conf is more postgresql.conf, appended after the fixture's own
	// settings (so it may override them).
	Conf string
}

// Cluster is a running cluster. Its fields describe it; change them and
// nothing happens.
type Cluster struct {
	// Port is the TCP port on 127.0.0.1, also that of the unix socket.
	Port int
	// Sock is the unix socket's directory, Dir the data directory.
	Sock, Dir string
	// CAFile is the copy of Options.CAFile that the postmaster reads, or
	// "".
	CAFile string

	bin     string     // directory of initdb, pg_ctl, postgres (and psql)
	psql    string     // psql of the same version when there is one
	runAs   *user.User // nil: the current user
	logFile string
	root    string // the temporary directory holding everything
	started bool   // a postmaster may run (Stop stops it)
}

// superHBA comes first in pg_hba.conf, so that SuperSQL and SuperURL work
// whatever the test's lines say.
const superHBA = "local all postgres trust"

// cmdTimeout bounds one psql or pg_ctl run; a login through an LDAP line
// may wait for the LDAP server's timeouts.
const cmdTimeout = 2 * time.Minute

// Start starts a cluster for the test and stops it when the test ends. It
// skips the test when PostgreSQL's server binaries are not installed,
// unless CI=true (then the test fails).
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	bin, err := findBin()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	c, err := launch(bin, o)
	if c != nil {
		t.Cleanup(func() {
			failed := t.Failed()
			if failed {
				log, _ := os.ReadFile(c.logFile)
				t.Logf("pgtest: postgres log:\n%s", log)
			}
			c.Stop()
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Launch starts a cluster outside a test (the benchmark's); Stop stops it
// and removes its files.
func Launch(o Options) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c, err := launch(bin, o)
	if err != nil && c != nil {
		log, _ := os.ReadFile(c.logFile)
		c.Stop()
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return c, err
}

// Stop stops the cluster at once (its data is thrown away) and removes
// its directory.
func (c *Cluster) Stop() {
	if c.started {
		c.run(filepath.Join(c.bin, "pg_ctl"), "-D", c.Dir, "-m", "immediate", "-w", "stop")
		c.started = false
	}
	os.RemoveAll(c.root)
}

// launch sets a cluster up and starts it; on an error after the cluster's
// directory exists it returns the cluster too, for Stop.
func launch(bin string, o Options) (*Cluster, error) {
	c := &Cluster{bin: bin}
	c.psql = filepath.Join(c.bin, "psql")
	if _, err := os.Stat(c.psql); err != nil {
		p, err := exec.LookPath("psql")
		if err != nil {
			return nil, fmt.Errorf("pgtest: psql not found (apt-get install postgresql-client)")
		}
		c.psql = p
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres system user (apt-get install postgresql): %v", err)
		}
		c.runAs = u
	}

	// Not t.TempDir: the postgres user must reach the directory (t.TempDir's
	// parents are the test's own, mode 0700), and a unix socket's path is
	// limited to about 100 bytes, which a long test name exceeds.
	root, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c.root = root
	c.Dir, c.Sock, c.logFile = filepath.Join(root, "data"), filepath.Join(root, "sock"), filepath.Join(root, "postgres.log")
	if err := os.Mkdir(c.Sock, 0o700); err != nil {
		return c, err
	}
	if err := c.chown(root); err != nil {
		return c, err
	}
	if err := c.chown(c.Sock); err != nil {
		return c, err
	}
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return c, err
		}
		c.CAFile = filepath.Join(root, "ldap-ca.pem")
		if err := c.writeOwned(c.CAFile, b); err != nil {
			return c, err
		}
	}

	if out, err := c.run(filepath.Join(c.bin, "initdb"), "-D", c.Dir, "-U", "postgres", "-A", "trust",
		"--no-sync", "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
		return c, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	certPEM, keyPEM, err := ldapserver.GenerateSelfSigned([]string{"127.0.0.1", "localhost"}, 24*time.Hour)
	if err != nil {
		return c, err
	}
	for name, b := range map[string][]byte{"server.crt": certPEM, "server.key": keyPEM, "pg_hba.conf": hbaFile(o.HBA)} {
		if err := c.writeOwned(filepath.Join(c.Dir, name), b); err != nil {
			return c, err
		}
	}

	// The port is free when picked but not reserved: if the postmaster
	// finds it taken, try again with another.
	conf, err := os.ReadFile(filepath.Join(c.Dir, "postgresql.conf"))
	if err != nil {
		return c, err
	}
	for attempt := 1; ; attempt++ {
		if c.Port, err = freePort(); err != nil {
			return c, err
		}
		extra := fmt.Sprintf("\n# pgtest\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
			"ssl = on\nfsync = off\nlog_connections = on\n%s\n", c.Port, c.Sock, o.Conf)
		if err := c.writeOwned(filepath.Join(c.Dir, "postgresql.conf"), append(conf[:len(conf):len(conf)], extra...)); err != nil {
			return c, err
		}
		out, err := c.run(filepath.Join(c.bin, "pg_ctl"), "-D", c.Dir, "-l", c.logFile, "-w", "-t", "60", "start")
		if err == nil {
			c.started = true
			return c, nil
		}
		log, _ := os.ReadFile(c.logFile)
		if attempt < 3 && strings.Contains(string(log), "Address already in use") {
			continue
		}
		c.started = true // pg_ctl may have left a postmaster behind
		return c, fmt.Errorf("pgtest: pg_ctl start: %v\n%s", err, out)
	}
}

// SuperURL is a libpq (and pgx) keyword/value connection string for the
// superuser postgres over the unix socket, to database db ("" for
// postgres).
func (c *Cluster) SuperURL(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", quoteValue(c.Sock), c.Port, quoteValue(db))
}

// SuperSQL runs sql (one or more statements) as the superuser over the
// unix socket and returns psql's unaligned, tuples-only output. The test
// fails if any statement does.
func (c *Cluster) SuperSQL(t testing.TB, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.psql, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql, c.SuperURL("")).CombinedOutput()
	if err != nil {
		t.Fatalf("pgtest: psql as postgres: %v\n%s\nSQL: %s", err, out, sql)
	}
	return string(out)
}

// Login runs psql as user with password over TCP with SSL, as a person
// logging in would, to database postgres, and returns what it printed
// (select current_user, or why it was refused) and whether it succeeded.
func (c *Cluster) Login(t testing.TB, user, password string) (out string, ok bool) {
	t.Helper()
	return c.LoginDB(t, "postgres", user, password)
}

// LoginDB is Login to database db.
func (c *Cluster) LoginDB(t testing.TB, db, user, password string) (out string, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	conn := fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s sslmode=require connect_timeout=30",
		c.Port, quoteValue(db), quoteValue(user))
	cmd := exec.CommandContext(ctx, c.psql, "-X", "-At", "-c", "select current_user", conn)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password)
	b, err := cmd.CombinedOutput()
	return string(b), err == nil
}

// SetHBA replaces pg_hba.conf's lines after the superuser's and reloads
// the configuration. The test fails, the old rules staying in force, if
// PostgreSQL finds an error in the new file.
func (c *Cluster) SetHBA(t testing.TB, lines ...string) {
	t.Helper()
	if err := c.writeOwned(filepath.Join(c.Dir, "pg_hba.conf"), hbaFile(lines)); err != nil {
		t.Fatal(err)
	}
	// pg_hba_file_rules parses the file on disk, not the rules in force.
	if bad := c.SuperSQL(t, `SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL ORDER BY line_number`); bad != "" {
		t.Fatalf("pgtest: pg_hba.conf has errors (line: error):\n%s\nfile:\n%s", bad, hbaFile(lines))
	}
	c.reload(t)
}

// reload reloads the configuration and waits for it to be in force.
// pg_reload_conf only signals the postmaster; a connection made before it
// has reloaded would still get the old rules. A backend inherits
// pg_conf_load_time from the postmaster, which updates it in the same
// step as it reloads pg_hba.conf, so once a new backend sees a new time,
// later ones get the new rules.
func (c *Cluster) reload(t testing.TB) {
	t.Helper()
	before := c.SuperSQL(t, "SELECT pg_conf_load_time()")
	c.SuperSQL(t, "SELECT pg_reload_conf()")
	deadline := time.Now().Add(30 * time.Second)
	for c.SuperSQL(t, "SELECT pg_conf_load_time()") == before {
		if time.Now().After(deadline) {
			t.Fatal("pgtest: the configuration was not reloaded within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill stops the cluster at once, as a crash would, for tests of a
// database that went away. Restart brings it back.
func (c *Cluster) Kill(t testing.TB) {
	t.Helper()
	if out, err := c.run(filepath.Join(c.bin, "pg_ctl"), "-D", c.Dir, "-m", "immediate", "-w", "stop"); err != nil {
		t.Fatalf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
}

// Restart stops the cluster (closing every connection) if it runs and
// starts it again on the same port with the same data.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if out, err := c.run(filepath.Join(c.bin, "pg_ctl"), "-D", c.Dir, "-l", c.logFile, "-m", "fast", "-w", "-t", "60", "restart"); err != nil {
		log, _ := os.ReadFile(c.logFile)
		t.Fatalf("pgtest: pg_ctl restart: %v\n%s\n%s", err, out, log)
	}
}

// QuoteIdent quotes a PostgreSQL identifier (a role's or a database's
// name) for SQL.
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func hbaFile(lines []string) []byte {
	return []byte(superHBA + "\n" + strings.Join(lines, "\n") + "\n")
}

// quoteValue quotes a keyword/value connection string's value when it
// needs it.
func quoteValue(s string) string {
	if s != "" && !strings.ContainsAny(s, ` '\`+"\t\n\r") {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// findBin finds the server binaries: Debian's newest under
// /usr/lib/postgresql, else initdb's directory on PATH.
func findBin() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			matches = []string{p}
		}
	}
	if len(matches) == 0 {
		return "", fmt.Errorf("pgtest: PostgreSQL server binaries not found (apt-get install postgresql)")
	}
	// Glob sorts by name: "9.6" after "17", but Debian has had no 9.x for
	// years.
	return filepath.Dir(matches[len(matches)-1]), nil
}

// FreePort is a TCP port of 127.0.0.1 free when asked (not reserved: a
// listener may race for it).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs a server binary as the cluster's user, its LDAP client
// trusting CAFile and nothing from the environment's LDAP configuration.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LDAPTLS_REQCERT=demand", "LDAPRC=/nonexistent", "LDAPCONF=/nonexistent", "LC_ALL=C.UTF-8")
	if c.CAFile != "" {
		cmd.Env = append(cmd.Env, "LDAPTLS_CACERT="+c.CAFile)
	}
	cmd.Dir = "/"
	if c.runAs != nil {
		uid, gid := c.ids()
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
		cmd.Env = append(cmd.Env, "HOME="+c.runAs.HomeDir, "USER=postgres")
	}
	return cmd.CombinedOutput()
}

// writeOwned writes a file that only the cluster's user reads (the server
// refuses a key others can read).
func (c *Cluster) writeOwned(name string, b []byte) error {
	if err := os.WriteFile(name, b, 0o600); err != nil {
		return err
	}
	return c.chown(name)
}

func (c *Cluster) chown(name string) error {
	if c.runAs == nil {
		return nil
	}
	uid, gid := c.ids()
	return os.Chown(name, int(uid), int(gid))
}

func (c *Cluster) ids() (uid, gid uint32) {
	u, _ := strconv.Atoi(c.runAs.Uid)
	g, _ := strconv.Atoi(c.runAs.Gid)
	return uint32(u), uint32(g)
}
