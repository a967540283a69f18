package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

// SignIn is what evaluating a sign-in needs of an org besides the user:
// its sign-on and password policies, compiled, and its MFA separator. It
// is immutable; the LDAP view keeps one per org in its snapshot (built
// with the org and refreshed from the change feed) and hands it to
// Authenticate, so a bind reads no policy from the store.
type SignIn struct {
	OrgID        string
	Policies     *policy.Set
	MFASeparator byte
	// err is set when the policies could not be compiled: every sign-in
	// of the org then fails closed rather than fall back to the default.
	err error
}

// DefaultMFASeparator separates the password from the TOTP code in an LDAP
// bind password when a sign-on policy requires MFA, "<password>,<code>",
// unless the org sets another (SetMFASeparator).
const DefaultMFASeparator = ','

// MFASeparators are the characters an org may choose: ASCII punctuation,
// which no TOTP code contains.
const MFASeparators = ",;:|!#%&*+=~^/"

// validateMFASeparator checks an org's separator ("" is the default).
func validateMFASeparator(s string) *Error {
	if s == "" {
		return nil
	}
	if len(s) != 1 || !containsByte(MFASeparators, s[0]) {
		return invalid("mfaSeparator", "the MFA separator is one of the characters %s, not %q", MFASeparators, s)
	}
	return nil
}

func containsByte(s string, b byte) bool {
	for i := range len(s) {
		if s[i] == b {
			return true
		}
	}
	return false
}

// MFASeparatorOf is the org's separator.
func MFASeparatorOf(o *Org) byte {
	if o.MFASeparator == "" {
		return DefaultMFASeparator
	}
	return o.MFASeparator[0]
}

// SetMFASeparator sets the character that separates the password from
// the one-time code in the org's LDAP binds ("" restores the default ",").
func (d *Directory) SetMFASeparator(ctx context.Context, org, sep string) (*Org, error) {
	if e := validateMFASeparator(sep); e != nil {
		return nil, e
	}
	return d.updateOrg(ctx, org, func(_ store.Tx, o *Org) (bool, error) {
		if o.MFASeparator == sep {
			return false, nil
		}
		o.MFASeparator = sep
		return true, nil
	})
}

// SetLDAPWrites turns on or off the org's LDAP writes: its ORG_ADMINs and
// SUPER_ADMINs adding, modifying and deleting users and groups over LDAP
// (off by default, as Okta's LDAP interface is read-only).
func (d *Directory) SetLDAPWrites(ctx context.Context, org string, on bool) (*Org, error) {
	return d.updateOrg(ctx, org, func(_ store.Tx, o *Org) (bool, error) {
		if o.LDAP.Writes == on {
			return false, nil
		}
		o.LDAP.Writes = on
		return true, nil
	})
}

// SetLDAPMemberOf makes the org's memberOf transitive (every group a user
// or group is in through nested groups) or direct (the default, as in
// Okta: the groups it is itself a member of).
func (d *Directory) SetLDAPMemberOf(ctx context.Context, org string, transitive bool) (*Org, error) {
	return d.updateOrg(ctx, org, func(_ store.Tx, o *Org) (bool, error) {
		if o.LDAP.TransitiveMemberOf == transitive {
			return false, nil
		}
		o.LDAP.TransitiveMemberOf = transitive
		return true, nil
	})
}

// SignInOf compiles the org's sign-in settings from the store.
func (d *Directory) SignInOf(ctx context.Context, orgID string) (*SignIn, error) {
	var si *SignIn
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := r.Org(orgID)
		if err != nil {
			return err
		}
		si, err = compileSignIn(r, o)
		return err
	})
	return si, storeErr(err)
}

// compileSignIn compiles o's policies within a read. A name that no
// longer resolves (a group deleted since the policy was applied)
// includes or excludes nobody; any other failure to compile is kept in
// the SignIn, which then refuses every sign-in. Only a store failure is
// returned as an error.
func compileSignIn(r store.Reader, o *Org) (*SignIn, error) {
	si := &SignIn{OrgID: o.ID, MFASeparator: MFASeparatorOf(o)}
	recs, err := r.Policies(o.ID)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return si, nil // the built-in defaults
	}
	_, ps, err := decodePolicies(recs)
	if err != nil {
		si.err = err
		return si, nil
	}
	si.Policies, err = policy.Compile(ps, txResolver{r, o.ID})
	var ue *policy.UnresolvedError
	if err != nil && !errors.As(err, &ue) {
		si.Policies, si.err = nil, fmt.Errorf("directory: the policies of org %s do not compile: %w", o.Name, err)
	}
	return si, nil
}

// Same reports whether two compilations of an org's sign-in settings
// decide alike (nil is the same only as nil).
func (si *SignIn) Same(o *SignIn) bool {
	if si == nil || o == nil {
		return si == o
	}
	return si.OrgID == o.OrgID && si.MFASeparator == o.MFASeparator && si.err == nil && o.err == nil &&
		si.Policies.Equal(o.Policies)
}

// check fails a sign-in closed when the org's policies are unusable.
func (si *SignIn) check() error {
	if si.err != nil {
		return &Error{Code: CodeInternal, Message: "the org's sign-on policies cannot be evaluated", Reason: si.err.Error(), Err: si.err}
	}
	return nil
}
