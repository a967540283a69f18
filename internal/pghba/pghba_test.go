package pghba

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	base = "dc=example,dc=okta,dc=com"
	bind = "uid=ldap-bind," + base
)

func kit() Kit {
	return Kit{Host: "ldap.example.com", LDAPSPort: 636, LDAPPort: 389, BaseDN: base, BindDN: bind, CAFile: "/data/tls/ca.pem"}
}

func TestLinesBothVariants(t *testing.T) {
	ls := kit().Lines()
	if len(ls) != 2 {
		t.Fatalf("%d lines, want 2", len(ls))
	}
	want := []string{
		`hostssl all +immuta_user all ldap ldapserver=ldap.example.com ldapscheme=ldaps ldapport=636 ldapbasedn="ou=users,` + base +
			`" ldapsearchattribute=uid ldapbinddn="` + bind + `" ldapbindpasswd="<password of ldap-bind>"`,
		`hostssl all +immuta_user all ldap ldapserver=ldap.example.com ldapscheme=ldap ldaptls=1 ldapport=389 ldapbasedn="ou=users,` + base +
			`" ldapsearchattribute=uid ldapbinddn="` + bind + `" ldapbindpasswd="<password of ldap-bind>"`,
	}
	for i, l := range ls {
		if l.Text != want[i] || l.String() != want[i] {
			t.Errorf("line %d:\n%s\nwant:\n%s", i, l.Text, want[i])
		}
	}
	if ls[0].StartTLS || ls[0].Port != 636 || ls[0].Via() != "LDAPS" || !ls[1].StartTLS || ls[1].Port != 389 || ls[1].Via() != "StartTLS" {
		t.Errorf("lines: %+v", ls)
	}

	for _, tc := range []struct {
		name      string
		ldaps, ld int
		want      []string // the variants, in order
	}{
		{"LDAPS only", 636, 0, []string{"ldapscheme=ldaps ldapport=636"}},
		{"StartTLS only", 0, 389, []string{"ldapscheme=ldap ldaptls=1 ldapport=389"}},
		{"both", 1636, 1389, []string{"ldapscheme=ldaps ldapport=1636", "ldapscheme=ldap ldaptls=1 ldapport=1389"}},
		{"off", 0, 0, nil},
	} {
		k := kit()
		k.LDAPSPort, k.LDAPPort = tc.ldaps, tc.ld
		ls := k.Lines()
		if len(ls) != len(tc.want) {
			t.Errorf("%s: %d lines, want %d", tc.name, len(ls), len(tc.want))
			continue
		}
		for i, l := range ls {
			if !strings.Contains(l.Text, " ldap ldapserver=ldap.example.com "+tc.want[i]+" ldapbasedn=") {
				t.Errorf("%s: line %d: %s", tc.name, i, l.Text)
			}
		}
	}
}

func TestFields(t *testing.T) {
	k := kit()
	k.IAMID, k.Database, k.Address = "okta", "immuta, analytics", "10.0.0.0/8"
	l := k.Lines()[0].Text
	if !strings.HasPrefix(l, "hostssl immuta,analytics +okta_user 10.0.0.0/8 ldap ") {
		t.Errorf("line: %s", l)
	}
	k.Database = "my db"
	if l := k.Lines()[0].Text; !strings.HasPrefix(l, `hostssl "my db" +okta_user 10.0.0.0/8 ldap `) {
		t.Errorf("a database name with a space: %s", l)
	}
	k = kit()
	k.Host = "ldap one.example.com"
	if l := k.Lines()[0].Text; !strings.Contains(l, ` ldapserver="ldap one.example.com" `) {
		t.Errorf("a host with a space: %s", l)
	}
	if p := (Kit{BindDN: `uid=a\,b,ou=users,` + base}).Placeholder(); p != `<password of a\,b>` {
		t.Errorf("placeholder %q", p)
	}
}

