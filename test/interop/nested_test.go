package interop

import (
	"slices"
	"strings"
	"testing"
)

// TestLdapsearchNestedGroups: groups nested with `dirgate group add-group`
// as ldapsearch sees them through dirgate serve: uniqueMember lists the
// groups in a group, memberOf stays direct, and the
// LDAP_MATCHING_RULE_IN_CHAIN rule (1.2.840.113556.1.4.1941) finds the
// members through the chain; with `org set --ldap-memberof transitive`,
// memberOf lists every group.
func TestLdapsearchNestedGroups(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data) // alice in eng
	cli := func(args ...string) string {
		return mustDirgate(t, "", append(args, "--data", data, "--org", "example")...)
	}
	cli("group", "create", "--name", "all-staff")
	cli("group", "create", "--name", "sales")
	cli("group", "add-member", "--group", "sales", "--login", "bob")
	cli("group", "add-group", "--group", "all-staff", "--child", "eng")
	cli("group", "add-group", "--group", "all-staff", "--child", "sales")
	r := dirgate(t, "", "group", "add-group", "--data", data, "--org", "example", "--group", "eng", "--child", "all-staff")
	if r.code == 0 || !strings.Contains(r.stderr, "cycles") {
		t.Fatalf("a cycle through the CLI: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := cli("group", "groups", "--group", "all-staff"); !strings.Contains(out, "eng") || !strings.Contains(out, "sales") {
		t.Fatalf("group groups:\n%s", out)
	}
	s := startDirgate(t, data, "--no-demo")
	groups := "ou=groups," + exBase
	search := func(filter string, attrs ...string) string {
		t.Helper()
		r := s.ldapTool(t, "ldapsearch", "", append(asBind(s.ldapsURL, "-b", exBase, filter), attrs...)...)
		r.wantSuccess(t, "ldapsearch "+filter)
		return r.stdout
	}
	sorted := func(v []string) []string { slices.Sort(v); return v }

	if got := sorted(attrs(search("(cn=all-staff)", "uniqueMember"), "uniqueMember")); !slices.Equal(got, []string{"cn=eng," + groups, "cn=sales," + groups}) {
		t.Errorf("all-staff's uniqueMember: %q", got)
	}
	if got := attrs(search("(uid=alice)", "memberOf"), "memberOf"); !slices.Equal(got, []string{"cn=eng," + groups}) {
		t.Errorf("alice's memberOf (direct): %q", got)
	}
	inChain := "(&(objectClass=inetOrgPerson)(memberOf:1.2.840.113556.1.4.1941:=cn=all-staff," + groups + "))"
	if got := sorted(attrs(search(inChain, "uid"), "uid")); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("all-staff's users through the chain: %q", got)
	}
	if got := sorted(attrs(search("(uniqueMember:1.2.840.113556.1.4.1941:="+aliceExD+")", "cn"), "cn")); !slices.Equal(got, []string{"all-staff", "eng"}) {
		t.Errorf("alice's groups through the chain: %q", got)
	}
	s.stop(t)

	cli("org", "set", "--ldap-memberof", "transitive")
	s = startDirgate(t, data, "--no-demo")
	if got := sorted(attrs(search("(uid=alice)", "memberOf"), "memberOf")); !slices.Equal(got, []string{"cn=all-staff," + groups, "cn=eng," + groups}) {
		t.Errorf("alice's memberOf (transitive): %q", got)
	}
}
