package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/pghba"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/tlsboot"
)

// pg-hba: the pg_hba.conf line(s), Immuta's Helm value and the CA trust
// steps for PostgreSQL's LDAP search+bind against one org (package pghba,
// the same as the console's LDAP Interface page).

type pgHBAFlags struct {
	target
	iamID, host, bindLogin string
	passwordStdin          bool
	database, address      string
	ldapsPort, ldapPort    int
	// serve's settings, from the same config file and DIRGATE_*
	// variables: the defaults of --host, --ldaps-port and --ldap-port.
	serveLDAPS, serveLDAP, serveTLSCert string
	serveHostnames                      []string
}

func (a *app) pgHBACmd() *cobra.Command {
	var f pgHBAFlags
	c := &cobra.Command{
		Use:   "pg-hba --data DIR --org ORG [--iam-id ID] [--host H] [--bind-login LOGIN] [--bind-password-stdin] [--database DB] [--address ADDR] [--ldaps-port N] [--ldap-port N]",
		Short: "Print the pg_hba.conf line, Immuta's Helm value and CA trust steps for PostgreSQL's LDAP search+bind against an org",
		Long: `Print what PostgreSQL (and Immuta's Query Engine) needs to log users in
against dirgate with LDAP search+bind: the pg_hba.conf line over LDAPS and the
one over StartTLS (use one of them), the Immuta Helm value
queryEngine.clientPgHBARules, and how PostgreSQL must trust dirgate's CA. The
console's LDAP Interface page shows the same.

The lines use the org's base DN and the bind account's DN: --bind-login names
a service account of the org (default ldap-bind, the demo org's and the
console's). Its password is never a flag: --bind-password-stdin reads it from
the first line of stdin, else the lines hold a placeholder to replace.

The lines let the members of the group role +<IAM ID>_user (Immuta's) in to
--database (default all; the Helm value's default is immuta, as in Immuta's
example) from --address (default all): narrow both to what is needed.

Without --host, --ldaps-port and --ldap-port the values are serve's: its
first --hostname, --ldaps and --ldap settings from the same config file
(--config) and DIRGATE_HOSTNAME, DIRGATE_LDAPS, DIRGATE_LDAP variables, else
the name the generated certificate in DIR/tls was issued for, else serve's
defaults. A port of 0 leaves that line out.`,
		Example: `  dirgate pg-hba --data /var/lib/dirgate --org example --host ldap.example.com
  printf '%s\n' "$BIND_PASSWORD" | dirgate pg-hba --org acme --bind-login pg-bind --bind-password-stdin --iam-id okta --address 10.0.0.0/8`,
		Args: cobra.NoArgs,
		RunE: a.do(func(cmd *cobra.Command, _ []string) error { return a.pgHBA(cmd, &f) }),
	}
	addTargetFlags(c, &f.target)
	fl := c.Flags()
	fl.StringVar(&f.iamID, "iam-id", pghba.DefaultIAMID, "Immuta's IAM `ID`: members of the role <ID>_user may log in")
	fl.StringVar(&f.host, "host", "", "the `NAME` PostgreSQL connects to dirgate with (ldapserver); it must be a name in dirgate's certificate (default: serve's first --hostname)")
	fl.StringVar(&f.bindLogin, "bind-login", demoBindUID, "`LOGIN` of the org's read-only bind service account")
	fl.BoolVar(&f.passwordStdin, "bind-password-stdin", false, "read the bind account's password from the first line of stdin (else a placeholder is printed)")
	fl.StringVar(&f.database, "database", "", "pg_hba.conf database field: `DB` name(s), comma-separated, or a keyword (default all; in the Helm value immuta)")
	fl.StringVar(&f.address, "address", pghba.DefaultAddress, "pg_hba.conf address field: the `ADDR` range clients come from, e.g. 10.0.0.0/8")
	fl.IntVar(&f.ldapsPort, "ldaps-port", 0, "dirgate's LDAPS `PORT`; 0: no LDAPS line (default: the port of serve's --ldaps)")
	fl.IntVar(&f.ldapPort, "ldap-port", 0, "dirgate's LDAP (StartTLS) `PORT`; 0: no StartTLS line (default: the port of serve's --ldap)")
	// serve's own flags (hidden here), so its config file and environment
	// give the defaults; their defaults are serve's.
	serve := a.serveCmd().Flags()
	ldapsDef, _ := serve.GetString("ldaps")
	ldapDef, _ := serve.GetString("ldap")
	hostsDef, _ := serve.GetStringSlice("hostname")
	fl.StringVar(&f.serveLDAPS, "ldaps", ldapsDef, "serve's ldaps:// listen address")
	fl.StringVar(&f.serveLDAP, "ldap", ldapDef, "serve's ldap:// listen address")
	fl.StringSliceVar(&f.serveHostnames, "hostname", hostsDef, "serve's certificate names")
	fl.StringVar(&f.serveTLSCert, "tls-cert", "", "serve's certificate file, instead of the generated one")
	for _, name := range []string{"ldaps", "ldap", "hostname", "tls-cert"} {
		fl.MarkHidden(name)
	}
	return c
}

