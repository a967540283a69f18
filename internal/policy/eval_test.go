package policy

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// Ids of the test org's groups and users.
const (
	gEng, gCon, gAdm, gOps         = "00gEng", "00gCon", "00gAdm", "00gOps"
	uAlice, uBob, uCarol, uDave    = "00uAlice", "00uBob", "00uCarol", "00uDave"
	uErin, uBind, uSvc, uStranger  = "00uErin", "00uBind", "00uSvc", "00uStranger"
	ldapIP, officeIP, office6IP    = "203.0.113.5", "10.1.2.3", "2001:db8:1::5"
	otherIP, other6IP, linkLocalIP = "198.51.100.1", "2001:db8:2::5", "fe80::1%eth0"
)

// org resolves the test org's names and ids.
var org = func() Maps {
	m := Maps{Groups: map[string]string{}, Users: map[string]string{}}
	for name, id := range map[string]string{"engineering": gEng, "contractors": gCon, "admins": gAdm, "ops": gOps} {
		m.Groups[name], m.Groups[id] = id, id
	}
	for name, id := range map[string]string{"alice": uAlice, "bob": uBob, "carol": uCarol, "dave": uDave,
		"erin": uErin, "ldap-bind": uBind, "svc": uSvc} {
		m.Users[name], m.Users[id] = id, id
	}
	return m
}()

func mustCompile(t testing.TB, yaml string) (*Set, []Policy) {
	t.Helper()
	ps, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	set, err := Compile(ps, org)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return set, ps
}

// signOnPolicies are listed out of priority order on purpose.
const signOnPolicies = `
- kind: sign-on
  name: Console needs MFA
  priority: 5
  people: {groups: {include: [Everyone]}}
  rules: [{name: console, priority: 1, action: mfa, conditions: {authType: console}}]
- kind: sign-on
  name: Admins always MFA
  priority: 1
  people: {groups: {include: [admins]}, users: {exclude: [bob]}}
  rules: [{name: MFA, priority: 1, action: mfa}]
- kind: sign-on
  name: Contractors
  priority: 2
  people: {groups: {include: [contractors]}, users: {include: [00uDave]}}
  rules:
    - {name: Office only, priority: 2, action: deny, conditions: {network: {exclude: [10.1.0.0/16, "2001:db8:1::/48"]}}}
    - {name: Office LDAP, priority: 1, action: allow, conditions: {authType: ldap, network: {include: [10.1.0.0/16]}}}
- kind: sign-on
  name: Engineering over LDAP
  priority: 3
  people: {groups: {include: [engineering], exclude: [contractors]}, users: {exclude: [ldap-bind]}}
  rules:
    - {name: Inactive deny, priority: 1, status: INACTIVE, action: deny}
    - {name: Service accounts, priority: 2, action: allow, conditions: {userType: service_account}}
    - {name: LDAP MFA, priority: 3, action: mfa, conditions: {authType: ldap, network: {include: [0.0.0.0/0, "::/0"]}}}
- kind: sign-on
  name: Inactive catch-all
  priority: 4
  status: INACTIVE
  people: {groups: {include: [Everyone]}}
  rules: [{name: deny all, priority: 1, action: deny}]
- kind: sign-on
  name: Only inactive rules
  priority: 6
  people: {groups: {include: [Everyone]}}
  rules: [{name: deny all, priority: 1, status: INACTIVE, action: deny}]
`