// unquote reads one pg_hba.conf option value back the way PostgreSQL's
// tokenizer does (hba.c next_token), from s just after "name=" to the
// next unquoted blank: the value, and the rest of s.
func unquote(t *testing.T, s string) (string, string) {
	t.Helper()
	var b strings.Builder
	in, wasQuote := false, false
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !in && (c == ' ' || c == '\t') {
			break
		}
		if !in && (c == ',' || c == '#') {
			t.Fatalf("unquoted %q in %s", c, s)
		}
		if c != '"' || wasQuote {
			b.WriteByte(c)
		}
		if in && c == '"' {
			wasQuote = !wasQuote
		} else {
			wasQuote = false
		}
		if c == '"' {
			in = !in
		}
	}
	if in {
		t.Fatalf("unterminated quote in %s", s)
	}
	return b.String(), s[i:]
}

// options reads a line's options (after " ldap ") as PostgreSQL does.
func options(t *testing.T, line string) map[string]string {
	t.Helper()
	_, rest, ok := strings.Cut(line, " ldap ")
	if !ok {
		t.Fatalf("no ldap method in %s", line)
	}
	out := map[string]string{}
	for rest = strings.TrimLeft(rest, " "); rest != ""; rest = strings.TrimLeft(rest, " ") {
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			t.Fatalf("option without a value at %q in %s", rest, line)
		}
		var v string
		v, rest = unquote(t, after)
		out[name] = v
	}
	return out
}

var awkward = []string{
	`pa"ss`, `two words`, `back\slash`, `trailing\`, `com,ma`, `hash#tag`, `x #y`, `""`, `"`,
	`it's: a "mix", of # all\ \"`, `tab	in`, `ünïcödé ✓`, `-leading dash`, `: colon`, `a: b`, `%pct`, `'quote'`,
}

