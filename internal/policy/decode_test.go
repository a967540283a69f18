package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

func settings(f func(*PasswordSettings)) *PasswordSettings {
	s := DefaultPasswordSettings()
	if f != nil {
		f(&s)
	}
	return &s
}

// referencePolicies is what testdata/reference.yaml holds.
var referencePolicies = []Policy{
	{
		Kind: KindSignOn, Name: "MFA for people over LDAP", Priority: 1, Status: StatusActive,
		People: People{
			Groups: Selection{Include: []string{"Everyone"}, Exclude: []string{"contractors"}},
			Users:  Selection{Exclude: []string{"ldap-bind"}},
		},
		Rules: []Rule{{
			Name: "LDAP needs MFA", Priority: 1, Status: StatusActive,
			Conditions: Conditions{
				Network:  Network{Include: []string{"0.0.0.0/0", "::/0"}, Exclude: []string{"10.1.0.0/16"}},
				AuthType: AuthLDAP, UserType: UserPerson,
			},
			Action: ActionMFA,
		}},
	},
	{
		Kind: KindPassword, Name: "Default", Priority: 1, Status: StatusActive,
		People: People{Groups: Selection{Include: []string{"Everyone"}}},
		Settings: &PasswordSettings{
			MinLength: 12, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, MinSymbol: 0,
			ExcludeUsername: true, ExcludeAttributes: []string{"firstName", "lastName"},
			HistoryCount: 4, MaxAgeDays: 90, Lockout: Lockout{MaxAttempts: 5, AutoUnlockMinutes: 30},
		},
	},
}

