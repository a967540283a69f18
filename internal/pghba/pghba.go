// Package pghba writes what PostgreSQL (and Immuta's Query Engine, which
// is PostgreSQL) needs to log its users in against dirgate with LDAP
// search+bind: the pg_hba.conf line, the same line as Immuta's Helm value
// queryEngine.clientPgHBARules, and how PostgreSQL's LDAP client must
// trust dirgate's certificate.
//
// The console's LDAP Interface page, the banner of `dirgate serve` and
// `dirgate pg-hba` all print it from here, so they cannot drift apart, and
// the one hard part, quoting values (a bind password with a quote, space,
// comma or # in it) the way PostgreSQL's pg_hba.conf tokenizer reads them
// back, is done once.
package pghba

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults of Kit's fields.
const (
	DefaultIAMID    = "immuta" // the group role is +immuta_user
	DefaultDatabase = "all"
	DefaultAddress  = "all"
	// HelmDatabase is the database field of the Helm value when Kit's
	// Database is empty: Immuta's query engine database, as Immuta's
	// example line has it.
	HelmDatabase = "immuta"
)

// Kit is what the lines are made of.
type Kit struct {
	// Host is the name PostgreSQL's LDAP client uses for dirgate: it must
	// be a name in dirgate's certificate.
	Host string
	// LDAPSPort and LDAPPort (StartTLS) are the listeners' ports; 0: that
	// listener is off.
	LDAPSPort, LDAPPort int
	// BaseDN is the org's base DN; users are under ou=users,BaseDN.
	BaseDN string
	// BindDN and BindPassword are the read-only bind service account's.
	// An empty password prints the placeholder "<password of LOGIN>".
	BindDN, BindPassword string
	// IAMID is the Immuta IAM id: the group role whose members may log in
	// is +<IAMID>_user. Default DefaultIAMID.
	IAMID string
	// Database is pg_hba.conf's database field: a name, a keyword (all,
	// sameuser, samerole, replication) or a comma-separated list of them.
	// Default DefaultDatabase for the lines, HelmDatabase for Helm.
	Database string
	// Address is pg_hba.conf's address field, default DefaultAddress:
	// narrow it to where PostgreSQL's clients are (e.g. 10.0.0.0/8).
	Address string
	// CAFile is where dirgate's CA certificate is, for Trust; "" when the
	// certificate is the operator's own.
	CAFile string
}

// Line is one pg_hba.conf record.
type Line struct {
	StartTLS bool // over StartTLS on the LDAP port; false: LDAPS
	Port     int
	Text     string // the record, one line
}

func (l Line) String() string { return l.Text }

// Via is "LDAPS" or "StartTLS".
func (l Line) Via() string {
	if l.StartTLS {
		return "StartTLS"
	}
	return "LDAPS"
}

// Check reports a value the lines cannot carry: a line break or NUL (a
// pg_hba.conf record is one line), text that is not UTF-8 (the Helm value
// is YAML), an IAM id or address that would need quoting (quoting takes
// away their meaning), a port out of range, or no port at all.
func (k Kit) Check() error {
	for _, f := range []struct{ name, v string }{
		{"host", k.Host}, {"base DN", k.BaseDN}, {"bind DN", k.BindDN}, {"bind password", k.BindPassword},
		{"IAM id", k.IAMID}, {"database", k.Database}, {"address", k.Address}, {"CA file", k.CAFile},
	} {
		if strings.ContainsAny(f.v, "\n\r\x00") {
			return fmt.Errorf("the %s holds a line break or NUL, which a pg_hba.conf line cannot", f.name)
		}
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("the %s is not UTF-8 text", f.name)
		}
	}
	for _, p := range []struct {
		name string
		port int
	}{{"LDAPS", k.LDAPSPort}, {"LDAP", k.LDAPPort}} {
		if p.port < 0 || p.port > 65535 {
			return fmt.Errorf("the %s port %d is out of range", p.name, p.port)
		}
	}
	if k.LDAPSPort == 0 && k.LDAPPort == 0 {
		return errors.New("no LDAPS or LDAP port: PostgreSQL has nothing to connect to")
	}
	// +"x y"_user would make the + literal: the IAM id must need no quotes.
	if id := k.iamID(); !isPlain(id, "-_.") {
		return fmt.Errorf("the IAM id %q may hold only letters, digits, '-', '_' and '.'", id)
	}
	if a := k.address(); !isPlain(a, "-_.:/") {
		return fmt.Errorf("the address %q is not one pg_hba.conf address (an IP address range such as 10.0.0.0/8, a host name, all, samehost or samenet)", a)
	}
	for _, db := range strings.Split(k.Database, ",") {
		if k.Database != "" && strings.TrimSpace(db) == "" {
			return fmt.Errorf("the database list %q has an empty name", k.Database)
		}
	}
	return nil
}

