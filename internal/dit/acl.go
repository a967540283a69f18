package dit

import (
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// Access rules, all of them (DESIGN.md, "Who sees what"):
//
//   - A connection acts as the user it bound as (Identity.Value holds a
//     *principal). Who that user is NOW is read from the current snapshot
//     on every operation: a user who is no longer ACTIVE, or no longer
//     exists, gets insufficientAccessRights for everything.
//   - A user holding SUPER_ADMIN, ORG_ADMIN or READ_ONLY_ADMIN
//     (directory.CanViewAll) sees every entry of its org.
//   - Any other user sees only its own entry: searches return it when
//     their scope includes it and the filter matches; containers, groups
//     and other users are never returned. A base DN must still exist.
//   - Nobody sees another org: its entries, and everything above the
//     naming contexts, are noSuchObject (without a matchedDN).
//   - Any active bound user reads the RootDSE (which lists only its own
//     org's naming context) and cn=schema (its org's schema).
//   - userPassword is never in an entry, so it is never returned nor
//     matched; comparing it is insufficientAccessRights.

// principal is who a connection bound as.
type principal struct {
	OrgID, UserID string
	// MustChange: the user's password had expired and the bind (with the
	// password policy control) let it in to change it: the connection
	// may change its own password and do nothing else until it binds
	// again.
	MustChange bool
}

// access is what one bound user may see in the current snapshot.
type access struct {
	org  *orgView
	self int32 // the user's own entry
	all  bool  // sees the whole org
}

// visible reports whether entry i of a.org may be returned.
func (a *access) visible(i int32) bool { return a.all || i == a.self }

var (
	errNotBound   = ldapserver.Fail(ldap.InsufficientAccessRights, "bind as a user of the directory first")
	errNoAccess   = ldapserver.Fail(ldap.InsufficientAccessRights, "the bound user is no longer active in the directory; bind again")
	errNoCompare  = ldapserver.Fail(ldap.InsufficientAccessRights, "userPassword cannot be compared")
	errMustChange = ldapserver.Fail(ldap.InsufficientAccessRights,
		"the password has expired: change it (Password Modify, or userPassword) and bind again with the new one")
)

// accessOf resolves the bound identity in s.
func (s *snapshot) accessOf(id *ldapserver.Identity) (access, error) {
	return s.access(id, false)
}

// access is accessOf; forPassword lets a connection bound to change an
// expired password (principal.MustChange) through, acting as itself only.
func (s *snapshot) access(id *ldapserver.Identity, forPassword bool) (access, error) {
	if id == nil {
		return access{}, errNotBound
	}
	p, ok := id.Value.(*principal)
	if !ok || p == nil {
		return access{}, errNotBound
	}
	org := s.orgs[p.OrgID]
	if org == nil {
		return access{}, errNoAccess
	}
	sid, ok := org.byUserID[p.UserID]
	if !ok {
		return access{}, errNoAccess
	}
	i := org.pos[sid]
	if p.MustChange {
		if !forPassword {
			return access{}, errMustChange
		}
		return access{org: org, self: i}, nil
	}
	if !org.entries[i].active {
		return access{}, errNoAccess
	}
	return access{org: org, self: i, all: org.entries[i].viewAll}, nil
}
