package console

import (
	"net/http"
	"slices"

	"github.com/dirgate/dirgate/internal/directory"
)

// Admin roles: who holds which, and assigning them (SUPER_ADMIN only: the
// directory's PermSecurity).

func (s *Server) routesRoles() {
	s.page("GET /console/roles", directory.PermRead, s.roles)
	s.page("POST /console/people/{id}/roles", directory.PermSecurity, s.assignRole)
	s.page("POST /console/people/{id}/roles/{role}/remove", directory.PermSecurity, s.removeRole)
}

type roleHolders struct {
	Role  string
	Users []*directory.User
}

func (s *Server) roles(w http.ResponseWriter, r *http.Request, q *request) error {
	var admins []*directory.User
	after := ""
	for { // every admin: the walk is one read transaction per page of the org's users
		page, next, err := s.dir.ListUsers(q.ctx, q.p.Org.Name, after, 1000, func(u *directory.User) bool { return len(u.Roles) > 0 })
		if err != nil {
			return err
		}
		admins = append(admins, page...)
		if next == "" {
			break
		}
		after = next
	}
	var d []roleHolders
	for _, role := range directory.Roles {
		h := roleHolders{Role: role}
		for _, u := range admins {
			if slices.Contains(u.Roles, role) {
				h.Users = append(h.Users, u)
			}
		}
		d = append(d, h)
	}
	s.render(w, http.StatusOK, "roles", s.view(q, "Admin roles", "roles", d))
	return nil
}

func (s *Server) assignRole(w http.ResponseWriter, r *http.Request, q *request) error {
	u, err := s.dir.AssignRole(q.ctx, q.p.Org.Name, r.PathValue("id"), r.PostFormValue("role"))
	if err != nil {
		return err
	}
	q.ss.flash = u.Profile.Login + " now holds " + r.PostFormValue("role") + "."
	http.Redirect(w, r, "/console/people/"+u.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) removeRole(w http.ResponseWriter, r *http.Request, q *request) error {
	u, err := s.dir.RemoveRole(q.ctx, q.p.Org.Name, r.PathValue("id"), r.PathValue("role"))
	if err != nil {
		return err
	}
	q.ss.flash = "Took " + r.PathValue("role") + " from " + u.Profile.Login + "."
	http.Redirect(w, r, "/console/people/"+u.ID, http.StatusSeeOther)
	return nil
}
