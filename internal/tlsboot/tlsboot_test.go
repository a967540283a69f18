package tlsboot

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var defaultHosts = []string{"localhost", "127.0.0.1"}

func ensure(t *testing.T, o Options) *Result {
	t.Helper()
	r, err := Ensure(o)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return r
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(read(t, name))
	if b == nil {
		t.Fatalf("%s: no PEM", name)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	r := ensure(t, Options{Dir: dir, Hosts: defaultHosts})
	if !r.CACreated || !r.Issued {
		t.Fatalf("first run: CACreated=%v Issued=%v, want both", r.CACreated, r.Issued)
	}
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{r.CAFile, 0o644}, {r.CAKeyFile, 0o600}, {r.CertFile, 0o644}, {r.KeyFile, 0o600}} {
		fi, err := os.Stat(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != f.mode {
			t.Errorf("%s mode %o, want %o", filepath.Base(f.name), got, f.mode)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %o, want 700", fi.Mode().Perm())
	}
	ca, srv := parseCert(t, r.CAFile), parseCert(t, r.CertFile)
	if !ca.IsCA || srv.IsCA {
		t.Errorf("IsCA: ca %v server %v", ca.IsCA, srv.IsCA)
	}
	if ca.PublicKeyAlgorithm != x509.ECDSA || srv.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithms %v %v, want ECDSA", ca.PublicKeyAlgorithm, srv.PublicKeyAlgorithm)
	}
	if !srv.NotAfter.Equal(r.NotAfter) {
		t.Errorf("NotAfter %v, result says %v", srv.NotAfter, r.NotAfter)
	}
	if _, err := tls.LoadX509KeyPair(r.CertFile, r.KeyFile); err != nil {
		t.Errorf("server pair does not load: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("dir holds %d files, want 4 (no temporary files left)", len(entries))
	}
}

// TestChainVerifies runs a real TLS handshake with the server pair and a
// client that trusts only ca.pem, for each name.
func TestChainVerifies(t *testing.T) {
	dir := t.TempDir()
	r := ensure(t, Options{Dir: dir, Hosts: defaultHosts})
	pair, err := tls.LoadX509KeyPair(r.CertFile, r.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(read(t, r.CAFile)) {
		t.Fatal("ca.pem does not parse")
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	for _, name := range []string{"localhost", "127.0.0.1"} {
		c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Errorf("handshake as %s: %v", name, err)
			continue
		}
		c.Close()
	}
	// A name the certificate does not hold is refused.
	if c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "other.example"}); err == nil {
		c.Close()
		t.Error("handshake as other.example succeeded")
	}
	// TLS 1.1 is refused by a server using TLS 1.2 as its minimum.
	if c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("TLS 1.1 handshake succeeded")
	}
}

func TestReuse(t *testing.T) {
	dir := t.TempDir()
	r1 := ensure(t, Options{Dir: dir, Hosts: defaultHosts})
	ca1, srv1 := read(t, r1.CAFile), read(t, r1.CertFile)
	r2 := ensure(t, Options{Dir: dir, Hosts: defaultHosts})
	if r2.CACreated || r2.Issued {
		t.Fatalf("second run: CACreated=%v Issued=%v (%s), want neither", r2.CACreated, r2.Issued, r2.Reason)
	}
	if !bytes.Equal(ca1, read(t, r2.CAFile)) || !bytes.Equal(srv1, read(t, r2.CertFile)) {
		t.Error("files changed on reuse")
	}
	// Reuse does not need the CA key.
	os.Remove(r1.CAKeyFile)
	if r3 := ensure(t, Options{Dir: dir, Hosts: []string{"127.0.0.1"}}); r3.Issued {
		t.Errorf("subset of hosts reissued: %s", r3.Reason)
	}
}

