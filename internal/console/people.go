package console

import (
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// The People pages (the dashboard is in dashboard.go).

const peoplePage = 50

type statusCount struct {
	Status string
	N      int
}

var statuses = []string{directory.StatusActive, directory.StatusStaged, directory.StatusSuspended,
	directory.StatusLockedOut, directory.StatusPasswordExpired, directory.StatusDeprovisioned}

type peopleData struct {
	Q, Status string
	Statuses  []string
	Users     []*directory.User
	Next      string
	Form      personForm
}

func (s *Server) people(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderPeople(w, r, q, personForm{}, http.StatusOK)
}

func (s *Server) renderPeople(w http.ResponseWriter, r *http.Request, q *request, f personForm, status int) error {
	d := peopleData{Q: strings.TrimSpace(r.URL.Query().Get("q")), Status: r.URL.Query().Get("status"), Statuses: statuses, Form: f}
	// One read of the store a page, however few people match.
	users, next, err := s.dir.ListUsersWhere(q.ctx, q.p.Org.Name, r.URL.Query().Get("after"), peoplePage,
		directory.UserFilter{Q: d.Q, Status: d.Status})
	if err != nil {
		return err
	}
	d.Users, d.Next = users, next
	s.render(w, status, "people", s.view(q, "People", "people", d))
	return nil
}

type personData struct {
	User       *directory.User
	Groups     []*directory.Group
	Actions    []string
	Deletable  bool
	Form       personForm
	Factors    []factorRow
	Pending    bool // a factor waits for activation
	Enrollment *enrollment
	Source     string // the directory integration the user came from
}

type factorRow struct {
	Type, Status, Created string
}

func (s *Server) person(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderPerson(w, q, r.PathValue("id"), nil, nil, http.StatusOK)
}

// renderPerson shows a person; f, when set, is the profile form to show
// again with its errors; en a new enrolment's secret.
func (s *Server) renderPerson(w http.ResponseWriter, q *request, ref string, f *personForm, en *enrollment, status int) error {
	u, err := s.dir.User(q.ctx, q.p.Org.Name, ref)
	if err != nil {
		return err
	}
	gs, err := s.dir.UserGroups(q.ctx, q.p.Org.Name, u.ID)
	if err != nil {
		return err
	}
	fs, err := s.dir.Factors(q.ctx, q.p.Org.Name, u.ID)
	if err != nil {
		return err
	}
	p := &u.Profile
	d := personData{User: u, Groups: gs, Enrollment: en,
		Form: personForm{Login: p.Login, Email: p.Email, FirstName: p.FirstName, LastName: p.LastName, Title: p.Title, Department: p.Department}}
	if f != nil {
		d.Form = *f
	}
	src, err := s.dir.UserSource(q.ctx, u.ID)
	if err != nil {
		return err
	}
	if src != nil {
		d.Source = src.Name
		d.Form.Owned = map[string]string{}
		for _, a := range src.Owned {
			d.Form.Owned[a] = src.Name
		}
	}
	for _, fa := range fs {
		d.Factors = append(d.Factors, factorRow{Type: fa.Type, Status: fa.Status, Created: fa.Created.UTC().Format("2006-01-02 15:04 UTC")})
		d.Pending = d.Pending || fa.Status == store.FactorPendingActivation
	}
	for _, a := range directory.AllowedActions(u.Status) {
		if a == "delete" {
			d.Deletable = true
			continue
		}
		d.Actions = append(d.Actions, a)
	}
	s.render(w, status, "person", s.view(q, userTitle(u), "people", d))
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
