package dit_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/directory"
)

func grDN(name string) string { return "cn=" + name + ",ou=groups," + pwBase }

// readEntry reads one entry's attributes (nil when there is none).
func readEntry(t *testing.T, c *goldap.Conn, dn string, attrs ...string) *goldap.Entry {
	t.Helper()
	r, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading %s: %v", dn, err)
	}
	return r.Entries[0]
}

// TestLDAPWrites: with LDAP writes on for the org, an ORG_ADMIN adds,
// modifies, renames and deletes users and groups with the directory's
// rules (password policy, uniqueness, single values, roles it does not
// outrank), each result visible to its next search at once and in the
// system log with the admin as actor; with writes off, or for anyone
// else, nothing is written.
func TestLDAPWrites(t *testing.T) {
	dir, url := passwordDirectory(t)
	ctx := context.Background()
	ops := pwBind(t, url, "ops", "ops-Passw0rd")
	carol := goldap.NewAddRequest(pwDN("carol"), nil)
	carol.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
	carol.Attribute("uid", []string{"carol"})
	carol.Attribute("cn", []string{"Carol Danvers"})
	carol.Attribute("sn", []string{"Danvers"})
	carol.Attribute("givenName", []string{"Carol"})
	carol.Attribute("mail", []string{"carol@example.com"})
	carol.Attribute("userPassword", []string{"carol-Passw0rd"})

	wantCode(t, "add with writes off", ops.Add(carol), goldap.LDAPResultUnwillingToPerform, "--ldap-writes on")
	if _, err := dir.SetLDAPWrites(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes on in the snapshot", func() bool {
		err := ops.Del(goldap.NewDelRequest(pwDN("nobody"), nil))
		return goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject)
	})
	for _, who := range []string{"alice", "svc"} {
		c := pwBind(t, url, who, who+"-Passw0rd")
		wantCode(t, who+" adding", c.Add(carol), goldap.LDAPResultInsufficientAccessRights, "ORG_ADMIN or SUPER_ADMIN")
	}

	// Add: the policy decides the password; the entry is there at once.
	weak := *carol
	weak.DN = pwDN("dave")
	weak.Attributes = slices.Clone(carol.Attributes)
	weak.Attributes[1] = goldap.Attribute{Type: "uid", Vals: []string{"dave"}}
	weak.Attributes[6] = goldap.Attribute{Type: "userPassword", Vals: []string{"short"}}
	wantCode(t, "a weak password", ops.Add(&weak), goldap.LDAPResultConstraintViolation, "at least 12 characters")
	if err := ops.Add(carol); err != nil {
		t.Fatalf("adding carol: %v", err)
	}
	e := readEntry(t, ops, pwDN("carol"), "mail", "cn", "displayName", "sn")
	if e == nil || e.GetAttributeValue("mail") != "carol@example.com" || e.GetAttributeValue("cn") != "Carol Danvers" ||
		e.GetAttributeValue("displayName") != "" {
		t.Fatalf("carol right after the add: %+v", e)
	}
	if !binds(t, url, "carol", "carol-Passw0rd") {
		t.Fatal("carol does not bind with the password she was added with")
	}
	wantCode(t, "adding carol again", ops.Add(carol), goldap.LDAPResultEntryAlreadyExists, "already exists")
	posix := goldap.NewAddRequest(pwDN("erin"), nil)
	posix.Attribute("objectClass", []string{"inetOrgPerson", "posixAccount"})
	wantCode(t, "an unserved object class", ops.Add(posix), goldap.LDAPResultObjectClassViolation, "posixAccount")
	misnamed := goldap.NewAddRequest("uid=erin,ou=groups,"+pwBase, nil)
	misnamed.Attribute("objectClass", []string{"groupOfUniqueNames"})
	wantCode(t, "a user under ou=groups", ops.Add(misnamed), goldap.LDAPResultNamingViolation, "groups are named by cn")
	other := goldap.NewAddRequest("uid=erin,ou=users,dc=other,dc=okta,dc=com", nil)
	other.Attribute("objectClass", []string{"inetOrgPerson"})
	wantCode(t, "another org", ops.Add(other), goldap.LDAPResultNoSuchObject, "no such entry")

	// Modify: all the changes or none; one value per attribute.
	mod := func(dn string, f func(*goldap.ModifyRequest)) error {
		r := goldap.NewModifyRequest(dn, nil)
		f(r)
		return ops.Modify(r)
	}
	err := mod(pwDN("carol"), func(r *goldap.ModifyRequest) {
		r.Replace("title", []string{"Pilot"})
		r.Delete("mail", []string{"someone@example.com"})
	})
	wantCode(t, "deleting a value carol lacks", err, goldap.LDAPResultNoSuchAttribute, "mail does not have that value")
	if e := readEntry(t, ops, pwDN("carol"), "title"); e.GetAttributeValue("title") != "" {
		t.Fatalf("a failed modify changed the title: %q", e.GetAttributeValue("title"))
	}
	err = mod(pwDN("carol"), func(r *goldap.ModifyRequest) {
		r.Replace("title", []string{"Pilot"})
		r.Add("departmentNumber", []string{"7"})
	})
	wantCode(t, "an attribute users lack", err, goldap.LDAPResultObjectClassViolation, "no attribute departmentNumber")
	wantCode(t, "two mails", mod(pwDN("carol"), func(r *goldap.ModifyRequest) { r.Add("mail", []string{"c2@example.com"}) }),
		goldap.LDAPResultConstraintViolation, "takes one")
	wantCode(t, "renaming by Modify", mod(pwDN("carol"), func(r *goldap.ModifyRequest) { r.Replace("uid", []string{"c"}) }),
		goldap.LDAPResultNotAllowedOnRDN, "ModifyDN")
	wantCode(t, "memberOf", mod(pwDN("carol"), func(r *goldap.ModifyRequest) { r.Add("memberOf", []string{grDN("x")}) }),
		goldap.LDAPResultConstraintViolation, "uniqueMember")
	wantCode(t, "a bad mail", mod(pwDN("carol"), func(r *goldap.ModifyRequest) { r.Replace("mail", []string{"not-an-address"}) }),
		goldap.LDAPResultConstraintViolation, "not an address")
	wantCode(t, "a password with a profile change", mod(pwDN("carol"), func(r *goldap.ModifyRequest) {
		r.Replace("title", []string{"Pilot"})
		r.Replace("userPassword", []string{"Carol-Second-1"})
	}), goldap.LDAPResultUnwillingToPerform, "a modify of its own")
	wantCode(t, "ops changing the super admin", mod(pwDN("root"), func(r *goldap.ModifyRequest) { r.Replace("title", []string{"x"}) }),
		goldap.LDAPResultInsufficientAccessRights, "only a super admin")
	if err := mod(pwDN("carol"), func(r *goldap.ModifyRequest) {
		r.Replace("title", []string{"Pilot"})
		r.Delete("mail", nil)
		r.Replace("cn", []string{"Captain Marvel"})
	}); err != nil {
		t.Fatalf("modifying carol: %v", err)
	}
	e = readEntry(t, ops, pwDN("carol"), "title", "mail", "cn", "displayName")
	if e.GetAttributeValue("title") != "Pilot" || e.GetAttributeValue("mail") != "" ||
		e.GetAttributeValue("cn") != "Captain Marvel" || e.GetAttributeValue("displayName") != "Captain Marvel" {
		t.Fatalf("carol after the modify: %+v", e.Attributes)
	}

	// Groups: uniqueMember names users; members change by value.
	g := goldap.NewAddRequest(grDN("pilots"), nil)
	g.Attribute("objectClass", []string{"top", "groupOfUniqueNames"})
	g.Attribute("cn", []string{"pilots"})
	g.Attribute("description", []string{"They fly"})
	g.Attribute("uniqueMember", []string{pwDN("carol"), strings.ToUpper(pwDN("bob"))})
	if err := ops.Add(g); err != nil {
		t.Fatalf("adding a group: %v", err)
	}
	members := func() []string {
		e := readEntry(t, ops, grDN("pilots"), "uniqueMember")
		if e == nil {
			return nil
		}
		v := e.GetAttributeValues("uniqueMember")
		slices.Sort(v)
		return v
	}
	if m := members(); !slices.Equal(m, []string{pwDN("bob"), pwDN("carol")}) {
		t.Fatalf("pilots' members: %q", m)
	}
	if e := readEntry(t, ops, pwDN("carol"), "memberOf"); e.GetAttributeValue("memberOf") != grDN("pilots") {
		t.Fatalf("carol's memberOf: %q", e.GetAttributeValues("memberOf"))
	}
	bad := *g
	bad.DN, bad.Attributes = grDN("ghosts"), []goldap.Attribute{{Type: "objectClass", Vals: []string{"groupOfUniqueNames"}},
		{Type: "uniqueMember", Vals: []string{pwDN("nobody")}}}
	wantCode(t, "a member who is nobody", ops.Add(&bad), goldap.LDAPResultConstraintViolation, "names no user")
	wantCode(t, "bob twice", mod(grDN("pilots"), func(r *goldap.ModifyRequest) { r.Add("uniqueMember", []string{pwDN("bob")}) }),
		goldap.LDAPResultAttributeOrValueExists, "already")
	wantCode(t, "removing a non-member", mod(grDN("pilots"), func(r *goldap.ModifyRequest) { r.Delete("uniqueMember", []string{pwDN("alice")}) }),
		goldap.LDAPResultNoSuchAttribute, "does not have")
	if err := mod(grDN("pilots"), func(r *goldap.ModifyRequest) {
		r.Add("uniqueMember", []string{pwDN("alice")})
		r.Delete("uniqueMember", []string{pwDN("bob")})
		r.Replace("description", []string{"They fly high"})
	}); err != nil {
		t.Fatalf("modifying the group: %v", err)
	}
	if m := members(); !slices.Equal(m, []string{pwDN("alice"), pwDN("carol")}) {
		t.Fatalf("pilots' members after the modify: %q", m)
	}

	// ModifyDN renames in place.
	if err := ops.ModifyDN(goldap.NewModifyDNRequest(pwDN("carol"), "uid=marvel", true, "")); err != nil {
		t.Fatalf("renaming carol: %v", err)
	}
	if !binds(t, url, "marvel", "carol-Passw0rd") || readEntry(t, ops, pwDN("carol")) != nil {
		t.Fatal("after the rename marvel does not bind, or carol's entry is still there")
	}
	if m := members(); !slices.Equal(m, []string{pwDN("alice"), pwDN("marvel")}) {
		t.Fatalf("pilots' members after the rename: %q", m)
	}
	wantCode(t, "keeping the old uid", ops.ModifyDN(goldap.NewModifyDNRequest(pwDN("marvel"), "uid=carol", false, "")),
		goldap.LDAPResultUnwillingToPerform, "ldapmodrdn -r")
	wantCode(t, "moving", ops.ModifyDN(goldap.NewModifyDNRequest(pwDN("marvel"), "uid=marvel", true, "ou=groups,"+pwBase)),
		goldap.LDAPResultUnwillingToPerform, "do not move")
	wantCode(t, "onto bob", ops.ModifyDN(goldap.NewModifyDNRequest(pwDN("marvel"), "uid=bob", true, "")),
		goldap.LDAPResultEntryAlreadyExists, "bob")
	if err := ops.ModifyDN(goldap.NewModifyDNRequest(grDN("pilots"), "cn=aviators", true, "")); err != nil {
		t.Fatalf("renaming the group: %v", err)
	}

	// Delete.
	wantCode(t, "ops deleting itself", ops.Del(goldap.NewDelRequest(pwDN("ops"), nil)),
		goldap.LDAPResultInsufficientAccessRights, "itself")
	wantCode(t, "deleting ou=users", ops.Del(goldap.NewDelRequest("ou=users,"+pwBase, nil)),
		goldap.LDAPResultNotAllowedOnNonLeaf, "fixed")
	if err := ops.Del(goldap.NewDelRequest(pwDN("marvel"), nil)); err != nil {
		t.Fatalf("deleting marvel: %v", err)
	}
	if readEntry(t, ops, pwDN("marvel")) != nil {
		t.Fatal("marvel is still there")
	}
	if _, err := dir.User(ctx, "acme", "marvel"); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("marvel in the directory after the delete: %v", err)
	}
	if err := ops.Del(goldap.NewDelRequest(grDN("aviators"), nil)); err != nil {
		t.Fatalf("deleting the group: %v", err)
	}
	if readEntry(t, ops, grDN("aviators")) != nil || readEntry(t, ops, pwDN("alice")) == nil {
		t.Fatal("the group is still there, or its member went with it")
	}

	// The system log names ops as the actor of each write.
	byOps := func(evs []directory.LogEvent) bool {
		n := 0
		for _, e := range evs {
			if e.Actor.Type == "SystemPrincipal" { // the test's set-up
				continue
			}
			if e.Actor.AlternateID != "ops" {
				t.Fatalf("%s by %q, want ops", e.EventType, e.Actor.AlternateID)
			}
			n++
		}
		return n > 0
	}
	for _, et := range []string{directory.EventUserCreate, directory.EventUserUpdateProfile, directory.EventUserDeactivate,
		directory.EventUserDelete, directory.EventGroupCreate, directory.EventGroupUpdate, directory.EventGroupMembershipAdd,
		directory.EventGroupMembershipRemove, directory.EventGroupDelete} {
		waitEventsOf(t, dir, et, byOps)
	}
}
