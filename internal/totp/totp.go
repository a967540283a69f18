// Package totp implements time-based one-time passwords (RFC 6238) the way
// authenticator apps use them: HMAC-SHA-1, 6 digits, a 30 second period.
//
// It generates and encodes shared secrets, builds the otpauth:// Key URI
// and its QR code for enrolment, and verifies codes with a skew window and
// replay protection. It stores nothing: the caller keeps the secret (sealed,
// see package sealed) and the last accepted time step.
//
// A secret, a code and a URI (which carries the secret) are credentials:
// never log them or put them in an error. No error returned by this package
// contains one.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

const (
	// Digits is the number of decimal digits in a code.
	Digits = 6
	// Period is the length of one time step.
	Period = 30 * time.Second
	// SecretSize is the size in bytes of a secret made by NewSecret
	// (160 bits, the size RFC 4226 recommends).
	SecretSize = 20
	// MinSecretSize and MaxSecretSize bound what DecodeSecret accepts.
	// 10 bytes (80 bits) is the shortest secret in common use.
	MinSecretSize = 10
	MaxSecretSize = 64
	// MaxSkew is the largest skew Verify accepts (±5 minutes).
	MaxSkew = 10
)

const periodSeconds = int64(Period / time.Second)

// ErrInvalidSecret is returned by DecodeSecret for text that is not the
// base32 form of a secret of an acceptable size.
var ErrInvalidSecret = errors.New("totp: secret is not base32 of 10 to 64 bytes")

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns SecretSize bytes from crypto/rand.
func NewSecret() ([]byte, error) {
	s := make([]byte, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, errors.New("totp: cannot read random bytes")
	}
	return s, nil
}

// EncodeSecret returns the RFC 4648 base32 form of secret, upper case and
// without padding: what a user types into an authenticator app.
func EncodeSecret(secret []byte) string {
	return b32.EncodeToString(secret)
}

// DecodeSecret parses a base32 secret as people copy it: upper or lower
// case, with spaces, tabs, line breaks or hyphens between groups, with or
// without '=' padding. The decoded secret must be MinSecretSize to
// MaxSecretSize bytes long.
func DecodeSecret(s string) ([]byte, error) {
	// Longest acceptable input: the encoded maximum plus a separator
	// between every character. Checked first so no work depends on an
	// attacker-sized input.
	if len(s) > 2*(b32.EncodedLen(MaxSecretSize)+8) {
		return nil, ErrInvalidSecret
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	t := strings.TrimRight(b.String(), "=")
	// Padding, if present, must be the only padding and of a legal length.
	if pad := b.Len() - len(t); pad > 0 && (pad >= 8 || (len(t)+pad)%8 != 0) {
		return nil, ErrInvalidSecret
	}
	// Unpadded base32 never leaves 1, 3 or 6 characters in its last
	// group; the standard decoder would silently drop them.
	switch len(t) % 8 {
	case 1, 3, 6:
		return nil, ErrInvalidSecret
	}
	secret, err := b32.DecodeString(t)
	if err != nil || len(secret) < MinSecretSize || len(secret) > MaxSecretSize {
		return nil, ErrInvalidSecret
	}
	return secret, nil
}

// Step returns the RFC 6238 time step of t: the number of whole periods
// since the Unix epoch (rounded down, so times before 1970 give negative
// steps).
func Step(t time.Time) int64 {
	u := t.Unix()
	s := u / periodSeconds
	if u%periodSeconds < 0 {
		s--
	}
	return s
}

// Code returns the code for secret at time t.
func Code(secret []byte, t time.Time) string {
	var c [Digits]byte
	hotp(&c, secret, Step(t))
	return string(c[:])
}

// hotp writes the RFC 4226 HOTP value of secret for counter step into c.
func hotp(c *[Digits]byte, secret []byte, step int64) {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	var sum [sha1.Size]byte
	h := m.Sum(sum[:0])
	off := h[len(h)-1] & 0x0f
	v := binary.BigEndian.Uint32(h[off:off+4]) & 0x7fffffff
	for i := Digits - 1; i >= 0; i-- {
		c[i] = byte('0' + v%10)
		v /= 10
	}
}

// wellFormed reports whether code is exactly Digits ASCII digits.
func wellFormed(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// Verify checks code against secret at time t. It accepts the code of any
// time step from Step(t)-skew to Step(t)+skew (skew 1 allows ±30 s of
// clock drift), but only of a step greater than lastStep. On success it
// returns the step that matched; the caller must store it and pass it as
// lastStep next time, so that a code, once accepted, and every code older
// than it are refused (replay protection). Pass 0 for a secret that has
// never been used. step is meaningful only when ok is true.
//
// Codes that are not exactly Digits ASCII digits, an empty secret, and a
// skew outside 0..MaxSkew fail without computing anything. Codes are
// compared in constant time, and every step of the window is computed
// whether or not an earlier one matched.
func Verify(secret []byte, code string, t time.Time, skew int, lastStep int64) (step int64, ok bool) {
	if !wellFormed(code) || len(secret) == 0 || skew < 0 || skew > MaxSkew {
		return 0, false
	}
	now := Step(t)
	var want [Digits]byte
	for s := now - int64(skew); s <= now+int64(skew); s++ {
		hotp(&want, secret, s)
		// A later step wins if two steps share a code, so the stored
		// step never moves backwards.
		if subtle.ConstantTimeCompare(want[:], []byte(code)) == 1 && s > lastStep {
			step, ok = s, true
		}
	}
	return step, ok
}
