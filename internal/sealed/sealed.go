// Package sealed encrypts small secrets at rest (TOTP secrets, connector
// passwords) with AES-256-GCM.
//
// A sealed value is text, safe to store in a database column:
//
//	v1:<key id>:<base64(nonce || ciphertext || tag)>
//
// The key id is the first 8 hex digits of the SHA-256 of the key, so a
// value names the key that sealed it and a keyring (Keys) can hold the
// current key and older ones while secrets are re-sealed after a
// rotation. Associated data binds a value to its owner (say, the user id):
// a value copied to another row does not open there. The "v1:<key id>:"
// prefix is authenticated too.
//
// Nonces are random (96 bits), which is safe for far more values than a
// directory seals under one key (NIST's limit is 2^32 per key).
//
// No error, and no formatted Key, contains a plaintext or key material.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

const (
	// KeySize is the size of a key in bytes (AES-256).
	KeySize = 32
	// MaxPlaintextSize bounds what Seal accepts and so what Open parses.
	MaxPlaintextSize = 64 << 10

	version  = "v1"
	idLen    = 8
	nonceLen = 12
	tagLen   = 16
	// headerLen is len("v1:" + id + ":").
	headerLen = len(version) + 1 + idLen + 1
)

var b64 = base64.RawStdEncoding.Strict()

// maxSealedLen is the length of a sealed MaxPlaintextSize plaintext.
var maxSealedLen = headerLen + b64.EncodedLen(nonceLen+MaxPlaintextSize+tagLen)

// Errors from Seal and Open. Open's errors say what is wrong with a value
// without quoting it.
var (
	ErrMalformed  = errors.New("sealed: malformed sealed value")
	ErrUnknownKey = errors.New("sealed: value sealed with a key that is not loaded")
	ErrOpen       = errors.New("sealed: cannot open value: wrong key or associated data, or altered")
	ErrTooLarge   = errors.New("sealed: plaintext too large")
)

// Key is one AES-256-GCM key. It never formats or logs its key material:
// fmt and log/slog show only its id.
type Key struct {
	id   string
	fp   [sha256.Size]byte // SHA-256 of the key; id is its first 4 bytes in hex
	aead cipher.AEAD
}

// newKey makes a Key from raw key bytes, which it does not keep.
func newKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w (got %d bytes)", ErrKeyLength, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, errors.New("sealed: cannot make AES cipher")
	}
	// The random-nonce mode draws a nonce from crypto/rand for each Seal
	// and puts it before the ciphertext.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, errors.New("sealed: cannot make GCM")
	}
	k := &Key{fp: sha256.Sum256(raw), aead: aead}
	k.id = hex.EncodeToString(k.fp[:idLen/2])
	return k, nil
}

// ID returns the key id: the first 8 hex digits of the SHA-256 of the key.
func (k *Key) ID() string { return k.id }

// String returns "sealed.Key(<id>)".
func (k *Key) String() string { return "sealed.Key(" + k.id + ")" }

// GoString, Format and LogValue keep key material out of %#v, every other
// fmt verb, and log/slog.
func (k *Key) GoString() string           { return k.String() }
func (k *Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }
func (k *Key) LogValue() slog.Value       { return slog.StringValue(k.id) }

// header is the text before the payload, "v1:<id>:".
func (k *Key) header() string { return version + ":" + k.id + ":" }

// aad is what GCM authenticates besides the ciphertext: the header, then
// the caller's associated data. The header has a fixed length, so the two
// cannot run into each other.
func (k *Key) aad(associatedData []byte) []byte {
	return append([]byte(k.header()), associatedData...)
}

// Seal encrypts plaintext under k, bound to associatedData, and returns
// its text form. Open must be given the same associatedData.
func (k *Key) Seal(plaintext, associatedData []byte) (string, error) {
	if len(plaintext) > MaxPlaintextSize {
		return "", ErrTooLarge
	}
	ct := k.aead.Seal(nil, nil, plaintext, k.aad(associatedData))
	return k.header() + b64.EncodeToString(ct), nil
}

// Open decrypts a value sealed by k with the same associatedData. A value
// sealed by another key fails with ErrUnknownKey; a wrong associatedData,
// or a value altered in any way, with ErrOpen; text that is not a sealed
// value at all, with ErrMalformed.
func (k *Key) Open(sealed string, associatedData []byte) ([]byte, error) {
	id, ct, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	if id != k.id {
		return nil, unknownKey(id)
	}
	return k.open(ct, associatedData)
}

func (k *Key) open(ct, associatedData []byte) ([]byte, error) {
	pt, err := k.aead.Open(nil, nil, ct, k.aad(associatedData))
	if err != nil {
		return nil, ErrOpen
	}
	if pt == nil {
		pt = []byte{} // success is never nil, even for an empty plaintext
	}
	return pt, nil
}

func unknownKey(id string) error {
	// id is 8 checked hex digits, safe to show.
	return fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
}

// KeyID returns the id of the key that sealed a value, without opening it.
func KeyID(sealed string) (string, error) {
	id, _, err := parse(sealed)
	return id, err
}

// parse splits a sealed value into its key id and nonce||ciphertext||tag.
func parse(s string) (id string, ct []byte, err error) {
	if len(s) > maxSealedLen {
		return "", nil, ErrMalformed
	}
	v, rest, ok := strings.Cut(s, ":")
	if !ok || v != version {
		return "", nil, ErrMalformed
	}
	id, payload, ok := strings.Cut(rest, ":")
	if !ok || !isKeyID(id) {
		return "", nil, ErrMalformed
	}
	ct, err = b64.DecodeString(payload)
	// The decoder skips line breaks; only the canonical form is accepted.
	if err != nil || b64.EncodedLen(len(ct)) != len(payload) || len(ct) < nonceLen+tagLen {
		return "", nil, ErrMalformed
	}
	return id, ct, nil
}

func isKeyID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
