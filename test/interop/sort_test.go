package interop

import (
	"slices"
	"strings"
	"testing"
)

// TestLdapsearchSort: OpenLDAP's ldapsearch with server-side sorting
// (RFC 2891, -E sss=...) against dirgate serve: ascending, reversed, with
// paging, and a key that cannot be sorted by, non-critical (entries
// unsorted, the reason in the response) and critical (refused).
func TestLdapsearchSort(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	s := startDirgate(t, data, "--no-demo")
	search := func(args ...string) result {
		return s.ldapsearch(t, asBind(s.ldapsURL, append([]string{"-b", exUsers, "-s", "one", "(objectClass=inetOrgPerson)", "uid"}, args...)...)...)
	}
	uids := func(r result) []string { return attrs(r.stdout, "uid") }
	all := []string{"alice", "bob", "carol", "ldap-bind"}
	desc := slices.Clone(all)
	slices.Reverse(desc)

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"by uid", []string{"-E", "sss=uid"}, all},
		{"by uid, reversed", []string{"-E", "sss=-uid"}, desc},
		{"by sn then uid reversed, pages of 2", []string{"-E", "sss=sn/-uid", "-E", "pr=2/noprompt"}, []string{"carol", "bob", "alice", "ldap-bind"}},
	} {
		r := search(append([]string{"-LLL"}, tc.args...)...)
		if r.code != 0 || !slices.Equal(uids(r), tc.want) {
			t.Errorf("%s: exit %d, order %v, want %v:\n%s", tc.name, r.code, uids(r), tc.want, r.stderr)
		}
	}
	r := search("-E", "sss=-uid")
	if !strings.Contains(r.stdout, "# sortResult: (0) Success") {
		t.Errorf("no sort result in:\n%s", r.stdout)
	}
	r = search("-E", "sss=objectClass")
	if r.code != 0 || len(uids(r)) != len(all) || !strings.Contains(r.stdout, "sortResult: (18) Inappropriate matching") {
		t.Errorf("non-critical, no ordering rule: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = search("-E", "!sss=shoeSize")
	if r.code != 12 || len(uids(r)) != 0 || !strings.Contains(r.stdout+r.stderr, "sortResult: (16) No such attribute") {
		t.Errorf("critical, unknown type: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
