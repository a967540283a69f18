// Package console is dirgate's web admin console: server-rendered pages
// (html/template, assets embedded, no external resources) over package
// directory, which holds every rule, including who may do what (the same
// directory.Principal permissions the REST API uses). It is served by
// `dirgate serve` below /console/ on the HTTPS address.
//
// Sign-in is a user's dirgate password (and one-time code, or "push",
// when the sign-on policy asks for MFA with authType console); the
// session lives in a Secure, HttpOnly, SameSite=Strict cookie, every form
// carries a CSRF token, and an idle session ends. Admins get the admin
// pages; every user gets the self-service pages below /console/me (me.go).
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/directory"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures a Server.
type Config struct {
	Directory *directory.Directory
	Logger    *slog.Logger
	// IdleTimeout ends a session unused this long (0: DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// LDAP is where the LDAP interface listens, for the connection details
	// the LDAP Interface page shows; CAFile is the CA certificate clients
	// must trust ("" when the server's certificate is the operator's own).
	LDAP   LDAPInfo
	CAFile string
	// Runner runs the syncs asked for (shared with the API, so that one
	// server runs an integration once at a time); nil: the console's own.
	Runner *ldapsource.Runner
	// SyncWait is how long Sync now waits for its run before the page
	// says it goes on (0: DefaultSyncWait).
	SyncWait time.Duration
}

// LDAPInfo is where the LDAP interface listens.
type LDAPInfo struct {
	Host      string // the name clients use
	LDAPPort  int    // StartTLS; 0: off
	LDAPSPort int    // 0: off
}

// Server serves the console. It is safe for concurrent use.
type Server struct {
	cfg    Config
	dir    *directory.Directory
	log    *slog.Logger
	now    func() time.Time
	sess   *sessions
	pages  map[string]*template.Template
	mux    *http.ServeMux
	runner *ldapsource.Runner
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, dir: cfg.Directory, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.runner = cfg.Runner; s.runner == nil {
		s.runner = &ldapsource.Runner{Dir: s.dir, Log: s.log}
	}
	idle := cfg.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	s.sess = newSessions(idle, s.now)
	if err := s.parse(); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

// Handler serves /console/.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) parse() error {
	funcs := template.FuncMap{
		"time": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"lower": strings.ToLower,
		// label is an action's name as a button says it: "expire_password"
		// is "Expire password".
		"label": func(s string) string {
			s = strings.ReplaceAll(s, "_", " ")
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"join":  strings.Join,
		"roles": func() []string { return directory.Roles },
		"outcomes": func() []string {
			return []string{directory.ResultSuccess, directory.ResultFailure, directory.ResultDeny, directory.ResultAllow, directory.ResultChallenge}
		},
		// fieldOf is one labelled input with its error, for "field".
		"fieldOf": func(name, label, value string, errs map[string]string, auto string) map[string]string {
			return map[string]string{"Name": name, "Label": label, "Value": value, "Error": errs[name], "Auto": auto}
		},
		// ownedFieldOf is fieldOf for a profile field a directory
		// integration may keep (owned: field -> integration name).
		"ownedFieldOf": func(name, label, value string, errs, owned map[string]string, auto string) map[string]string {
			return map[string]string{"Name": name, "Label": label, "Value": value, "Error": errs[name], "Auto": auto, "Owner": owned[name]}
		},
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return err
		}
		s.pages[base] = t
	}
	return nil
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /console/signin", s.signInPage)
	s.mux.HandleFunc("POST /console/signin", s.signIn)
	s.page("POST /console/signout", permSelf, s.signOut)
	s.page("GET /console/{$}", permSelf, s.home)
	s.page("GET /console/people", directory.PermRead, s.people)
	s.page("GET /console/people/{id}", directory.PermRead, s.person)
	s.page("POST /console/people/{id}/lifecycle/{action}", directory.PermWrite, s.personLifecycle)
	s.routesGroups()
	s.routesPersonEdit()
	s.page("GET /console/logs", directory.PermRead, s.logs)
	s.routesRoles()
	s.routesLDAP()
	s.routesIntegrations()
	s.routesPolicies()
	s.routesMe()
}

// permSelf marks a page every signed-in user may see (self-service).
const permSelf directory.Permission = -1

// home is the dashboard for an admin and the self-service page for
// everyone else.
func (s *Server) home(w http.ResponseWriter, r *http.Request, q *request) error {
	if !directory.CanViewAll(q.p.User) {
		http.Redirect(w, r, "/console/me", http.StatusSeeOther)
		return nil
	}
	return s.dashboard(w, r, q)
}

// view is what every page template gets.
type view struct {
	Title string
	// Admin is the signed-in user, admin or not (nil on the sign-in page).
	Admin *directory.User
	Org   *directory.Org
	CSRF  string
	// IsAdmin: the user holds an admin role and sees the admin pages.
	IsAdmin  bool
	CanWrite bool
	// Sep is the org's MFA separator; Pushes counts the user's push
	// sign-ins waiting for an answer.
	Sep    string
	Pushes int
	// CanSecure: the admin may change roles and policies.
	CanSecure bool
	Flash     string
	Error     string
	Nav       string // the section, for the menu
	Data      any
}

