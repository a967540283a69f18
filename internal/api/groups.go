package api

import (
	"net/http"

	"github.com/dirgate/dirgate/internal/directory"
)

// Groups: /api/v1/groups and their members.

const (
	groupsDefaultLimit  = 10000
	groupsMaxLimit      = 10000
	membersDefaultLimit = 1000
	membersMaxLimit     = 10000
)

// groupJSON is Okta's Group (always an OKTA_GROUP).
type groupJSON struct {
	ID                    string         `json:"id"`
	Created               jsonTime       `json:"created"`
	LastUpdated           jsonTime       `json:"lastUpdated"`
	LastMembershipUpdated jsonTime       `json:"lastMembershipUpdated"`
	ObjectClass           []string       `json:"objectClass"`
	Type                  string         `json:"type"`
	Profile               groupProfile   `json:"profile"`
	Links                 map[string]any `json:"_links"`
}

type groupProfile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Server) groupOut(r *http.Request, g *directory.Group) *groupJSON {
	self := s.base(r) + "/api/v1/groups/" + g.ID
	return &groupJSON{ID: g.ID, Created: jsonTime(g.Created), LastUpdated: jsonTime(g.LastUpdated),
		LastMembershipUpdated: jsonTime(g.LastMembershipUpdated),
		ObjectClass:           []string{"okta:user_group"}, Type: "OKTA_GROUP",
		Profile: groupProfile{Name: g.Name, Description: g.Description},
		Links:   map[string]any{"self": link(self), "users": link(self + "/users")}}
}

type groupIn struct {
	Profile *struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	} `json:"profile"`
}

func (s *Server) decodeGroup(r *http.Request) (directory.GroupInput, error) {
	var in groupIn
	if err := s.decode(r, &in); err != nil {
		return directory.GroupInput{}, err
	}
	if in.Profile == nil || in.Profile.Name == nil {
		return directory.GroupInput{}, validation("profile.name", "a group needs profile.name")
	}
	gi := directory.GroupInput{Name: *in.Profile.Name}
	if in.Profile.Description != nil {
		gi.Description = *in.Profile.Description
	}
	return gi, nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	gi, err := s.decodeGroup(r)
	if err != nil {
		return err
	}
	g, err := s.dir.CreateGroup(c.ctx, c.org, gi)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.groupOut(r, g))
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	g, err := s.dir.Group(c.ctx, c.org, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.groupOut(r, g))
	return nil
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	gi, err := s.decodeGroup(r)
	if err != nil {
		return err
	}
	g, err := s.dir.UpdateGroup(c.ctx, c.org, r.PathValue("id"), gi)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.groupOut(r, g))
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.dir.DeleteGroup(c.ctx, c.org, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := limitParam(r, groupsDefaultLimit, groupsMaxLimit)
	if err != nil {
		return err
	}
	match, err := s.groupMatcher(r)
	if err != nil {
		return err
	}
	gs, next, err := s.dir.ListGroups(c.ctx, c.org, r.URL.Query().Get("after"), limit, match)
	if err != nil {
		return err
	}
	writeList(s, w, r, gs, func(g *directory.Group) *groupJSON { return s.groupOut(r, g) }, true, next)
	return nil
}

func (s *Server) groupMembers(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := limitParam(r, membersDefaultLimit, membersMaxLimit)
	if err != nil {
		return err
	}
	us, next, err := s.dir.ListGroupMembers(c.ctx, c.org, r.PathValue("id"), r.URL.Query().Get("after"), limit)
	if err != nil {
		return err
	}
	writeList(s, w, r, us, func(u *directory.User) *userJSON { return s.userOut(r, u) }, true, next)
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.dir.AddMember(c.ctx, c.org, r.PathValue("id"), r.PathValue("uid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.dir.RemoveMember(c.ctx, c.org, r.PathValue("id"), r.PathValue("uid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- nested groups: /api/dirgate/v1/groups/{id}/groups and /parents,
// dirgate's own (Okta's groups hold users only). The groups come in the
// shape of GET /api/v1/groups/{id}, ordered by name, in one answer.

// childGroups lists the groups directly in a group.
func (s *Server) childGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	gs, err := s.dir.ChildGroups(c.ctx, c.org, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeList(s, w, r, gs, func(g *directory.Group) *groupJSON { return s.groupOut(r, g) }, false, "")
	return nil
}

// parentGroups lists the groups a group is directly in.
func (s *Server) parentGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	gs, err := s.dir.ParentGroups(c.ctx, c.org, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeList(s, w, r, gs, func(g *directory.Group) *groupJSON { return s.groupOut(r, g) }, false, "")
	return nil
}

// addChildGroup puts group childId in group id; like Okta's PUT of a
// member it answers 204 whether or not the group was in already. A cycle
// (or the group itself) is refused with 400 E0000001.
func (s *Server) addChildGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.dir.AddGroupToGroup(c.ctx, c.org, r.PathValue("id"), r.PathValue("childId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeChildGroup takes group childId out of group id (204 whether or
// not it was in).
func (s *Server) removeChildGroup(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.dir.RemoveGroupFromGroup(c.ctx, c.org, r.PathValue("id"), r.PathValue("childId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
