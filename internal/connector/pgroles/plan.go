package pgroles

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Skip is a person or role a run left alone, and why.
type Skip struct {
	Role   string `json:"role,omitempty"`
	Login  string `json:"login,omitempty"`
	Reason string `json:"reason"`
}

// Report is what a run did (or, dry, would do).
type Report struct {
	DryRun  bool   `json:"dryRun"`
	Target  string `json:"target"`
	Origin  string `json:"origin"`
	Persons int    `json:"persons"` // in scope
	Created int    `json:"created"`
	Altered int    `json:"altered"` // LOGIN given or taken
	Granted int    `json:"granted"`
	Revoked int    `json:"revoked"`
	Dropped int    `json:"dropped"`
	// Reassigned counts roles whose objects went to reassignOwnedTo.
	Reassigned int    `json:"reassigned"`
	Skipped    []Skip `json:"skipped"`
	// Notes are things to know that are not refusals (an existing role
	// dirgate uses without managing it).
	Notes []string `json:"notes,omitempty"`
	// SQL is the statements, in order (what a dry run prints).
	SQL []string `json:"sql,omitempty"`
}

// Pending says whether the run has (or had) something to do.
func (r *Report) Pending() bool { return len(r.SQL) > 0 }

// Summary is the report's counts in a line.
func (r *Report) Summary() string {
	return fmt.Sprintf("%d persons: %d roles created, %d altered, %d memberships granted, %d revoked, %d roles dropped, %d reassigned; %d skipped",
		r.Persons, r.Created, r.Altered, r.Granted, r.Revoked, r.Dropped, r.Reassigned, len(r.Skipped))
}

const (
	commentPrefix = "dirgate: "
	grantsMark    = "; grants: "
)

// planner turns what the source says and what the target has into SQL.
type planner struct {
	c   *Config
	st  *state
	rep *Report
	// mapped are the roles whose memberships are the directory's (the
	// login role and the usable group roles); memberOf the roles each role
	// is a member of, sorted (st.members the other way round), so that a
	// person's revocations cost its memberships, not every mapped role.
	mapped   map[string]bool
	memberOf map[string][]string
}

func (p *planner) exec(sql string) { p.rep.SQL = append(p.rep.SQL, sql) }
func (p *planner) skip(role, login, why string) {
	p.rep.Skipped = append(p.rep.Skipped, Skip{Role: role, Login: login, Reason: why})
}

// userWant is a person's role as it should be.
type userWant struct {
	login  string
	active bool
	roles  []string // the login role and its groups' roles, sorted
}

