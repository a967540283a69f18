package directory

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// Writes over LDAP (Add, Modify, Delete and ModifyDN of users and groups)
// by the user a connection is bound as. They are off unless the org turns
// them on (Org.LDAP.Writes; Okta's LDAP interface is read-only), and take
// the rights the REST API's writes do (PermWrite: ORG_ADMIN or
// SUPER_ADMIN). They go through the same rules as every other write
// (validation, uniqueness, lifecycle, integrations' attributes) and the
// system log names the bound user as their actor. Roles are not granted
// over LDAP, and nobody changes or deletes a user holding a role its own
// roles do not cover.

// LDAPActor is the bound user an LDAP write acts as.
type LDAPActor struct {
	OrgID, UserID string
}

// GroupEdit is what an LDAP write may change of a group: its name, its
// description, its members (user ids) and the groups in it (group ids),
// in any order.
type GroupEdit struct {
	Name, Description string
	Members           []string
	Groups            []string
}

// ldapAdmin checks that a may write its org over LDAP now, and returns
// the org and the actor.
func ldapAdmin(r store.Reader, a LDAPActor) (*Org, *User, error) {
	o, err := r.Org(a.OrgID)
	if err != nil {
		return nil, nil, err
	}
	actor, err := r.User(a.UserID)
	if err != nil {
		return nil, nil, err
	}
	if actor.OrgID != o.ID {
		return nil, nil, store.ErrNotFound
	}
	if !o.LDAP.Writes {
		return nil, nil, errf(CodeForbidden, "writes over LDAP are off for org %s (an installation admin turns them on: dirgate org set --org %s --ldap-writes on)", o.Name, o.Name)
	}
	if actor.Status != StatusActive {
		return nil, nil, errf(CodeForbidden, "the bound user is %s", actor.Status)
	}
	if err := (&Principal{Org: o, User: actor}).Allow(PermWrite); err != nil {
		return nil, nil, err
	}
	return o, actor, nil
}

// ldapAdminCtx is ldapAdmin in a transaction of its own; the context it
// returns names the actor for the system log.
func (d *Directory) ldapAdminCtx(ctx context.Context, a LDAPActor) (context.Context, *Org, *User, error) {
	var o *Org
	var actor *User
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		o, actor, err = ldapAdmin(r, a)
		return err
	})
	if err != nil {
		return ctx, nil, nil, storeErr(err)
	}
	return WithActor(ctx, LogActor{ID: actor.ID, Type: "User", AlternateID: actor.Profile.Login, DisplayName: userDisplayName(actor)}), o, actor, nil
}

// mayManage refuses a change of target by actor when target holds a role
// actor's roles do not cover.
func mayManage(actor, target *User) error {
	if best(target.Roles) > best(actor.Roles) {
		return errf(CodeForbidden, "%s holds a role %s does not (%s): only a super admin changes that user",
			target.Profile.Login, actor.Profile.Login, orNone(target.Roles))
	}
	return nil
}

// actorMayManage refuses a change of target by the context's actor (an
// admin signed in to the API or the console) when target holds a role the
// actor's roles do not cover: an ORG_ADMIN does not change, reset or
// delete a SUPER_ADMIN, as in Okta. A user changing itself, the system
// (the CLI) and integrations are not limited here.
func actorMayManage(ctx context.Context, r store.Reader, target *User) error {
	a := actorOf(ctx)
	if a.Type != "User" || a.ID == "" || a.ID == target.ID || len(target.Roles) == 0 {
		return nil
	}
	actor, err := r.User(a.ID)
	if errors.Is(err, store.ErrNotFound) {
		return errf(CodeForbidden, "the acting user no longer exists")
	}
	if err != nil {
		return err
	}
	return mayManage(actor, target)
}

// CreateUserAs creates a user of a's org (an LDAP Add). The user gets no
// role; in.Password is checked by the password policy, in.PasswordHash
// (a userPassword given as a hash) is taken as an import's is.
func (d *Directory) CreateUserAs(ctx context.Context, a LDAPActor, in UserInput) (*User, error) {
	if len(in.Roles) > 0 || in.ServiceAccount {
		return nil, errf(CodeForbidden, "roles and service accounts are not created over LDAP; use the API, the console or the CLI")
	}
	ctx, o, _, err := d.ldapAdminCtx(ctx, a)
	if err != nil {
		return nil, err
	}
	if in.PasswordHash != "" {
		return d.createHashed(ctx, o, in)
	}
	return d.CreateUser(ctx, o.Name, in)
}

