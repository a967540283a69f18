package policy

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// resolveAll knows every name.
type resolveAll struct{}

func (resolveAll) GroupID(s string) (string, bool) { return "g:" + s, true }
func (resolveAll) UserID(s string) (string, bool)  { return "u:" + s, true }

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/reference.yaml", "testdata/all.json"} {
		f.Add(readFile(f, name))
	}
	for _, s := range []string{
		good, signOnPolicies, "", "---\n", "[]", "{}", "- 1\n- [a]\n",
		password("minLength: 12, excludeAttributes: [firstName], lockout: {maxAttempts: 3}"),
		signOn("{name: r, priority: 1, action: mfa, conditions: {network: {include: ['::ffff:10.0.0.0/104', 192.0.2.1], exclude: ['::/0']}, authType: ldap, userType: person}}"),
		"kind: password\nname: &a x\npriority: 1\ndescription: *a\n",
		`{"kind":"password","name":"caf\u00e9 \/","priority":1,"people":{"groups":{"include":["Everyone"]}}}`,
		"kind: password\npeople:\n\tgroups: {}\n",
		"- {id: x, kind: password, name: a, priority: 1, people: {groups: {include: [Everyone]}}}\n- {id: x, kind: password, name: A, priority: 1}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := Parse(data)
		if err != nil {
			if ps != nil {
				t.Fatal("policies returned with an error")
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			for _, e := range es {
				if e.Msg == "" {
					t.Fatalf("error without a message: %+v", e)
				}
			}
			return
		}
		if err := ValidateAll(ps); err != nil {
			t.Fatalf("parsed policies do not validate: %v", err)
		}
		out, err := Encode(ps)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Encode): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again, ps) {
			t.Fatalf("YAML round trip:\n got %s\nwant %s\nencoded:\n%s", dump(again), dump(ps), out)
		}
		js, err := json.Marshal(ps)
		if err != nil {
			t.Fatal(err)
		}
		if again, err = Parse(js); err != nil || (len(ps) > 0 && !reflect.DeepEqual(again, ps)) {
			t.Fatalf("JSON round trip: %v\n%s", err, js)
		}
		set, err := Compile(ps, resolveAll{})
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		set.SignOn(Subject{UserID: "u:alice", Groups: []string{"g:Everyone"}}, Context{AuthType: AuthLDAP})
		set.Password(Subject{UserID: "u:alice"})
	})
}

// naiveSignOn evaluates sign-on policies straight from their definition,
// as the reference for FuzzSignOn.
func naiveSignOn(ps []Policy, r Resolver, sub Subject, c Context) Decision {
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b Policy) int { return cmp.Compare(a.Priority, b.Priority) })
	for _, p := range ps {
		if p.Kind != KindSignOn || p.Status == StatusInactive || !naiveApplies(&p, r, sub) {
			continue
		}
		rules := slices.Clone(p.Rules)
		slices.SortStableFunc(rules, func(a, b Rule) int { return cmp.Compare(a.Priority, b.Priority) })
		for _, rule := range rules {
			if rule.Status != StatusInactive && naiveConditions(&rule.Conditions, sub, c) {
				return Decision{Action: rule.Action, PolicyID: p.ID, PolicyName: p.Name, RuleName: rule.Name}
			}
		}
	}
	return Decision{Action: ActionAllow, PolicyName: DefaultPolicyName, RuleName: DefaultRuleName}
}

func naivePassword(ps []Policy, r Resolver, sub Subject) PasswordSettings {
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b Policy) int { return cmp.Compare(a.Priority, b.Priority) })
	for _, p := range ps {
		if p.Kind == KindPassword && p.Status != StatusInactive && naiveApplies(&p, r, sub) {
			if p.Settings == nil {
				return DefaultPasswordSettings()
			}
			return *p.Settings
		}
	}
	return DefaultPasswordSettings()
}

func naiveApplies(p *Policy, r Resolver, sub Subject) bool {
	inGroups := func(names []string) bool {
		for _, n := range names {
			if n == Everyone {
				return true
			}
			if id, ok := r.GroupID(n); ok && slices.Contains(sub.Groups, id) {
				return true
			}
		}
		return false
	}
	isUser := func(names []string) bool {
		for _, n := range names {
			if id, ok := r.UserID(n); ok && id == sub.UserID {
				return true
			}
		}
		return false
	}
	if isUser(p.People.Users.Exclude) || inGroups(p.People.Groups.Exclude) {
		return false
	}
	return inGroups(p.People.Groups.Include) || isUser(p.People.Users.Include)
}

