package console

import (
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// The dashboard and the People pages.

const peoplePage = 50

type dashboardData struct {
	Counts []statusCount
	Total  int
	Groups int
	Events []eventRow
}

type statusCount struct {
	Status string
	N      int
}

type eventRow struct {
	Published, Type, Actor, Target, Outcome string
}

var statuses = []string{directory.StatusActive, directory.StatusStaged, directory.StatusSuspended,
	directory.StatusLockedOut, directory.StatusPasswordExpired, directory.StatusDeprovisioned}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, q *request) error {
	counts, err := s.dir.UserCounts(q.ctx, q.p.Org.Name)
	if err != nil {
		return err
	}
	d := dashboardData{}
	for _, st := range statuses {
		d.Counts = append(d.Counts, statusCount{st, counts[st]})
		d.Total += counts[st]
	}
	gs, err := s.dir.Groups(q.ctx, q.p.Org.Name)
	if err != nil {
		return err
	}
	d.Groups = len(gs)
	s.render(w, http.StatusOK, "dashboard", s.view(q, "Dashboard", "dashboard", d))
	return nil
}

type peopleData struct {
	Q, Status string
	Statuses  []string
	Users     []*directory.User
	Next      string
}

func (s *Server) people(w http.ResponseWriter, r *http.Request, q *request) error {
	d := peopleData{Q: strings.TrimSpace(r.URL.Query().Get("q")), Status: r.URL.Query().Get("status"), Statuses: statuses}
	match := func(u *directory.User) bool {
		return (d.Q == "" || directory.UserMatchesQ(u, d.Q)) && (d.Status == "" || u.Status == d.Status)
	}
	users, next, err := s.dir.ListUsers(q.ctx, q.p.Org.Name, r.URL.Query().Get("after"), peoplePage, match)
	if err != nil {
		return err
	}
	d.Users, d.Next = users, next
	s.render(w, http.StatusOK, "people", s.view(q, "People", "people", d))
	return nil
}

type personData struct {
	User    *directory.User
	Groups  []*directory.Group
	Actions []string
}

func (s *Server) person(w http.ResponseWriter, r *http.Request, q *request) error {
	u, err := s.dir.User(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	gs, err := s.dir.UserGroups(q.ctx, q.p.Org.Name, u.ID)
	if err != nil {
		return err
	}
	d := personData{User: u, Groups: gs}
	for _, a := range directory.AllowedActions(u.Status) {
		if a != "delete" {
			d.Actions = append(d.Actions, a)
		}
	}
	s.render(w, http.StatusOK, "person", s.view(q, userTitle(u), "people", d))
	return nil
}

func userTitle(u *directory.User) string {
	if n := strings.TrimSpace(u.Profile.FirstName + " " + u.Profile.LastName); n != "" {
		return n
	}
	return u.Profile.Login
}

func (s *Server) personLifecycle(w http.ResponseWriter, r *http.Request, q *request) error {
	a, e := directory.ParseAction(r.PathValue("action"))
	if e != nil {
		return e
	}
	u, err := s.dir.Lifecycle(q.ctx, q.p.Org.Name, r.PathValue("id"), a)
	if err != nil {
		return err
	}
	q.ss.flash = userTitle(u) + " is now " + u.Status + "."
	http.Redirect(w, r, "/console/people/"+u.ID, http.StatusSeeOther)
	return nil
}
