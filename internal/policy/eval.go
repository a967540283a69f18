package policy

import (
	"net/netip"
	"slices"
)

// Subject is the user signing in.
type Subject struct {
	UserID string
	// Groups are the ids of the groups the user belongs to, sorted
	// (unsorted groups are handled too, a little more slowly).
	Groups []string
	// Type is the user's type; empty is read as UserPerson.
	Type UserType
}

// Context is how the user is signing in.
type Context struct {
	// IP is the client's address; IPv4-mapped IPv6 addresses are matched as
	// IPv4 and zones are ignored. The zero Addr (unknown) is in no network:
	// it matches only rules without a network include list.
	IP netip.Addr
	// AuthType is AuthLDAP, AuthAPI or AuthConsole; any other value
	// matches only rules whose authType is any.
	AuthType AuthType
}

// Decision is the outcome of sign-on evaluation: what to do, and which
// policy and rule said so (for the system log).
type Decision struct {
	Action     Action
	PolicyID   string // empty for the built-in default
	PolicyName string
	RuleName   string
}

// SignOn evaluates the sign-on policies for a sign-in. Policies are tried
// by priority; a policy applies when its people match the subject (an
// exclusion, by user or by group, wins over any inclusion; a user included
// by name or id applies even when in none of the included groups). Within
// an applying policy the first ACTIVE rule, by priority, whose conditions
// all match gives the action. If none of its rules match, evaluation moves
// on to the next policy, as Okta does; the built-in default policy at the
// end allows without MFA. SignOn does not allocate.
func (s *Set) SignOn(sub Subject, c Context) Decision {
	if s == nil {
		return defaultDecision
	}
	addr := c.IP.Unmap().WithZone("")
	ut := sub.Type
	if ut == "" {
		ut = UserPerson
	}
	sorted := slices.IsSorted(sub.Groups)
	for i := range s.signOn {
		p := &s.signOn[i]
		if !p.people.match(&sub, sorted) {
			continue
		}
		for j := range p.rules {
			r := &p.rules[j]
			if r.match(addr, c.AuthType, ut) {
				return Decision{Action: r.action, PolicyID: p.id, PolicyName: p.name, RuleName: r.name}
			}
		}
	}
	return defaultDecision
}

// Password returns the password settings of the first ACTIVE password
// policy, by priority, whose people match the subject; the built-in
// default's when none does. The settings belong to the Set and must not be
// modified.
func (s *Set) Password(sub Subject) *PasswordSettings {
	if s == nil {
		return &defaultSettings
	}
	sorted := slices.IsSorted(sub.Groups)
	for i := range s.password {
		if p := &s.password[i]; p.people.match(&sub, sorted) {
			return &p.settings
		}
	}
	return &defaultSettings
}

func (p *people) match(s *Subject, sorted bool) bool {
	if has(p.exUsers, s.UserID) || intersects(p.exGroups, s.Groups, sorted) {
		return false
	}
	return p.everyone || has(p.inUsers, s.UserID) || intersects(p.inGroups, s.Groups, sorted)
}

// has reports whether the sorted list holds s. Short lists, the common
// case, are scanned: comparing strings for equality is cheaper than
// ordering them.
func has(sorted []string, s string) bool {
	if len(sorted) <= 8 {
		for _, x := range sorted {
			if x == s {
				return true
			}
		}
		return false
	}
	_, ok := slices.BinarySearch(sorted, s)
	return ok
}

// intersects reports whether the sorted list a and b share an element.
// When b is sorted too, the shorter list is walked and the longer searched.
func intersects(a, b []string, bSorted bool) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	if bSorted && len(a) < len(b) {
		a, b = b, a
	}
	for _, x := range b {
		if has(a, x) {
			return true
		}
	}
	return false
}

func (r *rule) match(addr netip.Addr, at AuthType, ut UserType) bool {
	if r.authType != "" && r.authType != at {
		return false
	}
	if r.userType != "" && r.userType != ut {
		return false
	}
	for _, p := range r.excl {
		if p.Contains(addr) {
			return false
		}
	}
	if r.anyNet {
		return true
	}
	for _, p := range r.incl {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
