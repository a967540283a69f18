package directory

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

// UserInput describes a new user.
type UserInput struct {
	Profile  Profile
	Password []byte // nil or empty: no password (the user cannot sign in until one is set)
	// PasswordHash is an already hashed credential (import); exclusive
	// with Password.
	PasswordHash   string
	Status         string // STAGED or ACTIVE (default ACTIVE)
	ServiceAccount bool
	Roles          []string
}

// CreateUser creates a user in org.
func (d *Directory) CreateUser(ctx context.Context, org string, in UserInput) (*User, error) {
	return d.CreateUserInGroups(ctx, org, in, nil)
}

// CreateUserInGroups creates a user in org as a member of the groups
// named (ids or names), in one transaction: a missing group creates
// nothing. The password policy is the one for a user of no group.
func (d *Directory) CreateUserInGroups(ctx context.Context, org string, in UserInput, groupRefs []string) (*User, error) {
	var u *User
	var groups []*Group
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		ps, err := passwordSettings(tx, o, &User{Type: userType(in)})
		if err != nil {
			return err
		}
		u, err = d.newUser(o, in, ps)
		if err != nil {
			return err
		}
		if err := createUser(tx, o, u); err != nil {
			return err
		}
		for _, ref := range groupRefs {
			g, err := groupByRef(tx, o, ref)
			if err != nil {
				return err
			}
			if added, err := tx.AddMember(g.ID, u.ID); err != nil || !added {
				continue // named twice
			}
			g.LastMembershipUpdated = u.Created
			if err := tx.UpdateGroup(g); err != nil {
				return err
			}
			groups = append(groups, g)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditUser(ctx, nil, EventUserCreate, u)
	for _, g := range groups {
		d.auditWrite(ctx, nil, g.OrgID, EventGroupMembershipAdd, userTarget(u), groupTarget(g))
	}
	return u, nil
}

// createUser stores a new user of o, with a uidNumber when o serves POSIX
// accounts.
func createUser(tx store.Tx, o *Org, u *User) error {
	if err := allocateUID(tx, o, u); err != nil {
		return err
	}
	err := tx.CreateUser(u)
	if errors.Is(err, store.ErrConflict) {
		return loginTaken(u.Profile.Login)
	}
	return err
}

// userType is the type of the user in describes.
func userType(in UserInput) string {
	if in.ServiceAccount {
		return store.TypeServiceAccount
	}
	return store.TypePerson
}

// newUser validates in and builds the record (hashing the password, which
// must meet ps). A new user is STAGED or ACTIVE. With ps nil, the user is
// imported: it keeps any known status and its password is not checked.
func (d *Directory) newUser(o *Org, in UserInput, ps *policy.PasswordSettings) (*User, error) {
	imported := ps == nil
	p := in.Profile
	p.Custom = maps.Clone(p.Custom)
	if e := validateProfile(&p, o); e != nil {
		return nil, e
	}
	status := in.Status
	switch strings.ToUpper(status) {
	case "", StatusActive:
		status = StatusActive
	case StatusStaged:
		status = StatusStaged
	default:
		status = strings.ToUpper(status)
		if !imported {
			return nil, invalid("status", "a new user is STAGED or ACTIVE, not %q", in.Status)
		}
		if !knownStatus(status) {
			return nil, invalid("status", "unknown status %q", in.Status)
		}
	}
	roles, err := normalizeRoles(in.Roles)
	if err != nil {
		return nil, err
	}
	now := d.now().UTC()
	u := &User{
		ID: newID(prefixUser), OrgID: o.ID, Status: status, Type: userType(in),
		LoginKey: foldKey(p.Login), Profile: p, Roles: roles,
		Created: now, StatusChanged: now, LastUpdated: now,
	}
	if status == StatusActive {
		u.Activated = now
	}
	switch {
	case len(in.Password) > 0 && in.PasswordHash != "":
		return nil, invalid("credentials.password", "give a password or a password hash, not both")
	case len(in.Password) > 0:
		if !imported {
			if err := checkStrength(ps, &p, in.Password); err != nil {
				return nil, err
			}
		}
		h, err := d.hashPassword(in.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash, u.PasswordChanged = h, now
	case in.PasswordHash != "":
		if err := password.Check(in.PasswordHash); err != nil {
			return nil, invalid("credentials.password.hash", "password hash of %s is not in a supported scheme ({ARGON2}, {SSHA}, {SSHA256}, {SSHA512}, {CRYPT} bcrypt or sha512-crypt)", p.Login)
		}
		u.PasswordHash, u.PasswordChanged = in.PasswordHash, now
	}
	return u, nil
}

func knownStatus(s string) bool {
	switch s {
	case StatusStaged, StatusActive, StatusSuspended, StatusDeprovisioned, StatusLockedOut, StatusPasswordExpired:
		return true
	}
	return false
}

func normalizeRoles(in []string) ([]string, error) {
	var out []string
	for _, r := range in {
		n, e := normalizeRole(r)
		if e != nil {
			return nil, e
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (d *Directory) hashPassword(pw []byte) (string, error) {
	if len(pw) > password.MaxLength {
		return "", invalid("credentials.password", "password is longer than %d bytes", password.MaxLength)
	}
	h, err := d.hasher.Hash(pw)
	if err != nil {
		return "", &Error{Code: CodeInternal, Message: "could not hash the password", Err: err}
	}
	return h, nil
}

// User returns a user of org by id or login.
func (d *Directory) User(ctx context.Context, org, ref string) (*User, error) {
	var u *User
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		u, err = userByRef(r, o, ref)
		return err
	})
	return u, storeErr(err)
}

// Users lists the org's users ordered by login.
func (d *Directory) Users(ctx context.Context, org string) ([]*User, error) {
	var out []*User
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		out, err = r.Users(o.ID)
		return err
	})
	return out, storeErr(err)
}

// UserCounts returns how many of the org's users have each status.
func (d *Directory) UserCounts(ctx context.Context, org string) (map[string]int, error) {
	var out map[string]int
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		out, err = r.UserCounts(o.ID)
		return err
	})
	return out, storeErr(err)
}

