package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Sessions live in this process's memory: a restart signs everyone out
// (with several nodes, issue 11 moves them to the store). The cookie holds
// only a random id; each session has its own CSRF token, which every form
// carries and every POST must echo.

const (
	cookieName = "dirgate_console"
	// DefaultIdleTimeout signs a session out after this long unused.
	DefaultIdleTimeout = 30 * time.Minute
	maxSessions        = 100_000 // a bound on memory; the oldest go first
)

type session struct {
	id, csrf string
	orgID    string
	userID   string
	started  time.Time
	lastSeen time.Time
	flash    string // one message for the next page
	// mustChange: the user signed in with an expired password and may
	// only change it.
	mustChange atomic.Bool
}

type sessions struct {
	idle time.Duration
	now  func() time.Time
	mu   sync.Mutex
	byID map[string]*session
}

func newSessions(idle time.Duration, now func() time.Time) *sessions {
	return &sessions{idle: idle, now: now, byID: make(map[string]*session)}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// start makes a session for a signed-in user and sets its cookie.
func (s *sessions) start(w http.ResponseWriter, orgID, userID string) *session {
	now := s.now()
	ss := &session{id: randomToken(), csrf: randomToken(), orgID: orgID, userID: userID, started: now, lastSeen: now}
	s.mu.Lock()
	if len(s.byID) >= maxSessions {
		s.sweepLocked(true)
	}
	s.byID[ss.id] = ss
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: ss.id, Path: "/console/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode})
	return ss
}

// get returns the request's live session, touching it, or nil.
func (s *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[c.Value]
	if ss == nil {
		return nil
	}
	if now.Sub(ss.lastSeen) > s.idle {
		delete(s.byID, ss.id)
		return nil
	}
	ss.lastSeen = now
	return ss
}

// end signs the session out and clears its cookie.
func (s *sessions) end(w http.ResponseWriter, ss *session) {
	if ss != nil {
		s.mu.Lock()
		delete(s.byID, ss.id)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console/", MaxAge: -1, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode})
}

// sweepLocked drops idle sessions; with force, the oldest half too.
func (s *sessions) sweepLocked(force bool) {
	now := s.now()
	for id, ss := range s.byID {
		if now.Sub(ss.lastSeen) > s.idle {
			delete(s.byID, id)
		}
	}
	if force && len(s.byID) >= maxSessions {
		cut := now.Add(-s.idle / 2)
		for id, ss := range s.byID {
			if ss.lastSeen.Before(cut) {
				delete(s.byID, id)
			}
		}
	}
}

// validCSRF reports whether the form's token is the session's.
func validCSRF(ss *session, r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) == 1
}
