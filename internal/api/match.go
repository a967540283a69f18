package api

import (
	"net/http"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// The selections of the list endpoints. What the expressions mean is
// package directory's (listquery.go); here the parameters are read.

var queryKinds = []struct {
	param string
	kind  directory.QueryKind
}{{"filter", directory.QueryFilter}, {"search", directory.QuerySearch}}

// userMatcher is the user list's selection: q (a prefix of the first
// name, last name, email or login, as Okta's q), filter and search.
func (s *Server) userMatcher(r *http.Request, c *call) (func(*directory.User) bool, error) {
	q := r.URL.Query()
	var preds []func(*directory.User) bool
	if v := q.Get("q"); v != "" {
		preds = append(preds, func(u *directory.User) bool { return directory.UserMatchesQ(u, v) })
	}
	for _, k := range queryKinds {
		if v := q.Get(k.param); v != "" {
			m, err := directory.UserQuery(c.p.Org, k.kind, v)
			if err != nil {
				return nil, err
			}
			preds = append(preds, m)
		}
	}
	return all(preds), nil
}

// groupMatcher is the group list's: q (a prefix of the name), filter and
// search.
func (s *Server) groupMatcher(r *http.Request) (func(*directory.Group) bool, error) {
	q := r.URL.Query()
	var preds []func(*directory.Group) bool
	if v := q.Get("q"); v != "" {
		preds = append(preds, func(g *directory.Group) bool { return directory.HasPrefixFold(g.Name, v) })
	}
	for _, k := range queryKinds {
		if v := q.Get(k.param); v != "" {
			m, err := directory.GroupQuery(k.kind, v)
			if err != nil {
				return nil, err
			}
			preds = append(preds, m)
		}
	}
	return all(preds), nil
}

// eventMatcher is the system log's selection: q (words the event's
// document holds, all of them, without case) and filter; a filter that
// requires one eventType narrows ef too.
func (s *Server) eventMatcher(r *http.Request, ef *directory.EventFilter) (func(*directory.StoredEvent) bool, error) {
	q := r.URL.Query()
	var preds []func(*directory.StoredEvent) bool
	if words := strings.Fields(strings.ToLower(q.Get("q"))); len(words) > 0 {
		preds = append(preds, func(e *directory.StoredEvent) bool {
			doc := strings.ToLower(string(e.Doc))
			for _, w := range words {
				if !strings.Contains(doc, w) {
					return false
				}
			}
			return true
		})
	}
	if v := q.Get("filter"); v != "" {
		m, eventType, err := directory.EventQuery(v)
		if err != nil {
			return nil, err
		}
		ef.EventType = eventType
		preds = append(preds, m)
	}
	return all(preds), nil
}

// all is the conjunction of preds; nil when there are none (everything
// matches).
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
