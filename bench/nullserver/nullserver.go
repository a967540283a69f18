// Package nullserver is the benchmark's floor: an LDAP server that answers
// exactly the load generator's operations, correctly, with next to no work
// — every answer is precomputed from the data set and looked up in a map,
// passwords are compared as plain strings. It runs on dirgate's own server
// core (internal/ldapserver), so the gap between it and dirgate is what
// dirgate's directory, ACL and password checks cost, and the gap between it
// and zero is the protocol, the server core and the load generator.
//
// It recognises a subtree search for (uid=X), for
// (&(objectClass=groupOfUniqueNames)(uniqueMember=DN)) and for
// (objectClass=inetOrgPerson) (paged or not), and simple binds of the data
// set's users and service account. Anything else is refused with
// unwillingToPerform and a diagnostic saying so. A null server process
// for a million users, data set included, takes about 700 MB.
package nullserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/dirgate/dirgate/bench/dataset"
	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// Server is a running null server.
type Server struct {
	srv *ldapserver.Server
}

// New precomputes the answers for set and returns a server ready to Serve.
// It allows plaintext and does not limit connections: it is for loopback
// benchmarks only.
func New(set *dataset.Set) (*Server, error) {
	srv, err := ldapserver.NewServer(ldapserver.Config{
		Backend:             newBackend(set),
		AllowPlaintext:      true,
		MaxConnections:      -1,
		MaxConnectionsPerIP: -1,
		Logger:              slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	return &Server{srv: srv}, nil
}

// Serve accepts ldap:// connections on l until Close; it then returns
// ldapserver.ErrServerClosed.
func (s *Server) Serve(l net.Listener) error { return s.srv.Serve(l) }

// Close closes the listeners and every connection.
func (s *Server) Close() error { return s.srv.Close() }

// Attributes a user entry can return, as bits and in the order of a
// user's precomputed encodings.
const (
	attrUID = 1 << iota
	attrCN
	attrMail
	attrMemberOf
	numUserAttrs = 4
)

// userAttrs are the user attributes "*" (or no list) selects; memberOf is
// operational, as in dirgate and slapd.
const userAttrs = attrUID | attrCN | attrMail

var attrBits = map[string]int{"uid": attrUID, "cn": attrCN, "mail": attrMail, "memberof": attrMemberOf}

// backend implements ldapserver.Backend over precomputed answers. Users
// are indexes 0..N-1, the service account is index N.
type backend struct {
	set *dataset.Set

	normBase, normUsers, normGroups string

	dn   []string // per user
	pw   []string
	raw  []byte   // every user's encoded uid, cn, mail, memberOf
	off  []uint32 // off[i*(numUserAttrs+1)+k]: start of attribute k of user i
	uid  map[string]int
	byDN map[string]int

	groupDN  []string
	groupRaw [][]byte // encoded cn
}

func newBackend(set *dataset.Set) *backend {
	n := set.N()
	b := &backend{
		set:      set,
		dn:       make([]string, n+1),
		pw:       make([]string, n+1),
		off:      make([]uint32, 0, (n+1)*(numUserAttrs+1)),
		uid:      make(map[string]int, n+1),
		byDN:     make(map[string]int, n+1),
		groupDN:  make([]string, set.Groups()),
		groupRaw: make([][]byte, set.Groups()),
	}
	b.normBase = mustNormalize(set.Base())
	b.normUsers = mustNormalize(set.UsersDN())
	b.normGroups = mustNormalize(set.GroupsDN())

	var e ber.Encoder
	e.Buf = make([]byte, 0, (n+1)*120)
	attr := func(typ string, values ...string) {
		if len(values) > 0 {
			ldap.AppendPartialAttribute(&e, typ, values)
		}
	}
	var of []string
	for i := 0; i <= n; i++ {
		var uid, cn, mail string
		of = of[:0]
		if i < n {
			b.dn[i], b.pw[i] = set.DN(i), set.Password(i)
			uid, cn, mail = set.UID(i), set.CN(i), set.Mail(i)
			for _, g := range set.GroupsOf(i) {
				of = append(of, set.GroupDN(g))
			}
		} else {
			b.dn[i], b.pw[i] = set.ServiceDN(), set.ServicePassword()
			uid, cn = set.ServiceUID(), set.ServiceCN()
		}
		b.uid[uid] = i
		b.byDN[mustNormalize(b.dn[i])] = i
		b.off = append(b.off, uint32(len(e.Buf)))
		attr("uid", uid)
		b.off = append(b.off, uint32(len(e.Buf)))
		attr("cn", cn)
		b.off = append(b.off, uint32(len(e.Buf)))
		if mail != "" {
			attr("mail", mail)
		}
		b.off = append(b.off, uint32(len(e.Buf)))
		attr("memberOf", of...)
		b.off = append(b.off, uint32(len(e.Buf)))
	}
	b.raw = e.Buf
	for g := range set.Groups() {
		b.groupDN[g] = set.GroupDN(g)
		var ge ber.Encoder
		ldap.AppendPartialAttribute(&ge, "cn", []string{set.GroupCN(g)})
		b.groupRaw[g] = ge.Buf
	}
	return b
}

func mustNormalize(dn string) string {
	n, err := ldap.NormalizeDN(dn)
	if err != nil {
		panic("nullserver: " + err.Error()) // the data set makes valid DNs
	}
	return n
}

var errCredentials = ldapserver.Fail(ldap.InvalidCredentials, "The credentials provided were invalid.")

func (b *backend) Bind(_ context.Context, _ *ldapserver.Session, name string, password []byte, _ []ldap.Control) (ldapserver.Identity, error) {
	norm, err := ldap.NormalizeDN(name)
	if err != nil {
		return ldapserver.Identity{}, errCredentials
	}
	i, ok := b.byDN[norm]
	if !ok || string(password) != b.pw[i] {
		return ldapserver.Identity{}, errCredentials
	}
	return ldapserver.Identity{DN: b.dn[i]}, nil
}

// refuse answers what the load generator never sends.
func refuse(what string) error {
	return ldapserver.Fail(ldap.UnwillingToPerform, "null server: "+what+
		"; it answers only subtree searches for (uid=X), (&(objectClass=groupOfUniqueNames)(uniqueMember=DN)) and (objectClass=inetOrgPerson)")
}

func (b *backend) Search(_ context.Context, _ *ldapserver.Session, req *ldap.SearchRequest, _ []ldap.Control) (ldapserver.Cursor, error) {
	if req.Scope != ldap.ScopeWholeSubtree {
		return nil, refuse("only subtree searches are supported")
	}
	if req.TypesOnly {
		return nil, refuse("typesOnly is not supported")
	}
	base, err := ldap.NormalizeDN(req.BaseObject)
	if err != nil {
		return nil, ldapserver.Fail(ldap.InvalidDNSyntax, "invalid base DN")
	}
	var users, groups bool // whether the base holds them
	switch base {
	case b.normBase:
		users, groups = true, true
	case b.normUsers:
		users = true
	case b.normGroups:
		groups = true
	default:
		return nil, refuse("the base must be the naming context, its ou=users or its ou=groups")
	}

	f := &req.Filter
	c := &cursor{b: b}
	switch {
	case isEq(f, "uid"):
		c.mask = userMask(req.Attributes)
		if i, ok := b.uid[f.Value]; ok && users {
			c.one[0] = i
			c.ids = c.one[:]
		}
	case isEq(f, "objectClass") && strings.EqualFold(f.Value, "inetOrgPerson"):
		c.mask = userMask(req.Attributes)
		if users {
			c.all = len(b.dn)
		}
	case f.Kind == ldap.FilterAnd && len(f.Children) == 2:
		oc, m := &f.Children[0], &f.Children[1]
		if isEq(m, "objectClass") {
			oc, m = m, oc
		}
		if !isEq(oc, "objectClass") || !strings.EqualFold(oc.Value, "groupOfUniqueNames") || !isEq(m, "uniqueMember") {
			return nil, refuse("unsupported filter " + f.String())
		}
		c.group = true
		c.mask = groupMask(req.Attributes)
		if norm, err := ldap.NormalizeDN(m.Value); err == nil && groups {
			if i, ok := b.byDN[norm]; ok && i < b.set.N() {
				c.ids = b.set.GroupsOf(i)
			}
		}
	default:
		return nil, refuse("unsupported filter " + f.String())
	}
	return c, nil
}

func isEq(f *ldap.Filter, attr string) bool {
	return f.Kind == ldap.FilterEquality && strings.EqualFold(f.Attr, attr)
}

// userMask maps a requested attribute list to attribute bits: none for
// "1.1" alone, the user attributes for an empty list or "*".
func userMask(list []string) int {
	if len(list) == 0 {
		return userAttrs
	}
	m := 0
	for _, a := range list {
		switch {
		case a == "*":
			m |= userAttrs
		case a == "+":
			m |= attrMemberOf
		default:
			m |= attrBits[strings.ToLower(a)]
		}
	}
	return m
}

// groupMask is 1 when cn is selected.
func groupMask(list []string) int {
	if len(list) == 0 {
		return 1
	}
	for _, a := range list {
		if a == "*" || strings.EqualFold(a, "cn") {
			return 1
		}
	}
	return 0
}

func (b *backend) Compare(context.Context, *ldapserver.Session, *ldap.CompareRequest, []ldap.Control) (bool, error) {
	return false, refuse("compare is not supported")
}

func (b *backend) Extended(context.Context, *ldapserver.Session, *ldap.ExtendedRequest, []ldap.Control) (ldap.ExtendedResponse, error) {
	return ldap.ExtendedResponse{}, ldapserver.ErrUnknownExtended
}

// cursor returns the users ids (or all users, service account last, when
// all is set) or the groups ids.
type cursor struct {
	b     *backend
	group bool
	ids   []int
	all   int
	pos   int
	mask  int
	one   [1]int
}

func (c *cursor) Next(_ context.Context, w *ldapserver.EntryWriter) error {
	var i int
	switch {
	case c.all > 0:
		if c.pos >= c.all {
			return io.EOF
		}
		i = c.pos
	case c.pos < len(c.ids):
		i = c.ids[c.pos]
	default:
		return io.EOF
	}
	c.pos++
	b := c.b
	if c.group {
		w.Begin(b.groupDN[i])
		if c.mask != 0 {
			w.Raw(b.groupRaw[i])
		}
		w.End()
		return nil
	}
	w.Begin(b.dn[i])
	off := b.off[i*(numUserAttrs+1) : (i+1)*(numUserAttrs+1)]
	for k := range numUserAttrs {
		if c.mask&(1<<k) != 0 {
			w.Raw(b.raw[off[k]:off[k+1]])
		}
	}
	w.End()
	return nil
}

func (c *cursor) Close() {}
