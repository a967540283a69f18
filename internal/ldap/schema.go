package ldap

import "strings"

// AttributeType is the schema of one attribute type (RFC 4512 §4.1.2):
// how its values are compared and whether clients may see it by default.
// A nil rule means assertions of that kind are Undefined.
type AttributeType struct {
	OID         string
	Names       []string // Names[0] is the canonical (short) name
	Equality    *MatchingRule
	Ordering    *MatchingRule
	Substring   *MatchingRule
	Syntax      string
	SingleValue bool
	Operational bool

	lower string // strings.ToLower(Names[0]), the name in normalised DNs
}

// Name returns the canonical name of t.
func (t *AttributeType) Name() string { return t.Names[0] }

func at(oid string, names []string, eq, ord, sub *MatchingRule, syntax string, single, oper bool) *AttributeType {
	return &AttributeType{OID: oid, Names: names, Equality: eq, Ordering: ord, Substring: sub,
		Syntax: syntax, SingleValue: single, Operational: oper, lower: strings.ToLower(names[0])}
}

// Shorthands for the common rule sets.
func dirString(oid string, single bool, names ...string) *AttributeType {
	return at(oid, names, CaseIgnoreMatch, CaseIgnoreOrderingMatch, CaseIgnoreSubstringsMatch, SyntaxDirectoryString, single, false)
}

func dnType(oid string, single, oper bool, names ...string) *AttributeType {
	return at(oid, names, DistinguishedNameMatch, nil, nil, SyntaxDN, single, oper)
}

// Schema lists the attribute types dirgate knows: those of the Okta
// compatibility contract (RFC 4519, RFC 4524, RFC 2798, RFC 2307,
// RFC 4530, RFC 4512 operational attributes) and the other naming
// attributes that DN normalisation maps to short names. nickName and
// department have no registered OID; they use the "name-oid" form that
// OpenLDAP accepts for such types.
var Schema = []*AttributeType{
	at("2.5.4.0", []string{"objectClass"}, ObjectIdentifierMatch, nil, nil, SyntaxOID, false, false),
	dirString("0.9.2342.19200300.100.1.1", false, "uid", "userid"),
	dirString("2.5.4.3", false, "cn", "commonName"),
	dirString("2.5.4.4", false, "sn", "surname"),
	dirString("2.5.4.42", false, "givenName", "gn"),
	at("0.9.2342.19200300.100.1.3", []string{"mail", "rfc822Mailbox"}, CaseIgnoreIA5Match, nil, CaseIgnoreIA5Substrings, SyntaxIA5String, false, false),
	dirString("2.16.840.1.113730.3.1.241", true, "displayName"),
	dirString("nickName-oid", false, "nickName"),
	dirString("2.5.4.12", false, "title"),
	dirString("department-oid", false, "department"),
	dirString("2.16.840.1.113730.3.1.2", false, "departmentNumber"),
	dirString("2.5.4.10", false, "o", "organizationName"),
	dirString("2.5.4.11", false, "ou", "organizationalUnitName"),
	at("0.9.2342.19200300.100.1.25", []string{"dc", "domainComponent"}, CaseIgnoreIA5Match, nil, CaseIgnoreIA5Substrings, SyntaxIA5String, true, false),
	at("0.9.2342.19200300.100.1.41", []string{"mobile", "mobileTelephoneNumber"}, TelephoneNumberMatch, nil, TelephoneNumberSubstrings, SyntaxTelephoneNumber, false, false),
	at("2.5.4.20", []string{"telephoneNumber"}, TelephoneNumberMatch, nil, TelephoneNumberSubstrings, SyntaxTelephoneNumber, false, false),
	at("0.9.2342.19200300.100.1.44", []string{"uniqueIdentifier"}, CaseIgnoreMatch, nil, nil, SyntaxDirectoryString, false, false),
	dirString("0.9.2342.19200300.100.1.45", false, "organizationalStatus"),
	dirString("2.5.4.13", false, "description"),
	dnType("2.5.4.31", false, false, "member"),
	at("2.5.4.50", []string{"uniqueMember"}, UniqueMemberMatch, nil, nil, SyntaxNameAndUID, false, false),
	dnType("1.2.840.113556.1.2.102", false, true, "memberOf"),
	dnType("1.3.6.1.1.20", true, true, "entryDN"),
	at("1.3.6.1.1.16.4", []string{"entryUUID"}, UUIDMatch, UUIDOrderingMatch, nil, SyntaxUUID, true, true),
	at("2.5.18.1", []string{"createTimestamp"}, GeneralizedTimeMatch, GeneralizedTimeOrdering, nil, SyntaxGeneralizedTime, true, true),
	at("2.5.18.2", []string{"modifyTimestamp"}, GeneralizedTimeMatch, GeneralizedTimeOrdering, nil, SyntaxGeneralizedTime, true, true),
	at("2.5.18.9", []string{"hasSubordinates"}, BooleanMatch, nil, nil, SyntaxBoolean, true, true),
	at("1.3.6.1.4.1.453.16.2.103", []string{"numSubordinates"}, IntegerMatch, IntegerOrderingMatch, nil, SyntaxInteger, true, true),
	at("2.5.21.9", []string{"structuralObjectClass"}, ObjectIdentifierMatch, nil, nil, SyntaxOID, true, true),
	dnType("2.5.18.10", true, true, "subschemaSubentry"),
	at("2.5.4.35", []string{"userPassword"}, OctetStringMatch, nil, nil, SyntaxOctetString, false, false),
	at("1.3.6.1.1.1.1.0", []string{"uidNumber"}, IntegerMatch, IntegerOrderingMatch, nil, SyntaxInteger, true, false),
	at("1.3.6.1.1.1.1.1", []string{"gidNumber"}, IntegerMatch, IntegerOrderingMatch, nil, SyntaxInteger, true, false),
	at("1.3.6.1.1.1.1.2", []string{"gecos"}, CaseIgnoreIA5Match, nil, CaseIgnoreIA5Substrings, SyntaxIA5String, true, false),
	at("1.3.6.1.1.1.1.3", []string{"homeDirectory"}, CaseExactIA5Match, nil, nil, SyntaxIA5String, true, false),
	at("1.3.6.1.1.1.1.4", []string{"loginShell"}, CaseExactIA5Match, nil, nil, SyntaxIA5String, true, false),
	at("1.3.6.1.1.1.1.12", []string{"memberUid"}, CaseExactIA5Match, nil, CaseExactIA5Substrings, SyntaxIA5String, false, false),
	at("1.3.6.1.1.1.1.5", []string{"shadowLastChange"}, IntegerMatch, IntegerOrderingMatch, nil, SyntaxInteger, true, false),
	dirString("2.16.840.1.113730.3.1.3", true, "employeeNumber"),
	dnType("0.9.2342.19200300.100.1.10", false, false, "manager"),
	dirString("2.5.4.7", false, "l", "localityName"),
	dirString("2.5.4.8", false, "st", "stateOrProvinceName"),
	dirString("2.5.4.9", false, "street", "streetAddress"),
	dirString("2.5.4.17", false, "postalCode"),
	at("2.5.4.6", []string{"c", "countryName"}, CaseIgnoreMatch, nil, CaseIgnoreSubstringsMatch, SyntaxCountryString, true, false),
	// Further naming attributes (RFC 4519) that DNs may carry.
	at("2.5.4.5", []string{"serialNumber"}, CaseIgnoreMatch, nil, CaseIgnoreSubstringsMatch, SyntaxPrintableString, false, false),
	dirString("2.5.4.43", false, "initials"),
	at("2.5.4.45", []string{"x500UniqueIdentifier"}, OctetStringMatch, nil, nil, SyntaxOctetString, false, false),
	at("2.5.4.46", []string{"dnQualifier"}, CaseIgnoreMatch, CaseIgnoreOrderingMatch, CaseIgnoreSubstringsMatch, SyntaxPrintableString, false, false),
}

