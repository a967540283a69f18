package interop

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

const strongPasswordPolicy = `kind: password
name: Strong
priority: 1
people: {groups: {include: [Everyone]}}
settings: {minLength: 12, minNumber: 1, history: 3}
`

// TestLdappasswd changes passwords with OpenLDAP's ldappasswd (RFC 3062
// Password Modify) and ldapmodify (userPassword) against dirgate serve,
// over LDAPS and StartTLS: a user changes its own with the old one, under
// the password policy; an ORG_ADMIN sets another's or has one generated;
// the read-only bind account cannot; plain LDAP is refused; the system
// log has each change by its actor and no password.
func TestLdappasswd(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Ops-password-1\n", "user", "create", "--data", data, "--org", "example", "--login", "ops",
		"--role", "ORG_ADMIN", "--password-stdin")
	mustDirgate(t, strongPasswordPolicy, "policy", "apply", "--data", data, "--org", "example", "-f", "-")
	s := startDirgate(t, data, "--no-demo")
	opsDN, bobDN := "uid=ops,"+exUsers, "uid=bob,"+exUsers

	passwd := func(url, dn, pw string, args ...string) result {
		all := append([]string{"-x", "-H", url, "-D", dn, "-w", pw}, args...)
		if strings.HasPrefix(url, "ldap://") {
			all = append([]string{"-ZZ"}, all...)
		}
		return s.ldapTool(t, "ldappasswd", "", all...)
	}
	whoami := func(dn, pw string) bool {
		return s.ldapTool(t, "ldapwhoami", "", "-x", "-H", s.ldapsURL, "-D", dn, "-w", pw).code == 0
	}
	fails := func(what string, r result, text string) { t.Helper(); r.wantFailure(t, what, text) }
	succeeds := func(what string, r result) { t.Helper(); r.wantSuccess(t, what) }

	// Own password: the old one is required and checked, the policy holds.
	fails("no old password", passwd(s.ldapsURL, aliceExD, "alice-password", "-s", "Alice-Second-1"), "takes your current one")
	fails("wrong old password", passwd(s.ldapsURL, aliceExD, "alice-password", "-a", "not-it", "-s", "Alice-Second-1"), "old password is wrong")
	fails("too weak", passwd(s.ldapsURL, aliceExD, "alice-password", "-a", "alice-password", "-s", "short"), "Constraint violation")
	fails("too weak, said why", passwd(s.ldapsURL, aliceExD, "alice-password", "-a", "alice-password", "-s", "short"), "at least 12 characters")
	plain := s.ldapTool(t, "ldappasswd", "", "-x", "-H", s.ldapURL, "-D", aliceExD, "-w", "alice-password", "-a", "alice-password", "-s", "Alice-Second-1")
	fails("over plain LDAP", plain, "Confidentiality required")
	succeeds("own change over LDAPS", passwd(s.ldapsURL, aliceExD, "alice-password", "-a", "alice-password", "-s", "Alice-Second-1"))
	if whoami(aliceExD, "alice-password") || !whoami(aliceExD, "Alice-Second-1") {
		t.Fatal("after the change the old password still binds, or the new one does not")
	}
	succeeds("own change over StartTLS", passwd(s.ldapURL, aliceExD, "Alice-Second-1", "-a", "Alice-Second-1", "-s", "Alice-Third-22"))
	fails("a password in the history", passwd(s.ldapsURL, aliceExD, "Alice-Third-22", "-a", "Alice-Third-22", "-s", "Alice-Second-1"), "Constraint violation")

	// Another user's password.
	fails("the read-only bind account", passwd(s.ldapsURL, bindDN, bindPW, "-s", "Bob-By-Bind-11", bobDN), "Insufficient access")
	fails("a plain user", passwd(s.ldapsURL, aliceExD, "Alice-Third-22", "-s", "Bob-By-Alice-1", bobDN), "Insufficient access")
	succeeds("an ORG_ADMIN sets it", passwd(s.ldapsURL, opsDN, "Ops-password-1", "-s", "Bob-By-Ops-11", bobDN))
	if !whoami(bobDN, "Bob-By-Ops-11") {
		t.Fatal("bob does not bind with the password ops set")
	}
	r := passwd(s.ldapsURL, opsDN, "Ops-password-1", bobDN) // no -s: the server generates one
	succeeds("a generated password", r)
	m := regexp.MustCompile(`New password: (\S+)`).FindStringSubmatch(r.stdout)
	if m == nil || len(m[1]) < 16 {
		t.Fatalf("no generated password of 16 or more characters in:\n%s", r.stdout)
	}
	if !whoami(bobDN, m[1]) {
		t.Fatal("bob does not bind with the generated password")
	}

	// userPassword by ldapmodify: delete the old value, add the new one.
	modify := func(dn, pw, ldif string) result {
		return s.ldapTool(t, "ldapmodify", ldif, "-x", "-H", s.ldapsURL, "-D", dn, "-w", pw)
	}
	succeeds("ldapmodify of one's own userPassword", modify(aliceExD, "Alice-Third-22",
		"dn: "+aliceExD+"\nchangetype: modify\ndelete: userPassword\nuserPassword: Alice-Third-22\n-\nadd: userPassword\nuserPassword: Alice-Fourth-333\n-\n"))
	if !whoami(aliceExD, "Alice-Fourth-333") {
		t.Fatal("alice does not bind with the password ldapmodify set")
	}
	fails("ldapmodify of another attribute", modify(aliceExD, "Alice-Fourth-333",
		"dn: "+aliceExD+"\nchangetype: modify\nreplace: mail\nmail: a@example.org\n-\n"), "read-only but for passwords")
	succeeds("an admin replaces userPassword", modify(opsDN, "Ops-password-1",
		"dn: "+bobDN+"\nchangetype: modify\nreplace: userPassword\nuserPassword: Bob-Replaced-44\n-\n"))
	if !whoami(bobDN, "Bob-Replaced-44") {
		t.Fatal("bob does not bind with the password ops replaced")
	}

	// The system log, once serve has written its queue.
	s.stop(t)
	events := mustDirgate(t, "", "logs", "--data", data, "--org", "example", "--filter", `eventType eq "user.account.update_password"`, "--output", "json")
	for _, actorTarget := range [][2]string{{"alice", "alice"}, {"ops", "bob"}} {
		re := regexp.MustCompile(`"actor":\{[^}]*"alternateId":"` + actorTarget[0] + `"[^}]*\}.*"target":\[\{[^}]*"alternateId":"` + actorTarget[1] + `"`)
		if !re.MatchString(events) {
			t.Errorf("no update_password event by %s for %s in:\n%s", actorTarget[0], actorTarget[1], events)
		}
	}
	for _, pw := range []string{"Alice-Second-1", "Alice-Third-22", "Alice-Fourth-333", "Bob-By-Ops-11", "Bob-Replaced-44", m[1]} {
		if strings.Contains(events, pw) || strings.Contains(s.out.String(), pw) {
			t.Errorf("a password (%q) is in a log", pw)
		}
	}
}

