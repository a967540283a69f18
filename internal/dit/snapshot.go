package dit

import (
	"cmp"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
)

// snapshot is every org's LDAP view as of one change sequence. It is
// immutable once published: searches share it without locks, and a
// refresh builds a new one (reusing the orgs that did not change).
type snapshot struct {
	seq    uint64
	orgs   map[string]*orgView // by org id
	byBase map[string]*orgView // by normalised naming context
	// broken are the orgs whose view could not be built (an invalid
	// naming context, say): not served, and rebuilt when they change.
	broken map[string]bool
}

func newSnapshot(seq uint64, orgs map[string]*orgView, broken map[string]bool) *snapshot {
	s := &snapshot{seq: seq, orgs: orgs, broken: broken, byBase: make(map[string]*orgView, len(orgs))}
	for _, o := range orgs {
		s.byBase[o.baseNorm] = o
	}
	return s
}

type kind uint8

const (
	kindBase kind = iota
	kindOU
	kindUser
	kindGroup
	kindRootDSE
	kindSchema
)

// span locates one pre-encoded PartialAttribute in entry.enc.
type span struct {
	id         attrID
	start, end uint32
}

// entry is one LDAP entry, ready to be matched and sent.
type entry struct {
	// le is what filters see: every attribute (user, then operational),
	// with the values of DN-valued attributes already normalised (they
	// match the same, and faster). le.DN is the DN as served.
	le   ldap.Entry
	norm string // normalised DN
	// enc holds each attribute's PartialAttribute, user attributes first,
	// in the order of le.Attributes; spans[k] locates attribute k.
	enc   []byte
	spans []span
	nUser int // spans[:nUser] are user attributes

	lo, hi int32 // the subtree: entries[lo:hi], the entry included
	depth  uint8 // 0 naming context, 1 ou, 2 user or group
	kind   kind
	// showAll: every attribute is returned for "*" and "+" alike (the
	// RootDSE and cn=schema, which clients read without asking for "+").
	showAll bool

	// Users only.
	userID, login   string
	active, viewAll bool
}

// orgView is one org's entries and indexes.
type orgView struct {
	org            *directory.Org
	base, baseNorm string
	// entries: the naming context, ou=users, the users by login,
	// ou=groups, the groups by name.
	entries  []entry
	nUsers   int
	ous      []int32 // the two ou entries
	byNorm   map[string]int32
	byUserID map[string]int32
	idx      [numIndexes]map[string][]int32
	ocKeys   map[string]string // lower-cased objectClass value -> its index key

	defs          []*attrDef // globalAttrs, then the custom attributes
	customByLower map[string]attrID
	customTypes   map[string]*ldap.AttributeType // by lower-cased name and OID
	custom        []customAttr                   // declared order
	types         func(string) *ldap.AttributeType

	rootDSE, schema entry
}

// customAttr is one custom profile attribute the org declares.
type customAttr struct {
	name string // the profile key
	id   attrID
}

// users returns the range of user entries.
func (o *orgView) users() (lo, hi int) { return 2, 2 + o.nUsers }

// attrID resolves a requested attribute description; false when dit
// serves no such type (options never match: entries carry none).
func (o *orgView) attrID(desc string) (attrID, bool) {
	if strings.IndexByte(desc, ';') >= 0 {
		return 0, false
	}
	if at := ldap.LookupAttributeType(desc); at != nil {
		id, ok := globalByType[at]
		return id, ok
	}
	var buf [64]byte
	k := lowerInto(buf[:], desc)
	if k == nil {
		return 0, false
	}
	if id, ok := globalByLower[string(k)]; ok {
		return id, true
	}
	id, ok := o.customByLower[string(k)]
	return id, ok
}

// lookupType resolves an attribute description with the global schema
// and the org's custom attributes.
func (o *orgView) lookupType(desc string) *ldap.AttributeType {
	if at := ldap.LookupAttributeType(desc); at != nil {
		return at
	}
	if o.types != nil {
		return o.types(desc)
	}
	return nil
}

// uuidSpace is the namespace of dirgate's deterministic entryUUIDs.
var uuidSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/dirgate/dirgate/ldap/entryUUID"))

func entryUUID(name string) string { return uuid.NewSHA1(uuidSpace, []byte(name)).String() }

