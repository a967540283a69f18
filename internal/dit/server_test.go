package dit

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// serve runs a real server for d on 127.0.0.1 (plaintext: loopback only).
func serve(t *testing.T, d *DIT) string {
	t.Helper()
	srv, err := ldapserver.NewServer(ldapserver.Config{Backend: d, AllowPlaintext: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "ldap://" + l.Addr().String()
}

func dial(t *testing.T, url, dn, pw string) *goldap.Conn {
	t.Helper()
	c, err := goldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if dn != "" {
		if err := c.Bind(dn, pw); err != nil {
			t.Fatalf("bind %s: %v", dn, err)
		}
	}
	return c
}

func ldapCode(err error) uint16 {
	var le *goldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0
}

const (
	bigBase  = "dc=big,dc=okta,dc=com"
	bigAdmin = "uid=user00000@big.example,dc=big,dc=okta,dc=com"
	bigUsers = 1500
)

func TestServer(t *testing.T) {
	f := fixture()
	f.addBigOrg("00obig", "big", bigUsers)
	d := newDIT(t, f)
	url := serve(t, d)

	t.Run("bind and WhoAmI", func(t *testing.T) {
		c := dial(t, url, "uid=alice@acme.example,dc=acme,dc=okta,dc=com", "alice-password")
		w, err := c.WhoAmI(nil)
		if err != nil || w.AuthzID != "dn:"+aliceDN {
			t.Errorf("WhoAmI: %+v %v", w, err)
		}
		f.mu.Lock()
		last := f.auths[len(f.auths)-1]
		f.mu.Unlock()
		if last.Client.IP != "127.0.0.1" || last.Client.TLS || last.Client.Protocol != "ldap" {
			t.Errorf("client info: %+v", last.Client)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		c := dial(t, url, "", "")
		err := c.Bind(aliceDN, "nope")
		var le *goldap.Error
		if !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultInvalidCredentials || le.Err.Error() != directory.MsgInvalidCredentials {
			t.Errorf("bind: %v", err)
		}
	})

	t.Run("search", func(t *testing.T) {
		c := dial(t, url, adminDN, "admin-password")
		res, err := c.Search(goldap.NewSearchRequest(acmeBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
			"(&(objectClass=inetOrgPerson)(uid=ALICE@acme.example))", []string{"cn", "memberOf", "userPassword"}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("search: %v %v", res, err)
		}
		e := res.Entries[0]
		if e.DN != aliceDN || e.GetAttributeValue("cn") != "Alice L." || !slices.Equal(e.GetAttributeValues("memberOf"), []string{engDN, allDN, rndDN}) || len(e.Attributes) != 2 {
			t.Errorf("entry: %s %v", e.DN, e.Attributes)
		}
		res, err = c.Search(goldap.NewSearchRequest("", goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil))
		if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("namingContexts") != acmeBase {
			t.Errorf("RootDSE: %v %v", res, err)
		}
		_, err = c.Search(goldap.NewSearchRequest("uid=nobody,ou=users,"+acmeBase, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil))
		var le *goldap.Error
		if !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultNoSuchObject || le.MatchedDN != usersOU {
			t.Errorf("missing base: %v", err)
		}
	})

	t.Run("compare", func(t *testing.T) {
		c := dial(t, url, adminDN, "admin-password")
		if ok, err := c.Compare(aliceDN, "mail", "ALICE@acme.example"); !ok || err != nil {
			t.Errorf("compare: %v %v", ok, err)
		}
		if ok, err := c.Compare(aliceDN, "mail", "x@y"); ok || err != nil {
			t.Errorf("compare false: %v %v", ok, err)
		}
		if _, err := c.Compare(aliceDN, "userPassword", "x"); ldapCode(err) != goldap.LDAPResultInsufficientAccessRights {
			t.Errorf("compare userPassword: %v", err)
		}
	})

	t.Run("1000-entry limit", func(t *testing.T) {
		c := dial(t, url, bigAdmin, "password")
		res, err := c.Search(goldap.NewSearchRequest(bigBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=inetOrgPerson)", []string{"uid"}, nil))
		if ldapCode(err) != goldap.LDAPResultSizeLimitExceeded || res == nil || len(res.Entries) != 1000 {
			n := -1
			if res != nil {
				n = len(res.Entries)
			}
			t.Fatalf("unpaged search of %d users: %d entries, %v", bigUsers, n, err)
		}
		if res.Entries[0].GetAttributeValue("uid") != "user00000@big.example" || res.Entries[999].GetAttributeValue("uid") != "user00999@big.example" {
			t.Errorf("first and last: %s, %s", res.Entries[0].DN, res.Entries[999].DN)
		}
	})

	t.Run("paging", func(t *testing.T) {
		c := dial(t, url, bigAdmin, "password")
		res, err := c.SearchWithPaging(goldap.NewSearchRequest(bigBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=inetOrgPerson)", []string{"uid"}, nil), 400)
		if err != nil || len(res.Entries) != bigUsers {
			t.Fatalf("paged: %d entries, %v", len(res.Entries), err)
		}
		for i, e := range res.Entries {
			if i > 0 && e.GetAttributeValue("uid") <= res.Entries[i-1].GetAttributeValue("uid") {
				t.Fatalf("entry %d out of order: %s", i, e.DN)
			}
		}
		// Group member lookups, as pg_hba or an LDAP sync would do them.
		res, err = c.Search(goldap.NewSearchRequest(bigBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
			"(&(objectClass=groupOfUniqueNames)(uniqueMember=uid=user01234@big.example,ou=users,dc=big,dc=okta,dc=com))", []string{"cn"}, nil))
		if err != nil || len(res.Entries) != 2 || res.Entries[0].GetAttributeValue("cn") != "all" || res.Entries[1].GetAttributeValue("cn") != "group0012" {
			t.Errorf("groups of a member: %v %v", res, err)
		}
	})

	t.Run("plain user", func(t *testing.T) {
		c := dial(t, url, bobDN, "bob-password")
		res, err := c.SearchWithPaging(goldap.NewSearchRequest(acmeBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"1.1"}, nil), 10)
		if err != nil || len(res.Entries) != 1 || res.Entries[0].DN != bobDN {
			t.Errorf("plain user: %v %v", res, err)
		}
	})

	t.Run("refresh", func(t *testing.T) {
		c := dial(t, url, adminDN, "admin-password")
		f.addUser(acmeID, "00udave", directory.Profile{Login: "dave@acme.example"}, "dave-password")
		if err := d.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		res, err := c.Search(goldap.NewSearchRequest(usersOU, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
			"(uid=dave@acme.example)", nil, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Errorf("new user over LDAP: %v %v", res, err)
		}
		dial(t, url, "uid=dave@acme.example,dc=acme,dc=okta,dc=com", "dave-password")
	})
}
