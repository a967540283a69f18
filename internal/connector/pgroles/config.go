// Package pgroles keeps a PostgreSQL's roles in step with a directory:
// every person in scope gets a LOGIN role without a password (PostgreSQL
// checks passwords against dirgate over LDAP, through pg_hba.conf), member
// of the login group role (immuta_user for the reference documents' line
// `hostssl immuta +immuta_user … ldap …`) and of the roles its groups map
// to. It is the job ldap2pg and pg-ldap-sync do for OpenLDAP, done
// safely: roles dirgate did not create are never touched (the ones it
// manages are members of a marker role), a run is one transaction, a
// run with nothing to do writes nothing, and a dry run prints the SQL.
//
// The source is a dirgate org (read through the directory) or any LDAP
// server (connector ldapsource's settings); the target a PostgreSQL
// connection string from the environment or the config file, never from
// a command-line flag.
package pgroles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
)

// Defaults.
const (
	DefaultIAMID       = "immuta"
	DefaultManagedRole = "dirgate_managed"
	DefaultLockTimeout = time.Minute
	// EnvTarget holds the target's connection string; it wins over the
	// config file's target.
	EnvTarget = "DIRGATE_PGSYNC_URL"
	// EnvLDAPPassword holds the bind password of an LDAP source.
	EnvLDAPPassword = "DIRGATE_PGSYNC_LDAP_PASSWORD"
	// maxRoleName is PostgreSQL's identifier limit (NAMEDATALEN-1 bytes).
	maxRoleName = 63
)

// How a login becomes a role name (always in lower case).
const (
	NameLogin     = "login"      // the whole login: alice@example.com
	NameLocalPart = "local-part" // the part before @: alice
)

// What a run does with a managed role whose person left the scope.
const (
	RemoveDrop    = "drop"    // DROP ROLE, when it owns nothing (default)
	RemoveNoLogin = "nologin" // keep it, without LOGIN
)

// Config is a pgsync mapping file (YAML or JSON; unknown fields are
// refused, so that a typo does not silently turn an option off).
type Config struct {
	// Target is the PostgreSQL connection string (libpq form or URL); the
	// environment variable DIRGATE_PGSYNC_URL wins over it.
	Target string `json:"target,omitempty"`
	// IAMID names the login group role <IAMID>_user (default immuta), as
	// `dirgate pg-hba --iam-id` does.
	IAMID string `json:"iamID,omitempty"`
	// LoginRole is the group role every synced person is a member of
	// (default <IAMID>_user): the +ROLE of the pg_hba line.
	LoginRole string `json:"loginRole,omitempty"`
	// Users are the directory groups whose members get a role; empty:
	// every person of the org (service accounts never: they are
	// applications, such as the LDAP bind account).
	Users []string `json:"users,omitempty"`
	// RoleName is how a login becomes a role name: login (default) or
	// local-part.
	RoleName string `json:"roleName,omitempty"`
	// Groups map directory groups (by name) to PostgreSQL group roles
	// (NOLOGIN), which dirgate creates when they do not exist.
	Groups map[string]string `json:"groups,omitempty"`
	// Grants are extra roles a directory group's role is granted (e.g.
	// analysts: [pg_read_all_data]); keyed by directory group, like Groups.
	Grants map[string][]string `json:"grants,omitempty"`
	// ManagedRole is the marker: every role dirgate creates is a member of
	// it, and only its members are ever altered or dropped (default
	// dirgate_managed).
	ManagedRole string `json:"managedRole,omitempty"`
	// Removed is what happens to the role of a person who left the scope
	// (deleted, out of the Users groups): drop (default; only when it owns
	// nothing) or nologin.
	Removed string `json:"removed,omitempty"`
	// ReassignOwnedTo, with drop, first gives what the role owns in the
	// target database to this role (REASSIGN OWNED, DROP OWNED).
	ReassignOwnedTo string `json:"reassignOwnedTo,omitempty"`
	// Schedule is a cron rule for `dirgate serve` (five fields); ""
	// or manual: no scheduled runs.
	Schedule string `json:"schedule,omitempty"`
	// LockTimeout bounds how long a run waits for a lock another session
	// holds on a role it changes (PostgreSQL's lock_timeout; default
	// DefaultLockTimeout): past it the run fails and changes nothing,
	// rather than hold the target's pgsync lock indefinitely.
	LockTimeout ldapsource.Duration `json:"lockTimeout,omitempty"`
	// Source is an LDAP server to read instead of the dirgate org (its
	// bind password comes from DIRGATE_PGSYNC_LDAP_PASSWORD).
	Source *SourceConfig `json:"source,omitempty"`
}

// SourceConfig is where the people come from when it is not the dirgate org.
type SourceConfig struct {
	LDAP *ldapsource.Settings `json:"ldap"`
}

// FieldError is a setting that is wrong, and why.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func bad(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ParseConfig reads a mapping file and fills in its defaults.
func ParseConfig(b []byte) (*Config, error) {
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("the pgsync config is neither YAML nor JSON: %w", err)
	}
	if doc == nil {
		doc = map[string]any{} // an empty file: every default
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("the pgsync config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("the pgsync config: %w", err)
	}
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return &c, nil
}

