// Package ldaptest starts a private OpenLDAP slapd on 127.0.0.1, loaded
// with a realistic, deterministic source directory, for testing dirgate's
// LDAP sync (which pulls users and groups from an LDAP or Active Directory
// server). It is imported only by tests.
//
//	s := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.AD, Users: 10000, Groups: 200})
//	// sync from s.URL as s.BindDN, compare with s.Users and s.Groups;
//	// change the source through s.Conn(t) and sync again.
//
// Start generates the entries in Go, writes them as LDIF (memberOf
// included, as slapadd runs no overlays), creates a CA and a server
// certificate for 127.0.0.1 and localhost (internal/tlsboot), and has
// bench/slapd load the LDIF with slapadd and run slapd in the foreground
// with the fixture's own slapd.conf (see confTemplate), listening on
// ldap:// (StartTLS available) and ldaps://. slapd is stopped and its
// directory removed when the test ends, whether it passed or not; slapd
// also dies with the test binary.
//
// What the directory holds, for both flavours:
//
//   - Options.Users users under UsersBase, with a login (LoginAttr), mail,
//     cn, sn, givenName, displayName, title, department, telephoneNumber,
//     employeeNumber, manager (teams of 25 report to their first member,
//     who reports to user 0) and a password (UserPassword). The first five
//     are special: "Zoë Müller", "Émile Durand", a mixed-case login
//     (Anouk.DeVries / ADeVries), "Seán O'Brien" (in AD with the RDN
//     cn=O'Brien\2C Seán) and "山田 太郎". Logins are unique: the second
//     "james.smith" is "james.smith2" (AD: "jsmith", "jsmith2").
//   - Options.Groups groups (groupOfNames, or group in AD) under
//     GroupsBase named after teams ("engineering", "sales-2"; in AD
//     "Engineering", "Sales 2"); user i is in 1 + i%3 of them, and its
//     memberOf lists them. The OpenLDAP flavour adds three posixGroup
//     groups (memberUid) and two groupOfUniqueNames groups (uniqueMember),
//     whose members memberOf does not list.
//   - The service account BindDN outside UsersBase (it is not in Users).
//   - entryUUID, createTimestamp, modifyTimestamp and entryCSN fixed in
//     the past (2024), so the data is the same on every run and any change
//     through the server raises modifyTimestamp. In AD, whenChanged and
//     whenCreated equal them but are plain attributes: slapd does not
//     update whenChanged on a change.
//
// Differences from a real AD worth knowing: users bind with their DN, not
// with a UPN or DOMAIN\login (a search-then-bind client is fine); member
// is returned whole, never in ranges (member;range=0-1499); there is no
// objectCategory, no LDAP_MATCHING_RULE_IN_CHAIN and no nesting; a page
// larger than MaxPageSize is refused (adminLimitExceeded) where AD would
// shorten it; memberOf is operational, so ask for it by name (or "+").
package ldaptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/bench/slapd"
	"github.com/dirgate/dirgate/internal/tlsboot"
)

// Options says what directory to start.
type Options struct {
	Flavor Flavor
	// Users is how many users to load; 0 means 100.
	Users int
	// Groups is how many groupOfNames (AD: group) groups to load; 0 means
	// 10. The OpenLDAP flavour has five more (see Group.Kind).
	Groups int
	// SizeLimit is slapd's size limit (soft and hard) for searches without
	// paging: 0 means 500, -1 none. A search that matches more fails with
	// sizeLimitExceeded (4). Paged searches (RFC 2696) are not bounded in
	// total, and neither are the rootdn's (Conn) searches.
	SizeLimit int
	// MaxPageSize, when positive, is the largest page slapd serves
	// (size.pr); it refuses a larger one with adminLimitExceeded (11). 0
	// means no limit.
	MaxPageSize int
	// DuplicateEmails is how many users share their mail with another: the
	// last DuplicateEmails users have the first ones' addresses (user
	// Users-1-j has user j's). At most Users/2.
	DuplicateEmails int
	// DisabledUsers (AD only) is how many users, spread evenly, have
	// userAccountControl 514 (ACCOUNTDISABLE) instead of 512. At most
	// Users.
	DisabledUsers int
}

