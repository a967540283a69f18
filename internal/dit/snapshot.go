package dit

import (
	"cmp"
	"fmt"
	"log/slog"
	"math/big"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

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
	id attrID
	// norm: the values are matched in the normalised form entry.norms
	// holds (DN-valued attributes whose values are not already so).
	norm       bool
	start, end uint32
}

// entry is one LDAP entry, ready to be matched and sent.
type entry struct {
	dn   string // as served
	norm string // normalised (the same string as dn when they are equal)
	// enc holds each attribute's PartialAttribute, user attributes first,
	// then operational ones; spans[k] locates attribute k. It is the only
	// copy of the values: filters read them from there (values.go).
	enc   []byte
	spans []span
	// norms are the match values of the spans marked norm, in span order:
	// DN values normalised, so they match the same, and faster.
	norms []string
	nUser int // spans[:nUser] are user attributes

	lo, hi int32 // the subtree: entries[lo:hi], the entry included
	// sid is the entry's stable number, kept while it is patched or
	// moved: orgView.pos[sid] is its position.
	sid   int32
	depth uint8 // 0 naming context, 1 ou, 2 user or group
	kind  kind
	// showAll: every attribute is returned for "*" and "+" alike (the
	// RootDSE and cn=schema, which clients read without asking for "+").
	showAll bool

	// own: enc has a block of its own, freed with the entry (others
	// share blocks, which stay while any of their entries does).
	own bool

	// Users only.
	active, viewAll bool
	login           string
	cred            *directory.Credential // what a bind needs of the record
	// Users and groups: the record's id, and the key entries are sorted
	// by (LoginKey or NameKey, then id).
	id, key string
}

// orgView is one org's entries and indexes. Refreshes patch it into a new
// orgView (patch.go); a published one is never modified.
type orgView struct {
	org            *directory.Org
	signIn         *directory.SignIn // the org's compiled policies, for binds
	base, baseNorm string
	// entries: the naming context, ou=users, the users by login,
	// ou=groups, the groups by name.
	entries []entry
	nUsers  int
	ous     []int32 // the two ou entries
	// The maps name entries by sid, which pos turns into a position: a
	// patch that shifts entries rewrites pos, not the maps.
	pos       []int32 // sid -> position; -1: no longer used
	byNorm    map[string]int32
	byUserID  map[string]int32
	byGroupID map[string]int32
	// dupNorms are the normalised DNs more than one entry has (logins
	// that differ only in ways DN matching ignores): byNorm names the
	// first. Normally nil.
	dupNorms map[string]bool
	idx      [numIndexes]postings
	ocKeys   map[string]string // lower-cased objectClass value -> its index key
	// memberOf lists each user's groups, members each group's users, by
	// number among the users and among the groups, in entry order.
	memberOf, members csr
	// nest is the org's nested groups (nested.go); nil when it has none.
	nest *nesting

	defs          []*attrDef // globalAttrs, then the custom attributes
	customByLower map[string]attrID
	customTypes   map[string]*ldap.AttributeType // by lower-cased name and OID
	custom        []customAttr                   // declared order
	types         func(string) *ldap.AttributeType

	rootDSE, schema entry

	// built is what the full build allocated for entries. pinned
	// estimates what patches since left unused in blocks that live on:
	// the entries they replaced that shared a block, and the tails of
	// their own blocks. A view whose pinned memory reaches what it was
	// built with is built again.
	built, pinned int
}

// csr is a list of lists of int32 in two flat arrays: list i is
// flat[off[i]:off[i+1]].
type csr struct{ off, flat []int32 }

func (c *csr) list(i int) []int32 { return c.flat[c.off[i]:c.off[i+1]:c.off[i+1]] }

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
type chunked[T any] struct {
	buf   []T
	alloc int // elements allocated
}