// createHashed creates a user whose password comes as a hash (which no
// policy can check), as an import does, but only as STAGED or ACTIVE.
func (d *Directory) createHashed(ctx context.Context, o *Org, in UserInput) (*User, error) {
	if in.Status != "" && in.Status != StatusActive && in.Status != StatusStaged {
		return nil, invalid("status", "a new user is STAGED or ACTIVE, not %q", in.Status)
	}
	var u *User
	err := d.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if u, err = d.newUser(o, in, nil); err != nil {
			return err
		}
		return createUser(tx, o, u)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditUser(ctx, nil, EventUserCreate, u)
	return u, nil
}

// ModifyUserAs lets edit change the profile of user userID (an LDAP Modify,
// or a ModifyDN that changes the login), in one transaction.
func (d *Directory) ModifyUserAs(ctx context.Context, a LDAPActor, userID string, edit func(p *Profile) error) (*User, error) {
	ctx, o, actor, err := d.ldapAdminCtx(ctx, a)
	if err != nil {
		return nil, err
	}
	return d.editProfile(ctx, o.Name, userID, func(_ store.Reader, _ *Org, u *User, p *Profile) error {
		if err := mayManage(actor, u); err != nil {
			return err
		}
		return edit(p)
	})
}

// DeleteUserAs deletes user userID (an LDAP Delete): a user not yet
// DEPROVISIONED is deactivated first, in the same transaction, so that an
// LDAP client sees the entry go at once, while the system log records
// both steps as Okta's would. Nobody deletes itself this way.
func (d *Directory) DeleteUserAs(ctx context.Context, a LDAPActor, userID string) error {
	ctx, o, actor, err := d.ldapAdminCtx(ctx, a)
	if err != nil {
		return err
	}
	if userID == actor.ID {
		return errf(CodeForbidden, "%s cannot delete itself", actor.Profile.Login)
	}
	var u *User
	deactivated := false
	err = d.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if u, err = userByRef(tx, o, userID); err != nil {
			return err
		}
		if err := mayManage(actor, u); err != nil {
			return err
		}
		d.wrote(u.ID)
		deactivated = u.Status != StatusDeprovisioned
		return tx.DeleteUser(u.ID)
	})
	if err != nil {
		return storeErr(err)
	}
	if deactivated {
		d.auditUser(ctx, nil, EventUserDeactivate, u)
	}
	d.auditUser(ctx, nil, EventUserDelete, u)
	return nil
}

