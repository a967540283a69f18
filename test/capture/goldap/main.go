// Command goldap drives github.com/go-ldap/ldap/v3 against the capture
// responder so its request bytes can be recorded. Each -scenario opens one
// connection, binds, performs one kind of operation and unbinds; run.sh
// records one file per scenario.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"sort"

	"github.com/go-ldap/ldap/v3"
)

const (
	bindDN   = "uid=svc,dc=acme,dc=okta,dc=com"
	bindPW   = "secret"
	usersDN  = "ou=users,dc=acme,dc=okta,dc=com"
	jdoeDN   = "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com"
	peopleDN = "ou=people,dc=acme,dc=okta,dc=com"
)

var scenarios = map[string]func(*ldap.Conn) error{
	"bind": func(*ldap.Conn) error { return nil },
	"search": func(c *ldap.Conn) error {
		_, err := c.Search(ldap.NewSearchRequest(usersDN, ldap.ScopeWholeSubtree,
			ldap.NeverDerefAliases, 10, 5, false,
			"(&(objectClass=inetOrgPerson)(uid=jdoe))", []string{"cn", "mail", "memberOf"}, nil))
		return err
	},
	"paged": func(c *ldap.Conn) error {
		_, err := c.SearchWithPaging(ldap.NewSearchRequest(usersDN, ldap.ScopeSingleLevel,
			ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"uid"}, nil), 2)
		return err
	},
	"whoami": func(c *ldap.Conn) error {
		_, err := c.WhoAmI(nil)
		return err
	},
	"modify": func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest(jdoeDN, nil)
		m.Add("mail", []string{"jdoe2@acme.com"})
		m.Delete("telephoneNumber", nil)
		m.Replace("title", []string{"Engineer", "Lead"})
		return c.Modify(m)
	},
	"add": func(c *ldap.Conn) error {
		a := ldap.NewAddRequest("uid=new,ou=users,dc=acme,dc=okta,dc=com", nil)
		a.Attribute("objectClass", []string{"top", "person", "inetOrgPerson"})
		a.Attribute("uid", []string{"new"})
		a.Attribute("cn", []string{"New User"})
		a.Attribute("sn", []string{"User"})
		a.Attribute("mail", []string{"new@acme.com"})
		return c.Add(a)
	},
	"del": func(c *ldap.Conn) error {
		return c.Del(ldap.NewDelRequest("uid=old,ou=users,dc=acme,dc=okta,dc=com", nil))
	},
	"compare": func(c *ldap.Conn) error {
		ok, err := c.Compare(jdoeDN, "mail", "jdoe@acme.com")
		if err == nil && !ok {
			err = fmt.Errorf("compare: want true")
		}
		return err
	},
	"moddn": func(c *ldap.Conn) error {
		return c.ModifyDN(ldap.NewModifyDNRequest(jdoeDN, "uid=jdoe2", true, peopleDN))
	},
	"passwd": func(c *ldap.Conn) error {
		_, err := c.PasswordModify(ldap.NewPasswordModifyRequest(jdoeDN, "oldpw", "newpw"))
		return err
	},
}

func main() {
	url := flag.String("url", "", "ldap:// URL of the capture responder")
	scenario := flag.String("scenario", "", "what to do after binding")
	flag.Parse()
	run, ok := scenarios[*scenario]
	if *url == "" || !ok {
		names := make([]string, 0, len(scenarios))
		for n := range scenarios {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: goldap -url ldap://127.0.0.1:PORT -scenario %v\n", names)
		os.Exit(2)
	}
	c, err := ldap.DialURL(*url)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Bind(bindDN, bindPW); err != nil {
		log.Fatal(err)
	}
	if err := run(c); err != nil {
		log.Fatalf("%s: %v", *scenario, err)
	}
	if err := c.Unbind(); err != nil {
		log.Fatal(err)
	}
}
