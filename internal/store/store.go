// Package store defines what dirgate persists and the Store interface every
// backend implements (store/sqlite, later store/postgres). It holds records,
// not rules: validation, lifecycle and access decisions live in directory.
// Every backend must pass the conformance suite in store/storetest.
//
// Each write method records one change in the same transaction and bumps
// the store's change sequence, so a reader that remembers the last sequence
// it saw learns of every change, however it was written (serve, the CLI,
// another node).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors every backend returns (wrapped or not; test with errors.Is).
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique key (org name, login, group name, id) is taken.
	ErrConflict = errors.New("store: already exists")
	// ErrUnavailable wraps a failure to reach the database (a network
	// store that is down, restarting or unreachable): the operation did
	// not happen, and may succeed when retried.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrFull wraps a write refused because the database's disk (or its
	// quota) is full: the write did not happen; reads go on working, and
	// the write succeeds once space is freed.
	ErrFull = errors.New("store: the database's disk is full")
	// ErrExhausted: a range of POSIX numbers has none left.
	ErrExhausted = errors.New("store: no number left in the range")
	// ErrNewerSchema: the database was written by a newer dirgate.
	ErrNewerSchema = errors.New("store: database schema is newer than this dirgate")
)

// Org is one tenant: a naming context dc=<Name>,<Suffix>.
type Org struct {
	ID      string // "00o" + 17 base62
	Name    string // unique, lower case; the dc= value
	Suffix  string // e.g. "dc=okta,dc=com"
	Created time.Time
	// CustomAttributes are the extra profile attributes the org declares;
	// they appear in LDAP under these names.
	CustomAttributes []string
	// MFASeparator separates the password from a one-time code in an LDAP
	// bind password; empty means the default, ",".
	MFASeparator string
	// SelfServiceAttributes are the profile attributes the org's users may
	// edit themselves (the console's self-service page); nil means the
	// default set, empty means none.
	SelfServiceAttributes []string
	// LDAP holds the org's LDAP interface switches that go beyond Okta's
	// behaviour; the zero value is Okta's.
	LDAP LDAPSettings
}

// LDAPSettings are an org's LDAP interface switches, all off by default.
type LDAPSettings struct {
	// Writes lets the org's ORG_ADMINs and SUPER_ADMINs add, modify and
	// delete users and groups over LDAP.
	Writes bool `json:"writes,omitempty"`
	// TransitiveMemberOf makes memberOf list every group a user or group
	// is in through nested groups, not only the groups it is directly in.
	TransitiveMemberOf bool `json:"transitiveMemberOf,omitempty"`
	// POSIX serves the org's users and groups as POSIX accounts and
	// groups (RFC 2307bis), for SSSD and other NSS clients.
	POSIX POSIXSettings `json:"posix,omitzero"`
}

// POSIXSettings are an org's POSIX accounts: where uidNumber and gidNumber
// come from, and the templates of the other attributes.
type POSIXSettings struct {
	Enabled bool `json:"enabled,omitempty"`
	// UIDMin..UIDMax and GIDMin..GIDMax bound the numbers allocated to
	// users and groups (Tx.NextPOSIXNumber).
	UIDMin int64 `json:"uidMin,omitempty"`
	UIDMax int64 `json:"uidMax,omitempty"`
	GIDMin int64 `json:"gidMin,omitempty"`
	GIDMax int64 `json:"gidMax,omitempty"`
	// PrimaryGID is every user's gidNumber (its primary group).
	PrimaryGID int64 `json:"primaryGid,omitempty"`
	// Home is homeDirectory's template; Shell is loginShell.
	Home  string `json:"home,omitempty"`
	Shell string `json:"shell,omitempty"`
}

// MarshalLDAPSettings is how stores keep s: nil for the zero value, else
// a JSON object.
func MarshalLDAPSettings(s LDAPSettings) []byte {
	if s == (LDAPSettings{}) {
		return nil
	}
	b, _ := json.Marshal(s) // a struct of plain fields always marshals
	return b
}