func naiveConditions(c *Conditions, sub Subject, ctx Context) bool {
	if c.AuthType != "" && c.AuthType != AuthAny && c.AuthType != ctx.AuthType {
		return false
	}
	ut := sub.Type
	if ut == "" {
		ut = UserPerson
	}
	if c.UserType != "" && c.UserType != UserAny && c.UserType != ut {
		return false
	}
	addr := ctx.IP
	if addr.Is4In6() {
		addr = netip.AddrFrom4(addr.As4())
	}
	addr = addr.WithZone("")
	in := func(list []string) bool {
		for _, s := range list {
			if p, msg := parseNetwork(s); msg == "" && p.Contains(addr) {
				return true
			}
		}
		return false
	}
	if in(c.Network.Exclude) {
		return false
	}
	return len(c.Network.Include) == 0 || in(c.Network.Include)
}

func FuzzSignOn(f *testing.F) {
	const extra = `
- kind: sign-on
  name: Ops from anywhere but the office
  priority: 7
  people: {groups: {include: [ops]}, users: {include: [erin], exclude: [svc]}}
  rules:
    - {name: v6 deny, priority: 1, action: deny, conditions: {network: {include: ["::/0"], exclude: ["2001:db8:1::/48"]}}}
    - {name: v4 mfa, priority: 2, action: mfa, conditions: {network: {include: [0.0.0.0/0], exclude: [10.1.0.0/16, 192.0.2.1]}, userType: person}}
- kind: password
  name: Engineers
  priority: 2
  people: {groups: {include: [engineering], exclude: [contractors]}}
  settings: {minLength: 14}
- kind: password
  name: Bind
  priority: 1
  people: {users: {include: [ldap-bind, 00uDave]}}
  settings: {minLength: 32}
`
	ps, err := Parse([]byte(signOnPolicies + extra))
	if err != nil {
		f.Fatal(err)
	}
	set, err := Compile(ps, org)
	if err != nil {
		f.Fatal(err)
	}
	users := []string{uAlice, uBob, uCarol, uDave, uErin, uBind, uSvc, uStranger, ""}
	groups := []string{gEng, gCon, gAdm, gOps, "00gUnknown", ""}
	types := []UserType{UserPerson, UserServiceAccount, "", UserAny, "robot"}
	auths := []AuthType{AuthLDAP, AuthAPI, AuthConsole, "", AuthAny}

	f.Add(uint8(0), []byte{2, 0}, uint8(0), []byte{203, 0, 113, 5}, uint8(0), "")
	f.Add(uint8(2), []byte{1, 0}, uint8(0), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3}, uint8(1), "")
	f.Add(uint8(4), []byte{3}, uint8(0), []byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, uint8(0), "")
	f.Add(uint8(255), []byte{5, 4, 3, 2, 1, 0, 0}, uint8(3), []byte{}, uint8(2), "00uSomeone")
	f.Fuzz(func(t *testing.T, user uint8, gs []byte, typ uint8, ipb []byte, auth uint8, raw string) {
		sub := Subject{UserID: raw, Type: types[int(typ)%len(types)]}
		if int(user) < 200 {
			sub.UserID = users[int(user)%len(users)]
		}
		for _, g := range gs {
			if int(g) < 200 {
				sub.Groups = append(sub.Groups, groups[int(g)%len(groups)])
			} else {
				sub.Groups = append(sub.Groups, raw)
			}
		}
		ctx := Context{AuthType: auths[int(auth)%len(auths)]}
		if a, ok := netip.AddrFromSlice(ipb); ok {
			ctx.IP = a
			if a.Is6() && len(raw) > 0 && !strings.ContainsAny(raw, "%") {
				ctx.IP = a.WithZone(raw) // zones are ignored
			}
		}
		got := set.SignOn(sub, ctx)
		if want := naiveSignOn(ps, org, sub, ctx); got != want {
			t.Fatalf("SignOn(%+v, %v %s) = %+v, want %+v", sub, ctx.IP, ctx.AuthType, got, want)
		}
		if got, want := *set.Password(sub), naivePassword(ps, org, sub); !reflect.DeepEqual(got, want) {
			t.Fatalf("Password(%+v) = %+v, want %+v", sub, got, want)
		}
	})
}
