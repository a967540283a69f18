package dit_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/directory"
)

// TestPOSIXEntries: an org serving POSIX accounts shows its users as
// posixAccount and shadowAccount and its groups as posixGroup with the
// numbers the directory gave and the attributes its settings make; SSSD's
// lookups by uidNumber and gidNumber find them; cn=schema describes the
// classes; a renamed member's login follows in memberUid; turning POSIX
// off takes it all away.
func TestPOSIXEntries(t *testing.T) {
	dir, url := passwordDirectory(t)
	ctx := context.Background()
	if _, err := dir.CreateGroup(ctx, "acme", directory.GroupInput{Name: "eng"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if _, err := dir.AddMember(ctx, "acme", "eng", u); err != nil {
			t.Fatal(err)
		}
	}
	ops := pwBind(t, url, "ops", "ops-Passw0rd")
	if e := readEntry(t, ops, pwDN("alice"), "uidNumber", "objectClass"); e.GetAttributeValue("uidNumber") != "" ||
		slices.Contains(e.GetAttributeValues("objectClass"), "posixAccount") {
		t.Fatalf("alice is a POSIX account before the org serves them: %+v", e.Attributes)
	}
	if _, err := dir.SetPOSIX(ctx, "acme", directory.POSIXSettings{Enabled: true, Home: "/srv/home/{localpart}", Shell: "/bin/zsh"}); err != nil {
		t.Fatal(err)
	}
	alice, err := dir.User(ctx, "acme", "alice")
	if err != nil || alice.UIDNumber < directory.DefaultUIDMin {
		t.Fatalf("alice's uidNumber: %v %v", alice, err)
	}
	uid := strconv.FormatInt(alice.UIDNumber, 10)
	waitFor(t, "POSIX in the snapshot", func() bool {
		return readEntry(t, ops, pwDN("alice"), "uidNumber").GetAttributeValue("uidNumber") == uid
	})
	e := readEntry(t, ops, pwDN("alice"), "objectClass", "gidNumber", "homeDirectory", "loginShell", "gecos", "shadowLastChange")
	if !slices.Contains(e.GetAttributeValues("objectClass"), "posixAccount") || !slices.Contains(e.GetAttributeValues("objectClass"), "shadowAccount") ||
		e.GetAttributeValue("gidNumber") != "100" || e.GetAttributeValue("homeDirectory") != "/srv/home/alice" ||
		e.GetAttributeValue("loginShell") != "/bin/zsh" || e.GetAttributeValue("gecos") != "alice" || e.GetAttributeValue("shadowLastChange") == "" {
		t.Errorf("alice as a POSIX account: %+v", e.Attributes)
	}
	eng, err := dir.Group(ctx, "acme", "eng")
	if err != nil || eng.GIDNumber < directory.DefaultGIDMin {
		t.Fatalf("eng's gidNumber: %v %v", eng, err)
	}
	gid := strconv.FormatInt(eng.GIDNumber, 10)
	g := readEntry(t, ops, grDN("eng"), "objectClass", "gidNumber", "memberUid")
	if !slices.Contains(g.GetAttributeValues("objectClass"), "posixGroup") || g.GetAttributeValue("gidNumber") != gid {
		t.Errorf("eng as a POSIX group: %+v", g.Attributes)
	}
	if m := sortedValues(g.GetAttributeValues("memberUid")); !slices.Equal(m, []string{"alice", "bob"}) {
		t.Errorf("eng's memberUid: %q", m)
	}
	// What SSSD asks (ldap_schema = rfc2307bis).
	if got := searchDNs(t, ops, "(&(uidNumber="+uid+")(objectclass=posixAccount)(uid=*)(&(uidNumber=*)(!(uidNumber=0))))"); !slices.Equal(got, []string{pwDN("alice")}) {
		t.Errorf("by uidNumber: %q", got)
	}
	if got := searchDNs(t, ops, "(&(gidNumber="+gid+")(objectclass=posixGroup)(cn=*)(&(gidNumber=*)(!(gidNumber=0))))"); !slices.Equal(got, []string{grDN("eng")}) {
		t.Errorf("by gidNumber: %q", got)
	}
	if got := searchDNs(t, ops, "(&(uniqueMember="+pwDN("bob")+")(objectClass=posixGroup))"); !slices.Equal(got, []string{grDN("eng")}) {
		t.Errorf("bob's POSIX groups: %q", got)
	}
	s := readEntry(t, ops, "cn=schema", "objectClasses")
	found := false
	for _, c := range s.GetAttributeValues("objectClasses") {
		found = found || strings.Contains(c, "NAME 'posixAccount'")
	}
	if !found {
		t.Error("cn=schema does not describe posixAccount")
	}

	if _, err := dir.PatchProfile(ctx, "acme", "bob", map[string]string{"login": "robert"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "robert in memberUid", func() bool {
		return slices.Equal(sortedValues(readEntry(t, ops, grDN("eng"), "memberUid").GetAttributeValues("memberUid")), []string{"alice", "robert"})
	})
	if _, err := dir.SetPOSIX(ctx, "acme", directory.POSIXSettings{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "POSIX off", func() bool {
		return readEntry(t, ops, pwDN("alice"), "uidNumber").GetAttributeValue("uidNumber") == ""
	})
}

func sortedValues(v []string) []string {
	v = slices.Clone(v)
	slices.Sort(v)
	return v
}
