package directory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dirgate/dirgate/internal/store"
)

// POSIX accounts (RFC 2307bis), optional per org: when an org serves them,
// every user gets a uidNumber and every group a gidNumber, allocated from
// the org's ranges by a counter that only moves forward, so that a number
// is never given twice (files a deleted user owned never pass to a new
// one). Numbers stay with their user or group when POSIX is turned off and
// on again. The LDAP interface derives the other attributes (gidNumber of
// users, homeDirectory, loginShell) from the settings.

// POSIXSettings are an org's POSIX accounts (store.POSIXSettings).
type POSIXSettings = store.POSIXSettings

// POSIX defaults, for settings left zero.
const (
	DefaultUIDMin     = 10000
	DefaultUIDMax     = 59999
	DefaultGIDMin     = 10000
	DefaultGIDMax     = 59999
	DefaultPrimaryGID = 100 // "users" on Debian and most Linux systems
	DefaultHome       = "/home/{login}"
	DefaultShell      = "/bin/bash"
	// maxPOSIXID keeps numbers within a signed 32-bit id_t, which every
	// NSS client takes (4294967295 is (uid_t)-1, and 65534 is nobody).
	maxPOSIXID = 1<<31 - 1
)

// WithPOSIXDefaults fills the settings left zero with the defaults.
func WithPOSIXDefaults(s POSIXSettings) POSIXSettings {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&s.UIDMin, DefaultUIDMin)
	def(&s.UIDMax, DefaultUIDMax)
	def(&s.GIDMin, DefaultGIDMin)
	def(&s.GIDMax, DefaultGIDMax)
	def(&s.PrimaryGID, DefaultPrimaryGID)
	if s.Home == "" {
		s.Home = DefaultHome
	}
	if s.Shell == "" {
		s.Shell = DefaultShell
	}
	return s
}

// homePlaceholders are what a home directory template may use.
var homePlaceholders = []string{"{login}", "{localpart}", "{uidNumber}"}

// HomeDirectory is the homeDirectory of u under template (placeholders
// {login}, {localpart}: the login before any "@", {uidNumber}).
func HomeDirectory(template string, u *User) string {
	local, _, _ := strings.Cut(u.Profile.Login, "@")
	return strings.NewReplacer("{login}", u.Profile.Login, "{localpart}", local,
		"{uidNumber}", strconv.FormatInt(u.UIDNumber, 10)).Replace(template)
}

// validatePOSIX checks settings with the defaults applied.
func validatePOSIX(s POSIXSettings) *Error {
	for _, r := range []struct {
		name   string
		lo, hi int64
	}{{"uid", s.UIDMin, s.UIDMax}, {"gid", s.GIDMin, s.GIDMax}} {
		if r.lo < 1 || r.hi > maxPOSIXID || r.lo > r.hi {
			return invalid("posix."+r.name+"Range", "the %s range %d-%d must lie within 1-%d, its start not after its end", r.name, r.lo, r.hi, maxPOSIXID)
		}
	}
	if s.PrimaryGID < 0 || s.PrimaryGID > maxPOSIXID {
		return invalid("posix.primaryGid", "the primary gidNumber %d must lie within 0-%d", s.PrimaryGID, maxPOSIXID)
	}
	if !strings.HasPrefix(s.Home, "/") || strings.ContainsAny(s.Home, "\x00\n:") {
		return invalid("posix.home", "the home directory template %q must be an absolute path without ':' (placeholders: %s)", s.Home, strings.Join(homePlaceholders, ", "))
	}
	rest := s.Home
	for _, p := range homePlaceholders {
		rest = strings.ReplaceAll(rest, p, "")
	}
	if strings.ContainsAny(rest, "{}") {
		return invalid("posix.home", "the home directory template %q has an unknown placeholder (known: %s)", s.Home, strings.Join(homePlaceholders, ", "))
	}
	if !strings.HasPrefix(s.Shell, "/") || strings.ContainsAny(s.Shell, "\x00\n: ") {
		return invalid("posix.shell", "the login shell %q must be an absolute path without spaces or ':'", s.Shell)
	}
	return nil
}

