package storetest

import (
	"testing"

	"github.com/dirgate/dirgate/internal/store"
)

// testOrgSelfService pins that SelfServiceAttributes keeps nil (the
// default set) apart from empty (nothing editable) and keeps a list, and
// that the LDAP settings are kept, on and off, the POSIX ones too.
func testOrgSelfService(t *testing.T, s store.Store) {
	orgs := []*store.Org{newOrg(1, "acme"), newOrg(2, "beta"), newOrg(3, "gamma")}
	orgs[0].SelfServiceAttributes = nil
	orgs[1].SelfServiceAttributes = []string{}
	orgs[2].SelfServiceAttributes = []string{"firstName", "mobilePhone"}
	orgs[1].LDAP.Writes = true
	orgs[2].LDAP.POSIX = store.POSIXSettings{Enabled: true, UIDMin: 10000, UIDMax: 59999, GIDMin: 20000, GIDMax: 69999,
		PrimaryGID: 100, Home: "/home/{login}", Shell: "/bin/bash"}
	update(t, s, func(tx store.Tx) error {
		for _, o := range orgs {
			if err := tx.CreateOrg(o); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(when string) {
		view(t, s, func(r store.Reader) error {
			for _, want := range orgs {
				got, err := r.Org(want.ID)
				if err != nil {
					return err
				}
				if got.LDAP != want.LDAP {
					t.Errorf("%s: org %s LDAP = %+v, want %+v", when, want.Name, got.LDAP, want.LDAP)
				}
				if (got.SelfServiceAttributes == nil) != (want.SelfServiceAttributes == nil) ||
					len(got.SelfServiceAttributes) != len(want.SelfServiceAttributes) {
					t.Errorf("%s: org %s SelfServiceAttributes = %#v, want %#v", when, want.Name, got.SelfServiceAttributes, want.SelfServiceAttributes)
					continue
				}
				for i := range want.SelfServiceAttributes {
					if got.SelfServiceAttributes[i] != want.SelfServiceAttributes[i] {
						t.Errorf("%s: org %s SelfServiceAttributes = %q, want %q", when, want.Name, got.SelfServiceAttributes, want.SelfServiceAttributes)
					}
				}
			}
			return nil
		})
	}
	check("created")
	orgs[0].SelfServiceAttributes = []string{"nickName"}
	orgs[2].SelfServiceAttributes = nil
	orgs[1].LDAP.Writes, orgs[2].LDAP.Writes = false, true
	orgs[1].LDAP.POSIX = store.POSIXSettings{UIDMin: 1000, UIDMax: 1999} // off, with a range
	orgs[2].LDAP.POSIX = store.POSIXSettings{}
	update(t, s, func(tx store.Tx) error {
		for _, o := range orgs {
			if err := tx.UpdateOrg(o); err != nil {
				return err
			}
		}
		return nil
	})
	check("updated")
}
