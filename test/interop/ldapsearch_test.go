// Package interop drives dirgate's LDAP server with real clients. The tests
// here run OpenLDAP's ldapsearch against a server holding a small in-test
// directory; they are skipped when ldapsearch is missing, except in CI
// (CI=true) where its absence is a failure.
package interop

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

const (
	aliceDN = "uid=alice,ou=users," + suffix
	alicePW = "alice-password"
	// cmdTimeout bounds one ldapsearch run so a hung server fails the test
	// instead of hanging it; it is not a performance assertion.
	cmdTimeout = 60 * time.Second
)

type env struct {
	ldapURL, ldapsURL string
	caFile            string
	home              string
}

func requireLdapsearch(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ldapsearch"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ldapsearch not found on PATH (apt-get install ldap-utils)")
		}
		t.Skip("ldapsearch not found on PATH (apt-get install ldap-utils)")
	}
}

// startServer runs the server on 127.0.0.1 with a fresh self-signed
// certificate that ldapsearch is told to trust.
func startServer(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	certPEM, keyPEM, err := ldapserver.GenerateSelfSigned([]string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{caFile: filepath.Join(dir, "ca.pem"), home: dir}
	if err := os.WriteFile(e.caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := ldapserver.LoadCertSource(e.caFile, filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ldapserver.NewServer(ldapserver.Config{
		Backend:   newMemBackend(),
		TLSConfig: src.TLSConfig(),
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.ldapURL = "ldap://" + l.Addr().String()
	e.ldapsURL = "ldaps://" + tl.Addr().String()
	go srv.Serve(l)
	go srv.ServeTLS(tl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return e
}

type result struct {
	code   int // exit code
	stdout string
	stderr string
}

// wantFailure fails t unless r is a failure whose output says text.
func (r result) wantFailure(t *testing.T, what, text string) {
	t.Helper()
	if r.code == 0 || !strings.Contains(r.stderr+r.stdout, text) {
		t.Errorf("%s: exit %d, want a failure saying %q:\n%s%s", what, r.code, text, r.stdout, r.stderr)
	}
}

// wantSuccess stops t unless r succeeded.
func (r result) wantSuccess(t *testing.T, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d:\n%s%s", what, r.code, r.stdout, r.stderr)
	}
}

// ldapsearch runs the real client with the test CA trusted and no user
// configuration in the way.
func (e *env) ldapsearch(t *testing.T, args ...string) result {
	t.Helper()
	return e.ldapTool(t, "ldapsearch", "", args...)
}

// ldapCommand is one of OpenLDAP's clients set up as ldapTool runs it.
func (e *env) ldapCommand(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = append(os.Environ(),
		"LDAPTLS_CACERT="+e.caFile,
		"LDAPTLS_REQCERT=demand",
		"HOME="+e.home, // no ~/.ldaprc
		"LDAPRC=/nonexistent",
	)
	return cmd
}

// ldapTool runs one of OpenLDAP's clients (ldapsearch, ldappasswd,
// ldapmodify, ldapwhoami) as ldapsearch does, with stdin as its input.
func (e *env) ldapTool(t *testing.T, tool, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.ldapCommand(ctx, tool, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s %v: %v", tool, args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within %v", tool, args, cmdTimeout)
	}
	return r
}

// dns returns the DNs in ldapsearch -LLL output, sorted.
func dns(out string) []string {
	var d []string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "dn: "); ok {
			d = append(d, v)
		}
	}
	sort.Strings(d)
	return d
}

// bound is the argument list of a bind as alice plus the given search.
func bound(url string, extra ...string) []string {
	return append([]string{"-LLL", "-x", "-H", url, "-D", aliceDN, "-w", alicePW}, extra...)
}

func TestLdapsearchScopes(t *testing.T) {
	requireLdapsearch(t)
	e := startServer(t)
	users := make([]string, len(userNames))
	for i, u := range userNames {
		users[i] = "uid=" + u + ",ou=users," + suffix
	}
	sort.Strings(users)

	tests := []struct {
		name  string
		url   string
		extra []string // without -ZZ on ldap:// nothing works
		args  []string
		want  []string
	}{
		{"ldaps base", e.ldapsURL, nil, []string{"-b", "ou=users," + suffix, "-s", "base"}, []string{"ou=users," + suffix}},
		{"ldaps one", e.ldapsURL, nil, []string{"-b", suffix, "-s", "one"}, []string{"ou=groups," + suffix, "ou=users," + suffix}},
		{"ldaps sub users", e.ldapsURL, nil, []string{"-b", suffix, "-s", "sub", "(objectClass=inetOrgPerson)"}, users},
		{"ldaps sub equality", e.ldapsURL, nil, []string{"-b", suffix, "(uid=carol)"}, []string{"uid=carol,ou=users," + suffix}},
		{"ldaps sub and/substring", e.ldapsURL, nil, []string{"-b", suffix, "(&(objectClass=person)(mail=*ice@acme*))"}, []string{aliceDN}},
		{"ldaps DN case and spaces", e.ldapsURL, nil, []string{"-b", "OU=Groups, DC=Acme,DC=okta,DC=com", "-s", "one"}, []string{"cn=admins,ou=groups," + suffix, "cn=everyone,ou=groups," + suffix}},
		{"StartTLS sub", e.ldapURL, []string{"-ZZ"}, []string{"-b", suffix, "-s", "sub", "(objectClass=inetOrgPerson)"}, users},
		{"StartTLS one", e.ldapURL, []string{"-ZZ"}, []string{"-b", "ou=groups," + suffix, "-s", "one", "(cn=*)"}, []string{"cn=admins,ou=groups," + suffix, "cn=everyone,ou=groups," + suffix}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(bound(tc.url, tc.extra...), tc.args...)
			r := e.ldapsearch(t, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if got := dns(r.stdout); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got DNs\n%v\nwant\n%v", got, tc.want)
			}
		})
	}

	t.Run("attributes", func(t *testing.T) {
		r := e.ldapsearch(t, append(bound(e.ldapsURL), "-b", aliceDN, "-s", "base", "mail", "userPassword")...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "mail: alice@acme.example") || strings.Contains(r.stdout, "userPassword") || strings.Contains(r.stdout, "title:") {
			t.Fatalf("attribute selection:\n%s", r.stdout)
		}
	})
	t.Run("no such base", func(t *testing.T) {
		r := e.ldapsearch(t, append(bound(e.ldapsURL), "-b", "ou=nope,"+suffix)...)
		if r.code != int(ldap.NoSuchObject) || !strings.Contains(r.stderr, "No such object") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
}

func TestLdapsearchPaged(t *testing.T) {
	requireLdapsearch(t)
	e := startServer(t)
	for _, url := range []string{e.ldapsURL, e.ldapURL} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			extra := []string{"-E", "pr=2/noprompt"}
			if strings.HasPrefix(url, "ldap:") {
				extra = append(extra, "-ZZ")
			}
			// Without -LLL ldapsearch prints each page's result, so the
			// pages can be counted: 13 entries in pages of 2 is 7 pages.
			args := append([]string{"-x", "-H", url, "-D", aliceDN, "-w", alicePW}, extra...)
			r := e.ldapsearch(t, append(args, "-b", suffix, "(objectClass=*)")...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := dns(r.stdout)
			if len(got) != 13 {
				t.Fatalf("paged search returned %d entries, want all 13:\n%s", len(got), r.stdout)
			}
			for i := 1; i < len(got); i++ {
				if got[i] == got[i-1] {
					t.Fatalf("entry %s returned twice", got[i])
				}
			}
			if pages := strings.Count(r.stdout, "\nresult: 0 Success"); pages != 7 {
				t.Fatalf("%d pages, want 7:\n%s", pages, r.stdout)
			}
			if cookies := strings.Count(r.stdout, "pagedresults: cookie="); cookies < 6 {
				t.Fatalf("%d paged results cookies, want at least 6", cookies)
			}
		})
	}
}

func TestLdapsearchErrors(t *testing.T) {
	requireLdapsearch(t)
	e := startServer(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"wrong password", []string{"-LLL", "-x", "-H", e.ldapsURL, "-D", aliceDN, "-w", "wrong", "-b", suffix}, 49, "Invalid credentials"},
		{"unknown user", []string{"-LLL", "-x", "-H", e.ldapsURL, "-D", "uid=mallory,ou=users," + suffix, "-w", "x", "-b", suffix}, 49, "Invalid credentials"},
		{"plaintext", []string{"-LLL", "-x", "-H", e.ldapURL, "-D", aliceDN, "-w", alicePW, "-b", suffix}, 13, "Confidentiality required"},
		{"anonymous search", []string{"-LLL", "-x", "-H", e.ldapsURL, "-b", suffix}, 50, "Insufficient access"},
		{"SASL", []string{"-LLL", "-H", e.ldapsURL, "-Y", "PLAIN", "-U", "alice", "-w", "x", "-b", suffix}, 7, "Authentication method not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.ldapsearch(t, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestHostileClientsDuringSearches runs raw TCP clients that send garbage,
// an oversized message, or half a message and vanish, concurrently with
// ldapsearch searches over LDAPS and StartTLS, which must all succeed.
func TestHostileClientsDuringSearches(t *testing.T) {
	requireLdapsearch(t)
	e := startServer(t)
	plainAddr := strings.TrimPrefix(e.ldapURL, "ldap://")
	tlsAddr := strings.TrimPrefix(e.ldapsURL, "ldaps://")

	hostile := []struct {
		name string
		run  func() error
	}{
		{"garbage", func() error {
			return expectNotice(plainAddr, nil, []byte("\x30\x03\x02\x01\x01\xff\xfe\xfd garbage that is not BER"))
		}},
		{"garbage over TLS", func() error {
			return expectNotice(tlsAddr, &tls.Config{InsecureSkipVerify: true}, []byte("\x30\x05\x02\x01\x01\x42\x7f"))
		}},
		{"oversized", func() error {
			// A SEQUENCE announcing 64 MiB; the server refuses on the header.
			return expectNotice(plainAddr, nil, []byte{0x30, 0x84, 0x04, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01})
		}},
		{"disconnect mid-message", func() error {
			nc, err := net.Dial("tcp", plainAddr)
			if err != nil {
				return err
			}
			// The start of a 200-octet bind request, then gone.
			_, err = nc.Write([]byte{0x30, 0x81, 0xc8, 0x02, 0x01, 0x01, 0x60, 0x81, 0xc2, 0x02, 0x01, 0x03})
			nc.Close()
			return err
		}},
	}

	const rounds = 5
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	stop := make(chan struct{})
	for _, h := range hostile {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for { // at least once, then until the searches are done
				if err := h.run(); err != nil {
					errs <- errors.New(h.name + ": " + err.Error())
					return
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	var searches sync.WaitGroup
	results := make(chan result, 2*rounds)
	for i := 0; i < rounds; i++ {
		for _, args := range [][]string{
			bound(e.ldapsURL, "-b", suffix, "(objectClass=*)"),
			bound(e.ldapURL, "-ZZ", "-E", "pr=3/noprompt", "-b", suffix, "(objectClass=*)"),
		} {
			searches.Add(1)
			go func() {
				defer searches.Done()
				results <- e.ldapsearch(t, args...)
			}()
		}
	}
	searches.Wait()
	close(stop)
	wg.Wait()
	close(results)
	close(errs)
	n := 0
	for r := range results {
		n++
		if r.code != 0 || len(dns(r.stdout)) != 13 {
			t.Errorf("search during hostile traffic: exit %d, %d entries, stderr %q", r.code, len(dns(r.stdout)), r.stderr)
		}
	}
	if n != 2*rounds {
		t.Fatalf("%d searches finished, want %d", n, 2*rounds)
	}
	for err := range errs {
		t.Error(err)
	}
}

// expectNotice sends b and checks that the server answers with a Notice of
// Disconnection (protocolError) and closes.
func expectNotice(addr string, tc *tls.Config, b []byte) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	var nc net.Conn
	var err error
	if tc != nil {
		nc, err = tls.DialWithDialer(&d, "tcp", addr, tc)
	} else {
		nc, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	defer nc.Close()
	// Deadline only so a server bug fails instead of hanging the test.
	nc.SetDeadline(time.Now().Add(cmdTimeout))
	if _, err := nc.Write(b); err != nil {
		return err
	}
	br := bufio.NewReader(nc)
	m, err := ber.ReadMessage(br, 1<<16)
	if err != nil {
		return errors.New("no notice of disconnection: " + err.Error())
	}
	r := ber.NewReader(m)
	seq, err := r.Enter(ber.TagSequence)
	if err != nil {
		return err
	}
	if id, err := seq.Int(ber.TagInteger); err != nil || id != 0 {
		return errors.New("notice does not have message ID 0")
	}
	x, err := seq.Enter(ldap.TagExtendedResponse)
	if err != nil {
		return err
	}
	code, err := x.Int(ber.TagEnumerated)
	if err != nil || ldap.ResultCode(code) != ldap.ProtocolError {
		return errors.New("notice result is not protocolError")
	}
	if _, err := br.ReadByte(); err != io.EOF && !isConnReset(err) {
		return errors.New("connection not closed after the notice")
	}
	return nil
}

func isConnReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}
