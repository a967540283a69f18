package directory

import (
	"context"
	"slices"
	"strings"

	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

// Self-service: what every user (not only admins) may do to their own
// account on the console: edit the profile attributes the org allows,
// change their password, and manage their own factors. The rules are
// the same as an admin's (validation, password policy, history); only
// the set of editable attributes is narrower.

// DefaultSelfServiceAttributes are the attributes users may edit
// themselves unless the org says otherwise: names and phone numbers.
// Login and email are not among them (a login is the user's DN, and a
// changed email is unverified); title, department and organization are
// usually owned by HR.
var DefaultSelfServiceAttributes = []string{"firstName", "lastName", "displayName", "nickName", "mobilePhone", "primaryPhone"}

// SelfServiceAttributesOf returns the attributes o's users may edit
// themselves.
func SelfServiceAttributesOf(o *Org) []string {
	if o.SelfServiceAttributes == nil {
		return DefaultSelfServiceAttributes
	}
	return o.SelfServiceAttributes
}

// SetSelfServiceAttributes sets the attributes the org's users may edit
// themselves; nil restores the default, empty allows none. Each name is a
// base attribute other than login, or a custom attribute the org
// declares.
func (d *Directory) SetSelfServiceAttributes(ctx context.Context, org string, attrs []string) (*Org, error) {
	return d.updateOrg(ctx, org, func(_ store.Tx, o *Org) (bool, error) {
		var set []string
		if attrs != nil {
			set = []string{}
			for _, a := range attrs {
				a = canonicalAttr(o, strings.TrimSpace(a))
				switch {
				case a == "":
					continue
				case a == "login":
					return false, invalid("selfService", "users cannot change their own login: it names their LDAP entry (an admin can rename them)")
				case !IsBaseProfileAttribute(a) && !slices.Contains(o.CustomAttributes, a):
					return false, invalid("selfService", "%q is not a profile attribute of org %s (base attributes: %s; custom: %s)",
						a, o.Name, strings.Join(BaseProfileAttributes[1:], ", "), orNone(o.CustomAttributes))
				}
				if !slices.Contains(set, a) {
					set = append(set, a)
				}
			}
		}
		if slices.Equal(set, o.SelfServiceAttributes) && (set == nil) == (o.SelfServiceAttributes == nil) {
			return false, nil
		}
		o.SelfServiceAttributes = set
		return true, nil
	})
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// Account is what a user's self-service page shows, read in one store
// round trip.
type Account struct {
	Org     *Org
	User    *User
	Groups  []*Group
	Factors []*store.Factor
	// Editable are the profile attributes the user may change: the org's
	// self-service ones, less those the user's integration keeps.
	Editable []string
	// Source is the directory integration the user came from (nil:
	// local); its Owned attributes are read-only.
	Source *Integration
	// PasswordRules are the requirements of the password policy that
	// applies to the user, as hints to show before they pick one.
	PasswordRules []policy.Requirement
}

// Account reads the user's own account (orgID and userID as a session
// holds them).
func (d *Directory) Account(ctx context.Context, orgID, userID string) (*Account, error) {
	a := &Account{}
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		if a.Org, a.User, err = orgUser(r, orgID, userID); err != nil {
			return err
		}
		if a.Groups, err = userGroupsOf(r, a.User.ID); err != nil {
			return err
		}
		if a.Factors, err = r.Factors(a.User.ID); err != nil {
			return err
		}
		s, err := passwordSettings(r, a.Org, a.User)
		if err != nil {
			return err
		}
		a.PasswordRules = s.Requirements()
		id, err := r.UserIntegration(a.User.ID)
		if err != nil || id == "" {
			return err
		}
		a.Source, err = r.Integration(id)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	for _, n := range SelfServiceAttributesOf(a.Org) {
		if a.Source == nil || !slices.Contains(a.Source.Owned, n) {
			a.Editable = append(a.Editable, n)
		}
	}
	return a, nil
}

// OrgUser reads an org and one of its users by id in one round trip (a
// console session's check on every request).
func (d *Directory) OrgUser(ctx context.Context, orgID, userID string) (*Org, *User, error) {
	var o *Org
	var u *User
	err := d.st.View(ctx, func(r store.Reader) (err error) {
		o, u, err = orgUser(r, orgID, userID)
		return err
	})
	if err != nil {
		return nil, nil, storeErr(err)
	}
	return o, u, nil
}

func orgUser(r store.Reader, orgID, userID string) (*Org, *User, error) {
	o, err := r.Org(orgID)
	if err != nil {
		return nil, nil, notFoundAs(err, "no org with id %q", orgID)
	}
	u, err := r.User(userID)
	if err == nil && u.OrgID != o.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, nil, notFoundAs(err, "no user with id %q in org %s", userID, o.Name)
	}
	return o, u, nil
}

// UpdateOwnProfile sets attributes of the user's own profile ("" clears
// one), refusing any the org does not let users edit.
func (d *Directory) UpdateOwnProfile(ctx context.Context, orgID, userID string, set map[string]string) (*User, error) {
	o, _, err := d.OrgUser(ctx, orgID, userID)
	if err != nil {
		return nil, err
	}
	allowed := SelfServiceAttributesOf(o)
	for name := range set {
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) }) {
			return nil, invalid("profile."+name, "org %s does not let users change their own %s; ask an admin", o.Name, attrLabel(name))
		}
	}
	return d.PatchProfile(ctx, o.Name, userID, set)
}

// attrLabel is a profile attribute as a sentence names it.
func attrLabel(name string) string {
	var b strings.Builder
	for i, r := range name {
		if 'A' <= r && r <= 'Z' {
			if i > 0 {
				b.WriteByte(' ')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
