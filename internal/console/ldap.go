package console

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/pghba"
)

// Directory integrations → LDAP Interface (Okta's name for it): what a
// client needs to connect, the CA certificate to trust, a read-only bind
// account made on the spot, and ready-to-paste configuration snippets
// (the pg_hba.conf ones from package pghba, the same as `dirgate pg-hba`).

// ldapBindPerm is what creating the bind account takes. The account gets
// an admin role (READ_ONLY_ADMIN), and admin roles are the SUPER_ADMIN's to
// give (PermSecurity), as in the REST API (POST /api/v1/users/{id}/roles).
const ldapBindPerm = directory.PermSecurity

// defaultBindLogin is the login the bind-account form suggests.
const defaultBindLogin = "ldap-bind"

func (s *Server) routesLDAP() {
	s.page("GET /console/ldap", directory.PermRead, s.ldapPage)
	s.page("GET /console/ldap/ca.pem", directory.PermRead, s.ldapCA)
	s.page("POST /console/ldap/bind-account", ldapBindPerm, s.ldapCreateBind)
}

// ldapData is the LDAP Interface page.
type ldapData struct {
	Host               string
	LDAPSPort          int    // 0: off
	LDAPSURL           string // "" when off
	LDAPPort           int    // StartTLS; 0: off
	LDAPURL            string
	Off                bool // neither listener is on
	BaseDN             string
	UsersDN, GroupsDN  string
	BindDN, BindDNOU   string // with "<login>" for the login
	MFASep             string
	CA                 bool   // a CA certificate can be downloaded
	CAName             string // its file name
	CanCreate          bool   // the admin may create the bind account
	Form               ldapForm
	Created            *ldapAccount // the account just made, shown once
	BindLogin          string       // the login the snippets bind with
	PgHBA, Helm, Query string       // the snippets ("" when they cannot be made)

	// The pg_hba.conf snippets are package pghba's, as `dirgate pg-hba`
	// prints them: PgHBA is the first (preferred) line, PgHBAAlt the
	// StartTLS alternative when LDAPS is on too, Trust how PostgreSQL
	// trusts the CA.
	PgHBAAlt, Trust  string
	PgHBAVia, AltVia string // "LDAPS" or "StartTLS"
}

type ldapForm struct {
	Login  string
	Errors map[string]string
}

// ldapAccount is a bind account just created; its password exists only
// in the page that answers the form.
type ldapAccount struct {
	Login, DN, DNOU, Password string
}

func (s *Server) ldapPage(w http.ResponseWriter, r *http.Request, q *request) error {
	s.renderLDAP(w, q, ldapForm{Login: defaultBindLogin}, nil, "", http.StatusOK)
	return nil
}

func (s *Server) renderLDAP(w http.ResponseWriter, q *request, f ldapForm, acct *ldapAccount, msg string, status int) {
	o := q.p.Org
	base := directory.BaseDN(o)
	li := s.cfg.LDAP
	host := li.Host
	if host == "" {
		host = "<this server's host name>"
	}
	d := &ldapData{
		Host: host, LDAPSPort: li.LDAPSPort, LDAPPort: li.LDAPPort, Off: li.LDAPSPort == 0 && li.LDAPPort == 0,
		BaseDN: base, UsersDN: "ou=users," + base, GroupsDN: "ou=groups," + base,
		BindDN: "uid=<login>," + base, BindDNOU: "uid=<login>,ou=users," + base,
		MFASep: string([]byte{directory.MFASeparatorOf(o)}),
		CA:     s.cfg.CAFile != "", CAName: caFileName(o),
		CanCreate: q.p.Allow(ldapBindPerm) == nil,
		Form:      f, Created: acct, BindLogin: defaultBindLogin,
	}
	if li.LDAPSPort != 0 {
		d.LDAPSURL = "ldaps://" + net.JoinHostPort(host, strconv.Itoa(li.LDAPSPort))
	}
	if li.LDAPPort != 0 {
		d.LDAPURL = "ldap://" + net.JoinHostPort(host, strconv.Itoa(li.LDAPPort))
	}
	pw := "" // pghba's placeholder, <password of LOGIN>
	if acct != nil {
		d.BindLogin, pw = acct.Login, acct.Password
	}
	if !d.Off {
		kit := pghba.Kit{Host: host, LDAPSPort: li.LDAPSPort, LDAPPort: li.LDAPPort, BaseDN: base,
			BindDN: "uid=" + d.BindLogin + "," + base, BindPassword: pw}
		if d.CA {
			kit.CAFile = d.CAName // the file the page offers for download
		}
		lines := kit.Lines()
		d.PgHBA, d.PgHBAVia = lines[0].Text, lines[0].Via()
		if len(lines) > 1 {
			d.PgHBAAlt, d.AltVia = lines[1].Text, lines[1].Via()
		}
		d.Helm, d.Trust = kit.Helm(), kit.Trust()
		d.Query = ldapsearchCommand(d, base)
	}
	v := s.view(q, "LDAP Interface", "ldap", d)
	v.Error = msg
	s.render(w, status, "ldap", v)
}

