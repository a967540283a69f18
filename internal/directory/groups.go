package directory

import (
	"context"
	"errors"

	"github.com/dirgate/dirgate/internal/store"
)

// GroupInput describes a group.
type GroupInput struct {
	Name        string
	Description string
}

// CreateGroup creates a group in org.
func (d *Directory) CreateGroup(ctx context.Context, org string, in GroupInput) (*Group, error) {
	if e := validateGroup(in); e != nil {
		return nil, e
	}
	var g *Group
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		g = d.newGroup(o, in)
		return createGroup(tx, o, g)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditWrite(ctx, nil, g.OrgID, EventGroupCreate, groupTarget(g))
	return g, nil
}

// newGroup builds the record of a new group of o from validated input.
func (d *Directory) newGroup(o *Org, in GroupInput) *Group {
	now := d.now().UTC()
	return &Group{ID: newID(prefixGroup), OrgID: o.ID, Name: in.Name, NameKey: foldKey(in.Name),
		Description: in.Description, Created: now, LastUpdated: now, LastMembershipUpdated: now}
}

// createGroup stores a new group of o, with a gidNumber when o serves
// POSIX groups.
func createGroup(tx store.Tx, o *Org, g *Group) error {
	if err := allocateGID(tx, o, g); err != nil {
		return err
	}
	err := tx.CreateGroup(g)
	if errors.Is(err, store.ErrConflict) {
		return groupNameTaken(g.Name)
	}
	return err
}

// Group returns a group of org by id or name.
func (d *Directory) Group(ctx context.Context, org, ref string) (*Group, error) {
	var g *Group
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		g, err = groupByRef(r, o, ref)
		return err
	})
	return g, storeErr(err)
}

// Groups lists the org's groups ordered by name.
func (d *Directory) Groups(ctx context.Context, org string) ([]*Group, error) {
	var out []*Group
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		out, err = r.Groups(o.ID)
		return err
	})
	return out, storeErr(err)
}

func groupByRef(r store.Reader, o *Org, ref string) (*Group, error) {
	if looksLikeID(ref, prefixGroup) {
		g, err := r.Group(ref)
		if err == nil && g.OrgID == o.ID {
			return g, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	g, err := r.GroupByName(o.ID, foldKey(ref))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(CodeNotFound, "no group %q in org %s", ref, o.Name)
	}
	return g, err
}

// UpdateGroup changes a group's name and description.
func (d *Directory) UpdateGroup(ctx context.Context, org, ref string, in GroupInput) (*Group, error) {
	if e := validateGroup(in); e != nil {
		return nil, e
	}
	var g *Group
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		if g, err = groupByRef(tx, o, ref); err != nil {
			return err
		}
		g.Name, g.NameKey, g.Description, g.LastUpdated = in.Name, foldKey(in.Name), in.Description, d.now().UTC()
		err = tx.UpdateGroup(g)
		if errors.Is(err, store.ErrConflict) {
			return groupNameTaken(g.Name)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditWrite(ctx, nil, g.OrgID, EventGroupUpdate, groupTarget(g))
	return g, nil
}

// DeleteGroup deletes a group (its members stay).
func (d *Directory) DeleteGroup(ctx context.Context, org, ref string) error {
	var gone *Group // for the system log
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		g, err := groupByRef(tx, o, ref)
		if err != nil {
			return err
		}
		gone = g
		return tx.DeleteGroup(g.ID)
	})
	if err == nil {
		d.auditWrite(ctx, nil, gone.OrgID, EventGroupDelete, groupTarget(gone))
	}
	return storeErr(err)
}

// AddMember puts a user in a group; it reports whether it was not already
// a member.
func (d *Directory) AddMember(ctx context.Context, org, groupRef, userRef string) (bool, error) {
	return d.membership(ctx, org, groupRef, userRef, store.Tx.AddMember, EventGroupMembershipAdd)
}

// RemoveMember takes a user out of a group; it reports whether it was a
// member.
func (d *Directory) RemoveMember(ctx context.Context, org, groupRef, userRef string) (bool, error) {
	return d.membership(ctx, org, groupRef, userRef, store.Tx.RemoveMember, EventGroupMembershipRemove)
}

func (d *Directory) membership(ctx context.Context, org, groupRef, userRef string, op func(store.Tx, string, string) (bool, error), eventType string) (bool, error) {
	var changed bool
	var g *Group
	var u *User
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		g, err = groupByRef(tx, o, groupRef)
		if err != nil {
			return err
		}
		u, err = userByRef(tx, o, userRef)
		if err != nil {
			return err
		}
		if changed, err = op(tx, g.ID, u.ID); err != nil || !changed {
			return err
		}
		g.LastMembershipUpdated = d.now().UTC()
		return tx.UpdateGroup(g)
	})
	if err == nil && changed {
		d.auditWrite(ctx, nil, g.OrgID, eventType, userTarget(u), groupTarget(g))
	}
	return changed, storeErr(err)
}

// GroupMembers lists a group's members ordered by login.
func (d *Directory) GroupMembers(ctx context.Context, org, ref string) ([]*User, error) {
	var out []*User
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		g, err := groupByRef(r, o, ref)
		if err != nil {
			return err
		}
		ids, err := r.GroupMembers(g.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			u, err := r.User(id)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	sortUsers(out)
	return out, storeErr(err)
}

// groupNameTaken is the conflict of a name another group of the org has.
func groupNameTaken(name string) *Error {
	e := errf(CodeConflict, "a group named %s already exists in this org", name)
	e.Field = "profile.name"
	return e
}
