package main

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/directory"
)

func sshaHash(pw, salt string) string {
	h := sha1.Sum([]byte(pw + salt))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}

// slapcatFile is a small slapcat-shaped export: suffix and ou entries,
// operational attributes, base64 values, an escaped DN, a folded line.
func slapcatFile(t *testing.T) string {
	t.Helper()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	ldif := `version: 1

dn: dc=corp,dc=example
objectClass: top
objectClass: dcObject
objectClass: organization
o: Corp
dc: corp
structuralObjectClass: organization
entryUUID: 3b2b2f5e-6f0c-103e-8a1b-7d6c2a4c1c11
createTimestamp: 20240101120000Z

dn: ou=people,dc=corp,dc=example
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
uid: alice
cn: Alice Anders
sn: Anders
givenName: Alice
mail: alice@corp.example
costCenter: 42
userPassword:: ` + b64(sshaHash("alice-password", "salt")) + `
entryCSN: 20240101120000.000000Z#000000#000#000000
modifiersName: cn=admin,dc=corp,dc=example
memberOf: cn=eng,ou=groups,dc=corp,dc=example

dn: uid=pat\+test@example.com,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
uid: pat+test@example.com
sn: Test
displayName:: ` + b64("Pät Tëst") + `
title: a title long enough that slapcat would fold it at seventy-six co
 lumns of width

dn: cn=bob,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
cn: bob
sn: Builder
userPassword: {MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==

dn: cn=eng,ou=groups,dc=corp,dc=example
objectClass: groupOfUniqueNames
cn: eng
uniqueMember: uid=alice,ou=people,dc=corp,dc=example
uniqueMember: uid=pat\+test@example.com,ou=people,dc=corp,dc=example
uniqueMember: uid=ghost,ou=people,dc=corp,dc=example

dn: cn=all,ou=groups,dc=corp,dc=example
objectClass: groupOfNames
cn: all
member: uid=alice,ou=people,dc=corp,dc=example
member: cn=bob,ou=people,dc=corp,dc=example
`
	p := filepath.Join(t.TempDir(), "corp.ldif")
	if err := os.WriteFile(p, []byte(ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var importLine = regexp.MustCompile(`(?m)^imported (\d+) users, (\d+) groups, (\d+) memberships in [0-9.]+s \((\d+) entries read, (\d+) skipped\)$`)

func TestImport(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	file := slapcatFile(t)

	out := c.ok("", "import", "--data", data, "--org", "acme", "--dry-run", file)
	if !strings.Contains(out, "dry run: would import 3 users, 2 groups, 5 memberships") {
		t.Errorf("dry run:\n%s", out)
	}
	if out := c.ok("", "user", "list", "--data", data, "--org", "acme"); strings.Count(out, "\n") != 1 {
		t.Fatalf("dry run imported something:\n%s", out)
	}

	out = c.ok("", "import", "--data", data, "--org", "acme", file)
	m := importLine.FindStringSubmatch(out)
	if m == nil || m[1] != "3" || m[2] != "2" || m[3] != "4" || m[4] != "7" || m[5] != "2" {
		t.Fatalf("import report:\n%s", out)
	}
	for _, want := range []string{
		"skipped 2 entries:",
		"line 3: dc=corp,dc=example: container entry",
		"line 13: ou=people,dc=corp,dc=example: container entry",
		"userPassword in scheme {MD5} is not supported",
		`member "ghost" of group eng is not a user of org acme`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "costCenter") {
		t.Errorf("a declared custom attribute reported as ignored:\n%s", out)
	}
	if !strings.Contains(c.ok("", "user", "show", "--data", data, "--org", "acme", "--login", "pat+test@example.com"), "Pät Tëst") {
		t.Error("the base64 display name did not arrive")
	}
	members := c.ok("", "group", "members", "--data", data, "--org", "acme", "--name", "all")
	if !strings.Contains(members, "alice") || !strings.Contains(members, "bob") {
		t.Errorf("members of all:\n%s", members)
	}
	// The imported {SSHA} hash is kept as it is.
	o, err := (&app{ctx: context.Background(), stderr: os.Stderr}).openDirectory(data, false)
	if err != nil {
		t.Fatal(err)
	}
	u, err := o.dir.User(context.Background(), "acme", "alice")
	o.close()
	if err != nil || u.PasswordHash != sshaHash("alice-password", "salt") || u.Profile.Custom["costCenter"] != "42" {
		t.Errorf("alice: %+v %v", u, err)
	}

	// A second import of the same users fails as a whole.
	c.fails(1, "import failed, nothing was imported: line 17: uid=alice,ou=people,dc=corp,dc=example: a user with login alice already exists", "",
		"import", "--data", data, "--org", "acme", file)
}

func TestImportAllOrNothing(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	in := "dn: uid=good,ou=people,dc=x\nobjectClass: inetOrgPerson\nuid: good\nsn: g\n\n" +
		"dn: uid=bad,ou=people,dc=x\nobjectClass: inetOrgPerson\nuid: bad\nsn: b\nmail: not-an-address\n"
	c.fails(1, `import failed, nothing was imported: line 6: uid=bad,ou=people,dc=x: email "not-an-address" is not an address`, in,
		"import", "--data", data, "--org", "acme", "-")
	if out := c.ok("", "user", "list", "--data", data, "--org", "acme"); strings.Contains(out, "good") {
		t.Fatalf("a failed import left users:\n%s", out)
	}
	c.fails(1, "ldif: line 1", "not ldif at all\n", "import", "--data", data, "--org", "acme", "-")
	c.fails(1, "no such file", "", "import", "--data", data, "--org", "acme", filepath.Join(data, "missing.ldif"))
	c.fails(1, `no org named "nope"`, "", "import", "--data", data, "--org", "nope", "-")
}

func TestExportImportRoundTrip(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	c.ok("", "init", "--data", data, "--org", "copy", "--custom-attribute", "costCenter")
	a := func(args ...string) []string { return append(args, "--data", data, "--org", "acme") }
	c.ok("alice-password\n", a("user", "create", "--login", "alice", "--email", "alice@acme.example", "--first", "Alice", "--last", "Anders",
		"--department", "Eng", "--attr", "costCenter=42", "--password-stdin")...)
	c.ok("svc-password\n", a("user", "create", "--login", "ldap-bind", "--service-account", "--role", "READ_ONLY_ADMIN", "--password-stdin")...)
	c.ok("", a("user", "create", "--login", "björn,the+1", "--display-name", " spaced ", "--status", "STAGED")...)
	c.ok("carol-password\n", a("user", "create", "--login", "carol", "--password-stdin")...)
	c.ok("", a("user", "suspend", "--login", "carol")...)
	c.ok("", a("group", "create", "--name", "eng", "--description", "Engineers")...)
	c.ok("", a("group", "create", "--name", "a, b")...)
	c.ok("", a("group", "add-member", "--group", "eng", "--login", "alice")...)
	c.ok("", a("group", "add-member", "--group", "eng", "--login", "björn,the+1")...)
	c.ok("", a("group", "add-member", "--group", "a, b", "--login", "carol")...)

	file := filepath.Join(t.TempDir(), "acme.ldif")
	r := c.run("", a("export", "--output", file)...)
	if r.code != 0 || !strings.Contains(r.stderr, "exported 4 users, 2 groups, 3 memberships of org acme") || r.stdout != "" {
		t.Fatalf("export: %+v", r)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode: %v %v", fi, err)
	}
	body, _ := os.ReadFile(file)
	if !strings.Contains(string(body), "userPassword: {ARGON2}") || strings.Contains(string(body), "alice-password") {
		t.Errorf("export content:\n%s", body)
	}
	if out := c.ok("", a("export")...); out != string(body) {
		t.Errorf("export to stdout differs from the file")
	}

	out := c.ok("", "import", "--data", data, "--org", "copy", file)
	if m := importLine.FindStringSubmatch(out); m == nil || m[1] != "4" || m[2] != "2" || m[3] != "3" || m[5] != "3" {
		t.Fatalf("import of the export:\n%s", out)
	}

	o, err := (&app{ctx: context.Background(), stderr: os.Stderr}).openDirectory(data, false)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	ctx := context.Background()
	load := func(org string) (*directory.OrgData, map[string][]string) {
		og, err := o.dir.Org(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		od, _, err := o.dir.LoadOrg(ctx, og.ID)
		if err != nil {
			t.Fatal(err)
		}
		login := map[string]string{}
		for _, u := range od.Users {
			login[u.ID] = u.Profile.Login
		}
		name := map[string]string{}
		for _, g := range od.Groups {
			name[g.ID] = g.Name
		}
		members := map[string][]string{}
		for _, m := range od.Memberships {
			members[name[m.GroupID]] = append(members[name[m.GroupID]], login[m.UserID])
		}
		for _, v := range members {
			slices.Sort(v)
		}
		return od, members
	}
	src, srcM := load("acme")
	dst, dstM := load("copy")
	for i, u := range src.Users {
		d := dst.Users[i]
		if d.Profile.Login != u.Profile.Login || d.Status != u.Status || d.Type != u.Type || d.PasswordHash != u.PasswordHash ||
			!slices.Equal(d.Roles, u.Roles) || !equalProfiles(d.Profile, u.Profile) {
			t.Errorf("user %s:\n got %+v\nwant %+v", u.Profile.Login, d, u)
		}
	}
	for g, m := range srcM {
		if !slices.Equal(dstM[g], m) {
			t.Errorf("group %s members %v, want %v", g, dstM[g], m)
		}
	}
	for i, g := range src.Groups {
		if dst.Groups[i].Name != g.Name || dst.Groups[i].Description != g.Description {
			t.Errorf("group %+v, want %+v", dst.Groups[i], g)
		}
	}
}

func equalProfiles(a, b directory.Profile) bool {
	if len(a.Custom) == 0 && len(b.Custom) == 0 {
		a.Custom, b.Custom = nil, nil
	}
	return reflect.DeepEqual(a, b)
}
