package api

import (
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// userMatcher is the user list's selection: q (a prefix of the first
// name, last name, email or login, as Okta's q), filter and search.
func (s *Server) userMatcher(r *http.Request, c *call) (func(*directory.User) bool, error) {
	q := r.URL.Query()
	var preds []func(*directory.User) bool
	if v := q.Get("q"); v != "" {
		preds = append(preds, func(u *directory.User) bool { return directory.UserMatchesQ(u, v) })
	}
	return all(preds), nil
}

func (s *Server) groupMatcher(r *http.Request) (func(*directory.Group) bool, error) {
	q := r.URL.Query()
	var preds []func(*directory.Group) bool
	if v := q.Get("q"); v != "" {
		preds = append(preds, func(g *directory.Group) bool { return hasPrefixFold(g.Name, v) })
	}
	return all(preds), nil
}

func all[T any](preds []func(T) bool) func(T) bool {
	if len(preds) == 0 {
		return nil
	}
	return func(v T) bool {
		for _, p := range preds {
			if !p(v) {
				return false
			}
		}
		return true
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