// UnmarshalLDAPSettings reads what MarshalLDAPSettings wrote (nil or
// empty: the zero value).
func UnmarshalLDAPSettings(b []byte) (LDAPSettings, error) {
	var s LDAPSettings
	if len(b) == 0 {
		return s, nil
	}
	err := json.Unmarshal(b, &s)
	return s, err
}

// User statuses (Okta's names).
const (
	StatusStaged          = "STAGED"
	StatusActive          = "ACTIVE"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
)

// User types.
const (
	TypePerson         = "person"
	TypeServiceAccount = "service_account"
)

// Profile is a user's Okta-style profile.
type Profile struct {
	Login        string            `json:"login"`
	Email        string            `json:"email,omitempty"`
	FirstName    string            `json:"firstName,omitempty"`
	LastName     string            `json:"lastName,omitempty"`
	DisplayName  string            `json:"displayName,omitempty"`
	NickName     string            `json:"nickName,omitempty"`
	Title        string            `json:"title,omitempty"`
	Department   string            `json:"department,omitempty"`
	Organization string            `json:"organization,omitempty"`
	MobilePhone  string            `json:"mobilePhone,omitempty"`
	PrimaryPhone string            `json:"primaryPhone,omitempty"`
	Custom       map[string]string `json:"custom,omitempty"`
}

// User is one person or service account of an org.
type User struct {
	ID     string // "00u" + 17 base62
	OrgID  string
	Status string
	Type   string // TypePerson or TypeServiceAccount
	// LoginKey is Profile.Login folded for uniqueness (directory decides
	// how); unique per org.
	LoginKey string
	Profile  Profile
	// PasswordHash is the credential in RFC 2307 form ("{ARGON2}$argon2id$…",
	// "{SSHA}…", …); empty when the user has no password.
	PasswordHash string
	Roles        []string // admin roles, e.g. "READ_ONLY_ADMIN"

	Created         time.Time
	Activated       time.Time // zero: never
	StatusChanged   time.Time
	LastLogin       time.Time
	LastUpdated     time.Time
	PasswordChanged time.Time

	// FailedLogins counts failed sign-ins since the last success (password
	// policy lockout); LastFailedLogin is the latest of them.
	FailedLogins    int
	LastFailedLogin time.Time
	// PasswordHistory holds previous password hashes, newest first (a
	// password policy's history); the directory bounds its length.
	PasswordHistory []string

	// UIDNumber is the user's POSIX uidNumber, 0 when it has none; unique
	// among the org's users (ErrConflict).
	UIDNumber int64
}

// Group is a group of users of one org.
type Group struct {
	ID          string // "00g" + 17 base62
	OrgID       string
	NameKey     string // Name folded; unique per org
	Name        string
	Description string
	Created     time.Time
	LastUpdated time.Time
	// LastMembershipUpdated changes when members are added or removed.
	LastMembershipUpdated time.Time
	// GIDNumber is the group's POSIX gidNumber, 0 when it has none;
	// unique among the org's groups (ErrConflict).
	GIDNumber int64
}

// POSIX number kinds (Tx.NextPOSIXNumber).
const (
	POSIXUID = "uid"
	POSIXGID = "gid"
)

// Membership is one user in one group.
type Membership struct {
	GroupID string
	UserID  string
}

// GroupLink is one group in another (nested groups): the child's members
// are, through it, the parent's. Links never form a cycle (the directory
// refuses one) and never cross orgs.
type GroupLink struct {
	ParentID string
	ChildID  string
}

// Kind names what a change touched.
type Kind string

// Change kinds.
const (
	KindOrg        Kind = "org"
	KindUser       Kind = "user"
	KindGroup      Kind = "group"
	KindMembership Kind = "membership" // ID is the group's
	KindGroupLink  Kind = "group_link" // a group added to or removed from another; ID is the parent's
	KindFactor     Kind = "factor"     // ID is the factor's
	KindPolicy     Kind = "policy"     // ID is the policy's
	KindToken      Kind = "token"      // ID is the API token's
)

// Change is one entry of the change feed.
type Change struct {
	Seq   uint64
	OrgID string
	Kind  Kind
	ID    string // the org, user or group id
	At    time.Time
}

