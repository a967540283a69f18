package directory

import (
	"crypto/rand"
	"strings"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ID prefixes, as Okta's: users 00u, groups 00g, orgs 00o.
const (
	prefixUser   = "00u"
	prefixGroup  = "00g"
	prefixOrg    = "00o"
	prefixPolicy = "00p"
	idRandLen    = 17
)

// newID returns prefix followed by 17 uniformly random base62 characters
// (about 101 bits).
func newID(prefix string) string {
	b := make([]byte, len(prefix)+idRandLen)
	copy(b, prefix)
	fillBase62(b[len(prefix):])
	return string(b)
}

// fillBase62 fills b with uniformly random base62 characters.
func fillBase62(b []byte) {
	var r [1]byte
	for i := 0; i < len(b); {
		rand.Read(r[:])
		if r[0] >= 248 { // 248 = 4*62: reject to stay uniform
			continue
		}
		b[i] = base62[r[0]%62]
		i++
	}
}

// looksLikeID reports whether ref has the shape of an id with prefix, so
// a reference can be an id or a name.
func looksLikeID(ref, prefix string) bool {
	if len(ref) != len(prefix)+idRandLen || !strings.HasPrefix(ref, prefix) {
		return false
	}
	for i := len(prefix); i < len(ref); i++ {
		if strings.IndexByte(base62, ref[i]) < 0 {
			return false
		}
	}
	return true
}
