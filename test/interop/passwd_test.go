package interop

import (
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
	fails := func(what string, r result, text string) {
		t.Helper()
		if r.code == 0 || !strings.Contains(r.stderr+r.stdout, text) {
			t.Errorf("%s: exit %d, want a failure saying %q:\n%s%s", what, r.code, text, r.stdout, r.stderr)
		}
	}
	succeeds := func(what string, r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d:\n%s%s", what, r.code, r.stdout, r.stderr)
		}
	}

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
