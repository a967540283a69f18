package directory

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/query"
)

// The attributes the REST API's filter and search expressions may name,
// for users, groups and system log events, and how a record answers them.
// Okta's filter parameter allows eq on most attributes and the orderings
// on timestamps; search allows every operator.

// QueryKind is which parameter an expression came in.
type QueryKind int

// Query kinds.
const (
	QueryFilter QueryKind = iota // ?filter=: the restricted operators
	QuerySearch                  // ?search=: every operator
)

func (k QueryKind) param() string {
	if k == QuerySearch {
		return "search"
	}
	return "filter"
}

var (
	eqOnly    = query.Ops(query.Eq)
	timeOrder = query.Ops(query.Eq, query.Gt, query.Ge, query.Lt, query.Le)
)

// attrs declares names of type t: strings take eq only and times the
// orderings in a filter; a search takes anything the type supports.
func attrs(k QueryKind, t query.Type, names ...string) map[string]query.Attr {
	a := query.Attr{Type: t}
	if k == QueryFilter {
		a.Ops = eqOnly
		if t == query.Time {
			a.Ops = timeOrder
		}
	}
	m := make(map[string]query.Attr, len(names))
	for _, n := range names {
		m[n] = a
	}
	return m
}

func merge(ms ...map[string]query.Attr) map[string]query.Attr {
	out := map[string]query.Attr{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// parseQuery parses s, turning a syntax error into a CodeInvalid error
// about the parameter.
func parseQuery(k QueryKind, s string, opts *query.Options) (*query.Expr, error) {
	e, err := query.Parse(s, opts)
	if err != nil {
		return nil, invalid(k.param(), "invalid %s expression: %s", k.param(), err.Error())
	}
	return e, nil
}

func timeValue(t time.Time) (query.Value, bool) {
	if t.IsZero() {
		return query.Value{}, false
	}
	return query.TimeValue(t), true
}

func strValue(s string) (query.Value, bool) {
	return query.StringValue(s), s != ""
}

// UserQuery parses a filter or search expression over the users of o.
func UserQuery(o *Org, k QueryKind, s string) (func(*User) bool, error) {
	profile := attrs(k, query.String, BaseProfileAttributes...)
	opts := &query.Options{
		Attrs: merge(attrs(k, query.String, "id", "status", "type.id"),
			attrs(k, query.Time, "created", "activated", "statusChanged", "lastLogin", "lastUpdated", "passwordChanged")),
		Prefixes: []query.Prefix{{Path: "profile.", Names: profile, Resolve: func(name string) (query.Attr, bool) {
			if !declared(o, name) {
				return query.Attr{}, false
			}
			return attrs(k, query.String, name)[name], true
		}}},
	}
	e, err := parseQuery(k, s, opts)
	if err != nil {
		return nil, err
	}
	return func(u *User) bool {
		return e.Match(func(attr string) (query.Value, bool) { return userAttr(o, u, attr) })
	}, nil
}

func userAttr(o *Org, u *User, attr string) (query.Value, bool) {
	switch attr {
	case "id":
		return strValue(u.ID)
	case "status":
		return strValue(u.Status)
	case "type.id":
		return strValue(u.Type)
	case "created":
		return timeValue(u.Created)
	case "activated":
		return timeValue(u.Activated)
	case "statusChanged":
		return timeValue(u.StatusChanged)
	case "lastLogin":
		return timeValue(u.LastLogin)
	case "lastUpdated":
		return timeValue(u.LastUpdated)
	case "passwordChanged":
		return timeValue(u.PasswordChanged)
	}
	if len(attr) > len("profile.") && attr[:len("profile.")] == "profile." {
		v, ok := ProfileValue(&u.Profile, canonicalAttr(o, attr[len("profile."):]))
		return query.StringValue(v), ok
	}
	return query.Value{}, false
}

// GroupQuery parses a filter or search expression over groups.
func GroupQuery(k QueryKind, s string) (func(*Group) bool, error) {
	opts := &query.Options{Attrs: merge(attrs(k, query.String, "id", "type", "profile.name", "profile.description"),
		attrs(k, query.Time, "created", "lastUpdated", "lastMembershipUpdated"))}
	e, err := parseQuery(k, s, opts)
	if err != nil {
		return nil, err
	}
	return func(g *Group) bool {
		return e.Match(func(attr string) (query.Value, bool) {
			switch attr {
			case "id":
				return strValue(g.ID)
			case "type":
				return strValue("OKTA_GROUP")
			case "profile.name":
				return strValue(g.Name)
			case "profile.description":
				return strValue(g.Description)
			case "created":
				return timeValue(g.Created)
			case "lastUpdated":
				return timeValue(g.LastUpdated)
			case "lastMembershipUpdated":
				return timeValue(g.LastMembershipUpdated)
			}
			return query.Value{}, false
		})
	}, nil
}

// EventQuery parses a system log filter (Okta's: every operator, over the
// LogEvent's fields). eventType, when the expression requires one value
// of it, is returned too, so the store can select by it.
func EventQuery(s string) (match func(*StoredEvent) bool, eventType string, err error) {
	opts := &query.Options{Attrs: merge(
		attrs(QuerySearch, query.String, "uuid", "eventType", "severity", "displayMessage", "outcome.result", "outcome.reason",
			"actor.id", "actor.type", "actor.alternateId", "actor.displayName",
			"target.id", "target.type", "target.alternateId", "target.displayName", "client.ipAddress"),
		attrs(QuerySearch, query.Time, "published"))}
	e, err := parseQuery(QueryFilter, s, opts)
	if err != nil {
		return nil, "", err
	}
	return func(ev *StoredEvent) bool {
		var le LogEvent
		if json.Unmarshal(ev.Doc, &le) != nil {
			return false
		}
		return matchEvent(e, &le)
	}, strings.ToLower(e.Equalities()["eventType"]), nil // event types are lower case; Match compares without case
}

// matchEvent matches an event; an event with several targets matches
// when one of them does (each target is tried as "the" target).
func matchEvent(e *query.Expr, le *LogEvent) bool {
	targets := le.Target
	if len(targets) == 0 {
		targets = []LogTarget{{}}
	}
	for _, t := range targets {
		if e.Match(func(attr string) (query.Value, bool) { return eventAttr(le, &t, attr) }) {
			return true
		}
	}
	return false
}

func eventAttr(le *LogEvent, t *LogTarget, attr string) (query.Value, bool) {
	switch attr {
	case "uuid":
		return strValue(le.UUID)
	case "eventType":
		return strValue(le.EventType)
	case "severity":
		return strValue(le.Severity)
	case "displayMessage":
		return strValue(le.DisplayMessage)
	case "outcome.result":
		return strValue(le.Outcome.Result)
	case "outcome.reason":
		return strValue(le.Outcome.Reason)
	case "actor.id":
		return strValue(le.Actor.ID)
	case "actor.type":
		return strValue(le.Actor.Type)
	case "actor.alternateId":
		return strValue(le.Actor.AlternateID)
	case "actor.displayName":
		return strValue(le.Actor.DisplayName)
	case "target.id":
		return strValue(t.ID)
	case "target.type":
		return strValue(t.Type)
	case "target.alternateId":
		return strValue(t.AlternateID)
	case "target.displayName":
		return strValue(t.DisplayName)
	case "client.ipAddress":
		if le.Client == nil {
			return query.Value{}, false
		}
		return strValue(le.Client.IPAddress)
	case "published":
		p, err := time.Parse(time.RFC3339Nano, le.Published)
		if err != nil {
			return query.Value{}, false
		}
		return query.TimeValue(p), true
	}
	return query.Value{}, false
}