// plan computes the run: the marker, the login and group roles, one role
// per person in scope, and the removal of managed roles nobody wants.
func plan(c *Config, people *People, st *state, rep *Report) {
	p := &planner{c: c, st: st, rep: rep}
	rep.Origin = people.Origin
	marker := c.ManagedRole
	if r := st.roles[marker]; r == nil {
		p.exec(fmt.Sprintf("CREATE ROLE %s NOLOGIN", ident(marker)))
		p.exec(fmt.Sprintf("COMMENT ON ROLE %s IS %s", ident(marker), quoteLiteral(commentPrefix+"the marker of the roles dirgate manages: do not grant it privileges")))
		rep.Created++
	} else if r.canLogin {
		p.skip(marker, "", "the marker role has LOGIN: dirgate's roles are its members, so it must be a NOLOGIN role; fix it (ALTER ROLE "+ident(marker)+" NOLOGIN) or choose another managedRole")
		rep.SQL = nil
		return
	}
	// The group roles: the login role and one per mapped group.
	groupRole := map[string]string{} // directory group -> role, for the roles that can be used
	wantGroup := map[string]bool{c.LoginRole: true}
	usable := p.groupRole(c.LoginRole, "the login role", nil)
	if !usable {
		return // without it nobody can be let in: the skip says why
	}
	for _, g := range slices.Sorted(maps.Keys(c.Groups)) {
		r := c.Groups[g]
		wantGroup[r] = true
		if p.groupRole(r, "group "+g+" of "+people.Origin, c.Grants[g]) {
			groupRole[strings.ToLower(g)] = r
		}
	}
	// The people in scope, by role name; colliding names are nobody's.
	scope := map[string]bool{}
	for _, g := range c.Users {
		scope[strings.ToLower(g)] = true
	}
	byName := map[string][]userWant{}
	for _, person := range people.Persons {
		in := len(scope) == 0
		var roles []string
		for _, g := range person.Groups {
			key := strings.ToLower(g)
			in = in || scope[key]
			if r := groupRole[key]; r != "" && !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
		if !in {
			continue
		}
		rep.Persons++
		name, why := RoleNameOf(person.Login, c.RoleName)
		if why != "" {
			p.skip("", person.Login, why)
			continue
		}
		slices.Sort(roles)
		byName[name] = append(byName[name], userWant{login: person.Login, active: person.Active, roles: append([]string{c.LoginRole}, roles...)})
	}
	p.mapped = map[string]bool{c.LoginRole: true}
	for _, r := range groupRole {
		p.mapped[r] = true
	}
	p.memberOf = map[string][]string{}
	for of, ms := range st.members {
		for m := range ms {
			p.memberOf[m] = append(p.memberOf[m], of)
		}
	}
	for _, of := range p.memberOf {
		slices.Sort(of)
	}
	keep := map[string]bool{marker: true} // managed roles that stay as they are
	for r := range wantGroup {
		keep[r] = true
	}
	names := slices.Sorted(maps.Keys(byName))
	for _, name := range names {
		ws := byName[name]
		switch {
		case len(ws) > 1:
			var logins []string
			for _, w := range ws {
				logins = append(logins, w.login)
			}
			p.skip(name, strings.Join(logins, ", "), "these logins all become the role "+ident(name)+": none gets it (change roleName, or the logins); an existing role of that name is left as it is")
			keep[name] = true
		case wantGroup[name] || name == marker:
			p.skip(name, ws[0].login, "the login's role name is the name of a group or marker role")
		default:
			keep[name] = true
			p.userRole(name, ws[0])
		}
	}
	// Managed roles nobody wants any more.
	for _, name := range slices.Sorted(maps.Keys(st.roles)) {
		if keep[name] || !st.managed(name, marker) {
			continue
		}
		p.remove(st.roles[name])
	}
}

// groupRole ensures a NOLOGIN group role (creating it, managed, when it
// does not exist) with its extra grants, and says whether people can be
// made its members.
func (p *planner) groupRole(name, what string, grants []string) bool {
	r := p.st.roles[name]
	comment := commentPrefix + what
	if len(grants) > 0 {
		comment += grantsMark + strings.Join(grants, ", ")
	}
	if r == nil {
		p.exec(fmt.Sprintf("CREATE ROLE %s NOLOGIN IN ROLE %s", ident(name), ident(p.c.ManagedRole)))
		p.exec(fmt.Sprintf("COMMENT ON ROLE %s IS %s", ident(name), quoteLiteral(comment)))
		p.rep.Created++
		p.grants(name, nil, grants)
		return true
	}
	if !p.st.managed(name, p.c.ManagedRole) {
		p.rep.Notes = append(p.rep.Notes, fmt.Sprintf("%s (%s) exists and is not dirgate's: its members are managed, the role itself is left as it is", ident(name), what))
		if len(grants) > 0 {
			p.skip(name, "", "grants "+strings.Join(grants, ", ")+" are not given to a role dirgate does not manage")
		}
		return true
	}
	if r.canLogin {
		p.exec(fmt.Sprintf("ALTER ROLE %s NOLOGIN", ident(name)))
		p.rep.Altered++
	}
	if r.comment != comment {
		p.exec(fmt.Sprintf("COMMENT ON ROLE %s IS %s", ident(name), quoteLiteral(comment)))
	}
	p.grants(name, recordedGrants(r.comment), grants)
	return true
}

// grants gives a managed group role the roles it should have (those that
// exist) and takes back those an earlier run gave (recorded in its
// comment) that it should not.
func (p *planner) grants(name string, had, want []string) {
	for _, g := range want {
		switch {
		case p.st.roles[g] == nil:
			p.skip(name, "", "cannot grant "+ident(g)+": no such role")
		case !p.st.isMember(name, g):
			p.exec(fmt.Sprintf("GRANT %s TO %s", ident(g), ident(name)))
			p.rep.Granted++
		}
	}
	for _, g := range had {
		if !slices.Contains(want, g) && p.st.isMember(name, g) {
			p.exec(fmt.Sprintf("REVOKE %s FROM %s", ident(g), ident(name)))
			p.rep.Revoked++
		}
	}
}

// recordedGrants are the grants a managed role's comment records.
func recordedGrants(comment string) []string {
	_, list, ok := strings.Cut(comment, grantsMark)
	if !ok {
		return nil
	}
	var out []string
	for _, g := range strings.Split(list, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

// userRole ensures a person's role: created with LOGIN (or NOLOGIN when
// suspended) in its roles, or brought back in step, or, when the name is
// a role dirgate did not create, left alone and reported.
func (p *planner) userRole(name string, w userWant) {
	r := p.st.roles[name]
	comment := commentPrefix + "user " + w.login + " of " + p.rep.Origin
	login := "NOLOGIN"
	if w.active {
		login = "LOGIN"
	}
	if r == nil {
		in := append([]string{p.c.ManagedRole}, w.roles...)
		quoted := make([]string, len(in))
		for i, x := range in {
			quoted[i] = ident(x)
		}
		p.exec(fmt.Sprintf("CREATE ROLE %s %s IN ROLE %s", ident(name), login, strings.Join(quoted, ", ")))
		p.exec(fmt.Sprintf("COMMENT ON ROLE %s IS %s", ident(name), quoteLiteral(comment)))
		p.rep.Created++
		return
	}
	if !p.st.managed(name, p.c.ManagedRole) {
		p.skip(name, w.login, "the role "+ident(name)+" exists and dirgate did not create it (it is not a member of "+ident(p.c.ManagedRole)+"): left alone")
		return
	}
	if r.canLogin != w.active {
		p.exec(fmt.Sprintf("ALTER ROLE %s %s", ident(name), login))
		p.rep.Altered++
	}
	if r.comment != comment {
		p.exec(fmt.Sprintf("COMMENT ON ROLE %s IS %s", ident(name), quoteLiteral(comment)))
	}
	for _, g := range w.roles {
		if !p.st.isMember(name, g) {
			p.exec(fmt.Sprintf("GRANT %s TO %s", ident(g), ident(name)))
			p.rep.Granted++
		}
	}
	// Memberships in the roles this config maps are the directory's;
	// others (a DBA's own grants) are left alone.
	for _, g := range p.memberOf[name] {
		if p.mapped[g] && !slices.Contains(w.roles, g) {
			p.exec(fmt.Sprintf("REVOKE %s FROM %s", ident(g), ident(name)))
			p.rep.Revoked++
		}
	}
}

// remove ends a managed role nobody wants: dropped when it owns nothing
// (after REASSIGN OWNED to reassignOwnedTo, when set), else left without
// LOGIN and out of the login role, and reported.
func (p *planner) remove(r *role) {
	name := ident(r.name)
	nologin := func() {
		if r.canLogin {
			p.exec("ALTER ROLE " + name + " NOLOGIN")
			p.rep.Altered++
		}
		if p.st.isMember(r.name, p.c.LoginRole) {
			p.exec(fmt.Sprintf("REVOKE %s FROM %s", ident(p.c.LoginRole), name))
			p.rep.Revoked++
		}
	}
	if p.c.Removed == RemoveNoLogin {
		nologin()
		return
	}
	deps := r.depsHere + r.depsElsewhere
	if deps > 0 && p.c.ReassignOwnedTo != "" {
		if p.st.roles[p.c.ReassignOwnedTo] == nil {
			nologin()
			p.skip(r.name, "", "owns or holds privileges on "+fmt.Sprint(deps)+" objects, and reassignOwnedTo "+ident(p.c.ReassignOwnedTo)+" does not exist: left without LOGIN")
			return
		}
		p.exec(fmt.Sprintf("REASSIGN OWNED BY %s TO %s", name, ident(p.c.ReassignOwnedTo)))
		p.exec("DROP OWNED BY " + name)
		p.rep.Reassigned++
		deps = r.depsElsewhere
	}
	if deps > 0 {
		nologin()
		why := fmt.Sprintf("owns or holds privileges on %d objects: left without LOGIN; set reassignOwnedTo to hand them over and drop it", deps)
		if r.depsElsewhere > 0 {
			why = fmt.Sprintf("owns or holds privileges on %d objects in other databases, which REASSIGN OWNED here cannot reach: left without LOGIN; run REASSIGN OWNED BY %s and DROP OWNED BY %s in each of them", r.depsElsewhere, name, name)
		}
		p.skip(r.name, "", why)
		return
	}
	p.exec("DROP ROLE " + name)
	p.rep.Dropped++
}
