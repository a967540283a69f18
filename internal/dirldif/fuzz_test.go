package dirldif

import (
	"strings"
	"testing"
)

// FuzzRead: any input maps to a batch or an error, never a panic, and
// every user in a batch has a login.
func FuzzRead(f *testing.F) {
	f.Add(slapcatLDIF)
	f.Add("dn: uid=a,ou=users,dc=x\nobjectClass: inetOrgPerson\nuid: a\nuserPassword: {SSHA}x\n\n")
	f.Add("dn: cn=g,ou=groups,dc=x\nobjectClass: groupOfNames\nmember: uid=a,ou=users,dc=x\nmember: cn=g,ou=groups,dc=x\n")
	f.Add("dn:: dWlkPXBhdFwrdGVzdCxkYz14\nobjectClass: person\ncn: p\n")
	f.Fuzz(func(t *testing.T, in string) {
		b, err := Read(strings.NewReader(in), Options{Hash: fakeHash})
		if err != nil {
			return
		}
		for _, u := range b.Users {
			if u.Profile.Login == "" {
				t.Fatalf("user without a login from %s", u.Source)
			}
		}
	})
}
