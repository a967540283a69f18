package password

import (
	"crypto/sha256"
	"crypto/sha512"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// maxBcryptCost bounds an imported bcrypt hash's cost (2^16 rounds take
// seconds; real configurations use 10 to 14).
const maxBcryptCost = 16

// parseCrypt parses the crypt(3) string after {CRYPT}: bcrypt, sha512-crypt
// or sha256-crypt. DES, md5-crypt ($1$) and yescrypt ($y$) are not
// supported.
func parseCrypt(value string) (verifier, error) {
	switch {
	case strings.HasPrefix(value, "$2a$"), strings.HasPrefix(value, "$2b$"), strings.HasPrefix(value, "$2y$"):
		return parseBcrypt(value)
	case strings.HasPrefix(value, "$6$"):
		return parseSHACrypt(value, sha512Crypt)
	case strings.HasPrefix(value, "$5$"):
		return parseSHACrypt(value, sha256Crypt)
	case strings.HasPrefix(value, "$2"):
		return nil, malformed("{CRYPT}: bcrypt variant not supported (want $2a$, $2b$ or $2y$)")
	}
	return nil, malformed("{CRYPT}: method not supported (want bcrypt, $5$ or $6$)")
}

// cryptAlphabet is the crypt(3) base64 alphabet (bcrypt's has the same
// characters in another order).
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func inCryptAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(cryptAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// bcryptHash is $2a$, $2b$ or $2y$ (the same algorithm; $2x$, the buggy
// one, is refused): $2b$NN$ then 22 characters of salt and 31 of hash.
type bcryptHash struct {
	s string
}

func parseBcrypt(value string) (verifier, error) {
	if len(value) != 60 || value[6] != '$' {
		return nil, malformed("{CRYPT}: bcrypt hash not of the form $2b$NN$ and 53 characters")
	}
	cost, ok := parseUint(value[4:6], 99)
	if !ok {
		return nil, malformed("{CRYPT}: bcrypt cost not a number")
	}
	if cost < uint64(bcrypt.MinCost) || cost > maxBcryptCost {
		return nil, malformed("{CRYPT}: bcrypt cost %d out of range %d..%d", cost, bcrypt.MinCost, maxBcryptCost)
	}
	if !inCryptAlphabet(value[7:]) {
		return nil, malformed("{CRYPT}: bcrypt salt and hash not in its base64 alphabet")
	}
	return &bcryptHash{s: value}, nil
}

func (b *bcryptHash) slow() bool { return true }

// verify uses bcrypt, which compares in constant time. Like the C
// implementations, it uses only the first 72 octets of pw.
func (b *bcryptHash) verify(pw []byte) bool {
	return bcrypt.CompareHashAndPassword([]byte(b.s), pw) == nil
}

// SHA-crypt ($5$, $6$) bounds: the specification's minimum, and a maximum
// far above any configuration's (the default is 5000).
const (
	minSHACryptRounds     = 1000
	maxSHACryptRounds     = 1_000_000
	defaultSHACryptRounds = 5000
	maxSHACryptSalt       = 16
)

type shaCryptMethod struct {
	id      string // "$6$"
	sha512  bool
	encLen  int // characters of encoded hash
	encoder func([]byte) string
}

var (
	sha512Crypt = &shaCryptMethod{id: "$6$", sha512: true, encLen: 86, encoder: encodeSHA512Crypt}
	sha256Crypt = &shaCryptMethod{id: "$5$", sha512: false, encLen: 43, encoder: encodeSHA256Crypt}
)

// shaCryptHash is $6$[rounds=N$]salt$hash (or $5$...), as Ulrich Drepper's
// "Unix crypt using SHA-256 and SHA-512" specifies.
type shaCryptHash struct {
	m      *shaCryptMethod
	rounds int
	salt   string
	enc    string
}

func parseSHACrypt(value string, m *shaCryptMethod) (verifier, error) {
	name := "sha512-crypt"
	if !m.sha512 {
		name = "sha256-crypt"
	}
	rest := value[len(m.id):]
	h := &shaCryptHash{m: m, rounds: defaultSHACryptRounds}
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, found := strings.Cut(r, "$")
		if !found {
			return nil, malformed("{CRYPT}: %s rounds= without $", name)
		}
		n, ok := parseUint(num, maxSHACryptRounds)
		if !ok || n < minSHACryptRounds {
			return nil, malformed("{CRYPT}: %s rounds out of range %d..%d", name, minSHACryptRounds, maxSHACryptRounds)
		}
		h.rounds, rest = int(n), after
	}
	salt, enc, found := strings.Cut(rest, "$")
	if !found {
		return nil, malformed("{CRYPT}: %s has no hash after the salt", name)
	}
	if len(salt) > maxSHACryptSalt {
		return nil, malformed("{CRYPT}: %s salt longer than %d", name, maxSHACryptSalt)
	}
	if len(enc) != m.encLen || !inCryptAlphabet(enc) {
		return nil, malformed("{CRYPT}: %s hash not %d characters of its base64 alphabet", name, m.encLen)
	}
	h.salt, h.enc = salt, enc
	return h, nil
}

func (h *shaCryptHash) slow() bool { return true }

func (h *shaCryptHash) verify(pw []byte) bool {
	var sum []byte
	if h.m.sha512 {
		sum = shaCrypt(sha512.New(), pw, []byte(h.salt), h.rounds)
	} else {
		sum = shaCrypt(sha256.New(), pw, []byte(h.salt), h.rounds)
	}
	return constantTimeEqualString(h.m.encoder(sum), h.enc)
}