// Lines are the LDAPS line (ldapscheme=ldaps) and the StartTLS one
// (ldaptls=1 on the LDAP port), LDAPS first, for each listener that is on.
// They are alternatives: the lines match the same connections, and
// PostgreSQL uses the first line that matches and never falls back to the
// next, so pg_hba.conf gets one of them.
func (k Kit) Lines() []Line {
	db := k.Database
	if db == "" {
		db = DefaultDatabase
	}
	return k.lines(db)
}

func (k Kit) lines(db string) []Line {
	var out []Line
	if k.LDAPSPort != 0 {
		out = append(out, Line{Port: k.LDAPSPort, Text: k.line(db, "ldapscheme=ldaps", k.LDAPSPort)})
	}
	if k.LDAPPort != 0 {
		out = append(out, Line{StartTLS: true, Port: k.LDAPPort, Text: k.line(db, "ldapscheme=ldap ldaptls=1", k.LDAPPort)})
	}
	return out
}

// line is one record: hostssl DATABASE +ROLE ADDRESS ldap OPTIONS.
//
// Immuta's documented example (`hostssl immuta +<IAMID>_user ldap
// ldapserver=...`) has no address field, which pg_hba.conf rejects for a
// hostssl record ("end-of-line before IP address specification"): ours
// always has one.
func (k Kit) line(db, scheme string, port int) string {
	host := k.Host
	if host == "" {
		host = "<dirgate's host name>"
	}
	base := k.BaseDN
	if base == "" {
		base = "<base DN>"
	}
	bind := k.BindDN
	if bind == "" {
		bind = "<bind DN>"
	}
	return fmt.Sprintf("hostssl %s %s %s ldap ldapserver=%s %s ldapport=%d ldapbasedn=%s ldapsearchattribute=uid ldapbinddn=%s ldapbindpasswd=%s",
		databaseField(db), k.Role(), token(k.address()), token(host), scheme, port,
		quoted("ou=users,"+base), quoted(bind), quoted(k.password()))
}

// Role is the pg_hba.conf user field: +<IAMID>_user, the members of
// Immuta's group role.
func (k Kit) Role() string { return "+" + k.iamID() + "_user" }

func (k Kit) iamID() string {
	if k.IAMID == "" {
		return DefaultIAMID
	}
	return k.IAMID
}

func (k Kit) address() string {
	if k.Address == "" {
		return DefaultAddress
	}
	return k.Address
}

func (k Kit) password() string {
	if k.BindPassword != "" {
		return k.BindPassword
	}
	return k.Placeholder()
}

// Placeholder is what the lines hold for an empty BindPassword:
// "<password of LOGIN>", LOGIN from BindDN's uid=.
func (k Kit) Placeholder() string {
	return "<password of " + loginOf(k.BindDN) + ">"
}

// loginOf is the value of dn's first RDN when it is uid=, as written
// (escapes and all), else dn; "the bind account" for none.
func loginOf(dn string) string {
	if dn == "" {
		return "the bind account"
	}
	if len(dn) < 4 || !strings.EqualFold(dn[:4], "uid=") {
		return dn
	}
	v := dn[4:]
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case ',', '+':
			return v[:i]
		}
	}
	return v
}

// Quoting, as PostgreSQL's pg_hba.conf tokenizer (hba.c, next_token)
// reads it: fields are separated by blanks; an unquoted comma separates
// list items and an unquoted # starts a comment; inside double quotes
// blanks, commas and # are literal and "" is one ". Quoting a keyword
// (all, samenet, ...) or the + of a group role takes its meaning away.
// Backslashes are literal, except that since PostgreSQL 16 a backslash
// ending a line continues the record, even inside quotes: our records
// end with the closing quote of ldapbindpasswd, never with a backslash.