// attributeTypes indexes Schema by lower-cased name and by OID.
var attributeTypes = func() map[string]*AttributeType {
	m := make(map[string]*AttributeType, 2*len(Schema))
	for _, t := range Schema {
		m[strings.ToLower(t.OID)] = t
		for _, n := range t.Names {
			m[strings.ToLower(n)] = t
		}
	}
	return m
}()

// LookupAttributeType finds the type of an attribute description (a name,
// in any case, or a numeric OID, with or without options); nil when
// unknown. It does not allocate.
func LookupAttributeType(desc string) *AttributeType {
	typ, _ := SplitAttributeDescription(desc)
	var buf [64]byte
	if len(typ) > len(buf) {
		return nil
	}
	return attributeTypes[string(appendLowerASCII(buf[:0], typ))]
}

// SplitAttributeDescription splits "cn;lang-en;binary" into the type "cn"
// and the options "lang-en;binary" (RFC 4512 §2.5).
func SplitAttributeDescription(desc string) (typ, options string) {
	if i := strings.IndexByte(desc, ';'); i >= 0 {
		return desc[:i], desc[i+1:]
	}
	return desc, ""
}

// canonicalAttrType maps a lower-cased attribute type (name or OID) to the
// name used in normalised DNs: the short name from Schema, so there is one
// table. Unknown types stay as they are. It does not retain its argument,
// which may alias a scratch buffer.
func canonicalAttrType(lower string) string {
	if t := attributeTypes[lower]; t != nil {
		return t.lower
	}
	return lower
}
