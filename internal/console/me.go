package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// Self-service, for every user: their profile (the attributes the org
// lets them edit), their password, their factors, and the push sign-ins
// waiting for their approval. Everything acts on the session's own user,
// never on a user named in the request.

const (
	mePath       = "/console/me"
	passwordPath = "/console/me/password"
	pushPath     = "/console/me/push"
)

func (s *Server) routesMe() {
	s.page("GET "+mePath, permSelf, s.me)
	s.page("POST "+mePath+"/profile", permSelf, s.meProfile)
	s.page("GET "+passwordPath, permSelf, s.mePasswordPage)
	s.page("POST "+passwordPath, permSelf, s.mePassword)
	s.page("POST "+mePath+"/totp/enroll", permSelf, s.meEnroll)
	s.page("POST "+mePath+"/totp/activate", permSelf, s.meActivate)
	s.page("POST "+mePath+"/factors/{id}/reset", permSelf, s.meResetFactor)
	s.page("POST "+mePath+"/push/enable", permSelf, s.mePushOn)
	s.page("GET "+pushPath, permSelf, s.mePushPage)
	s.page("POST "+pushPath+"/{id}/{answer}", permSelf, s.mePushAnswer)
}

// profileLabels names the base attributes as the form shows them.
var profileLabels = map[string]string{
	"login": "Login", "email": "Email", "firstName": "First name", "lastName": "Last name",
	"displayName": "Display name", "nickName": "Nickname", "title": "Title", "department": "Department",
	"organization": "Organization", "mobilePhone": "Mobile phone", "primaryPhone": "Primary phone",
}

var profileAutocomplete = map[string]string{
	"email": "email", "firstName": "given-name", "lastName": "family-name", "displayName": "name",
	"nickName": "nickname", "title": "organization-title", "organization": "organization",
	"mobilePhone": "tel", "primaryPhone": "tel",
}

// meField is one profile attribute on the self-service page.
type meField struct {
	Name, Label, Value, Error, Auto string
	Editable                        bool
	Owner                           string // the integration that keeps it
}

type meData struct {
	Account    *directory.Account
	Fields     []meField
	CanEdit    bool
	Enrollment *enrollment
	TOTP       *store.Factor // the user's TOTP factor, if any
	Push       *store.Factor // the user's push factor, if any
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderMe(w, q, nil, nil, http.StatusOK)
}

func (s *Server) renderMe(w http.ResponseWriter, q *request, form map[string]string, en *enrollment, status int) error {
	a, err := s.dir.Account(q.ctx, q.p.Org.ID, q.p.User.ID)
	if err != nil {
		return err
	}
	d := meData{Account: a, Enrollment: en}
	names := append(slices.Clone(directory.BaseProfileAttributes), a.Org.CustomAttributes...)
	for _, n := range names {
		v, _ := directory.ProfileValue(&a.User.Profile, n)
		f := meField{Name: n, Label: profileLabels[n], Value: v, Auto: profileAutocomplete[n],
			Editable: slices.Contains(a.Editable, n)}
		if a.Source != nil && slices.Contains(a.Source.Owned, n) {
			f.Owner = a.Source.Name
		}
		if f.Label == "" {
			f.Label = n
		}
		if f.Auto == "" {
			f.Auto = "off"
		}
		if form != nil && f.Editable {
			f.Value, f.Error = form[n], form["error:"+n]
		}
		d.CanEdit = d.CanEdit || f.Editable
		d.Fields = append(d.Fields, f)
	}
	for _, f := range a.Factors {
		switch f.Type {
		case store.FactorTOTP:
			d.TOTP = f
		case store.FactorPush:
			d.Push = f
		}
	}
	s.render(w, status, "me", s.view(q, "My account", "me", d))
	return nil
}