// customOID is the OID of an org's custom attribute: 2.25.<UUID as a
// decimal integer> (X.667), the UUID derived from the org and the name.
func customOID(orgID, name string) string {
	u := uuid.NewSHA1(uuidSpace, []byte("custom-attribute\x00"+orgID+"\x00"+strings.ToLower(name)))
	return "2.25." + new(big.Int).SetBytes(u[:]).String()
}

// generalizedTime formats t for createTimestamp and modifyTimestamp; ""
// (omitted) for the zero time.
func generalizedTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("20060102150405Z")
}

// chunked hands out slices carved from larger blocks, so building an org
// of 100,000 users does not allocate per value.
type chunked[T any] struct{ buf []T }

func (c *chunked[T]) make(n, block int) []T {
	if len(c.buf)+n > cap(c.buf) {
		c.buf = make([]T, 0, max(block, n))
	}
	s := c.buf[len(c.buf) : len(c.buf)+n : len(c.buf)+n]
	c.buf = c.buf[:len(c.buf)+n]
	return s
}

// pending is one attribute of the entry being built.
type pending struct {
	id      attrID
	display []string // as sent
	match   []string // as matched (normalised for DN-valued types)
}

// builder builds entries, sharing its blocks among them.
type builder struct {
	defs  []*attrDef
	types func(string) *ldap.AttributeType
	enc   ber.Encoder
	block []byte // entries are encoded into its free end
	strs  chunked[string]
	attrs chunked[ldap.Attribute]
	spans chunked[span]
	user  []pending
	oper  []pending
}

func (b *builder) vals(n int) []string { return b.strs.make(n, 8192) }

// addDN appends a single-valued DN attribute, matched in normalised form.
func (b *builder) addDN(id attrID, dn, norm string) {
	v := b.vals(2)
	v[0], v[1] = dn, norm
	b.addOwned(id, v[:1], v[1:])
}

// add appends an attribute whose values are sent and matched as they are.
// Empty values are dropped; an attribute left with none is omitted.
func (b *builder) add(id attrID, vals ...string) {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	if n == 0 {
		return
	}
	s := b.vals(n)
	n = 0
	for _, v := range vals {
		if v != "" {
			s[n] = v
			n++
		}
	}
	b.addOwned(id, s, s)
}

// addOwned appends an attribute with values from b.vals (or otherwise
// not to be modified).
func (b *builder) addOwned(id attrID, display, match []string) {
	if len(display) == 0 {
		return
	}
	p := pending{id: id, display: display, match: match}
	if b.defs[id].oper {
		b.oper = append(b.oper, p)
	} else {
		b.user = append(b.user, p)
	}
}

// finish encodes the pending attributes into e and starts a new entry.
func (b *builder) finish(e *entry) {
	n := len(b.user) + len(b.oper)
	e.spans = b.spans.make(n, 4096)
	e.le.Attributes = b.attrs.make(n, 4096)
	e.le.Types = b.types
	e.nUser = len(b.user)
	// Encode straight into the current block; an entry that outgrows it
	// keeps the buffer append gave it.
	if cap(b.block)-len(b.block) < 4096 {
		b.block = make([]byte, 0, 1<<20)
	}
	room := cap(b.block) - len(b.block)
	b.enc.Reset()
	b.enc.Buf = b.block[len(b.block):len(b.block)]
	k := 0
	for _, list := range [2][]pending{b.user, b.oper} {
		for _, p := range list {
			start := len(b.enc.Buf)
			ldap.AppendPartialAttribute(&b.enc, b.defs[p.id].name, p.display)
			e.spans[k] = span{id: p.id, start: uint32(start), end: uint32(len(b.enc.Buf))}
			e.le.Attributes[k] = ldap.Attribute{Type: b.defs[p.id].name, Values: p.match}
			k++
		}
	}
	out := b.enc.Buf
	b.enc.Buf = nil
	if cap(out) == room { // still in the block
		b.block = b.block[:len(b.block)+len(out)]
		out = out[:len(out):len(out)]
	}
	e.enc = out
	b.user, b.oper = b.user[:0], b.oper[:0]
}

