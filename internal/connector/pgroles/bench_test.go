package pgroles

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/connector/ldapsource/ldaptest"
	"github.com/dirgate/dirgate/internal/directory"
)

// BenchmarkSync10k: a run for an org of 10,000 persons in 200 groups
// (each person in two), every group mapped to a role, against a real
// PostgreSQL: "first" creates all the roles on a target without them,
// "no-change" is the run of every schedule tick once in step.
func BenchmarkSync10k(b *testing.B) {
	const persons, groups = 10000, 200
	pg := startTarget(b)
	conn := connect(b, pg, "pgroles_bench")
	ctx := context.Background()
	c := &Config{Groups: map[string]string{}}
	for g := range groups {
		c.Groups[fmt.Sprintf("group-%03d", g)] = fmt.Sprintf("g%03d", g)
	}
	if err := c.Normalize(); err != nil {
		b.Fatal(err)
	}
	src := &fixedSource{origin: "org bench"}
	for i := range persons {
		src.persons = append(src.persons, Person{Login: fmt.Sprintf("user%05d@bench.example", i), Active: i%50 != 0,
			Groups: []string{fmt.Sprintf("group-%03d", i%groups), fmt.Sprintf("group-%03d", (i+groups/2)%groups)}})
	}
	// Every role a run makes: the persons', the groups', the login role
	// and the marker.
	const roles = persons + groups + 2
	dropAll := func() {
		names := strings.TrimSpace(pg.SuperSQL(b, `SELECT string_agg(quote_ident(rolname), ', ') FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres'`))
		if names == "" {
			return
		}
		if _, err := conn.Exec(ctx, "DROP ROLE "+names); err != nil {
			b.Fatal(err)
		}
	}
	run := func() *Report {
		rep, err := Run(ctx, conn, c, src, Options{})
		if err != nil {
			b.Fatal(err)
		}
		return rep
	}

	b.Run("first", func(b *testing.B) {
		var statements int
		for b.Loop() {
			b.StopTimer()
			dropAll()
			b.StartTimer()
			rep := run()
			if rep.Created != roles {
				b.Fatalf("created %d roles, want %d", rep.Created, roles)
			}
			statements = len(rep.SQL)
		}
		b.ReportMetric(roles, "roles/op")
		b.ReportMetric(float64(statements), "statements/op")
	})
	b.Run("no-change", func(b *testing.B) {
		run()
		for b.Loop() {
			if rep := run(); rep.Pending() || rep.Persons != persons {
				b.Fatalf("in step: %s, %d statements", rep.Summary(), len(rep.SQL))
			}
		}
		b.ReportMetric(roles, "roles/op")
	})
}

// BenchmarkSync10kSources is BenchmarkSync10k with the real sources:
// Debian's slapd holding 10,000 inetOrgPerson users in 200 groupOfNames
// groups (read with the LDAP sync's settings, paged), and a dirgate org
// holding the same people (synced into it from that slapd). "first"
// creates every role, "no-change" is a run once in step, which must not
// write (the benchmark fails if the target's next transaction id moves).
func BenchmarkSync10kSources(b *testing.B) {
	ctx := context.Background()
	s := ldaptest.Start(b, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 10000, Groups: 200})
	set := openLDAPSettings(b, s)
	c := &Config{Groups: map[string]string{}, Source: &SourceConfig{LDAP: set}}
	for _, g := range s.Groups {
		if g.Kind == ldaptest.GroupOfNames {
			c.Groups[g.Name] = "ldap_" + strings.ToLower(g.Name)
		}
	}
	if err := c.Normalize(); err != nil {
		b.Fatal(err)
	}
	b.Setenv(EnvLDAPPassword, s.BindPassword)
	ldapSrc, err := SourceOf(c, nil, "", nil, nil)
	if err != nil {
		b.Fatal(err)
	}

	// The org: the same people, brought in by the LDAP sync.
	d := newDirectory(b)
	raw, err := json.Marshal(set)
	if err != nil {
		b.Fatal(err)
	}
	in, err := d.CreateIntegration(ctx, "acme", directory.IntegrationInput{Name: "slapd", Kind: directory.KindLDAP,
		Settings: raw, Owned: ldapsource.Owned(set), Secret: []byte(s.BindPassword)})
	if err != nil {
		b.Fatal(err)
	}
	if rep, err := ldapsource.Run(ctx, d, "acme", in, false, nil); err != nil || rep.Created != len(s.Users) {
		b.Fatalf("syncing slapd into the org: %v, %+v", err, rep)
	}
	orgSrc := &OrgSource{Dir: d, Org: "acme"}

	pg := startTarget(b)
	conn := connect(b, pg, "pgroles_bench")
	dropAll := func() {
		names := strings.TrimSpace(pg.SuperSQL(b, `SELECT string_agg(quote_ident(rolname), ', ') FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres'`))
		if names != "" {
			if _, err := conn.Exec(ctx, "DROP ROLE "+names); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, src := range []struct {
		name string
		src  Source
	}{{"slapd", ldapSrc}, {"org", orgSrc}} {
		b.Run(src.name+"/first", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dropAll()
				b.StartTimer()
				rep := mustRun(b, conn, c, src.src, Options{})
				if rep.Persons != len(s.Users) || rep.Created < len(s.Users) {
					b.Fatalf("first run: %s", rep.Summary())
				}
			}
		})
		b.Run(src.name+"/no-change", func(b *testing.B) {
			mustRun(b, conn, c, src.src, Options{})
			xid := nextXID(b, pg)
			for b.Loop() {
				if rep := mustRun(b, conn, c, src.src, Options{}); rep.Pending() {
					b.Fatalf("in step, the run planned %d statements", len(rep.SQL))
				}
			}
			if got := nextXID(b, pg); got != xid {
				b.Fatalf("no-change runs wrote: next xid %s, was %s", got, xid)
			}
		})
	}
}