var allJSONPolicies = []Policy{
	{
		Kind: KindSignOn, Name: "Deny contractors outside the office", Priority: 1, Status: StatusActive,
		People: People{Groups: Selection{Include: []string{"contractors"}}},
		Rules: []Rule{
			{Name: "Office", Priority: 1, Status: StatusActive, Action: ActionAllow,
				Conditions: Conditions{Network: Network{Include: []string{"10.1.0.0/16", "2001:db8:1::/48"}}}},
			{Name: "Elsewhere", Priority: 2, Status: StatusActive, Action: ActionDeny},
		},
	},
	{
		Kind: KindPassword, Name: "Service accounts", Priority: 1, Status: StatusInactive,
		People:   People{Users: Selection{Include: []string{"ldap-bind"}}},
		Settings: &PasswordSettings{MinLength: 20},
	},
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	minimal := func(kind Kind, name string, prio int) Policy {
		p := Policy{Kind: kind, Name: name, Priority: prio, Status: StatusActive,
			People: People{Groups: Selection{Include: []string{"Everyone"}}}}
		if kind == KindSignOn {
			p.Rules = []Rule{{Name: "r", Priority: 1, Status: StatusActive, Action: ActionAllow}}
		} else {
			p.Settings = settings(nil)
		}
		return p
	}
	tests := []struct {
		name string
		in   string
		want []Policy
	}{
		{"reference", string(readFile(t, "testdata/reference.yaml")), referencePolicies},
		{"JSON array", string(readFile(t, "testdata/all.json")), allJSONPolicies},
		{"empty", "", nil},
		{"comments and empty documents", "# nothing\n---\n---\n", nil},
		{"empty list", "[]\n", nil},
		{"minimal sign-on", "kind: sign-on\nname: p\npriority: 3\npeople: {groups: {include: [Everyone]}}\nrules: [{name: r, priority: 1, action: allow}]\n",
			[]Policy{minimal(KindSignOn, "p", 3)}},
		{"password settings default", "kind: password\nname: p\npriority: 2\npeople: {groups: {include: [Everyone]}}\n",
			[]Policy{minimal(KindPassword, "p", 2)}},
		{"password settings partly given", "kind: password\nname: p\npriority: 2\npeople: {groups: {include: [Everyone]}}\nsettings: {minLength: 10, lockout: {autoUnlockMinutes: 5}}\n",
			[]Policy{func() Policy {
				p := minimal(KindPassword, "p", 2)
				p.Settings = settings(func(s *PasswordSettings) { s.MinLength = 10; s.Lockout.AutoUnlockMinutes = 5 })
				return p
			}()}},
		{"null values are absent", "kind: password\nname: p\npriority: 2\nstatus: ~\ndescription: null\npeople: {groups: {include: [Everyone], exclude: ~}, users: ~}\nsettings: ~\n",
			[]Policy{minimal(KindPassword, "p", 2)}},
		{"documents and lists mixed", "kind: password\nname: a\npriority: 1\npeople: {groups: {include: [Everyone]}}\n---\n- kind: password\n  name: b\n  priority: 2\n  people: {groups: {include: [Everyone]}}\n- kind: sign-on\n  name: a\n  priority: 1\n  people: {groups: {include: [Everyone]}}\n  rules: [{name: r, priority: 1, action: allow}]\n",
			[]Policy{minimal(KindPassword, "a", 1), minimal(KindPassword, "b", 2), minimal(KindSignOn, "a", 1)}},
		{"JSON object with escapes", `{"kind":"password","name":"caf\u00e9 \/ bar","priority":1,"people":{"groups":{"include":["Everyone"]}}}`,
			[]Policy{minimal(KindPassword, "café / bar", 1)}},
		{"JSON stream", `{"kind":"password","name":"a","priority":1,"people":{"groups":{"include":["Everyone"]}}} {"kind":"password","name":"b","priority":2,"people":{"groups":{"include":["Everyone"]}}}`,
			[]Policy{minimal(KindPassword, "a", 1), minimal(KindPassword, "b", 2)}},
		{"YAML flow mapping", "{kind: password, name: a, priority: 1, people: {groups: {include: [Everyone]}}}",
			[]Policy{minimal(KindPassword, "a", 1)}},
		{"byte order mark", "\ufeffkind: password\nname: a\npriority: 1\npeople: {groups: {include: [Everyone]}}\n",
			[]Policy{minimal(KindPassword, "a", 1)}},
		{"id, description, inactive", "id: 00p1\nkind: password\nname: a\ndescription: |\n  two\n  lines\npriority: 0x10\nstatus: INACTIVE\npeople: {users: {include: [00u1]}}\n",
			[]Policy{{ID: "00p1", Kind: KindPassword, Name: "a", Description: "two\nlines\n", Priority: 16, Status: StatusInactive,
				People: People{Users: Selection{Include: []string{"00u1"}}}, Settings: settings(nil)}}},
		{"single addresses and mapped prefixes", "kind: sign-on\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\nrules: [{name: r, priority: 1, action: deny, conditions: {network: {include: [192.0.2.1, '2001:db8::1', '::ffff:10.0.0.0/104']}, authType: any, userType: service_account}}]\n",
			[]Policy{func() Policy {
				p := minimal(KindSignOn, "p", 1)
				p.Rules[0].Action = ActionDeny
				p.Rules[0].Conditions = Conditions{Network: Network{Include: []string{"192.0.2.1", "2001:db8::1", "::ffff:10.0.0.0/104"}},
					AuthType: AuthAny, UserType: UserServiceAccount}
				return p
			}()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %s\nwant %s", dump(got), dump(tt.want))
			}
			if err := ValidateAll(got); err != nil {
				t.Errorf("ValidateAll: %v", err)
			}
		})
	}
}

func dump(ps []Policy) string {
	b, _ := json.MarshalIndent(ps, "", "  ")
	return string(b)
}

const good = "kind: sign-on\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\nrules:\n  - name: r\n    priority: 1\n    action: allow\n"

// signOn is a sign-on policy file whose first rule is r (indented for the list).
func signOn(rule string) string {
	return "kind: sign-on\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\nrules:\n  - " + rule + "\n"
}