// buildOrg builds the LDAP view of one org.
func buildOrg(od *directory.OrgData, log *slog.Logger) (*orgView, error) {
	org := od.Org
	suffix := org.Suffix
	if suffix == "" {
		suffix = directory.DefaultSuffix
	}
	o := &orgView{org: org, base: "dc=" + ldap.EscapeDNValue(org.Name) + "," + suffix}
	var err error
	if o.baseNorm, err = ldap.NormalizeDN(o.base); err != nil {
		return nil, fmt.Errorf("dit: org %s: naming context %q: %w", org.ID, o.base, err)
	}
	o.defineCustom(log)
	b := &builder{defs: o.defs, types: o.types}

	users := slices.Clone(od.Users)
	slices.SortFunc(users, func(x, y *directory.User) int {
		return cmp.Or(strings.Compare(x.LoginKey, y.LoginKey), strings.Compare(x.ID, y.ID))
	})
	groups := slices.Clone(od.Groups)
	slices.SortFunc(groups, func(x, y *directory.Group) int {
		return cmp.Or(strings.Compare(x.NameKey, y.NameKey), strings.Compare(x.ID, y.ID))
	})
	nU, nG := len(users), len(groups)
	o.nUsers = nU
	usersDN := "ou=users," + o.base
	groupsDN := "ou=groups," + o.base
	usersNorm := "ou=users," + o.baseNorm
	groupsNorm := "ou=groups," + o.baseNorm

	// DNs first: memberships refer to them both ways.
	uDN, uNorm := make([]string, nU), make([]string, nU)
	userAt := make(map[string]int32, nU)
	for i, u := range users {
		uDN[i] = "uid=" + ldap.EscapeDNValue(u.Profile.Login) + "," + usersDN
		if uNorm[i], err = ldap.NormalizeDN(uDN[i]); err != nil {
			return nil, fmt.Errorf("dit: user %s: DN %q: %w", u.ID, uDN[i], err)
		}
		userAt[u.ID] = int32(i)
	}
	gDN, gNorm := make([]string, nG), make([]string, nG)
	groupAt := make(map[string]int32, nG)
	for i, g := range groups {
		gDN[i] = "cn=" + ldap.EscapeDNValue(g.Name) + "," + groupsDN
		if gNorm[i], err = ldap.NormalizeDN(gDN[i]); err != nil {
			return nil, fmt.Errorf("dit: group %s: DN %q: %w", g.ID, gDN[i], err)
		}
		groupAt[g.ID] = int32(i)
	}
	pairs := make([]membership, 0, len(od.Memberships))
	for _, m := range od.Memberships {
		u, ok1 := userAt[m.UserID]
		g, ok2 := groupAt[m.GroupID]
		if ok1 && ok2 {
			pairs = append(pairs, membership{u, g})
		}
	}
	memberOf, members := memberships(pairs, nU, nG)

	n := 3 + nU + nG
	o.entries = make([]entry, n)
	o.byNorm = make(map[string]int32, n)
	o.byUserID = make(map[string]int32, nU)
	gFirst := int32(3 + nU)
	o.ous = []int32{1, gFirst - 1}

	// The naming context and the two containers.
	created := generalizedTime(org.Created)
	e := &o.entries[0]
	b.add(idObjectClass, "top", "dcObject", "organization")
	b.add(idDC, org.Name)
	b.add(idO, org.Name)
	b.add(idEntryUUID, entryUUID(org.ID))
	b.addDN(idEntryDN, o.base, o.baseNorm)
	b.add(idHasSubs, "TRUE")
	b.add(idNumSubs, "2")
	b.add(idStructural, "organization")
	b.add(idSubschema, "cn=schema")
	b.add(idCreate, created)
	o.setEntry(b, e, o.base, o.baseNorm, kindBase, 0, 0, int32(n))
	for _, c := range []struct {
		at           int32
		ou, dn, norm string
		subs         int
		hi           int32
	}{{1, "users", usersDN, usersNorm, nU, gFirst - 1}, {gFirst - 1, "groups", groupsDN, groupsNorm, nG, int32(n)}} {
		b.add(idObjectClass, "top", "organizationalUnit")
		b.add(idOU, c.ou)
		b.add(idEntryUUID, entryUUID(org.ID+"/ou="+c.ou))
		b.addDN(idEntryDN, c.dn, c.norm)
		b.add(idHasSubs, boolString(c.subs > 0))
		b.add(idNumSubs, strconv.Itoa(c.subs))
		b.add(idStructural, "organizationalUnit")
		b.add(idSubschema, "cn=schema")
		b.add(idCreate, created)
		o.setEntry(b, &o.entries[c.at], c.dn, c.norm, kindOU, 1, c.at, c.hi)
	}

	for i, u := range users {
		at := int32(2 + i)
		e := &o.entries[at]
		p := &u.Profile
		b.add(idObjectClass, "top", "person", "organizationalPerson", "inetOrgPerson")
		b.add(idUID, p.Login)
		b.add(idCN, commonName(p))
		b.add(idSN, p.LastName)
		b.add(idGivenName, p.FirstName)
		b.add(idDisplayName, p.DisplayName)
		b.add(idNickName, p.NickName)
		b.add(idMail, p.Email)
		b.add(idTitle, p.Title)
		b.add(idDepartment, p.Department)
		b.add(idO, p.Organization)
		b.add(idMobile, p.MobilePhone)
		b.add(idTelephone, p.PrimaryPhone)
		b.add(idUniqueIdentifier, u.ID)
		b.add(idStatus, u.Status)
		for _, c := range o.custom {
			b.add(c.id, p.Custom[c.name])
		}
		b.add(idEntryUUID, entryUUID(u.ID))
		b.addDN(idEntryDN, uDN[i], uNorm[i])
		if gs := memberOf[i]; len(gs) > 0 {
			disp, match := b.vals(len(gs)), b.vals(len(gs))
			for k, g := range gs {
				disp[k], match[k] = gDN[g], gNorm[g]
			}
			b.addOwned(idMemberOf, disp, match)
		}
		b.add(idHasSubs, "FALSE")
		b.add(idStructural, "inetOrgPerson")
		b.add(idSubschema, "cn=schema")
		b.add(idCreate, generalizedTime(u.Created))
		b.add(idModify, generalizedTime(u.LastUpdated))
		o.setEntry(b, e, uDN[i], uNorm[i], kindUser, 2, at, at+1)
		e.userID, e.login = u.ID, p.Login
		e.active = u.Status == directory.StatusActive
		e.viewAll = directory.CanViewAll(u)
		o.byUserID[u.ID] = at
	}

	for i, g := range groups {
		at := gFirst + int32(i)
		e := &o.entries[at]
		b.add(idObjectClass, "top", "groupOfUniqueNames")
		b.add(idCN, g.Name)
		b.add(idDescription, g.Description)
		if us := members[i]; len(us) > 0 {
			disp, match := b.vals(len(us)), b.vals(len(us))
			for k, u := range us {
				disp[k], match[k] = uDN[u], uNorm[u]
			}
			b.addOwned(idUniqueMember, disp, match)
		}
		b.add(idUniqueIdentifier, g.ID)
		b.add(idEntryUUID, entryUUID(g.ID))
		b.addDN(idEntryDN, gDN[i], gNorm[i])
		b.add(idHasSubs, "FALSE")
		b.add(idStructural, "groupOfUniqueNames")
		b.add(idSubschema, "cn=schema")
		b.add(idCreate, generalizedTime(g.Created))
		b.add(idModify, generalizedTime(latest(g.LastUpdated, g.LastMembershipUpdated)))
		o.setEntry(b, e, gDN[i], gNorm[i], kindGroup, 2, at, at+1)
	}

	// Two entries may normalise alike (logins differing only in ways DN
	// matching ignores); the first keeps the DN.
	for i := range o.entries {
		e := &o.entries[i]
		if _, dup := o.byNorm[e.norm]; dup {
			log.Warn("dit: two entries have the same DN; serving the first", "org", org.ID, "dn", e.le.DN)
			continue
		}
		o.byNorm[e.norm] = int32(i)
	}
	o.buildIndexes()
	o.buildRootDSE(b)
	o.buildSchema(b)
	return o, nil
}

