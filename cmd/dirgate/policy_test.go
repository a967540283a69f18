package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const policyFile = `kind: sign-on
name: MFA over LDAP
priority: 1
people:
  groups: {include: [Everyone]}
  users: {exclude: [ldap-bind]}
rules:
  - name: LDAP needs MFA
    priority: 1
    conditions: {authType: ldap}
    action: mfa
---
kind: password
name: Strong
priority: 1
people: {groups: {include: [Everyone]}}
settings:
  minLength: 12
  history: 4
  lockout: {maxAttempts: 5, autoUnlockMinutes: 30}
`

func TestPolicies(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	g := func(args ...string) []string { return append(args, "--data", data, "--org", "acme") }
	c.ok("", g("user", "create", "--login", "ldap-bind", "--service-account")...)
	if out := c.ok("", g("policy", "list")...); !strings.Contains(out, "built-in defaults apply") {
		t.Errorf("empty list: %q", out)
	}
	file := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(file, []byte(policyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("", g("policy", "apply", "-f", file)...); out != "created: sign-on/MFA over LDAP, password/Strong\n" {
		t.Errorf("apply: %q", out)
	}
	if out := c.ok("", g("policy", "apply", "-f", file)...); out != "unchanged: sign-on/MFA over LDAP, password/Strong\n" {
		t.Errorf("re-apply: %q", out)
	}
	c.fails(1, "already exists", "", g("policy", "create", "-f", file)...)

	// What list writes as YAML applies back unchanged (version control).
	yaml := c.ok("", g("policy", "list", "--output", "yaml")...)
	if out := c.ok(yaml, g("policy", "apply", "-f", "-")...); out != "unchanged: password/Strong, sign-on/MFA over LDAP\n" {
		t.Errorf("apply of the listed YAML: %q\n%s", out, yaml)
	}
	table := c.ok("", g("policy", "list")...)
	if !strings.Contains(table, "sign-on") || !strings.Contains(table, "MFA over LDAP") || !strings.Contains(table, "Strong") {
		t.Errorf("table: %q", table)
	}

	// Errors: a bad file says where; an unknown user is refused.
	c.fails(1, "line 3", "kind: sign-on\nname: x\npriority: one\n", g("policy", "apply", "-f", "-")...)
	c.fails(1, "ghost", strings.ReplaceAll(policyFile, "ldap-bind", "ghost"), g("policy", "apply", "-f", "-")...)
	c.fails(2, "--kind must be sign-on or password", "", g("policy", "delete", "--kind", "login", "--name", "x")...)

	if out := c.ok("", g("policy", "delete", "--kind", "password", "--name", "strong")...); out != "deleted password policy strong\n" {
		t.Errorf("delete: %q", out)
	}
	c.fails(1, "no password policy named", "", g("policy", "delete", "--kind", "password", "--name", "strong")...)
}