// ldapsearchCommand is an ldapsearch that checks the bind account: over
// LDAPS, else StartTLS (-ZZ); -W asks for the password.
func ldapsearchCommand(d *ldapData, base string) string {
	env := ""
	if d.CA {
		env = "LDAPTLS_CACERT=" + d.CAName + " "
	}
	u, zz := d.LDAPSURL, ""
	if u == "" {
		u, zz = d.LDAPURL, " -ZZ"
	}
	return fmt.Sprintf(`%sldapsearch -H %s%s -x -D "uid=%s,%s" -W -b "ou=users,%s" "(uid=someone)"`, env, u, zz, d.BindLogin, base, base)
}

// caFileName is the download's name, "<org>-ca.pem", of safe characters.
func caFileName(o *directory.Org) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, o.Name)
	return name + "-ca.pem"
}

func (s *Server) ldapCA(w http.ResponseWriter, r *http.Request, q *request) error {
	if s.cfg.CAFile == "" {
		return &directory.Error{Code: directory.CodeNotFound, Message: "This server uses the operator's own certificate; there is no CA certificate to download here."}
	}
	b, err := os.ReadFile(s.cfg.CAFile)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-pem-file")
	h.Set("Content-Disposition", `attachment; filename="`+caFileName(q.p.Org)+`"`)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
	return nil
}

func (s *Server) ldapCreateBind(w http.ResponseWriter, r *http.Request, q *request) error {
	f := ldapForm{Login: strings.TrimSpace(r.PostFormValue("login"))}
	pw, err := randomBase62(24)
	if err != nil {
		return err
	}
	u, err := s.dir.CreateUser(q.ctx, q.p.Org.Name, directory.UserInput{
		Profile: directory.Profile{Login: f.Login}, Password: []byte(pw),
		ServiceAccount: true, Roles: []string{directory.RoleReadOnlyAdmin},
	})
	if err != nil {
		errs, err := fieldErrors(err)
		if err != nil {
			return err
		}
		msg := ""
		for k, m := range errs { // one error; a password refusal is the policy's, not the field's
			if k != "login" {
				delete(errs, k)
				msg = "The password policy refuses the generated password (24 letters and digits): " + m
			}
		}
		f.Errors = errs
		s.renderLDAP(w, q, f, nil, msg, http.StatusBadRequest)
		return nil
	}
	base := directory.BaseDN(q.p.Org)
	login := u.Profile.Login
	acct := &ldapAccount{Login: login, DN: "uid=" + login + "," + base, DNOU: "uid=" + login + ",ou=users," + base, Password: pw}
	s.renderLDAP(w, q, ldapForm{Login: defaultBindLogin}, acct, "", http.StatusOK)
	return nil
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 is n characters from crypto/rand, uniformly from base62,
// with at least one digit, upper- and lower-case letter (password
// policies often ask for each).
func randomBase62(n int) (string, error) {
	out := make([]byte, n)
	buf := make([]byte, 64)
	for {
		i := 0
		for i < n {
			if _, err := rand.Read(buf); err != nil {
				return "", err
			}
			for _, b := range buf {
				if b >= 248 { // 248 = 4*62: keeps the choice uniform
					continue
				}
				out[i] = base62[b%62]
				if i++; i == n {
					break
				}
			}
		}
		s := string(out)
		if strings.ContainsAny(s, base62[:10]) && strings.ContainsAny(s, base62[10:36]) && strings.ContainsAny(s, base62[36:]) {
			return s, nil
		}
	}
}