// Store is a persistent backend. It is safe for concurrent use, also by
// several processes sharing one database where the backend allows it.
type Store interface {
	// Update runs fn in a read-write transaction: if fn returns an error
	// (or panics) nothing it wrote is kept, and Update returns that error.
	// When Update returns nil everything fn wrote is durable.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction with a consistent view.
	View(ctx context.Context, fn func(Reader) error) error
	// Seq returns the current change sequence (0 for an empty store).
	Seq(ctx context.Context) (uint64, error)
	// ChangesSince returns up to limit changes with Seq > since, oldest
	// first.
	ChangesSince(ctx context.Context, since uint64, limit int) ([]Change, error)
	// RecordLogins sets LastLogin of the given users without recording a
	// change (per-bind bookkeeping, flushed in batches, invisible to LDAP).
	// Unknown ids are ignored.
	RecordLogins(ctx context.Context, at map[string]time.Time) error
	// RecordTokenUses sets LastUsed of the given tokens without recording
	// a change, like RecordLogins. Unknown ids are ignored.
	RecordTokenUses(ctx context.Context, at map[string]time.Time) error
	// AppendEvents appends system log events in one transaction of their
	// own (no change is recorded: the log is not directory content) and
	// sets each event's Seq.
	AppendEvents(ctx context.Context, events []*Event) error
	// Events returns the events q selects, ordered by Seq (descending
	// with q.Descending).
	Events(ctx context.Context, q EventQuery) ([]*Event, error)
	// PruneEvents deletes events published before the given time and
	// reports how many.
	PruneEvents(ctx context.Context, before time.Time) (int64, error)
	// Close releases the store.
	Close() error
}

// Reader reads within a transaction.
// A Waker is a Store that can tell of commits sooner than polling Seq
// would, such as those of other nodes sharing a network database. The
// channel is a hint: it may fire without a new change and may miss one
// (a reconnect), so a follower still polls, and catches up by sequence
// number either way.
type Waker interface {
	// Wake's channel receives after commits, until ctx ends.
	Wake(ctx context.Context) <-chan struct{}
}

type Reader interface {
	Seq() (uint64, error)
	Org(id string) (*Org, error)
	OrgByName(name string) (*Org, error)
	Orgs() ([]*Org, error)

	User(id string) (*User, error)
	UserByLogin(orgID, loginKey string) (*User, error)
	// Users returns the org's users ordered by LoginKey.
	Users(orgID string) ([]*User, error)

	Group(id string) (*Group, error)
	GroupByName(orgID, nameKey string) (*Group, error)
	// UserCounts returns how many users of the org have each status.
	UserCounts(orgID string) (map[string]int, error)
	// UsersPage returns up to limit of the org's users with ID > afterID,
	// ordered by ID (the REST API's cursor paging).
	UsersPage(orgID, afterID string, limit int) ([]*User, error)
	// UsersPageWhere is UsersPage for the users with the status ("": any)
	// whose login, email, first name or last name begins with prefix ("":
	// any), compared without case as strings.EqualFold compares prefix's
	// length of the value (the directory's q); one query however few
	// users match, so that a list page is one round trip.
	UsersPageWhere(orgID, afterID string, limit int, status, prefix string) ([]*User, error)

	// Groups returns the org's groups ordered by NameKey.
	Groups(orgID string) ([]*Group, error)

	// Memberships returns every membership of the org's groups, ordered
	// by group id then user id.
	Memberships(orgID string) ([]Membership, error)
	// GroupMembers returns the user ids of a group, ordered.
	GroupMembers(groupID string) ([]string, error)
	// GroupUsers returns the users of a group ordered by ID, in one query.
	GroupUsers(groupID string) ([]*User, error)
	// UserGroups returns the group ids of a user, ordered.
	UserGroups(userID string) ([]string, error)
	// GroupLinks returns every group-in-group link of the org, ordered by
	// parent id then child id.
	GroupLinks(orgID string) ([]GroupLink, error)
	// ChildGroups returns the ids of the groups in a group, ordered.
	ChildGroups(groupID string) ([]string, error)
	// ParentGroups returns the ids of the groups a group is in, ordered.
	ParentGroups(groupID string) ([]string, error)

	Factor(id string) (*Factor, error)
	// Factors returns a user's factors ordered by Created, then ID.
	Factors(userID string) ([]*Factor, error)

	Policy(id string) (*Policy, error)
	// Policies returns the org's policies ordered by Kind, Priority, then
	// NameKey.
	Policies(orgID string) ([]*Policy, error)

	Token(id string) (*Token, error)
	TokenByHash(hash string) (*Token, error)
	// POSIXCounter is the next number NextPOSIXNumber would consider for
	// the org and kind (0 when none was ever allocated).
	POSIXCounter(orgID, kind string) (int64, error)

	// Tokens returns the org's API tokens ordered by Created, then ID;
	// orgID "" lists the installation tokens.
	Tokens(orgID string) ([]*Token, error)

	// EventCounts counts the system log events q selects, per time bucket
	// and outcome (see EventCountQuery), without reading the events: a
	// chart of a day's sign-ins reads about as much at a million binds a
	// day as at ten. It sees the events appended and pruned before the
	// transaction began.
	EventCounts(q EventCountQuery) ([]EventBucket, error)

	Integration(id string) (*Integration, error)
	// Integrations returns the org's integrations ordered by NameKey.
	Integrations(orgID string) ([]*Integration, error)
	// SyncUsers and SyncGroups return an integration's links ordered by
	// ExternalID (empty, not ErrNotFound, for one without any).
	SyncUsers(integrationID string) ([]SyncLink, error)
	SyncGroups(integrationID string) ([]SyncLink, error)
	// UserIntegration is the id of the integration a user came from, ""
	// when none (a local user).
	UserIntegration(userID string) (string, error)
}