// request is one signed-in page request.
type request struct {
	ss  *session
	p   *directory.Principal
	ctx context.Context
}

type pageFunc func(w http.ResponseWriter, r *http.Request, q *request) error

// page registers a page that needs a signed-in user holding perm
// (permSelf: any user); a POST must carry the session's CSRF token. A
// session whose password expired reaches only the change-password page.
func (s *Server) page(pattern string, perm directory.Permission, h pageFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		secureHeaders(w)
		ss := s.sess.get(r)
		if ss == nil {
			http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
			return
		}
		p, err := s.principal(r.Context(), ss)
		if err != nil {
			s.sess.end(w, ss)
			http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !validCSRF(ss, r) {
			http.Error(w, "Forbidden: the form's CSRF token is missing or wrong; reload the page and try again.", http.StatusForbidden)
			return
		}
		q := &request{ss: ss, p: p, ctx: directory.WithActor(r.Context(), p.Actor())}
		if ss.mustChange.Load() && pattern != "GET "+passwordPath && pattern != "POST "+passwordPath && pattern != "POST /console/signout" {
			http.Redirect(w, r, passwordPath, http.StatusSeeOther)
			return
		}
		if perm != permSelf {
			if err := p.Allow(perm); err != nil {
				if r.Method == http.MethodGet && !directory.CanViewAll(p.User) {
					http.Redirect(w, r, "/console/me", http.StatusSeeOther) // an old link of a former admin
					return
				}
				s.fail(w, r, q, err)
				return
			}
		}
		if err := h(w, r, q); err != nil {
			s.fail(w, r, q, err)
		}
	})
}

// principal is the session's user as it is now, read in one round trip
// (a suspension ends the session at its next request; a role taken away
// takes the admin pages with it).
func (s *Server) principal(ctx context.Context, ss *session) (*directory.Principal, error) {
	o, u, err := s.dir.OrgUser(ctx, ss.orgID, ss.userID)
	if err != nil {
		return nil, err
	}
	ok := u.Status == directory.StatusActive
	if ss.mustChange.Load() {
		ok = u.Status == directory.StatusPasswordExpired
		if u.Status == directory.StatusActive && !u.PasswordChanged.Before(ss.started) {
			ss.mustChange.Store(false) // changed (here or elsewhere) since sign-in
			ok = true
		}
	}
	if !ok {
		return nil, &directory.Error{Code: directory.CodeForbidden, Message: "no longer an active user"}
	}
	return &directory.Principal{Org: o, User: u}, nil
}

func (s *Server) view(q *request, title, nav string, data any) *view {
	v := &view{Title: title, Nav: nav, Data: data}
	if q != nil {
		v.Admin, v.Org, v.CSRF = q.p.User, q.p.Org, q.ss.csrf
		v.IsAdmin = directory.CanViewAll(q.p.User) && !q.ss.mustChange.Load()
		v.Sep = string(directory.MFASeparatorOf(q.p.Org))
		v.Pushes = s.dir.PendingPushCount(q.p.User.ID)
		v.CanWrite = q.p.Allow(directory.PermWrite) == nil
		v.CanSecure = q.p.Allow(directory.PermSecurity) == nil
		v.Flash, q.ss.flash = q.ss.flash, ""
	}
	return v
}

func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) {
	t := s.pages[name]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		s.log.Error("console: rendering", "page", name, "err", err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// fail shows err on an error page with the status the code calls for.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, q *request, err error) {
	status := http.StatusInternalServerError
	msg := "Something went wrong; the server's log says what."
	var de *directory.Error
	if errors.As(err, &de) {
		switch de.Code {
		case directory.CodeNotFound:
			status, msg = http.StatusNotFound, de.Message
		case directory.CodeForbidden:
			status, msg = http.StatusForbidden, de.Message
		case directory.CodeInvalid, directory.CodeConflict, directory.CodeIllegalTransition:
			status, msg = http.StatusBadRequest, de.Message
		case directory.CodeUnavailable:
			status, msg = http.StatusServiceUnavailable, "The directory is busy or unreachable; try again."
		}
	}
	if status == http.StatusInternalServerError {
		s.log.Error("console: request failed", "path", r.URL.Path, "err", err)
	}
	v := s.view(q, "Error", "", nil)
	v.Error = msg
	s.render(w, status, "error", v)
}

// secureHeaders keeps pages out of frames and caches, and the browser to
// this origin's own resources.
func secureHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func clientOf(r *http.Request) directory.ClientInfo {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return directory.ClientInfo{IP: ip, TLS: r.TLS != nil, Protocol: "console"}
}
