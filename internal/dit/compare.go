package dit

import (
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

var (
	errInvalidDN     = ldapserver.Fail(ldap.InvalidDNSyntax, "invalid DN")
	errUndefinedType = ldapserver.Fail(ldap.UndefinedAttributeType, "no such attribute type")
	errNoSuchAttr    = ldapserver.Fail(ldap.NoSuchAttribute, "the entry has no such attribute")
)

// compare answers a Compare as the bound identity id: on entries it may
// see (others are noSuchObject), with the attribute type's equality rule.
func (d *DIT) compare(id *ldapserver.Identity, req *ldap.CompareRequest) (bool, error) {
	a, err := d.snap.Load().accessOf(id)
	if err != nil {
		return false, err
	}
	norm, err := ldap.NormalizeDN(req.Entry)
	if err != nil {
		return false, errInvalidDN
	}
	i, err := a.org.find(norm)
	if err != nil {
		return false, err
	}
	if !a.visible(i) {
		return false, noSuchObject("")
	}
	at := a.org.lookupType(req.Attr)
	switch {
	case isUserPassword(at):
		return false, errNoCompare
	case at == nil:
		return false, errUndefinedType
	}
	var m matcher
	le := m.of(a.org, &a.org.entries[i], nil)
	f := ldap.Filter{Kind: ldap.FilterEquality, Attr: req.Attr, Value: req.Value}
	if f.Match(le) {
		return true, nil
	}
	present := ldap.Filter{Kind: ldap.FilterPresent, Attr: req.Attr}
	if !present.Match(le) {
		return false, errNoSuchAttr
	}
	return false, nil
}
