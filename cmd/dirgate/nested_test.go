package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestNestedGroups: add-group, remove-group and groups on a data
// directory; a cycle, a group in itself and unknown groups refused.
func TestNestedGroups(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	g := func(args ...string) []string { return append(args, "--data", data, "--org", "acme") }
	for _, name := range []string{"all", "eng", "backend"} {
		c.ok("", g("group", "create", "--name", name, "--description", strings.ToUpper(name))...)
	}
	for _, step := range []struct{ args, want string }{
		{"add-group --group all --child eng", "added group eng to all\n"},
		{"add-group --group ALL --child eng", "group eng is already in ALL\n"},
		{"add-group --group eng --child backend", "added group backend to eng\n"},
		{"add-group --group all --child backend", "added group backend to all\n"},
		{"remove-group --group all --child backend", "removed group backend from all\n"},
		{"remove-group --group all --child backend", "group backend was not in all\n"},
	} {
		if out := c.ok("", g(append([]string{"group"}, strings.Fields(step.args)...)...)...); out != step.want {
			t.Errorf("group %s: %q, want %q", step.args, out, step.want)
		}
	}
	c.fails(1, "group all cannot be a member of backend: backend is already in all, and groups do not form cycles", "",
		g("group", "add-group", "--group", "backend", "--child", "all")...)
	c.fails(1, "group eng cannot be a member of itself", "", g("group", "add-group", "--group", "eng", "--child", "eng")...)
	c.fails(1, `no group "ops" in org acme`, "", g("group", "add-group", "--group", "ops", "--child", "eng")...)
	c.fails(1, `no group "ops" in org acme`, "", g("group", "remove-group", "--group", "eng", "--child", "ops")...)
	c.fails(1, `no group "ops" in org acme`, "", g("group", "groups", "--group", "ops")...)
	c.fails(2, `required flag(s) "child" not set`, "", g("group", "add-group", "--group", "eng")...)
	c.fails(2, `required flag(s) "group" not set`, "", g("group", "groups")...)

	out := c.ok("", g("group", "groups", "--group", "all")...)
	if !regexp.MustCompile(`^NAME\s+ID\s+DESCRIPTION\neng\s+00g\w{17}\s+ENG\n$`).MatchString(out) {
		t.Errorf("groups in all:\n%s", out)
	}
	out = c.ok("", g("group", "groups", "--group", "backend", "--parents")...)
	if !regexp.MustCompile(`^NAME\s+ID\s+DESCRIPTION\neng\s+00g\w{17}\s+ENG\n$`).MatchString(out) {
		t.Errorf("parents of backend:\n%s", out)
	}
	var gs []struct{ ID, Name, Description string }
	if err := json.Unmarshal([]byte(c.ok("", g("group", "groups", "--group", "eng", "--parents", "-o", "json")...)), &gs); err != nil ||
		len(gs) != 1 || gs[0].Name != "all" || gs[0].Description != "ALL" || !strings.HasPrefix(gs[0].ID, "00g") {
		t.Errorf("parents of eng, json: %+v %v", gs, err)
	}
	if out := c.ok("", g("group", "groups", "--group", "backend", "-o", "json")...); strings.TrimSpace(out) != "[]" {
		t.Errorf("groups in backend, json: %q", out)
	}

	// Deleting a group takes its links with it.
	c.ok("", g("group", "delete", "--name", "eng")...)
	if out := c.ok("", g("group", "groups", "--group", "all")...); strings.Contains(out, "eng") {
		t.Errorf("groups in all after deleting eng:\n%s", out)
	}
	if out := c.ok("", g("group", "groups", "--group", "backend", "--parents")...); strings.Contains(out, "eng") {
		t.Errorf("parents of backend after deleting eng:\n%s", out)
	}
}

// TestOrgLDAPMemberOf: org set --ldap-memberof direct|transitive.
func TestOrgLDAPMemberOf(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	set := func(args ...string) []string {
		return append([]string{"org", "set", "--data", data, "--org", "acme"}, args...)
	}
	if out := c.ok("", set("--ldap-memberof", "transitive")...); out != "org acme: LDAP memberOf transitive: every group a user or group is in, through nested groups too\n" {
		t.Errorf("transitive: %q", out)
	}
	if out := c.ok("", set("--ldap-memberof", "direct", "--ldap-writes", "on")...); !strings.Contains(out, "LDAP writes on") ||
		!strings.HasSuffix(out, "org acme: LDAP memberOf direct: the groups a user or group is itself a member of\n") {
		t.Errorf("direct with writes on: %q", out)
	}
	c.fails(2, `--ldap-memberof is direct or transitive, not "on"`, "", set("--ldap-memberof", "on")...)
	c.fails(2, "--ldap-memberof", "", set()...)
}
