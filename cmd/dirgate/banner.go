package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/pghba"
)

// banner is what serve prints on stdout once it listens: what a new user
// needs to connect. It is the one place a demo password is printed, on
// the first start only.
type banner struct {
	dataDir string
	// store names a PostgreSQL --store (no password), "" for SQLite in
	// dataDir; the commands the banner suggests then need --store too.
	store     string
	ldapAddr  string // bound addresses; "" when disabled
	ldapsAddr string
	httpAddr  string
	// httpPlaintext: --http serves plain HTTP, not HTTPS.
	httpPlaintext bool
	hostname      string // for URLs when the listener is a wildcard
	caFile        string // "" when the operator's certificate is used
	certFile      string
	plaintext     bool

	orgs         []*directory.Org
	demoBase     string // the demo org's base DN, "" without one
	bindPassword string // the demo bind password, on the first start only
	credFile     string
}

func (b *banner) bindDN() string { return "uid=" + demoBindUID + "," + b.demoBase }

// urlHost is the host to put in URLs for a bound address: its own, unless
// it listens on every address.
func (b *banner) urlHost(addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	p, _ := strconv.Atoi(port)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = b.hostname
	}
	return host, p
}

func (b *banner) url(scheme, addr string) string {
	if addr == "" {
		return ""
	}
	h, p := b.urlHost(addr)
	return scheme + "://" + net.JoinHostPort(h, strconv.Itoa(p))
}

func (b *banner) password() string {
	if b.bindPassword != "" {
		return b.bindPassword
	}
	return "<bind password from " + b.credFile + ">"
}

func (b *banner) ldapsearchExample() string {
	if b.demoBase == "" || (b.ldapsAddr == "" && b.ldapAddr == "") {
		return ""
	}
	var env, u, zz string
	if b.ldapsAddr != "" {
		u = b.url("ldaps", b.ldapsAddr)
	} else {
		u, zz = b.url("ldap", b.ldapAddr), " -ZZ"
	}
	ca := b.caFile
	if ca == "" {
		ca = "<the CA file that signed " + b.certFile + ">"
	}
	env = "LDAPTLS_CACERT=" + ca + " "
	return fmt.Sprintf(`%sldapsearch -H %s%s -x -D "%s" -w '%s' -b "ou=users,%s" "(uid=alice)"`,
		env, u, zz, b.bindDN(), b.password(), b.demoBase)
}

// pgHBALine is a pg_hba.conf line for PostgreSQL's LDAP search+bind
// against the demo org (package pghba's), over LDAPS, else StartTLS.
func (b *banner) pgHBALine() string {
	if b.demoBase == "" {
		return ""
	}
	k := pghba.Kit{BaseDN: b.demoBase, BindDN: b.bindDN(), BindPassword: b.password()}
	switch {
	case b.ldapsAddr != "":
		k.Host, k.LDAPSPort = b.urlHost(b.ldapsAddr)
	case b.ldapAddr != "":
		k.Host, k.LDAPPort = b.urlHost(b.ldapAddr)
	default:
		return ""
	}
	if ls := k.Lines(); len(ls) > 0 {
		return ls[0].Text
	}
	return ""
}

func (b *banner) write(w io.Writer) {
	var s strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&s, "  %-12s %s\n", k, v)
		}
	}
	s.WriteString("\ndirgate is serving\n")
	line("LDAPS:", b.url("ldaps", b.ldapsAddr))
	if b.ldapAddr != "" {
		how := "(StartTLS required)"
		if b.plaintext {
			how = "(plaintext allowed: for loopback testing only)"
		}
		line("LDAP:", b.url("ldap", b.ldapAddr)+" "+how)
	}
	if b.httpAddr != "" {
		scheme := "https"
		if b.httpPlaintext {
			scheme = "http"
		}
		h := b.url(scheme, b.httpAddr)
		line("Console:", h+"/console/ (everyone signs in with org, login and password; admins get the admin pages)")
		line("REST API:", h+"/api/v1/ (Authorization: SSWS <token>; dirgate token create)")
		line("HTTP:", h+"/healthz "+h+"/readyz "+h+"/metrics")
	}
	if b.caFile != "" {
		line("CA:", b.caFile+" (trust it: LDAPTLS_CACERT="+b.caFile+")")
	} else {
		line("cert:", b.certFile)
	}
	line("data:", b.dataDir)
	storeFlag := ""
	if b.store != "" {
		line("store:", b.store)
		storeFlag = " --store URL" // the URL serve was given: the banner never shows a password
	}
	if b.demoBase == "" {
		if len(b.orgs) == 0 {
			s.WriteString("\nNo orgs yet. Create one:\n  dirgate init --data " + b.dataDir + storeFlag + " --org NAME\n")
		} else {
			s.WriteString("\nOrgs:\n")
			for _, o := range b.orgs {
				fmt.Fprintf(&s, "  %-12s %s\n", o.Name, directory.BaseDN(o))
			}
		}
		s.WriteString("\nAn LDAP bind account (e.g. for pg_hba.conf):\n  dirgate user create --data " + b.dataDir + storeFlag +
			" --org NAME --login ldap-bind --service-account --role READ_ONLY_ADMIN --password-stdin\n\n")
		io.WriteString(w, s.String())
		return
	}
	fmt.Fprintf(&s, "\nDemo org %q\n", demoOrg)
	line("base DN:", b.demoBase)
	line("users:", "ou=users,"+b.demoBase)
	line("groups:", "ou=groups,"+b.demoBase)
	line("bind DN:", b.bindDN())
	if b.bindPassword != "" {
		line("password:", b.bindPassword)
		line("", "(this and the demo users' passwords are in "+b.credFile+"; it is printed only now)")
	} else {
		line("password:", "in "+b.credFile)
	}
	if ex := b.ldapsearchExample(); ex != "" {
		s.WriteString("\nTry it:\n  " + ex + "\n")
	}
	if pg := b.pgHBALine(); pg != "" {
		s.WriteString("\npg_hba.conf line for PostgreSQL LDAP search+bind (PostgreSQL's libldap must trust the CA too;\n" +
			"'dirgate pg-hba --data " + b.dataDir + " --org " + demoOrg + "' says how, with Immuta's Helm value):\n  " + pg + "\n")
	}
	s.WriteString("\n")
	io.WriteString(w, s.String())
}
