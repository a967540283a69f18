package ldap

import (
	"strings"
	"testing"
)

func TestLookupAttributeType(t *testing.T) {
	tests := []struct {
		in       string
		wantName string // "" for nil
	}{
		{"cn", "cn"},
		{"CN", "cn"},
		{"commonName", "cn"},
		{"2.5.4.3", "cn"},
		{"cn;lang-en", "cn"},
		{"2.5.4.3;x-foo;lang-de", "cn"},
		{"userid", "uid"},
		{"rfc822mailbox", "mail"},
		{"0.9.2342.19200300.100.1.3", "mail"},
		{"memberof", "memberOf"},
		{"entryUUID", "entryUUID"},
		{"1.3.6.1.1.16.4", "entryUUID"},
		{"uidNumber", "uidNumber"},
		{"mobileTelephoneNumber", "mobile"},
		{"nickName", "nickName"},
		{"bogus", ""},
		{"", ""},
		{";lang-en", ""},
		{strings.Repeat("a", 100), ""},
	}
	for _, tt := range tests {
		got := LookupAttributeType(tt.in)
		switch {
		case tt.wantName == "" && got != nil:
			t.Errorf("LookupAttributeType(%q) = %s, want nil", tt.in, got.Name())
		case tt.wantName != "" && (got == nil || got.Name() != tt.wantName):
			t.Errorf("LookupAttributeType(%q) = %v, want %s", tt.in, got, tt.wantName)
		}
	}
}

// The contract's attribute types are all there, with the properties
// clients rely on.
func TestSchemaContract(t *testing.T) {
	for _, name := range strings.Fields(`objectClass uid cn sn givenName mail displayName nickName
		title department departmentNumber o ou dc mobile telephoneNumber uniqueIdentifier
		organizationalStatus description member uniqueMember memberOf entryDN entryUUID
		createTimestamp modifyTimestamp hasSubordinates numSubordinates structuralObjectClass
		subschemaSubentry userPassword uidNumber gidNumber homeDirectory loginShell memberUid
		gecos employeeNumber manager l st street postalCode c`) {
		at := LookupAttributeType(name)
		if at == nil || at.Name() != name || at.Equality == nil || at.Syntax == "" {
			t.Errorf("%s: %+v", name, at)
		}
	}
	for _, op := range []string{"memberOf", "entryDN", "entryUUID", "createTimestamp", "modifyTimestamp",
		"hasSubordinates", "numSubordinates", "structuralObjectClass", "subschemaSubentry"} {
		if !LookupAttributeType(op).Operational {
			t.Errorf("%s is not operational", op)
		}
	}
	for _, user := range []string{"cn", "uid", "mail", "uniqueMember", "userPassword"} {
		if LookupAttributeType(user).Operational {
			t.Errorf("%s is operational", user)
		}
	}
	if LookupAttributeType("uidNumber").Ordering != IntegerOrderingMatch {
		t.Error("uidNumber has no integer ordering")
	}
	// Each OID and name is used once.
	seen := map[string]string{}
	for _, at := range Schema {
		for _, k := range append([]string{at.OID}, at.Names...) {
			k = strings.ToLower(k)
			if prev, dup := seen[k]; dup {
				t.Errorf("%q names both %s and %s", k, prev, at.Name())
			}
			seen[k] = at.Name()
		}
	}
}

func TestSplitAttributeDescription(t *testing.T) {
	tests := []struct{ in, typ, opts string }{
		{"cn", "cn", ""},
		{"cn;lang-en", "cn", "lang-en"},
		{"cn;lang-en;binary", "cn", "lang-en;binary"},
		{"2.5.4.3;x", "2.5.4.3", "x"},
		{"", "", ""},
	}
	for _, tt := range tests {
		typ, opts := SplitAttributeDescription(tt.in)
		if typ != tt.typ || opts != tt.opts {
			t.Errorf("SplitAttributeDescription(%q) = %q, %q; want %q, %q", tt.in, typ, opts, tt.typ, tt.opts)
		}
	}
}

func TestLookupAttributeTypeDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { LookupAttributeType("GivenName;lang-en") }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
