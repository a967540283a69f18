package password

import (
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// What Hash writes.
const (
	saltLen = 16
	keyLen  = 32
)

// Bounds on what an {ARGON2} hash may ask for before it is refused: enough
// for any sane configuration, too little for one hash to take the server.
const (
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 100
	maxArgonThreads = 64
	minArgonSalt    = 8 // the reference implementation's minimum
	maxArgonSalt    = 1024
	minArgonKey     = 4 // likewise
	maxArgonKey     = 1024
)

type argonVariant int

const (
	argon2i argonVariant = iota
	argon2id
)

func (v argonVariant) String() string {
	if v == argon2i {
		return "argon2i"
	}
	return "argon2id"
}

// argonHash is a PHC string as the argon2 reference implementation and
// OpenLDAP's argon2 module write it:
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>
//
// salt and key in standard base64 without padding. Only version 19 (0x13)
// is supported; argon2d is not.
type argonHash struct {
	variant argonVariant
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func parseArgon2(value string) (verifier, error) {
	parts := strings.Split(value, "$")
	if len(parts) == 5 && (parts[1] == "argon2i" || parts[1] == "argon2id") {
		return nil, malformed("{ARGON2}: no v= field (argon2 version 16 is not supported)")
	}
	if len(parts) != 6 || parts[0] != "" {
		return nil, malformed("{ARGON2}: not a PHC string $alg$v=$m=,t=,p=$salt$hash")
	}
	a := &argonHash{}
	switch parts[1] {
	case "argon2id":
		a.variant = argon2id
	case "argon2i":
		a.variant = argon2i
	default:
		return nil, malformed("{ARGON2}: algorithm not supported (want argon2id or argon2i)")
	}
	if parts[2] != "v=19" {
		return nil, malformed("{ARGON2}: version not supported (want v=19)")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return nil, malformed("{ARGON2}: want parameters m=,t=,p=")
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		s, ok := strings.CutPrefix(params[i], name)
		if !ok {
			return nil, malformed("{ARGON2}: want parameters m=,t=,p=")
		}
		n, ok := parseUint(s, 1<<32-1)
		if !ok {
			return nil, malformed("{ARGON2}: bad number in %s", name[:1])
		}
		vals[i] = n
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case p < 1 || p > maxArgonThreads:
		return nil, malformed("{ARGON2}: p=%d out of range 1..%d", p, maxArgonThreads)
	case t < 1 || t > maxArgonTime:
		return nil, malformed("{ARGON2}: t=%d out of range 1..%d", t, maxArgonTime)
	case m < 8*p || m > maxArgonMemory:
		return nil, malformed("{ARGON2}: m=%d out of range 8*p..%d", m, maxArgonMemory)
	}
	a.memory, a.time, a.threads = uint32(m), uint32(t), uint8(p)
	var err error
	if a.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return nil, malformed("{ARGON2}: bad base64 in salt")
	}
	if len(a.salt) < minArgonSalt || len(a.salt) > maxArgonSalt {
		return nil, malformed("{ARGON2}: salt of %d octets, want %d..%d", len(a.salt), minArgonSalt, maxArgonSalt)
	}
	if a.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return nil, malformed("{ARGON2}: bad base64 in hash")
	}
	if len(a.key) < minArgonKey || len(a.key) > maxArgonKey {
		return nil, malformed("{ARGON2}: hash of %d octets, want %d..%d", len(a.key), minArgonKey, maxArgonKey)
	}
	return a, nil
}

func (a *argonHash) slow() bool { return true }

func (a *argonHash) derive(pw []byte, n int) []byte {
	if a.variant == argon2i {
		return argon2.Key(pw, a.salt, a.time, a.memory, a.threads, uint32(n))
	}
	return argon2.IDKey(pw, a.salt, a.time, a.memory, a.threads, uint32(n))
}

func (a *argonHash) verify(pw []byte) bool {
	return subtle.ConstantTimeCompare(a.derive(pw, len(a.key)), a.key) == 1
}

// String is the {ARGON2} hash.
func (a *argonHash) String() string {
	var b strings.Builder
	b.WriteString("{ARGON2}$")
	b.WriteString(a.variant.String())
	b.WriteString("$v=19$m=")
	b.WriteString(strconv.FormatUint(uint64(a.memory), 10))
	b.WriteString(",t=")
	b.WriteString(strconv.FormatUint(uint64(a.time), 10))
	b.WriteString(",p=")
	b.WriteString(strconv.FormatUint(uint64(a.threads), 10))
	b.WriteByte('$')
	b.WriteString(base64.RawStdEncoding.EncodeToString(a.salt))
	b.WriteByte('$')
	b.WriteString(base64.RawStdEncoding.EncodeToString(a.key))
	return b.String()
}