// SetPOSIX sets the org's POSIX accounts: enabled with the given settings
// (zero ones take the defaults), or disabled (the numbers stay, for when it
// is enabled again). Enabling gives every user and group without a number
// one, in the same transaction. A range may move up or grow, but not below
// numbers already allocated (they would be given again): CodeInvalid.
func (d *Directory) SetPOSIX(ctx context.Context, org string, s POSIXSettings) (*Org, error) {
	if s.Enabled {
		s = WithPOSIXDefaults(s)
		if e := validatePOSIX(s); e != nil {
			return nil, e
		}
	} else {
		s = POSIXSettings{}
	}
	return d.updateOrg(ctx, org, func(tx store.Tx, o *Org) (bool, error) {
		if o.LDAP.POSIX == s {
			return false, nil
		}
		if s.Enabled {
			for _, k := range []struct {
				kind string
				hi   int64
			}{{store.POSIXUID, s.UIDMax}, {store.POSIXGID, s.GIDMax}} {
				next, err := tx.POSIXCounter(o.ID, k.kind)
				if err != nil {
					return false, err
				}
				if next > k.hi+1 {
					return false, invalid("posix."+k.kind+"Range", "%sNumbers up to %d were already given out: the range must end at %d or later", k.kind, next-1, next-1)
				}
			}
		}
		o.LDAP.POSIX = s
		if !s.Enabled {
			return true, nil
		}
		return true, numberAll(tx, o)
	})
}

// numberAll gives a number to every user and group of o without one, in
// the order they were created.
func numberAll(tx store.Tx, o *Org) error {
	users, err := tx.Users(o.ID)
	if err != nil {
		return err
	}
	sortByCreation(users, func(u *User) (string, int64) { return u.ID, u.Created.UnixNano() })
	for _, u := range users {
		if u.UIDNumber != 0 {
			continue
		}
		if err := allocateUID(tx, o, u); err != nil {
			return err
		}
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
	}
	groups, err := tx.Groups(o.ID)
	if err != nil {
		return err
	}
	sortByCreation(groups, func(g *Group) (string, int64) { return g.ID, g.Created.UnixNano() })
	for _, g := range groups {
		if g.GIDNumber != 0 {
			continue
		}
		if err := allocateGID(tx, o, g); err != nil {
			return err
		}
		if err := tx.UpdateGroup(g); err != nil {
			return err
		}
	}
	return nil
}

// allocateUID gives u a uidNumber when o serves POSIX accounts and u has
// none.
func allocateUID(tx store.Tx, o *Org, u *User) error {
	p := o.LDAP.POSIX
	if !p.Enabled || u.UIDNumber != 0 {
		return nil
	}
	n, err := nextNumber(tx, o, store.POSIXUID, p.UIDMin, p.UIDMax)
	u.UIDNumber = n
	return err
}

// allocateGID gives g a gidNumber when o serves POSIX groups and g has
// none.
func allocateGID(tx store.Tx, o *Org, g *Group) error {
	p := o.LDAP.POSIX
	if !p.Enabled || g.GIDNumber != 0 {
		return nil
	}
	n, err := nextNumber(tx, o, store.POSIXGID, p.GIDMin, p.GIDMax)
	g.GIDNumber = n
	return err
}

func nextNumber(tx store.Tx, o *Org, kind string, lo, hi int64) (int64, error) {
	n, err := tx.NextPOSIXNumber(o.ID, kind, lo, hi)
	if errors.Is(err, store.ErrExhausted) {
		return 0, invalid("posix."+kind+"Range", "org %s has no %sNumber left in %d-%d: widen the range (dirgate org posix --org %s --enable --%s-range MIN-MAX)", o.Name, kind, lo, hi, o.Name, kind)
	}
	return n, err
}

// sortByCreation orders records by creation time, then id.
func sortByCreation[T any](s []T, key func(T) (string, int64)) {
	slices.SortFunc(s, func(a, b T) int {
		ida, ta := key(a)
		idb, tb := key(b)
		return cmp.Or(cmp.Compare(ta, tb), strings.Compare(ida, idb))
	})
}

// POSIXDescription is a one-line account of s, for the CLI.
func POSIXDescription(s POSIXSettings) string {
	if !s.Enabled {
		return "off"
	}
	return fmt.Sprintf("on: uidNumber %d-%d, gidNumber %d-%d, primary gidNumber %d, home %s, shell %s",
		s.UIDMin, s.UIDMax, s.GIDMin, s.GIDMax, s.PrimaryGID, s.Home, s.Shell)
}