func (o Options) withDefaults() (Options, error) {
	if o.Flavor != OpenLDAP && o.Flavor != AD {
		return o, fmt.Errorf("ldaptest: unknown flavour %v", o.Flavor)
	}
	if o.Users == 0 {
		o.Users = 100
	}
	if o.Groups == 0 {
		o.Groups = 10
	}
	if o.SizeLimit == 0 {
		o.SizeLimit = 500
	}
	switch {
	case o.Users < 0 || o.Groups < 0 || o.SizeLimit < -1 || o.MaxPageSize < 0:
		return o, fmt.Errorf("ldaptest: negative count in %+v", o)
	case o.DuplicateEmails < 0 || o.DuplicateEmails > o.Users/2:
		return o, fmt.Errorf("ldaptest: DuplicateEmails %d: want 0 to Users/2 (%d)", o.DuplicateEmails, o.Users/2)
	case o.DisabledUsers < 0 || o.DisabledUsers > o.Users:
		return o, fmt.Errorf("ldaptest: DisabledUsers %d: want 0 to Users (%d)", o.DisabledUsers, o.Users)
	case o.DisabledUsers > 0 && o.Flavor != AD:
		return o, errors.New("ldaptest: DisabledUsers is for the AD flavour")
	}
	return o, nil
}

// Server is a running source directory. Its fields describe it; change
// them and nothing happens.
type Server struct {
	Flavor Flavor
	// URL is ldap://127.0.0.1:PORT (StartTLS available), LDAPSURL
	// ldaps://127.0.0.1:PORT2.
	URL, LDAPSURL string
	// CAFile is the PEM of the CA that signed slapd's certificate (for
	// 127.0.0.1 and localhost); OtherCAFile that of an unrelated CA.
	CAFile, OtherCAFile string

	BaseDN, UsersBase, GroupsBase string
	// BindDN and BindPassword are the read-only service account's: it
	// reads everything but userPassword.
	BindDN, BindPassword string
	// RootDN and RootPassword are slapd's rootdn (no ACLs, no limits), as
	// Conn binds.
	RootDN, RootPassword string

	// LoginAttr is the users' login attribute: "uid" (OpenLDAP) or
	// "sAMAccountName" (AD).
	LoginAttr string
	// UserObjectClass is "inetOrgPerson" or "user"; GroupObjectClass
	// "groupOfNames" or "group" (the groups memberOf reflects).
	UserObjectClass, GroupObjectClass string

	// Users and Groups are what was loaded, in LDIF order.
	Users  []User
	Groups []Group

	// StartupTime is how long Start took; LoadTime the slapadd part of it.
	StartupTime, LoadTime time.Duration

	srv     *slapd.Server
	byLogin map[string]int
	byGroup map[string]int
	logFile string
}

