// Package password hashes new passwords with argon2id and verifies the
// hashes dirgate stores or imports, in RFC 2307 "{SCHEME}value" form:
// {ARGON2} (PHC string, as OpenLDAP's argon2 module writes it), {SSHA},
// {SSHA256}, {SSHA512}, {CRYPT} with bcrypt ($2a$/$2b$/$2y$) or sha512-crypt
// ($6$). Comparisons are constant-time; input lengths are bounded so a huge
// password cannot make hashing a denial of service.
//
// Also verified: {SSHA384}, the unsalted {SHA}, {SHA256}, {SHA384} and
// {SHA512}, argon2i PHC strings inside {ARGON2}, and sha256-crypt ($5$)
// inside {CRYPT}. Scheme names are case-insensitive. Stored hashes whose
// cost parameters exceed fixed bounds (argon2 memory over 1 GiB or more than
// 100 passes, bcrypt cost over 16, sha-crypt over 1,000,000 rounds) are
// refused as malformed rather than computed.
//
// Errors never contain the password, and never the hash either.
package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8
}

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane).
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// MaxLength bounds a password in octets (longer ones never verify and are
// refused when set).
const MaxLength = 1024

// ErrUnsupported: a hash in a scheme or form this package cannot verify.
var ErrUnsupported = errors.New("password: unsupported or malformed hash")

// ErrTooLong is returned by Hash for a password longer than MaxLength.
var ErrTooLong = fmt.Errorf("password: longer than %d octets", MaxLength)

// ErrEmpty is returned by Hash for an empty password (an empty password
// must never authenticate anyone, so it is never stored either).
var ErrEmpty = errors.New("password: empty")

// Hasher hashes and verifies. It bounds how many argon2 computations run at
// once so a burst of binds cannot exhaust memory.
//
// The bound covers every deliberately slow computation (argon2, bcrypt,
// sha-crypt); the salted SHA schemes are cheap and do not wait for a slot.
type Hasher struct {
	p Params

	once  sync.Once
	slots chan struct{} // a token per computation running
	n     int           // capacity of slots; 0 means runtime.NumCPU()*2

	slowVerifies atomic.Uint64 // Verify calls that ran a slow hash
}

// SlowVerifications is how many Verify calls ran a deliberately slow hash
// (argon2id, bcrypt, SHA-crypt): what a sign-in costs, so that tests can
// check that an unknown user costs what a known one does.
func (h *Hasher) SlowVerifications() uint64 { return h.slowVerifies.Load() }

// NewHasher returns a Hasher; zero fields of p take DefaultParams' values.
func NewHasher(p Params) *Hasher {
	return &Hasher{p: withDefaults(p)}
}

func withDefaults(p Params) Params {
	if p.Memory == 0 {
		p.Memory = DefaultParams.Memory
	}
	if p.Time == 0 {
		p.Time = DefaultParams.Time
	}
	if p.Threads == 0 {
		p.Threads = DefaultParams.Threads
	}
	return p
}

// params returns h's parameters (DefaultParams' for a zero Hasher).
func (h *Hasher) params() Params { return withDefaults(h.p) }

func (h *Hasher) sem() chan struct{} {
	h.once.Do(func() {
		n := h.n
		if n <= 0 {
			n = runtime.NumCPU() * 2
		}
		h.slots = make(chan struct{}, n)
	})
	return h.slots
}

// acquire waits for a computation slot or for ctx to end.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sem := h.sem()
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem() }

// Validate reports parameters (after defaults) that Verify would refuse in
// a stored hash, so a configuration error shows at start, not at the first
// password change.
func (p Params) Validate() error {
	p = withDefaults(p)
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory || p.Time > maxArgonTime || p.Threads > maxArgonThreads {
		return fmt.Errorf("password: argon2 parameters m=%d KiB, t=%d, p=%d are out of range (memory 8*threads..%d KiB, time up to %d, threads up to %d)",
			p.Memory, p.Time, p.Threads, maxArgonMemory, maxArgonTime, maxArgonThreads)
	}
	return nil
}

// Hash returns a new {ARGON2} hash of pw with a random salt.
func (h *Hasher) Hash(pw []byte) (string, error) {
	if len(pw) > MaxLength {
		return "", ErrTooLong
	}
	if len(pw) == 0 {
		return "", ErrEmpty
	}
	p := h.params()
	if err := p.Validate(); err != nil {
		return "", err
	}
	a := &argonHash{
		variant: argon2id,
		memory:  p.Memory,
		time:    p.Time,
		threads: p.Threads,
		salt:    make([]byte, saltLen),
	}
	if _, err := rand.Read(a.salt); err != nil {
		return "", fmt.Errorf("password: reading random salt: %w", err)
	}
	if err := h.acquire(context.Background()); err != nil {
		return "", err
	}
	a.key = a.derive(pw, keyLen)
	h.release()
	return a.String(), nil
}

// Verify reports whether pw matches hash. A malformed or unsupported hash
// is an error wrapping ErrUnsupported (and never matches). ctx bounds the
// wait for a hashing slot.
//
// An empty password, or one longer than MaxLength, never matches (false,
// nil) whatever the hash.
func (h *Hasher) Verify(ctx context.Context, hash string, pw []byte) (bool, error) {
	v, err := parse(hash)
	if err != nil {
		return false, err
	}
	if len(pw) == 0 || len(pw) > MaxLength {
		return false, nil
	}
	if v.slow() {
		if err := h.acquire(ctx); err != nil {
			return false, err
		}
		defer h.release()
		h.slowVerifies.Add(1)
	}
	return v.verify(pw), nil
}

// NeedsUpgrade reports whether hash should be replaced by a new Hash on
// the next successful verification (not argon2id, or weaker parameters).
//
// Weaker includes a salt shorter than 16 or a key shorter than 32 octets.
// A hash that does not parse needs upgrading too.
func (h *Hasher) NeedsUpgrade(hash string) bool {
	v, err := parse(hash)
	if err != nil {
		return true
	}
	a, ok := v.(*argonHash)
	if !ok || a.variant != argon2id {
		return true
	}
	p := h.params()
	return a.memory < p.Memory || a.time < p.Time || a.threads < p.Threads ||
		len(a.salt) < saltLen || len(a.key) < keyLen
}

// Check reports whether hash is well-formed in a supported scheme (for
// import: refuse what could never verify).
func Check(hash string) error {
	_, err := parse(hash)
	return err
}

// Slow reports whether verifying hash is expensive by design (argon2,
// bcrypt, sha-crypt), so that remembering a successful verification is
// worth it; the salted SHA schemes verify faster than a keyed hash of the
// password would take.
//
// It looks at the scheme only, without parsing the rest (it is asked on
// every sign-in): a malformed hash of a slow scheme is reported slow, and
// never verifies anyway.
func Slow(hash string) bool {
	name, _, ok := splitScheme(hash)
	if !ok {
		return false
	}
	var buf [32]byte
	scheme := buf[:len(name)]
	for i := range len(name) { // asciiUpper, without allocating
		c := name[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		scheme[i] = c
	}
	switch string(scheme) {
	case "ARGON2", "CRYPT": // every CRYPT method supported is bcrypt or sha-crypt
		return true
	}
	return false
}