// Tx writes within a transaction. Each write records one Change with the
// next sequence number. Create methods fail with ErrConflict on a taken
// key; update and delete methods fail with ErrNotFound on a missing one.
type Tx interface {
	Reader
	CreateOrg(o *Org) error
	UpdateOrg(o *Org) error
	// DeleteOrg deletes the org and everything in it: users, groups,
	// memberships, group links, factors, policies, API tokens,
	// integrations and POSIX counters (one change, of the org). The
	// system log keeps the org's events.
	DeleteOrg(id string) error

	CreateUser(u *User) error
	// UpdateUser replaces the stored user with u (same ID).
	UpdateUser(u *User) error
	// DeleteUser removes the user and its memberships.
	DeleteUser(id string) error

	CreateGroup(g *Group) error
	UpdateGroup(g *Group) error
	// DeleteGroup removes the group, its memberships and its links to
	// other groups (as parent and as child); it records a KindGroupLink
	// change for each parent that loses it.
	DeleteGroup(id string) error

	// AddMember and RemoveMember report whether the membership changed;
	// an unchanged membership records no change.
	AddMember(groupID, userID string) (bool, error)
	RemoveMember(groupID, userID string) (bool, error)
	// AddGroupLink and RemoveGroupLink put a group in another and take it
	// out, reporting whether the link changed; a change records
	// KindGroupLink with the parent's id, none records nothing. Both
	// groups must exist (ErrNotFound) and be of one org (ErrNotFound for
	// the child otherwise); a group in itself is ErrConflict. The store
	// does not look for longer cycles: the directory does, in the same
	// transaction.
	AddGroupLink(parentID, childID string) (bool, error)
	RemoveGroupLink(parentID, childID string) (bool, error)

	// NextPOSIXNumber allocates the org's next POSIX number of kind
	// (POSIXUID or POSIXGID) within lo..hi: the org's counter for the
	// kind, or lo when the counter is below it; the counter moves past
	// it, so a number is never allocated twice, even after the user or
	// group that held it is gone. ErrExhausted when the next number
	// would exceed hi. It records no change (the record given the number
	// records its own).
	NextPOSIXNumber(orgID, kind string, lo, hi int64) (int64, error)

	// CreateFactor fails with ErrNotFound when the user does not exist.
	// DeleteUser deletes the user's factors.
	CreateFactor(f *Factor) error
	UpdateFactor(f *Factor) error
	DeleteFactor(id string) error

	// CreatePolicy and UpdatePolicy fail with ErrConflict when another
	// policy of the org and kind has the NameKey.
	CreatePolicy(p *Policy) error
	UpdatePolicy(p *Policy) error
	DeletePolicy(id string) error

	// CreateToken fails with ErrNotFound when the user does not exist in
	// the token's org, ErrConflict when the hash is taken. DeleteUser
	// deletes the user's tokens. An installation token has neither OrgID
	// nor UserID.
	CreateToken(t *Token) error
	DeleteToken(id string) error

	// CreateIntegration and UpdateIntegration fail with ErrConflict when
	// another integration of the org has the NameKey. DeleteIntegration
	// deletes its links (not its users and groups).
	CreateIntegration(in *Integration) error
	UpdateIntegration(in *Integration) error
	DeleteIntegration(id string) error
	// PutSyncUser links a user to an integration's external id (replacing
	// the link of that external id); it fails with ErrConflict when the
	// user is linked to another integration or external id, ErrNotFound
	// when the integration or the user does not exist. DeleteSyncUser
	// reports whether there was a link. The same for groups.
	PutSyncUser(l SyncLink) error
	DeleteSyncUser(integrationID, externalID string) (bool, error)
	PutSyncGroup(l SyncLink) error
	DeleteSyncGroup(integrationID, externalID string) (bool, error)
}

