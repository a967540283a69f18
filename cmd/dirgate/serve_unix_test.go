//go:build unix

package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dirgate/dirgate/internal/tlsboot"
)

// TestServeSIGHUP: SIGHUP renews the generated certificate when it must
// be (here: its files are gone) and serves the new one without a restart.
func TestServeSIGHUP(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	s := startServe(t, c, data, "--no-demo")
	serial := func() string {
		t.Helper()
		conn, err := tls.Dial("tcp", s.LDAPS, s.tlsConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	os.Remove(filepath.Join(data, "tls", "server.pem"))
	os.Remove(filepath.Join(data, "tls", "server-key.pem"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new certificate after SIGHUP", func() error {
		if !strings.Contains(s.stderr.String(), "trigger=SIGHUP") {
			return fmt.Errorf("no reload logged yet")
		}
		if after := serial(); after == before {
			return fmt.Errorf("still serial %s", after)
		}
		return nil
	})
	if !strings.Contains(s.stderr.String(), `reason="no server certificate yet"`) {
		t.Errorf("renewal not logged:\n%s", s.stderr)
	}
}

// TestServeReloadsChangedCertFiles: --tls-cert/--tls-key replaced on disk
// (as Kubernetes swaps a renewed Secret's files) are served without a
// SIGHUP or a restart (the certificate source looks every 5 s).
func TestServeReloadsChangedCertFiles(t *testing.T) {
	issue := func() *tlsboot.Result {
		r, err := tlsboot.Ensure(tlsboot.Options{Dir: t.TempDir(), Hosts: []string{"127.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first, second := issue(), issue()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	install := func(r *tlsboot.Result) {
		for from, to := range map[string]string{r.CertFile: cert, r.KeyFile: key} {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to+".new", b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(to+".new", to); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(first)
	c := newCLI(t)
	s := startServe(t, c, t.TempDir(), "--no-demo", "--tls-cert", cert, "--tls-key", key)
	issuer := func() string {
		t.Helper()
		conn, err := tls.Dial("tcp", s.LDAPS, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return string(conn.ConnectionState().PeerCertificates[0].AuthorityKeyId)
	}
	before := issuer()
	install(second)
	eventually(t, "the replaced certificate served", func() error {
		if after := issuer(); after == before {
			return fmt.Errorf("still the first certificate")
		}
		return nil
	})
}