// password is a password policy file with these settings.
func password(settings string) string {
	return "kind: password\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\nsettings: {" + settings + "}\n"
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each error, in order
	}{
		{"unknown field", "kind: password\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\nowner: me\n",
			[]string{`document 1, line 5: owner: unknown field "owner"; allowed here: id, kind, name, description, priority, status, people, rules, settings`}},
		{"misspelt field", "kind: password\nname: p\nPriority: 1\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 3: Priority: unknown field "Priority"; allowed here: id, kind, name, description, priority, status, people, rules, settings (did you mean "priority"?)`,
				`document 1, line 1: priority: 0 is out of range; allowed: a whole number from 1 to 9999 (lower is evaluated first)`}},
		{"unknown nested field", "kind: password\nname: p\npriority: 1\npeople:\n  groups: {inclde: [Everyone]}\n",
			[]string{`document 1, line 5: people.groups.inclde: unknown field "inclde"; allowed here: include, exclude`,
				`document 1, line 4: people: applies to nobody: include at least one group or user (groups: {include: [Everyone]} for all users)`}},
		{"unknown settings field", password("minLen: 3"),
			[]string{`document 1, line 5: settings.minLen: unknown field "minLen"; allowed here: minLength, minLowerCase, minUpperCase, minNumber, minSymbol, excludeUsername, excludeAttributes, history, maxAgeDays, lockout`}},
		{"unknown lockout field", password("lockout: {attempts: 3}"),
			[]string{`document 1, line 5: settings.lockout.attempts: unknown field "attempts"; allowed here: maxAttempts, autoUnlockMinutes`}},
		{"unknown conditions field", signOn("{name: r, priority: 1, action: allow, conditions: {zone: office}}"),
			[]string{`document 1, line 6: rules[0].conditions.zone: unknown field "zone"; allowed here: network, authType, userType`}},
		{"field given twice", "kind: password\nname: p\nname: q\npriority: 1\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 3: name: given twice (also on line 2)`}},
		{"priority not a number", "kind: password\nname: p\npriority: first\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 3: priority: want a whole number; got the string "first"`}},
		{"priority a fraction", "kind: password\nname: p\npriority: 1.5\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 3: priority: want a whole number; got the number 1.5`}},
		{"priority huge", "kind: password\nname: p\npriority: 99999999999999999999\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 3: priority: the number 99999999999999999999 is out of range`}},
		{"priority beyond int32", "kind: password\nname: p\npriority: 9999999999\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 3: priority: the number 9999999999 is out of range`}},
		{"name a number", "kind: password\nname: 2024\npriority: 1\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 2: name: want a string; got the number 2024 (quote it if you mean the text: "2024")`}},
		{"bool not a bool", password("excludeUsername: yes"),
			[]string{`document 1, line 5: settings.excludeUsername: want true or false; got the string "yes"`}},
		{"list given as a string", "kind: password\nname: p\npriority: 1\npeople: {groups: {include: Everyone}}\n",
			[]string{`document 1, line 4: people.groups.include: want a list of group names or ids, e.g. [a, b]; got the string "Everyone"`}},
		{"list entry not a string", "kind: password\nname: p\npriority: 1\npeople: {groups: {include: [Everyone, [a]]}}\n",
			[]string{`document 1, line 4: people.groups.include[1]: want a string; got a list`}},
		{"people a list", "kind: password\nname: p\npriority: 1\npeople: [Everyone]\n",
			[]string{`document 1, line 4: people: want a mapping with the fields groups, users; got a list`}},
		{"rules a mapping", "kind: sign-on\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\nrules: {name: r}\n",
			[]string{`document 1, line 5: rules: want a list of rules; got a mapping`}},
		{"rule not a mapping", signOn("allow"),
			[]string{`document 1, line 6: rules[0]: want a mapping with the fields name, priority, status, conditions, action; got the string "allow"`}},
		{"alias", "kind: password\nname: &n p\npriority: 1\ndescription: *n\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 4: description: want a string; got an alias (YAML anchors and aliases are not supported)`}},
		{"merge key", "kind: password\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\n<<: {status: ACTIVE}\n",
			[]string{`document 1, line 5: <<: field names must be plain strings; got !!merge "<<"`}},
		{"custom tag", "kind: !x password\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 1: kind: want a string; got !x "password" (quote it if you mean the text: "password")`}},
		{"missing everything", "description: nothing else\n",
			[]string{`document 1, line 1: kind: required; allowed: sign-on, password`,
				`document 1, line 1: name: required: a name of 1 to 255 characters`,
				`document 1, line 1: priority: 0 is out of range; allowed: a whole number from 1 to 9999 (lower is evaluated first)`,
				`document 1, line 1: people: applies to nobody: include at least one group or user (groups: {include: [Everyone]} for all users)`}},
		{"unknown kind", strings.Replace(good, "sign-on", "mfa", 1),
			[]string{`document 1, line 1: kind: unknown kind "mfa"; allowed: sign-on, password`}},
		{"unknown status", strings.Replace(good, "priority: 1\n", "priority: 1\nstatus: active\n", 1),
			[]string{`document 1, line 4: status: unknown status "active"; allowed: ACTIVE, INACTIVE`}},
		{"negative priority", strings.Replace(good, "priority: 1\n", "priority: -1\n", 1),
			[]string{`document 1, line 3: priority: -1 is out of range; allowed: a whole number from 1 to 9999 (lower is evaluated first)`}},
		{"name with spaces around", strings.Replace(good, "name: p\n", "name: ' p'\n", 1),
			[]string{`document 1, line 2: name: " p" has spaces at the start or end`}},
		{"name with a control character", strings.Replace(good, "name: p\n", "name: \"a\\tb\"\n", 1),
			[]string{`document 1, line 2: name: contains the control character U+0009`}},
		{"name too long", strings.Replace(good, "name: p\n", "name: "+strings.Repeat("é", 256)+"\n", 1),
			[]string{`document 1, line 2: name: is 256 characters long; at most 255 allowed`}},
		{"reserved name", strings.Replace(good, "name: p\n", "name: default policy\n", 1),
			[]string{`document 1, line 2: name: "default policy" is reserved for the built-in default policy; choose another name`}},
		{"Everyone excluded", "kind: password\nname: p\npriority: 1\npeople:\n  users: {include: [alice]}\n  groups: {exclude: [Everyone]}\n",
			[]string{`document 1, line 6: people.groups.exclude[0]: Everyone cannot be excluded (that leaves nobody); set status: INACTIVE to turn a policy off`}},
		{"listed twice", "kind: password\nname: p\npriority: 1\npeople:\n  groups:\n    include:\n      - a\n      - b\n      - a\n",
			[]string{`document 1, line 9: people.groups.include[2]: "a" is listed twice (also people.groups.include[0])`}},
		{"included and excluded", "kind: password\nname: p\npriority: 1\npeople: {users: {include: [bob], exclude: [bob]}}\n",
			[]string{`document 1, line 4: people.users.exclude[0]: "bob" is both included and excluded (people.users.include[0]); exclusions win, so list it once`}},
		{"empty name in a list", "kind: password\nname: p\npriority: 1\npeople: {users: {include: [bob, '']}}\n",
			[]string{`document 1, line 4: people.users.include[1]: empty name; want a group or user name, login or id`}},
		{"rules on a password policy", password("minLength: 9") + "rules: [{name: r, priority: 1, action: allow}]\n",
			[]string{`document 1, line 6: rules: only sign-on policies have rules; a password policy has settings`}},
		{"settings on a sign-on policy", good + "settings: {minLength: 9}\n",
			[]string{`document 1, line 9: settings: only password policies have settings; a sign-on policy decides with its rules`}},
		{"rule missing fields", signOn("{conditions: {}}"),
			[]string{`document 1, line 6: rules[0].name: required: a name of 1 to 255 characters`,
				`document 1, line 6: rules[0].priority: 0 is out of range; allowed: a whole number from 1 to 9999 (lower is evaluated first)`,
				`document 1, line 6: rules[0].action: required; allowed: allow, deny, mfa`}},
		{"unknown action", signOn("name: r\n    priority: 1\n    action: block"),
			[]string{`document 1, line 8: rules[0].action: unknown action "block"; allowed: allow, deny, mfa (allow with MFA required)`}},
		{"unknown rule status", signOn("{name: r, priority: 1, status: off, action: allow}"),
			[]string{`document 1, line 6: rules[0].status: unknown status "off"; allowed: ACTIVE, INACTIVE`}},
		{"unknown authType", signOn("{name: r, priority: 1, action: allow, conditions: {authType: LDAP}}"),
			[]string{`document 1, line 6: rules[0].conditions.authType: unknown authType "LDAP"; allowed: any, ldap, api, console`}},
		{"unknown userType", signOn("{name: r, priority: 1, action: allow, conditions: {userType: service}}"),
			[]string{`document 1, line 6: rules[0].conditions.userType: unknown userType "service"; allowed: any, person, service_account`}},
		{"duplicate rule names and priorities", "kind: sign-on\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}}\nrules:\n  - {name: r, priority: 1, action: allow}\n  - {name: R, priority: 1, action: deny}\n",
			[]string{`document 1, line 7: rules[1].name: rule name "R" is already used by rules[0]; rule names are unique within a policy`,
				`document 1, line 7: rules[1].priority: priority 1 is already used by rule "r"; rule priorities are unique within a policy`}},
		{"bad CIDRs", signOn("name: r\n    priority: 1\n    action: deny\n    conditions:\n      network:\n        include: [10.1.0.0/33, office, 'fe80::1%eth0', 10.1.2.3/16]\n        exclude:\n          - 300.1.1.1"),
			[]string{`document 1, line 11: rules[0].conditions.network.include[0]: "10.1.0.0/33" is not a network; want a CIDR prefix such as 10.1.0.0/16 or 2001:db8::/32, or a single address`,
				`document 1, line 11: rules[0].conditions.network.include[1]: "office" is not a network; want a CIDR prefix such as 10.1.0.0/16 or 2001:db8::/32, or a single address`,
				`document 1, line 11: rules[0].conditions.network.include[2]: "fe80::1%eth0" is not a network; want a CIDR prefix such as 10.1.0.0/16 or 2001:db8::/32, or a single address`,
				`document 1, line 11: rules[0].conditions.network.include[3]: "10.1.2.3/16" has bits set after the prefix length; did you mean 10.1.0.0/16?`,
				`document 1, line 13: rules[0].conditions.network.exclude[0]: "300.1.1.1" is not a network; want a CIDR prefix such as 10.1.0.0/16 or 2001:db8::/32, or a single address`}},
		{"negative settings", password("minLowerCase: -1, history: -2, maxAgeDays: -3, lockout: {maxAttempts: -4, autoUnlockMinutes: -5}"),
			[]string{`document 1, line 5: settings.minLowerCase: -1 is out of range; allowed: 0 to 256 (0 = not required)`,
				`document 1, line 5: settings.history: -2 is out of range; allowed: 0 to 24 previous passwords (0 = off)`,
				`document 1, line 5: settings.maxAgeDays: -3 is out of range; allowed: 0 to 3650 days (0 = never expires)`,
				`document 1, line 5: settings.lockout.maxAttempts: -4 is out of range; allowed: 0 to 100 failed attempts (0 = no lockout)`,
				`document 1, line 5: settings.lockout.autoUnlockMinutes: -5 is out of range; allowed: 0 to 525600 minutes (0 = only an admin unlocks)`}},
		{"absurd settings", password("minLength: 257, history: 25, minSymbol: 200, minNumber: 100"),
			[]string{`document 1, line 5: settings.minLength: 257 is out of range; allowed: 1 to 256 characters`,
				`document 1, line 5: settings: the character class minimums add up to 300; at most 256 allowed`,
				`document 1, line 5: settings.history: 25 is out of range; allowed: 0 to 24 previous passwords (0 = off)`}},
		{"zero minLength", password("minLength: 0"),
			[]string{`document 1, line 5: settings.minLength: 0 is out of range; allowed: 1 to 256 characters`}},
		{"bad attributes", password("excludeAttributes: [firstName, 'first name', FirstName]"),
			[]string{`document 1, line 5: settings.excludeAttributes[1]: "first name" is not an attribute name; want a profile attribute such as firstName, lastName or email`,
				`document 1, line 5: settings.excludeAttributes[2]: "FirstName" is listed twice (also excludeAttributes[0])`}},
		{"duplicates across documents", good + "---\n" + strings.Replace(good, "name: p", "name: P", 1) + "---\n" + strings.Replace(good, "name: p", "name: q", 1) + "---\n" + strings.Replace(password(""), "name: p", "name: P", 1),
			[]string{`document 2, line 11: name: name "P" is already used by another sign-on policy (document 1, line 1); names are unique per kind`,
				`document 2, line 12: priority: priority 1 is already used by sign-on policy "p" (document 1, line 1); priorities are unique per kind`,
				`document 3, line 21: priority: priority 1 is already used by sign-on policy "p" (document 1, line 1); priorities are unique per kind`}},
		{"duplicate ids", "- {id: x, kind: password, name: a, priority: 1, people: {groups: {include: [Everyone]}}}\n- {id: x, kind: password, name: b, priority: 2, people: {groups: {include: [Everyone]}}}\n",
			[]string{`document 1, line 2: [1].id: id "x" is already used by policy "a" (document 1, line 1)`}},
		{"list item errors", "- kind: password\n  name: a\n  priority: 1\n  people: {groups: {include: [Everyone]}}\n- 42\n- kind: password\n  name: b\n  priority: 0\n  people: {groups: {include: [Everyone]}}\n",
			[]string{`document 1, line 5: [1]: want a mapping with the fields id, kind, name, description, priority, status, people, rules, settings; got the number 42`,
				`document 1, line 8: [2].priority: 0 is out of range; allowed: a whole number from 1 to 9999 (lower is evaluated first)`}},
		{"document not a policy", good + "---\njust text\n",
			[]string{`document 2, line 10: want a policy (a mapping with kind, name, priority, …) or a list of policies; got the string "just text"`}},
		{"YAML unclosed list", "kind: password\nname: [p\npriority: 1\n",
			[]string{`document 1, line 2: not valid YAML: did not find expected ',' or ']'`}},
		{"YAML unclosed mapping", "kind: password\nname: p\npriority: 1\npeople: {groups: {include: [Everyone]}\n",
			[]string{`document 1, line 4: not valid YAML: did not find expected ',' or '}'`}},
		{"YAML list in a mapping", "kind: password\nname: p\n- x\n",
			[]string{`document 1, line 3: not valid YAML: did not find expected key`}},
		{"YAML unterminated string", "kind: password\nname: 'p\n",
			[]string{`document 1, line 2: not valid YAML: found unexpected end of stream`}},
		{"YAML syntax in a later document", good + "---\nkind: password\n  name: p\n",
			[]string{`document 2, line 11: not valid YAML: mapping values are not allowed in this context`}},
		{"YAML tabs", "kind: password\npeople:\n\tgroups: {include: [Everyone]}\n",
			[]string{`document 1, line 3: not valid YAML: found character that cannot start any token (YAML does not allow tabs for indentation; use spaces)`}},
		{"JSON syntax", "{\n  \"kind\": \"password\",\n  \"name\": \"p\" \"priority\": 1\n}\n",
			[]string{`document 1, line 3: not valid JSON: invalid character '"' after object key:value pair`}},
		{"JSON wrong types", "[\n {\"kind\": \"password\",\n  \"name\": \"p\",\n  \"priority\": \"1\",\n  \"people\": {\"groups\": {\"include\": [\"Everyone\"]}},\n  \"settings\": {\"excludeUsername\": 1, \"minLength\": 8.0}}\n]\n",
			[]string{`document 1, line 4: [0].priority: want a whole number; got the string "1"`,
				`document 1, line 6: [0].settings.excludeUsername: want true or false; got the number 1`,
				`document 1, line 6: [0].settings.minLength: want a whole number; got the number 8.0`}},
		{"JSON duplicate key", `{"kind":"password","kind":"sign-on","name":"p","priority":1,"people":{"groups":{"include":["Everyone"]}}}`,
			[]string{`document 1, line 1: kind: given twice (also on line 1)`}},
		{"too many policies", strings.Repeat("- {kind: password, name: a, priority: 1, people: {groups: {include: [Everyone]}}}\n", MaxPolicies+1),
			[]string{`1001 policies; at most 1000 allowed in one input`}},
		{"too big", "# " + strings.Repeat("x", MaxInput),
			[]string{fmt.Sprintf("input is %d bytes; at most %d allowed", MaxInput+2, MaxInput)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %s", dump(ps))
			}
			if ps != nil {
				t.Errorf("Parse returned policies with an error")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not Errors", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.want)
			}
			var fe *Error
			if !errors.As(err, &fe) || fe != es[0] {
				t.Errorf("errors.As(*Error) does not find the first error")
			}
			if err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	inputs := map[string][]byte{
		"reference": readFile(t, "testdata/reference.yaml"),
		"all.json":  readFile(t, "testdata/all.json"),
		"awkward strings": []byte(`- kind: password
  id: "0012"
  name: "yes"
  description: "null"
  priority: 1
  people: {groups: {include: ["true", "~", "- x", "#c", "a: b", "::1", "'q'", "\"dq\"", "日本語"]}, users: {exclude: ["1.5"]}}
`),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			ps, err := Parse(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Encode(ps)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(Encode): %v\n%s", err, out)
			}
			if !reflect.DeepEqual(again, ps) {
				t.Errorf("YAML round trip:\n got %s\nwant %s\nencoded:\n%s", dump(again), dump(ps), out)
			}
			js, err := json.Marshal(ps)
			if err != nil {
				t.Fatal(err)
			}
			again, err = Parse(js)
			if err != nil {
				t.Fatalf("Parse(json.Marshal): %v\n%s", err, js)
			}
			if !reflect.DeepEqual(again, ps) {
				t.Errorf("JSON round trip:\n got %s\nwant %s", dump(again), dump(ps))
			}
		})
	}
}

func TestEncode(t *testing.T) {
	out, err := Encode(referencePolicies[:1])
	if err != nil {
		t.Fatal(err)
	}
	want := `kind: sign-on
name: MFA for people over LDAP
priority: 1
status: ACTIVE
people:
  groups:
    include: [Everyone]
    exclude: [contractors]
  users:
    exclude: [ldap-bind]
rules:
  - name: LDAP needs MFA
    priority: 1
    status: ACTIVE
    conditions:
      network:
        include: [0.0.0.0/0, '::/0']
        exclude: [10.1.0.0/16]
      authType: ldap
      userType: person
    action: mfa
`
	if string(out) != want {
		t.Errorf("Encode:\n%s\nwant:\n%s", out, want)
	}
	if out, err := Encode(nil); err != nil || len(out) != 0 {
		t.Errorf("Encode(nil) = %q, %v", out, err)
	}
}

func TestValidate(t *testing.T) {
	ok := Policy{Kind: KindSignOn, Name: "p", Priority: 1,
		People: People{Users: Selection{Include: []string{"alice"}}},
		Rules:  []Rule{{Name: "r", Priority: 1, Action: ActionDeny}}}
	if err := Validate(&ok); err != nil {
		t.Errorf("Validate(empty statuses): %v", err)
	}
	pw := Policy{Kind: KindPassword, Name: "p", Priority: 1, People: People{Groups: Selection{Include: []string{Everyone}}}}
	if err := Validate(&pw); err != nil {
		t.Errorf("Validate(password without settings): %v", err)
	}
	pw.Settings = &PasswordSettings{}
	if err := Validate(&pw); err == nil || err.Error() != `policy "p": settings.minLength: 0 is out of range; allowed: 1 to 256 characters` {
		t.Errorf("Validate(zero settings) = %v", err)
	}
	if err := Validate(&Policy{}); err == nil || !strings.HasPrefix(err.Error(), "kind: required") {
		t.Errorf("Validate(zero) = %v", err)
	}
	two := []Policy{ok, ok}
	two[1].Name = "P"
	err := ValidateAll(two)
	want := `policy "P": name: name "P" is already used by another sign-on policy; names are unique per kind` + "\n" +
		`policy "P": priority: priority 1 is already used by sign-on policy "p"; priorities are unique per kind`
	if err == nil || err.Error() != want {
		t.Errorf("ValidateAll = %v\nwant %s", err, want)
	}
	two[1].Kind = KindPassword
	two[1].Rules = nil
	if err := ValidateAll(two); err != nil {
		t.Errorf("ValidateAll(one of each kind): %v", err)
	}
}