// KindIntegration is a change to an integration (its settings or state;
// links change with the users and groups they name).
const KindIntegration Kind = "integration"

// Integration is a directory integration of an org: a source (an LDAP or
// Active Directory server) its users and groups are synced from. The
// store keeps the connector's settings and run state as opaque JSON.
type Integration struct {
	ID      string // "0oa" + 17 base62
	OrgID   string
	Name    string
	NameKey string // folded Name, unique per org
	Kind    string // "ldap"
	// Default: the org's default integration (at most one; the directory
	// keeps that).
	Default  bool
	Settings []byte
	// Owned are the profile attributes the integration keeps (its
	// profile mapping): read-only in dirgate for its users.
	Owned []string
	// Secret is the bind password, sealed by the directory (bound to the
	// integration id); the store never sees it in clear.
	Secret      string
	State       []byte
	Created     time.Time
	LastUpdated time.Time
}

// SyncLink ties a user (or group) to the integration it came from and the
// source's id for it.
type SyncLink struct {
	IntegrationID string
	ExternalID    string
	LocalID       string // the user's or group's id
}

// Token is an API token (Okta's "SSWS" tokens). The secret is never
// stored: Hash is the hex SHA-256 of it, enough for a random secret of
// 240 bits (a slow hash protects guessable passwords, not these).
type Token struct {
	ID       string // "00T" + 17 base62
	OrgID    string // "" for an installation token (it manages orgs)
	UserID   string // the admin it acts as, with the roles it holds now; "" with OrgID
	Name     string
	Hash     string
	Created  time.Time
	LastUsed time.Time // zero: never; written in batches (RecordTokenUses)
}

// --- Sign-on security (issue 5): factors, policies, the system log, and
// per-user authentication state.

// Factor types and statuses (Okta's names).
const (
	FactorTOTP = "token:software:totp"
	// FactorPush is a push sign-in approved on the console's self-service
	// page (Okta Verify's role); it has no secret.
	FactorPush = "push"

	FactorPendingActivation = "PENDING_ACTIVATION"
	FactorActive            = "ACTIVE"
)

// Factor is a user's enrolled second factor.
type Factor struct {
	ID     string // "00f" + 17 base62
	OrgID  string
	UserID string
	Type   string // FactorTOTP or FactorPush
	Status string // FactorPendingActivation or FactorActive
	// Secret is the factor's secret sealed by the directory (package
	// sealed, bound to the user id); the store never sees it in clear.
	Secret string
	// LastStep is the last TOTP time step accepted (replay protection).
	LastStep    int64
	Created     time.Time
	Activated   time.Time // zero until activated
	LastUpdated time.Time
}

