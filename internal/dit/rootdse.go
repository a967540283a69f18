package dit

import (
	"strings"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/version"
)

// The subschema entry every entry names in subschemaSubentry.
const (
	schemaDN   = "cn=schema"
	schemaNorm = "cn=schema"
)

// featureAllOperational advertises "+" (RFC 3673).
const featureAllOperational = "1.3.6.1.4.1.4203.1.5.1"

// buildRootDSE builds the org's RootDSE (RFC 4512 §5.1): what a client
// bound as one of its users learns about the server. It names only that
// org's naming context.
func (o *orgView) buildRootDSE(b *builder) {
	b.add(idObjectClass, "top")
	b.add(idNamingContexts, o.base)
	b.add(idLDAPVersion, "3")
	b.add(idControl, ldap.OIDPagedResults, ldap.OIDSortRequest, ldap.OIDPasswordPolicy, ldap.OIDSyncRequest, ldap.OIDManageDSAit, ldap.OIDVLVRequest)
	b.add(idExtension, ldap.OIDStartTLS, ldap.OIDWhoAmI, ldap.OIDPasswordModify)
	b.add(idFeatures, featureAllOperational)
	b.add(idSubschema, schemaDN)
	b.add(idVendorName, "dirgate")
	b.add(idVendorVersion, version.Version)
	o.setEntry(b, &o.rootDSE, "", "", kindRootDSE, 0, 0, 0)
	o.rootDSE.showAll = true
}

// buildSchema builds cn=schema (RFC 4512 §4.2) for the org: the attribute
// types its entries carry, its custom attributes among them, the matching
// rules they use and the object classes of its entries.
func (o *orgView) buildSchema(b *builder) {
	served := map[attrID]bool{}
	for _, id := range servedAttrs() {
		served[id] = true
	}
	if !o.posix() {
		for _, id := range posixAttrs() {
			delete(served, id)
		}
	}
	for _, c := range o.custom {
		served[c.id] = true
	}
	var rules []*ldap.MatchingRule
	var attrTypes []string
	for id, def := range o.defs {
		if !served[attrID(id)] {
			continue
		}
		at := def.at
		attrTypes = append(attrTypes, describeAttributeType(at, id >= len(globalAttrs)))
		for _, r := range []*ldap.MatchingRule{at.Equality, at.Ordering, at.Substring} {
			if r != nil && !containsRule(rules, r) {
				rules = append(rules, r)
			}
		}
	}
	matchingRules := make([]string, 0, len(rules))
	for _, r := range rules {
		matchingRules = append(matchingRules, "( "+r.OID+" NAME '"+r.Name+"' SYNTAX "+r.Syntax+" )")
	}
	extra := ""
	for _, c := range o.custom {
		extra += " $ " + o.defs[c.id].name
	}
	classes := []string{
		"( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
		"( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( telephoneNumber $ description ) )",
		"( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY ( title $ ou $ telephoneNumber ) )",
		"( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL MAY ( displayName $ givenName $ mail $ mobile $ o $ uid $ nickName $ department $ uniqueIdentifier $ organizationalStatus" + extra + " ) )",
		"( 2.5.6.17 NAME 'groupOfUniqueNames' SUP top STRUCTURAL MUST ( uniqueMember $ cn ) MAY ( description $ o $ ou $ uniqueIdentifier ) )",
		"( 2.5.6.5 NAME 'organizationalUnit' SUP top STRUCTURAL MUST ou MAY description )",
		"( 1.3.6.1.4.1.1466.344 NAME 'dcObject' SUP top AUXILIARY MUST dc )",
		"( 2.5.6.4 NAME 'organization' SUP top STRUCTURAL MUST o MAY ( description $ telephoneNumber ) )",
	}
	if o.posix() { // RFC 2307bis
		classes = append(classes,
			"( 1.3.6.1.1.1.2.0 NAME 'posixAccount' SUP top AUXILIARY MUST ( cn $ uid $ uidNumber $ gidNumber $ homeDirectory ) MAY ( userPassword $ loginShell $ gecos $ description ) )",
			"( 1.3.6.1.1.1.2.1 NAME 'shadowAccount' SUP top AUXILIARY MUST uid MAY ( userPassword $ description $ shadowLastChange ) )",
			"( 1.3.6.1.1.1.2.2 NAME 'posixGroup' SUP top AUXILIARY MUST gidNumber MAY ( userPassword $ memberUid $ description ) )")
	}
	b.add(idObjectClass, "top", "subschema", "subentry")
	b.add(idCN, "schema")
	b.add(idAttributeTypes, attrTypes...)
	b.add(idObjectClasses, classes...)
	b.add(idMatchingRules, matchingRules...)
	b.addDN(idEntryDN, schemaDN, schemaNorm)
	b.add(idStructural, "subentry")
	b.add(idSubschema, schemaDN)
	o.setEntry(b, &o.schema, schemaDN, schemaNorm, kindSchema, 0, 0, 0)
	o.schema.showAll = true
}

func containsRule(rs []*ldap.MatchingRule, r *ldap.MatchingRule) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// describeAttributeType writes at as an RFC 4512 §4.1.2
// AttributeTypeDescription.
func describeAttributeType(at *ldap.AttributeType, custom bool) string {
	var b strings.Builder
	b.WriteString("( ")
	b.WriteString(at.OID)
	b.WriteString(" NAME ")
	if len(at.Names) == 1 {
		b.WriteString("'" + at.Names[0] + "'")
	} else {
		b.WriteString("(")
		for _, n := range at.Names {
			b.WriteString(" '" + n + "'")
		}
		b.WriteString(" )")
	}
	if custom {
		b.WriteString(" DESC 'custom profile attribute'")
	}
	for _, r := range []struct {
		key  string
		rule *ldap.MatchingRule
	}{{"EQUALITY", at.Equality}, {"ORDERING", at.Ordering}, {"SUBSTR", at.Substring}} {
		if r.rule != nil {
			b.WriteString(" " + r.key + " " + r.rule.Name)
		}
	}
	b.WriteString(" SYNTAX " + at.Syntax)
	if at.SingleValue {
		b.WriteString(" SINGLE-VALUE")
	}
	if at.Operational {
		b.WriteString(" NO-USER-MODIFICATION USAGE directoryOperation")
	}
	b.WriteString(" )")
	return b.String()
}
