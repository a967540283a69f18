package password

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"
)

// maxHashLen bounds a stored hash string, so parsing (and the salted SHA
// schemes, whose cost grows with the salt) stays cheap whatever is imported.
const maxHashLen = 4096

// verifier is a parsed hash.
type verifier interface {
	// verify reports whether pw matches, in time independent of where
	// the computed digest differs from the stored one.
	verify(pw []byte) bool
	// slow reports whether verify is deliberately expensive and must hold
	// one of the Hasher's slots.
	slow() bool
}

// malformed returns an error wrapping ErrUnsupported. The message names the
// scheme and what is wrong, never the hash's content.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// parse splits "{SCHEME}value" and parses value by the scheme.
func parse(hash string) (verifier, error) {
	if len(hash) > maxHashLen {
		return nil, malformed("longer than %d octets", maxHashLen)
	}
	for i := 0; i < len(hash); i++ {
		if c := hash[i]; c <= ' ' || c >= 0x7f {
			return nil, malformed("control, space or non-ASCII octet at %d", i)
		}
	}
	scheme, value, ok := splitScheme(hash)
	if !ok {
		return nil, malformed("no {SCHEME} prefix")
	}
	switch asciiUpper(scheme) {
	case "ARGON2":
		return parseArgon2(value)
	case "SSHA":
		return parseSaltedSHA("SSHA", value, sha1.Size, true, newSHA1)
	case "SHA":
		return parseSaltedSHA("SHA", value, sha1.Size, false, newSHA1)
	case "SSHA256":
		return parseSaltedSHA("SSHA256", value, sha256.Size, true, sha256.New)
	case "SHA256":
		return parseSaltedSHA("SHA256", value, sha256.Size, false, sha256.New)
	case "SSHA384":
		return parseSaltedSHA("SSHA384", value, sha512.Size384, true, sha512.New384)
	case "SHA384":
		return parseSaltedSHA("SHA384", value, sha512.Size384, false, sha512.New384)
	case "SSHA512":
		return parseSaltedSHA("SSHA512", value, sha512.Size, true, sha512.New)
	case "SHA512":
		return parseSaltedSHA("SHA512", value, sha512.Size, false, sha512.New)
	case "CRYPT":
		return parseCrypt(value)
	}
	return nil, malformed("scheme not supported")
}

// splitScheme splits "{SCHEME}value"; false without a {SCHEME} prefix of
// at most 31 characters.
func splitScheme(hash string) (scheme, value string, ok bool) {
	end := strings.IndexByte(hash, '}')
	if !strings.HasPrefix(hash, "{") || end < 0 || end > 32 {
		return "", "", false
	}
	return hash[1:end], hash[end+1:], true
}

// asciiUpper upper-cases ASCII letters only (strings.ToUpper and EqualFold
// fold some non-ASCII letters to ASCII ones, which no scheme name has).
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// decodeBase64 decodes standard base64 with or without its '=' padding.
func decodeBase64(s string) ([]byte, error) {
	if len(s)%4 == 0 && strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// parseUint parses a decimal of 1 to 10 digits no greater than max.
func parseUint(s string, max uint64) (uint64, bool) {
	if len(s) == 0 || len(s) > 10 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n <= max
}