func TestAwkwardPasswords(t *testing.T) {
	for _, pw := range awkward {
		k := kit()
		k.BindPassword = pw
		if err := k.Check(); err != nil {
			t.Errorf("Check(%q): %v", pw, err)
		}
		for _, l := range k.Lines() {
			if strings.HasSuffix(l.Text, `\`) {
				t.Errorf("%q: the line ends with a backslash (a continuation since PostgreSQL 16): %s", pw, l.Text)
			}
			opts := options(t, l.Text)
			if opts["ldapbindpasswd"] != pw {
				t.Errorf("password %q reads back as %q from %s", pw, opts["ldapbindpasswd"], l.Text)
			}
			if opts["ldapbinddn"] != bind || opts["ldapbasedn"] != "ou=users,"+base || opts["ldapserver"] != "ldap.example.com" {
				t.Errorf("%q: options %v", pw, opts)
			}
		}
		checkHelm(t, k)
	}
	if got := quoted(`a"b`); got != `"a""b"` {
		t.Errorf(`quoted(a"b) = %s`, got)
	}
}

// checkHelm checks Helm is YAML whose queryEngine.clientPgHBARules is the
// first line with database immuta, and that the commented alternative is
// the second once uncommented.
func checkHelm(t *testing.T, k Kit) {
	t.Helper()
	helm := k.Helm()
	var v struct {
		QueryEngine struct {
			ClientPgHBARules []string `yaml:"clientPgHBARules"`
		} `yaml:"queryEngine"`
	}
	if err := yaml.Unmarshal([]byte(helm), &v); err != nil {
		t.Fatalf("Helm is not YAML: %v\n%s", err, helm)
	}
	k.Database = HelmDatabase
	ls := k.Lines()
	if got := v.QueryEngine.ClientPgHBARules; len(got) != 1 || got[0] != ls[0].Text {
		t.Fatalf("clientPgHBARules = %q, want [%q]\n%s", got, ls[0].Text, helm)
	}
	if !strings.HasPrefix(ls[0].Text, "hostssl immuta +immuta_user all ldap ") {
		t.Errorf("the Helm line: %s", ls[0].Text)
	}
	if len(ls) < 2 {
		return
	}
	alt := strings.Replace(helm, "    # - ", "    - ", 1)
	if err := yaml.Unmarshal([]byte(alt), &v); err != nil {
		t.Fatalf("Helm with the alternative uncommented is not YAML: %v\n%s", err, alt)
	}
	if got := v.QueryEngine.ClientPgHBARules; len(got) != 2 || got[1] != ls[1].Text {
		t.Fatalf("the alternative = %q, want %q\n%s", got, ls[1].Text, helm)
	}
}

func TestHelm(t *testing.T) {
	k := kit()
	k.LDAPPort = 0
	rule := k.lines(HelmDatabase)[0].Text
	if want := "queryEngine:\n  clientPgHBARules:\n    - " + rule + "\n"; k.Helm() != want {
		t.Errorf("Helm:\n%s\nwant (plain, as Immuta writes it):\n%s", k.Helm(), want)
	}
	checkHelm(t, k)
	checkHelm(t, kit())
	k = kit()
	k.Database = "analytics"
	if !strings.Contains(k.Helm(), "- hostssl analytics +immuta_user") {
		t.Errorf("Database does not set the Helm line's: %s", k.Helm())
	}
	if (Kit{BaseDN: base}).Helm() != "" {
		t.Error("Helm without a listener")
	}
}

func TestYAMLScalar(t *testing.T) {
	for _, s := range append(awkward, "plain text", "a\x01b", "nel\u0085", "ls\u2028", "bom\ufeff", "emoji 😀", "- dash", "end:", "[x]") {
		var got []string
		doc := "- " + yamlScalar(s) + "\n"
		if err := yaml.Unmarshal([]byte(doc), &got); err != nil || len(got) != 1 || got[0] != s {
			t.Errorf("yamlScalar(%q) = %s: reads back %q, %v", s, yamlScalar(s), got, err)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Kit)
		want string
	}{
		{"newline in password", func(k *Kit) { k.BindPassword = "a\nb" }, "line break"},
		{"CR in bind DN", func(k *Kit) { k.BindDN = "uid=a\r" }, "line break"},
		{"not UTF-8", func(k *Kit) { k.BindPassword = "\xff" }, "not UTF-8"},
		{"no port", func(k *Kit) { k.LDAPSPort, k.LDAPPort = 0, 0 }, "no LDAPS or LDAP port"},
		{"port out of range", func(k *Kit) { k.LDAPSPort = 70000 }, "out of range"},
		{"IAM id with a space", func(k *Kit) { k.IAMID = "my iam" }, "IAM id"},
		{"address with a mask", func(k *Kit) { k.Address = "10.0.0.0 255.0.0.0" }, "address"},
		{"address list", func(k *Kit) { k.Address = "10.0.0.1,10.0.0.2" }, "address"},
		{"empty database in a list", func(k *Kit) { k.Database = "a,,b" }, "empty name"},
	} {
		k := kit()
		tc.edit(&k)
		if err := k.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check() = %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := kit().Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
}

func TestTextAndTrust(t *testing.T) {
	k := kit()
	txt := k.Text()
	for _, want := range []string{
		k.Lines()[0].Text + "\n", k.Lines()[1].Text + "\n", k.Helm(), k.Trust(),
		"Put the bind account's password in place of <password of ldap-bind>.",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("Text lacks %q:\n%s", want, txt)
		}
	}
	tr := k.Trust()
	for _, want := range []string{
		"TLS_CACERT /etc/ssl/dirgate-ca.pem", "/etc/ldap/ldap.conf", "LDAPTLS_CACERT", "/etc/postgresql/<version>/main/environment",
		"[Service]", "Environment=LDAPTLS_CACERT=", "Kubernetes", "--from-file=ca.pem=/data/tls/ca.pem",
		"ldapserver=ldap.example.com must be a name in dirgate's certificate", "ldapbindpasswd included",
		"/data/tls/ca.pem",
	} {
		if !strings.Contains(tr, want) {
			t.Errorf("Trust lacks %q:\n%s", want, tr)
		}
	}
	k.CAFile = ""
	if tr := k.Trust(); !strings.Contains(tr, "operator's own certificate") || strings.Contains(tr, "/data/tls") {
		t.Errorf("Trust with the operator's certificate:\n%s", tr)
	}
	k.BindPassword = "secret"
	if strings.Contains(k.Text(), "<password of") {
		t.Error("Text shows the placeholder with a password")
	}
	if txt := (Kit{}).Text(); !strings.Contains(txt, "off") {
		t.Errorf("Text with no listener: %s", txt)
	}
}
