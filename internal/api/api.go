// Package api is dirgate's management REST API, shaped like Okta's
// (/api/v1/users, /groups, /logs, …) so that scripts and SDKs written for
// Okta work against dirgate. Handlers are thin: they decode the request,
// call package directory (which holds every rule, including who may do
// what), and encode the answer; errors.go is the one table from domain
// errors to HTTP statuses and Okta error codes.
//
// Callers authenticate with an API token, "Authorization: SSWS <token>";
// each call acts as the token's admin, is rate limited per token, and is
// recorded in the system log.
package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/directory"
)

// Config configures a Server.
type Config struct {
	Directory *directory.Directory
	Logger    *slog.Logger
	// RateLimit is how many calls one token may make per minute (0:
	// DefaultRateLimit; negative: unlimited).
	RateLimit int
	// MaxBody bounds a request body in bytes (0: DefaultMaxBody).
	MaxBody int64
	// Now is the clock (default time.Now).
	Now func() time.Time
	// LDAP is where the LDAP interface listens (for orgs' connection
	// details); zero: the details leave the URLs out.
	LDAP LDAPInfo
	// PublicURL is the API's address as clients reach it
	// (https://dirgate.example.com), for the links in answers; "" builds
	// them from the request, which behind a proxy that terminates TLS
	// gives http:// links. X-Forwarded-* headers are never trusted.
	PublicURL string
	// Runner runs the syncs asked for (shared with the console, so that
	// one server runs an integration once at a time); nil: the API's own.
	Runner *ldapsource.Runner
}

// Defaults.
const (
	DefaultRateLimit = 1200
	DefaultMaxBody   = 1 << 20
)

// Server serves the API. It is safe for concurrent use.
type Server struct {
	dir     *directory.Directory
	log     *slog.Logger
	limiter *limiter
	maxBody int64
	now     func() time.Time
	ldap    LDAPInfo
	public  string // Config.PublicURL without a trailing /
	mux     *http.ServeMux
	runner  *ldapsource.Runner
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{dir: cfg.Directory, log: cfg.Logger, maxBody: cfg.MaxBody, now: cfg.Now, ldap: cfg.LDAP,
		public: strings.TrimRight(cfg.PublicURL, "/")}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.runner = cfg.Runner; s.runner == nil {
		s.runner = &ldapsource.Runner{Dir: s.dir, Log: s.log}
	}
	rate := cfg.RateLimit
	if rate == 0 {
		rate = DefaultRateLimit
	}
	s.limiter = newLimiter(rate, s.now)
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// Handler serves /api/v1/… (and answers Okta-shaped errors for anything
// else below /api/).
func (s *Server) Handler() http.Handler { return s.mux }

// handler is an authenticated endpoint: it returns the error to answer,
// or nil once it has written its answer.
type handler func(w http.ResponseWriter, r *http.Request, c *call) error

// call is one authenticated request.
type call struct {
	p   *directory.Principal
	org string // the principal's org name, what directory methods take
	ctx context.Context
}

// handle registers pattern ("GET /api/v1/users") for h, needing perm.
func (s *Server) handle(pattern string, perm directory.Permission, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, perm, h)
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, perm directory.Permission, h handler) {
	w.Header().Set("Cache-Control", "no-cache, no-store")
	p, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.limiter.allow(w, p.Token.ID) {
		s.writeError(w, r, &apiError{status: http.StatusTooManyRequests, code: codeRateLimit,
			summary: "API call exceeded rate limit due to too many requests."})
		s.dir.RecordAPICall(p, clientOf(r), r.Method, r.URL.Path, http.StatusTooManyRequests)
		return
	}
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	ctx := directory.WithActor(r.Context(), p.Actor())
	c := &call{p: p, ctx: ctx}
	if p.Org != nil {
		c.org = p.Org.Name
	}
	if err := p.Allow(perm); err != nil {
		s.writeError(rec, r, err)
	} else if err := h(rec, r.WithContext(ctx), c); err != nil {
		s.writeError(rec, r, err)
	}
	s.dir.RecordAPICall(p, clientOf(r), r.Method, r.URL.Path, rec.status)
}