func (s *Server) meProfile(w http.ResponseWriter, r *http.Request, q *request) error {
	o := q.p.Org
	set := map[string]string{}
	form := map[string]string{}
	for _, n := range directory.SelfServiceAttributesOf(o) {
		if _, ok := r.PostForm[n]; ok {
			set[n] = strings.TrimSpace(r.PostFormValue(n))
		}
		form[n] = set[n]
	}
	if len(set) == 0 {
		q.ss.flash = "Nothing to save."
		http.Redirect(w, r, mePath, http.StatusSeeOther)
		return nil
	}
	if _, err := s.dir.UpdateOwnProfile(q.ctx, o.ID, q.p.User.ID, set); err != nil {
		errs, err := fieldErrors(err)
		if err != nil {
			return err
		}
		for k, v := range errs {
			form["error:"+k] = v
		}
		return s.renderMe(w, q, form, nil, http.StatusBadRequest)
	}
	q.ss.flash = "Saved your profile."
	http.Redirect(w, r, mePath, http.StatusSeeOther)
	return nil
}

type passwordData struct {
	Rules    []string
	Errors   map[string]string
	Required bool // the password expired: nothing else until it changes
}

func (s *Server) mePasswordPage(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.renderPassword(w, q, nil, http.StatusOK)
}

func (s *Server) renderPassword(w http.ResponseWriter, q *request, errs map[string]string, status int) error {
	a, err := s.dir.Account(q.ctx, q.p.Org.ID, q.p.User.ID)
	if err != nil {
		return err
	}
	d := passwordData{Errors: errs, Required: q.ss.mustChange.Load()}
	for _, req := range a.PasswordRules {
		d.Rules = append(d.Rules, req.Text)
	}
	s.render(w, status, "password", s.view(q, "Change password", "me", d))
	return nil
}

func (s *Server) mePassword(w http.ResponseWriter, r *http.Request, q *request) error {
	old, pw := []byte(r.PostFormValue("oldPassword")), []byte(r.PostFormValue("password"))
	defer clear(old)
	defer clear(pw)
	if r.PostFormValue("password") != r.PostFormValue("confirm") {
		return s.renderPassword(w, q, map[string]string{"confirm": "The two new passwords are not the same."}, http.StatusBadRequest)
	}
	_, err := s.dir.ChangePassword(q.ctx, q.p.Org.Name, q.p.User.ID, old, pw)
	if err != nil {
		var de *directory.Error
		switch {
		case errors.As(err, &de) && de.Code == directory.CodeInvalidCredentials:
			return s.renderPassword(w, q, map[string]string{"oldPassword": "That is not your current password."}, http.StatusBadRequest)
		case errors.As(err, &de) && de.Code == directory.CodeInvalid:
			return s.renderPassword(w, q, map[string]string{"password": de.Message}, http.StatusBadRequest)
		}
		return err
	}
	q.ss.mustChange.Store(false)
	q.ss.flash = "Your password is changed. Use the new one everywhere you sign in, LDAP included."
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
	return nil
}

func (s *Server) meEnroll(w http.ResponseWriter, r *http.Request, q *request) error {
	e, err := s.dir.EnrollTOTP(q.ctx, q.p.Org.Name, q.p.User.ID)
	if err != nil {
		return err
	}
	en, err := enrollmentOf(e)
	if err != nil {
		return err
	}
	return s.renderMe(w, q, nil, en, http.StatusOK)
}

func (s *Server) meActivate(w http.ResponseWriter, r *http.Request, q *request) error {
	_, err := s.dir.ActivateTOTP(q.ctx, q.p.Org.Name, q.p.User.ID, strings.TrimSpace(r.PostFormValue("code")))
	switch {
	case directory.CodeOf(err) == directory.CodeInvalidCredentials:
		q.ss.flash = "That code did not verify; your authenticator is still waiting for activation. Try the next code."
	case err != nil:
		return err
	default:
		q.ss.flash = "Your authenticator app is set up: sign-ins that ask for a code take its code."
	}
	http.Redirect(w, r, mePath, http.StatusSeeOther)
	return nil
}

