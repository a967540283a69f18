// Package directory is dirgate's domain: orgs, users and their lifecycle,
// groups, admin roles and authentication. Every write goes through it; it
// validates, applies the rules, and writes the change in one store
// transaction (the store records the change sequence). It knows nothing of
// LDAP or HTTP: the dit and api packages translate.
package directory

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/sealed"
	"github.com/dirgate/dirgate/internal/store"
)

// The records are the store's; directory adds the rules.
type (
	Org     = store.Org
	User    = store.User
	Group   = store.Group
	Profile = store.Profile
)

// DefaultSuffix is the naming suffix below which each org is dc=<name>.
const DefaultSuffix = "dc=okta,dc=com"

// Admin roles. Each can view all users and groups of its org.
const (
	RoleSuperAdmin    = "SUPER_ADMIN"
	RoleOrgAdmin      = "ORG_ADMIN"
	RoleReadOnlyAdmin = "READ_ONLY_ADMIN"
)

// Roles lists the admin roles dirgate knows.
var Roles = []string{RoleSuperAdmin, RoleOrgAdmin, RoleReadOnlyAdmin}

// CanViewAll reports whether u holds a role that may view every user and
// group of its org (the LDAP interface's "view users" permission).
func CanViewAll(u *User) bool {
	for _, r := range u.Roles {
		switch r {
		case RoleSuperAdmin, RoleOrgAdmin, RoleReadOnlyAdmin:
			return true
		}
	}
	return false
}

// Config configures a Directory.
type Config struct {
	Store store.Store
	// Password sets the argon2id parameters of new hashes (zero: the
	// password package's defaults).
	Password password.Params
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// LoginFlushInterval is how often coalesced lastLogin updates are
	// written (default 5 s).
	LoginFlushInterval time.Duration
	Logger             *slog.Logger
	// Secrets seals and opens TOTP secrets (factors.go); the factor
	// operations that need it fail without it.
	Secrets *sealed.Keys
	// --- system log (audit.go)
	// EventQueueSize bounds the events waiting to be written (default
	// DefaultEventQueueSize); beyond it events are dropped and counted.
	EventQueueSize int
	// EventRetention is how long events are kept (default
	// DefaultEventRetention; negative: forever).
	EventRetention time.Duration
	// --- end system log
	// Throttle limits failed sign-ins per client IP (throttle.go).
	Throttle ThrottleConfig
	// Sleep waits before a throttled answer (default: a timer honouring
	// ctx); tests record the delays instead of waiting.
	Sleep func(ctx context.Context, d time.Duration)
	// UpgradeHashes re-hashes a legacy password hash ({SSHA}, {CRYPT}, …)
	// with argon2id on the user's next successful sign-in. Off by
	// default: imported hashes verify as imported, so binds keep their
	// cost; on, every later sign-in pays argon2id's (see BindCacheTTL).
	UpgradeHashes bool
	// BindCacheTTL is how long a successful sign-in is remembered
	// (credential.go); 0 is DefaultBindCacheTTL, negative turns it off.
	BindCacheTTL time.Duration
	// PushTimeout is how long a push sign-in waits for the user's answer
	// (push.go); 0 is DefaultPushTimeout.
	PushTimeout time.Duration
	// FailureFloor: a failed sign-in is answered no sooner than this
	// after it began (auth.go), longer than the store write a wrong
	// password costs and an unknown user does not. 0 or negative: off
	// (serve's --bind-failure-floor sets DefaultFailureFloor).
	FailureFloor time.Duration
}

// DefaultFailureFloor is serve's failure floor: above an argon2id
// verification at the default cost with a synced store write, on slow
// disks too.
const DefaultFailureFloor = 250 * time.Millisecond

// Delegate checks login's password at integration integrationID's source.
// handled is false when that integration does not delegate; err is set
// when the source could not be asked (the sign-in then fails closed).
type Delegate func(ctx context.Context, integrationID, login string, password []byte) (handled, ok bool, err error)

// Directory is the domain service. It is safe for concurrent use.
type Directory struct {
	st     store.Store
	hasher *password.Hasher
	now    func() time.Time
	log    *slog.Logger
	// secrets is Config.Secrets (factors.go).
	secrets *sealed.Keys

	throttle     *throttle
	sleep        func(context.Context, time.Duration)
	failureFloor time.Duration // Config.FailureFloor
	upgrade      bool          // Config.UpgradeHashes
	// touched and binds let sign-ins skip the store (credential.go).
	touched touched
	binds   *bindCache
	// audit is the system log queue and writer (audit.go).
	audit *auditLog
	// pushes are the push sign-ins waiting for their user (push.go).
	pushes *pushHub
	// delegate checks the password of a user that has none of its own
	// against the source of the integration it came from (SetDelegate);
	// nil: such users cannot sign in.
	delegate Delegate

	loginMu    sync.Mutex
	logins     map[string]time.Time // user id -> last successful login, not yet written
	tokenUses  map[string]time.Time // token id -> last use, not yet written (tokens.go)
	flushEvery time.Duration
	stop       chan struct{}
	stopped    chan struct{}
	closeOnce  sync.Once
}

