package directory

import (
	"context"

	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

// Password policy on new passwords: every password an administrator sets,
// a user changes to, or a new user is created with must meet the password
// policy that applies to the user (strength, and not one of its last
// history passwords). Imported hashes are taken as they are: nothing can
// be checked of them.

// passwordSettings returns the password policy settings that apply to u,
// read in r; u may be a user not yet written (no groups).
func passwordSettings(r store.Reader, o *Org, u *User) (*policy.PasswordSettings, error) {
	si, err := compileSignIn(r, o)
	if err != nil {
		return nil, err
	}
	if err := si.check(); err != nil {
		return nil, err
	}
	var groups []string
	if u.ID != "" {
		if groups, err = r.UserGroups(u.ID); err != nil {
			return nil, err
		}
	}
	return si.Policies.Password(policy.Subject{UserID: u.ID, Groups: groups, Type: policy.UserType(u.Type)}), nil
}

// checkStrength checks pw against the settings' strength requirements.
func checkStrength(s *policy.PasswordSettings, p *Profile, pw []byte) error {
	if err := s.Check(pw, p.Login, profileAttrs(p)); err != nil {
		return passwordRefused(err)
	}
	return nil
}

// passwordRefused is a password policy's refusal; the message lists the
// unmet requirements and never any part of the password.
func passwordRefused(err error) *Error {
	return &Error{Code: CodeInvalid, Field: "credentials.password", Message: err.Error(), Err: err}
}

// checkHistory refuses pw when it is u's current password or one of the
// previous ones the settings' history keeps. Each comparison is a full
// password verification, so the cost grows with the history count (at
// most policy.MaxHistory).
func (d *Directory) checkHistory(ctx context.Context, s *policy.PasswordSettings, u *User, pw []byte) error {
	n := s.History()
	if n == 0 {
		return nil
	}
	hashes := make([]string, 0, n)
	if u.PasswordHash != "" {
		hashes = append(hashes, u.PasswordHash)
	}
	hashes = append(hashes, u.PasswordHistory...)
	for _, h := range hashes[:min(n, len(hashes))] {
		ok, err := d.hasher.Verify(ctx, h, pw)
		if err != nil && ctx.Err() != nil {
			return storeErr(ctx.Err())
		}
		if ok {
			return passwordRefused(s.HistoryError())
		}
	}
	return nil
}

// newPassword reads the user and the password policy that applies to it,
// checks pw against the policy and hashes it. oldPw, when not nil, must be
// the user's current password.
func (d *Directory) newPassword(ctx context.Context, org, ref string, oldPw, pw []byte) (*User, *policy.PasswordSettings, string, error) {
	if len(pw) == 0 {
		return nil, nil, "", invalid("credentials.password", "the new password is empty")
	}
	var u *User
	var s *policy.PasswordSettings
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		if u, err = userByRef(r, o, ref); err != nil {
			return err
		}
		s, err = passwordSettings(r, o, u)
		return err
	})
	if err != nil {
		return nil, nil, "", storeErr(err)
	}
	if oldPw != nil {
		if ok, _ := d.hasher.Verify(ctx, u.PasswordHash, oldPw); !ok || u.PasswordHash == "" {
			return nil, nil, "", credentialsError("old password does not match")
		}
	}
	if err := checkStrength(s, &u.Profile, pw); err != nil {
		return nil, nil, "", err
	}
	if err := d.checkHistory(ctx, s, u, pw); err != nil {
		return nil, nil, "", err
	}
	h, err := d.hashPassword(pw)
	if err != nil {
		return nil, nil, "", err
	}
	return u, s, h, nil
}

// setPassword writes a password newPassword checked, provided the user's
// password did not change since it was read.
func (d *Directory) setPassword(ctx context.Context, org, ref string, oldPw, pw []byte) (*User, error) {
	read, s, h, err := d.newPassword(ctx, org, ref, oldPw, pw)
	if err != nil {
		return nil, err
	}
	u, err := d.updateUser(ctx, org, ref, func(_ *Org, cur *User) error {
		if cur.ID != read.ID || cur.PasswordHash != read.PasswordHash {
			return errf(CodeConflict, "the password changed meanwhile; try again")
		}
		d.setHash(cur, h, s.History())
		return nil
	})
	d.auditUser(ctx, err, EventUserUpdatePassword, u)
	return u, err
}

// ExpireWithTempPassword gives a user a random temporary password that
// has already expired (Okta's expire_password?tempPassword=true): the user
// signs in with it once and must change it. The password is returned once
// and never logged.
func (d *Directory) ExpireWithTempPassword(ctx context.Context, org, ref string) (*User, string, error) {
	temp := tempPassword()
	read, s, h, err := d.newPassword(ctx, org, ref, nil, []byte(temp))
	if err != nil {
		return nil, "", err
	}
	u, err := d.updateUser(ctx, org, ref, func(_ *Org, cur *User) error {
		if cur.ID != read.ID || cur.PasswordHash != read.PasswordHash {
			return errf(CodeConflict, "the password changed meanwhile; try again")
		}
		to, e := next(cur.Profile.Login, cur.Status, ActionExpirePassword)
		if e != nil {
			return e
		}
		d.setHash(cur, h, s.History())
		cur.Status, cur.StatusChanged = to, d.now().UTC()
		return nil
	})
	d.auditUser(ctx, err, EventUserExpirePassword, u)
	if err != nil {
		return nil, "", err
	}
	return u, temp, nil
}

// tempPassword is 16 random characters; see generatePassword.
func tempPassword() string { return generatePassword(16) }

// generatePassword is n (at least 16) random characters with an upper-
// and a lower-case letter, a digit and a symbol, so the usual strength
// rules accept it.
func generatePassword(n int) string {
	b := make([]byte, max(n, 16))
	fillBase62(b)
	last := len(b) - 1
	b[0], b[5], b[10], b[last] = "ABCDEFGHJKLMNPQRSTUVWXYZ"[b[0]%24], "abcdefghijkmnopqrstuvwxyz"[b[5]%25], "23456789"[b[10]%8], "!#%+-=?@"[b[last]%8]
	return string(b)
}

// setHash sets a new password hash, keeping the previous ones the history
// needs (history counts the current password, so history-1 of them); a
// user whose password had expired becomes ACTIVE.
func (d *Directory) setHash(u *User, h string, history int) {
	now := d.now().UTC()
	prev := u.PasswordHistory
	if u.PasswordHash != "" {
		prev = append([]string{u.PasswordHash}, prev...)
	}
	u.PasswordHistory = nil
	if keep := min(history-1, len(prev)); keep > 0 {
		u.PasswordHistory = prev[:keep:keep]
	}
	u.PasswordHash, u.PasswordChanged = h, now
	if u.Status == StatusPasswordExpired {
		u.Status, u.StatusChanged = StatusActive, now
	}
}

// profileAttrs gives a profile's attributes by name, for the password
// policy's excludeAttributes.
func profileAttrs(p *Profile) map[string]string {
	m := map[string]string{
		"login": p.Login, "email": p.Email, "firstName": p.FirstName, "lastName": p.LastName,
		"displayName": p.DisplayName, "nickName": p.NickName, "title": p.Title,
		"department": p.Department, "organization": p.Organization,
		"mobilePhone": p.MobilePhone, "primaryPhone": p.PrimaryPhone,
	}
	for k, v := range p.Custom {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m
}
