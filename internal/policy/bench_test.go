package policy

import (
	"fmt"
	"slices"
	"testing"
)

// benchSet is a typical org: a few sign-on policies of a few rules each,
// the reference MFA policy among them, and two password policies.
func benchSet(b *testing.B) *Set {
	set, _ := mustCompile(b, signOnPolicies+`
- kind: sign-on
  name: MFA for people over LDAP
  priority: 10
  people: {groups: {include: [Everyone], exclude: [contractors]}, users: {exclude: [ldap-bind]}}
  rules:
    - name: LDAP needs MFA
      priority: 1
      conditions: {network: {include: [0.0.0.0/0, "::/0"], exclude: [10.1.0.0/16]}, authType: ldap, userType: person}
      action: mfa
- kind: password
  name: Engineers
  priority: 2
  people: {groups: {include: [engineering]}}
  settings: {minLength: 14}
- kind: password
  name: Bind
  priority: 1
  people: {users: {include: [ldap-bind]}}
  settings: {minLength: 32}
`)
	return set
}

func manyGroups(n int) []string {
	gs := []string{gEng}
	for i := range n - 1 {
		gs = append(gs, fmt.Sprintf("00g%017d", i))
	}
	slices.Sort(gs)
	return gs
}

func BenchmarkSignOn(b *testing.B) {
	set := benchSet(b)
	ldap := Context{IP: ip(ldapIP), AuthType: AuthLDAP}
	for _, bc := range []struct {
		name string
		sub  Subject
		ctx  Context
	}{
		{"first policy", Subject{UserID: uAlice, Groups: []string{gAdm, gEng}, Type: UserPerson}, ldap},
		{"third policy", Subject{UserID: uErin, Groups: []string{gEng, gOps}, Type: UserPerson}, ldap},
		{"reference person", Subject{UserID: uStranger, Groups: []string{gOps}, Type: UserPerson}, ldap},
		{"reference bind account", Subject{UserID: uBind, Type: UserServiceAccount}, ldap},
		{"mapped IPv6", Subject{UserID: uCarol, Groups: []string{gCon}, Type: UserPerson}, Context{IP: ip("::ffff:" + officeIP), AuthType: AuthLDAP}},
		{"50 groups", Subject{UserID: uErin, Groups: manyGroups(50), Type: UserPerson}, ldap},
		{"50 groups unsorted", Subject{UserID: uErin, Groups: append(manyGroups(49), "00g"), Type: UserPerson}, ldap},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set.SignOn(bc.sub, bc.ctx)
			}
		})
	}
}

func BenchmarkPassword(b *testing.B) {
	set := benchSet(b)
	sub := Subject{UserID: uStranger, Groups: []string{gOps}}
	b.ReportAllocs()
	for b.Loop() {
		set.Password(sub)
	}
}

func BenchmarkCompile(b *testing.B) {
	ps, err := Parse([]byte(signOnPolicies))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(ps, org); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	s := settings(func(s *PasswordSettings) {
		s.MinLength, s.MinLowerCase, s.MinUpperCase, s.MinNumber = 12, 1, 1, 1
		s.ExcludeUsername, s.ExcludeAttributes = true, []string{"firstName", "lastName"}
	})
	pw := []byte("Correct-Horse-Battery-9")
	attrs := map[string]string{"firstName": "Alice", "lastName": "Liddell"}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Check(pw, "alice.liddell@example.com", attrs); err != nil {
			b.Fatal(err)
		}
	}
}