// Start starts a source directory for the test and stops it when the test
// ends. It skips the test when slapd is not installed, unless CI=true
// (then the test fails).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if !slapd.Available() {
		const msg = "ldaptest: slapd is not installed (apt-get install slapd ldap-utils)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	o, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	d := generate(o)
	dir := t.TempDir()

	certs, err := tlsboot.Ensure(tlsboot.Options{Dir: filepath.Join(dir, "tls"), Hosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := writeOtherCA(filepath.Join(dir, "other-ca"))
	if err != nil {
		t.Fatal(err)
	}
	ldif := filepath.Join(dir, "source.ldif")
	if err := os.WriteFile(ldif, []byte(d.ldif()), 0o600); err != nil {
		t.Fatal(err)
	}

	// The ports are free when picked but not reserved: if slapd finds one
	// taken, try again with others.
	var srv *slapd.Server
	var url, ldapsURL string
	for attempt := 1; ; attempt++ {
		run := filepath.Join(dir, fmt.Sprintf("slapd%d", attempt))
		ports, err := freePorts(2)
		if err != nil {
			t.Fatal(err)
		}
		url = fmt.Sprintf("ldap://127.0.0.1:%d", ports[0])
		ldapsURL = fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1])
		srv, err = startSlapd(d, o, run, ldif, certs, ports)
		if err == nil {
			break
		}
		if attempt < 3 && strings.Contains(err.Error(), "Address already in use") {
			continue
		}
		t.Fatalf("ldaptest: %v", err)
	}

	s := &Server{
		Flavor:           o.Flavor,
		URL:              url,
		LDAPSURL:         ldapsURL,
		CAFile:           certs.CAFile,
		OtherCAFile:      otherCA,
		BaseDN:           d.base,
		UsersBase:        d.usersBase,
		GroupsBase:       d.groupsBase,
		BindDN:           d.serviceDN,
		BindPassword:     servicePassword,
		RootDN:           d.rootDN,
		RootPassword:     rootPassword,
		LoginAttr:        d.loginAttr,
		UserObjectClass:  d.userOC,
		GroupObjectClass: d.groupOC,
		Users:            d.users,
		Groups:           d.groups,
		LoadTime:         srv.LoadTime,
		srv:              srv,
		byLogin:          make(map[string]int, len(d.users)),
		byGroup:          make(map[string]int, len(d.groups)),
		logFile:          srv.LogFile(),
	}
	for i, u := range s.Users {
		s.byLogin[strings.ToLower(u.Login)] = i
	}
	for i, g := range s.Groups {
		s.byGroup[strings.ToLower(g.Name)] = i
	}
	t.Cleanup(func() {
		if t.Failed() {
			if log, err := os.ReadFile(s.logFile); err == nil && len(log) > 0 {
				t.Logf("ldaptest: end of slapd's log:\n%s", lastLines(log, 20))
			}
		}
		s.Stop()
	})
	s.StartupTime = time.Since(t0)
	t.Logf("ldaptest: %v directory with %d users and %d groups up in %v (slapadd %v)",
		o.Flavor, len(s.Users), len(s.Groups), s.StartupTime.Round(time.Millisecond), s.LoadTime.Round(time.Millisecond))
	return s
}

func startSlapd(d *data, o Options, run, ldif string, certs *tlsboot.Result, ports []int) (*slapd.Server, error) {
	if err := os.MkdirAll(run, 0o700); err != nil {
		return nil, err
	}
	if d.flavor == AD {
		if err := os.WriteFile(filepath.Join(run, "ad.schema"), []byte(adSchema), 0o600); err != nil {
			return nil, err
		}
	}
	conf, err := config(d, o, run, certs.CAFile, certs.CertFile, certs.KeyFile)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return slapd.Start(ctx, slapd.Options{
		Dir:        run,
		Suffix:     d.base,
		LDIF:       ldif,
		Port:       ports[0],
		ServiceDN:  d.serviceDN,
		ConfigText: conf,
		ExtraURLs:  []string{fmt.Sprintf("ldaps://127.0.0.1:%d/", ports[1])},
	})
}

// Stop stops slapd now (for tests of an unreachable source); the test's
// end does it otherwise. Stopping twice is fine.
func (s *Server) Stop() { _ = s.srv.Stop() }

// Conn is a connection bound as the rootdn (RootDN), which may write
// anything and is not subject to ACLs or limits, for tests to add, modify
// and delete entries. It is closed when the test ends.
func (s *Server) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatalf("ldaptest: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetTimeout(time.Minute)
	if err := c.Bind(s.RootDN, s.RootPassword); err != nil {
		t.Fatalf("ldaptest: binding as %s: %v", s.RootDN, err)
	}
	return c
}

// UserPassword is the password of the user with this login (in any case):
// "Pw-" + the login in lower case + "!1". It depends on nothing but the
// login, so a test that adds a user may give it this password too.
func (s *Server) UserPassword(login string) string { return userPassword(login) }

// User is the loaded user with this login, compared case-insensitively,
// or nil.
func (s *Server) User(login string) *User {
	if i, ok := s.byLogin[strings.ToLower(login)]; ok {
		return &s.Users[i]
	}
	return nil
}

// Group is the loaded group with this name (cn), compared
// case-insensitively, or nil.
func (s *Server) Group(name string) *Group {
	if i, ok := s.byGroup[strings.ToLower(name)]; ok {
		return &s.Groups[i]
	}
	return nil
}

// freePorts picks n distinct free ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
