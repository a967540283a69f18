package interop

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLdapWriteTools manages users and groups with OpenLDAP's ldapadd,
// ldapmodify, ldapmodrdn and ldapdelete against dirgate serve over LDAPS:
// refused while the org's LDAP writes are off (the default) and for the
// read-only bind account; with them on, an ORG_ADMIN's LDIF adds a user
// and a group, changes them, renames them and deletes them, the
// password policy applying, each change visible to ldapsearch at once and
// in the system log by the admin.
func TestLdapWriteTools(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Ops-password-1\n", "user", "create", "--data", data, "--org", "example", "--login", "ops",
		"--role", "ORG_ADMIN", "--password-stdin")
	mustDirgate(t, strongPasswordPolicy, "policy", "apply", "--data", data, "--org", "example", "-f", "-")
	opsDN := "uid=ops," + exUsers
	groups := "ou=groups," + exBase
	const dana = `dn: uid=dana,ou=users,dc=example,dc=okta,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: dana
cn: Dana Scully
sn: Scully
givenName: Dana
mail: dana@example.com
title: Agent
userPassword: Dana-password-1

dn: cn=xfiles,ou=groups,dc=example,dc=okta,dc=com
objectClass: top
objectClass: groupOfUniqueNames
cn: xfiles
description: Unexplained cases
uniqueMember: uid=dana,ou=users,dc=example,dc=okta,dc=com
uniqueMember: uid=bob,ou=users,dc=example,dc=okta,dc=com
`
	var s *dgServer
	tool := func(name, dn, pw, stdin string, args ...string) result {
		return s.ldapTool(t, name, stdin, append([]string{"-x", "-H", s.ldapsURL, "-D", dn, "-w", pw}, args...)...)
	}
	fails := func(what string, r result, text string) { t.Helper(); r.wantFailure(t, what, text) }
	succeeds := func(what string, r result) { t.Helper(); r.wantSuccess(t, what) }
	search := func(base string, attrs ...string) string {
		t.Helper()
		r := s.ldapTool(t, "ldapsearch", "", append(asBind(s.ldapsURL, "-b", base, "-s", "base"), attrs...)...)
		if r.code == 32 {
			return ""
		}
		succeeds("ldapsearch "+base, r)
		return r.stdout
	}

	s = startDirgate(t, data, "--no-demo")
	fails("ldapadd with writes off", tool("ldapadd", opsDN, "Ops-password-1", dana), "--ldap-writes on")
	s.stop(t)
	out := mustDirgate(t, "", "org", "set", "--data", data, "--org", "example", "--ldap-writes", "on")
	if !strings.Contains(out, "LDAP writes on") {
		t.Fatalf("org set --ldap-writes on said: %s", out)
	}
	s = startDirgate(t, data, "--no-demo")

	fails("the read-only bind account", tool("ldapadd", bindDN, bindPW, dana), "Insufficient access")
	weak := strings.Replace(dana, "Dana-password-1", "short", 1)
	fails("a weak password", tool("ldapadd", opsDN, "Ops-password-1", weak), "at least 12 characters")
	succeeds("ldapadd of a user and a group", tool("ldapadd", opsDN, "Ops-password-1", dana))
	danaDN := "uid=dana," + exUsers
	if e := search(danaDN, "title", "memberOf"); !slices.Equal(attrs(e, "title"), []string{"Agent"}) ||
		!slices.Equal(attrs(e, "memberOf"), []string{"cn=xfiles," + groups}) {
		t.Fatalf("dana after ldapadd:\n%s", e)
	}
	succeeds("dana binds", s.ldapTool(t, "ldapwhoami", "", "-x", "-H", s.ldapsURL, "-D", danaDN, "-w", "Dana-password-1"))
	fails("adding dana again", tool("ldapadd", opsDN, "Ops-password-1", dana), "Already exists")

	succeeds("ldapmodify", tool("ldapmodify", opsDN, "Ops-password-1", `dn: uid=dana,ou=users,dc=example,dc=okta,dc=com
changetype: modify
replace: title
title: Special Agent
-
add: mobile
mobile: +1 555 0100

dn: cn=xfiles,ou=groups,dc=example,dc=okta,dc=com
changetype: modify
add: uniqueMember
uniqueMember: uid=alice,ou=users,dc=example,dc=okta,dc=com
-
delete: uniqueMember
uniqueMember: uid=bob,ou=users,dc=example,dc=okta,dc=com
`))
	if e := search(danaDN, "title", "mobile"); attrs(e, "title")[0] != "Special Agent" || attrs(e, "mobile")[0] != "+1 555 0100" {
		t.Fatalf("dana after ldapmodify:\n%s", e)
	}
	fails("a second title", tool("ldapmodify", opsDN, "Ops-password-1",
		"dn: "+danaDN+"\nchangetype: modify\nadd: title\ntitle: Agent\n-\n"), "Constraint violation")

	succeeds("ldapmodrdn of the user", tool("ldapmodrdn", opsDN, "Ops-password-1", "", "-r", danaDN, "uid=scully"))
	succeeds("ldapmodrdn of the group", tool("ldapmodrdn", opsDN, "Ops-password-1", "", "-r", "cn=xfiles,"+groups, "cn=x-files"))
	scullyDN := "uid=scully," + exUsers
	members := attrs(search("cn=x-files,"+groups, "uniqueMember"), "uniqueMember")
	slices.Sort(members)
	if !slices.Equal(members, []string{aliceExD, scullyDN}) {
		t.Fatalf("x-files' members after the renames: %q", members)
	}
	if search(danaDN) != "" {
		t.Fatal("dana's old DN is still served")
	}

	succeeds("ldapdelete", tool("ldapdelete", opsDN, "Ops-password-1", "", scullyDN, "cn=x-files,"+groups))
	if search(scullyDN) != "" || search("cn=x-files,"+groups) != "" {
		t.Fatal("deleted entries are still served")
	}
	if !strings.Contains(search(aliceExD, "uid"), "uid: alice") {
		t.Fatal("a deleted group's member went with it")
	}

	s.stop(t)
	events := mustDirgate(t, "", "logs", "--data", data, "--org", "example", "--output", "json")
	for _, et := range []string{"user.lifecycle.create", "user.account.update_profile", "group.lifecycle.create",
		"group.user_membership.add", "group.user_membership.remove", "user.lifecycle.delete", "group.lifecycle.delete"} {
		re := regexp.MustCompile(`"eventType":"` + regexp.QuoteMeta(et) + `"[^\n]*"actor":\{[^}]*"alternateId":"ops"`)
		if !re.MatchString(events) {
			t.Errorf("no %s event by ops in the system log", et)
		}
	}
	if strings.Contains(events, "Dana-password-1") || strings.Contains(s.out.String(), "Dana-password-1") {
		t.Error("a password is in a log")
	}
}
