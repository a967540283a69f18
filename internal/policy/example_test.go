package policy_test

import (
	"fmt"
	"net/netip"

	"github.com/dirgate/dirgate/internal/policy"
)

// The reference documents' advice: enforce MFA for every LDAP login, but
// exempt the LDAP bind service account, or the integration won't work.
func Example() {
	ps, err := policy.Parse([]byte(`
kind: sign-on
name: Directory-wide MFA
priority: 1
people:
  groups: {include: [Everyone]}
  users: {exclude: [ldap-bind]}
rules:
  - name: LDAP needs MFA
    priority: 1
    conditions: {authType: ldap}
    action: mfa
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := policy.Compile(ps, policy.Maps{Users: map[string]string{"ldap-bind": "00ubind"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := policy.Context{IP: netip.MustParseAddr("192.0.2.10"), AuthType: policy.AuthLDAP}
	for _, sub := range []policy.Subject{
		{UserID: "00ualice", Groups: []string{"00gengineering"}, Type: policy.UserPerson},
		{UserID: "00ubind", Type: policy.UserServiceAccount},
	} {
		d := set.SignOn(sub, ctx)
		fmt.Printf("%s: %s (%s / %s)\n", sub.UserID, d.Action, d.PolicyName, d.RuleName)
	}
	// Output:
	// 00ualice: mfa (Directory-wide MFA / LDAP needs MFA)
	// 00ubind: allow (Default Policy / Default Rule)
}

func ExamplePasswordSettings_Check() {
	s := policy.DefaultPasswordSettings()
	s.MinLength, s.MinUpperCase, s.ExcludeUsername = 12, 1, true
	fmt.Println(s.Check([]byte("smith-is-here"), "andy.smith@example.com", nil))
	fmt.Println(s.Check([]byte("Correct-Horse-Battery"), "andy.smith@example.com", nil))
	// Output:
	// password requirements were not met: at least 1 uppercase letter, no part of your username
	// <nil>
}
