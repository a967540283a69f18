// Package dirldif maps between LDIF entries and dirgate's directory: Read
// turns the LDIF another directory exports (slapcat, ldapsearch) into the
// users and groups directory.Import takes, and Write turns an org into
// LDIF that Read takes back. The LDIF format itself is package ldif's.
//
// Users: inetOrgPerson entries, and person, organizationalPerson or
// posixAccount entries that have a uid. Attribute mapping:
//
//	uid (else the RDN value when the RDN is uid or cn)  login
//	mail                                         email
//	givenName, sn (unless it is the login)       firstName, lastName
//	displayName (else cn when it is not "first last" or the login)  displayName
//	nickName, title                              nickName, title
//	departmentNumber, department, ou             department
//	telephoneNumber, mobile                      primaryPhone, mobilePhone
//	o                                            organization
//	organizationalStatus (a dirgate status)      status (default ACTIVE)
//	userPassword {SCHEME}hash                    kept as it is; cleartext is hashed
//	dirgateRole, dirgateUserType                 admin roles, service_account
//	an attribute the org declares                that custom attribute
//
// Groups: groupOfUniqueNames (uniqueMember), groupOfNames (member) and
// posixGroup (memberUid); cn is the name. A member DN names a user of the
// file by its full DN, else any user by the value of its uid RDN.
//
// Operational attributes (entryUUID, createTimestamp, entryCSN, …) and
// memberOf are ignored; the naming context and ou= containers are skipped
// and reported, as is every other entry, with the reason.
package dirldif

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldif"
	"github.com/dirgate/dirgate/internal/password"
)

// Attributes dirgate adds to its own exports so roles and the account type
// survive a round trip.
const (
	AttrRole     = "dirgateRole"
	AttrUserType = "dirgateUserType"
)

// Options tune Read.
type Options struct {
	// Org is the org the entries go into; its declared custom attributes
	// are mapped. Nil: none are.
	Org *directory.Org
	// Hash hashes a cleartext userPassword (one without a {SCHEME}).
	// Nil: argon2id with the password package's defaults.
	Hash func(pw []byte) (string, error)
	// Progress, when set, is called after every entry with the number read.
	Progress func(entries int)
}

// Batch is what Read made of a file.
type Batch struct {
	Users  []directory.ImportUser
	Groups []directory.ImportGroup
	// Skipped lists the entries left out and why.
	Skipped []directory.Skipped
	// Notes lists what was left out of imported entries: a password in an
	// unsupported scheme, a member that names no user, a status kept back.
	Notes []directory.Skipped
	// IgnoredAttrs counts, per attribute (as first written), the user and
	// group entries that had an attribute with no dirgate counterpart.
	IgnoredAttrs map[string]int
	// Entries is how many entries the file held.
	Entries int
}

// Read reads LDIF content records from r and maps them. A syntax error in
// the LDIF ends it with an error naming the line; entries that do not map
// are skipped and reported in the Batch instead.
func Read(r io.Reader, o Options) (*Batch, error) {
	if o.Hash == nil {
		h := password.NewHasher(password.Params{})
		o.Hash = h.Hash
	}
	m := &mapper{
		o:         o,
		b:         &Batch{IgnoredAttrs: map[string]int{}},
		userByDN:  map[string]string{},
		groupByDN: map[string]string{},
	}
	lr := ldif.NewReader(r)
	for {
		rec, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		m.b.Entries++
		if err := m.entry(rec); err != nil {
			return nil, err
		}
		if o.Progress != nil {
			o.Progress(m.b.Entries)
		}
	}
	m.resolveMembers()
	return m.b, nil
}

type mapper struct {
	o Options
	b *Batch
	// normalised DN -> login / group name, for member resolution.
	userByDN  map[string]string
	groupByDN map[string]string
	// raw member references of each group, by index into b.Groups.
	members [][]memberRef
}

type memberRef struct {
	dn  string // a member DN, or
	uid string // a memberUid value
}

// attrs is one entry's attributes keyed by lower-case type without options.
type attrs struct {
	m     map[string][]string
	names map[string]string // key -> type as first written
	order []string
}

