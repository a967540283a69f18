package interop

import (
	"context"
	"crypto/subtle"
	"io"
	"strings"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// memBackend is a small in-memory directory for driving the server with
// real clients: one org under dc=acme,dc=okta,dc=com.
type memBackend struct {
	entries   []memEntry
	byNorm    map[string]*memEntry
	passwords map[string]string // normalised DN -> password
}

type memEntry struct {
	dn    string
	norm  string // normalised DN
	pdn   ldap.DN
	attrs []ldap.Attribute
}

const suffix = "dc=acme,dc=okta,dc=com"

var userNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}

func newMemBackend() *memBackend {
	b := &memBackend{byNorm: map[string]*memEntry{}, passwords: map[string]string{}}
	add := func(dn string, attrs ...ldap.Attribute) {
		norm, err := ldap.NormalizeDN(dn)
		if err != nil {
			panic(err)
		}
		pdn, err := ldap.ParseDN(dn)
		if err != nil {
			panic(err)
		}
		b.entries = append(b.entries, memEntry{dn: dn, norm: norm, pdn: pdn, attrs: attrs})
	}
	av := func(t string, v ...string) ldap.Attribute { return ldap.Attribute{Type: t, Values: v} }
	add(suffix, av("objectClass", "top", "dcObject", "organization"), av("dc", "acme"), av("o", "Acme"))
	add("ou=users,"+suffix, av("objectClass", "top", "organizationalUnit"), av("ou", "users"))
	add("ou=groups,"+suffix, av("objectClass", "top", "organizationalUnit"), av("ou", "groups"))
	var members []string
	for _, u := range userNames {
		dn := "uid=" + u + ",ou=users," + suffix
		members = append(members, dn)
		title := "Engineer"
		if u == "alice" {
			title = "Director"
		}
		add(dn,
			av("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson"),
			av("uid", u), av("cn", strings.ToUpper(u[:1])+u[1:]+" Example"), av("sn", "Example"),
			av("givenName", strings.ToUpper(u[:1])+u[1:]), av("mail", u+"@acme.example"),
			av("title", title), av("organizationalStatus", "ACTIVE"),
			av("userPassword", "{SSHA}never-returned"))
		norm, _ := ldap.NormalizeDN(dn)
		b.passwords[norm] = u + "-password"
	}
	add("cn=admins,ou=groups,"+suffix, av("objectClass", "top", "groupOfUniqueNames"), av("cn", "admins"), av("uniqueMember", members[0]))
	add("cn=everyone,ou=groups,"+suffix, av("objectClass", "top", "groupOfUniqueNames"), av("cn", "everyone"), av("uniqueMember", members...))
	for i := range b.entries {
		b.byNorm[b.entries[i].norm] = &b.entries[i]
	}
	return b
}

var errInvalidCredentials = ldapserver.Fail(ldap.InvalidCredentials, "The credentials provided were invalid.")

func (b *memBackend) Bind(ctx context.Context, s *ldapserver.Session, name string, pw []byte, _ []ldap.Control) (ldapserver.Identity, error) {
	norm, err := ldap.NormalizeDN(name)
	if err != nil {
		return ldapserver.Identity{}, errInvalidCredentials
	}
	want, ok := b.passwords[norm]
	if !ok || subtle.ConstantTimeCompare([]byte(want), pw) != 1 {
		return ldapserver.Identity{}, errInvalidCredentials
	}
	return ldapserver.Identity{DN: b.byNorm[norm].dn}, nil
}

func (b *memBackend) Search(ctx context.Context, s *ldapserver.Session, req *ldap.SearchRequest, _ []ldap.Control) (ldapserver.Cursor, error) {
	base, err := ldap.NormalizeDN(req.BaseObject)
	if err != nil {
		return nil, ldapserver.Fail(ldap.InvalidDNSyntax, "invalid base DN")
	}
	baseEntry, ok := b.byNorm[base]
	if !ok {
		return nil, &ldapserver.ResultError{Code: ldap.NoSuchObject, Diagnostic: "no such entry"}
	}
	var hits []*memEntry
	for i := range b.entries {
		e := &b.entries[i]
		var inScope bool
		switch req.Scope {
		case ldap.ScopeBaseObject:
			inScope = e.norm == base
		case ldap.ScopeSingleLevel:
			inScope = e.pdn.IsChildOf(baseEntry.pdn)
		default:
			inScope = e.norm == base || ldap.IsDescendantNorm(e.norm, base)
		}
		if inScope && req.Filter.Match(&ldap.Entry{DN: e.dn, Attributes: e.attrs}) {
			hits = append(hits, e)
		}
	}
	return &memCursor{hits: hits, sel: req.Attributes}, nil
}

func (b *memBackend) Compare(ctx context.Context, s *ldapserver.Session, req *ldap.CompareRequest, _ []ldap.Control) (bool, error) {
	norm, err := ldap.NormalizeDN(req.Entry)
	if err != nil {
		return false, ldapserver.Fail(ldap.InvalidDNSyntax, "invalid DN")
	}
	e, ok := b.byNorm[norm]
	if !ok {
		return false, ldapserver.Fail(ldap.NoSuchObject, "no such entry")
	}
	f := ldap.Filter{Kind: ldap.FilterEquality, Attr: req.Attr, Value: req.Value}
	return f.Match(&ldap.Entry{DN: e.dn, Attributes: e.attrs}), nil
}

func (b *memBackend) Extended(ctx context.Context, s *ldapserver.Session, req *ldap.ExtendedRequest, _ []ldap.Control) (ldap.ExtendedResponse, error) {
	if req.Name == ldap.OIDWhoAmI {
		return ldap.ExtendedResponse{Value: []byte("dn:" + s.Identity().DN), HasValue: true}, nil
	}
	return ldap.ExtendedResponse{}, ldapserver.ErrUnknownExtended
}

type memCursor struct {
	hits []*memEntry
	sel  []string
}

func (c *memCursor) Next(ctx context.Context, w *ldapserver.EntryWriter) error {
	if len(c.hits) == 0 {
		return io.EOF
	}
	e := c.hits[0]
	c.hits = c.hits[1:]
	w.Begin(e.dn)
	for _, a := range e.attrs {
		if selected(a.Type, c.sel) {
			w.Attribute(a.Type, a.Values)
		}
	}
	w.End()
	return nil
}

func (c *memCursor) Close() {}

// selected applies the requested attribute list: none or "*" is every user
// attribute, "1.1" none; userPassword is never returned.
func selected(typ string, sel []string) bool {
	if strings.EqualFold(typ, "userPassword") {
		return false
	}
	if len(sel) == 0 {
		return true
	}
	for _, s := range sel {
		if s == "*" || strings.EqualFold(s, typ) {
			return true
		}
	}
	return false
}