// TestPasswordPolicyControlTools: OpenLDAP's clients with `-e ppolicy`
// parse every password policy response dirgate sends (Okta's makes SSSD
// fail its binds) and print what it says: nothing on a plain success, an
// expired password that must be changed (the bind then lets only the
// change through), a locked account to whoever knew the password, and why
// a new password was refused.
func TestPasswordPolicyControlTools(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, strings.Replace(strongPasswordPolicy, "history: 3}", "history: 3, lockout: {maxAttempts: 2}}", 1), "policy", "apply", "--data", data, "--org", "example", "-f", "-")
	mustDirgate(t, "", "user", "expire-password", "--data", data, "--org", "example", "--login", "alice")
	s := startDirgate(t, data, "--no-demo")
	bobDN := "uid=bob," + exUsers
	tool := func(name, dn, pw string, args ...string) result {
		return s.ldapTool(t, name, "", append([]string{"-e", "ppolicy", "-x", "-H", s.ldapsURL, "-D", dn, "-w", pw}, args...)...)
	}
	out := func(r result) string { return r.stdout + r.stderr }

	expect := func(what string, r result, code int, texts ...string) {
		t.Helper()
		if r.code != code {
			t.Errorf("%s: exit %d, want %d:\n%s", what, r.code, code, out(r))
		}
		for _, text := range texts {
			if !strings.Contains(out(r), text) {
				t.Errorf("%s: no %q in:\n%s", what, text, out(r))
			}
		}
	}
	r := tool("ldapwhoami", bindDN, bindPW)
	expect("a plain bind", r, 0, "dn:uid=ldap-bind,")
	if strings.Contains(out(r), "ldap_bind:") {
		t.Errorf("a plain bind: a password policy message:\n%s", out(r))
	}
	expect("without the control, an expired password", s.ldapTool(t, "ldapwhoami", "", "-x", "-H", s.ldapsURL, "-D", aliceExD, "-w", "alice-password"),
		49, "Invalid credentials (49)")
	expect("an expired password", tool("ldapwhoami", aliceExD, "alice-password"), 0,
		"dn:uid=alice,", "ldap_bind: Success (0); Password must be changed")
	expect("a search before the change", tool("ldapsearch", aliceExD, "alice-password", "-b", exBase, "(uid=alice)", "1.1"), 50,
		"Password must be changed", "the password has expired: change it")
	expect("a weak new password", tool("ldappasswd", aliceExD, "alice-password", "-a", "alice-password", "-s", "short"), 1,
		"Constraint violation (19)", "ppolicy: error=5 (Password fails quality checks)")
	expect("a short new password", tool("ldappasswd", aliceExD, "alice-password", "-a", "alice-password", "-s", "short-but-1"), 1,
		"ppolicy: error=6 (Password is too short for policy)")
	expect("no old password", tool("ldappasswd", aliceExD, "alice-password", "-s", "Alice-Renewed-1"), 1,
		"ppolicy: error=4 (Policy requires old password in order to change password)")
	expect("the change", tool("ldappasswd", aliceExD, "alice-password", "-a", "alice-password", "-s", "Alice-Renewed-1"), 0)
	eventually(t, "the new password binds in full", func() error {
		r := tool("ldapsearch", aliceExD, "Alice-Renewed-1", "-LLL", "-b", exBase, "(uid=alice)", "1.1")
		if r.code != 0 || strings.Contains(out(r), "must be changed") {
			return fmt.Errorf("exit %d: %s", r.code, out(r))
		}
		return nil
	})
	expect("the current password again", tool("ldappasswd", aliceExD, "Alice-Renewed-1", "-a", "Alice-Renewed-1", "-s", "Alice-Renewed-1"), 1,
		"ppolicy: error=8 (New password is in list of old passwords)")

	// A locked account is told only to whoever gives its password.
	for i := 0; i < 2; i++ {
		tool("ldapwhoami", bobDN, "wrong-password")
	}
	r = tool("ldapwhoami", bobDN, "wrong-password")
	expect("locked, wrong password", r, 49, "Invalid credentials (49)")
	if strings.Contains(out(r), "Account locked") {
		t.Errorf("a wrong password was told the account is locked:\n%s", out(r))
	}
	expect("locked, right password", tool("ldapwhoami", bobDN, "bob-password"), 49, "Invalid credentials (49); Account locked")
	expect("an unknown user", tool("ldapwhoami", "uid=nobody,"+exUsers, "x-password"), 49, "Invalid credentials (49)")
}
