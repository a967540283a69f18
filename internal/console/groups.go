package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// Groups: list, create, edit, members (add by search, remove).

func (s *Server) routesGroups() {
	s.page("GET /console/groups", directory.PermRead, s.groups)
	s.page("POST /console/groups", directory.PermWrite, s.createGroup)
	s.page("GET /console/groups/{id}", directory.PermRead, s.group)
	s.page("POST /console/groups/{id}", directory.PermWrite, s.updateGroup)
	s.page("POST /console/groups/{id}/members", directory.PermWrite, s.addMember)
	s.page("POST /console/groups/{id}/members/{uid}/remove", directory.PermWrite, s.removeMember)
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
}

func (s *Server) group(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderGroup(w, q, r.PathValue("id"), nil, strings.TrimSpace(r.URL.Query().Get("find")), "", http.StatusOK)
}

// renderGroup shows a group; f, when set, is an edit form to show again
// with its errors, and find a search for people to add.
func (s *Server) renderGroup(w http.ResponseWriter, q *request, ref string, f *groupForm, find, addErr string, status int) error {
	g, ms, err := s.dir.GroupAndMembers(q.ctx, q.p.Org.Name, ref) // one read, however many members
	if err != nil {
		return err
	}
	d := groupData{Group: g, Members: ms, Form: groupForm{Name: g.Name, Description: g.Description}, Find: find, AddErr: addErr}
	if f != nil {
		d.Form = *f
	}
	if find != "" {
		found, _, err := s.dir.ListUsersWhere(q.ctx, q.p.Org.Name, "", 20, directory.UserFilter{Q: find})
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
		return s.renderGroup(w, q, r.PathValue("id"), &f, "", "", http.StatusBadRequest)
	}
	q.ss.flash = "Saved group " + g.Name + "."
	http.Redirect(w, r, "/console/groups/"+g.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, q *request) error {
	login := strings.TrimSpace(r.PostFormValue("login"))
	if login == "" {
		return s.renderGroup(w, q, r.PathValue("id"), nil, "", "Name the person to add (a login or id).", http.StatusBadRequest)
	}
	added, err := s.dir.AddMember(q.ctx, q.p.Org.Name, r.PathValue("id"), login)
	if directory.CodeOf(err) == directory.CodeNotFound {
		return s.renderGroup(w, q, r.PathValue("id"), nil, login, "No one with the login "+login+"; search below.", http.StatusBadRequest)
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
