package dit

import (
	"context"
	"errors"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// Password changes over LDAP: the Password Modify extended operation (RFC
// 3062, what ldappasswd and SSSD's ldap_pwmodify_mode = exop send) and a
// Modify of userPassword (what clients that change passwords as an
// attribute send). Both go to directory.ChangePasswordAs, which holds the
// rules: a user changes its own password with the old one; an ORG_ADMIN or
// SUPER_ADMIN sets another's; the target's password policy decides; the
// system log records it. The snapshot only names the users.

var userPasswordType = ldap.LookupAttributeType("userPassword")

var (
	errPMMalformed = ldapserver.Fail(ldap.ProtocolError, "malformed Password Modify request value (RFC 3062)")
	errPMNoTarget  = ldapserver.Fail(ldap.NoSuchObject, "the userIdentity names no user of your org")
	errPMNotYours  = ldapserver.Fail(ldap.InsufficientAccessRights,
		"only an ORG_ADMIN or SUPER_ADMIN sets another user's password; change your own by leaving userIdentity out")
	errPMWritesOff = ldapserver.Fail(ldap.UnwillingToPerform,
		"the LDAP interface is read-only but for passwords: change userPassword (delete the old value and add the new one; an admin may replace it) or use the Password Modify operation; an installation admin may turn on writes by the org's admins (dirgate org set --org ORG --ldap-writes on)")
	errPMOldNeeded = ldapserver.Fail(ldap.UnwillingToPerform,
		"changing your own password takes your current one (oldPasswd: ldappasswd -a or -A)")
	errUPOldNeeded = ldapserver.Fail(ldap.UnwillingToPerform,
		"to change your own userPassword, delete the old value and add the new one in one modify (replacing it is for admins)")
	errPMHashed = ldapserver.Fail(ldap.UnwillingToPerform,
		"userPassword takes the new password itself (over TLS), not a hash: the password policy must see it, and dirgate hashes it with argon2id")
)

// passwordModify answers a Password Modify request: it changes the
// password of the user userIdentity names (a DN, "dn:<DN>" or "u:<login>";
// the bound user when left out) and returns the generated password when
// the request had no newPasswd.
//
// want: the request carried the password policy control, so a refusal
// carries one saying why (policy.go).
func (d *DIT) passwordModify(ctx context.Context, s *ldapserver.Session, req *ldap.ExtendedRequest, want bool) (ldap.ExtendedResponse, error) {
	pm, err := ldap.ParsePasswordModify(req.Value, req.HasValue)
	if err != nil {
		return ldap.ExtendedResponse{}, errPMMalformed
	}
	snap := d.snap.Load()
	a, err := snap.access(identityOf(s), true)
	if err != nil {
		return ldap.ExtendedResponse{}, err
	}
	target := a.self
	if pm.UserIdentity != nil {
		if target, err = a.resolveIdentity(snap, string(pm.UserIdentity)); err != nil {
			return ldap.ExtendedResponse{}, err
		}
	}
	if target == a.self && pm.OldPassword == nil {
		return ldap.ExtendedResponse{}, withPolicy(errPMOldNeeded, want, ldap.PolicyMustSupplyOldPassword)
	}
	gen, err := d.changePassword(ctx, a, target, pm.OldPassword, pm.NewPassword, want)
	if err != nil {
		return ldap.ExtendedResponse{}, err
	}
	if gen == "" {
		return ldap.ExtendedResponse{}, nil
	}
	return ldap.ExtendedResponse{Value: ldap.AppendPasswordModifyResponse(nil, []byte(gen)), HasValue: true}, nil
}

// resolveIdentity finds the user entry an RFC 3062 userIdentity names in
// a's org. A user who may only see itself learns nothing of other entries:
// naming anyone else is insufficientAccessRights, whether they exist or
// not.
func (a *access) resolveIdentity(snap *snapshot, id string) (int32, error) {
	var t bindTarget
	switch {
	case strings.HasPrefix(id, "u:"):
		t = bindTarget{org: a.org, user: a.org.userByLogin(id[2:])}
	default:
		t = snap.resolveBind(strings.TrimPrefix(id, "dn:"))
	}
	if t.org != a.org || t.user < 0 {
		if !a.all {
			return 0, errPMNotYours
		}
		return 0, errPMNoTarget
	}
	if t.user != a.self && !a.all {
		return 0, errPMNotYours
	}
	return t.user, nil
}

// changePassword asks the directory to set the password of entry target
// of a's org, acting as a's user.
func (d *DIT) changePassword(ctx context.Context, a access, target int32, old, new []byte, want bool) (string, error) {
	gen, err := d.src.ChangePasswordAs(ctx, directory.PasswordChange{
		OrgID: a.org.org.ID, ActorID: a.org.entries[a.self].id, TargetID: a.org.entries[target].id,
		Old: old, New: new,
	})
	if err != nil {
		return "", withPolicy(passwordError(err), want, policyErrorOf(err))
	}
	return gen, nil
}

// passwordError maps a refused password change: the policy's refusal is
// constraintViolation with its message (the unmet requirements, never the
// password), as OpenLDAP's ppolicy answers.
func passwordError(err error) error {
	var de *directory.Error
	if !errors.As(err, &de) {
		return ldapError(err)
	}
	switch de.Code {
	case directory.CodeInvalid:
		if de.Field == "credentials.password" {
			return ldapserver.Fail(ldap.ConstraintViolation, de.Message)
		}
		return ldapserver.Fail(ldap.UnwillingToPerform, de.Message)
	case directory.CodeInvalidCredentials:
		return ldapserver.Fail(ldap.InvalidCredentials, "the old password is wrong")
	case directory.CodeForbidden:
		return ldapserver.Fail(ldap.InsufficientAccessRights, de.Message)
	case directory.CodeConflict:
		return ldapserver.Fail(ldap.Busy, "the password changed meanwhile; try again")
	}
	return ldapError(err)
}

// modifyPassword is a Modify of userPassword alone: deleting the old value
// and adding the new one (a change of one's own password, the old one
// checked), or replacing it (an admin setting another user's). It is
// allowed whether or not the org has LDAP writes on (write.go).
func (d *DIT) modifyPassword(ctx context.Context, s *ldapserver.Session, req *ldap.ModifyRequest, controls []ldap.Control) error {
	want := wantsPolicy(controls)
	snap := d.snap.Load()
	a, err := snap.access(identityOf(s), true)
	if err != nil {
		return err
	}
	var old, new []byte
	for _, c := range req.Changes {
		if len(c.Attr.Values) != 1 {
			return ldapserver.Fail(ldap.UnwillingToPerform, "change userPassword one value at a time: delete the old one and add the new one, or replace it")
		}
		v := []byte(c.Attr.Values[0])
		switch {
		case c.Op == ldap.ModifyDelete && old == nil:
			old = v
		case (c.Op == ldap.ModifyAdd || c.Op == ldap.ModifyReplace) && new == nil:
			new = v
			if c.Op == ldap.ModifyReplace && old != nil {
				return ldapserver.Fail(ldap.UnwillingToPerform, "delete the old userPassword and add the new one, or replace it; not both")
			}
		default:
			return ldapserver.Fail(ldap.UnwillingToPerform, "delete the old userPassword and add the new one, or replace it")
		}
	}
	if new == nil {
		return ldapserver.Fail(ldap.UnwillingToPerform, "a userPassword change must give the new password")
	}
	if looksHashed(new) {
		return errPMHashed
	}
	target, err := a.resolveIdentity(snap, req.Object)
	if err != nil {
		return err
	}
	if target == a.self && old == nil {
		return withPolicy(errUPOldNeeded, want, ldap.PolicyMustSupplyOldPassword)
	}
	_, err = d.changePassword(ctx, a, target, old, new, want)
	return err
}

// looksHashed reports whether a userPassword value is in the {SCHEME}
// form of a stored hash.
func looksHashed(v []byte) bool {
	if len(v) < 3 || v[0] != '{' {
		return false
	}
	end := strings.IndexByte(string(v), '}')
	return end > 1 && !strings.ContainsAny(string(v[1:end]), " \t")
}
