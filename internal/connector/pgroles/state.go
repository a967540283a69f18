package pgroles

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
)

// role is a role of the target as its catalog has it.
type role struct {
	oid      uint32
	name     string
	canLogin bool
	comment  string
	// deps counts what stops DROP ROLE (pg_shdepend: owned objects and
	// privileges), here (this database and shared objects) and in other
	// databases, where REASSIGN OWNED cannot reach.
	depsHere, depsElsewhere int
}

// state is the target's roles and memberships.
type state struct {
	roles   map[string]*role
	members map[string]map[string]bool // role name -> names of its members
}

func (s *state) isMember(member, of string) bool { return s.members[of][member] }

// managed says whether dirgate manages name: a member of the marker.
func (s *state) managed(name, marker string) bool { return s.isMember(name, marker) }

// readState reads the catalog in q's transaction.
func readState(ctx context.Context, q pgx.Tx) (*state, error) {
	st := &state{roles: map[string]*role{}, members: map[string]map[string]bool{}}
	byOID := map[uint32]*role{}
	rows, err := q.Query(ctx, `SELECT oid, rolname, rolcanlogin, coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		r := &role{}
		if err := rows.Scan(&r.oid, &r.name, &r.canLogin, &r.comment); err != nil {
			rows.Close()
			return nil, err
		}
		st.roles[r.name], byOID[r.oid] = r, r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT DISTINCT roleid, member FROM pg_auth_members`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var of, m uint32
		if err := rows.Scan(&of, &m); err != nil {
			rows.Close()
			return nil, err
		}
		ro, rm := byOID[of], byOID[m]
		if ro == nil || rm == nil {
			continue
		}
		if st.members[ro.name] == nil {
			st.members[ro.name] = map[string]bool{}
		}
		st.members[ro.name][rm.name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Dependencies stop a DROP ROLE; the pinned ones are the bootstrap
	// roles', which dirgate never manages.
	rows, err = q.Query(ctx, `SELECT refobjid, dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())), count(*)
		FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass AND deptype <> 'p' GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var oid uint32
		var here bool
		var n int
		if err := rows.Scan(&oid, &here, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if r := byOID[oid]; r != nil {
			if here {
				r.depsHere += n
			} else {
				r.depsElsewhere += n
			}
		}
	}
	return st, rows.Err()
}

// ident quotes a role name for SQL.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// quoteLiteral quotes a string constant as PostgreSQL's quote_literal
// does: with a backslash in it, as an escape string (E'…', backslashes
// doubled), which reads the same whatever standard_conforming_strings
// says; in a plain '…' a login ending in \ would, with that setting off
// on the target, end the literal early and the rest run as SQL.
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), "'", "''")
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(s, `\`, `\\`) + "'"
	}
	return "'" + s + "'"
}