func (a *app) pgHBA(cmd *cobra.Command, f *pgHBAFlags) error {
	fl := cmd.Flags()
	var err error
	if !fl.Changed("ldaps-port") {
		if f.ldapsPort, err = pgHBAPort("ldaps", f.serveLDAPS); err != nil {
			return err
		}
	}
	if !fl.Changed("ldap-port") {
		if f.ldapPort, err = pgHBAPort("ldap", f.serveLDAP); err != nil {
			return err
		}
	}
	if f.ldapsPort == 0 && f.ldapPort == 0 {
		return usagef("--ldaps-port and --ldap-port are both 0 (off): PostgreSQL would have nothing to connect to")
	}

	// The certificate PostgreSQL will see: the operator's, or the one
	// serve generates in DATA/tls, signed by DATA/tls/ca.pem.
	certFile, caFile := f.serveTLSCert, ""
	if certFile == "" {
		dir := filepath.Join(f.data, tlsDir)
		certFile = filepath.Join(dir, tlsboot.ServerFile)
		if ca, err := filepath.Abs(filepath.Join(dir, tlsboot.CAFile)); err == nil {
			if _, err := os.Stat(ca); err == nil {
				caFile = ca
			}
		}
	}
	cert, _ := pgHBACert(certFile) // nil when there is none yet
	host := f.host
	switch {
	case host != "":
	case fl.Changed("hostname") && len(f.serveHostnames) > 0:
		host = f.serveHostnames[0]
	case cert != nil && cert.Subject.CommonName != "" && cert.VerifyHostname(cert.Subject.CommonName) == nil:
		host = cert.Subject.CommonName // serve's first --hostname when it issued it
	case len(f.serveHostnames) > 0:
		host = f.serveHostnames[0]
	}
	if host == "" {
		return usagef("--host is empty: name the host PostgreSQL connects to")
	}
	if cert != nil && cert.VerifyHostname(host) != nil {
		fmt.Fprintf(a.stderr, "dirgate: warning: %s is not a name in %s (%s): PostgreSQL's LDAP client will refuse the server; "+
			"use --host with one of them, or add it with 'dirgate serve --hostname'\n", host, certFile, pgHBACertNames(cert))
	}

	var pw string
	if f.passwordStdin {
		if pw, err = pgHBAPassword(a.stdin); err != nil {
			return err
		}
	}
	k := pghba.Kit{Host: host, LDAPSPort: f.ldapsPort, LDAPPort: f.ldapPort, BindPassword: pw,
		IAMID: f.iamID, Database: f.database, Address: f.address, CAFile: caFile}
	if err := k.Check(); err != nil { // before opening the directory
		return usagef("%v", err)
	}
	return a.withDirectory(&f.target, func(ctx context.Context, d *directory.Directory) error {
		o, err := d.Org(ctx, f.org)
		if err != nil {
			return err
		}
		base := directory.BaseDN(o)
		u, err := d.User(ctx, o.Name, f.bindLogin)
		var de *directory.Error
		if errors.As(err, &de) && de.Code == directory.CodeNotFound {
			return fmt.Errorf("no user %q in org %s to bind as: create the read-only bind account with "+
				"'dirgate user create --data %s --org %s --login %s --service-account --role READ_ONLY_ADMIN --password-stdin', or name another with --bind-login",
				f.bindLogin, o.Name, f.data, o.Name, f.bindLogin)
		}
		if err != nil {
			return err
		}
		login := u.Profile.Login
		if u.Type != store.TypeServiceAccount {
			return fmt.Errorf("user %s of org %s is a person, not a service account: PostgreSQL binds with a read-only service account "+
				"('dirgate user create --data %s --org %s --login ldap-bind --service-account --role READ_ONLY_ADMIN --password-stdin'); name it with --bind-login",
				login, o.Name, f.data, o.Name)
		}
		if !directory.CanViewAll(u) {
			fmt.Fprintf(a.stderr, "dirgate: warning: %s holds no admin role that sees the whole org (READ_ONLY_ADMIN is enough): "+
				"PostgreSQL's search as it will find no one else\n", login)
		}
		if u.Status != directory.StatusActive {
			fmt.Fprintf(a.stderr, "dirgate: warning: %s is %s, not ACTIVE: PostgreSQL cannot bind as it\n", login, u.Status)
		}
		k.BaseDN, k.BindDN = base, "uid="+ldap.EscapeDNValue(login)+","+base
		if err := k.Check(); err != nil {
			return err
		}
		_, err = io.WriteString(a.stdout, k.Text())
		return err
	})
}

// pgHBAPort is the port of serve's listen address (--ldaps or --ldap);
// 0 when that listener is off.
func pgHBAPort(flag, addr string) (int, error) {
	if addr == "" {
		return 0, nil
	}
	_, p, err := net.SplitHostPort(addr)
	if err == nil {
		var n int
		if n, err = strconv.Atoi(p); err == nil && n > 0 && n <= 65535 {
			return n, nil
		}
	}
	return 0, usagef("serve's --%s %q has no port PostgreSQL can connect to: give --%s-port", flag, addr, flag)
}

// pgHBACert is the first certificate of a PEM file.
func pgHBACert(name string) (*x509.Certificate, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return nil, fmt.Errorf("%s holds no certificate", name)
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

func pgHBACertNames(c *x509.Certificate) string {
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no names"
	}
	return "names: " + strings.Join(names, ", ")
}

// pgHBAPassword is the first line of r, for --bind-password-stdin.
func pgHBAPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the bind password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", usagef("--bind-password-stdin: stdin holds no password (an empty first line)")
	}
	return line, nil
}
