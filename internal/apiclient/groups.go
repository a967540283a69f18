package apiclient

import (
	"context"
)

// Groups: /api/v1/groups. A group reference (ref) is a group's id or name.

func groupsPath(ref string, more ...string) string {
	p := "/api/v1/groups"
	if ref != "" {
		p += "/" + seg(ref)
	}
	for _, m := range more {
		p += "/" + m
	}
	return p
}

type groupIn struct {
	Profile groupProfileIn `json:"profile"`
}

type groupProfileIn struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// CreateGroup creates a group (POST /api/v1/groups).
func (c *Client) CreateGroup(ctx context.Context, name, description string) (*Group, error) {
	var g Group
	if err := c.post(ctx, groupsPath(""), nil, groupIn{groupProfileIn{name, description}}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// Group returns a group (GET /api/v1/groups/{ref}).
func (c *Client) Group(ctx context.Context, ref string) (*Group, error) {
	var g Group
	if _, err := c.get(ctx, groupsPath(ref), nil, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// ListGroups returns every group that opts selects (nil: all), reading
// page after page (in id order, the API's).
func (c *Client) ListGroups(ctx context.Context, opts *ListOptions) ([]*Group, error) {
	return listAll[*Group](ctx, c, groupsPath(""), opts.values())
}

// UpdateGroup sets a group's name and description (PUT
// /api/v1/groups/{ref}).
func (c *Client) UpdateGroup(ctx context.Context, ref, name, description string) (*Group, error) {
	var g Group
	if err := c.put(ctx, groupsPath(ref), groupIn{groupProfileIn{name, description}}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// DeleteGroup deletes a group; its members stay (DELETE
// /api/v1/groups/{ref}).
func (c *Client) DeleteGroup(ctx context.Context, ref string) error {
	return c.del(ctx, groupsPath(ref))
}

// GroupMembers returns a group's members, reading page after page (GET
// /api/v1/groups/{ref}/users, in id order). pageSize 0 is the server's
// default page.
func (c *Client) GroupMembers(ctx context.Context, ref string, pageSize int) ([]*User, error) {
	return listAll[*User](ctx, c, groupsPath(ref, "users"), (&ListOptions{Limit: pageSize}).values())
}

// AddGroupMember puts a user in a group (PUT
// /api/v1/groups/{groupRef}/users/{userRef}). The answer (204) does not
// say whether the user was a member already.
func (c *Client) AddGroupMember(ctx context.Context, groupRef, userRef string) error {
	userRef, err := c.userRef(ctx, userRef)
	if err != nil {
		return err
	}
	return c.put(ctx, groupsPath(groupRef, "users", seg(userRef)), nil, nil)
}

// RemoveGroupMember takes a user out of a group (DELETE
// /api/v1/groups/{groupRef}/users/{userRef}). The answer (204) does not
// say whether the user was a member.
func (c *Client) RemoveGroupMember(ctx context.Context, groupRef, userRef string) error {
	userRef, err := c.userRef(ctx, userRef)
	if err != nil {
		return err
	}
	return c.del(ctx, groupsPath(groupRef, "users", seg(userRef)))
}

// Nested groups: /api/dirgate/v1/groups, dirgate's own (Okta's groups
// hold users only).

func nestedPath(ref string, more ...string) string {
	p := "/api/dirgate/v1/groups/" + seg(ref)
	for _, m := range more {
		p += "/" + m
	}
	return p
}

// ChildGroups lists the groups directly in a group, ordered by name (GET
// /api/dirgate/v1/groups/{ref}/groups).
func (c *Client) ChildGroups(ctx context.Context, ref string) ([]*Group, error) {
	var gs []*Group
	if _, err := c.get(ctx, nestedPath(ref, "groups"), nil, &gs); err != nil {
		return nil, err
	}
	return gs, nil
}

// ParentGroups lists the groups a group is directly in, ordered by name
// (GET /api/dirgate/v1/groups/{ref}/parents).
func (c *Client) ParentGroups(ctx context.Context, ref string) ([]*Group, error) {
	var gs []*Group
	if _, err := c.get(ctx, nestedPath(ref, "parents"), nil, &gs); err != nil {
		return nil, err
	}
	return gs, nil
}

// AddGroupToGroup puts group childRef in group parentRef (PUT
// /api/dirgate/v1/groups/{parentRef}/groups/{childRef}); a cycle, or a
// group in itself, is refused (directory.CodeInvalid). The answer (204)
// does not say whether it was in already.
func (c *Client) AddGroupToGroup(ctx context.Context, parentRef, childRef string) error {
	return c.put(ctx, nestedPath(parentRef, "groups", seg(childRef)), nil, nil)
}

// RemoveGroupFromGroup takes group childRef out of group parentRef
// (DELETE /api/dirgate/v1/groups/{parentRef}/groups/{childRef}). The
// answer (204) does not say whether it was in.
func (c *Client) RemoveGroupFromGroup(ctx context.Context, parentRef, childRef string) error {
	return c.del(ctx, nestedPath(parentRef, "groups", seg(childRef)))
}
