package pgroles

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// Person is someone who may get a role.
type Person struct {
	Login string
	// Active: the role has LOGIN. A suspended or deactivated person keeps
	// a role (and what it owns) without LOGIN.
	Active bool
	// Groups are the person's groups by directory (or source) name.
	Groups []string
}

// People are a source's persons, and where they come from (for the roles'
// comments and the reports).
type People struct {
	Origin  string
	Persons []Person
}

// A Source reads the people.
type Source interface {
	Read(ctx context.Context) (*People, error)
}

// OrgSource reads a dirgate org in one consistent read.
type OrgSource struct {
	Dir *directory.Directory
	Org string
}

func (s *OrgSource) Read(ctx context.Context) (*People, error) {
	o, err := s.Dir.Org(ctx, s.Org)
	if err != nil {
		return nil, err
	}
	od, _, err := s.Dir.LoadOrg(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	groupName := make(map[string]string, len(od.Groups))
	for _, g := range od.Groups {
		groupName[g.ID] = g.Name
	}
	groups := map[string][]string{}
	for _, m := range od.Memberships {
		groups[m.UserID] = append(groups[m.UserID], groupName[m.GroupID])
	}
	out := &People{Origin: "org " + o.Name}
	for _, u := range od.Users {
		if u.Type == store.TypeServiceAccount {
			continue // applications, not people
		}
		var active bool
		switch u.Status {
		case directory.StatusStaged:
			continue // not yet a person who may sign in
		case directory.StatusSuspended, directory.StatusDeprovisioned:
		default: // ACTIVE, and the states LDAP itself refuses (locked out, expired password) until they are cleared
			active = true
		}
		out.Persons = append(out.Persons, Person{Login: u.Profile.Login, Active: active, Groups: groups[u.ID]})
	}
	return out, nil
}

// LDAPSource reads an LDAP server with the LDAP sync's settings: every user
// it finds is active, its groups are the group search's (renamed by the
// settings' group mapping).
type LDAPSource struct {
	Settings *ldapsource.Settings
	Password []byte
	Log      *slog.Logger
}

func (s *LDAPSource) Read(ctx context.Context) (*People, error) {
	src, _, err := ldapsource.Read(ctx, s.Settings, s.Password, s.Log)
	if err != nil {
		return nil, err
	}
	login := make(map[string]int, len(src.Users))
	out := &People{Origin: strings.Join(s.Settings.URLs, " ")}
	for _, u := range src.Users {
		login[u.ExternalID] = len(out.Persons)
		out.Persons = append(out.Persons, Person{Login: u.Login, Active: true})
	}
	for _, g := range src.Groups {
		for _, ext := range g.Members {
			if i, ok := login[ext]; ok && !slices.Contains(out.Persons[i].Groups, g.Name) {
				out.Persons[i].Groups = append(out.Persons[i].Groups, g.Name)
			}
		}
	}
	return out, nil
}

// SourceOf is the source cfg names: its LDAP server (password from
// DIRGATE_PGSYNC_LDAP_PASSWORD, read with getenv; nil: os.Getenv, as
// Config.TargetURL), else org of d.
func SourceOf(cfg *Config, d *directory.Directory, org string, getenv func(string) string, log *slog.Logger) (Source, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if cfg.Source == nil || cfg.Source.LDAP == nil {
		if d == nil || org == "" {
			return nil, fmt.Errorf("the source is a dirgate org: give --org")
		}
		return &OrgSource{Dir: d, Org: org}, nil
	}
	pw := getenv(EnvLDAPPassword)
	if pw == "" {
		return nil, fmt.Errorf("the LDAP source's bind password comes from %s, which is not set", EnvLDAPPassword)
	}
	return &LDAPSource{Settings: cfg.Source.LDAP, Password: []byte(pw), Log: log}, nil
}
