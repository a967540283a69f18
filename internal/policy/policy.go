package policy

// Kind says what a policy governs.
type Kind string

// The policy kinds.
const (
	KindSignOn   Kind = "sign-on"  // who may sign in, from where, and with MFA or not
	KindPassword Kind = "password" // password strength, age, history and lockout
)

// Status says whether a policy or rule takes part in evaluation. An empty
// Status is read as ACTIVE; Parse always fills it in.
type Status string

// The statuses.
const (
	StatusActive   Status = "ACTIVE"
	StatusInactive Status = "INACTIVE" // kept, never matches
)

// Action is what a sign-on rule decides.
type Action string

// The actions.
const (
	ActionAllow Action = "allow" // allow without a second factor
	ActionDeny  Action = "deny"  // refuse the sign-in
	ActionMFA   Action = "mfa"   // allow, with a second factor required
)

// Allowed reports whether the action lets the user in (possibly after MFA).
func (a Action) Allowed() bool { return a == ActionAllow || a == ActionMFA }

// RequiresMFA reports whether the action asks for a second factor.
func (a Action) RequiresMFA() bool { return a == ActionMFA }

// AuthType is the way a client authenticates.
type AuthType string

// The authentication types. AuthAny is only meaningful in a rule's
// conditions, where it (or the empty string) matches every way.
const (
	AuthAny     AuthType = "any"
	AuthLDAP    AuthType = "ldap"    // a bind on the LDAP interface
	AuthAPI     AuthType = "api"     // the REST API
	AuthConsole AuthType = "console" // the web console
)

// UserType is a user's type. The values match the store's user types.
type UserType string

// The user types. UserAny is only meaningful in a rule's conditions. A
// Subject with an empty Type is treated as a person.
const (
	UserAny            UserType = "any"
	UserPerson         UserType = "person"
	UserServiceAccount UserType = "service_account"
)

// Everyone is the built-in group every user belongs to. Naming it in
// people.groups.include makes a policy apply to all users; it is never
// looked up with the Resolver and may not be excluded.
const Everyone = "Everyone"

// Names of the built-in defaults. The policy name is reserved: no policy of
// an org may use it (compared without regard to case).
const (
	DefaultPolicyName = "Default Policy"
	DefaultRuleName   = "Default Rule"
)

// Policy is one sign-on or password policy of an org.
type Policy struct {
	// ID is set by the store; it is empty in a file written by hand.
	ID          string `json:"id,omitempty" yaml:"id,omitempty"`
	Kind        Kind   `json:"kind" yaml:"kind"`
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Priority orders policies of one kind: lower first, unique per kind
	// within an org, 1 to MaxPriority.
	Priority int    `json:"priority" yaml:"priority"`
	Status   Status `json:"status,omitempty" yaml:"status,omitempty"`
	People   People `json:"people" yaml:"people"`
	// Rules belong to sign-on policies only.
	Rules []Rule `json:"rules,omitempty" yaml:"rules,omitempty"`
	// Settings belong to password policies only; nil means the defaults.
	Settings *PasswordSettings `json:"settings,omitempty" yaml:"settings,omitempty"`
}

// People says whom a policy applies to: users in an included group or
// included by name, unless they are excluded by name or by group. Groups
// and users are named by name (login for users) or id.
type People struct {
	Groups Selection `json:"groups,omitzero" yaml:"groups,omitempty"`
	Users  Selection `json:"users,omitzero" yaml:"users,omitempty"`
}

// Selection is an include list and an exclude list; exclusions win.
type Selection struct {
	Include []string `json:"include,omitempty" yaml:"include,flow,omitempty"`
	Exclude []string `json:"exclude,omitempty" yaml:"exclude,flow,omitempty"`
}

// Rule is one rule of a sign-on policy.
type Rule struct {
	Name string `json:"name" yaml:"name"`
	// Priority orders the rules of a policy: lower first, unique within it.
	Priority   int        `json:"priority" yaml:"priority"`
	Status     Status     `json:"status,omitempty" yaml:"status,omitempty"`
	Conditions Conditions `json:"conditions,omitzero" yaml:"conditions,omitempty"`
	Action     Action     `json:"action" yaml:"action"`
}

// Conditions are what a sign-in must look like for a rule to match. All
// must hold; an empty field matches anything.
type Conditions struct {
	// Network lists client networks as CIDR prefixes (or single addresses).
	// An empty include list means anywhere; an address in an excluded
	// prefix never matches. IPv4 prefixes match IPv4 clients, including
	// IPv4-mapped IPv6 addresses; "::/0" matches IPv6 clients only.
	Network  Network  `json:"network,omitzero" yaml:"network,omitempty"`
	AuthType AuthType `json:"authType,omitempty" yaml:"authType,omitempty"`
	UserType UserType `json:"userType,omitempty" yaml:"userType,omitempty"`
}

// Network is a rule's client network condition.
type Network = Selection

// PasswordSettings are a password policy's requirements. In a file, a
// setting left out takes the built-in default's value.
type PasswordSettings struct {
	MinLength    int `json:"minLength" yaml:"minLength"`
	MinLowerCase int `json:"minLowerCase" yaml:"minLowerCase"`
	MinUpperCase int `json:"minUpperCase" yaml:"minUpperCase"`
	MinNumber    int `json:"minNumber" yaml:"minNumber"`
	MinSymbol    int `json:"minSymbol" yaml:"minSymbol"`
	// ExcludeUsername refuses passwords containing a part of the login.
	ExcludeUsername bool `json:"excludeUsername" yaml:"excludeUsername"`
	// ExcludeAttributes names profile attributes (firstName, lastName, …)
	// whose parts a password may not contain.
	ExcludeAttributes []string `json:"excludeAttributes,omitempty" yaml:"excludeAttributes,flow,omitempty"`
	// HistoryCount is how many previous passwords may not be reused; 0 is off.
	HistoryCount int `json:"history" yaml:"history"`
	// MaxAgeDays is how long a password lasts; 0 is forever.
	MaxAgeDays int     `json:"maxAgeDays" yaml:"maxAgeDays"`
	Lockout    Lockout `json:"lockout" yaml:"lockout,flow"`
}

// Lockout says when failed sign-ins lock an account.
type Lockout struct {
	// MaxAttempts is how many failed attempts in a row lock the account;
	// 0 is off.
	MaxAttempts int `json:"maxAttempts" yaml:"maxAttempts"`
	// AutoUnlockMinutes is how long a lock lasts; 0 means only an admin
	// unlocks.
	AutoUnlockMinutes int `json:"autoUnlockMinutes" yaml:"autoUnlockMinutes"`
}

// DefaultPasswordSettings returns the built-in default password policy's
// settings: at least 8 characters, no character classes, login parts and
// attributes allowed, no history, no expiry, lockout after 10 failed
// attempts in a row until an admin unlocks.
func DefaultPasswordSettings() PasswordSettings {
	return PasswordSettings{
		MinLength: 8,
		Lockout:   Lockout{MaxAttempts: 10},
	}
}

// Limits on what a policy may say; larger values are refused as mistakes.
const (
	MaxPriority      = 9999
	MaxNameLength    = 255  // characters, for policy, rule, group and user names
	MaxDescription   = 1024 // characters
	MaxRules         = 100  // per sign-on policy
	MaxListLength    = 1000 // entries in an include or exclude list
	MaxPolicies      = 1000 // in one file
	MaxMinLength     = 256
	MaxHistory       = 24
	MaxMaxAgeDays    = 3650
	MaxAttempts      = 100
	MaxAutoUnlockMin = 525600 // one year
	MaxAttributes    = 32
)