func (o *orgView) setEntry(b *builder, e *entry, dn, norm string, k kind, depth uint8, lo, hi int32) {
	b.finish(e)
	e.le.DN, e.norm, e.kind, e.depth, e.lo, e.hi = dn, norm, k, depth, lo, hi
}

// defineCustom assigns IDs and types to the org's custom attributes. A
// name that is not a valid attribute type, that dit serves itself or that
// names userPassword or an operational type is skipped (and logged).
func (o *orgView) defineCustom(log *slog.Logger) {
	o.defs = globalAttrs
	if len(o.org.CustomAttributes) == 0 {
		return
	}
	o.defs = slices.Clip(globalAttrs)
	o.customByLower = map[string]attrID{}
	o.customTypes = map[string]*ldap.AttributeType{}
	reserved := map[attrID]bool{}
	for _, id := range servedAttrs() {
		reserved[id] = true
	}
	seen := map[string]bool{}
	skip := func(name, why string) {
		log.Warn("dit: custom attribute not served", "org", o.org.ID, "attribute", name, "reason", why)
	}
	for _, name := range o.org.CustomAttributes {
		lower := strings.ToLower(name)
		switch {
		case !isDescriptor(name):
			skip(name, "not a valid LDAP attribute type name")
			continue
		case seen[lower]:
			skip(name, "declared twice")
			continue
		}
		seen[lower] = true
		if at := ldap.LookupAttributeType(name); at != nil {
			id, ok := globalByType[at]
			if !ok || reserved[id] || at.Operational {
				skip(name, "the name of an attribute dirgate serves itself")
				continue
			}
			if slices.ContainsFunc(o.custom, func(c customAttr) bool { return c.id == id }) {
				skip(name, "an alias of another custom attribute")
				continue
			}
			o.custom = append(o.custom, customAttr{name: name, id: id})
			continue
		}
		if _, ok := globalByLower[lower]; ok {
			skip(name, "the name of an operational attribute")
			continue
		}
		at := &ldap.AttributeType{OID: customOID(o.org.ID, name), Names: []string{name},
			Equality: ldap.CaseIgnoreMatch, Ordering: ldap.CaseIgnoreOrderingMatch,
			Substring: ldap.CaseIgnoreSubstringsMatch, Syntax: ldap.SyntaxDirectoryString}
		id := attrID(len(o.defs))
		o.defs = append(o.defs, newAttrDef(name, at, false))
		o.customByLower[lower] = id
		o.customByLower[at.OID] = id
		o.customTypes[lower] = at
		o.customTypes[at.OID] = at
		o.custom = append(o.custom, customAttr{name: name, id: id})
	}
	if len(o.customTypes) == 0 {
		return
	}
	types := o.customTypes
	o.types = func(desc string) *ldap.AttributeType {
		typ, _ := ldap.SplitAttributeDescription(desc)
		var buf [64]byte
		k := lowerInto(buf[:], typ)
		if k == nil {
			return nil
		}
		return types[string(k)]
	}
}