// Policy kinds as stored (package policy names them too).
const (
	PolicySignOn   = "sign-on"
	PolicyPassword = "password"
)

// Policy is one sign-on or password policy of an org, kept as the
// document package policy decodes.
type Policy struct {
	ID       string // "00p" + 17 base62
	OrgID    string
	Kind     string // PolicySignOn or PolicyPassword
	Name     string
	NameKey  string // Name folded; unique per org and kind
	Priority int
	// Doc is the policy as JSON (package policy's format).
	Doc         []byte
	Created     time.Time
	LastUpdated time.Time
}

// Event is one entry of the system log: append-only, never changed.
type Event struct {
	// Seq orders events; the store assigns it on append (the ids of a
	// batch ascend in the batch's order).
	Seq       int64
	UUID      string
	Published time.Time
	OrgID     string // "" for events of no org
	EventType string // e.g. "user.authentication.auth_via_ldap"
	Outcome   string // "SUCCESS", "FAILURE", "DENY", ...
	ActorID   string // user id, or "" (system, anonymous)
	TargetID  string // the main target's id, or ""
	// Doc is the whole event as JSON (Okta's LogEvent shape).
	Doc []byte
}

// EventQuery selects events, oldest first.
type EventQuery struct {
	OrgID     string    // required
	Since     time.Time // Published >= Since (zero: no bound)
	Until     time.Time // Published < Until (zero: no bound)
	EventType string    // exact match; "" any
	AfterSeq  int64     // Seq > AfterSeq (paging and following)
	// BeforeSeq > 0 selects Seq < BeforeSeq (paging newest first).
	BeforeSeq int64
	// Descending returns the newest first.
	Descending bool
	Limit      int // at most this many (required, > 0)
}

// EventCountGrain is the time step of EventCounts: a query's Since,
// Until and Width are whole multiples of it (Since and Until counted from
// the Unix epoch), so that a backend may keep counts per grain instead
// of counting events.
const EventCountGrain = time.Minute

// EventCountQuery selects the events EventCounts counts: those of one org
// with one of the given types published in [Since, Until), and splits
// that range into buckets [Since + i*Width, Since + (i+1)*Width), the
// last one ending at Until.
type EventCountQuery struct {
	OrgID      string   // required; "" counts the events of no org
	EventTypes []string // at least one; exact matches
	// Since and Until are whole multiples of EventCountGrain, Since before
	// Until.
	Since, Until time.Time
	// Width is a positive multiple of EventCountGrain.
	Width time.Duration
}

// EventBucket is how many events of one outcome a bucket holds. EventCounts
// returns only buckets and outcomes with a positive count, ordered by
// Start, then Outcome.
type EventBucket struct {
	Start   time.Time // Since + i*Width
	Outcome string    // the events' Outcome, as stored ("" counts too)
	Count   int64
}

// CheckEventCountQuery returns an error (a plain one, for the caller's
// mistake) if q breaks EventCountQuery's rules; backends call it first.
func CheckEventCountQuery(q EventCountQuery) error {
	switch {
	case len(q.EventTypes) == 0:
		return errors.New("store: event counts: no event types")
	case q.Width <= 0 || q.Width%EventCountGrain != 0:
		return fmt.Errorf("store: event counts: width %v is not a positive multiple of %v", q.Width, EventCountGrain)
	case q.Since.IsZero() || q.Until.IsZero() || !q.Since.Before(q.Until):
		return fmt.Errorf("store: event counts: want Since before Until, both set, got [%v, %v)", q.Since, q.Until)
	case !onGrain(q.Since) || !onGrain(q.Until):
		return fmt.Errorf("store: event counts: [%v, %v) does not start and end on a whole %v", q.Since, q.Until, EventCountGrain)
	}
	return nil
}

// onGrain reports whether t is a whole multiple of EventCountGrain from the
// Unix epoch. Truncate counts from the zero time, a whole number of days
// before the epoch: the same for a grain that divides a day.
func onGrain(t time.Time) bool { return t.Truncate(EventCountGrain).Equal(t) }
