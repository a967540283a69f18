package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// Groups: list, create, edit, members (add by search, remove), and the
// groups in a group (nested groups: add from the org's groups, remove).

func (s *Server) routesGroups() {
	s.page("GET /console/groups", directory.PermRead, s.groups)
	s.page("POST /console/groups", directory.PermWrite, s.createGroup)
	s.page("GET /console/groups/{id}", directory.PermRead, s.group)
	s.page("POST /console/groups/{id}", directory.PermWrite, s.updateGroup)
	s.page("POST /console/groups/{id}/members", directory.PermWrite, s.addMember)
	s.page("POST /console/groups/{id}/members/{uid}/remove", directory.PermWrite, s.removeMember)
	s.page("POST /console/groups/{id}/groups", directory.PermWrite, s.addChildGroup)
	s.page("POST /console/groups/{id}/groups/{cid}/remove", directory.PermWrite, s.removeChildGroup)
	s.page("POST /console/groups/{id}/delete", directory.PermWrite, s.deleteGroup)
}

// groupForm is a group form's values and the message by each field.
type groupForm struct {
	Name, Description string
	Errors            map[string]string // by field: "name", "description", "" (the form)
}

type groupsData struct {
	Q      string
	Groups []*directory.Group
	Form   groupForm
}

func (s *Server) groups(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderGroups(w, q, r.URL.Query().Get("q"), groupForm{}, http.StatusOK)
}

func (s *Server) renderGroups(w http.ResponseWriter, q *request, query string, f groupForm, status int) error {
	gs, err := s.dir.Groups(q.ctx, q.p.Org.Name)
	if err != nil {
		return err
	}
	d := groupsData{Q: strings.TrimSpace(query), Form: f}
	for _, g := range gs {
		if d.Q == "" || directory.HasPrefixFold(g.Name, d.Q) {
			d.Groups = append(d.Groups, g)
		}
	}
	s.render(w, status, "groups", s.view(q, "Groups", "groups", d))
	return nil
}

