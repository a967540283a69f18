package ldaptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

func TestOpenLDAP(t *testing.T) { testDirectory(t, OpenLDAP) }
func TestAD(t *testing.T)       { testDirectory(t, AD) }

// testDirectory checks a full-size directory of flavour f.
func testDirectory(t *testing.T, f Flavor) {
	const users, groups = 10000, 200
	s := Start(t, Options{Flavor: f, Users: users, Groups: groups, SizeLimit: 500})
	t.Logf("Start took %v for %d users (slapadd %v)", s.StartupTime, users, s.LoadTime)
	if len(s.Users) != users {
		t.Fatalf("%d users loaded", len(s.Users))
	}
	wantGroups := groups
	if f == OpenLDAP {
		wantGroups += len(extraGroups)
	}
	if len(s.Groups) != wantGroups {
		t.Fatalf("%d groups loaded, want %d", len(s.Groups), wantGroups)
	}
	if !strings.HasPrefix(s.URL, "ldap://127.0.0.1:") || !strings.HasPrefix(s.LDAPSURL, "ldaps://127.0.0.1:") {
		t.Fatalf("URLs %s %s", s.URL, s.LDAPSURL)
	}
	userFilter := "(objectClass=" + s.UserObjectClass + ")"

	t.Run("PagedSearch", func(t *testing.T) {
		c := serviceConn(t, s)
		attrs := []string{s.LoginAttr, "mail", "cn", "givenName", "sn", "memberOf", "manager", "modifyTimestamp", "userPassword"}
		res, err := c.SearchWithPaging(search(s.UsersBase, userFilter, attrs...), 1000)
		if err != nil {
			t.Fatalf("paged search: %v", err)
		}
		if len(res.Entries) != users {
			t.Fatalf("paged search: %d users, want %d", len(res.Entries), users)
		}
		seen := map[string]bool{}
		for _, e := range res.Entries {
			login := e.GetAttributeValue(s.LoginAttr)
			u := s.User(login)
			if u == nil || seen[u.Login] {
				t.Fatalf("entry %s: login %q unknown or repeated", e.DN, login)
			}
			seen[u.Login] = true
			got := []string{e.DN, login, e.GetAttributeValue("mail"), e.GetAttributeValue("cn"),
				e.GetAttributeValue("givenName"), e.GetAttributeValue("sn"), e.GetAttributeValue("manager"),
				e.GetAttributeValue("modifyTimestamp")}
			want := []string{u.DN, u.Login, u.Email, u.CN, u.GivenName, u.Surname, u.Manager,
				u.Modified.Format("20060102150405Z")}
			if !slices.Equal(got, want) {
				t.Fatalf("entry\n got %q\nwant %q", got, want)
			}
			if mo := e.GetAttributeValues("memberOf"); !slices.Equal(mo, u.MemberOf) || len(mo) < 1 || len(mo) > 3 {
				t.Fatalf("%s: memberOf %q, want %q (1 to 3)", u.Login, mo, u.MemberOf)
			}
			if e.GetAttributeValue("userPassword") != "" {
				t.Fatalf("the service account reads %s's userPassword", u.Login)
			}
		}
	})

	t.Run("UnpagedSearchExceedsSizeLimit", func(t *testing.T) {
		c := serviceConn(t, s)
		res, err := c.Search(search(s.UsersBase, userFilter, "1.1"))
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			t.Fatalf("unpaged search of %d users: %v, want sizeLimitExceeded (4)", users, err)
		}
		if res != nil && len(res.Entries) > 500 {
			t.Errorf("unpaged search returned %d entries, over the limit of 500", len(res.Entries))
		}
		// Fewer than the limit is fine without paging.
		g := s.Groups[0]
		res, err = c.Search(search(s.UsersBase, "(memberOf="+ldap.EscapeFilter(g.DN)+")", "1.1"))
		if err != nil || len(res.Entries) != len(g.Members) {
			t.Fatalf("members of %s: %v, %d entries, want %d", g.Name, err, entries(res), len(g.Members))
		}
		// The rootdn has no limit.
		res, err = s.Conn(t).Search(search(s.UsersBase, userFilter, "1.1"))
		if err != nil || len(res.Entries) != users {
			t.Errorf("unpaged search as rootdn: %v, %d entries", err, entries(res))
		}
	})

	t.Run("StartTLS", func(t *testing.T) {
		for _, name := range []string{"127.0.0.1", "localhost"} {
			c := dial(t, s.URL)
			if err := c.StartTLS(tlsConfig(t, s.CAFile, name)); err != nil {
				t.Fatalf("StartTLS trusting CAFile (%s): %v", name, err)
			}
			if err := c.Bind(s.BindDN, s.BindPassword); err != nil {
				t.Fatalf("bind after StartTLS: %v", err)
			}
		}
		c := dial(t, s.URL)
		err := c.StartTLS(tlsConfig(t, s.OtherCAFile, "127.0.0.1"))
		if !isUnknownAuthority(err) {
			t.Fatalf("StartTLS trusting OtherCAFile: %v, want an unknown-authority certificate error", err)
		}
	})

	t.Run("LDAPS", func(t *testing.T) {
		c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(tlsConfig(t, s.CAFile, "127.0.0.1")))
		if err != nil {
			t.Fatalf("LDAPS trusting CAFile: %v", err)
		}
		defer c.Close()
		if err := c.Bind(s.BindDN, s.BindPassword); err != nil {
			t.Fatalf("bind over LDAPS: %v", err)
		}
		if _, ok := c.TLSConnectionState(); !ok {
			t.Error("LDAPS connection without TLS state")
		}
		c2, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(tlsConfig(t, s.OtherCAFile, "127.0.0.1")))
		if err == nil {
			c2.Close()
		}
		if !isUnknownAuthority(err) {
			t.Fatalf("LDAPS trusting OtherCAFile: %v, want an unknown-authority certificate error", err)
		}
	})

	t.Run("UserBind", func(t *testing.T) {
		c := dial(t, s.URL)
		for _, u := range []User{s.Users[0], s.Users[2], s.Users[3], s.Users[4], s.Users[users-1]} {
			if err := c.Bind(u.DN, s.UserPassword(u.Login)); err != nil {
				t.Errorf("bind as %s: %v", u.DN, err)
			}
			if err := c.Bind(u.DN, s.UserPassword(strings.ToLower(u.Login))); err != nil {
				t.Errorf("bind as %s with the lower-case login's password: %v", u.DN, err)
			}
			// A bound user reads its own entry but not its password.
			res, err := c.Search(ldap.NewSearchRequest(u.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", []string{"mail", "userPassword"}, nil))
			if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("mail") != u.Email ||
				res.Entries[0].GetAttributeValue("userPassword") != "" {
				t.Errorf("%s reading its entry: %v %v", u.Login, err, res)
			}
			if err := c.Bind(u.DN, "wrong"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				t.Errorf("bind as %s with a wrong password: %v, want invalidCredentials", u.Login, err)
			}
		}
	})

	t.Run("Access", func(t *testing.T) {
		// Anonymous reads the root DSE, nothing in the tree.
		c := dial(t, s.URL)
		res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"namingContexts", "supportedControl"}, nil))
		if err != nil || len(res.Entries) != 1 || !strings.EqualFold(res.Entries[0].GetAttributeValue("namingContexts"), s.BaseDN) ||
			!slices.Contains(res.Entries[0].GetAttributeValues("supportedControl"), ldap.ControlTypePaging) {
			t.Errorf("anonymous root DSE: %v %v", err, res)
		}
		// slapd hides the tree: noSuchObject rather than no entries.
		res, err = c.Search(search(s.BaseDN, "(objectClass=*)", "userPassword"))
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) || entries(res) != 0 {
			t.Errorf("anonymous search: %v, %d entries", err, entries(res))
		}
		// The service account finds no entry by its userPassword.
		sc := serviceConn(t, s)
		res, err = sc.Search(search(s.UsersBase, "(userPassword=*)", "userPassword"))
		if err != nil || len(res.Entries) != 0 {
			t.Errorf("service search on userPassword: %v, %d entries", err, entries(res))
		}
		// Logins match case-insensitively.
		mixed := s.Users[2]
		if mixed.Login == strings.ToLower(mixed.Login) {
			t.Fatalf("user 2's login %q is not mixed-case", mixed.Login)
		}
		res, err = sc.Search(search(s.UsersBase, "("+s.LoginAttr+"="+ldap.EscapeFilter(strings.ToLower(mixed.Login))+")", s.LoginAttr))
		if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue(s.LoginAttr) != mixed.Login {
			t.Errorf("search for the lower-cased %q: %v %v", mixed.Login, err, res)
		}
		// Non-ASCII names come back as loaded.
		res, err = sc.Search(search(s.UsersBase, "(givenName=Zoë)", "cn", "sn"))
		if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("sn") != "Müller" {
			t.Errorf("search for Zoë: %v %v", err, res)
		}
	})

	t.Run("MemberOf", func(t *testing.T) {
		c := serviceConn(t, s)
		for _, u := range []User{s.Users[0], s.Users[1], s.Users[2], s.Users[3], s.Users[4321]} {
			res, err := c.Search(ldap.NewSearchRequest(u.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", []string{"memberOf"}, nil))
			if err != nil || len(res.Entries) != 1 {
				t.Fatalf("%s: %v", u.DN, err)
			}
			if got := res.Entries[0].GetAttributeValues("memberOf"); !slices.Equal(got, u.MemberOf) {
				t.Errorf("%s: memberOf %q, want %q", u.Login, got, u.MemberOf)
			}
		}
		// Each group's member values are its members, and a memberOf
		// filter finds them.
		res, err := c.SearchWithPaging(search(s.GroupsBase, "(objectClass=*)", "cn", "member", "uniqueMember", "memberUid", "objectClass"), 1000)
		if err != nil {
			t.Fatal(err)
		}
		byDN := map[string]*ldap.Entry{}
		for _, e := range res.Entries {
			byDN[e.DN] = e
		}
		for _, g := range s.Groups {
			e := byDN[g.DN]
			if e == nil {
				t.Fatalf("group %s not found", g.DN)
			}
			var got []string
			switch g.Kind {
			case GroupOfNames:
				got = e.GetAttributeValues("member")
			case GroupOfUniqueNames:
				got = e.GetAttributeValues("uniqueMember")
			case PosixGroup:
				got = e.GetAttributeValues("memberUid")
				if !slices.Equal(got, g.MemberLogins) {
					t.Errorf("%s: memberUid %d values, want %d", g.Name, len(got), len(g.MemberLogins))
				}
				continue
			}
			if !slices.Equal(got, g.Members) {
				t.Errorf("%s: %d members, want %d", g.Name, len(got), len(g.Members))
			}
		}
		g := s.Group(s.Groups[7].Name)
		res, err = c.SearchWithPaging(search(s.UsersBase, "(memberOf="+ldap.EscapeFilter(g.DN)+")", "1.1"), 1000)
		if err != nil || len(res.Entries) != len(g.Members) || len(g.Members) == 0 {
			t.Errorf("(memberOf=%s): %v, %d entries, want %d", g.DN, err, entries(res), len(g.Members))
		}
		if f == OpenLDAP {
			kinds := map[GroupKind]int{}
			for _, g := range s.Groups {
				kinds[g.Kind]++
			}
			if kinds[PosixGroup] != 3 || kinds[GroupOfUniqueNames] != 2 {
				t.Errorf("group kinds %v", kinds)
			}
			if !slices.Contains(s.Group("posix-admins").MemberLogins, s.Users[2].Login) {
				t.Errorf("the mixed-case login is not in posix-admins")
			}
		}
	})

	t.Run("ModifyRaisesModifyTimestamp", func(t *testing.T) {
		u := s.Users[42]
		c := serviceConn(t, s)
		read := func() *ldap.Entry {
			t.Helper()
			res, err := c.Search(ldap.NewSearchRequest(u.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", []string{"title", "modifyTimestamp", "entryCSN", "memberOf"}, nil))
			if err != nil || len(res.Entries) != 1 {
				t.Fatalf("reading %s: %v", u.DN, err)
			}
			return res.Entries[0]
		}
		before := read()
		t0 := generalizedTime(t, before.GetAttributeValue("modifyTimestamp"))
		if !t0.Equal(u.Modified) {
			t.Errorf("modifyTimestamp %v, want %v as loaded", t0, u.Modified)
		}
		admin := s.Conn(t)
		m := ldap.NewModifyRequest(u.DN, nil)
		m.Replace("title", []string{"Chief Tester"})
		if err := admin.Modify(m); err != nil {
			t.Fatal(err)
		}
		after := read()
		if after.GetAttributeValue("title") != "Chief Tester" {
			t.Errorf("title %q after the change", after.GetAttributeValue("title"))
		}
		if t1 := generalizedTime(t, after.GetAttributeValue("modifyTimestamp")); !t1.After(t0) || time.Since(t1) > time.Minute {
			t.Errorf("modifyTimestamp %v after the change, was %v", t1, t0)
		}
		if a, b := before.GetAttributeValue("entryCSN"), after.GetAttributeValue("entryCSN"); a >= b {
			t.Errorf("entryCSN %q after the change, was %q", b, a)
		}

		// The memberof overlay keeps memberOf in step with changes to
		// groups made through the server.
		var g *Group
		for i := range s.Groups {
			if s.Groups[i].Kind == GroupOfNames && !slices.Contains(u.MemberOf, s.Groups[i].DN) {
				g = &s.Groups[i]
				break
			}
		}
		m = ldap.NewModifyRequest(g.DN, nil)
		m.Add("member", []string{u.DN})
		if err := admin.Modify(m); err != nil {
			t.Fatal(err)
		}
		if mo := read().GetAttributeValues("memberOf"); !slices.Contains(mo, g.DN) || len(mo) != len(u.MemberOf)+1 {
			t.Errorf("memberOf %q after joining %s", mo, g.DN)
		}
		m = ldap.NewModifyRequest(g.DN, nil)
		m.Delete("member", []string{u.DN})
		if err := admin.Modify(m); err != nil {
			t.Fatal(err)
		}
		if mo := read().GetAttributeValues("memberOf"); !slices.Equal(mo, u.MemberOf) {
			t.Errorf("memberOf %q after leaving %s, want %q", mo, g.DN, u.MemberOf)
		}
	})

	if f == AD {
		t.Run("ADAttributes", func(t *testing.T) {
			c := serviceConn(t, s)
			u := s.Users[3] // O'Brien, Seán: a comma in the RDN
			res, err := c.Search(search(s.UsersBase, "(userPrincipalName="+ldap.EscapeFilter(u.UPN)+")",
				"objectGUID", "whenChanged", "userAccountControl", "department", "displayName", "objectClass"))
			if err != nil || len(res.Entries) != 1 {
				t.Fatalf("by UPN: %v %v", err, res)
			}
			e := res.Entries[0]
			if e.DN != u.DN || !bytes.Equal(e.GetRawAttributeValue("objectGUID"), u.ObjectGUID) || len(u.ObjectGUID) != 16 ||
				e.GetAttributeValue("whenChanged") != u.Modified.Format("20060102150405.0Z") ||
				e.GetAttributeValue("userAccountControl") != "512" || e.GetAttributeValue("department") != u.Department ||
				e.GetAttributeValue("displayName") != "O'Brien, Seán" ||
				!slices.Equal(e.GetAttributeValues("objectClass"), []string{"top", "person", "organizationalPerson", "user"}) {
				t.Errorf("AD attributes of %s: %v", u.DN, e.Attributes)
			}
			// objectGUID matches as binary.
			res, err = c.Search(search(s.BaseDN, "(objectGUID="+ldap.EscapeFilter(string(u.ObjectGUID))+")", "1.1"))
			if err != nil || len(res.Entries) != 1 || res.Entries[0].DN != u.DN {
				t.Errorf("by objectGUID: %v %v", err, res)
			}
			// whenChanged orders.
			cut := s.Users[users-100].Modified.Format("20060102150405.0Z")
			res, err = c.Search(search(s.UsersBase, "(whenChanged>="+cut+")", "1.1"))
			if err != nil || len(res.Entries) != 100 {
				t.Errorf("(whenChanged>=%s): %v, %d entries, want 100", cut, err, entries(res))
			}
		})
	}
}

// TestSmallDirectories covers the options a full directory does not.
func TestSmallDirectories(t *testing.T) {
	t.Run("OpenLDAPEmptyGroupsAndDuplicateEmails", func(t *testing.T) {
		s := Start(t, Options{Flavor: OpenLDAP, Users: 4, Groups: 12, DuplicateEmails: 2, SizeLimit: -1})
		c := serviceConn(t, s)
		res, err := c.Search(search(s.GroupsBase, "(objectClass=groupOfNames)", "member"))
		if err != nil || len(res.Entries) != 12 {
			t.Fatalf("groups: %v, %d entries", err, entries(res))
		}
		empty := 0
		for _, g := range s.Groups {
			if g.Kind == GroupOfNames && len(g.Members) == 0 {
				empty++
			}
		}
		if empty == 0 {
			t.Error("no empty group with 4 users in 12 groups")
		}
		for _, u := range []User{s.Users[0], s.Users[1]} {
			res, err := c.Search(search(s.UsersBase, "(mail="+ldap.EscapeFilter(u.Email)+")", "uid"))
			if err != nil || len(res.Entries) != 2 {
				t.Errorf("mail %s: %v, %d users, want 2", u.Email, err, entries(res))
			}
		}
		if s.Users[3].Email != s.Users[0].Email || s.Users[2].Email != s.Users[1].Email {
			t.Errorf("duplicate emails: %q", []string{s.Users[0].Email, s.Users[1].Email, s.Users[2].Email, s.Users[3].Email})
		}
	})
	t.Run("ADDisabledAndPageLimit", func(t *testing.T) {
		s := Start(t, Options{Flavor: AD, Users: 300, Groups: 3, DisabledUsers: 7, SizeLimit: 50, MaxPageSize: 100})
		c := serviceConn(t, s)
		res, err := c.SearchWithPaging(search(s.UsersBase, "(userAccountControl:1.2.840.113556.1.4.803:=2)", "sAMAccountName"), 100)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, e := range res.Entries {
			got = append(got, e.GetAttributeValue("sAMAccountName"))
		}
		for _, u := range s.Users {
			if u.Disabled {
				want = append(want, u.Login)
			}
		}
		if len(want) != 7 || !slices.Equal(got, want) {
			t.Errorf("disabled users %q, want %q (7)", got, want)
		}
		res, err = c.SearchWithPaging(search(s.UsersBase, "(objectClass=user)", "1.1"), 100)
		if err != nil || len(res.Entries) != 300 {
			t.Errorf("pages of 100: %v, %d entries", err, entries(res))
		}
		_, err = c.SearchWithPaging(search(s.UsersBase, "(objectClass=user)", "1.1"), 101)
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultAdminLimitExceeded) {
			t.Errorf("a page over MaxPageSize: %v, want adminLimitExceeded", err)
		}
		_, err = c.Search(search(s.UsersBase, "(objectClass=user)", "1.1"))
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			t.Errorf("unpaged over SizeLimit 50: %v, want sizeLimitExceeded", err)
		}
		// Stop makes the source unreachable.
		s.Stop()
		if c, err := ldap.DialURL(s.URL); err == nil {
			c.Close()
			t.Error("slapd still answers after Stop")
		}
		s.Stop()
	})
}

func TestGenerate(t *testing.T) {
	for _, f := range []Flavor{OpenLDAP, AD} {
		o, err := Options{Flavor: f, Users: 7000, Groups: 50}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		a, b := generate(o), generate(o)
		if !reflect.DeepEqual(a, b) || a.ldif() != b.ldif() {
			t.Fatalf("%v: two generations differ", f)
		}
		logins, dns, mails, guids := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, u := range a.users {
			for _, k := range []struct {
				m map[string]bool
				v string
			}{{logins, strings.ToLower(u.Login)}, {dns, strings.ToLower(u.DN)}, {mails, strings.ToLower(u.Email)}, {guids, u.EntryUUID}} {
				if k.m[k.v] {
					t.Fatalf("%v: %q repeats", f, k.v)
				}
				k.m[k.v] = true
			}
			if n := len(u.MemberOf); n < 1 || n > 3 {
				t.Fatalf("%v: %s in %d groups", f, u.Login, n)
			}
			if f == AD && len(u.Login) > 20 {
				t.Errorf("sAMAccountName %q is longer than AD's 20 characters", u.Login)
			}
		}
	}
	for _, o := range []Options{
		{Flavor: 7}, {Users: -1}, {Users: 10, DuplicateEmails: 6}, {Users: 10, DisabledUsers: 11, Flavor: AD},
		{DisabledUsers: 1}, {SizeLimit: -2}, {MaxPageSize: -1},
	} {
		if _, err := o.withDefaults(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func search(base, filter string, attrs ...string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
}

func entries(res *ldap.SearchResult) int {
	if res == nil {
		return 0
	}
	return len(res.Entries)
}

func dial(t *testing.T, url string) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func serviceConn(t *testing.T, s *Server) *ldap.Conn {
	t.Helper()
	c := dial(t, s.URL)
	if err := c.Bind(s.BindDN, s.BindPassword); err != nil {
		t.Fatalf("service bind: %v", err)
	}
	return c
}

func tlsConfig(t *testing.T, caFile, serverName string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// isUnknownAuthority reports whether err is the verifier's unknown
// authority error. go-ldap's StartTLS flattens the handshake error into
// text (%v), so that one is recognised by its message.
func isUnknownAuthority(err error) bool {
	var ua x509.UnknownAuthorityError
	return errors.As(err, &ua) ||
		err != nil && strings.Contains(err.Error(), "x509: certificate signed by unknown authority")
}

func generalizedTime(t *testing.T, v string) time.Time {
	t.Helper()
	tm, err := time.Parse("20060102150405Z", v)
	if err != nil {
		t.Fatalf("modifyTimestamp %q: %v", v, err)
	}
	return tm
}
