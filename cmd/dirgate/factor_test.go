package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/totp"
)

var uriRE = regexp.MustCompile(`(?m)^uri: +(otpauth://\S+)$`)

// enrol runs factor enroll and returns the URI's secret (base32).
func enrol(t *testing.T, c *cli, args ...string) (out, secret string) {
	t.Helper()
	out = c.ok("", append([]string{"factor", "enroll"}, args...)...)
	m := uriRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("enroll printed no otpauth:// URI:\n%s", out)
	}
	u, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	secret = u.Query().Get("secret")
	if secret == "" || !strings.Contains(out, "secret: "+secret+"\n") || u.Query().Get("issuer") != "dirgate (acme)" || u.Path != "/dirgate (acme):alice" {
		t.Fatalf("enroll output:\n%s", out)
	}
	return out, secret
}

// wrongCode returns a well-formed code that no step near now has.
func wrongCode(t *testing.T, b32 string) string {
	t.Helper()
	secret, err := totp.DecodeSecret(b32)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for s := -3; s <= 3; s++ {
		used[totp.Code(secret, time.Now().Add(time.Duration(s)*totp.Period))] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !used[c] {
			return c
		}
	}
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Fatalf("%s has mode %04o, want %04o", path, fi.Mode().Perm(), want)
	}
}

// oathtoolCode is the current code of secret from OATH Toolkit's oathtool,
// an implementation independent of dirgate's. Without oathtool the test is
// skipped, unless CI=true.
func oathtoolCode(t *testing.T, secret string) string {
	t.Helper()
	bin, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("oathtool is not installed (Debian package oathtool)")
		}
		t.Skip("oathtool is not installed (Debian package oathtool)")
	}
	out, err := exec.Command(bin, "--totp", "-b", secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestFactorCLI(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	wantMode(t, filepath.Join(data, "secret.key"), 0o600) // created on first use (init)
	u := func(args ...string) []string {
		return append(args, "--data", data, "--org", "acme", "--login", "alice")
	}
	c.ok("alice-password\n", u("user", "create", "--password-stdin")...)

	qr := filepath.Join(t.TempDir(), "alice.png")
	out, secret := enrol(t, c, u("--qr", qr)...)
	if !strings.Contains(out, "PENDING_ACTIVATION") {
		t.Fatalf("enroll output:\n%s", out)
	}
	wantMode(t, qr, 0o600)
	if png, err := os.ReadFile(qr); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("QR file: %v", err)
	}

	r := c.fails(1, "the TOTP code is wrong or expired", "", u("factor", "activate", "--code", wrongCode(t, secret))...)
	if strings.Contains(r.stderr, secret) {
		t.Fatalf("stderr shows the secret: %s", r.stderr)
	}
	c.fails(1, "the TOTP code is wrong or expired", "", u("factor", "activate", "--code", "12ab56")...)
	c.fails(2, `required flag(s) "code" not set`, "", u("factor", "activate")...)
	if out := c.ok("", u("factor", "list")...); !strings.Contains(out, "PENDING_ACTIVATION") || strings.Contains(out, secret) {
		t.Fatalf("list after failed activations:\n%s", out)
	}

	// Enrolling again replaces the pending factor (and its secret).
	_, secret = enrol(t, c, u()...)
	code := totp.Code(mustDecode(t, secret), time.Now())
	if out := c.ok("", u("factor", "activate", "--code", code)...); !strings.HasPrefix(out, "activated the TOTP factor of alice (00f") {
		t.Fatalf("activate output %q", out)
	}
	out = c.ok("", u("factor", "list", "--output", "json")...)
	if !strings.Contains(out, `"status": "ACTIVE"`) || !strings.Contains(out, `"activated"`) || strings.Contains(out, secret) || strings.Contains(out, "v1:") {
		t.Fatalf("list --output json:\n%s", out)
	}
	c.fails(1, "already has an active TOTP factor", "", u("factor", "enroll")...)
	c.fails(1, "already active", "", u("factor", "activate", "--code", code)...)

	if out := c.ok("", u("factor", "reset")...); out != "reset the factors of alice: 1 deleted\n" {
		t.Fatalf("reset output %q", out)
	}
	if out := c.ok("", u("factor", "list")...); strings.Contains(out, "TOTP") || strings.Contains(out, "totp") {
		t.Fatalf("list after reset:\n%s", out)
	}
	c.fails(1, `no user "bob"`, "", "factor", "enroll", "--data", data, "--org", "acme", "--login", "bob")
}

func mustDecode(t *testing.T, b32 string) []byte {
	t.Helper()
	s, err := totp.DecodeSecret(b32)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFactorOathtool enrols, and activates with a code that oathtool
// computes from the secret the URI carries.
func TestFactorOathtool(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	u := func(args ...string) []string {
		return append(args, "--data", data, "--org", "acme", "--login", "alice")
	}
	c.ok("", u("user", "create")...)
	_, secret := enrol(t, c, u()...)
	code := oathtoolCode(t, secret)
	c.ok("", u("factor", "activate", "--code", code)...)
	if out := c.ok("", u("factor", "list")...); !strings.Contains(out, "ACTIVE") {
		t.Fatalf("list:\n%s", out)
	}
}

func TestSecretKeySources(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	u := func(args ...string) []string {
		return append(args, "--data", data, "--org", "acme", "--login", "alice")
	}
	c.ok("", u("user", "create")...)
	_, secret := enrol(t, c, u()...)

	// Another key (from DIRGATE_SECRET_KEY) cannot open the secret sealed
	// with the key file's.
	raw := make([]byte, 32)
	rand.Read(raw)
	c.env["DIRGATE_SECRET_KEY"] = hex.EncodeToString(raw)
	c.fails(1, "could not open the TOTP secret", "", u("factor", "activate", "--code", totp.Code(mustDecode(t, secret), time.Now()))...)
	// With the environment's key a new enrolment works.
	_, secret = enrol(t, c, u()...)
	c.ok("", u("factor", "activate", "--code", totp.Code(mustDecode(t, secret), time.Now()))...)
	c.fails(2, "DIRGATE_SECRET_KEY and --secret-key-file both give the secret key", "", u("factor", "list", "--secret-key-file", filepath.Join(data, "other.key"))...)
	c.env["DIRGATE_SECRET_KEY"] = "not a key"
	c.fails(1, "DIRGATE_SECRET_KEY: sealed: key is not base64 or hex", "", u("factor", "list")...)
	delete(c.env, "DIRGATE_SECRET_KEY")

	// --secret-key-file (or DIRGATE_SECRET_KEY_FILE) names another file,
	// created mode 0600 on first use.
	other := filepath.Join(t.TempDir(), "keys", "dirgate.key")
	c.env["DIRGATE_SECRET_KEY_FILE"] = other
	c.ok("", u("factor", "list")...)
	wantMode(t, other, 0o600)
	delete(c.env, "DIRGATE_SECRET_KEY_FILE")

	// A key file others may read is refused.
	if err := os.Chmod(filepath.Join(data, "secret.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.fails(1, "group and other must have no access", "", u("factor", "list")...)
}
