package pgroles

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig(nil)
	if err != nil || c.LoginRole != "immuta_user" || c.ManagedRole != DefaultManagedRole || c.RoleName != NameLogin || c.Removed != RemoveDrop || c.Schedule != "manual" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if c, err := ParseConfig([]byte("iamID: acme")); err != nil || c.LoginRole != "acme_user" {
		t.Fatalf("iamID: %+v %v", c, err)
	}
	for _, tc := range []struct{ doc, want string }{
		{"loginRol: x", `unknown field "loginRol"`},
		{"loginRole: pg_users", "starts with pg_"},
		{"loginRole: public", "reserves"},
		{"managedRole: immuta_user", "must not be the login role"},
		{"roleName: email", "not \"email\""},
		{"groups: {a: r, b: r}", `both map to the role "r"`},
		{"groups: {a: immuta_user}", "login or the marker role"},
		{"grants: {a: [pg_monitor]}", "group \"a\" is not in groups"},
		{"removed: delete", `not "delete"`},
		{"removed: nologin\nreassignOwnedTo: admin", "a step of removed: drop"},
		{"schedule: every hour", "manual"},
		{"lockTimeout: 2h", "lockTimeout: 2h0m0s is not between 1ms and 1h"},
		{"lockTimeout: soon", "invalid duration"},
		{"source: {}", "the source is ldap"},
		{"source: {ldap: {urls: [ldap://x]}}", "source.ldap"},
		{"[1, 2]", "cannot unmarshal"},
	} {
		_, err := ParseConfig([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.doc, err, tc.want)
		}
	}
	t.Setenv(EnvTarget, "")
	if _, err := c.TargetURL(nil); err == nil || !strings.Contains(err.Error(), EnvTarget) {
		t.Errorf("no target: %v", err)
	}
	t.Setenv(EnvTarget, "host=/tmp port=5432")
	if u, err := (&Config{Target: "postgres://other"}).TargetURL(nil); err != nil || u != "host=/tmp port=5432" {
		t.Errorf("the environment wins: %q %v", u, err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"", "users: [a]\ngroups: {a: b}\ngrants: {a: [c]}", `{"roleName":"local-part"}`, "source: {ldap: {urls: [ldaps://h]}}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		// What passes is a config a run can use: every role name usable.
		if checkRoleName(c.LoginRole) != "" || checkRoleName(c.ManagedRole) != "" {
			t.Fatalf("accepted %+v", c)
		}
		for g, r := range c.Groups {
			if checkRoleName(r) != "" {
				t.Fatalf("group %q's role %q accepted", g, r)
			}
		}
	})
}
