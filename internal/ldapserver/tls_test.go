package ldapserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

func TestGenerateSelfSigned(t *testing.T) {
	certPEM, keyPEM, err := ldapserver.GenerateSelfSigned([]string{"127.0.0.1", "localhost", "::1"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("key pair: %v", err)
	}
	blk, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("key is %T, want ECDSA P-256", cert.PublicKey)
	}
	if len(cert.IPAddresses) != 2 || !cert.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || len(cert.DNSNames) != 1 || cert.DNSNames[0] != "localhost" {
		t.Fatalf("SANs: %v %v", cert.IPAddresses, cert.DNSNames)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	for _, name := range []string{"127.0.0.1", "localhost"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if !cert.NotAfter.After(time.Now().Add(23*time.Hour)) || cert.NotBefore.After(time.Now()) {
		t.Errorf("validity %v – %v", cert.NotBefore, cert.NotAfter)
	}
	for _, bad := range []struct {
		hosts []string
		d     time.Duration
	}{{nil, time.Hour}, {[]string{"x"}, 0}} {
		if _, _, err := ldapserver.GenerateSelfSigned(bad.hosts, bad.d); err == nil {
			t.Errorf("GenerateSelfSigned(%v, %v) succeeded", bad.hosts, bad.d)
		}
	}
}

func writePair(t *testing.T, dir string) *big.Int {
	t.Helper()
	certPEM, keyPEM, err := ldapserver.GenerateSelfSigned([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Write to temporary names and rename, as deployment tools do, so a
	// handshake never reads a half-written pair.
	for name, b := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM} {
		tmp := filepath.Join(dir, name+".tmp")
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	blk, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber
}

// servedSerial performs an ldaps:// handshake and returns the serial of the
// certificate the server presented.
func servedSerial(t *testing.T, addr string) *big.Int {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	serial1 := writePair(t, dir)
	src, err := ldapserver.LoadCertSource(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(c *ldapserver.Config) { c.TLSConfig = src.TLSConfig() })
	if got := servedSerial(t, ts.tlsAddr); got.Cmp(serial1) != 0 {
		t.Fatalf("served serial %v, want %v", got, serial1)
	}

	t.Run("explicit Reload", func(t *testing.T) {
		src.SetCheckInterval(time.Hour) // only Reload may pick the change up
		serial2 := writePair(t, dir)
		if err := src.Reload(); err != nil {
			t.Fatal(err)
		}
		if got := servedSerial(t, ts.tlsAddr); got.Cmp(serial2) != 0 {
			t.Fatalf("served serial %v, want %v", got, serial2)
		}
	})
	t.Run("file change", func(t *testing.T) {
		src.SetCheckInterval(0)
		serial3 := writePair(t, dir)
		if got := servedSerial(t, ts.tlsAddr); got.Cmp(serial3) != 0 {
			t.Fatalf("served serial %v, want %v", got, serial3)
		}
	})
	t.Run("broken files keep the old certificate", func(t *testing.T) {
		src.SetCheckInterval(0)
		before := servedSerial(t, ts.tlsAddr)
		if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte("not a key"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := src.Reload(); err == nil {
			t.Fatal("Reload of a broken key succeeded")
		}
		if src.LastError() == nil {
			t.Error("LastError is nil after a failed reload")
		}
		if got := servedSerial(t, ts.tlsAddr); got.Cmp(before) != 0 {
			t.Fatalf("served serial changed to %v after a failed reload", got)
		}
	})
	t.Run("StartTLS sees the new certificate", func(t *testing.T) {
		serial := writePair(t, dir)
		rc := dialRaw(t, ts.addr)
		rc.send(extendedReq(1, ldap.OIDStartTLS))
		rc.expectResult(1, ldap.TagExtendedResponse, ldap.Success)
		tc := tls.Client(rc.nc, &tls.Config{InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		if got := tc.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(serial) != 0 {
			t.Fatalf("served serial %v, want %v", got, serial)
		}
	})
}

func TestTLSMinimumVersion(t *testing.T) {
	ts := startServer(t, nil)
	_, err := tls.Dial("tcp", ts.tlsAddr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err == nil {
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	c, err := tls.Dial("tcp", ts.tlsAddr, &tls.Config{RootCAs: ts.roots, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2: %v", err)
	}
	c.Close()
}

func TestLoadCertSourceErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ldapserver.LoadCertSource(filepath.Join(dir, "none.pem"), filepath.Join(dir, "none.key")); err == nil {
		t.Fatal("missing files loaded")
	}
}