func ip(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

func TestSignOn(t *testing.T) {
	set, _ := mustCompile(t, signOnPolicies)
	def := Decision{Action: ActionAllow, PolicyName: DefaultPolicyName, RuleName: DefaultRuleName}
	adminsMFA := Decision{Action: ActionMFA, PolicyName: "Admins always MFA", RuleName: "MFA"}
	officeLDAP := Decision{Action: ActionAllow, PolicyName: "Contractors", RuleName: "Office LDAP"}
	officeOnly := Decision{Action: ActionDeny, PolicyName: "Contractors", RuleName: "Office only"}
	engMFA := Decision{Action: ActionMFA, PolicyName: "Engineering over LDAP", RuleName: "LDAP MFA"}
	engSvc := Decision{Action: ActionAllow, PolicyName: "Engineering over LDAP", RuleName: "Service accounts"}
	console := Decision{Action: ActionMFA, PolicyName: "Console needs MFA", RuleName: "console"}
	person, svc := UserPerson, UserServiceAccount

	tests := []struct {
		name   string
		user   string
		groups []string
		typ    UserType
		ip     string
		auth   AuthType
		want   Decision
	}{
		{"priority 1 first", uAlice, []string{gAdm, gEng}, person, ldapIP, AuthLDAP, adminsMFA},
		{"unsorted groups", uAlice, []string{gEng, gAdm}, person, ldapIP, AuthLDAP, adminsMFA},
		{"rule without conditions matches any way in", uAlice, []string{gAdm}, person, "", AuthAPI, adminsMFA},
		{"user excluded: next policy", uBob, []string{gAdm, gEng}, person, ldapIP, AuthLDAP, engMFA},
		{"rules by priority, not file order", uCarol, []string{gCon, gEng}, person, officeIP, AuthLDAP, officeLDAP},
		{"network exclude list", uCarol, []string{gCon, gEng}, person, otherIP, AuthLDAP, officeOnly},
		{"IPv4-mapped IPv6 matches IPv4 prefixes", uCarol, []string{gCon}, person, "::ffff:" + officeIP, AuthLDAP, officeLDAP},
		{"IPv4-mapped IPv6 excluded", uCarol, []string{gCon}, person, "::ffff:" + officeIP, AuthAPI, def},
		{"no rule matches: next policy; group excluded there: default", uCarol, []string{gCon, gEng}, person, officeIP, AuthAPI, def},
		{"IPv6 excluded network", uCarol, []string{gCon}, person, office6IP, AuthLDAP, def},
		{"IPv6 outside", uCarol, []string{gCon}, person, other6IP, AuthLDAP, officeOnly},
		{"unknown address is outside every network", uCarol, []string{gCon}, person, "", AuthLDAP, officeOnly},
		{"user included by id, in no group", uDave, nil, person, otherIP, AuthLDAP, officeOnly},
		{"user included by id, in another group", uDave, []string{gOps}, person, officeIP, AuthLDAP, officeLDAP},
		{"inactive rule skipped", uErin, []string{gEng}, person, ldapIP, AuthLDAP, engMFA},
		{"empty type is a person", uErin, []string{gEng}, "", ldapIP, AuthLDAP, engMFA},
		{"userType service_account", uSvc, []string{gEng}, svc, ldapIP, AuthLDAP, engSvc},
		{"IPv6 ::/0", uErin, []string{gEng}, person, other6IP, AuthLDAP, engMFA},
		{"zone ignored", uErin, []string{gEng}, person, linkLocalIP, AuthLDAP, engMFA},
		{"unknown address matches no include list", uErin, []string{gEng}, person, "", AuthLDAP, def},
		{"authType: falls through to console policy", uErin, []string{gEng}, person, ldapIP, AuthConsole, console},
		{"excluded user: falls through to default", uBind, []string{gEng}, svc, ldapIP, AuthLDAP, def},
		{"inactive policy skipped", uStranger, nil, person, otherIP, AuthAPI, def},
		{"policy with only inactive rules skipped", uStranger, []string{"00gUnknown"}, svc, otherIP, AuthLDAP, def},
		{"Everyone", uStranger, nil, person, otherIP, AuthConsole, console},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := set.SignOn(Subject{UserID: tt.user, Groups: tt.groups, Type: tt.typ}, Context{IP: ip(tt.ip), AuthType: tt.auth})
			if got != tt.want {
				t.Errorf("SignOn = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReferenceScenario(t *testing.T) {
	// The reference documents: "enforce directory-wide MFA with an
	// authentication policy, but exempt the LDAP bind user".
	const exact = `
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
`
	mfa := Decision{Action: ActionMFA, PolicyName: "Directory-wide MFA", RuleName: "LDAP needs MFA"}
	def := Decision{Action: ActionAllow, PolicyName: DefaultPolicyName, RuleName: DefaultRuleName}
	set, _ := mustCompile(t, exact)
	for _, tt := range []struct {
		name string
		sub  Subject
		want Decision
	}{
		{"person", Subject{UserID: uAlice, Groups: []string{gEng}, Type: UserPerson}, mfa},
		{"ldap-bind", Subject{UserID: uBind, Type: UserServiceAccount}, def},
	} {
		if got := set.SignOn(tt.sub, Context{IP: ip(ldapIP), AuthType: AuthLDAP}); got != tt.want {
			t.Errorf("%s: SignOn = %+v, want %+v", tt.name, got, tt.want)
		}
	}

	// The file, with a contractors group and an office network on top.
	ps, err := Parse(readFile(t, "testdata/reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	set, err = Compile(ps, org)
	if err != nil {
		t.Fatal(err)
	}
	mfa = Decision{Action: ActionMFA, PolicyName: "MFA for people over LDAP", RuleName: "LDAP needs MFA"}
	for _, tt := range []struct {
		name string
		sub  Subject
		ctx  Context
		want Decision
	}{
		{"person over LDAP", Subject{UserID: uAlice, Groups: []string{gEng}, Type: UserPerson}, Context{ip(ldapIP), AuthLDAP}, mfa},
		{"person over LDAP on IPv6", Subject{UserID: uAlice, Type: UserPerson}, Context{ip(other6IP), AuthLDAP}, mfa},
		{"ldap-bind", Subject{UserID: uBind, Type: UserServiceAccount}, Context{ip(ldapIP), AuthLDAP}, def},
		{"ldap-bind even as a person", Subject{UserID: uBind, Type: UserPerson}, Context{ip(ldapIP), AuthLDAP}, def},
		{"another service account", Subject{UserID: uSvc, Type: UserServiceAccount}, Context{ip(ldapIP), AuthLDAP}, def},
		{"from the excluded network", Subject{UserID: uAlice, Type: UserPerson}, Context{ip(officeIP), AuthLDAP}, def},
		{"over the API", Subject{UserID: uAlice, Type: UserPerson}, Context{ip(ldapIP), AuthAPI}, def},
		{"contractor", Subject{UserID: uCarol, Groups: []string{gCon}, Type: UserPerson}, Context{ip(ldapIP), AuthLDAP}, def},
	} {
		if got := set.SignOn(tt.sub, tt.ctx); got != tt.want {
			t.Errorf("%s: SignOn = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	pw := set.Password(Subject{UserID: uAlice})
	if pw.MinLength != 12 || pw.History() != 4 || pw.LockoutAfter() != 5 {
		t.Errorf("Password = %+v", pw)
	}
}

func TestPasswordSelection(t *testing.T) {
	set, _ := mustCompile(t, `
- kind: password
  name: Engineers
  priority: 2
  people: {groups: {include: [engineering]}}
  settings: {minLength: 14}
- kind: password
  name: Service accounts
  priority: 1
  people: {users: {include: [ldap-bind, svc]}, groups: {exclude: [ops]}}
  settings: {minLength: 32, lockout: {maxAttempts: 0}}
- kind: password
  name: Inactive
  priority: 3
  status: INACTIVE
  people: {groups: {include: [Everyone]}}
  settings: {minLength: 99}
`)
	for _, tt := range []struct {
		name string
		sub  Subject
		want int // minLength
	}{
		{"group", Subject{UserID: uAlice, Groups: []string{gEng}}, 14},
		{"user by login, before a later group", Subject{UserID: uBind, Groups: []string{gEng}}, 32},
		{"user excluded by group", Subject{UserID: uSvc, Groups: []string{gEng, gOps}}, 14},
		{"default", Subject{UserID: uStranger}, 8},
	} {
		if got := set.Password(tt.sub).MinLength; got != tt.want {
			t.Errorf("%s: minLength %d, want %d", tt.name, got, tt.want)
		}
	}
	if got := (*Set)(nil).Password(Subject{}); !reflect.DeepEqual(*got, DefaultPasswordSettings()) {
		t.Errorf("nil Set: %+v", got)
	}
}

func TestNilSet(t *testing.T) {
	var set *Set
	want := Decision{Action: ActionAllow, PolicyName: DefaultPolicyName, RuleName: DefaultRuleName}
	if got := set.SignOn(Subject{UserID: uAlice}, Context{AuthType: AuthLDAP}); got != want {
		t.Errorf("SignOn = %+v", got)
	}
	set, err := Compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.SignOn(Subject{UserID: uAlice}, Context{AuthType: AuthLDAP}); got != want {
		t.Errorf("SignOn = %+v", got)
	}
	if !want.Action.Allowed() || want.Action.RequiresMFA() || ActionDeny.Allowed() || !ActionMFA.Allowed() || !ActionMFA.RequiresMFA() {
		t.Error("Action methods")
	}
}

func TestCompile(t *testing.T) {
	t.Run("invalid", func(t *testing.T) {
		set, err := Compile([]Policy{{Kind: KindSignOn, Name: "p"}}, org)
		var es Errors
		if set != nil || !errors.As(err, &es) {
			t.Fatalf("Compile = %v, %v", set, err)
		}
		if es[0].Error() != `policy "p": priority: 0 is out of range; allowed: a whole number from 1 to 9999 (lower is evaluated first)` {
			t.Errorf("first error: %v", es[0])
		}
	})
	t.Run("unresolved", func(t *testing.T) {
		ps, err := Parse([]byte(`
- kind: sign-on
  name: Ghosts need MFA
  priority: 1
  people: {groups: {include: [ghosts]}}
  rules: [{name: r, priority: 1, action: mfa}]
- kind: sign-on
  name: Deny all but
  priority: 2
  people: {groups: {include: [Everyone], exclude: [ghosts, admins]}, users: {exclude: [nobody]}}
  rules: [{name: r, priority: 1, action: deny}]
- kind: password
  name: Off
  priority: 1
  status: INACTIVE
  people: {users: {include: [nobody]}}
`))
		if err != nil {
			t.Fatal(err)
		}
		set, err := Compile(ps, org)
		var ue *UnresolvedError
		if !errors.As(err, &ue) || set == nil {
			t.Fatalf("Compile = %v, %v", set, err)
		}
		want := `sign-on policy "Ghosts need MFA": people.groups.include[0]: unknown group "ghosts"
sign-on policy "Deny all but": people.groups.exclude[0]: unknown group "ghosts"
sign-on policy "Deny all but": people.users.exclude[0]: unknown user "nobody"
password policy "Off": people.users.include[0]: unknown user "nobody"`
		if err.Error() != want {
			t.Errorf("error:\n%v\nwant:\n%s", err, want)
		}
		wantRef := Ref{Policy: "Deny all but", Kind: KindSignOn, Path: "people.users.exclude[0]", Name: "nobody"}
		if len(ue.Refs) != 4 || ue.Refs[2] != wantRef {
			t.Errorf("refs %+v", ue.Refs)
		}
		// An unknown include includes nobody; an unknown exclude excludes nobody.
		got := set.SignOn(Subject{UserID: uAlice, Groups: []string{"ghosts"}}, Context{AuthType: AuthLDAP})
		if got.PolicyName != "Deny all but" || got.Action != ActionDeny {
			t.Errorf("SignOn = %+v", got)
		}
		if got := set.SignOn(Subject{UserID: uAlice, Groups: []string{gAdm}}, Context{}); got.PolicyName != DefaultPolicyName {
			t.Errorf("SignOn(admin) = %+v", got)
		}
	})
	t.Run("nil resolver", func(t *testing.T) {
		ps, err := Parse([]byte("kind: sign-on\nname: p\npriority: 1\npeople: {groups: {include: [Everyone, admins]}}\nrules: [{name: r, priority: 1, action: deny}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		set, err := Compile(ps, nil)
		var ue *UnresolvedError
		if !errors.As(err, &ue) || len(ue.Refs) != 1 || ue.Refs[0].Name != "admins" || !ue.Refs[0].Group {
			t.Fatalf("Compile: %v", err)
		}
		if got := set.SignOn(Subject{UserID: uAlice}, Context{}); got.Action != ActionDeny {
			t.Errorf("Everyone without a resolver: %+v", got)
		}
	})
	t.Run("does not alias its input", func(t *testing.T) {
		set, ps := mustCompile(t, "kind: password\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\nsettings: {minLength: 10, excludeAttributes: [firstName]}\n")
		ps[0].Settings.MinLength = 11
		ps[0].Settings.ExcludeAttributes[0] = "lastName"
		ps[0].People.Groups.Include = nil
		got := set.Password(Subject{})
		if got.MinLength != 10 || got.ExcludeAttributes[0] != "firstName" {
			t.Errorf("Password = %+v", got)
		}
	})
	t.Run("names and ids of the same group", func(t *testing.T) {
		set, _ := mustCompile(t, "kind: sign-on\nname: p\npriority: 1\npeople: {groups: {include: [engineering, 00gEng, admins]}}\nrules: [{name: r, priority: 1, action: deny}]\n")
		if got := set.signOn[0].people.inGroups; !reflect.DeepEqual(got, []string{gAdm, gEng}) {
			t.Errorf("inGroups = %q", got)
		}
	})
}

func TestParseNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/8":          "10.0.0.0/8",
		"192.0.2.1":           "192.0.2.1/32",
		"2001:db8::1":         "2001:db8::1/128",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
		"::ffff:192.0.2.1":    "192.0.2.1/32",
		"::ffff:0:0/96":       "0.0.0.0/0",
		"::/0":                "::/0",
		"::ffff:0:0/95":       "::fffe:0:0/95",
	} {
		p, msg := parseNetwork(in)
		if in == "::ffff:0:0/95" {
			if msg == "" {
				t.Errorf("%s: accepted as %s", in, p)
			}
			continue
		}
		if msg != "" || p.String() != want {
			t.Errorf("parseNetwork(%q) = %s, %q; want %s", in, p, msg, want)
		}
	}
}

func TestEvaluationAllocs(t *testing.T) {
	set, _ := mustCompile(t, signOnPolicies+`
- kind: password
  name: Engineers
  priority: 1
  people: {groups: {include: [engineering]}}
`)
	subs := []Subject{
		{UserID: uAlice, Groups: []string{gAdm, gEng}},
		{UserID: uCarol, Groups: []string{gEng, gCon}}, // unsorted
		{UserID: uStranger},
	}
	ctx := Context{IP: ip("::ffff:" + officeIP), AuthType: AuthLDAP}
	var nilSet *Set
	if n := testing.AllocsPerRun(1000, func() {
		for _, s := range subs {
			set.SignOn(s, ctx)
			set.Password(s)
			nilSet.SignOn(s, ctx)
			nilSet.Password(s)
		}
	}); n != 0 {
		t.Errorf("SignOn and Password allocate %v times per run; want 0", n)
	}
}

// A sign-on policy without rules decides nothing: the next policy (here
// the built-in default) does.
func TestSignOnWithoutRules(t *testing.T) {
	ps, err := Parse([]byte("kind: sign-on\nname: empty\npriority: 1\npeople: {groups: {include: [Everyone]}}\n" +
		"---\nkind: sign-on\nname: deny\npriority: 2\npeople: {groups: {include: [Everyone]}}\nrules: [{name: r, priority: 1, action: deny}]\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	set, err := Compile(ps, nil)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if d := set.SignOn(Subject{UserID: "u1"}, Context{IP: ip("192.0.2.1"), AuthType: AuthLDAP}); d.PolicyName != "deny" || d.Action != ActionDeny {
		t.Errorf("decision = %+v, want policy deny's", d)
	}
}