// quoted is v in double quotes, each " in it doubled.
func quoted(v string) string {
	return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
}

// token is v as it is when PostgreSQL reads it back unchanged, else quoted.
func token(v string) string {
	if isPlain(v, "-_.:/@+=") {
		return v
	}
	return quoted(v)
}

// databaseField is a comma-separated list of names and keywords, each
// quoted when it needs it.
func databaseField(db string) string {
	parts := strings.Split(db, ",")
	for i, p := range parts {
		parts[i] = token(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// isPlain reports whether v is non-empty ASCII letters, digits and the
// bytes of extra.
func isPlain(v, extra string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// Helm is the Immuta Helm chart's value queryEngine.clientPgHBARules: a
// YAML list of pg_hba.conf lines, here the first of Lines with the
// database "immuta" (Immuta's example; Database overrides it). A second
// line (StartTLS when LDAPS is on too) follows as a YAML comment, ready to
// use instead: in the list it would never match anything. "" when no
// listener is on.
func (k Kit) Helm() string {
	db := k.Database
	if db == "" {
		db = HelmDatabase
	}
	ls := k.lines(db)
	if len(ls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("queryEngine:\n  clientPgHBARules:\n    - " + yamlScalar(ls[0].Text) + "\n")
	for _, l := range ls[1:] {
		fmt.Fprintf(&b, "    # or over %s instead of %s (PostgreSQL never falls back to a later line):\n    # - %s\n",
			l.Via(), ls[0].Via(), yamlScalar(l.Text))
	}
	return b.String()
}

// yamlScalar is s as a YAML scalar in a block sequence: plain, as Immuta
// writes the line, unless something in it would change its meaning;
// single-quoted when it is printable ASCII; else double-quoted with
// escapes for what is not printable.
func yamlScalar(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			ascii = false
			break
		}
	}
	if !ascii {
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range s {
			switch {
			case r == '"' || r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff || !unicode.IsPrint(r) && r != ' ':
				if r > 0xffff {
					fmt.Fprintf(&b, `\U%08x`, r)
				} else {
					fmt.Fprintf(&b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
		return b.String()
	}
	plain := s != "" && s == strings.TrimSpace(s) && !strings.ContainsAny(s[:1], "!&*-?:,[]{}#|>@`\"'%") &&
		!strings.Contains(s, ": ") && !strings.Contains(s, " #") && !strings.HasSuffix(s, ":")
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// trustPath is where the recipes put the CA for PostgreSQL to read.
const trustPath = "/etc/ssl/dirgate-ca.pem"

// Trust says how PostgreSQL must trust dirgate's certificate, for LDAPS
// and StartTLS alike, and what PostgreSQL does with the line on a failed
// login.
func (k Kit) Trust() string {
	ca := k.CAFile
	host := k.Host
	if host == "" {
		host = "<dirgate's host name>"
	}
	var b strings.Builder
	p := func(s string) { b.WriteString(wrap(s, "", 78) + "\n") }
	code := func(lines ...string) {
		for _, l := range lines {
			b.WriteString("      " + l + "\n")
		}
	}
	if ca != "" {
		p("PostgreSQL's LDAP client (OpenLDAP's libldap) verifies dirgate's certificate, over LDAPS and StartTLS alike, " +
			"and refuses the login when it cannot: it must trust dirgate's CA, " + ca + ". " +
			"Copy it where the postgres user can read it, e.g. " + trustPath + ", then do one of these:")
	} else {
		ca = "<the CA certificate that issued dirgate's certificate>"
		p("dirgate serves the operator's own certificate. PostgreSQL's LDAP client (OpenLDAP's libldap) verifies it, " +
			"over LDAPS and StartTLS alike, and refuses the login when it cannot: it must trust the CA that issued it " +
			"(a system-wide TLS_CACERT may already name that CA). Copy that CA where the postgres user can read it, e.g. " +
			trustPath + ", then do one of these:")
	}
	b.WriteString("\n  * For every libldap client on the host: in /etc/ldap/ldap.conf\n    (/etc/openldap/ldap.conf on Red Hat and SUSE)\n")
	code("TLS_CACERT " + trustPath)
	b.WriteString("    New logins read it (PostgreSQL starts a process per connection); leave\n    TLS_REQCERT at its default, demand.\n")
	b.WriteString("\n  * For PostgreSQL only: LDAPTLS_CACERT in the postmaster's environment,\n    then restart PostgreSQL (a reload keeps the old environment).\n")
	b.WriteString("    Debian and Ubuntu (pg_ctlcluster): in /etc/postgresql/<version>/main/environment\n")
	code("LDAPTLS_CACERT = '" + trustPath + "'")
	b.WriteString("    Other systemd units: a drop-in (systemctl edit postgresql.service)\n")
	code("[Service]", "Environment=LDAPTLS_CACERT="+trustPath)
	b.WriteString("\n  * Kubernetes (Immuta's query engine): put the CA in a Secret or ConfigMap,\n" +
		"    mount it into the query engine's pod and set LDAPTLS_CACERT to the\n    mounted file in the query engine container's environment, e.g.\n")
	code("kubectl create secret generic dirgate-ca --from-file=ca.pem="+ca,
		"LDAPTLS_CACERT=/etc/dirgate/ca.pem   (with that secret mounted at /etc/dirgate)")
	b.WriteString("\n")
	p("ldapserver=" + host + " must be a name in dirgate's certificate (a DNS name or IP address in its subject " +
		"alternative names), or libldap refuses the server even with its CA trusted; `dirgate serve --hostname` " +
		"puts names in the certificate it generates.")
	b.WriteString("\n")
	p("When a login through the line fails, PostgreSQL writes the line to its server log, ldapbindpasswd included: " +
		"keep that log as private as pg_hba.conf, and give the bind account the READ_ONLY_ADMIN role only.")
	return b.String()
}

// Text is everything, as `dirgate pg-hba` prints it: the line(s), the Helm
// value and Trust.
func (k Kit) Text() string {
	ls := k.Lines()
	if len(ls) == 0 {
		return "The LDAP interface is off: neither LDAPS nor LDAP (StartTLS) listens, so PostgreSQL has nothing to log in against.\n"
	}
	var b strings.Builder
	p := func(s string) { b.WriteString(wrap(s, "", 78) + "\n\n") }
	p(fmt.Sprintf("pg_hba.conf line for PostgreSQL's LDAP search+bind against dirgate over %s (port %d):", ls[0].Via(), ls[0].Port))
	b.WriteString(ls[0].Text + "\n\n")
	for _, l := range ls[1:] {
		p(fmt.Sprintf("Or over %s (port %d), instead of the line above: PostgreSQL uses the first line that matches a connection and never falls back to the next.",
			l.Via(), l.Port))
		b.WriteString(l.Text + "\n\n")
	}
	db := k.Database
	if db == "" {
		db = DefaultDatabase
	}
	dbs, addr := "the database(s) "+db, "the address(es) "+k.address()
	if db == "all" {
		dbs = "any database"
	}
	if k.address() == "all" {
		addr = "any address"
	}
	narrow := ""
	if db == "all" || k.address() == "all" {
		narrow = " Narrow the database and address fields to what is needed (e.g. immuta and 10.0.0.0/8)."
	}
	p(fmt.Sprintf("It lets the members of the role %s (the group role of Immuta IAM id %q) log in to %s from %s, "+
		"PostgreSQL checking their passwords against dirgate (users under ou=users,%s).%s "+
		"PostgreSQL binds as %s to find the user: exempt that account from MFA in dirgate's sign-on policy.",
		strings.TrimPrefix(k.Role(), "+"), k.iamID(), dbs, addr, k.BaseDN, narrow, k.BindDN))
	if k.BindPassword == "" {
		p("Put the bind account's password in place of " + k.Placeholder() + ".")
	}
	if k.Database == "" {
		p("Immuta Helm values (queryEngine.clientPgHBARules), with Immuta's database " + HelmDatabase + " as in Immuta's example:")
	} else {
		p("Immuta Helm values (queryEngine.clientPgHBARules):")
	}
	b.WriteString(k.Helm() + "\n")
	p("Trusting dirgate's certificate:")
	b.WriteString(k.Trust())
	return b.String()
}

// wrap breaks s at spaces into lines of at most width bytes (a longer
// word stays whole), each after indent.
func wrap(s, indent string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
			b.WriteString(indent)
			n = len(indent)
		case n+1+len(w) > width:
			b.WriteString("\n" + indent)
			n = len(indent)
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
