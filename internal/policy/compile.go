package policy

import (
	"cmp"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
)

// Resolver maps the groups and users a policy names to the org's ids.
type Resolver interface {
	// GroupID returns the id of the group with this name or id.
	GroupID(nameOrID string) (id string, ok bool)
	// UserID returns the id of the user with this login or id.
	UserID(loginOrID string) (id string, ok bool)
}

// Maps is a Resolver over two maps from names (logins for users) and ids
// to ids; put each id in as its own key so that policies may name either.
type Maps struct {
	Groups map[string]string
	Users  map[string]string
}

// GroupID implements Resolver.
func (m Maps) GroupID(s string) (string, bool) { id, ok := m.Groups[s]; return id, ok }

// UserID implements Resolver.
func (m Maps) UserID(s string) (string, bool) { id, ok := m.Users[s]; return id, ok }

// Set is an org's policies compiled for evaluation: ACTIVE policies and
// rules in priority order, names resolved to ids, networks parsed, and the
// built-in defaults last. A Set is immutable and safe for concurrent use; a
// nil *Set holds only the defaults.
type Set struct {
	signOn   []signOnPolicy
	password []passwordPolicy
}

type people struct {
	everyone                             bool
	inGroups, exGroups, inUsers, exUsers []string // sorted ids
}

type signOnPolicy struct {
	id, name string
	people   people
	rules    []rule
}

type rule struct {
	name       string
	action     Action
	authType   AuthType // "" = any
	userType   UserType // "" = any
	anyNet     bool     // no include list
	incl, excl []netip.Prefix
}

type passwordPolicy struct {
	id, name string
	people   people
	settings PasswordSettings
}

var (
	everyone      = people{everyone: true}
	defaultSignOn = signOnPolicy{
		name:   DefaultPolicyName,
		people: everyone,
		rules:  []rule{{name: DefaultRuleName, action: ActionAllow, anyNet: true}},
	}
	defaultSettings = DefaultPasswordSettings()
	defaultDecision = Decision{Action: ActionAllow, PolicyName: DefaultPolicyName, RuleName: DefaultRuleName}
)

// Compile checks policies with ValidateAll and compiles them into a Set.
// INACTIVE policies and rules are left out, as are sign-on policies left
// with no ACTIVE rule. The built-in defaults come after every policy: a
// sign-on policy for Everyone whose one rule allows without MFA, and a
// password policy for Everyone with DefaultPasswordSettings.
//
// Group and user names are resolved with resolve (which may be nil: then
// every name but Everyone is unknown). Invalid policies give Errors and a
// nil Set. Names that do not resolve give a usable Set together with an
// *UnresolvedError naming each of them, in INACTIVE policies too; in the
// Set they match nobody (see UnresolvedError).
func Compile(policies []Policy, resolve Resolver) (*Set, error) {
	if err := ValidateAll(policies); err != nil {
		return nil, err
	}
	var unresolved []Ref // in input order
	compiled := make([]people, len(policies))
	order := make([]int, len(policies))
	for i := range policies {
		compiled[i] = compilePeople(&policies[i], resolve, &unresolved)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(policies[a].Priority, policies[b].Priority) })

	set := &Set{}
	for _, i := range order {
		p, pp := &policies[i], compiled[i]
		if p.Status == StatusInactive {
			continue
		}
		switch p.Kind {
		case KindSignOn:
			sp := signOnPolicy{id: p.ID, name: p.Name, people: pp, rules: compileRules(p.Rules)}
			if len(sp.rules) > 0 {
				set.signOn = append(set.signOn, sp)
			}
		case KindPassword:
			s := defaultSettings
			if p.Settings != nil {
				s = *p.Settings
				s.ExcludeAttributes = slices.Clone(s.ExcludeAttributes)
			}
			set.password = append(set.password, passwordPolicy{id: p.ID, name: p.Name, people: pp, settings: s})
		}
	}
	set.signOn = append(set.signOn, defaultSignOn)
	set.password = append(set.password, passwordPolicy{name: DefaultPolicyName, people: everyone, settings: defaultSettings})
	if len(unresolved) > 0 {
		return set, &UnresolvedError{Refs: unresolved}
	}
	return set, nil
}

func compilePeople(p *Policy, resolve Resolver, unresolved *[]Ref) people {
	var out people
	ids := func(path string, names []string, group bool) []string {
		var list []string
		for i, n := range names {
			if group && n == Everyone {
				out.everyone = true // only in include lists: Validate refuses it in exclude
				continue
			}
			var (
				id string
				ok bool
			)
			if resolve != nil {
				if group {
					id, ok = resolve.GroupID(n)
				} else {
					id, ok = resolve.UserID(n)
				}
			}
			if !ok {
				*unresolved = append(*unresolved, Ref{Policy: p.Name, Kind: p.Kind,
					Path: path + "[" + strconv.Itoa(i) + "]", Group: group, Name: n})
				continue
			}
			list = append(list, id)
		}
		slices.Sort(list)
		return slices.Compact(list)
	}
	out.inGroups = ids("people.groups.include", p.People.Groups.Include, true)
	out.exGroups = ids("people.groups.exclude", p.People.Groups.Exclude, true)
	out.inUsers = ids("people.users.include", p.People.Users.Include, false)
	out.exUsers = ids("people.users.exclude", p.People.Users.Exclude, false)
	return out
}

func compileRules(rules []Rule) []rule {
	order := make([]*Rule, 0, len(rules))
	for i := range rules {
		if rules[i].Status != StatusInactive {
			order = append(order, &rules[i])
		}
	}
	slices.SortStableFunc(order, func(a, b *Rule) int { return cmp.Compare(a.Priority, b.Priority) })
	out := make([]rule, len(order))
	for i, r := range order {
		c := &r.Conditions
		out[i] = rule{
			name:   r.Name,
			action: r.Action,
			anyNet: len(c.Network.Include) == 0,
			incl:   prefixes(c.Network.Include),
			excl:   prefixes(c.Network.Exclude),
		}
		if c.AuthType != AuthAny {
			out[i].authType = c.AuthType
		}
		if c.UserType != UserAny {
			out[i].userType = c.UserType
		}
	}
	return out
}

// prefixes parses networks Validate has accepted.
func prefixes(list []string) []netip.Prefix {
	if len(list) == 0 {
		return nil
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		if p, msg := parseNetwork(s); msg == "" {
			out = append(out, p)
		}
	}
	return out
}

// Equal reports whether two compiled sets decide alike: the same policies,
// rules and settings, resolved to the same ids. A nil Set is the built-in
// defaults alone.
func (s *Set) Equal(t *Set) bool {
	if s == nil || t == nil {
		return (s == nil || (len(s.signOn) == 0 && len(s.password) == 0)) &&
			(t == nil || (len(t.signOn) == 0 && len(t.password) == 0))
	}
	return reflect.DeepEqual(s.signOn, t.signOn) && reflect.DeepEqual(s.password, t.password)
}
