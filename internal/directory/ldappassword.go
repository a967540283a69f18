package directory

import (
	"context"
	"errors"

	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

// PasswordChange is a password change asked for over LDAP (the Password
// Modify extended operation of RFC 3062, or a Modify of userPassword) by
// the user a connection is bound as.
type PasswordChange struct {
	OrgID    string
	ActorID  string // the bound user
	TargetID string // whose password; the actor's own, or another user's of the org
	// Old is the current password, nil when not given. Changing one's
	// own password takes it (the bind proved the password once; the
	// change proves it again, as the console and the API do).
	Old []byte
	// New is the new password; nil asks for a generated one, which
	// ChangePasswordAs returns.
	New []byte
}

// ChangePasswordAs applies c with the actor's rights, as the LDAP
// interface's password operations do:
//
//   - A user changes its own password with the old one (which must
//     verify: CodeInvalidCredentials otherwise).
//   - A user who may change the org's users (ORG_ADMIN, SUPER_ADMIN; see
//     PermWrite) sets another user's password without the old one,
//     provided the target holds no role the actor's roles do not cover
//     (an ORG_ADMIN cannot take over a SUPER_ADMIN's account). Anyone
//     else gets CodeForbidden.
//
// The password policy that applies to the target decides (strength and
// history: CodeInvalid naming the unmet requirements), and the change is
// written to the system log with the actor as its actor. When c.New is nil
// a random password meeting the policy's length is set and returned; it is
// never logged.
func (d *Directory) ChangePasswordAs(ctx context.Context, c PasswordChange) (generated string, err error) {
	var o *Org
	var actor, target *User
	var settings *policy.PasswordSettings
	err = d.st.View(ctx, func(r store.Reader) error {
		var err error
		if o, err = r.Org(c.OrgID); err != nil {
			return err
		}
		if actor, err = r.User(c.ActorID); err != nil {
			return err
		}
		if target, err = r.User(c.TargetID); err != nil {
			return err
		}
		if actor.OrgID != o.ID || target.OrgID != o.ID {
			return store.ErrNotFound
		}
		settings, err = passwordSettings(r, o, target)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", errf(CodeNotFound, "no such user")
	}
	if err != nil {
		return "", storeErr(err)
	}
	self := actor.ID == target.ID
	// A user whose password expired may change it (and do nothing else).
	if actor.Status != StatusActive && (!self || actor.Status != StatusPasswordExpired) {
		return "", errf(CodeForbidden, "the bound user is %s", actor.Status)
	}
	if self && c.Old == nil {
		return "", invalid("oldPassword", "changing your own password takes your current password")
	}
	if !self {
		p := &Principal{Org: o, User: actor}
		if err := p.Allow(PermWrite); err != nil {
			return "", err
		}
		if best(target.Roles) > best(actor.Roles) {
			return "", errf(CodeForbidden, "%s holds a role %s does not (%s): only a super admin sets that user's password",
				target.Profile.Login, actor.Profile.Login, orNone(target.Roles))
		}
	}
	pw := c.New
	if pw == nil {
		generated = generatePassword(max(16, settings.MinimumLength()))
		pw = []byte(generated)
	}
	ctx = WithActor(ctx, LogActor{ID: actor.ID, Type: "User", AlternateID: actor.Profile.Login, DisplayName: userDisplayName(actor)})
	if self {
		_, err = d.ChangePassword(ctx, o.Name, target.ID, c.Old, pw)
	} else {
		_, err = d.SetPassword(ctx, o.Name, target.ID, pw)
	}
	if err != nil {
		return "", err
	}
	return generated, nil
}

// best is the most the roles allow (-1: no admin role).
func best(roles []string) Permission {
	b := Permission(-1)
	for _, r := range roles {
		if q, ok := rolePerms[r]; ok && q > b {
			b = q
		}
	}
	return b
}
