package dit

import (
	"errors"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
	"github.com/dirgate/dirgate/internal/policy"
)

// The password policy response control
// (draft-behera-ldap-password-policy-11), sent only to a client that put
// the request control on its bind or password change. It is always well
// formed: Okta's LDAP interface answers it with a value SSSD cannot parse,
// and SSSD then fails every bind. What it tells goes, like the directory's
// own diagnostics, only to a caller who knew the password: an expired
// password or a locked account is said after the password verified; a
// wrong password or an unknown user gets the same bare control.

// wantsPolicy reports whether a request carries the password policy
// control.
func wantsPolicy(cs []ldap.Control) bool { return ldap.FindControl(cs, ldap.OIDPasswordPolicy) != nil }

// withPolicy returns err (a *ldapserver.ResultError) with a password
// policy control saying pe, when the client asked for one (want).
func withPolicy(err error, want bool, pe ldap.PolicyError) error {
	var re *ldapserver.ResultError
	if !want || !errors.As(err, &re) {
		return err
	}
	with := *re // the errors are shared values: never changed in place
	with.Controls = []ldap.Control{ldap.PasswordPolicyControl(pe)}
	return &with
}

// policyErrorOf is the password policy error that says why the directory
// refused a bind or a password.
func policyErrorOf(err error) ldap.PolicyError {
	var pe *policy.PasswordError
	switch {
	case errors.Is(err, directory.ErrPasswordExpired):
		return ldap.PolicyPasswordExpired
	case errors.Is(err, directory.ErrLockedOut):
		return ldap.PolicyAccountLocked
	case errors.As(err, &pe):
		short := len(pe.Unmet) > 0
		for _, r := range pe.Unmet {
			if r.Setting == "history" {
				return ldap.PolicyPasswordInHistory
			}
			short = short && r.Setting == "minLength"
		}
		if short {
			return ldap.PolicyPasswordTooShort
		}
		return ldap.PolicyInsufficientQuality
	}
	return ldap.PolicyNoError
}
