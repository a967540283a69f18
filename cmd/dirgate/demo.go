package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

// The demo org serve creates on an empty data directory: the names the
// reference documents (Immuta, PostgreSQL pg_hba.conf) use.
const (
	demoOrg     = "example"
	demoBindUID = "ldap-bind"
)

type demoUser struct {
	login, first, last, title, dept string
	roles                           []string
	service                         bool
}

var demoUsers = []demoUser{
	{login: demoBindUID, first: "LDAP", last: "Bind", title: "Service account for LDAP search+bind", roles: []string{directory.RoleReadOnlyAdmin}, service: true},
	{login: "admin", first: "Org", last: "Admin", title: "Directory administrator", dept: "IT", roles: []string{directory.RoleOrgAdmin}},
	{login: "alice", first: "Alice", last: "Anderson", title: "Staff Engineer", dept: "Engineering"},
	{login: "bob", first: "Bob", last: "Brown", title: "Software Engineer", dept: "Engineering"},
	{login: "carol", first: "Carol", last: "Chen", title: "Account Executive", dept: "Sales"},
	{login: "dave", first: "Dave", last: "Diaz", title: "Data Analyst", dept: "Analytics"},
}

var demoGroups = []struct {
	name, desc string
	members    []string
}{
	{"engineering", "Engineers", []string{"alice", "bob"}},
	{"sales", "Sales team", []string{"carol"}},
	{"analytics", "Data analysts", []string{"dave"}},
	{"immuta_users", "Users who may sign in to Immuta's query engine", []string{"alice", "carol", "dave"}},
}

// demoCredential is one demo account and its password.
type demoCredential struct {
	login, password string
	roles           []string
}

// passwordAlphabet holds no character that needs quoting in pg_hba.conf,
// a shell or an LDAP URL, and no comma (the password,TOTP separator).
const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// randomPassword returns 20 characters from passwordAlphabet (about 116
// bits) with at least one upper-case letter, lower-case letter and digit.
func randomPassword() string {
	for {
		b := make([]byte, 20)
		var r [1]byte
		for i := 0; i < len(b); {
			rand.Read(r[:])
			// Reject to stay uniform: the largest multiple of len below 256.
			if int(r[0]) >= 256-256%len(passwordAlphabet) {
				continue
			}
			b[i] = passwordAlphabet[int(r[0])%len(passwordAlphabet)]
			i++
		}
		s := string(b)
		if strings.ContainsAny(s, "ABCDEFGHJKLMNPQRSTUVWXYZ") && strings.ContainsAny(s, "abcdefghijkmnopqrstuvwxyz") && strings.ContainsAny(s, "23456789") {
			return s
		}
	}
}

// createDemo creates the demo org with random passwords, writes them to
// the credentials file first (mode 0600), and returns them.
func createDemo(ctx context.Context, d *directory.Directory, credFile string, b *banner) ([]demoCredential, error) {
	creds := make([]demoCredential, len(demoUsers))
	users := make([]directory.ImportUser, len(demoUsers))
	for i, u := range demoUsers {
		pw := randomPassword()
		creds[i] = demoCredential{login: u.login, password: pw, roles: u.roles}
		users[i] = directory.ImportUser{Source: "demo user " + u.login, UserInput: directory.UserInput{
			Profile: directory.Profile{
				Login: u.login, FirstName: u.first, LastName: u.last, Title: u.title, Department: u.dept,
				Email: u.login + "@example.com", Organization: "Example Inc.",
			},
			Password: []byte(pw), Status: directory.StatusActive, ServiceAccount: u.service, Roles: u.roles,
		}}
	}
	if u := &users[0].Profile; u.Login == demoBindUID {
		u.Email = ""
	}
	groups := make([]directory.ImportGroup, len(demoGroups))
	for i, g := range demoGroups {
		groups[i] = directory.ImportGroup{Source: "demo group " + g.name, GroupInput: directory.GroupInput{Name: g.name, Description: g.desc}, MemberLogins: g.members}
	}
	b.bindPassword = creds[0].password
	if err := writeCredentials(credFile, b, creds); err != nil {
		return nil, err
	}
	if _, err := d.CreateOrg(ctx, directory.OrgInput{Name: demoOrg, Suffix: directory.DefaultSuffix}); err != nil {
		return nil, fmt.Errorf("creating the demo org: %w", err)
	}
	if _, err := d.Import(ctx, demoOrg, users, groups, nil); err != nil {
		return nil, fmt.Errorf("creating the demo users: %w", err)
	}
	return creds, nil
}

// writeCredentials writes the demo credentials file atomically, mode 0600
// from the start.
func writeCredentials(name string, b *banner, creds []demoCredential) error {
	var s strings.Builder
	fmt.Fprintf(&s, "# dirgate demo credentials, written %s by 'dirgate serve' on first start.\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&s, "# Keep this file private. Change a password with:\n#   dirgate user set-password --data %s --org %s --login LOGIN\n\n", b.dataDir, demoOrg)
	fmt.Fprintf(&s, "org:       %s\nbase DN:   %s\nusers:     %s\ngroups:    %s\n\n", demoOrg, b.demoBase, "ou=users,"+b.demoBase, "ou=groups,"+b.demoBase)
	fmt.Fprintf(&s, "bind DN:       %s\nbind password: %s\n\n", b.bindDN(), creds[0].password)
	fmt.Fprintf(&s, "%-14s %-22s %s\n", "LOGIN", "PASSWORD", "ROLES")
	for _, c := range creds {
		fmt.Fprintf(&s, "%-14s %-22s %s\n", c.login, c.password, rolesText(c.roles))
	}
	if ex := b.ldapsearchExample(); ex != "" {
		fmt.Fprintf(&s, "\n# Try it:\n%s\n", ex)
	}
	if pg := b.pgHBALine(); pg != "" {
		fmt.Fprintf(&s, "\n# pg_hba.conf (search+bind):\n%s\n", pg)
	}
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("demo credentials: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("demo credentials: %w", err)
	}
	if _, err := f.WriteString(s.String()); err != nil {
		f.Close()
		return fmt.Errorf("demo credentials: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo credentials: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("demo credentials: %w", err)
	}
	return nil
}
