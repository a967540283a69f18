// Package dataset is the benchmark's directory: users, groups and a service
// account, generated deterministically from (users, seed, base DN) so that
// the LDIF loaded into each server and the answers the load generator
// expects come from the same description, without shipping data files.
//
// Users are uid=userNNNNNN,ou=users,<base>; there are N/50 groups
// cn=groupNNNNN,ou=groups,<base> of 50 distinct random members each, so a
// user is in one group on average (some in none, a few in several); and a
// service account uid=svc-bench,ou=users,<base> in no group, for the
// searches. Passwords are plain strings derived from the seed, stored as
// salted SHA-1 ({SSHA}) hashes, which both dirgate and slapd verify
// without a deliberately slow hash, so binds measure the servers rather than
// the password scheme.
package dataset

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/dirgate/dirgate/internal/ldap"
)

// GroupSize is the number of members of every group, and UsersPerGroup how
// many users make one group.
const (
	GroupSize     = 50
	UsersPerGroup = 50
)

// The service account the searches bind as.
const (
	ServiceLogin    = "svc-bench"
	servicePassword = "svc-bench-Passw0rd"
)

// PCG stream selectors: each part of the set draws from its own stream, so
// changing how one part is drawn does not reshuffle the others.
const (
	streamUsers   = 1
	streamGroups  = 2
	streamService = 3
)

// pwAlphabet is what the random part of a password is drawn from.
const pwAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Set is one generated data set. It is immutable and safe for concurrent
// use; slices it returns are shared and must not be modified.
type Set struct {
	n        int
	seed     int64
	base     string
	normBase string // ldap.NormalizeDN(base)
	dc       string // value of the base's first RDN

	pwRand []uint64 // per user: the random part of its password
	salt   []uint64 // per user: its 8-octet SSHA salt

	members  []int // GroupSize per group, sorted
	groupOff []int // groupsOf(i) = groupIdx[groupOff[i]:groupOff[i+1]]
	groupIdx []int

	groupDNs   []string
	svcSalt    uint64
	userSuffix string // ",ou=users,<normBase>"
	grpSuffix  string // ",ou=groups,<normBase>"
}

// New generates the set of n users for seed under base (such as
// "dc=bench,dc=okta,dc=com"). It panics when n is negative or base is not
// a DN: both are programming errors of the benchmark.
func New(n int, seed int64, base string) *Set {
	if n < 0 {
		panic("dataset: negative user count")
	}
	dn, err := ldap.ParseDN(base)
	if err != nil || len(dn) == 0 {
		panic(fmt.Sprintf("dataset: base %q is not a DN: %v", base, err))
	}
	s := &Set{
		n:        n,
		seed:     seed,
		base:     base,
		normBase: dn.Normalize(),
		dc:       dn[0][0].Value,
		pwRand:   make([]uint64, n),
		salt:     make([]uint64, n),
	}
	s.userSuffix = ",ou=users," + s.normBase
	s.grpSuffix = ",ou=groups," + s.normBase

	r := rand.New(rand.NewPCG(uint64(seed), streamUsers))
	for i := range n {
		s.pwRand[i] = r.Uint64()
		s.salt[i] = r.Uint64()
	}
	s.svcSalt = rand.New(rand.NewPCG(uint64(seed), streamService)).Uint64()

	s.makeGroups(rand.New(rand.NewPCG(uint64(seed), streamGroups)))
	return s
}

// below returns a number in [0, n) from one draw of r (Lemire's
// multiply-shift; the bias is below 2^-40 for any n here). It is spelled out
// rather than rand.IntN so the data set cannot change with the Go release.
func below(r *rand.Rand, n int) int {
	hi, _ := bits.Mul64(r.Uint64(), uint64(n))
	return int(hi)
}

func (s *Set) makeGroups(r *rand.Rand) {
	g := s.n / UsersPerGroup
	s.members = make([]int, 0, g*GroupSize)
	s.groupDNs = make([]string, g)
	counts := make([]int, s.n+1)
	for gi := range g {
		s.groupDNs[gi] = "cn=" + groupCN(gi) + ",ou=groups," + s.base
		start := len(s.members)
		// Rejection sampling: GroupSize <= n, and checking 50 earlier picks
		// is cheaper than any set.
		for len(s.members)-start < GroupSize {
			u := below(r, s.n)
			if !slices.Contains(s.members[start:], u) {
				s.members = append(s.members, u)
			}
		}
		m := s.members[start:]
		slices.Sort(m)
		for _, u := range m {
			counts[u+1]++
		}
	}
	// Reverse index in CSR form: one allocation whatever N is.
	s.groupOff = counts
	for i := 1; i <= s.n; i++ {
		s.groupOff[i] += s.groupOff[i-1]
	}
	s.groupIdx = make([]int, len(s.members))
	fill := slices.Clone(s.groupOff[:s.n])
	for gi := range g {
		for _, u := range s.members[gi*GroupSize : (gi+1)*GroupSize] {
			s.groupIdx[fill[u]] = gi // groups visited in order: sorted
			fill[u]++
		}
	}
}

// N is the number of users (the service account not counted).
func (s *Set) N() int { return s.n }

// Seed is the seed the set was generated from.
func (s *Set) Seed() int64 { return s.seed }

// Base is the base DN as given to New.
func (s *Set) Base() string { return s.base }

// UsersDN is ou=users,<base>, where every user and the service account are.
func (s *Set) UsersDN() string { return "ou=users," + s.base }

// GroupsDN is ou=groups,<base>.
func (s *Set) GroupsDN() string { return "ou=groups," + s.base }

// UID is user i's uid (login): "user%06d".
func (s *Set) UID(i int) string { return string(appendUID(nil, i)) }

