package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// server is a serve command running in-process.
type server struct {
	*listening
	stdout, stderr *syncBuffer
	stop           func() int
}

// startServe runs serve on free loopback ports and waits until it listens.
func startServe(t *testing.T, c *cli, data string, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	up := make(chan *listening, 1)
	done := make(chan int, 1)
	a := &app{
		stdin: strings.NewReader(""), stdout: s.stdout, stderr: s.stderr,
		lookupEnv: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok },
		serving:   func(l *listening) { up <- l },
	}
	args := append([]string{"serve", "--data", data, "--ldap", "127.0.0.1:0", "--ldaps", "127.0.0.1:0", "--http", "127.0.0.1:0"}, extra...)
	go func() { done <- run(ctx, args, a) }()
	select {
	case s.listening = <-up:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening:\n%s%s", code, s.stdout, s.stderr)
	}
	stopped := false
	code := 0
	s.stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			code = <-done
		}
		return code
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("serve stdout:\n%s\nserve stderr:\n%s", s.stdout, s.stderr)
		}
	})
	return s
}

func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: s.tlsConfig(t)}}
	resp, err := client.Get("https://" + s.HTTP + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *server) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("ca.pem does not parse")
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// ldaps binds over LDAPS with the server's CA.
func (s *server) ldaps(t *testing.T, dn, pw string) *goldap.Conn {
	t.Helper()
	l, err := goldap.DialURL("ldaps://"+s.LDAPS, goldap.DialWithTLSConfig(s.tlsConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.Bind(dn, pw); err != nil {
		t.Fatalf("bind %s: %v", dn, err)
	}
	return l
}

func search(l *goldap.Conn, base, filter string, attrs ...string) ([]*goldap.Entry, error) {
	r, err := l.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
	if err != nil {
		return nil, err
	}
	return r.Entries, nil
}

// eventually retries check until it passes; a bound for changes that
// reach the LDAP snapshot asynchronously, not a performance check.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeNoDemo(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	s := startServe(t, c, data, "--no-demo")

	if code, body := s.get(t, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := s.get(t, "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	out := s.stdout.String()
	if !strings.Contains(out, "ldaps://"+s.LDAPS) || !strings.Contains(out, "ldap://"+s.LDAP+" (StartTLS required)") ||
		!strings.Contains(out, "No orgs yet") || strings.Contains(out, "Demo org") {
		t.Errorf("banner:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(data, credentialsFile)); !os.IsNotExist(err) {
		t.Error("--no-demo wrote a credentials file")
	}

	// A second serve on the same data directory is refused.
	r := c.run("", "serve", "--data", data, "--ldap", "127.0.0.1:0", "--ldaps", "127.0.0.1:0", "--http", "")
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("dirgate: the data directory is in use by another dirgate serve (pid %d)", os.Getpid())) {
		t.Errorf("second serve: exit %d, stderr %q", r.code, r.stderr)
	}

	// The CLI works on the directory while serve runs, and serve sees it.
	c.ok("", "init", "--data", data, "--org", "acme")
	c.ok("bind-password\n", "user", "create", "--data", data, "--org", "acme", "--login", "ldap-bind", "--service-account", "--role", "READ_ONLY_ADMIN", "--password-stdin")
	c.ok("alice-password\n", "user", "create", "--data", data, "--org", "acme", "--login", "alice", "--email", "alice@acme.example", "--password-stdin")
	const base = "dc=acme,dc=okta,dc=com"
	eventually(t, "alice visible over LDAPS", func() error {
		l, err := goldap.DialURL("ldaps://"+s.LDAPS, goldap.DialWithTLSConfig(s.tlsConfig(t)))
		if err != nil {
			return err
		}
		defer l.Close()
		if err := l.Bind("uid=ldap-bind,"+base, "bind-password"); err != nil {
			return err
		}
		es, err := search(l, "ou=users,"+base, "(uid=alice)", "mail")
		if err != nil {
			return err
		}
		if len(es) != 1 || es[0].GetAttributeValue("mail") != "alice@acme.example" {
			return fmt.Errorf("entries %v", es)
		}
		return nil
	})
	// StartTLS on the ldap:// port, with the same CA.
	l, err := goldap.DialURL("ldap://" + s.LDAP)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.StartTLS(s.tlsConfig(t)); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := l.Bind("uid=alice,ou=users,"+base, "alice-password"); err != nil {
		t.Fatalf("bind over StartTLS: %v", err)
	}

	code, metrics := s.get(t, "/metrics")
	for _, want := range []string{"ldap_operations_total", "go_goroutines", "process_open_fds", "dirgate_build_info"} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s (status %d)", want, code)
		}
	}
	if strings.Contains(s.stderr.String(), "bind-password") || strings.Contains(s.stderr.String(), "alice-password") {
		t.Error("a password in the logs")
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exit %d after cancel", code)
	}
	if !strings.Contains(s.stderr.String(), "msg=stopped") {
		t.Errorf("no graceful stop in the logs:\n%s", s.stderr)
	}
	// The lock is released: serve starts again.
	startServe(t, c, data, "--no-demo").stop()
}

func TestServeDemo(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	s := startServe(t, c, data)
	out := s.stdout.String()

	m := regexp.MustCompile(`(?m)^  password:\s+(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no password in the banner:\n%s", out)
	}
	pw := m[1]
	if !regexp.MustCompile(`^[A-Za-z0-9]{20}$`).MatchString(pw) {
		t.Errorf("demo password %q: want 20 letters and digits", pw)
	}
	port := s.LDAPS[strings.LastIndexByte(s.LDAPS, ':')+1:]
	pg := `hostssl all +immuta_user all ldap ldapserver=127.0.0.1 ldapscheme=ldaps ldapport=` + port +
		` ldapbasedn="ou=users,dc=example,dc=okta,dc=com" ldapsearchattribute=uid ldapbinddn="uid=ldap-bind,dc=example,dc=okta,dc=com" ldapbindpasswd="` + pw + `"`
	for _, want := range []string{
		"base DN:     dc=example,dc=okta,dc=com",
		"users:       ou=users,dc=example,dc=okta,dc=com",
		"bind DN:     uid=ldap-bind,dc=example,dc=okta,dc=com",
		"LDAPTLS_CACERT=" + s.CAFile + " ldapsearch -H ldaps://" + s.LDAPS + ` -x -D "uid=ldap-bind,dc=example,dc=okta,dc=com" -w '` + pw + `' -b "ou=users,dc=example,dc=okta,dc=com" "(uid=alice)"`,
		"\n  " + pg + "\n",
		"CA:          " + s.CAFile,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(s.stderr.String(), pw) {
		t.Error("the demo password in the logs")
	}

	credFile := filepath.Join(data, credentialsFile)
	fi, err := os.Stat(credFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	creds, _ := os.ReadFile(credFile)
	for _, login := range []string{"ldap-bind", "admin", "alice", "bob", "carol", "dave"} {
		if !regexp.MustCompile(`(?m)^` + login + `\s+[A-Za-z0-9]{20}\s`).Match(creds) {
			t.Errorf("credentials file lacks %s:\n%s", login, creds)
		}
	}
	if !strings.Contains(string(creds), pg) {
		t.Errorf("credentials file lacks the pg_hba.conf line:\n%s", creds)
	}
	for _, f := range []string{"ca-key.pem", "server-key.pem"} {
		if fi, err := os.Stat(filepath.Join(data, "tls", f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fi, err)
		}
	}

	// The reference documents' bind: no ou=users in the DN.
	l := s.ldaps(t, "uid=ldap-bind,dc=example,dc=okta,dc=com", pw)
	es, err := search(l, "ou=users,dc=example,dc=okta,dc=com", "(uid=alice)", "mail", "title", "memberOf")
	if err != nil || len(es) != 1 {
		t.Fatalf("search alice: %v %v", es, err)
	}
	if es[0].GetAttributeValue("mail") != "alice@example.com" || es[0].GetAttributeValue("title") == "" {
		t.Errorf("alice: %+v", es[0])
	}
	if mo := es[0].GetAttributeValues("memberOf"); len(mo) != 2 {
		t.Errorf("alice memberOf %v", mo)
	}
	es, err = search(l, "ou=groups,dc=example,dc=okta,dc=com", "(cn=immuta_users)", "uniqueMember")
	if err != nil || len(es) != 1 || len(es[0].GetAttributeValues("uniqueMember")) != 3 {
		t.Fatalf("immuta_users: %v %v", es, err)
	}
	// A demo user signs in with the password from the file.
	alicePW := regexp.MustCompile(`(?m)^alice\s+(\S+)`).FindSubmatch(creds)[1]
	s.ldaps(t, "uid=alice,ou=users,dc=example,dc=okta,dc=com", string(alicePW))

	caBefore, _ := os.ReadFile(s.CAFile)
	s.stop()

	// A later start reuses the TLS files, creates no second demo, and
	// names the credentials file instead of printing the password.
	s2 := startServe(t, c, data)
	out2 := s2.stdout.String()
	if strings.Contains(out2, pw) || !strings.Contains(out2, "password:    in "+credFile) || !strings.Contains(out2, `ldapbindpasswd="<bind password from `+credFile+`>"`) {
		t.Errorf("second banner:\n%s", out2)
	}
	if caAfter, _ := os.ReadFile(s2.CAFile); string(caAfter) != string(caBefore) {
		t.Error("the CA changed on restart")
	}
	if strings.Contains(s2.stderr.String(), "created the demo org") || strings.Contains(s2.stderr.String(), "issued a server certificate") {
		t.Errorf("second start redid the setup:\n%s", s2.stderr)
	}
	l2 := s2.ldaps(t, "uid=ldap-bind,dc=example,dc=okta,dc=com", pw)
	if es, err := search(l2, "dc=example,dc=okta,dc=com", "(objectClass=inetOrgPerson)", "uid"); err != nil || len(es) != 6 {
		t.Errorf("users after restart: %d %v", len(es), err)
	}
}

func TestServeOwnCertificate(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	// Use a generated pair from another directory as "the operator's".
	other := t.TempDir()
	s0 := startServe(t, c, other, "--no-demo")
	ca := s0.CAFile
	s0.stop()
	s := startServe(t, c, data, "--no-demo",
		"--tls-cert", filepath.Join(other, "tls", "server.pem"), "--tls-key", filepath.Join(other, "tls", "server-key.pem"))
	if _, err := os.Stat(filepath.Join(data, "tls")); !os.IsNotExist(err) {
		t.Error("serve generated TLS files despite --tls-cert")
	}
	s.CAFile = ca
	l, err := goldap.DialURL("ldaps://"+s.LDAPS, goldap.DialWithTLSConfig(s.tlsConfig(t)))
	if err != nil {
		t.Fatalf("LDAPS with the operator's certificate: %v", err)
	}
	l.Close()
}

func TestServeListenErrors(t *testing.T) {
	c := newCLI(t)
	s := startServe(t, c, t.TempDir(), "--no-demo")
	c.fails(1, "cannot listen on "+s.HTTP+" for HTTP", "", "serve", "--data", t.TempDir(), "--no-demo",
		"--ldap", "127.0.0.1:0", "--ldaps", "127.0.0.1:0", "--http", s.HTTP)
	c.fails(2, "both --ldap and --ldaps are off", "", "serve", "--data", t.TempDir(), "--no-demo", "--ldap", "", "--ldaps", "", "--http", "")
	c.fails(2, "would send API tokens in clear", "", "serve", "--data", t.TempDir(), "--no-demo", "--http", "0.0.0.0:0", "--http-plaintext")
	c.fails(2, "--public-url must be an absolute http(s) URL", "", "serve", "--data", t.TempDir(), "--no-demo", "--public-url", "dirgate.example.com")
}

// TestServeHTTP: HTTPS by default (with the generated CA), plain HTTP when
// asked for on loopback; the REST API answers below /api/ either way.
func TestServeHTTP(t *testing.T) {
	c := newCLI(t)
	s := startServe(t, c, t.TempDir(), "--no-demo")
	if code, body := s.get(t, "/api/v1/users"); code != 401 || !strings.Contains(body, "E0000011") {
		t.Errorf("GET /api/v1/users without a token over HTTPS: %d %s", code, body)
	}
	if resp, err := http.Get("http://" + s.HTTP + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP answered 200 on the HTTPS address")
		}
	}
	p := startServe(t, c, t.TempDir(), "--no-demo", "--http-plaintext")
	resp, err := http.Get("http://" + p.HTTP + "/api/v1/users")
	if err != nil {
		t.Fatalf("plain HTTP with --http-plaintext: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("plain HTTP /api/v1/users: %d, want 401", resp.StatusCode)
	}
}

// TestServeConfigFile sets the listen addresses from a config file and
// the log level from the environment.
func TestServeConfigFile(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "dirgate.yaml")
	os.WriteFile(cfg, []byte("data: "+data+"\nldaps: 127.0.0.1:0\nldap: ''\nhttp: ''\nno-demo: true\nhostname: [localhost, 127.0.0.1, ldap.test]\n"), 0o600)
	c.env["DIRGATE_LOG_LEVEL"] = "debug"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up := make(chan *listening, 1)
	done := make(chan int, 1)
	var stderr syncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, serving: func(l *listening) { up <- l },
		lookupEnv: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }}
	go func() { done <- run(ctx, []string{"serve", "--config", cfg}, a) }()
	var l *listening
	select {
	case l = <-up:
	case code := <-done:
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if l.LDAP != "" || l.HTTP != "" || l.LDAPS == "" {
		t.Errorf("listening %+v", l)
	}
	if !strings.Contains(stderr.String(), "level=DEBUG") {
		t.Error("DIRGATE_LOG_LEVEL=debug not applied")
	}
	cancel()
	<-done
	pemBytes, _ := os.ReadFile(filepath.Join(data, "tls", "server.pem"))
	if !strings.Contains(certNames(t, pemBytes), "ldap.test") {
		t.Error("the certificate lacks the --hostname from the file")
	}
}

func certNames(t *testing.T, pemBytes []byte) string {
	t.Helper()
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		t.Fatal("no PEM certificate")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(c.DNSNames, ",")
}

// TestServeLimitFlags: the LDAP server's limits are serve flags: a lower
// size limit and per-address connection cap take effect, and a value that
// cannot work is refused at start.
func TestServeLimitFlags(t *testing.T) {
	c := newCLI(t)
	s := startServe(t, c, t.TempDir(), "--ldap-size-limit", "2", "--ldap-max-connections-per-ip", "2")
	m := regexp.MustCompile(`(?m)^  password:\s+(\S+)$`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no password in the banner:\n%s", s.stdout)
	}
	l := s.ldaps(t, "uid=ldap-bind,dc=example,dc=okta,dc=com", m[1])
	entries, err := search(l, "ou=users,dc=example,dc=okta,dc=com", "(objectClass=inetOrgPerson)", "uid")
	if !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) || len(entries) > 2 {
		t.Errorf("unpaged search over 2 entries: %d entries, %v; want sizeLimitExceeded after 2", len(entries), err)
	}
	s.ldaps(t, "uid=ldap-bind,dc=example,dc=okta,dc=com", m[1]) // the second, kept open
	// A third connection from 127.0.0.1 is closed at once.
	third, err := goldap.DialURL("ldaps://"+s.LDAPS, goldap.DialWithTLSConfig(s.tlsConfig(t)))
	if err == nil {
		defer third.Close()
		if err = third.Bind("uid=ldap-bind,dc=example,dc=okta,dc=com", m[1]); err == nil {
			t.Error("a third connection from one address was served with --ldap-max-connections-per-ip 2")
		}
	}
	c.fails(2, "--ldap-max-message must be at least 1024", "", "serve", "--data", t.TempDir(), "--no-demo",
		"--ldap", "127.0.0.1:0", "--ldaps", "127.0.0.1:0", "--http", "", "--ldap-max-message", "100")
}
