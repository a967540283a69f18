package directory

import (
	"context"
	"slices"
	"strings"

	"github.com/dirgate/dirgate/internal/store"
)

// Cursor paging for the REST API: every list is ordered by id, and a page
// ends with the cursor of the next one (the last id it holds) when more
// match. Groups and a group's members are read whole (an org has
// thousands of groups, not millions) and paged here; users page in the
// store (ListUsers, ListUsersWhere).

// pageByID returns up to limit items with id > after that match (nil:
// all), sorted by id, and the cursor of the next page ("" at the end).
func pageByID[T any](items []T, id func(T) string, after string, limit int, match func(T) bool) ([]T, string) {
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	start, _ := slices.BinarySearchFunc(items, after, func(it T, after string) int {
		if id(it) <= after {
			return -1
		}
		return 1
	})
	var out []T
	for _, it := range items[start:] {
		if match != nil && !match(it) {
			continue
		}
		if len(out) == limit {
			return out, id(out[len(out)-1])
		}
		out = append(out, it)
	}
	return out, ""
}

func groupID(g *Group) string { return g.ID }
func userID(u *User) string   { return u.ID }

// ListGroups is ListUsers for groups.
func (d *Directory) ListGroups(ctx context.Context, org, after string, limit int, match func(*Group) bool) ([]*Group, string, error) {
	if limit <= 0 {
		return nil, "", invalid("limit", "limit must be positive")
	}
	gs, err := d.Groups(ctx, org)
	if err != nil {
		return nil, "", err
	}
	out, next := pageByID(gs, groupID, after, limit, match)
	return out, next, nil
}

// ListGroupMembers pages a group's members by id.
func (d *Directory) ListGroupMembers(ctx context.Context, org, ref, after string, limit int) ([]*User, string, error) {
	if limit <= 0 {
		return nil, "", invalid("limit", "limit must be positive")
	}
	_, us, err := d.GroupAndMembers(ctx, org, ref)
	if err != nil {
		return nil, "", err
	}
	out, next := pageByID(us, userID, after, limit, nil)
	return out, next, nil
}

// UserFilter selects users for a list; empty fields select everyone.
type UserFilter struct {
	Q      string // Okta's q: see UserMatchesQ
	Status string // one status
}

// ListUsersWhere is ListUsers for the users f selects, read in one
// query of the store however few of them match.
func (d *Directory) ListUsersWhere(ctx context.Context, org, after string, limit int, f UserFilter) ([]*User, string, error) {
	if limit <= 0 {
		return nil, "", invalid("limit", "limit must be positive")
	}
	var out []*User
	var next string
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		if out, err = r.UsersPageWhere(o.ID, after, limit+1, f.Status, f.Q); err != nil {
			return err
		}
		if len(out) > limit { // one more match: there is a next page
			out = out[:limit]
			next = out[limit-1].ID
		}
		return nil
	})
	if err != nil {
		return nil, "", storeErr(err)
	}
	return out, next, nil
}

// GroupAndMembers returns a group of org (by id or name) and its members
// ordered by login, read together.
func (d *Directory) GroupAndMembers(ctx context.Context, org, ref string) (*Group, []*User, error) {
	var g *Group
	var out []*User
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		if g, err = groupByRef(r, o, ref); err != nil {
			return err
		}
		out, err = r.GroupUsers(g.ID)
		return err
	})
	if err != nil {
		return nil, nil, storeErr(err)
	}
	sortUsers(out)
	return g, out, nil
}