func appendUID(b []byte, i int) []byte {
	return appendPadded(append(b, "user"...), i, 6)
}

func groupCN(g int) string { return string(appendPadded([]byte("group"), g, 5)) }

// appendPadded appends v in decimal, zero-padded to width digits.
func appendPadded(b []byte, v, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(v), 10)
	for k := len(s); k < width; k++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// DN is user i's DN.
func (s *Set) DN(i int) string { return "uid=" + s.UID(i) + ",ou=users," + s.base }

// CN is user i's cn: "User <i>" (givenName "User", sn "<i>").
func (s *Set) CN(i int) string { return "User " + strconv.Itoa(i) }

// SN is user i's sn.
func (s *Set) SN(i int) string { return strconv.Itoa(i) }

// GivenName is every user's givenName.
func (s *Set) GivenName(int) string { return "User" }

// Mail is user i's mail: "<uid>@example.com".
func (s *Set) Mail(i int) string { return s.UID(i) + "@example.com" }

// Password is user i's password: "pw-<uid>-" and four random characters.
func (s *Set) Password(i int) string { return string(s.appendPassword(nil, i)) }

func (s *Set) appendPassword(b []byte, i int) []byte {
	b = appendUID(append(b, "pw-"...), i)
	b = append(b, '-')
	v := s.pwRand[i]
	for range 4 {
		b = append(b, pwAlphabet[(v&0xffff)*uint64(len(pwAlphabet))>>16])
		v >>= 16
	}
	return b
}

// Hash is user i's userPassword: {SSHA} of its password.
func (s *Set) Hash(i int) string {
	return string(appendSSHA(nil, s.appendPassword(nil, i), s.salt[i]))
}

// appendSSHA appends RFC 2307 {SSHA}: base64(sha1(pw || salt) || salt).
func appendSSHA(b, pw []byte, salt uint64) []byte {
	var raw [sha1.Size + 8]byte
	binary.BigEndian.PutUint64(raw[sha1.Size:], salt)
	h := sha1.New()
	h.Write(pw)
	h.Write(raw[sha1.Size:])
	h.Sum(raw[:0])
	b = append(b, "{SSHA}"...)
	return base64.StdEncoding.AppendEncode(b, raw[:])
}

// Groups is the number of groups: N/50.
func (s *Set) Groups() int { return len(s.groupDNs) }

// GroupCN is group g's cn: "group%05d".
func (s *Set) GroupCN(g int) string { return groupCN(g) }

// GroupDN is group g's DN.
func (s *Set) GroupDN(g int) string { return s.groupDNs[g] }

// Members lists group g's members (user indexes, ascending).
func (s *Set) Members(g int) []int { return s.members[g*GroupSize : (g+1)*GroupSize : (g+1)*GroupSize] }

// GroupsOf lists the groups user i is in (ascending; often none).
func (s *Set) GroupsOf(i int) []int {
	return s.groupIdx[s.groupOff[i]:s.groupOff[i+1]:s.groupOff[i+1]]
}

// ServiceUID is the service account's uid.
func (s *Set) ServiceUID() string { return ServiceLogin }

// ServiceDN is the service account's DN.
func (s *Set) ServiceDN() string { return "uid=" + ServiceLogin + ",ou=users," + s.base }

// ServicePassword is the service account's password (a constant).
func (s *Set) ServicePassword() string { return servicePassword }

// ServiceCN is the service account's cn.
func (s *Set) ServiceCN() string { return "Bench Service" }

// ServiceHash is the service account's userPassword ({SSHA}).
func (s *Set) ServiceHash() string {
	return string(appendSSHA(nil, []byte(servicePassword), s.svcSalt))
}

// normalize returns dn in ldap.NormalizeDN form, or "" when it is not a
// DN. An already normal DN (lower-case ASCII, as servers usually return
// them) costs no allocation.
func normalize(dn string) string {
	n, err := ldap.NormalizeDN(dn)
	if err != nil {
		return ""
	}
	return n
}

// UserIndex maps a user's DN back to its index, comparing as LDAP does
// (case-insensitive, spaces around separators ignored). It reports false
// for any other DN, the service account's included.
func (s *Set) UserIndex(dn string) (int, bool) {
	return parseIndex(normalize(dn), "uid=user", s.userSuffix, 6, s.n)
}

// GroupIndex maps a group's DN back to its index, as UserIndex does.
func (s *Set) GroupIndex(dn string) (int, bool) {
	return parseIndex(normalize(dn), "cn=group", s.grpSuffix, 5, len(s.groupDNs))
}

// IsServiceDN reports whether dn names the service account.
func (s *Set) IsServiceDN(dn string) bool {
	return normalize(dn) == "uid="+ServiceLogin+s.userSuffix
}

// UserByUID maps a uid to its user index (exact, as the data set spells it).
func (s *Set) UserByUID(uid string) (int, bool) {
	if !strings.HasPrefix(uid, "user") {
		return 0, false
	}
	return parseDigits(uid[len("user"):], 6, s.n)
}

// parseIndex parses prefix + digits + suffix, the digits zero-padded to
// width exactly as the generator writes them, into an index below n.
func parseIndex(norm, prefix, suffix string, width, n int) (int, bool) {
	if !strings.HasPrefix(norm, prefix) || !strings.HasSuffix(norm, suffix) || len(norm) < len(prefix)+len(suffix) {
		return 0, false
	}
	return parseDigits(norm[len(prefix):len(norm)-len(suffix)], width, n)
}

func parseDigits(d string, width, n int) (int, bool) {
	if len(d) < width || (len(d) > width && d[0] == '0') || len(d) > 18 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v >= n {
		return 0, false
	}
	return v, true
}
