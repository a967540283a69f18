package dit_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/directory"
)

const inChain = "1.2.840.113556.1.4.1941"

// searchDNs returns the DNs a subtree search of the org finds with filter,
// sorted.
func searchDNs(t *testing.T, c *goldap.Conn, filter string) []string {
	t.Helper()
	r, err := c.Search(goldap.NewSearchRequest(pwBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		filter, []string{"1.1"}, nil))
	if err != nil {
		t.Fatalf("search %s: %v", filter, err)
	}
	var dns []string
	for _, e := range r.Entries {
		dns = append(dns, e.DN)
	}
	slices.Sort(dns)
	return dns
}

// values reads one attribute of one entry, sorted.
func values(t *testing.T, c *goldap.Conn, dn, attr string) []string {
	t.Helper()
	e := readEntry(t, c, dn, attr)
	if e == nil {
		t.Fatalf("no entry %s", dn)
	}
	v := e.GetAttributeValues(attr)
	slices.Sort(v)
	return v
}

// TestNestedGroups: groups in groups over a real directory. uniqueMember
// lists a group's users and then the groups in it; memberOf stays direct
// unless the org makes it transitive; LDAP_MATCHING_RULE_IN_CHAIN on
// memberOf and uniqueMember resolves the chain; cycles are refused; the
// snapshot stays right when users change (patched) and when links change
// (rebuilt); LDAP writes can nest groups too.
func TestNestedGroups(t *testing.T) {
	dir, url := passwordDirectory(t)
	ctx := context.Background()
	for _, g := range []string{"eng", "backend", "db", "sales"} {
		if _, err := dir.CreateGroup(ctx, "acme", directory.GroupInput{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{"db", "alice"}, {"backend", "bob"}, {"eng", "svc"}, {"sales", "bob"}} {
		if _, err := dir.AddMember(ctx, "acme", m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range [][2]string{{"eng", "backend"}, {"backend", "db"}} {
		if changed, err := dir.AddGroupToGroup(ctx, "acme", l[0], l[1]); err != nil || !changed {
			t.Fatalf("putting %s in %s: %v %v", l[1], l[0], changed, err)
		}
	}
	if changed, err := dir.AddGroupToGroup(ctx, "acme", "eng", "backend"); err != nil || changed {
		t.Fatalf("putting backend in eng again: %v %v", changed, err)
	}
	for _, l := range [][2]string{{"db", "eng"}, {"backend", "eng"}, {"db", "db"}} {
		_, err := dir.AddGroupToGroup(ctx, "acme", l[0], l[1])
		if directory.CodeOf(err) != directory.CodeInvalid || !strings.Contains(err.Error(), "cannot be a member") {
			t.Errorf("putting %s in %s (a cycle): %v", l[1], l[0], err)
		}
	}
	ops := pwBind(t, url, "ops", "ops-Passw0rd")
	waitFor(t, "the links in the snapshot", func() bool {
		e := readEntry(t, ops, grDN("backend"), "uniqueMember")
		return e != nil && slices.Contains(e.GetAttributeValues("uniqueMember"), grDN("db"))
	})

	if got, want := values(t, ops, grDN("eng"), "uniqueMember"), []string{grDN("backend"), pwDN("svc")}; !slices.Equal(got, want) {
		t.Errorf("eng's uniqueMember: %q, want %q", got, want)
	}
	if got := values(t, ops, pwDN("alice"), "memberOf"); !slices.Equal(got, []string{grDN("db")}) {
		t.Errorf("alice's memberOf (direct by default): %q", got)
	}
	if got := values(t, ops, grDN("db"), "memberOf"); !slices.Equal(got, []string{grDN("backend")}) {
		t.Errorf("db's memberOf: %q", got)
	}
	chain := func() {
		t.Helper()
		want := []string{grDN("backend"), grDN("db"), pwDN("alice"), pwDN("bob"), pwDN("svc")}
		slices.Sort(want)
		if got := searchDNs(t, ops, "(memberOf:"+inChain+":="+grDN("eng")+")"); !slices.Equal(got, want) {
			t.Errorf("everything in eng through the chain: %q, want %q", got, want)
		}
		want = []string{pwDN("alice"), pwDN("bob"), pwDN("svc")}
		slices.Sort(want)
		if got := searchDNs(t, ops, "(&(objectClass=inetOrgPerson)(memberOf:"+inChain+":="+strings.ToUpper(grDN("eng"))+"))"); !slices.Equal(got, want) {
			t.Errorf("eng's users through the chain: %q, want %q", got, want)
		}
		want = []string{grDN("backend"), grDN("db"), grDN("eng")}
		if got := searchDNs(t, ops, "(uniqueMember:"+inChain+":="+pwDN("alice")+")"); !slices.Equal(got, want) {
			t.Errorf("alice's groups through the chain: %q, want %q", got, want)
		}
		want = []string{grDN("backend"), grDN("eng"), grDN("sales")}
		if got := searchDNs(t, ops, "(uniqueMember:"+inChain+":="+pwDN("bob")+")"); !slices.Equal(got, want) {
			t.Errorf("bob's groups through the chain: %q, want %q", got, want)
		}
		if got := searchDNs(t, ops, "(uniqueMember:"+inChain+":="+grDN("db")+")"); !slices.Equal(got, []string{grDN("backend"), grDN("eng")}) {
			t.Errorf("the groups db is in through the chain: %q", got)
		}
	}
	chain()
	if got := searchDNs(t, ops, "(memberOf:"+inChain+":=cn=nothing,ou=groups,"+pwBase+")"); len(got) != 0 {
		t.Errorf("in a group that does not exist: %q", got)
	}
	if got := searchDNs(t, ops, "(memberOf="+grDN("eng")+")"); !slices.Equal(got, []string{grDN("backend"), pwDN("svc")}) {
		t.Errorf("directly in eng: %q", got)
	}

	// A user's change is patched into the snapshot: a renamed member of a
	// group with a group in it keeps both in its uniqueMember.
	if _, err := dir.PatchProfile(ctx, "acme", "bob", map[string]string{"login": "robert"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob renamed", func() bool { return readEntry(t, ops, pwDN("robert")) != nil })
	if got, want := values(t, ops, grDN("backend"), "uniqueMember"), []string{grDN("db"), pwDN("robert")}; !slices.Equal(got, want) {
		t.Errorf("backend's uniqueMember after its member's rename: %q, want %q", got, want)
	}
	if got := searchDNs(t, ops, "(uniqueMember:"+inChain+":="+pwDN("robert")+")"); !slices.Equal(got, []string{grDN("backend"), grDN("eng"), grDN("sales")}) {
		t.Errorf("robert's groups through the chain: %q", got)
	}

	// Transitive memberOf, per org.
	if _, err := dir.SetLDAPMemberOf(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
	want := []string{grDN("backend"), grDN("db"), grDN("eng")}
	waitFor(t, "transitive memberOf", func() bool { return slices.Equal(values(t, ops, pwDN("alice"), "memberOf"), want) })
	if got := values(t, ops, grDN("db"), "memberOf"); !slices.Equal(got, []string{grDN("backend"), grDN("eng")}) {
		t.Errorf("db's transitive memberOf: %q", got)
	}
	if got := searchDNs(t, ops, "(memberOf="+grDN("eng")+")"); len(got) != 5 {
		t.Errorf("with transitive memberOf, (memberOf=eng) finds %q, want 5 entries", got)
	}

	// Taking a group out rebuilds the chain.
	if changed, err := dir.RemoveGroupFromGroup(ctx, "acme", "backend", "db"); err != nil || !changed {
		t.Fatalf("taking db out of backend: %v %v", changed, err)
	}
	waitFor(t, "db out of backend", func() bool {
		return slices.Equal(values(t, ops, pwDN("alice"), "memberOf"), []string{grDN("db")})
	})
	if got := searchDNs(t, ops, "(uniqueMember:"+inChain+":="+pwDN("alice")+")"); !slices.Equal(got, []string{grDN("db")}) {
		t.Errorf("alice's groups after db left backend: %q", got)
	}

	// LDAP writes nest groups too, under the same rule.
	if _, err := dir.SetLDAPWrites(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes on", func() bool {
		return goldap.IsErrorWithCode(ops.Del(goldap.NewDelRequest(pwDN("nobody"), nil)), goldap.LDAPResultNoSuchObject)
	})
	mod := goldap.NewModifyRequest(grDN("backend"), nil)
	mod.Add("uniqueMember", []string{grDN("db")})
	if err := ops.Modify(mod); err != nil {
		t.Fatalf("putting db back in backend over LDAP: %v", err)
	}
	if got := values(t, ops, pwDN("alice"), "memberOf"); !slices.Equal(got, want) {
		t.Errorf("alice's memberOf right after the LDAP modify: %q, want %q", got, want)
	}
	mod = goldap.NewModifyRequest(grDN("db"), nil)
	mod.Add("uniqueMember", []string{grDN("eng")})
	wantCode(t, "a cycle over LDAP", ops.Modify(mod), goldap.LDAPResultConstraintViolation, "cannot be a member")
	add := goldap.NewAddRequest(grDN("all"), nil)
	add.Attribute("objectClass", []string{"groupOfUniqueNames"})
	add.Attribute("uniqueMember", []string{grDN("eng"), grDN("sales")})
	if err := ops.Add(add); err != nil {
		t.Fatalf("adding a group of groups: %v", err)
	}
	if got := values(t, ops, grDN("all"), "uniqueMember"); !slices.Equal(got, []string{grDN("eng"), grDN("sales")}) {
		t.Errorf("the new group's uniqueMember: %q", got)
	}
	del := goldap.NewModifyRequest(grDN("all"), nil)
	del.Delete("uniqueMember", []string{grDN("sales")})
	if err := ops.Modify(del); err != nil {
		t.Fatalf("taking sales out over LDAP: %v", err)
	}
	if got, err := dir.ChildGroups(ctx, "acme", "all"); err != nil || len(got) != 1 || got[0].Name != "eng" {
		t.Errorf("all's groups in the directory: %v %v", got, err)
	}
	waitEventsOf(t, dir, directory.EventGroupGroupAdd, func(evs []directory.LogEvent) bool { return len(evs) >= 5 })
}
