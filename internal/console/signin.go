package console

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// Before a session exists the sign-in form is protected by a CSRF token
// in a cookie of its own, which the form echoes (double submit).
const preCookie = "dirgate_console_signin"

type signInData struct {
	Org, Login string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	if s.sess.get(r) != nil {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	s.renderSignIn(w, http.StatusOK, signInData{Org: r.URL.Query().Get("org")}, "")
}

func (s *Server) renderSignIn(w http.ResponseWriter, status int, d signInData, msg string) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: token, Path: "/console/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	v := &view{Title: "Sign in", CSRF: token, Error: msg, Data: d}
	s.render(w, status, "signin", v)
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	c, err := r.Cookie(preCookie)
	got := r.PostFormValue("csrf")
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
		http.Error(w, "Forbidden: the form's CSRF token is missing or wrong; reload the page and try again.", http.StatusForbidden)
		return
	}
	d := signInData{Org: strings.TrimSpace(r.PostFormValue("org")), Login: strings.TrimSpace(r.PostFormValue("login"))}
	pw, code := r.PostFormValue("password"), strings.TrimSpace(r.PostFormValue("code"))
	refused := func() {
		s.renderSignIn(w, http.StatusUnauthorized, d, "The org, login or password is not right, or this account may not sign in here.")
	}
	o, err := s.dir.Org(r.Context(), d.Org)
	if err != nil {
		refused()
		return
	}
	secret := []byte(pw)
	if code != "" { // the code travels as it does in an LDAP bind
		secret = append(append(secret, directory.MFASeparatorOf(o)), code...)
	}
	u, err := s.dir.Authenticate(r.Context(), directory.AuthRequest{OrgID: o.ID, Login: d.Login, Password: secret, Client: clientOf(r)})
	clear(secret)
	expired := false
	if err != nil {
		var de *directory.Error
		switch {
		case errors.As(err, &de) && de.Code == directory.CodePolicyDenied:
			s.renderSignIn(w, http.StatusUnauthorized, d, de.Message+" Enter the code of your authenticator app (or push) too.")
			return
		case errors.As(err, &de) && de.Message == directory.MsgPasswordExpired:
			// The password was right and the sign-on policy passed: the
			// session may only change the password.
			if u, err = s.dir.User(r.Context(), o.Name, d.Login); err != nil {
				refused()
				return
			}
			expired = true
		default:
			refused()
			return
		}
	}
	if u.Type == store.TypeServiceAccount && !directory.CanViewAll(u) {
		refused() // an application's account, not a person's
		return
	}
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: "", Path: "/console/", MaxAge: -1, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode})
	ss := s.sess.start(w, o.ID, u.ID)
	if expired {
		ss.mustChange.Store(true)
		ss.flash = "Your password has expired: choose a new one to go on."
		http.Redirect(w, r, passwordPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, q *request) error {
	s.sess.end(w, q.ss)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return nil
}
