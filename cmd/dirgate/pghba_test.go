package main

import (
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/dirgate/dirgate/internal/tlsboot"
)

func TestPgHBA(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	const base = "dc=acme,dc=okta,dc=com"
	u := func(args ...string) []string { return append(args, "--data", data, "--org", "acme") }
	c.ok("Bind-password-1\n", u("user", "create", "--login", "pg-bind", "--service-account", "--role", "READ_ONLY_ADMIN", "--password-stdin")...)
	c.ok("Alice-password-1\n", u("user", "create", "--login", "alice", "--password-stdin")...)

	// serve's defaults: localhost, LDAPS 1636, StartTLS 1389.
	out := c.ok("", u("pg-hba", "--bind-login", "pg-bind")...)
	opts := ` ldapbasedn="ou=users,` + base + `" ldapsearchattribute=uid ldapbinddn="uid=pg-bind,` + base + `" ldapbindpasswd="<password of pg-bind>"`
	ldaps := `hostssl all +immuta_user all ldap ldapserver=localhost ldapscheme=ldaps ldapport=1636` + opts
	startTLS := `hostssl all +immuta_user all ldap ldapserver=localhost ldapscheme=ldap ldaptls=1 ldapport=1389` + opts
	helmLine := strings.Replace(ldaps, "hostssl all ", "hostssl immuta ", 1)
	for _, want := range []string{
		"\n" + ldaps + "\n", "\n" + startTLS + "\n",
		"queryEngine:\n  clientPgHBARules:\n    - " + helmLine + "\n",
		"Put the bind account's password in place of <password of pg-bind>.",
		"LDAPTLS_CACERT", "TLS_CACERT", "operator's own certificate", // no DATA/tls yet
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pg-hba output lacks %q:\n%s", want, out)
		}
	}
	helm := out[strings.Index(out, "queryEngine:"):]
	helm = helm[:strings.Index(helm, "\n\n")+1]
	var v struct {
		QueryEngine struct {
			ClientPgHBARules []string `yaml:"clientPgHBARules"`
		} `yaml:"queryEngine"`
	}
	if err := yaml.Unmarshal([]byte(helm), &v); err != nil || len(v.QueryEngine.ClientPgHBARules) != 1 || v.QueryEngine.ClientPgHBARules[0] != helmLine {
		t.Errorf("the Helm value %q: %v\n%s", v.QueryEngine.ClientPgHBARules, err, helm)
	}

	// The real password, quoted as pg_hba.conf reads it.
	out = c.ok(`pa"ss word, #1`+"\n", u("pg-hba", "--bind-login", "pg-bind", "--bind-password-stdin", "--host", "ldap.acme.test",
		"--ldap-port", "0", "--iam-id", "okta", "--database", "analytics", "--address", "10.0.0.0/8")...)
	want := `hostssl analytics +okta_user 10.0.0.0/8 ldap ldapserver=ldap.acme.test ldapscheme=ldaps ldapport=1636 ldapbasedn="ou=users,` + base +
		`" ldapsearchattribute=uid ldapbinddn="uid=pg-bind,` + base + `" ldapbindpasswd="pa""ss word, #1"`
	if !strings.Contains(out, "\n"+want+"\n") || strings.Contains(out, "ldaptls=1") || strings.Contains(out, "<password of") {
		t.Errorf("pg-hba with a password:\n%s\nwant the line:\n%s", out, want)
	}

	// serve's settings from its environment, and its certificate.
	r, err := tlsboot.Ensure(tlsboot.Options{Dir: filepath.Join(data, "tls"), Hosts: []string{"ldap.acme.test", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	c.env["DIRGATE_LDAPS"] = "0.0.0.0:636"
	c.env["DIRGATE_LDAP"] = ""
	out = c.ok("", u("pg-hba", "--bind-login", "pg-bind")...)
	if !strings.Contains(out, "\nhostssl all +immuta_user all ldap ldapserver=ldap.acme.test ldapscheme=ldaps ldapport=636 ") ||
		strings.Contains(out, "ldaptls=1") || !strings.Contains(out, "--from-file=ca.pem="+r.CAFile) {
		t.Errorf("pg-hba with serve's environment and certificate:\n%s", out)
	}
	res := c.run("", u("pg-hba", "--bind-login", "pg-bind", "--host", "elsewhere.test")...)
	if res.code != 0 || !strings.Contains(res.stderr, "elsewhere.test is not a name in") {
		t.Errorf("a host not in the certificate: exit %d, stderr %q", res.code, res.stderr)
	}
	delete(c.env, "DIRGATE_LDAPS")
	delete(c.env, "DIRGATE_LDAP")

	// Refusals.
	c.fails(1, `no user "ldap-bind" in org acme to bind as`, "", u("pg-hba")...)
	c.fails(1, `no user "nobody" in org acme to bind as`, "", u("pg-hba", "--bind-login", "nobody")...)
	c.fails(1, "alice of org acme is a person, not a service account", "", u("pg-hba", "--bind-login", "alice")...)
	c.fails(1, `no org named "nope"`, "", "pg-hba", "--data", data, "--org", "nope", "--bind-login", "pg-bind")
	c.fails(2, "stdin holds no password", "\n", u("pg-hba", "--bind-login", "pg-bind", "--bind-password-stdin")...)
	c.fails(2, "both 0", "", u("pg-hba", "--bind-login", "pg-bind", "--ldaps-port", "0", "--ldap-port", "0")...)
	c.fails(2, "not one pg_hba.conf address", "", u("pg-hba", "--bind-login", "pg-bind", "--address", "10.0.0.0 255.0.0.0")...)
	if r := c.run("", "pg-hba", "--data", data, "--bind-login", "pg-bind", "--bind-password", "x"); r.code != 2 || !strings.Contains(r.stderr, "unknown flag: --bind-password") {
		t.Errorf("--bind-password: exit %d %q", r.code, r.stderr)
	}
}
