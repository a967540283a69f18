package interop

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The reference documents' last step: MFA for everyone over LDAP, the bind
// service account exempt.
const mfaPolicyFile = `kind: sign-on
name: MFA for people over LDAP
priority: 1
people:
  groups: {include: [Everyone]}
  users: {exclude: [ldap-bind]}
rules:
  - name: LDAP needs MFA
    priority: 1
    conditions: {authType: ldap}
    action: mfa
`

// oathtool returns the TOTP code of a base32 secret for time t from OATH
// Toolkit's oathtool (not from dirgate's own code).
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	if _, err := exec.LookPath("oathtool"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("oathtool not found (apt-get install oathtool)")
		}
		t.Skip("oathtool not found (apt-get install oathtool)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "oathtool", "--totp", "-b", "-N", "@"+strconv.FormatInt(at.Unix(), 10), secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// enrolTOTP enrols and activates a TOTP factor for login through the CLI
// and returns its base32 secret.
func enrolTOTP(t *testing.T, data, login string) string {
	t.Helper()
	out := mustDirgate(t, "", "factor", "enroll", "--data", data, "--org", "example", "--login", login)
	m := regexp.MustCompile(`(?m)^secret: ([A-Z2-7]+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no secret in:\n%s", out)
	}
	// Activation takes the previous step's code, so the codes of the
	// current and next steps stay unused for the test.
	mustDirgate(t, "", "factor", "activate", "--data", data, "--org", "example", "--login", login,
		"--code", oathtool(t, m[1], time.Now().Add(-30*time.Second)))
	return m[1]
}

func TestMFAOverLDAPAndPostgres(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, mfaPolicyFile, "policy", "apply", "--data", data, "--org", "example", "-f", "-")
	secret := enrolTOTP(t, data, "alice")
	s := startDirgate(t, data, "--no-demo", "--log-level", "debug")

	bindAs := func(dn, pw string) result {
		return s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", dn, "-w", pw, "-b", exBase, "-s", "base", "1.1")
	}
	now := time.Now()
	code := oathtool(t, secret, now)
	for _, tc := range []struct {
		name, dn, pw string
		code         int
		diag         string
	}{
		{"password and code", aliceExD, "alice-password," + code, 0, ""},
		{"the same code again", aliceExD, "alice-password," + code, 49, "Authentication denied by sign on policy."},
		{"a wrong code", aliceExD, "alice-password,000000", 49, "Authentication denied by sign on policy."},
		{"no code", aliceExD, "alice-password", 49, "Authentication denied by sign on policy."},
		{"a wrong password with a code", aliceExD, "nope," + oathtool(t, secret, now.Add(30*time.Second)), 49, okta49},
		{"not enrolled", "uid=bob," + exUsers, "bob-password,123456", 49, "no enrolled"},
		{"the exempt service account", bindDN, bindPW, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bindAs(tc.dn, tc.pw)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.diag) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", r.code, r.stderr, tc.code, tc.diag)
			}
		})
	}

	// PostgreSQL search+bind: the bind account needs no code, the person does.
	pg := startPostgres(t, s.caFile, pgHBALDAP("immuta", "127.0.0.1", s.ldapsPort, exBase, bindDN, bindPW))
	pg.SuperSQL(t, `CREATE ROLE immuta_user NOLOGIN; CREATE ROLE alice LOGIN IN ROLE immuta_user;`)
	next := oathtool(t, secret, now.Add(30*time.Second))
	if out, ok := pg.Login(t, "alice", "alice-password"); ok {
		t.Fatalf("psql without a code logged in:\n%s", out)
	}
	if out, ok := pg.Login(t, "alice", "alice-password,"+next); !ok {
		t.Fatalf("psql with password,code refused:\n%s", out)
	}
	if out, ok := pg.Login(t, "alice", "alice-password,"+next); ok {
		t.Fatalf("psql with a replayed code logged in:\n%s", out)
	}

	// The system log has each attempt with its outcome and reason.
	s.stop(t) // writes the queued events
	events := mustDirgate(t, "", "logs", "--data", data, "--org", "example", "--filter", `eventType eq "user.authentication.auth_via_ldap"`)
	for _, want := range []string{
		"SUCCESS  alice ",
		"DENY  alice  alice  127.0.0.1  sign-on policy \"MFA for people over LDAP\", rule \"LDAP needs MFA\": MFA code wrong, expired or already used",
		"DENY  alice  alice  127.0.0.1  sign-on policy \"MFA for people over LDAP\", rule \"LDAP needs MFA\": MFA required and no code given",
		"FAILURE  alice  alice  127.0.0.1  wrong password",
		"DENY  bob  bob  127.0.0.1  sign-on policy \"MFA for people over LDAP\", rule \"LDAP needs MFA\": MFA required and no active factor",
		"SUCCESS  ldap-bind ",
	} {
		if !strings.Contains(events, want) {
			t.Errorf("the system log lacks %q:\n%s", want, events)
		}
	}
	// No secret in any log line of dirgate's: the server's own log (at
	// debug level) and the system log as JSON. (PostgreSQL's log is not
	// scanned: on a failed login it quotes its pg_hba.conf line, bind
	// password included; see README.)
	asJSON := mustDirgate(t, "", "logs", "--data", data, "--org", "example", "--output", "json")
	logs := map[string]string{"dirgate serve": s.out.String(), "system log": asJSON}
	for name, text := range logs {
		if text == "" {
			t.Errorf("%s: no log lines to scan", name)
		}
		for _, secretText := range []string{"alice-password", "bob-password", bindPW, secret, "," + code, "," + next} {
			if strings.Contains(text, secretText) {
				t.Errorf("%s log holds a secret (%q)", name, secretText)
			}
		}
	}
}