func (s *Server) meResetFactor(w http.ResponseWriter, r *http.Request, q *request) error {
	if err := s.dir.DeleteFactor(q.ctx, q.p.Org.Name, q.p.User.ID, r.PathValue("id")); err != nil {
		return err
	}
	q.ss.flash = "Removed the factor."
	http.Redirect(w, r, mePath, http.StatusSeeOther)
	return nil
}

func (s *Server) mePushOn(w http.ResponseWriter, r *http.Request, q *request) error {
	if _, err := s.dir.EnrollPush(q.ctx, q.p.Org.Name, q.p.User.ID); err != nil {
		return err
	}
	q.ss.flash = "Push sign-ins are on: sign in with your password followed by " + string(directory.MFASeparatorOf(q.p.Org)) + "push, and approve the request here."
	http.Redirect(w, r, mePath, http.StatusSeeOther)
	return nil
}

// pushView is a waiting push sign-in as the page shows it. Via is the
// application signed in to (dirgate's LDAP Interface, or this console);
// App, when known, the account the LDAP client was bound as on the same
// connection before (PostgreSQL's search+bind opens a new connection for
// the user's bind, so there it is not known).
type pushView struct {
	ID, IP, Via, App string
	TLS              bool
	Created          time.Time
	Left             int // seconds until it times out
}

type pushData struct {
	Pushes  []pushView
	HasPush bool
}

func viaOf(protocol string) string {
	switch protocol {
	case "ldap":
		return "LDAP Interface"
	case "console":
		return "dirgate console"
	}
	return strings.ToUpper(protocol)
}

func (s *Server) pushes(q *request) []pushView {
	now := s.now()
	var out []pushView
	for _, p := range s.dir.PendingPushes(q.p.Org.ID, q.p.User.ID) {
		out = append(out, pushView{ID: p.ID, IP: p.Client.IP, Via: viaOf(p.Client.Protocol), App: p.Client.App,
			TLS: p.Client.TLS, Created: p.Created, Left: max(0, int(p.Expires.Sub(now).Seconds()))})
	}
	return out
}

// mePushPage lists the push sign-ins waiting for the user; with
// ?partial=1 only the list, which the page's script fetches every few
// seconds to stay current.
func (s *Server) mePushPage(w http.ResponseWriter, r *http.Request, q *request) error {
	a, err := s.dir.Account(q.ctx, q.p.Org.ID, q.p.User.ID)
	if err != nil {
		return err
	}
	d := pushData{Pushes: s.pushes(q), HasPush: slices.ContainsFunc(a.Factors, func(f *store.Factor) bool { return f.Type == store.FactorPush })}
	v := s.view(q, "Sign-in requests", "push", d)
	if r.URL.Query().Get("partial") == "1" {
		var b strings.Builder
		if err := s.pages["push"].ExecuteTemplate(&b, "pushlist", v); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err := w.Write([]byte(b.String()))
		return err
	}
	s.render(w, http.StatusOK, "push", v)
	return nil
}

func (s *Server) mePushAnswer(w http.ResponseWriter, r *http.Request, q *request) error {
	approve := false
	switch r.PathValue("answer") {
	case "approve":
		approve = true
	case "deny":
	default:
		return &directory.Error{Code: directory.CodeNotFound, Message: "a sign-in request is approved or denied"}
	}
	err := s.dir.AnswerPush(q.ctx, q.p.Org.ID, q.p.User.ID, r.PathValue("id"), approve)
	switch {
	case directory.CodeOf(err) == directory.CodeNotFound:
		q.ss.flash = "That sign-in request is no longer waiting: it was answered or timed out."
	case err != nil:
		return err
	case approve:
		q.ss.flash = "Approved: the sign-in goes on."
	default:
		q.ss.flash = "Denied: the sign-in is refused. If it was not you, change your password."
	}
	http.Redirect(w, r, pushPath, http.StatusSeeOther)
	return nil
}
