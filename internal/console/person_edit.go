package console

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// Creating and editing people, deleting them, and their TOTP factors.

func (s *Server) routesPersonEdit() {
	s.page("POST /console/people", directory.PermWrite, s.createPerson)
	s.page("POST /console/people/{id}/profile", directory.PermWrite, s.updatePerson)
	s.page("POST /console/people/{id}/delete", directory.PermWrite, s.deletePerson)
	s.page("POST /console/people/{id}/factors/enroll", directory.PermWrite, s.enrollFactor)
	s.page("POST /console/people/{id}/factors/activate", directory.PermWrite, s.activateFactor)
	s.page("POST /console/people/{id}/factors/reset", directory.PermWrite, s.resetFactors)
	s.page("POST /console/people/{id}/password/temp", directory.PermWrite, s.tempPassword)
}

// tempPassword resets a user's password to a temporary one, already
// expired (the recovery flow): the page shows it once, for the admin to
// hand over; the user signs in to the console with it and must choose a
// new password before anything else.
func (s *Server) tempPassword(w http.ResponseWriter, r *http.Request, q *request) error {
	u, temp, err := s.dir.ExpireWithTempPassword(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	q.ss.flash = "The temporary password of " + u.Profile.Login + " is " + temp + " (shown only now). Give it to them: " +
		"they sign in to this console with it and must choose a new password before anything else."
	http.Redirect(w, r, "/console/people/"+u.ID, http.StatusSeeOther)
	return nil
}

// personForm is the profile form's values and the message by each field.
type personForm struct {
	Login, Email, FirstName, LastName, Title, Department string
	Errors                                               map[string]string
	// Owned are the fields a directory integration keeps (read-only
	// here), with its name.
	Owned map[string]string
}

func personFormOf(r *http.Request) personForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return personForm{Login: v("login"), Email: v("email"), FirstName: v("firstName"), LastName: v("lastName"),
		Title: v("title"), Department: v("department")}
}

func (f personForm) set(p *directory.Profile) {
	p.Login, p.Email, p.FirstName, p.LastName, p.Title, p.Department = f.Login, f.Email, f.FirstName, f.LastName, f.Title, f.Department
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request, q *request) error {
	f := personFormOf(r)
	in := directory.UserInput{Password: []byte(r.PostFormValue("password"))}
	f.set(&in.Profile)
	if r.PostFormValue("activate") != "on" {
		in.Status = directory.StatusStaged
	}
	u, err := s.dir.CreateUser(q.ctx, q.p.Org.Name, in)
	clear(in.Password)
	if err != nil {
		if f.Errors, err = fieldErrors(err); err != nil {
			return err
		}
		return s.renderPeople(w, r, q, f, http.StatusBadRequest)
	}
	q.ss.flash = "Created " + u.Profile.Login + " (" + u.Status + ")."
	http.Redirect(w, r, "/console/people/"+u.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) updatePerson(w http.ResponseWriter, r *http.Request, q *request) error {
	u, err := s.dir.User(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := personFormOf(r)
	p := u.Profile // custom attributes and the fields the form lacks stay
	f.set(&p)
	if _, err := s.dir.UpdateProfile(q.ctx, q.p.Org.Name, u.ID, p); err != nil {
		if f.Errors, err = fieldErrors(err); err != nil {
			return err
		}
		return s.renderPerson(w, q, u.ID, &f, nil, http.StatusBadRequest)
	}
	q.ss.flash = "Saved the profile."
	http.Redirect(w, r, "/console/people/"+u.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) deletePerson(w http.ResponseWriter, r *http.Request, q *request) error {
	u, err := s.dir.User(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.dir.DeleteUser(q.ctx, q.p.Org.Name, u.ID); err != nil {
		return err
	}
	q.ss.flash = "Deleted " + u.Profile.Login + "."
	http.Redirect(w, r, "/console/people", http.StatusSeeOther)
	return nil
}

// enrollment is a new TOTP factor's secret, shown once on the page that
// answers the enrol form (never stored in the session).
type enrollment struct {
	Secret, URI string
	QR          template.URL // data: URI of the QR code PNG (ours, so trusted)
}

// enrollmentOf is what the page shows of a new enrolment.
func enrollmentOf(e *directory.Enrollment) (*enrollment, error) {
	png, err := e.QRPNG()
	if err != nil {
		return nil, err
	}
	return &enrollment{Secret: e.Secret, URI: e.URI, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}, nil
}

func (s *Server) enrollFactor(w http.ResponseWriter, r *http.Request, q *request) error {
	e, err := s.dir.EnrollTOTP(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	en, err := enrollmentOf(e)
	if err != nil {
		return err
	}
	return s.renderPerson(w, q, r.PathValue("id"), nil, en, http.StatusOK)
}

func (s *Server) activateFactor(w http.ResponseWriter, r *http.Request, q *request) error {
	if _, err := s.dir.ActivateTOTP(q.ctx, q.p.Org.Name, r.PathValue("id"), strings.TrimSpace(r.PostFormValue("code"))); err != nil {
		if directory.CodeOf(err) == directory.CodeInvalidCredentials {
			q.ss.flash = "That code did not verify; the factor is still waiting for activation. Try the next code."
			http.Redirect(w, r, "/console/people/"+r.PathValue("id"), http.StatusSeeOther)
			return nil
		}
		return err
	}
	q.ss.flash = "The TOTP factor is active."
	http.Redirect(w, r, "/console/people/"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

func (s *Server) resetFactors(w http.ResponseWriter, r *http.Request, q *request) error {
	n, err := s.dir.ResetFactors(q.ctx, q.p.Org.Name, r.PathValue("id"))
	if err != nil {
		return err
	}
	q.ss.flash = "Reset the factors."
	if n == 0 {
		q.ss.flash = "There were no factors to reset."
	}
	http.Redirect(w, r, "/console/people/"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}
