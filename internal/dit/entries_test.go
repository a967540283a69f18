package dit

import (
	"slices"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/version"
)

func one(t *testing.T, d *DIT, base string, attrs ...string) gotEntry {
	t.Helper()
	es, err := run(t, d, asAdmin, query{base: base, scope: ldap.ScopeBaseObject, attrs: attrs})
	if err != nil || len(es) != 1 {
		t.Fatalf("base search %s: %d entries, %v", base, len(es), err)
	}
	return es[0]
}

type attrList [][2]any // type, values

func checkAttrs(t *testing.T, e gotEntry, want attrList) {
	t.Helper()
	var order []string
	for _, w := range want {
		typ := w[0].(string)
		order = append(order, typ)
		vals := w[1].([]string)
		if got := e.Attrs[typ]; !slices.Equal(got, vals) {
			t.Errorf("%s: %s = %q, want %q", e.DN, typ, got, vals)
		}
	}
	if !slices.Equal(e.Order, order) {
		t.Errorf("%s: attributes %q, want %q", e.DN, e.Order, order)
	}
}

func v(s ...string) []string { return s }

func TestEntryOrderAndDNs(t *testing.T) {
	d := newDIT(t, fixture())
	es, err := run(t, d, asAdmin, query{base: acmeBase, scope: ldap.ScopeWholeSubtree, attrs: []string{"1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{acmeBase, "ou=users," + acmeBase, adminDN, aliceDN, bobDN, carolDN, obrDN, samDN, susanDN,
		"ou=groups," + acmeBase, admsDN, emptyDN, engDN, allDN, rndDN}
	if got := dns(es); !slices.Equal(got, want) {
		t.Errorf("entries:\n got %q\nwant %q", got, want)
	}
	for _, e := range es {
		if len(e.Order) != 0 {
			t.Errorf("%s: 1.1 returned %q", e.DN, e.Order)
		}
	}
}

func TestUserEntry(t *testing.T) {
	d := newDIT(t, fixture())
	user := attrList{
		{"objectClass", v("top", "person", "organizationalPerson", "inetOrgPerson")},
		{"uid", v("alice@acme.example")},
		{"cn", v("Alice L.")},
		{"sn", v("Liddell")},
		{"givenName", v("Alice")},
		{"displayName", v("Alice L.")},
		{"nickName", v("al")},
		{"mail", v("alice@acme.example")},
		{"title", v("Engineer")},
		{"department", v("R&D")},
		{"o", v("Acme")},
		{"mobile", v("+1 555 0100")},
		{"telephoneNumber", v("+1 555 0101")},
		{"uniqueIdentifier", v(aliceID)},
		{"organizationalStatus", v("ACTIVE")},
		{"costCenter", v("CC-42")},
		{"employeeNumber", v("1001")},
	}
	oper := attrList{
		{"entryUUID", v(entryUUID(aliceID))},
		{"entryDN", v(aliceDN)},
		{"memberOf", v(engDN, allDN, rndDN)},
		{"hasSubordinates", v("FALSE")},
		{"structuralObjectClass", v("inetOrgPerson")},
		{"subschemaSubentry", v("cn=schema")},
		{"createTimestamp", v("20240301120000Z")},
		{"modifyTimestamp", v("20240301130000Z")},
	}
	checkAttrs(t, one(t, d, aliceDN), user)
	checkAttrs(t, one(t, d, aliceDN, "+"), oper)
	checkAttrs(t, one(t, d, aliceDN, "*", "+"), append(slices.Clone(user), oper...))

	// Names fall back: "first last", then the login. Empty values are
	// omitted; the custom attributes a user lacks too.
	checkAttrs(t, one(t, d, obrDN), attrList{
		{"objectClass", v("top", "person", "organizationalPerson", "inetOrgPerson")},
		{"uid", v("o'brien@acme.example")}, {"cn", v("O'Brien")}, {"sn", v("O'Brien")},
		{"uniqueIdentifier", v(obrienID)}, {"organizationalStatus", v("ACTIVE")},
	})
	if e := one(t, d, carolDN, "cn", "uid"); !slices.Equal(e.Attrs["cn"], v("Carol.Upper@Acme.Example")) {
		t.Errorf("carol: cn = %q", e.Attrs["cn"])
	}
	if e := one(t, d, bobDN, "cn"); !slices.Equal(e.Attrs["cn"], v("Bob Builder")) {
		t.Errorf("bob: cn = %q", e.Attrs["cn"])
	}
	if e := one(t, d, samDN, "organizationalStatus"); !slices.Equal(e.Attrs["organizationalStatus"], v("SUSPENDED")) {
		t.Errorf("sam: status = %q", e.Attrs["organizationalStatus"])
	}
	// entryUUID is a UUIDv5 of the id: stable across snapshots and nodes.
	if u := entryUUID(aliceID); u == entryUUID(bobID) || u != "26776b1a-34ad-5d05-a5fd-146b1c41c9ca" {
		t.Errorf("entryUUID(%s) = %s", aliceID, u)
	}
}

func TestGroupAndContainerEntries(t *testing.T) {
	d := newDIT(t, fixture())
	checkAttrs(t, one(t, d, engDN, "*", "+"), attrList{
		{"objectClass", v("top", "groupOfUniqueNames")},
		{"cn", v("Engineering")},
		{"description", v("Builds things")},
		{"uniqueMember", v(aliceDN, bobDN, carolDN)},
		{"uniqueIdentifier", v(engID)},
		{"entryUUID", v(entryUUID(engID))},
		{"entryDN", v(engDN)},
		{"hasSubordinates", v("FALSE")},
		{"structuralObjectClass", v("groupOfUniqueNames")},
		{"subschemaSubentry", v("cn=schema")},
		{"createTimestamp", v("20240301120000Z")},
		{"modifyTimestamp", v("20240301140000Z")},
	})
	checkAttrs(t, one(t, d, emptyDN), attrList{
		{"objectClass", v("top", "groupOfUniqueNames")}, {"cn", v("Empty")}, {"uniqueIdentifier", v(emptyID)},
	})
	checkAttrs(t, one(t, d, rndDN, "cn"), attrList{{"cn", v("R&D, Europe")}})
	checkAttrs(t, one(t, d, acmeBase, "*", "+"), attrList{
		{"objectClass", v("top", "dcObject", "organization")},
		{"dc", v("acme")},
		{"o", v("acme")},
		{"entryUUID", v(entryUUID(acmeID))},
		{"entryDN", v(acmeBase)},
		{"hasSubordinates", v("TRUE")},
		{"numSubordinates", v("2")},
		{"structuralObjectClass", v("organization")},
		{"subschemaSubentry", v("cn=schema")},
		{"createTimestamp", v("20240301120000Z")},
	})
	checkAttrs(t, one(t, d, "ou=users,"+acmeBase, "*", "numSubordinates", "hasSubordinates"), attrList{
		{"objectClass", v("top", "organizationalUnit")}, {"ou", v("users")},
		{"hasSubordinates", v("TRUE")}, {"numSubordinates", v("7")},
	})
	checkAttrs(t, one(t, d, "ou=groups,"+acmeBase, "numSubordinates"), attrList{{"numSubordinates", v("5")}})
}

func TestAttributeSelection(t *testing.T) {
	d := newDIT(t, fixture())
	userAttrs := []string{"objectClass", "uid", "cn", "sn", "givenName", "displayName", "nickName", "mail", "title",
		"department", "o", "mobile", "telephoneNumber", "uniqueIdentifier", "organizationalStatus", "costCenter", "employeeNumber"}
	operAttrs := []string{"entryUUID", "entryDN", "memberOf", "hasSubordinates", "structuralObjectClass",
		"subschemaSubentry", "createTimestamp", "modifyTimestamp"}
	tests := []struct {
		name  string
		attrs []string
		want  []string
	}{
		{"none", nil, userAttrs},
		{"star", []string{"*"}, userAttrs},
		{"plus", []string{"+"}, operAttrs},
		{"both", []string{"+", "*"}, append(slices.Clone(userAttrs), operAttrs...)},
		{"names in any case, entry order", []string{"MAIL", "cn"}, []string{"cn", "mail"}},
		{"alias", []string{"commonName", "surname"}, []string{"cn", "sn"}},
		{"OID", []string{"0.9.2342.19200300.100.1.1"}, []string{"uid"}},
		{"twice", []string{"uid", "UID", "userid"}, []string{"uid"}},
		{"1.1", []string{"1.1"}, nil},
		{"1.1 with a name", []string{"1.1", "uid"}, []string{"uid"}},
		{"unknown", []string{"bogus", "x-y"}, nil},
		{"memberOf by name", []string{"memberOf"}, []string{"memberOf"}},
		{"star and memberOf", []string{"*", "memberof"}, append(slices.Clone(userAttrs), "memberOf")},
		{"operational by name", []string{"entryUUID", "createTimestamp"}, []string{"entryUUID", "createTimestamp"}},
		{"userPassword", []string{"userPassword", "2.5.4.35"}, nil},
		{"custom", []string{"COSTCENTER"}, []string{"costCenter"}},
		{"options", []string{"cn;lang-en"}, nil},
		{"not served here", []string{"numSubordinates", "namingContexts"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, typesOnly := range []bool{false, true} {
				es, err := run(t, d, asAdmin, query{base: aliceDN, attrs: tt.attrs, typesOnly: typesOnly})
				if err != nil || len(es) != 1 {
					t.Fatalf("%d entries, %v", len(es), err)
				}
				if got := es[0].Order; !slices.Equal(got, tt.want) {
					t.Errorf("typesOnly=%v: attributes %q, want %q", typesOnly, got, tt.want)
				}
				for typ, vals := range es[0].Attrs {
					if typesOnly != (len(vals) == 0) {
						t.Errorf("typesOnly=%v: %s has %d values", typesOnly, typ, len(vals))
					}
				}
			}
		})
	}
}

func TestRootDSE(t *testing.T) {
	d := newDIT(t, fixture())
	want := attrList{
		{"objectClass", v("top")},
		{"namingContexts", v(acmeBase)},
		{"supportedLDAPVersion", v("3")},
		{"supportedControl", v(ldap.OIDPagedResults, ldap.OIDSortRequest, ldap.OIDPasswordPolicy, ldap.OIDSyncRequest, ldap.OIDManageDSAit, ldap.OIDVLVRequest)},
		{"supportedExtension", v("1.3.6.1.4.1.1466.20037", "1.3.6.1.4.1.4203.1.11.3", "1.3.6.1.4.1.4203.1.11.1")},
		{"supportedFeatures", v("1.3.6.1.4.1.4203.1.5.1")},
		{"subschemaSubentry", v("cn=schema")},
		{"vendorName", v("dirgate")},
		{"vendorVersion", v(version.Version)},
	}
	for _, attrs := range [][]string{nil, {"*"}, {"+"}, {"*", "+"}} {
		es, err := run(t, d, asAlice, query{base: "", attrs: attrs})
		if err != nil || len(es) != 1 {
			t.Fatalf("RootDSE as a plain user, attrs %q: %d entries, %v", attrs, len(es), err)
		}
		checkAttrs(t, es[0], want)
	}
	es, err := run(t, d, asHank, query{base: "", attrs: []string{"namingContexts", "supportedControl"}})
	if err != nil || len(es) != 1 {
		t.Fatalf("RootDSE as globex: %d entries, %v", len(es), err)
	}
	checkAttrs(t, es[0], attrList{{"namingContexts", v(gBase)}, {"supportedControl", v(ldap.OIDPagedResults, ldap.OIDSortRequest, ldap.OIDPasswordPolicy, ldap.OIDSyncRequest, ldap.OIDManageDSAit, ldap.OIDVLVRequest)}})
	if es, err := run(t, d, asAlice, query{base: "", filter: "(objectClass=person)"}); err != nil || len(es) != 0 {
		t.Errorf("RootDSE with a filter that does not match: %d entries, %v", len(es), err)
	}
	for _, scope := range []ldap.Scope{ldap.ScopeSingleLevel, ldap.ScopeWholeSubtree} {
		if _, err := run(t, d, asAdmin, query{base: "", scope: scope}); resultCode(t, err) != ldap.NoSuchObject {
			t.Errorf("base \"\" scope %d: %v, want noSuchObject", scope, err)
		}
	}
}

func TestSchemaEntry(t *testing.T) {
	d := newDIT(t, fixture())
	es, err := run(t, d, asAlice, query{base: "CN=Schema"})
	if err != nil || len(es) != 1 {
		t.Fatalf("cn=schema: %d entries, %v", len(es), err)
	}
	s := es[0]
	if s.DN != "cn=schema" || !slices.Equal(s.Attrs["objectClass"], v("top", "subschema", "subentry")) {
		t.Errorf("cn=schema: DN %q objectClass %q", s.DN, s.Attrs["objectClass"])
	}
	for _, vals := range [][]string{s.Attrs["attributeTypes"], s.Attrs["objectClasses"], s.Attrs["matchingRules"]} {
		if len(vals) == 0 {
			t.Fatalf("cn=schema lacks a description list: %v", s.Order)
		}
		for _, x := range vals {
			if !strings.HasPrefix(x, "( ") || !strings.HasSuffix(x, " )") || strings.Count(x, "(") != strings.Count(x, ")") {
				t.Errorf("malformed description %q", x)
			}
		}
	}
	describes := func(list []string, name string) string {
		for _, x := range list {
			if strings.Contains(x, " NAME '"+name+"' ") || strings.Contains(x, " NAME ( '"+name+"' ") {
				return x
			}
		}
		return ""
	}
	// Every attribute type an entry carries is described, and none other.
	alice := one(t, d, aliceDN, "*", "+")
	eng := one(t, d, engDN, "*", "+")
	base := one(t, d, acmeBase, "*", "+")
	ou := one(t, d, "ou=users,"+acmeBase, "*", "+")
	served := map[string]bool{}
	for _, e := range []gotEntry{alice, eng, base, ou} {
		for _, typ := range e.Order {
			served[typ] = true
			if describes(s.Attrs["attributeTypes"], typ) == "" {
				t.Errorf("attribute %s is served but not in cn=schema", typ)
			}
		}
	}
	if len(s.Attrs["attributeTypes"]) != len(served) {
		t.Errorf("cn=schema describes %d attribute types; entries carry %d", len(s.Attrs["attributeTypes"]), len(served))
	}
	if x := describes(s.Attrs["attributeTypes"], "userPassword"); x != "" {
		t.Errorf("userPassword described: %s", x)
	}
	uid := describes(s.Attrs["attributeTypes"], "uid")
	if want := "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) EQUALITY caseIgnoreMatch ORDERING caseIgnoreOrderingMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )"; uid != want {
		t.Errorf("uid:\n got %s\nwant %s", uid, want)
	}
	if x := describes(s.Attrs["attributeTypes"], "memberOf"); !strings.Contains(x, "USAGE directoryOperation") {
		t.Errorf("memberOf is not operational: %s", x)
	}
	cc := describes(s.Attrs["attributeTypes"], "costCenter")
	if want := "( " + customOID(acmeID, "costCenter") + " NAME 'costCenter' DESC 'custom profile attribute' EQUALITY caseIgnoreMatch ORDERING caseIgnoreOrderingMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )"; cc != want {
		t.Errorf("costCenter:\n got %s\nwant %s", cc, want)
	}
	if !strings.HasPrefix(customOID(acmeID, "costCenter"), "2.25.") || customOID(acmeID, "costCenter") == customOID(globexID, "costCenter") {
		t.Errorf("custom OIDs: %s, %s", customOID(acmeID, "costCenter"), customOID(globexID, "costCenter"))
	}
	for _, oc := range []string{"top", "person", "organizationalPerson", "inetOrgPerson", "groupOfUniqueNames", "organizationalUnit", "dcObject", "organization"} {
		if describes(s.Attrs["objectClasses"], oc) == "" {
			t.Errorf("object class %s not described", oc)
		}
	}
	if x := describes(s.Attrs["objectClasses"], "inetOrgPerson"); !strings.Contains(x, "$ costCenter $ employeeNumber )") {
		t.Errorf("inetOrgPerson does not allow the custom attributes: %s", x)
	}
	if describes(s.Attrs["matchingRules"], "caseIgnoreMatch") == "" || describes(s.Attrs["matchingRules"], "uuidMatch") == "" {
		t.Errorf("matching rules: %q", s.Attrs["matchingRules"])
	}
	// Another org's schema has no costCenter; one-level below cn=schema is
	// empty; a filter applies.
	es, err = run(t, d, asHank, query{base: "cn=schema", attrs: []string{"attributeTypes"}})
	if err != nil || len(es) != 1 || describes(es[0].Attrs["attributeTypes"], "costCenter") != "" {
		t.Errorf("globex schema: %v %v", es, err)
	}
	if es, err := run(t, d, asAdmin, query{base: "cn=schema", scope: ldap.ScopeSingleLevel}); err != nil || len(es) != 0 {
		t.Errorf("one level below cn=schema: %d entries, %v", len(es), err)
	}
	if es, err := run(t, d, asAdmin, query{base: "cn=schema", filter: "(objectClass=subschema)"}); err != nil || len(es) != 1 {
		t.Errorf("(objectClass=subschema) on cn=schema: %d entries, %v", len(es), err)
	}
}