// CreateGroupAs creates a group of a's org with the given members (user
// ids) and groups in it (group ids; an LDAP Add), in one transaction.
func (d *Directory) CreateGroupAs(ctx context.Context, a LDAPActor, in GroupInput, members, groups []string) (*Group, error) {
	if e := validateGroup(in); e != nil {
		return nil, e
	}
	ctx, o, _, err := d.ldapAdminCtx(ctx, a)
	if err != nil {
		return nil, err
	}
	var g *Group
	var added []*User
	var nested []*Group
	err = d.st.Update(ctx, func(tx store.Tx) error {
		g = d.newGroup(o, in)
		if err := createGroup(tx, o, g); err != nil {
			return err
		}
		if added, _, err = setMembers(tx, o, g, nil, members, g.Created); err != nil {
			return err
		}
		nested, _, err = setChildGroups(tx, o, g, nil, groups, g.Created)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditWrite(ctx, nil, g.OrgID, EventGroupCreate, groupTarget(g))
	d.auditMembers(ctx, g, added, nil)
	d.auditNested(ctx, g, nested, nil)
	return g, nil
}

// ModifyGroupAs lets edit change group groupID (an LDAP Modify or
// ModifyDN), in one transaction: the name and description, and the
// members, whose difference from before is applied.
func (d *Directory) ModifyGroupAs(ctx context.Context, a LDAPActor, groupID string, edit func(e *GroupEdit) error) (*Group, error) {
	ctx, o, _, err := d.ldapAdminCtx(ctx, a)
	if err != nil {
		return nil, err
	}
	var g *Group
	var added, removed []*User
	var nested, unnested []*Group
	var renamed bool
	err = d.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if g, err = groupByRef(tx, o, groupID); err != nil {
			return err
		}
		before, err := tx.GroupMembers(g.ID)
		if err != nil {
			return err
		}
		kids, err := tx.ChildGroups(g.ID)
		if err != nil {
			return err
		}
		e := GroupEdit{Name: g.Name, Description: g.Description, Members: slices.Clone(before), Groups: slices.Clone(kids)}
		if err := edit(&e); err != nil {
			return err
		}
		in := GroupInput{Name: e.Name, Description: e.Description}
		if v := validateGroup(in); v != nil {
			return v
		}
		now := d.now().UTC()
		renamed = in.Name != g.Name || in.Description != g.Description
		if renamed {
			g.Name, g.NameKey, g.Description, g.LastUpdated = in.Name, foldKey(in.Name), in.Description, now
		}
		if added, removed, err = setMembers(tx, o, g, before, e.Members, now); err != nil {
			return err
		}
		if nested, unnested, err = setChildGroups(tx, o, g, kids, e.Groups, now); err != nil {
			return err
		}
		if !renamed && len(added)+len(removed)+len(nested)+len(unnested) == 0 {
			return nil
		}
		err = tx.UpdateGroup(g)
		if errors.Is(err, store.ErrConflict) {
			return groupNameTaken(g.Name)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	if renamed {
		d.auditWrite(ctx, nil, g.OrgID, EventGroupUpdate, groupTarget(g))
	}
	d.auditMembers(ctx, g, added, removed)
	d.auditNested(ctx, g, nested, unnested)
	return g, nil
}

// setChildGroups makes the groups in g (before) the groups of o listed in
// after, refusing a cycle, and returns the groups put in and taken out.
// It sets g.LastMembershipUpdated to now when they changed; the caller
// writes g.
func setChildGroups(tx store.Tx, o *Org, g *Group, before, after []string, now time.Time) (added, removed []*Group, err error) {
	in, out := diffIDs(before, after)
	for _, id := range in {
		c, err := groupByRef(tx, o, id)
		if err != nil {
			return nil, nil, err
		}
		if _, err := linkGroups(tx, g, c); err != nil {
			return nil, nil, err
		}
		added = append(added, c)
	}
	for _, id := range out {
		c, err := tx.Group(id)
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.RemoveGroupLink(g.ID, id); err != nil {
			return nil, nil, err
		}
		removed = append(removed, c)
	}
	if len(added)+len(removed) > 0 {
		g.LastMembershipUpdated = now
	}
	return added, removed, nil
}

// diffIDs returns the ids in after but not before, and in before but not
// after, each once, in their lists' order.
func diffIDs(before, after []string) (in, out []string) {
	had := make(map[string]bool, len(before))
	for _, id := range before {
		had[id] = true
	}
	want := make(map[string]bool, len(after))
	for _, id := range after {
		if !want[id] && !had[id] {
			in = append(in, id)
		}
		want[id] = true
	}
	for _, id := range before {
		if !want[id] {
			out = append(out, id)
		}
	}
	return in, out
}

// auditNested records committed changes of the groups in g.
func (d *Directory) auditNested(ctx context.Context, g *Group, added, removed []*Group) {
	for _, c := range added {
		d.auditWrite(ctx, nil, g.OrgID, EventGroupGroupAdd, groupTarget(c), groupTarget(g))
	}
	for _, c := range removed {
		d.auditWrite(ctx, nil, g.OrgID, EventGroupGroupRemove, groupTarget(c), groupTarget(g))
	}
}

// setMembers makes g's members (before) the users of o listed in after,
// adding and removing the difference, and returns the users added and
// removed. It sets g.LastMembershipUpdated to now when they changed; the
// caller writes g.
func setMembers(tx store.Tx, o *Org, g *Group, before, after []string, now time.Time) (added, removed []*User, err error) {
	in, out := diffIDs(before, after)
	for _, id := range in {
		u, err := tx.User(id)
		if errors.Is(err, store.ErrNotFound) || err == nil && u.OrgID != o.ID {
			return nil, nil, errf(CodeNotFound, "no user %s in org %s", id, o.Name)
		}
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.AddMember(g.ID, id); err != nil {
			return nil, nil, err
		}
		added = append(added, u)
	}
	for _, id := range out {
		u, err := tx.User(id)
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.RemoveMember(g.ID, id); err != nil {
			return nil, nil, err
		}
		removed = append(removed, u)
	}
	if len(added)+len(removed) > 0 {
		g.LastMembershipUpdated = now
	}
	return added, removed, nil
}

// auditMembers records committed membership changes of g.
func (d *Directory) auditMembers(ctx context.Context, g *Group, added, removed []*User) {
	for _, u := range added {
		d.auditWrite(ctx, nil, g.OrgID, EventGroupMembershipAdd, userTarget(u), groupTarget(g))
	}
	for _, u := range removed {
		d.auditWrite(ctx, nil, g.OrgID, EventGroupMembershipRemove, userTarget(u), groupTarget(g))
	}
}

// DeleteGroupAs deletes group groupID (an LDAP Delete); its members stay.
func (d *Directory) DeleteGroupAs(ctx context.Context, a LDAPActor, groupID string) error {
	ctx, o, _, err := d.ldapAdminCtx(ctx, a)
	if err != nil {
		return err
	}
	return d.DeleteGroup(ctx, o.Name, groupID)
}