// fieldErrors puts a validation error by its field, or returns err when
// it is not one.
func fieldErrors(err error) (map[string]string, error) {
	var de *directory.Error
	if !errors.As(err, &de) || (de.Code != directory.CodeInvalid && de.Code != directory.CodeConflict) {
		return nil, err
	}
	field := strings.TrimPrefix(de.Field, "profile.")
	return map[string]string{field: de.Message}, nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	f := groupForm{Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description"))}
	g, err := s.dir.CreateGroup(q.ctx, q.p.Org.Name, directory.GroupInput{Name: f.Name, Description: f.Description})
	if err != nil {
		if f.Errors, err = fieldErrors(err); err != nil {
			return err
		}
		return s.renderGroups(w, q, "", f, http.StatusBadRequest)
	}
	q.ss.flash = "Created group " + g.Name + "."
	http.Redirect(w, r, "/console/groups/"+g.ID, http.StatusSeeOther)
	return nil
}

type groupData struct {
	Group   *directory.Group
	Members []*directory.User
	Form    groupForm
	Find    string
	Found   []*directory.User
	AddErr  string
	// Children are the groups directly in the group, Parents the groups it
	// is directly in; Addable the org's other groups, not in it yet, for
	// the form that adds one (admins who may write only).
	Children, Parents, Addable []*directory.Group
	// Child is the group the add-a-group form asked for, GroupErr why it
	// was refused.
	Child, GroupErr string
}

// groupPage is what a group's page shows besides the group: a form to
// show again with its errors.
type groupPage struct {
	form     *groupForm // the edit form; nil: the group's values
	find     string     // a search for people to add
	addErr   string     // why a person was not added
	child    string     // the group the add-a-group form asked for
	groupErr string     // why it was not added
}

func (s *Server) group(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderGroup(w, q, r.PathValue("id"), groupPage{find: strings.TrimSpace(r.URL.Query().Get("find"))}, http.StatusOK)
}

// renderGroup shows a group with what x holds.
func (s *Server) renderGroup(w http.ResponseWriter, q *request, ref string, x groupPage, status int) error {
	g, ms, err := s.dir.GroupAndMembers(q.ctx, q.p.Org.Name, ref) // one read, however many members
	if err != nil {
		return err
	}
	d := groupData{Group: g, Members: ms, Form: groupForm{Name: g.Name, Description: g.Description}, Find: x.find, AddErr: x.addErr,
		Child: x.child, GroupErr: x.groupErr}
	if x.form != nil {
		d.Form = *x.form
	}
	if d.Children, err = s.dir.ChildGroups(q.ctx, q.p.Org.Name, g.ID); err != nil {
		return err
	}
	if d.Parents, err = s.dir.ParentGroups(q.ctx, q.p.Org.Name, g.ID); err != nil {
		return err
	}
	if q.p.Allow(directory.PermWrite) == nil {
		all, err := s.dir.Groups(q.ctx, q.p.Org.Name)
		if err != nil {
			return err
		}
		in := map[string]bool{g.ID: true}
		for _, c := range d.Children {
			in[c.ID] = true
		}
		for _, o := range all {
			if !in[o.ID] {
				d.Addable = append(d.Addable, o)
			}
		}
	}
	if x.find != "" {
		found, _, err := s.dir.ListUsersWhere(q.ctx, q.p.Org.Name, "", 20, directory.UserFilter{Q: x.find})
		if err != nil {
			return err
		}
		d.Found = found
	}
	s.render(w, status, "group", s.view(q, g.Name, "groups", d))
	return nil
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	f := groupForm{Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description"))}
	g, err := s.dir.UpdateGroup(q.ctx, q.p.Org.Name, r.PathValue("id"), directory.GroupInput{Name: f.Name, Description: f.Description})
	if err != nil {
		if f.Errors, err = fieldErrors(err); err != nil {
			return err
		}
		return s.renderGroup(w, q, r.PathValue("id"), groupPage{form: &f}, http.StatusBadRequest)
	}
	q.ss.flash = "Saved group " + g.Name + "."
	http.Redirect(w, r, "/console/groups/"+g.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, q *request) error {
	login := strings.TrimSpace(r.PostFormValue("login"))
	if login == "" {
		return s.renderGroup(w, q, r.PathValue("id"), groupPage{addErr: "Name the person to add (a login or id)."}, http.StatusBadRequest)
	}
	added, err := s.dir.AddMember(q.ctx, q.p.Org.Name, r.PathValue("id"), login)
	if directory.CodeOf(err) == directory.CodeNotFound {
		return s.renderGroup(w, q, r.PathValue("id"), groupPage{find: login, addErr: "No one with the login " + login + "; search below."}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	q.ss.flash = login + " was already a member."
	if added {
		q.ss.flash = "Added " + login + "."
	}
	http.Redirect(w, r, "/console/groups/"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, q *request) error {
	if _, err := s.dir.RemoveMember(q.ctx, q.p.Org.Name, r.PathValue("id"), r.PathValue("uid")); err != nil {
		return err
	}
	q.ss.flash = "Removed from the group."
	http.Redirect(w, r, "/console/groups/"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

// addChildGroup puts the group the form names (its id or name) in the
// page's group; a cycle, or the group itself, is refused next to the
// form.
func (s *Server) addChildGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	id := r.PathValue("id")
	ref := strings.TrimSpace(r.PostFormValue("group"))
	if ref == "" {
		return s.renderGroup(w, q, id, groupPage{groupErr: "Choose the group to add."}, http.StatusBadRequest)
	}
	// The page's group first: an unknown one is the page's 404, not the
	// form's error.
	g, err := s.dir.Group(q.ctx, q.p.Org.Name, id)
	if err != nil {
		return err
	}
	child, err := s.dir.Group(q.ctx, q.p.Org.Name, ref)
	if directory.CodeOf(err) == directory.CodeNotFound {
		return s.renderGroup(w, q, g.ID, groupPage{child: ref, groupErr: "No group named " + ref + "."}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	added, err := s.dir.AddGroupToGroup(q.ctx, q.p.Org.Name, g.ID, child.ID)
	if directory.CodeOf(err) == directory.CodeInvalid {
		var de *directory.Error
		errors.As(err, &de)
		return s.renderGroup(w, q, g.ID, groupPage{child: child.ID, groupErr: de.Message}, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	q.ss.flash = "Group " + child.Name + " was already in this group."
	if added {
		q.ss.flash = "Added group " + child.Name + "."
	}
	http.Redirect(w, r, "/console/groups/"+g.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) removeChildGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	child, err := s.dir.Group(q.ctx, q.p.Org.Name, r.PathValue("cid"))
	if err != nil {
		return err
	}
	if _, err := s.dir.RemoveGroupFromGroup(q.ctx, q.p.Org.Name, r.PathValue("id"), child.ID); err != nil {
		return err
	}
	q.ss.flash = "Removed group " + child.Name + " from this group."
	http.Redirect(w, r, "/console/groups/"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	g, err := s.dir.Group(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.dir.DeleteGroup(q.ctx, q.p.Org.Name, g.ID); err != nil {
		return err
	}
	q.ss.flash = "Deleted group " + g.Name + " (its members stay)."
	http.Redirect(w, r, "/console/groups", http.StatusSeeOther)
	return nil
}
