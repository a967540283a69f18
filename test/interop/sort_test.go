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

// TestLdapsearchVLV: OpenLDAP's ldapsearch with a virtual list view
// (-E vlv=before/after/offset/count and vlv=before/after:value, with -E
// sss) against dirgate serve: the window around an offset, around the
// first entry at or after a value, past the end, the response's position
// and count. (ldapsearch itself refuses a view without sorting: that
// answer, sortControlMissing, is TestVirtualListView's.)
func TestLdapsearchVLV(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data) // alice, bob, carol, ldap-bind
	s := startDirgate(t, data, "--no-demo")
	// ldapsearch asks for the next window on stdin after each (and loops
	// on an end of file): a line it cannot parse stops it with exit 1.
	search := func(args ...string) result {
		r := s.ldapTool(t, "ldapsearch", "stop\n", asBind(s.ldapsURL, append([]string{"-b", exUsers, "-s", "one", "(objectClass=inetOrgPerson)", "uid"}, args...)...)[1:]...)
		if i := strings.Index(r.stdout, "Press [before/after"); i >= 0 && r.code == 1 {
			r.stdout, r.code = r.stdout[:i], 0 // the first window's
		}
		return r
	}
	for _, tc := range []struct {
		name, vlv, sss string
		want           []string
		response       string
	}{
		{"offset 2, one either side", "1/1/2/0", "uid", []string{"alice", "bob", "carol"}, "pos=2 count=4"},
		{"offset 1 of a list believed 8 long", "0/1/5/8", "uid", []string{"carol", "ldap-bind"}, "pos=3 count=4"},
		{"at or after c", "0/1:c", "uid", []string{"carol", "ldap-bind"}, "pos=3 count=4"},
		{"at or after c, reversed", "0/1:c", "-uid", []string{"bob", "alice"}, "pos=3 count=4"},
		{"past the end", "2/2:z", "uid", []string{"carol", "ldap-bind"}, "pos=5 count=4"},
	} {
		r := search("-E", "sss="+tc.sss, "-E", "vlv="+tc.vlv)
		if got := attrs(r.stdout, "uid"); r.code != 0 || !slices.Equal(got, tc.want) || !strings.Contains(r.stdout, tc.response) {
			t.Errorf("%s: exit %d, %v, want %v with %q:\n%s%s", tc.name, r.code, got, tc.want, tc.response, r.stdout, r.stderr)
		}
	}
}
