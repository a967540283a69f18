package ldapsource

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSettings(t *testing.T) {
	good := `
urls: [ldaps://ad1.corp.example:636, ldap://ad2.corp.example]
startTLS: true
bindDN: cn=sync,ou=svc,dc=corp,dc=example
userSearchBase: ou=Staff,dc=corp,dc=example
userAttribute: sAMAccountName
profileSchema: {email: mail, firstName: givenName, custom:costCenter: extensionAttribute1}
paging: true
`
	s, err := ParseSettings([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if s.PageSize != DefaultPageSize || s.LoginAttribute != "sAMAccountName" || s.Removal != RemoveDeactivate || s.GroupMemberAttr != "member" ||
		s.URLs[1] != "ldap://ad2.corp.example" {
		t.Errorf("defaults: %+v", s)
	}
	if got := strings.Join(Owned(s), ","); got != "costCenter,email,firstName" {
		t.Errorf("owned: %s", got)
	}
	for _, tc := range []struct{ name, doc, field string }{
		{"both attribute and filter", good + "userSearchFilter: (objectClass=person)\n", "userSearchFilter"},
		{"neither", strings.Replace(good, "userAttribute: sAMAccountName\n", "", 1), "userAttribute"},
		{"plain LDAP without StartTLS", strings.Replace(good, "startTLS: true\n", "", 1), "startTLS"},
		{"not an LDAP URL", strings.Replace(good, "ldaps://ad1.corp.example:636", "https://ad1", 1), "urls"},
		{"an unknown profile field", strings.Replace(good, "email: mail", "shoe: size", 1), "profileSchema"},
		{"removal", good + "removal: delete\n", "removal"},
		{"page size", good + "pageSize: -4\n", "pageSize"},
		{"external endpoint over http", good + "externalEndpoint: http://x\n", "externalEndpoint"},
	} {
		_, err := ParseSettings([]byte(tc.doc))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
	if _, err := ParseSettings([]byte(good + "pagingg: true\n")); err == nil || !strings.Contains(err.Error(), "pagingg") {
		t.Errorf("an unknown field: %v", err)
	}
}

func FuzzParseSettings(f *testing.F) {
	f.Add([]byte("urls: [ldaps://h]\nbindDN: cn=x\nuserSearchBase: dc=x\nuserAttribute: uid\n"))
	f.Add([]byte(`{"urls":["ldap://h"],"startTLS":true,"userSearchFilter":"(uid=*)"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSettings(b)
		if err != nil {
			return
		}
		// Normalized settings stay valid, and normalizing again changes
		// nothing.
		before := *s
		if err := s.Normalize(); err != nil {
			t.Fatalf("normalized settings fail Normalize: %v", err)
		}
		if before.PageSize != s.PageSize || before.LoginAttribute != s.LoginAttribute || before.Removal != s.Removal {
			t.Fatalf("Normalize is not idempotent: %+v then %+v", before, *s)
		}
	})
}