func (c *chunked[T]) make(n, block int) []T {
	if len(c.buf)+n > cap(c.buf) {
		c.buf = make([]T, 0, max(block, n))
		c.alloc += cap(c.buf)
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

// builder builds entries, sharing its blocks among them. A block lives as
// long as any entry in it, so a patch, which builds a few entries that
// may be replaced one by one later, uses blocks sized to what it builds
// and copies each encoding in (exact) instead of encoding in place.
type builder struct {
	defs  []*attrDef
	types func(string) *ldap.AttributeType
	enc   ber.Encoder
	block []byte          // entries are encoded into its free end
	strs  chunked[string] // entries' norms
	spans chunked[span]
	tmp   []string // values of the entry being built, until finish
	user  []pending
	oper  []pending

	exact                                    bool
	blockBytes, blockStrs, blockAttrs, bytes int // block sizes; bytes allocated
	scratch                                  []byte
}

// newBuilder returns a builder for o: for a full build, or (n > 0) for a
// patch that builds about n entries.
func newBuilder(o *orgView, n int) *builder {
	b := &builder{defs: o.defs, types: o.types, blockBytes: 1 << 20, blockStrs: 8192, blockAttrs: 4096}
	if n > 0 {
		b.exact = true
		b.blockBytes = min(b.blockBytes, 1024*n)
		b.blockStrs = min(b.blockStrs, 40*n)
		b.blockAttrs = min(b.blockAttrs, 32*n)
	}
	return b
}

// allocated estimates the bytes of the blocks b allocated.
func (b *builder) allocated() int {
	return b.bytes + 16*b.strs.alloc + 12*b.spans.alloc
}

// vals returns n strings that live with the entries (their norms).
func (b *builder) vals(n int) []string { return b.strs.make(n, b.blockStrs) }

// tmpVals returns n strings for the entry being built or spliced, reused
// after finish or splice (the values are kept encoded, not as strings).
func (b *builder) tmpVals(n int) []string {
	if len(b.tmp)+n > cap(b.tmp) {
		// Earlier values keep the old array; it is not written again.
		b.tmp = make([]string, 0, max(2*cap(b.tmp), n, 64))
	}
	s := b.tmp[len(b.tmp) : len(b.tmp)+n : len(b.tmp)+n]
	b.tmp = b.tmp[:len(b.tmp)+n]
	return s
}

// carve returns n bytes from the current block (exact mode), or from a
// block of their own (own) when they would take a block's worth.
func (b *builder) carve(n int) (s []byte, own bool) {
	b.bytes += n
	if n >= b.blockBytes/2 {
		return make([]byte, n), true
	}
	if len(b.block)+n > cap(b.block) {
		b.block = make([]byte, 0, b.blockBytes)
	}
	s = b.block[len(b.block) : len(b.block)+n : len(b.block)+n]
	b.block = b.block[:len(b.block)+n]
	return s, false
}

// encodedSize bounds the size of a PartialAttribute.
func encodedSize(typ string, vals []string) int {
	n := 18 + len(typ)
	for _, v := range vals {
		n += 6 + len(v)
	}
	return n
}

// reserve returns the scratch buffer, empty, with room for n bytes.
func (b *builder) reserve(n int) []byte {
	if cap(b.scratch) < n {
		b.scratch = make([]byte, 0, n)
	}
	return b.scratch[:0]
}

// tail is what the current blocks leave unused.
func (b *builder) tail() int {
	return cap(b.block) - len(b.block) + 16*(cap(b.strs.buf)-len(b.strs.buf)) +
		12*(cap(b.spans.buf)-len(b.spans.buf))
}

// footprint estimates the memory of e's encoding and attributes.
func (e *entry) footprint() int { return len(e.enc) + 12*len(e.spans) + 16*len(e.norms) }

// addDN appends a single-valued DN attribute, matched in normalised form.
func (b *builder) addDN(id attrID, dn, norm string) {
	v := b.tmpVals(2)
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
	s := b.tmpVals(n)
	n = 0
	for _, v := range vals {
		if v != "" {
			s[n] = v
			n++
		}
	}
	b.addOwned(id, s, s)
}

// addOwned appends an attribute with values from b.tmpVals (or otherwise
// not to be modified before finish).
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
	e.spans = b.spans.make(n, b.blockAttrs)
	e.nUser = len(b.user)
	nNorm := 0
	for _, list := range [2][]pending{b.user, b.oper} {
		for _, p := range list {
			if !sameValues(p.display, p.match) {
				nNorm += len(p.match)
			}
		}
	}
	e.norms = nil
	if nNorm > 0 {
		e.norms = b.vals(nNorm)
	}
	nn := 0
	room, big := 0, false
	b.enc.Reset()
	if b.exact {
		// Encode into scratch space and copy into the block, or straight
		// into a buffer of the entry's own when it is big.
		size := 0
		for _, list := range [2][]pending{b.user, b.oper} {
			for _, p := range list {
				size += encodedSize(b.defs[p.id].name, p.display)
			}
		}
		if big = size >= b.blockBytes/2; big {
			b.enc.Buf = make([]byte, 0, size)
			b.bytes += size
		} else {
			b.enc.Buf = b.reserve(size)
		}
	} else {
		// Encode straight into the current block; an entry that
		// outgrows it keeps the buffer append gave it.
		if cap(b.block)-len(b.block) < 4096 {
			b.block = make([]byte, 0, b.blockBytes)
			b.bytes += cap(b.block) - len(b.block)
		}
		room = cap(b.block) - len(b.block)
		b.enc.Buf = b.block[len(b.block):len(b.block)]
	}
	k := 0
	for _, list := range [2][]pending{b.user, b.oper} {
		for _, p := range list {
			start := len(b.enc.Buf)
			ldap.AppendPartialAttribute(&b.enc, b.defs[p.id].name, p.display)
			norm := !sameValues(p.display, p.match)
			if norm {
				nn += copy(e.norms[nn:], p.match)
			}
			e.spans[k] = span{id: p.id, norm: norm, start: uint32(start), end: uint32(len(b.enc.Buf))}
			k++
		}
	}
	out := b.enc.Buf
	b.enc.Buf = nil
	switch {
	case big:
		e.enc, e.own = out[:len(out):len(out)], true
	case b.exact:
		b.scratch = out[:0]
		e.enc, e.own = b.carve(len(out))
		copy(e.enc, out)
	case cap(out) == room: // still in the block
		b.block = b.block[:len(b.block)+len(out)]
		e.enc, e.own = out[:len(out):len(out)], false
	default:
		b.bytes += cap(out)
		e.enc, e.own = out, true
	}
	b.user, b.oper = b.user[:0], b.oper[:0]
	b.dropTmp()
}

// dropTmp ends the use of the values tmpVals handed out.
func (b *builder) dropTmp() {
	clear(b.tmp)
	b.tmp = b.tmp[:0]
}

// sameValues reports whether display values are also the match values.
func sameValues(display, match []string) bool {
	if len(display) != len(match) {
		return false
	}
	if len(display) == 0 || unsafe.SliceData(display) == unsafe.SliceData(match) {
		return true
	}
	for i := range display {
		if display[i] != match[i] {
			return false
		}
	}
	return true
}

// buildOrg builds the LDAP view of one org. With release, od is not used
// again: its records are dropped as they are built, so the memory of what
// was read is reused for the view (fresh memory is what costs most in a
// start-up: the first touch of a page).
func buildOrg(od *directory.OrgData, log *slog.Logger, release bool) (*orgView, error) {
	org := od.Org
	o := &orgView{org: org, signIn: od.SignIn}
	if err := o.setBase(); err != nil {
		return nil, err
	}
	o.defineCustom(log)
	b := newBuilder(o, 0)

	users := od.Users
	if release {
		od.Users = nil
	} else {
		users = slices.Clone(users)
	}
	slices.SortFunc(users, func(x, y *directory.User) int { return compareKeys(x.LoginKey, x.ID, y.LoginKey, y.ID) })
	groups := slices.Clone(od.Groups)
	slices.SortFunc(groups, func(x, y *directory.Group) int { return compareKeys(x.NameKey, x.ID, y.NameKey, y.ID) })
	nU, nG := len(users), len(groups)
	n := 3 + nU + nG
	gFirst := 3 + nU
	o.entries = make([]entry, n)
	o.nUsers = nU

	// DNs first: memberships refer to them both ways.
	o.byUserID = make(map[string]int32, nU)
	o.byGroupID = make(map[string]int32, nG)
	var layErr [2]error
	var wg sync.WaitGroup
	wg.Go(func() {
		layErr[0] = inParallel(nU, func(lo, hi int) error {
			for i, u := range users[lo:hi] {
				if err := o.layUser(&o.entries[2+lo+i], u); err != nil {
					return err
				}
			}
			return nil
		})
	})
	for i, g := range groups {
		if err := o.layGroup(&o.entries[gFirst+i], g); err != nil {
			layErr[1] = err
			break
		}
		o.byGroupID[o.entries[gFirst+i].id] = int32(gFirst + i)
	}
	wg.Wait()
	if err := cmp.Or(layErr[0], layErr[1]); err != nil {
		return nil, err
	}
	for i := range users {
		o.byUserID[o.entries[2+i].id] = int32(2 + i) // the entry's copy of the id
	}
	pairs := make([]membership, 0, len(od.Memberships))
	for _, m := range od.Memberships {
		u, ok1 := o.byUserID[m.UserID]
		g, ok2 := o.byGroupID[m.GroupID]
		if ok1 && ok2 {
			pairs = append(pairs, membership{u - 2, g - int32(gFirst)})
		}
	}
	o.memberOf, o.members = memberships(pairs, nU, nG)
	o.nest = buildNesting(od.GroupLinks, o.byGroupID, gFirst, nG)
	if release {
		od.Memberships, od.GroupLinks = nil, nil
	}

	group := func(g int32) *entry { return &o.entries[gFirst+int(g)] }
	user := func(u int32) *entry { return &o.entries[2+u] }
	o.encodeBase(b, &o.entries[0])
	o.encodeOU(b, &o.entries[1], "users", nU)
	o.encodeOU(b, &o.entries[gFirst-1], "groups", nG)
	// Users in chunks, each with its own builder (an entry's blocks are
	// its builder's); the groups with b alongside.
	var mu sync.Mutex
	allocated := 0
	wg.Go(func() {
		for i, g := range groups {
			o.encodeGroup(b, &o.entries[gFirst+i], g, int32(i), o.members.list(i), user, group)
		}
	})
	inParallel(nU, func(lo, hi int) error {
		ub := newBuilder(o, 0)
		for i := lo; i < hi; i++ {
			o.encodeUser(ub, &o.entries[2+i], users[i], o.memberOf.list(i), group)
			if release {
				users[i] = nil
			}
		}
		mu.Lock()
		allocated += ub.allocated()
		mu.Unlock()
		return nil
	})
	wg.Wait()
	o.pos = make([]int32, n)
	for i := range o.entries {
		o.entries[i].sid = int32(i)
		o.pos[i] = int32(i)
	}
	o.place()

	// Two entries may normalise alike (logins differing only in ways DN
	// matching ignores); the first keeps the DN.
	o.byNorm = make(map[string]int32, n)
	for i := range o.entries {
		e := &o.entries[i]
		if _, dup := o.byNorm[e.norm]; dup {
			log.Warn("dit: two entries have the same DN; serving the first", "org", org.ID, "dn", e.dn)
			if o.dupNorms == nil {
				o.dupNorms = map[string]bool{}
			}
			o.dupNorms[e.norm] = true
			continue
		}
		o.byNorm[e.norm] = e.sid
	}
	o.buildIndexes()
	o.buildRootDSE(b)
	o.buildSchema(b)
	o.built = b.allocated() + allocated
	return o, nil
}

// parallelMin is the number of entries below which building does not
// spread over goroutines.
const parallelMin = 4096

// inParallel calls fn on consecutive ranges covering [0, n), on up to
// GOMAXPROCS goroutines, and returns the first error.
func inParallel(n int, fn func(lo, hi int) error) error {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/(parallelMin/2)))
	if workers <= 1 {
		return fn(0, n)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { errs[w] = fn(n*w/workers, n*(w+1)/workers) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// compareKeys orders users by (LoginKey, id) and groups by (NameKey, id).
func compareKeys(k1, id1, k2, id2 string) int {
	return cmp.Or(strings.Compare(k1, k2), strings.Compare(id1, id2))
}

// setBase sets the naming context.
func (o *orgView) setBase() error {
	suffix := o.org.Suffix
	if suffix == "" {
		suffix = directory.DefaultSuffix
	}
	o.base = "dc=" + ldap.EscapeDNValue(o.org.Name) + "," + suffix
	var err error
	if o.baseNorm, err = ldap.NormalizeDN(o.base); err != nil {
		return fmt.Errorf("dit: org %s: naming context %q: %w", o.org.ID, o.base, err)
	}
	return nil
}

// place sets every entry's subtree range from its position.
func (o *orgView) place() {
	n := int32(len(o.entries))
	gFirst := int32(3 + o.nUsers)
	o.ous = []int32{1, gFirst - 1}
	for i := range o.entries {
		e := &o.entries[i]
		e.lo, e.hi = int32(i), int32(i)+1
	}
	o.entries[0].hi = n
	o.entries[1].hi = gFirst - 1
	o.entries[gFirst-1].hi = n
}

// layUser sets what a user's entry is called and sorted by.
func (o *orgView) layUser(e *entry, u *directory.User) error {
	dn := "uid=" + ldap.EscapeDNValue(u.Profile.Login) + ",ou=users," + o.base
	norm, err := ldap.NormalizeDN(dn)
	if err != nil {
		return fmt.Errorf("dit: user %s: DN %q: %w", u.ID, dn, err)
	}
	e.dn, e.norm, e.kind, e.depth = dn, shareEqual(norm, dn), kindUser, 2
	// The credential holds copies of the id and login, which the entry
	// shares rather than keep u's (they may pin the row u was read from).
	e.cred = directory.CredentialOf(u)
	e.id, e.login = e.cred.UserID, e.cred.Login
	if e.key = shareEqual(u.LoginKey, e.login); e.key != e.login {
		e.key = strings.Clone(u.LoginKey)
	}
	return nil
}

// shareEqual returns s, or t when they are equal, so that one string is
// kept instead of two.
func shareEqual(s, t string) string {
	if s == t {
		return t
	}
	return s
}

// layGroup sets what a group's entry is called and sorted by.
func (o *orgView) layGroup(e *entry, g *directory.Group) error {
	dn := "cn=" + ldap.EscapeDNValue(g.Name) + ",ou=groups," + o.base
	norm, err := ldap.NormalizeDN(dn)
	if err != nil {
		return fmt.Errorf("dit: group %s: DN %q: %w", g.ID, dn, err)
	}
	e.dn, e.norm, e.kind, e.depth = dn, shareEqual(norm, dn), kindGroup, 2
	e.id, e.key = strings.Clone(g.ID), strings.Clone(g.NameKey)
	return nil
}

// encodeBase builds the naming context's entry.
func (o *orgView) encodeBase(b *builder, e *entry) {
	org := o.org
	b.add(idObjectClass, "top", "dcObject", "organization")
	b.add(idDC, org.Name)
	b.add(idO, org.Name)
	b.add(idEntryUUID, entryUUID(org.ID))
	b.addDN(idEntryDN, o.base, o.baseNorm)
	b.add(idHasSubs, "TRUE")
	b.add(idNumSubs, "2")
	b.add(idStructural, "organization")
	b.add(idSubschema, "cn=schema")
	b.add(idCreate, generalizedTime(org.Created))
	b.finish(e)
	e.dn, e.norm, e.kind, e.depth = o.base, o.baseNorm, kindBase, 0
}

// encodeOU builds ou=users or ou=groups, which holds subs entries.
func (o *orgView) encodeOU(b *builder, e *entry, ou string, subs int) {
	dn := "ou=" + ou + "," + o.base
	norm := "ou=" + ou + "," + o.baseNorm
	b.add(idObjectClass, "top", "organizationalUnit")
	b.add(idOU, ou)
	b.add(idEntryUUID, entryUUID(o.org.ID+"/ou="+ou))
	b.addDN(idEntryDN, dn, norm)
	b.add(idHasSubs, boolString(subs > 0))
	b.add(idNumSubs, strconv.Itoa(subs))
	b.add(idStructural, "organizationalUnit")
	b.add(idSubschema, "cn=schema")
	b.add(idCreate, generalizedTime(o.org.Created))
	b.finish(e)
	e.dn, e.norm, e.kind, e.depth = dn, norm, kindOU, 1
}

// encodeUser builds the entry of u, laid out by layUser, a member of the
// given groups (numbers among the groups; group returns their entries).
func (o *orgView) encodeUser(b *builder, e *entry, u *directory.User, memberOf []int32, group func(int32) *entry) {
	p := &u.Profile
	classes := o.userClassesOf(u)
	b.addOwned(idObjectClass, classes, classes)
	b.add(idUID, p.Login)
	cn := commonName(p)
	b.add(idCN, cn)
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
	o.addPOSIXUser(b, u, cn)
	b.add(idEntryUUID, entryUUID(u.ID))
	b.addDN(idEntryDN, e.dn, e.norm)
	o.addGroupDNs(b, idMemberOf, o.nest.memberOf(memberOf, o.org.LDAP.TransitiveMemberOf), group)
	b.addOwned(idHasSubs, falseValue, falseValue)
	b.addOwned(idStructural, userStructural, userStructural)
	b.addOwned(idSubschema, schemaValue, schemaValue)
	b.add(idCreate, generalizedTime(u.Created))
	b.add(idModify, generalizedTime(u.LastUpdated))
	b.finish(e)
	e.active = u.Status == directory.StatusActive
	e.viewAll = directory.CanViewAll(u)
}

// The values every user or every group entry has, shared by all of them
// rather than copied into each (read only, as addOwned wants).
var (
	userClasses     = []string{"top", "person", "organizationalPerson", "inetOrgPerson"}
	groupClasses    = []string{"top", "groupOfUniqueNames"}
	userStructural  = []string{"inetOrgPerson"}
	groupStructural = []string{"groupOfUniqueNames"}
	falseValue      = []string{"FALSE"}
	schemaValue     = []string{"cn=schema"}
)

// encodeGroup builds the entry of g, group number gi laid out by
// layGroup, with the given members (numbers among the users; user returns
// their entries) and the groups nested in it and that it is in (group
// returns their entries).
func (o *orgView) encodeGroup(b *builder, e *entry, g *directory.Group, gi int32, members []int32, user, group func(int32) *entry) {
	classes := o.groupClassesOf(g)
	b.addOwned(idObjectClass, classes, classes)
	b.add(idCN, g.Name)
	b.add(idDescription, g.Description)
	o.addMembers(b, members, o.nest.childrenOf(gi), user, group)
	o.addPOSIXGroup(b, g, members, user)
	b.add(idUniqueIdentifier, g.ID)
	b.add(idEntryUUID, entryUUID(g.ID))
	b.addDN(idEntryDN, e.dn, e.norm)
	o.addGroupDNs(b, idMemberOf, o.nest.groupMemberOf(gi, o.org.LDAP.TransitiveMemberOf), group)
	b.addOwned(idHasSubs, falseValue, falseValue)
	b.addOwned(idStructural, groupStructural, groupStructural)
	b.addOwned(idSubschema, schemaValue, schemaValue)
	b.add(idCreate, generalizedTime(g.Created))
	b.add(idModify, generalizedTime(latest(g.LastUpdated, g.LastMembershipUpdated)))
	b.finish(e)
}

func (o *orgView) setEntry(b *builder, e *entry, dn, norm string, k kind, depth uint8, lo, hi int32) {
	b.finish(e)
	e.dn, e.norm, e.kind, e.depth, e.lo, e.hi = dn, norm, k, depth, lo, hi
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

// membership is a user (number among the users) in a group (among the
// groups).
type membership struct{ u, g int32 }

// memberships turns the membership pairs into each user's groups and each
// group's users, sorted and without repeats.
func memberships(pairs []membership, nU, nG int) (memberOf, members csr) {
	memberOf = groupPairs(pairs, nU, func(p membership) (int32, int32) { return p.u, p.g })
	members = groupPairs(pairs, nG, func(p membership) (int32, int32) { return p.g, p.u })
	return memberOf, members
}

// groupPairs lists, for each of n keys, the values paired with it.
func groupPairs(pairs []membership, n int, kv func(membership) (int32, int32)) csr {
	off := make([]int32, n+1)
	for _, p := range pairs {
		k, _ := kv(p)
		off[k+1]++
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	flat := make([]int32, len(pairs))
	fill := slices.Clone(off[:n])
	for _, p := range pairs {
		k, v := kv(p)
		flat[fill[k]] = v
		fill[k]++
	}
	// Sort each list and drop repeats, compacting in place.
	w, start := int32(0), int32(0)
	for i := range n {
		end := off[i+1]
		s := flat[start:end]
		if !slices.IsSorted(s) {
			slices.Sort(s)
		}
		s = slices.Compact(s)
		off[i] = w
		w += int32(copy(flat[w:], s))
		start = end
	}
	off[n] = w
	return csr{off: off, flat: flat[:w:w]}
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