// authenticate reads the SSWS token of r.
func (s *Server) authenticate(r *http.Request) (*directory.Principal, error) {
	invalidToken := &apiError{status: http.StatusUnauthorized, code: codeInvalidToken, summary: directory.MsgInvalidToken}
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "SSWS") {
		return nil, invalidToken
	}
	p, err := s.dir.AuthenticateToken(r.Context(), strings.TrimSpace(secret))
	if directory.CodeOf(err) == directory.CodeInvalidCredentials {
		var de *directory.Error
		if errors.As(err, &de) {
			s.log.Info("api: token refused", "why", de.Reason, "client", clientOf(r).IP)
		}
		return nil, invalidToken
	}
	return p, err
}

func clientOf(r *http.Request) directory.ClientInfo {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return directory.ClientInfo{IP: ip, TLS: r.TLS != nil, Protocol: "api"}
}

// statusWriter remembers the status written, for the system log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// --- JSON

// Okta's timestamps: UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// jsonTime is a time that encodes as Okta's, and the zero time as null.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format(timeLayout) + `"`), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away: nothing to do
}

// decode reads r's JSON body into v, refusing unknown fields, trailing
// data and bodies over the limit.
func (s *Server) decode(r *http.Request, v any) error {
	body := http.MaxBytesReader(nil, r.Body, s.maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err == nil {
		return nil
	}
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return s.tooLarge()
	case errors.Is(err, io.EOF):
		return &apiError{status: http.StatusBadRequest, code: codeBadJSON, summary: "The request body was not well-formed: it is empty"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return validation(field, fmt.Sprintf("unknown property %q", field))
	case errors.As(err, &ute):
		return validation(ute.Field, fmt.Sprintf("expected a %s, got a JSON %s", ute.Type, ute.Value))
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		return validation(fe.field, fe.msg)
	}
	return &apiError{status: http.StatusBadRequest, code: codeBadJSON, summary: "The request body was not well-formed: " + err.Error()}
}

// tooLarge is the answer to a body over Config.MaxBody.
func (s *Server) tooLarge() *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: codeBadJSON,
		summary: fmt.Sprintf("The request body was not well-formed: it is larger than %d bytes", s.maxBody)}
}

// fieldError is a decoding error about one field (from UnmarshalJSON).
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// --- query parameters

// limitParam reads ?limit= (default def, at most max).
func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, validation("limit", fmt.Sprintf("limit must be a positive integer, not %q", v))
	}
	return min(n, max), nil
}

// boolParam reads a true/false query parameter.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, validation(name, fmt.Sprintf("%s must be true or false, not %q", name, v))
	}
	return b, nil
}

// base is the API's address for links: Config.PublicURL, else how the
// caller reached us.
func (s *Server) base(r *http.Request) string {
	if s.public != "" {
		return s.public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// setLinks writes the Link header of a page: self, and next when there
// is one (Okta's cursor paging: the same query with after=<cursor>).
func (s *Server) setLinks(w http.ResponseWriter, r *http.Request, next string) {
	self := s.base(r) + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if next != "" {
		q := r.URL.Query()
		q.Set("after", next)
		w.Header().Add("Link", "<"+s.base(r)+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	}
}

// writeList answers a list: each item through out, as a JSON array (an
// empty list is [], not null), with the page's Link headers when paged.
func writeList[T, J any](s *Server, w http.ResponseWriter, r *http.Request, items []T, out func(T) J, paged bool, next string) {
	js := make([]J, len(items))
	for i, it := range items {
		js[i] = out(it)
	}
	if paged {
		s.setLinks(w, r, next)
	}
	writeJSON(w, http.StatusOK, js)
}

const idChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomID returns n random base62 characters (error ids).
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}
