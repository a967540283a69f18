package directory

import (
	"context"
	"maps"
	"strings"

	"github.com/dirgate/dirgate/internal/store"
)

// Profile attributes by name: the names the REST API's JSON, its filter
// expressions and the CLI use for a profile's fields (Okta's), in one
// place.

// BaseProfileAttributes are the attributes every org has, in Okta's order.
var BaseProfileAttributes = []string{"login", "email", "firstName", "lastName", "displayName", "nickName",
	"title", "department", "organization", "mobilePhone", "primaryPhone"}

// baseField returns the field of p that a base attribute names, or nil.
func baseField(p *Profile, name string) *string {
	switch name {
	case "login":
		return &p.Login
	case "email":
		return &p.Email
	case "firstName":
		return &p.FirstName
	case "lastName":
		return &p.LastName
	case "displayName":
		return &p.DisplayName
	case "nickName":
		return &p.NickName
	case "title":
		return &p.Title
	case "department":
		return &p.Department
	case "organization":
		return &p.Organization
	case "mobilePhone":
		return &p.MobilePhone
	case "primaryPhone":
		return &p.PrimaryPhone
	}
	return nil
}

// IsBaseProfileAttribute reports whether name is one of
// BaseProfileAttributes.
func IsBaseProfileAttribute(name string) bool { return baseField(&Profile{}, name) != nil }

// ProfileValue returns the value of attribute name (base or custom) and
// whether it is set.
func ProfileValue(p *Profile, name string) (string, bool) {
	if f := baseField(p, name); f != nil {
		return *f, *f != ""
	}
	v, ok := p.Custom[name]
	return v, ok && v != ""
}

// SetProfileValue sets attribute name of p; "" clears it. A name that is
// not a base attribute is a custom one: validation (on write) refuses it
// unless the org declares it. p.Custom is cloned before it changes.
func SetProfileValue(p *Profile, name, v string) {
	if f := baseField(p, name); f != nil {
		*f = v
		return
	}
	p.Custom = maps.Clone(p.Custom)
	if v == "" {
		delete(p.Custom, name)
		return
	}
	if p.Custom == nil {
		p.Custom = make(map[string]string)
	}
	p.Custom[name] = v
}

// PatchProfile sets the given attributes of a user's profile and keeps the
// rest ("" clears one), in one transaction: a partial update never loses
// another writer's change to a field it did not name.
func (d *Directory) PatchProfile(ctx context.Context, org, ref string, set map[string]string) (*User, error) {
	return d.editProfile(ctx, org, ref, func(_ store.Reader, o *Org, _ *User, p *Profile) error {
		for name, v := range set {
			SetProfileValue(p, canonicalAttr(o, name), v)
		}
		return nil
	})
}

// editProfile lets edit change a copy of the user's profile in one
// transaction (it may run again if the transaction is retried), then
// validates the result and writes it, as PatchProfile does.
func (d *Directory) editProfile(ctx context.Context, org, ref string, edit func(r store.Reader, o *Org, u *User, p *Profile) error) (*User, error) {
	u, err := d.updateUserTx(ctx, org, ref, func(r store.Reader, o *Org, u *User) error {
		p := u.Profile
		p.Custom = maps.Clone(p.Custom)
		if err := edit(r, o, u, &p); err != nil {
			return err
		}
		return setOwnedProfile(ctx, r, o, u, p)
	})
	d.auditUser(ctx, err, EventUserUpdateProfile, u)
	return u, err
}

// canonicalAttr spells a custom attribute as the org declares it (names
// compare without case, as validation does).
func canonicalAttr(o *Org, name string) string {
	if IsBaseProfileAttribute(name) {
		return name
	}
	for _, a := range o.CustomAttributes {
		if strings.EqualFold(a, name) {
			return a
		}
	}
	return name
}

// ListUsers returns up to limit of the org's users with id > after that
// match (nil: every user), in id order, and the cursor of the next page
// ("" when there is none). The walk reads the store page by page in one
// read transaction, so a page is consistent however many users it skips.
func (d *Directory) ListUsers(ctx context.Context, org, after string, limit int, match func(*User) bool) ([]*User, string, error) {
	const storePage = 500
	if limit <= 0 {
		return nil, "", invalid("limit", "limit must be positive")
	}
	var out []*User
	var more bool
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		cursor := after
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			page, err := r.UsersPage(o.ID, cursor, storePage)
			if err != nil {
				return err
			}
			for _, u := range page {
				if match != nil && !match(u) {
					continue
				}
				if len(out) == limit {
					more = true // one more match: there is a next page
					return nil
				}
				out = append(out, u)
			}
			if len(page) < storePage {
				return nil
			}
			cursor = page[len(page)-1].ID
		}
	})
	if err != nil {
		return nil, "", storeErr(err)
	}
	next := ""
	if more {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// UserMatchesQ is Okta's q on users: a prefix, without case, of the first
// name, last name, email or login.
func UserMatchesQ(u *User, q string) bool {
	p := &u.Profile
	for _, v := range [...]string{p.FirstName, p.LastName, p.Email, p.Login} {
		if HasPrefixFold(v, q) {
			return true
		}
	}
	return false
}

// HasPrefixFold reports whether s begins with prefix, without case (Okta's
// q is a prefix match).
func HasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