func collect(rec *ldif.Record) *attrs {
	a := &attrs{m: map[string][]string{}, names: map[string]string{}}
	for _, at := range rec.Attrs {
		name, _, _ := strings.Cut(at.Type, ";") // drop options such as ;binary
		k := strings.ToLower(name)
		if _, ok := a.m[k]; !ok {
			a.names[k] = name
			a.order = append(a.order, k)
		}
		a.m[k] = append(a.m[k], at.Values...)
	}
	return a
}

func (a *attrs) first(k string) string {
	if v := a.m[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (a *attrs) has(k string) bool { return len(a.m[k]) > 0 }

// Object classes by role (lower case).
var (
	userClasses      = []string{"inetorgperson"}
	userClassesByUID = []string{"person", "organizationalperson", "posixaccount", "account"}
	groupClasses     = []string{"groupofuniquenames", "groupofnames", "posixgroup"}
	containerClasses = []string{"organizationalunit", "organization", "dcobject", "domain", "country", "locality"}
)

// ignoredAttrs have no dirgate counterpart and are dropped without being
// reported: operational attributes, derived ones, and those the mapping
// consumes in another way.
var ignoredAttrs = map[string]bool{
	"objectclass": true, "memberof": true, "ismemberof": true,
	"entryuuid": true, "entrydn": true, "entrycsn": true, "contextcsn": true,
	"createtimestamp": true, "modifytimestamp": true, "creatorsname": true, "modifiersname": true,
	"structuralobjectclass": true, "hassubordinates": true, "numsubordinates": true,
	"subschemasubentry": true, "uniqueidentifier": true, "nsuniqueid": true, "objectguid": true,
	"pwdchangedtime": true, "pwdhistory": true, "pwdfailuretime": true, "pwdaccountlockedtime": true,
	"pwdgraceusetime": true, "pwdreset": true, "pwdpolicysubentry": true, "authtimestamp": true,
	"cn": true, // used for the name or display name
}

// userAttrs are the attributes the user mapping reads.
var userAttrs = map[string]bool{
	"uid": true, "mail": true, "givenname": true, "sn": true, "displayname": true, "nickname": true,
	"title": true, "departmentnumber": true, "department": true, "ou": true, "telephonenumber": true,
	"mobile": true, "o": true, "organizationalstatus": true, "userpassword": true,
	strings.ToLower(AttrRole): true, strings.ToLower(AttrUserType): true,
}

var groupAttrs = map[string]bool{"description": true, "uniquemember": true, "member": true, "memberuid": true}

func source(rec *ldif.Record) string { return fmt.Sprintf("line %d: %s", rec.Line, rec.DN) }

func (m *mapper) skip(rec *ldif.Record, format string, args ...any) {
	m.b.Skipped = append(m.b.Skipped, directory.Skipped{Source: source(rec), Reason: fmt.Sprintf(format, args...)})
}

func (m *mapper) note(src, format string, args ...any) {
	m.b.Notes = append(m.b.Notes, directory.Skipped{Source: src, Reason: fmt.Sprintf(format, args...)})
}

func (m *mapper) entry(rec *ldif.Record) error {
	dn, err := ldap.ParseDN(rec.DN)
	if err != nil {
		m.skip(rec, "the DN is not valid: %v", err)
		return nil
	}
	if len(dn) == 0 {
		m.skip(rec, "the root DSE is not an entry to import")
		return nil
	}
	a := collect(rec)
	classes := map[string]bool{}
	for _, c := range a.m["objectclass"] {
		classes[strings.ToLower(c)] = true
	}
	anyOf := func(cs []string) bool {
		return slices.ContainsFunc(cs, func(c string) bool { return classes[c] })
	}
	switch {
	case len(classes) == 0:
		m.skip(rec, "no objectClass (export with all attributes, e.g. ldapsearch ... '*')")
	case anyOf(groupClasses):
		m.group(rec, dn, a)
	case anyOf(userClasses) || (anyOf(userClassesByUID) && a.has("uid")):
		return m.user(rec, dn, a)
	case anyOf(userClassesByUID):
		m.skip(rec, "a person entry without a uid attribute: no login")
	case anyOf(containerClasses):
		m.skip(rec, "container entry (%s): dirgate lays out its own naming context, ou=users and ou=groups", strings.Join(a.m["objectclass"], ", "))
	default:
		m.skip(rec, "objectClass %s is neither a user (inetOrgPerson, or person, organizationalPerson, posixAccount with uid) nor a group (groupOfUniqueNames, groupOfNames, posixGroup)", strings.Join(a.m["objectclass"], ", "))
	}
	return nil
}

// rdnValue returns the value of the entry's RDN for the given type.
func rdnValue(dn ldap.DN, types ...string) string {
	for _, ava := range dn.RDN() {
		for _, t := range types {
			if strings.EqualFold(ava.Type, t) {
				return ava.Value
			}
		}
	}
	return ""
}

func (m *mapper) user(rec *ldif.Record, dn ldap.DN, a *attrs) error {
	src := source(rec)
	login := ""
	if uids := a.m["uid"]; len(uids) > 0 {
		login = uids[0]
		if r := rdnValue(dn, "uid"); r != "" && slices.Contains(uids, r) {
			login = r // of several uids, the one that names the entry
		}
	} else {
		login = rdnValue(dn, "uid", "cn")
	}
	if login == "" {
		m.skip(rec, "no uid attribute and the RDN is not uid= or cn=: no login")
		return nil
	}
	p := directory.Profile{
		Login:        login,
		Email:        a.first("mail"),
		FirstName:    a.first("givenname"),
		LastName:     a.first("sn"),
		DisplayName:  a.first("displayname"),
		NickName:     a.first("nickname"),
		Title:        a.first("title"),
		PrimaryPhone: a.first("telephonenumber"),
		MobilePhone:  a.first("mobile"),
		Organization: a.first("o"),
	}
	if p.LastName == login {
		p.LastName = "" // the placeholder person requires (Write puts it there)
	}
	for _, k := range []string{"departmentnumber", "department", "ou"} {
		if v := a.first(k); v != "" {
			p.Department = v
			break
		}
	}
	if p.DisplayName == "" {
		cn := a.first("cn")
		if cn != "" && cn != login && cn != strings.TrimSpace(p.FirstName+" "+p.LastName) {
			p.DisplayName = cn
		}
	}
	in := directory.ImportUser{Source: src}
	in.Status = directory.StatusActive
	if s := strings.ToUpper(a.first("organizationalstatus")); knownStatus(s) {
		in.Status = s
	}
	in.Roles = a.m[strings.ToLower(AttrRole)]
	in.ServiceAccount = strings.EqualFold(a.first(strings.ToLower(AttrUserType)), "service_account")

	for _, k := range a.order {
		if userAttrs[k] || ignoredAttrs[k] {
			continue
		}
		if name, ok := m.custom(k); ok {
			if p.Custom == nil {
				p.Custom = map[string]string{}
			}
			p.Custom[name] = a.first(k)
			continue
		}
		m.b.IgnoredAttrs[a.names[k]]++
	}
	p.Custom = nilIfEmpty(p.Custom)
	in.Profile = p

	if err := m.password(&in, a.m["userpassword"]); err != nil {
		return err
	}
	m.b.Users = append(m.b.Users, in)
	m.userByDN[dn.Normalize()] = login
	return nil
}

// password sets the user's credential from its userPassword values: the
// first in a supported {SCHEME} as it is, else the first cleartext one
// hashed. Values in unsupported schemes are reported.
func (m *mapper) password(in *directory.ImportUser, values []string) error {
	var unsupported []string
	clear := ""
	for _, v := range values {
		if v == "" {
			continue
		}
		if strings.HasPrefix(v, "{") {
			if end := strings.IndexByte(v, '}'); end > 1 {
				if password.Check(v) == nil {
					in.PasswordHash = v
					return nil
				}
				unsupported = append(unsupported, v[:end+1])
				continue
			}
		}
		if clear == "" {
			clear = v
		}
	}
	if clear != "" {
		h, err := m.o.Hash([]byte(clear))
		if err != nil {
			return fmt.Errorf("%s: hashing the cleartext userPassword: %w", in.Source, err)
		}
		in.PasswordHash = h
		return nil
	}
	if len(unsupported) > 0 {
		m.note(in.Source, "userPassword in scheme %s is not supported (dirgate verifies {ARGON2}, {SSHA}, {SSHA256}, {SSHA512}, {SHA}, {CRYPT} bcrypt and sha-crypt): imported without a password", strings.Join(unsupported, ", "))
	}
	return nil
}

// custom returns the declared custom attribute an LDAP attribute names.
func (m *mapper) custom(k string) (string, bool) {
	if m.o.Org == nil {
		return "", false
	}
	for _, n := range m.o.Org.CustomAttributes {
		if strings.EqualFold(n, k) {
			return n, true
		}
	}
	return "", false
}

func (m *mapper) group(rec *ldif.Record, dn ldap.DN, a *attrs) {
	name := a.first("cn")
	if cns := a.m["cn"]; len(cns) > 1 {
		if r := rdnValue(dn, "cn"); slices.Contains(cns, r) {
			name = r
		}
	}
	if name == "" {
		name = rdnValue(dn, "cn")
	}
	if name == "" {
		m.skip(rec, "a group without cn: no name")
		return
	}
	g := directory.ImportGroup{Source: source(rec)}
	g.Name = name
	g.Description = a.first("description")
	var refs []memberRef
	for _, k := range []string{"uniquemember", "member"} {
		for _, v := range a.m[k] {
			if v = stripUID(v); v != "" {
				refs = append(refs, memberRef{dn: v})
			}
		}
	}
	for _, v := range a.m["memberuid"] {
		if v != "" {
			refs = append(refs, memberRef{uid: v})
		}
	}
	for _, k := range a.order {
		if !groupAttrs[k] && !ignoredAttrs[k] {
			m.b.IgnoredAttrs[a.names[k]]++
		}
	}
	m.b.Groups = append(m.b.Groups, g)
	m.members = append(m.members, refs)
	m.groupByDN[dn.Normalize()] = name
}

// stripUID drops the optional #'…'B unique identifier of a uniqueMember
// value (RFC 4517 NameAndOptionalUID).
func stripUID(v string) string {
	if strings.HasSuffix(v, "'B") {
		if i := strings.LastIndex(v, "#'"); i >= 0 {
			return v[:i]
		}
	}
	return v
}

// resolveMembers turns member DNs into logins now that every entry is read.
func (m *mapper) resolveMembers() {
	for i, refs := range m.members {
		g := &m.b.Groups[i]
		seen := map[string]bool{}
		for _, r := range refs {
			login := r.uid
			if r.dn != "" {
				login = m.memberLogin(g, r.dn)
			}
			if login == "" || seen[strings.ToLower(login)] {
				continue
			}
			seen[strings.ToLower(login)] = true
			g.MemberLogins = append(g.MemberLogins, login)
		}
	}
}

func (m *mapper) memberLogin(g *directory.ImportGroup, member string) string {
	dn, err := ldap.ParseDN(member)
	if err != nil {
		m.note(g.Source, "member %q is not a valid DN: skipped", member)
		return ""
	}
	norm := dn.Normalize()
	if login, ok := m.userByDN[norm]; ok {
		return login
	}
	if _, ok := m.groupByDN[norm]; ok {
		m.note(g.Source, "member %s is a group; nested groups are not imported: skipped", member)
		return ""
	}
	if uid := rdnValue(dn, "uid"); uid != "" {
		return uid // an existing user, or reported by directory.Import
	}
	m.note(g.Source, "member %s is not a user of this file and has no uid= RDN: skipped", member)
	return ""
}

func knownStatus(s string) bool {
	switch s {
	case directory.StatusStaged, directory.StatusActive, directory.StatusSuspended,
		directory.StatusDeprovisioned, directory.StatusLockedOut, directory.StatusPasswordExpired:
		return true
	}
	return false
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// Ignored returns IgnoredAttrs as "name (n entries)" strings, most
// frequent first, for reports.
func (b *Batch) Ignored() []string {
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range b.IgnoredAttrs {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].k < all[j].k
	})
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = fmt.Sprintf("%s (%d entries)", e.k, e.n)
	}
	return out
}
