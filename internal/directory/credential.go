package directory

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	"github.com/dirgate/dirgate/internal/store"
)

// Credential is the part of a user record a sign-in needs, small enough
// for the LDAP snapshot to hold one per user (dit): with it, Authenticate
// reads nothing from the store for a successful bind. It reflects the
// snapshot's change sequence, so a change made by another process (the
// CLI, another node) reaches it with the snapshot's next refresh, as it
// reaches searches; a change made through this Directory is honoured at
// once (see touched).
type Credential struct {
	UserID, OrgID   string
	Login           string
	DisplayName     string // for the system log
	PasswordHash    string
	Status, Type    string
	FailedLogins    int
	PasswordChanged time.Time
	StatusChanged   time.Time
}

// CredentialOf extracts a user's credential, holding nothing of u: its
// strings are copied into one allocation (u's may share a larger buffer,
// such as the row they were read from, which the credential would keep
// alive), the org id is canonicalised, and status and type share the
// package's constant strings, so a snapshot of many users holds them once.
func CredentialOf(u *User) *Credential {
	display := userDisplayName(u)
	if display == u.Profile.Login {
		display = "" // shared with Login below
	}
	var b strings.Builder
	b.Grow(len(u.ID) + len(u.Profile.Login) + len(display) + len(u.PasswordHash))
	b.WriteString(u.ID)
	b.WriteString(u.Profile.Login)
	b.WriteString(display)
	b.WriteString(u.PasswordHash)
	all := b.String()
	i, l, d := len(u.ID), len(u.ID)+len(u.Profile.Login), len(u.ID)+len(u.Profile.Login)+len(display)
	c := &Credential{
		UserID: all[:i], OrgID: unique.Make(u.OrgID).Value(), Login: all[i:l],
		DisplayName: all[l:d], PasswordHash: all[d:], Status: intern(u.Status), Type: intern(u.Type),
		FailedLogins: u.FailedLogins, PasswordChanged: u.PasswordChanged, StatusChanged: u.StatusChanged,
	}
	if display == "" {
		c.DisplayName = c.Login
	}
	return c
}

func intern(s string) string {
	for _, c := range [...]string{StatusActive, StatusStaged, StatusSuspended, StatusDeprovisioned,
		StatusLockedOut, StatusPasswordExpired, store.TypePerson, store.TypeServiceAccount} {
		if s == c {
			return c
		}
	}
	return s
}

// user is the record Authenticate works on: what the credential holds.
func (c *Credential) user() *User {
	u := &User{ID: c.UserID, OrgID: c.OrgID, Status: c.Status, Type: c.Type, PasswordHash: c.PasswordHash,
		FailedLogins: c.FailedLogins, PasswordChanged: c.PasswordChanged, StatusChanged: c.StatusChanged}
	u.Profile.Login = c.Login
	if c.DisplayName != c.Login {
		u.Profile.DisplayName = c.DisplayName
	}
	return u
}

// credentialSettle is how long after a write through this Directory a
// user's sign-ins read the store rather than a snapshot's credential: a
// snapshot catches up within its poll interval (500 ms by default), so
// this leaves a wide margin.
const credentialSettle = 5 * time.Second

// touched remembers users written through this Directory lately.
type touched struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (t *touched) mark(id string, now time.Time) {
	t.mu.Lock()
	if t.at == nil {
		t.at = map[string]time.Time{}
	}
	t.at[id] = now
	if len(t.at) > 4096 { // forget the settled
		for k, v := range t.at {
			if now.Sub(v) > credentialSettle {
				delete(t.at, k)
			}
		}
	}
	t.mu.Unlock()
}

func (t *touched) recent(id string, now time.Time) bool {
	t.mu.Lock()
	at, ok := t.at[id]
	t.mu.Unlock()
	return ok && now.Sub(at) < credentialSettle
}

// DefaultBindCacheTTL is how long a successful sign-in is remembered.
const DefaultBindCacheTTL = 2 * time.Minute

// bindCache remembers successful sign-ins for a short time, so a user who
// binds again (PostgreSQL binds its service account on every login) does
// not pay for an argon2id verification each time. Only slow hashes are
// remembered ({SSHA} verifies faster than the cache's own keyed hash):
// Authenticate asks password.Slow once per sign-in and uses the cache only
// then. It holds no password:
// an HMAC-SHA256 of it under a random key made at start-up (never stored),
// and the hash it matched. An entry counts only while the user's hash is
// that one and the org's policies are those it was made under; it is
// forgotten on any write to the user through this Directory and on any
// failed sign-in, and it expires after the TTL.
type bindCache struct {
	hits atomic.Uint64
	ttl  time.Duration
	key  [32]byte
	mu   sync.Mutex
	m    map[string]bindOK
	macs sync.Pool // of HMACs under key, reused
}

type bindOK struct {
	mac     [sha256.Size]byte
	hash    string
	signIn  *SignIn
	expires time.Time
}

// maxBindCache bounds the entries; past it, expired ones are dropped, and
// if none are, the cache starts over.
const maxBindCache = 100_000

func newBindCache(ttl time.Duration) *bindCache {
	if ttl < 0 {
		return nil
	}
	if ttl == 0 {
		ttl = DefaultBindCacheTTL
	}
	c := &bindCache{ttl: ttl, m: map[string]bindOK{}}
	rand.Read(c.key[:])
	return c
}

func (c *bindCache) mac(userID string, pw []byte) (out [sha256.Size]byte) {
	h, _ := c.macs.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, c.key[:])
	}
	h.Reset()
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write(pw)
	h.Sum(out[:0])
	c.macs.Put(h)
	return out
}

// ok reports whether u signed in with pw lately, under si.
func (c *bindCache) ok(u *User, pw []byte, si *SignIn, now time.Time) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	e, found := c.m[u.ID]
	c.mu.Unlock()
	if !found || e.hash != u.PasswordHash || e.signIn != si || !now.Before(e.expires) {
		return false
	}
	m := c.mac(u.ID, pw)
	if !hmac.Equal(m[:], e.mac[:]) {
		return false
	}
	c.hits.Add(1)
	return true
}

// BindCacheHits counts the sign-ins whose password was not verified again
// because the bind cache remembered it.
func (d *Directory) BindCacheHits() uint64 {
	if d.binds == nil {
		return 0
	}
	return d.binds.hits.Load()
}

func (c *bindCache) put(u *User, pw []byte, si *SignIn, now time.Time) {
	if c == nil {
		return
	}
	e := bindOK{mac: c.mac(u.ID, pw), hash: u.PasswordHash, signIn: si, expires: now.Add(c.ttl)}
	c.mu.Lock()
	if len(c.m) >= maxBindCache {
		for k, v := range c.m {
			if !now.Before(v.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxBindCache {
			clear(c.m)
		}
	}
	c.m[u.ID] = e
	c.mu.Unlock()
}

func (c *bindCache) forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// wrote notes a write to a user through this Directory: its sign-ins read
// the store for a while, and a remembered sign-in is forgotten.
func (d *Directory) wrote(id string) {
	d.touched.mark(id, d.now())
	d.binds.forget(id)
}