// ClientInfo describes where an authentication comes from, for the audit
// log and (later) sign-on policy network zones.
type ClientInfo struct {
	// BindDN is the DN an LDAP bind named, for the audit log's debugData.
	BindDN   string
	IP       string
	TLS      bool
	Protocol string // "ldap", "api", "cli", "console"
	// App is who asks on the user's behalf, when known: for LDAP, the DN
	// the connection was bound as before this bind (a search+bind client
	// such as PostgreSQL binds as its service account first). A push
	// sign-in shows it to the user.
	App string
}

// Data is every org's users, groups and memberships as of one change
// sequence, for building the LDAP snapshot.
type Data struct {
	Seq  uint64
	Orgs []*OrgData
}

// OrgData is one org's content.
type OrgData struct {
	Org         *Org
	Users       []*User // ordered by LoginKey
	Groups      []*Group
	Memberships []store.Membership // ordered by group id, user id
	GroupLinks  []store.GroupLink  // nested groups, ordered by parent id, child id
	SignIn      *SignIn            // the org's compiled policies
}

// Load reads everything, consistently, in one read transaction.
func (d *Directory) Load(ctx context.Context) (*Data, error) {
	var out Data
	err := d.st.View(ctx, func(r store.Reader) error {
		seq, err := r.Seq()
		if err != nil {
			return err
		}
		out.Seq = seq
		orgs, err := r.Orgs()
		if err != nil {
			return err
		}
		for _, o := range orgs {
			od, err := loadOrg(r, o)
			if err != nil {
				return err
			}
			out.Orgs = append(out.Orgs, od)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return &out, nil
}

// LoadOrg reads one org's content and the change sequence it reflects.
func (d *Directory) LoadOrg(ctx context.Context, orgID string) (*OrgData, uint64, error) {
	var od *OrgData
	var seq uint64
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		if seq, err = r.Seq(); err != nil {
			return err
		}
		o, err := r.Org(orgID)
		if err != nil {
			return err
		}
		od, err = loadOrg(r, o)
		return err
	})
	if err != nil {
		return nil, 0, storeErr(err)
	}
	return od, seq, nil
}

// Delta is the current state of some of one org's users and groups, read
// in one transaction, for patching a view of the org built earlier.
type Delta struct {
	Org *Org
	// Users and Groups are the named records that exist in the org, by
	// id; a named id missing from them no longer exists (or is another
	// org's).
	Users  map[string]*User
	Groups map[string]*Group
	// UserGroups lists the group ids of each user in Users, ordered.
	UserGroups map[string][]string
	// GroupMembers lists the user ids of each group in Groups, ordered.
	GroupMembers map[string][]string
	// SignIn is the org's compiled policies as of the same read.
	SignIn *SignIn
}

// LoadDelta reads, consistently in one read transaction, the org, the
// named users and groups with their memberships, and the change sequence
// the read reflects.
func (d *Directory) LoadDelta(ctx context.Context, orgID string, userIDs, groupIDs []string) (*Delta, uint64, error) {
	var out *Delta
	var seq uint64
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		if seq, err = r.Seq(); err != nil {
			return err
		}
		o, err := r.Org(orgID)
		if err != nil {
			return err
		}
		si, err := compileSignIn(r, o)
		if err != nil {
			return err
		}
		out = &Delta{Org: o, SignIn: si, Users: make(map[string]*User, len(userIDs)), Groups: make(map[string]*Group, len(groupIDs)),
			UserGroups: make(map[string][]string, len(userIDs)), GroupMembers: make(map[string][]string, len(groupIDs))}
		for _, id := range userIDs {
			u, err := r.User(id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return err
			case u.OrgID != orgID:
				continue
			}
			if out.UserGroups[id], err = r.UserGroups(id); err != nil {
				return err
			}
			out.Users[id] = u
		}
		for _, id := range groupIDs {
			g, err := r.Group(id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return err
			case g.OrgID != orgID:
				continue
			}
			if out.GroupMembers[id], err = r.GroupMembers(id); err != nil {
				return err
			}
			out.Groups[id] = g
		}
		return nil
	})
	if err != nil {
		return nil, 0, storeErr(err)
	}
	return out, seq, nil
}

func loadOrg(r store.Reader, o *Org) (*OrgData, error) {
	od := &OrgData{Org: o}
	var err error
	if od.Users, err = r.Users(o.ID); err != nil {
		return nil, err
	}
	if od.Groups, err = r.Groups(o.ID); err != nil {
		return nil, err
	}
	if od.Memberships, err = r.Memberships(o.ID); err != nil {
		return nil, err
	}
	if od.GroupLinks, err = r.GroupLinks(o.ID); err != nil {
		return nil, err
	}
	if od.SignIn, err = compileSignIn(r, o); err != nil {
		return nil, err
	}
	return od, nil
}

// Seq returns the store's current change sequence.
func (d *Directory) Seq(ctx context.Context) (uint64, error) {
	s, err := d.st.Seq(ctx)
	return s, storeErr(err)
}

// Wake is the store's hint of new commits (store.Waker), or nil (a nil
// channel never receives) when the store gives none.
func (d *Directory) Wake(ctx context.Context) <-chan struct{} {
	if w, ok := d.st.(store.Waker); ok {
		return w.Wake(ctx)
	}
	return nil
}

// ChangesSince returns up to limit changes after seq, oldest first.
func (d *Directory) ChangesSince(ctx context.Context, seq uint64, limit int) ([]store.Change, error) {
	c, err := d.st.ChangesSince(ctx, seq, limit)
	return c, storeErr(err)
}