func TestRenew(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name       string
		later      Options
		wantCA     bool
		wantReason string
	}{
		{name: "expires within 30 days", later: Options{Now: func() time.Time { return now.Add(DefaultServerValidity - 29*24*time.Hour) }}, wantReason: "expires"},
		{name: "not yet due", later: Options{Now: func() time.Time { return now.Add(DefaultServerValidity - 31*24*time.Hour) }}},
		{name: "new host", later: Options{Hosts: []string{"localhost", "127.0.0.1", "ldap.example.com"}}, wantReason: "does not name ldap.example.com"},
		{name: "CA expiring", later: Options{Now: func() time.Time { return now.Add(DefaultCAValidity - 10*24*time.Hour) }}, wantCA: true, wantReason: "the CA is new"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r1 := ensure(t, Options{Dir: dir, Hosts: defaultHosts, Now: func() time.Time { return now }})
			ca1 := read(t, r1.CAFile)
			o := tc.later
			o.Dir = dir
			if o.Hosts == nil {
				o.Hosts = defaultHosts
			}
			r2 := ensure(t, o)
			if r2.CACreated != tc.wantCA {
				t.Errorf("CACreated = %v, want %v", r2.CACreated, tc.wantCA)
			}
			if r2.Issued != (tc.wantReason != "") || !strings.Contains(r2.Reason, tc.wantReason) {
				t.Errorf("Issued=%v Reason=%q, want reason containing %q", r2.Issued, r2.Reason, tc.wantReason)
			}
			if !tc.wantCA && !bytes.Equal(ca1, read(t, r2.CAFile)) {
				t.Error("CA replaced")
			}
			// Whatever happened, the pair on disk chains to the CA on disk
			// at that time.
			at := now
			if o.Now != nil {
				at = o.Now()
			}
			pool := x509.NewCertPool()
			pool.AddCert(parseCert(t, r2.CAFile))
			for _, h := range o.Hosts {
				if _, err := parseCert(t, r2.CertFile).Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: at}); err != nil {
					t.Errorf("verify %s: %v", h, err)
				}
			}
			if fi, _ := os.Stat(r2.KeyFile); fi.Mode().Perm() != 0o600 {
				t.Errorf("renewed key mode %o", fi.Mode().Perm())
			}
		})
	}
}

func TestMismatchedKeyReissues(t *testing.T) {
	dir := t.TempDir()
	r := ensure(t, Options{Dir: dir, Hosts: defaultHosts})
	// Put the CA key where the server key belongs.
	if err := os.WriteFile(r.KeyFile, read(t, r.CAKeyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	r2 := ensure(t, Options{Dir: dir, Hosts: defaultHosts})
	if !r2.Issued || !strings.Contains(r2.Reason, "does not match") {
		t.Fatalf("Issued=%v Reason=%q", r2.Issued, r2.Reason)
	}
	if _, err := tls.LoadX509KeyPair(r2.CertFile, r2.KeyFile); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	t.Run("no hosts", func(t *testing.T) {
		if _, err := Ensure(Options{Dir: t.TempDir()}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("corrupt CA", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, CAFile), []byte("not pem"), 0o644)
		_, err := Ensure(Options{Dir: dir, Hosts: defaultHosts})
		if err == nil || !strings.Contains(err.Error(), "ca.pem holds no PEM CERTIFICATE") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("CA key missing when reissuing", func(t *testing.T) {
		dir := t.TempDir()
		r := ensure(t, Options{Dir: dir, Hosts: defaultHosts})
		os.Remove(r.CAKeyFile)
		_, err := Ensure(Options{Dir: dir, Hosts: []string{"new.example"}})
		if err == nil || !strings.Contains(err.Error(), "CA key cannot be read") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("server certificate as CA", func(t *testing.T) {
		dir := t.TempDir()
		r := ensure(t, Options{Dir: dir, Hosts: defaultHosts})
		os.WriteFile(r.CAFile, read(t, r.CertFile), 0o644)
		_, err := Ensure(Options{Dir: dir, Hosts: defaultHosts})
		if err == nil || !strings.Contains(err.Error(), "not a CA") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestIPv6Host(t *testing.T) {
	r := ensure(t, Options{Dir: t.TempDir(), Hosts: []string{"::1", "[::1]"}})
	c := parseCert(t, r.CertFile)
	if len(c.IPAddresses) != 2 || !c.IPAddresses[0].Equal(net.ParseIP("::1")) {
		t.Errorf("IPs %v", c.IPAddresses)
	}
}
