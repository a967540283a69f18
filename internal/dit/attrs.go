package dit

import (
	"strings"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

// attrID numbers the attribute types dit serves, so that a search resolves
// its attribute list once and then selects an entry's pre-encoded
// attributes by number. IDs below len(globalAttrs) mean the same in every
// org; an org's custom profile attributes get the IDs after them.
type attrID uint16

// attrDef is one attribute type as served.
type attrDef struct {
	name string              // the type as written in entries (canonical)
	at   *ldap.AttributeType // nil for RootDSE and subschema attributes
	oper bool                // operational: returned for "+" or by name
	// typesOnly is the PartialAttribute with no values, for typesOnly
	// searches.
	typesOnly []byte
}

func newAttrDef(name string, at *ldap.AttributeType, oper bool) *attrDef {
	var e ber.Encoder
	ldap.AppendPartialAttribute(&e, name, nil)
	return &attrDef{name: name, at: at, oper: oper, typesOnly: e.Buf}
}

// The attribute types the global schema does not describe: those of the
// RootDSE (RFC 4512 §5.1) and of the subschema entry (§4.2). They are
// operational.
var extraAttrNames = []string{
	"namingContexts", "supportedLDAPVersion", "supportedControl", "supportedExtension",
	"supportedFeatures", "vendorName", "vendorVersion",
	"attributeTypes", "objectClasses", "matchingRules",
}

var (
	// globalAttrs lists every type of ldap.Schema except userPassword,
	// then extraAttrNames.
	globalAttrs []*attrDef
	// globalByType finds the ID of a schema type.
	globalByType map[*ldap.AttributeType]attrID
	// globalByLower finds the ID of an extra type by lower-cased name.
	globalByLower map[string]attrID
)

// IDs of the attributes dit writes itself.
var (
	idObjectClass, idUID, idCN, idSN, idGivenName, idMail, idDisplayName, idNickName  attrID
	idTitle, idDepartment, idO, idOU, idDC, idMobile, idTelephone, idUniqueIdentifier attrID
	idStatus, idDescription, idUniqueMember, idMemberOf, idEntryDN, idEntryUUID       attrID
	idCreate, idModify, idHasSubs, idNumSubs, idStructural, idSubschema               attrID
	idNamingContexts, idLDAPVersion, idControl, idExtension, idFeatures               attrID
	idVendorName, idVendorVersion, idAttributeTypes, idObjectClasses, idMatchingRules attrID
	idUIDNumber, idGIDNumber, idHome, idShell, idGecos, idMemberUID, idShadowChange   attrID
)

func init() {
	globalByType = make(map[*ldap.AttributeType]attrID, len(ldap.Schema))
	globalByLower = make(map[string]attrID, len(extraAttrNames))
	for _, at := range ldap.Schema {
		if isUserPassword(at) {
			continue
		}
		globalByType[at] = attrID(len(globalAttrs))
		globalAttrs = append(globalAttrs, newAttrDef(at.Name(), at, at.Operational))
	}
	for _, n := range extraAttrNames {
		globalByLower[strings.ToLower(n)] = attrID(len(globalAttrs))
		globalAttrs = append(globalAttrs, newAttrDef(n, nil, true))
	}
	id := func(name string) attrID {
		if at := ldap.LookupAttributeType(name); at != nil {
			if i, ok := globalByType[at]; ok {
				return i
			}
		}
		if i, ok := globalByLower[strings.ToLower(name)]; ok {
			return i
		}
		panic("dit: attribute " + name + " is not in the schema")
	}
	for p, n := range map[*attrID]string{
		&idObjectClass: "objectClass", &idUID: "uid", &idCN: "cn", &idSN: "sn",
		&idGivenName: "givenName", &idMail: "mail", &idDisplayName: "displayName",
		&idNickName: "nickName", &idTitle: "title", &idDepartment: "department", &idO: "o",
		&idOU: "ou", &idDC: "dc", &idMobile: "mobile", &idTelephone: "telephoneNumber",
		&idUniqueIdentifier: "uniqueIdentifier", &idStatus: "organizationalStatus",
		&idDescription: "description", &idUniqueMember: "uniqueMember", &idMemberOf: "memberOf",
		&idEntryDN: "entryDN", &idEntryUUID: "entryUUID", &idCreate: "createTimestamp",
		&idModify: "modifyTimestamp", &idHasSubs: "hasSubordinates", &idNumSubs: "numSubordinates",
		&idStructural: "structuralObjectClass", &idSubschema: "subschemaSubentry",
		&idNamingContexts: "namingContexts", &idLDAPVersion: "supportedLDAPVersion",
		&idControl: "supportedControl", &idExtension: "supportedExtension",
		&idFeatures: "supportedFeatures", &idVendorName: "vendorName",
		&idVendorVersion: "vendorVersion", &idAttributeTypes: "attributeTypes",
		&idObjectClasses: "objectClasses", &idMatchingRules: "matchingRules",
		&idUIDNumber: "uidNumber", &idGIDNumber: "gidNumber", &idHome: "homeDirectory",
		&idShell: "loginShell", &idGecos: "gecos", &idMemberUID: "memberUid",
		&idShadowChange: "shadowLastChange",
	} {
		*p = id(n)
	}
	for _, i := range []attrID{idUniqueMember, idMemberOf, idEntryDN, idSubschema} {
		if globalAttrs[i].at.Equality != ldap.DistinguishedNameMatch && globalAttrs[i].at.Equality != ldap.UniqueMemberMatch {
			panic("dit: " + globalAttrs[i].name + " is expected to be DN-valued")
		}
	}
}

func isUserPassword(at *ldap.AttributeType) bool { return at != nil && at.OID == "2.5.4.35" }

// servedAttrs are the attribute types dit's own entries carry (custom
// attributes aside): those described in cn=schema.
func servedAttrs() []attrID {
	return []attrID{idObjectClass, idUID, idCN, idSN, idGivenName, idMail, idDisplayName,
		idNickName, idTitle, idDepartment, idO, idOU, idDC, idMobile, idTelephone,
		idUniqueIdentifier, idStatus, idDescription, idUniqueMember, idMemberOf, idEntryDN,
		idEntryUUID, idCreate, idModify, idHasSubs, idNumSubs, idStructural, idSubschema,
		idUIDNumber, idGIDNumber, idHome, idShell, idGecos, idMemberUID, idShadowChange} // posixAttrs
}

// lowerInto lower-cases ASCII s into buf without allocating (nil when s
// does not fit).
func lowerInto(buf []byte, s string) []byte {
	if len(s) > cap(buf) {
		return nil
	}
	b := buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// isDescriptor reports whether s is an RFC 4512 descr: ALPHA *(ALPHA /
// DIGIT / '-'). Custom attribute names must be, to be served.
func isDescriptor(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c|0x20 >= 'a' && c|0x20 <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}