// userByRef finds a user of o by id or (case-insensitive) login.
func userByRef(r store.Reader, o *Org, ref string) (*User, error) {
	if looksLikeID(ref, prefixUser) {
		u, err := r.User(ref)
		if err == nil && u.OrgID == o.ID {
			return u, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	u, err := r.UserByLogin(o.ID, foldKey(ref))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(CodeNotFound, "no user %q in org %s", ref, o.Name)
	}
	return u, err
}

// updateUser loads a user of org by ref, lets fn change it and writes it
// back with LastUpdated set.
func (d *Directory) updateUser(ctx context.Context, org, ref string, fn func(o *Org, u *User) error) (*User, error) {
	return d.updateUserTx(ctx, org, ref, func(_ store.Reader, o *Org, u *User) error { return fn(o, u) })
}

// updateUserTx is updateUser whose fn may read more in the transaction.
func (d *Directory) updateUserTx(ctx context.Context, org, ref string, fn func(r store.Reader, o *Org, u *User) error) (*User, error) {
	var u *User
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		if u, err = userByRef(tx, o, ref); err != nil {
			return err
		}
		if err := actorMayManage(ctx, tx, u); err != nil {
			return err
		}
		if err := fn(tx, o, u); err != nil {
			return err
		}
		d.wrote(u.ID)
		u.LastUpdated = d.now().UTC()
		err = tx.UpdateUser(u)
		if errors.Is(err, store.ErrConflict) {
			return loginTaken(u.Profile.Login)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return u, nil
}

// UpdateProfile replaces the user's profile (a login change renames the
// entry).
func (d *Directory) UpdateProfile(ctx context.Context, org, ref string, p Profile) (*User, error) {
	p.Custom = maps.Clone(p.Custom)
	u, err := d.updateUserTx(ctx, org, ref, func(r store.Reader, o *Org, u *User) error { return setOwnedProfile(ctx, r, o, u, p) })
	d.auditUser(ctx, err, EventUserUpdateProfile, u)
	return u, err
}

// setOwnedProfile is setProfile, refusing a change to an attribute the
// user's integration keeps (integrations.go).
func setOwnedProfile(ctx context.Context, r store.Reader, o *Org, u *User, p Profile) error {
	if err := ownedCheck(ctx, r, u, &p); err != nil {
		return err
	}
	return setProfile(o, u, p)
}

// setProfile validates p and makes it u's profile.
func setProfile(o *Org, u *User, p Profile) error {
	if e := validateProfile(&p, o); e != nil {
		return e
	}
	u.Profile, u.LoginKey = p, foldKey(p.Login)
	return nil
}

// SetPassword sets a user's password as an administrator would; the
// password policy applies (strength and history). A user whose password
// had expired becomes ACTIVE.
func (d *Directory) SetPassword(ctx context.Context, org, ref string, pw []byte) (*User, error) {
	return d.setPassword(ctx, org, ref, nil, pw)
}

// ChangePassword changes a user's own password: the old one must verify
// and the new one meet the password policy.
func (d *Directory) ChangePassword(ctx context.Context, org, ref string, oldPw, newPw []byte) (*User, error) {
	if oldPw == nil {
		oldPw = []byte{}
	}
	return d.setPassword(ctx, org, ref, oldPw, newPw)
}

// Lifecycle applies a lifecycle action to a user.
func (d *Directory) Lifecycle(ctx context.Context, org, ref string, a Action) (*User, error) {
	if _, ok := transitions[a]; !ok || a == actionLock {
		if _, e := ParseAction(string(a)); e != nil {
			return nil, e
		}
	}
	u, err := d.updateUser(ctx, org, ref, func(_ *Org, u *User) error {
		to, e := next(u.Profile.Login, u.Status, a)
		if e != nil {
			return e
		}
		now := d.now().UTC()
		if a == ActionActivate {
			u.Activated = now
		}
		if a == ActionUnlock {
			u.FailedLogins = 0 // a fresh count after an admin unlock
		}
		u.Status, u.StatusChanged = to, now
		return nil
	})
	d.auditUser(ctx, err, lifecycleEvents[a], u)
	return u, err
}

// DeleteUser deletes a user; as in Okta, only a DEPROVISIONED one.
func (d *Directory) DeleteUser(ctx context.Context, org, ref string) error {
	var gone *User // for the system log
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		u, err := userByRef(tx, o, ref)
		if err != nil {
			return err
		}
		if err := actorMayManage(ctx, tx, u); err != nil {
			return err
		}
		if u.Status != StatusDeprovisioned {
			return errf(CodeIllegalTransition, "cannot delete user %s: the user is %s; deactivate it first (only DEPROVISIONED users can be deleted)", u.Profile.Login, u.Status)
		}
		gone = u
		d.wrote(u.ID)
		return tx.DeleteUser(u.ID)
	})
	d.auditUser(ctx, err, EventUserDelete, gone)
	return storeErr(err)
}

