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