// membership is a user (entry number among the users) in a group (among
// the groups).
type membership struct{ u, g int32 }

// memberships turns the membership pairs into each user's groups and each
// group's users (entry order), from two flat arrays.
func memberships(pairs []membership, nU, nG int) (memberOf, members [][]int32) {
	uCount, gCount := make([]int32, nU+1), make([]int32, nG+1)
	for _, p := range pairs {
		uCount[p.u+1]++
		gCount[p.g+1]++
	}
	for i := 1; i <= nU; i++ {
		uCount[i] += uCount[i-1]
	}
	for i := 1; i <= nG; i++ {
		gCount[i] += gCount[i-1]
	}
	uFlat, gFlat := make([]int32, len(pairs)), make([]int32, len(pairs))
	uFill, gFill := slices.Clone(uCount[:nU]), slices.Clone(gCount[:nG])
	for _, p := range pairs {
		uFlat[uFill[p.u]] = p.g
		uFill[p.u]++
		gFlat[gFill[p.g]] = p.u
		gFill[p.g]++
	}
	memberOf, members = make([][]int32, nU), make([][]int32, nG)
	for i := range nU {
		s := uFlat[uCount[i]:uCount[i+1]:uCount[i+1]]
		slices.Sort(s)
		memberOf[i] = slices.Compact(s)
	}
	for i := range nG {
		s := gFlat[gCount[i]:gCount[i+1]:gCount[i+1]]
		slices.Sort(s)
		members[i] = slices.Compact(s)
	}
	return memberOf, members
}

// commonName is displayName, else "first last", else the login.
func commonName(p *directory.Profile) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	if n := strings.TrimSpace(p.FirstName + " " + p.LastName); n != "" {
		return n
	}
	return p.Login
}

func boolString(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
