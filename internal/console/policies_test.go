package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/directory"
)

const mfaPolicy = `kind: sign-on
name: MFA for people over LDAP
priority: 1
people:
  groups: {include: [Everyone]}
  users: {exclude: [viewer]}
rules:
  - name: LDAP needs MFA
    priority: 1
    conditions: {authType: ldap}
    action: mfa
`

func TestPolicies(t *testing.T) {
	f := newFixture(t)
	if _, err := f.d.CreateUser(ctx, "example", directory.UserInput{Profile: directory.Profile{Login: "root"},
		Password: []byte("root-Password-1"), Roles: []string{directory.RoleSuperAdmin}}); err != nil {
		t.Fatal(err)
	}
	s := f.browser(t)
	csrf := s.signIn("root", "root-Password-1")
	code, page, _ := s.post("/console/policies", url.Values{"csrf": {csrf}, "doc": {mfaPolicy}})
	if code != 200 || !strings.Contains(page, "created: sign-on/MFA for people over LDAP") {
		t.Fatalf("apply: %d\n%s", code, page)
	}
	for _, want := range []string{"Applies to everyone, except viewer.",
		"A sign-in through an LDAP bind from anywhere needs the password and a code from an authenticator app (MFA)."} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q:\n%s", want, page)
		}
	}
	ps, err := f.d.Policies(ctx, "example")
	if err != nil || len(ps) != 1 || ps[0].Rules[0].Action != "mfa" {
		t.Fatalf("policies: %+v, %v", ps, err)
	}
	// A bad document is refused with the parser's words, kept in the form.
	code, page, _ = s.post("/console/policies", url.Values{"csrf": {csrf}, "doc": {"kind: sign-on\nname: x\npriority: 2\npeople: {groups: {include: [nogroup]}}\n"}})
	if code != http.StatusBadRequest || !strings.Contains(page, "nogroup") || !strings.Contains(page, "priority: 2") {
		t.Fatalf("a document naming a missing group: %d\n%s", code, page)
	}
	// An org admin reads, cannot apply.
	b := f.browser(t)
	bcsrf := b.signIn("admin", "admin-Password-1")
	if _, page, _ = b.get("/console/policies"); !strings.Contains(page, "MFA for people over LDAP") || strings.Contains(page, `name="doc"`) {
		t.Fatalf("an org admin's view:\n%s", page)
	}
	if code, _, _ := b.post("/console/policies", url.Values{"csrf": {bcsrf}, "doc": {mfaPolicy}}); code != http.StatusForbidden {
		t.Fatalf("an org admin applying: %d", code)
	}
}
