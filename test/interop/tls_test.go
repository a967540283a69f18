package interop

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTLSConfiguration drives OpenSSL's s_client at LDAPS, StartTLS on the
// plain LDAP port and HTTPS: TLS 1.0 and 1.1 are refused by the server
// (the client is told to offer them), TLS 1.2 takes only ECDHE with AEAD
// suites (CBC and RSA key exchange are refused), and TLS 1.3 works.
func TestTLSConfiguration(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found (apt-get install openssl)")
	}
	data := t.TempDir()
	setupExample(t, data)
	s := startDirgate(t, data, "--no-demo")
	ldap, _ := url.Parse(s.ldapURL)
	ldaps, _ := url.Parse(s.ldapsURL)
	https, _ := url.Parse(s.httpURL)
	endpoints := []struct {
		name string
		args []string
	}{
		{"LDAPS", []string{"-connect", ldaps.Host}},
		{"StartTLS", []string{"-connect", ldap.Host, "-starttls", "ldap"}},
		{"HTTPS", []string{"-connect", https.Host}},
	}
	// SECLEVEL=0 lets OpenSSL 3 offer what it would refuse by itself, so
	// that a refusal is the server's.
	const version, suite = "alert protocol version", "alert handshake failure"
	cases := []struct {
		name  string
		args  []string
		alert string // the server's refusal; "" for a handshake that works
	}{
		{"TLS 1.0", []string{"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"}, version},
		{"TLS 1.1", []string{"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}, version},
		{"TLS 1.2 ECDHE-ECDSA-AES128-SHA (CBC)", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"}, suite},
		{"TLS 1.2 ECDHE-ECDSA-AES256-SHA384 (CBC)", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0"}, suite},
		{"TLS 1.2 AES128-GCM-SHA256 (RSA key exchange)", []string{"-tls1_2", "-cipher", "AES128-GCM-SHA256:@SECLEVEL=0"}, suite},
		{"TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"}, ""},
		{"TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"}, ""},
		{"TLS 1.3", []string{"-tls1_3"}, ""},
	}
	for _, e := range endpoints {
		for _, c := range cases {
			args := append(append([]string{"s_client", "-brief", "-CAfile", s.caFile, "-servername", "127.0.0.1"}, e.args...), c.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			cmd := exec.CommandContext(ctx, "openssl", args...)
			cmd.Stdin = strings.NewReader("") // close at once after the handshake
			out, err := cmd.CombinedOutput()
			cancel()
			text := string(out)
			agreed := err == nil && strings.Contains(text, "Protocol version:")
			switch {
			case c.alert == "" && !agreed:
				t.Errorf("%s, %s: no handshake:\n%s", e.name, c.name, text)
			case c.alert == "" && !strings.Contains(text, "Verification: OK"):
				t.Errorf("%s, %s: the certificate did not verify against the CA:\n%s", e.name, c.name, text)
			case c.alert != "" && (agreed || !strings.Contains(text, c.alert)):
				t.Errorf("%s, %s: want the server's %q:\n%s", e.name, c.name, c.alert, text)
			}
		}
	}
}