// ReadConfig reads the mapping file at path ("" is an empty config: the
// whole org, every default).
func ReadConfig(path string) (*Config, error) {
	if path == "" {
		return ParseConfig(nil)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(b)
}

// Normalize fills in the defaults and checks the config.
func (c *Config) Normalize() error {
	if c.IAMID == "" {
		c.IAMID = DefaultIAMID
	}
	if c.LoginRole == "" {
		c.LoginRole = c.IAMID + "_user"
	}
	if c.ManagedRole == "" {
		c.ManagedRole = DefaultManagedRole
	}
	for field, name := range map[string]string{"loginRole": c.LoginRole, "managedRole": c.ManagedRole} {
		if reason := checkRoleName(name); reason != "" {
			return bad(field, "%q %s", name, reason)
		}
	}
	if c.LoginRole == c.ManagedRole {
		return bad("managedRole", "the marker role must not be the login role %q", c.LoginRole)
	}
	switch c.RoleName {
	case "":
		c.RoleName = NameLogin
	case NameLogin, NameLocalPart:
	default:
		return bad("roleName", "a login becomes a role name by %s or %s, not %q", NameLogin, NameLocalPart, c.RoleName)
	}
	seen := map[string]string{}
	for _, g := range slices.Sorted(maps.Keys(c.Groups)) {
		role := c.Groups[g]
		if reason := checkRoleName(role); reason != "" {
			return bad("groups", "the role of group %q, %q, %s", g, role, reason)
		}
		if role == c.LoginRole || role == c.ManagedRole {
			return bad("groups", "group %q maps to %q, which is the login or the marker role", g, role)
		}
		if other, dup := seen[role]; dup {
			return bad("groups", "groups %q and %q both map to the role %q: one role per group", other, g, role)
		}
		seen[role] = g
	}
	for g, roles := range c.Grants {
		if _, ok := c.Groups[g]; !ok {
			return bad("grants", "grants are given to a mapped group's role, and group %q is not in groups", g)
		}
		for _, r := range roles {
			if strings.TrimSpace(r) == "" || len(r) > maxRoleName {
				return bad("grants", "%q is not a role name", r)
			}
		}
	}
	switch c.Removed {
	case "":
		c.Removed = RemoveDrop
	case RemoveDrop, RemoveNoLogin:
	default:
		return bad("removed", "a removed person's role is dropped (%s) or kept without LOGIN (%s), not %q", RemoveDrop, RemoveNoLogin, c.Removed)
	}
	if c.ReassignOwnedTo != "" && c.Removed != RemoveDrop {
		return bad("reassignOwnedTo", "reassigning owned objects is a step of removed: drop")
	}
	switch strings.TrimSpace(c.Schedule) {
	case "", ldapsource.ScheduleManual:
		c.Schedule = ldapsource.ScheduleManual
	default:
		if _, err := ldapsource.ParseSchedule(c.Schedule); err != nil {
			return bad("schedule", "%v (or %q for manual runs only)", err, ldapsource.ScheduleManual)
		}
	}
	switch {
	case c.LockTimeout == 0:
		c.LockTimeout = ldapsource.Duration(DefaultLockTimeout)
	case c.LockTimeout < ldapsource.Duration(time.Millisecond) || c.LockTimeout > ldapsource.Duration(time.Hour):
		return bad("lockTimeout", "%s is not between 1ms and 1h", time.Duration(c.LockTimeout))
	}
	if c.Source != nil {
		if c.Source.LDAP == nil {
			return bad("source", "the source is ldap: {…the LDAP sync's settings…}; leave source out to read the dirgate org")
		}
		if err := c.Source.LDAP.Normalize(); err != nil {
			return bad("source.ldap", "%v", err)
		}
	}
	return nil
}

// TargetURL is the target's connection string: DIRGATE_PGSYNC_URL (read
// with getenv; nil: os.Getenv), else the config's.
func (c *Config) TargetURL(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := strings.TrimSpace(getenv(EnvTarget)); v != "" {
		return v, nil
	}
	if c.Target != "" {
		return c.Target, nil
	}
	return "", fmt.Errorf("no target PostgreSQL: set %s (e.g. postgres://dirgate_sync@db.example:5432/postgres?sslmode=verify-full) or target in the config file", EnvTarget)
}

// checkRoleName says why name cannot be a role dirgate manages ("" when
// it can).
func checkRoleName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > maxRoleName:
		return fmt.Sprintf("is longer than PostgreSQL's %d bytes", maxRoleName)
	case strings.HasPrefix(name, "pg_"):
		return "starts with pg_, which PostgreSQL reserves"
	case slices.Contains(reservedRoles, name):
		return "is a name PostgreSQL reserves"
	case strings.ContainsRune(name, 0):
		return "holds a NUL byte"
	}
	return ""
}

// reservedRoles are the role names PostgreSQL refuses (CREATE ROLE
// "public" fails) or that mean something else in GRANT.
var reservedRoles = []string{"public", "none", "current_user", "session_user", "current_role", "system_user"}