// DeactivateOrDelete is Okta's DELETE of a user: a user not yet
// DEPROVISIONED is deactivated; a DEPROVISIONED one is deleted. It reports
// whether the user was deleted.
func (d *Directory) DeactivateOrDelete(ctx context.Context, org, ref string) (bool, error) {
	var u *User
	deleted := false
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		if u, err = userByRef(tx, o, ref); err != nil {
			return err
		}
		if err := actorMayManage(ctx, tx, u); err != nil {
			return err
		}
		d.wrote(u.ID)
		if u.Status == StatusDeprovisioned {
			deleted = true
			return tx.DeleteUser(u.ID)
		}
		to, e := next(u.Profile.Login, u.Status, ActionDeactivate)
		if e != nil {
			return e
		}
		now := d.now().UTC()
		u.Status, u.StatusChanged, u.LastUpdated = to, now, now
		return tx.UpdateUser(u)
	})
	if deleted {
		d.auditUser(ctx, err, EventUserDelete, u)
	} else {
		d.auditUser(ctx, err, EventUserDeactivate, u)
	}
	return deleted, storeErr(err)
}

// AssignRole gives a user an admin role (no change if it has it).
func (d *Directory) AssignRole(ctx context.Context, org, ref, role string) (*User, error) {
	r, e := normalizeRole(role)
	if e != nil {
		return nil, e
	}
	u, err := d.updateUser(ctx, org, ref, func(_ *Org, u *User) error {
		if !slices.Contains(u.Roles, r) {
			u.Roles = append(slices.Clone(u.Roles), r)
			slices.Sort(u.Roles)
		}
		return nil
	})
	d.auditRole(ctx, err, EventPrivilegeGrant, u, r)
	return u, err
}

// RemoveRole takes an admin role from a user.
func (d *Directory) RemoveRole(ctx context.Context, org, ref, role string) (*User, error) {
	r, e := normalizeRole(role)
	if e != nil {
		return nil, e
	}
	u, err := d.updateUser(ctx, org, ref, func(_ *Org, u *User) error {
		i := slices.Index(u.Roles, r)
		if i < 0 {
			return errf(CodeNotFound, "user %s does not have the role %s", u.Profile.Login, r)
		}
		u.Roles = slices.Delete(slices.Clone(u.Roles), i, i+1)
		return nil
	})
	d.auditRole(ctx, err, EventPrivilegeRevoke, u, r)
	return u, err
}

// UserGroups lists the groups a user belongs to.
func (d *Directory) UserGroups(ctx context.Context, org, ref string) ([]*Group, error) {
	var out []*Group
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		u, err := userByRef(r, o, ref)
		if err != nil {
			return err
		}
		out, err = userGroupsOf(r, u.ID)
		return err
	})
	return out, storeErr(err)
}

// userGroupsOf reads the groups a user belongs to.
func userGroupsOf(r store.Reader, userID string) ([]*Group, error) {
	ids, err := r.UserGroups(userID)
	if err != nil {
		return nil, err
	}
	out := make([]*Group, 0, len(ids))
	for _, id := range ids {
		g, err := r.Group(id)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// notFoundAs turns the store's ErrNotFound into CodeNotFound with the
// message given, and leaves any other error as it is.
func notFoundAs(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return errf(CodeNotFound, format, args...)
	}
	return err
}

// loginTaken is the conflict of a login another user of the org has.
func loginTaken(login string) *Error {
	e := errf(CodeConflict, "a user with login %s already exists in this org", login)
	e.Field = "profile.login"
	return e
}
