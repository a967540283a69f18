package dit

import (
	"strconv"

	"github.com/dirgate/dirgate/internal/directory"
)

// POSIX accounts (RFC 2307bis) for orgs that serve them: a user with a
// uidNumber is also a posixAccount and a shadowAccount, a group with a
// gidNumber also a posixGroup (memberUid listing its users' logins), so
// that SSSD and other NSS clients resolve and authenticate them. The
// directory allocates the numbers; the rest comes from the org's
// settings.

var (
	posixUserClasses  = []string{"top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount", "shadowAccount"}
	posixGroupClasses = []string{"top", "groupOfUniqueNames", "posixGroup"}
)

// posixAttrs are the attributes only POSIX entries carry.
func posixAttrs() []attrID {
	return []attrID{idUIDNumber, idGIDNumber, idHome, idShell, idGecos, idMemberUID, idShadowChange}
}

// posix reports whether the org serves POSIX accounts.
func (o *orgView) posix() bool { return o.org.LDAP.POSIX.Enabled }

// userClassesOf is the objectClass of u's entry.
func (o *orgView) userClassesOf(u *directory.User) []string {
	if o.posix() && u.UIDNumber != 0 {
		return posixUserClasses
	}
	return userClasses
}

// addPOSIXUser adds u's POSIX attributes, when it has them.
func (o *orgView) addPOSIXUser(b *builder, u *directory.User, cn string) {
	if !o.posix() || u.UIDNumber == 0 {
		return
	}
	s := o.org.LDAP.POSIX
	b.add(idUIDNumber, strconv.FormatInt(u.UIDNumber, 10))
	b.add(idGIDNumber, strconv.FormatInt(s.PrimaryGID, 10))
	b.add(idHome, directory.HomeDirectory(s.Home, u))
	b.add(idShell, s.Shell)
	if isIA5(cn) { // gecos is IA5 (ASCII); clients fall back to cn
		b.add(idGecos, cn)
	}
	if !u.PasswordChanged.IsZero() {
		b.add(idShadowChange, strconv.FormatInt(u.PasswordChanged.Unix()/86400, 10))
	}
}

// groupClassesOf is the objectClass of g's entry.
func (o *orgView) groupClassesOf(g *directory.Group) []string {
	if o.posix() && g.GIDNumber != 0 {
		return posixGroupClasses
	}
	return groupClasses
}

// addPOSIXGroup adds g's POSIX attributes, when it has them: gidNumber,
// and memberUid listing its users' logins.
func (o *orgView) addPOSIXGroup(b *builder, g *directory.Group, members []int32, user func(int32) *entry) {
	if !o.posix() || g.GIDNumber == 0 {
		return
	}
	b.add(idGIDNumber, strconv.FormatInt(g.GIDNumber, 10))
	if len(members) > 0 {
		logins := b.tmpVals(len(members))
		for k, u := range members {
			logins[k] = user(u).login
		}
		b.addOwned(idMemberUID, logins, logins)
	}
}

func isIA5(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
