package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate checks one policy on its own: required fields, known values,
// ranges, CIDRs, and that rule names and priorities are unique within it.
// It returns Errors naming each problem's field, or nil.
func Validate(p *Policy) error {
	var es Errors
	validate(p, func(path, msg string) {
		es = append(es, &Error{Policy: p.Name, Path: path, Msg: msg})
	})
	return es.err()
}

// ValidateAll checks each policy with Validate and that, per kind, names
// (regardless of case) and priorities are unique, as they must be within an
// org. IDs, when set, must be unique too.
func ValidateAll(ps []Policy) error {
	var es Errors
	for i := range ps {
		validate(&ps[i], func(path, msg string) {
			es = append(es, &Error{Policy: ps[i].Name, Path: path, Msg: msg})
		})
	}
	checkUnique(ps, func(i int, path, msg string) {
		es = append(es, &Error{Policy: ps[i].Name, Path: path, Msg: msg})
	}, func(int) string { return "" })
	return es.err()
}

type reporter func(path, msg string)

func validate(p *Policy, report reporter) {
	if p.ID != "" {
		checkText("id", p.ID, MaxNameLength, report)
	}
	switch p.Kind {
	case KindSignOn, KindPassword:
	case "":
		report("kind", "required; allowed: sign-on, password")
	default:
		report("kind", fmt.Sprintf("unknown kind %q; allowed: sign-on, password", p.Kind))
	}
	checkName("name", p.Name, report)
	if strings.EqualFold(strings.TrimSpace(p.Name), DefaultPolicyName) {
		report("name", fmt.Sprintf("%q is reserved for the built-in default policy; choose another name", p.Name))
	}
	if p.Description != "" {
		checkText("description", p.Description, MaxDescription, report)
	}
	checkPriority("priority", p.Priority, report)
	checkStatus("status", p.Status, report)
	checkPeople(&p.People, report)

	switch p.Kind {
	case KindSignOn:
		if p.Settings != nil {
			report("settings", "only password policies have settings; a sign-on policy decides with its rules")
		}
		checkRules(p.Rules, report)
	case KindPassword:
		if len(p.Rules) > 0 {
			report("rules", "only sign-on policies have rules; a password policy has settings")
		}
		if p.Settings != nil {
			checkSettings(p.Settings, report)
		}
	}
}

func checkName(path, s string, report reporter) {
	if s == "" {
		report(path, fmt.Sprintf("required: a name of 1 to %d characters", MaxNameLength))
		return
	}
	if checkText(path, s, MaxNameLength, report) && strings.TrimSpace(s) != s {
		report(path, fmt.Sprintf("%q has spaces at the start or end", s))
	}
}

// checkText reports invalid UTF-8, control characters and excess length.
func checkText(path, s string, max int, report reporter) bool {
	if !utf8.ValidString(s) {
		report(path, "is not valid UTF-8 text")
		return false
	}
	if n := utf8.RuneCountInString(s); n > max {
		report(path, fmt.Sprintf("is %d characters long; at most %d allowed", n, max))
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(max == MaxDescription && (r == '\n' || r == '\t')) {
			report(path, fmt.Sprintf("contains the control character %U", r))
			return false
		}
	}
	return true
}

func checkPriority(path string, v int, report reporter) {
	if v < 1 || v > MaxPriority {
		report(path, fmt.Sprintf("%d is out of range; allowed: a whole number from 1 to %d (lower is evaluated first)", v, MaxPriority))
	}
}

func checkStatus(path string, s Status, report reporter) {
	switch s {
	case "", StatusActive, StatusInactive:
	default:
		report(path, fmt.Sprintf("unknown status %q; allowed: ACTIVE, INACTIVE", s))
	}
}

func checkPeople(pp *People, report reporter) {
	if len(pp.Groups.Include) == 0 && len(pp.Users.Include) == 0 {
		report("people", "applies to nobody: include at least one group or user (groups: {include: [Everyone]} for all users)")
	}
	checkSelection("people.groups", pp.Groups, report, checkRefName)
	checkSelection("people.users", pp.Users, report, checkRefName)
	for i, g := range pp.Groups.Exclude {
		if g == Everyone {
			report(fmt.Sprintf("people.groups.exclude[%d]", i), "Everyone cannot be excluded (that leaves nobody); set status: INACTIVE to turn a policy off")
		}
	}
}

func checkRefName(path, s string, report reporter) {
	if s == "" {
		report(path, "empty name; want a group or user name, login or id")
		return
	}
	checkName(path, s, report)
}

// checkSelection checks an include and an exclude list: length, each entry
// with check, duplicates, and names both included and excluded.
func checkSelection(path string, sel Selection, report reporter, check func(path, s string, report reporter)) {
	seen := make(map[string]string, len(sel.Include)+len(sel.Exclude))
	for _, list := range []struct {
		name    string
		entries []string
	}{{"include", sel.Include}, {"exclude", sel.Exclude}} {
		lp := path + "." + list.name
		if len(list.entries) > MaxListLength {
			report(lp, fmt.Sprintf("has %d entries; at most %d allowed", len(list.entries), MaxListLength))
			continue
		}
		for i, s := range list.entries {
			ep := lp + "[" + strconv.Itoa(i) + "]"
			check(ep, s, report)
			if prev, dup := seen[s]; dup {
				if strings.HasPrefix(prev, lp+"[") {
					report(ep, fmt.Sprintf("%q is listed twice (also %s)", s, prev))
				} else {
					report(ep, fmt.Sprintf("%q is both included and excluded (%s); exclusions win, so list it once", s, prev))
				}
				continue
			}
			seen[s] = ep
		}
	}
}

func checkRules(rules []Rule, report reporter) {
	// No rules is valid: the policy then decides nothing and evaluation
	// goes on to the next (Okta creates a policy first, its rules after).
	if len(rules) > MaxRules {
		report("rules", fmt.Sprintf("has %d rules; at most %d allowed", len(rules), MaxRules))
		return
	}
	names := make(map[string]int, len(rules))
	prios := make(map[int]int, len(rules))
	for i := range rules {
		r := &rules[i]
		rp := "rules[" + strconv.Itoa(i) + "]"
		checkName(rp+".name", r.Name, report)
		if r.Name != "" {
			key := strings.ToLower(r.Name)
			if j, dup := names[key]; dup {
				report(rp+".name", fmt.Sprintf("rule name %q is already used by rules[%d]; rule names are unique within a policy", r.Name, j))
			} else {
				names[key] = i
			}
		}
		checkPriority(rp+".priority", r.Priority, report)
		if r.Priority >= 1 && r.Priority <= MaxPriority {
			if j, dup := prios[r.Priority]; dup {
				report(rp+".priority", fmt.Sprintf("priority %d is already used by rule %q; rule priorities are unique within a policy", r.Priority, rules[j].Name))
			} else {
				prios[r.Priority] = i
			}
		}
		checkStatus(rp+".status", r.Status, report)
		switch r.Action {
		case ActionAllow, ActionDeny, ActionMFA:
		case "":
			report(rp+".action", "required; allowed: allow, deny, mfa")
		default:
			report(rp+".action", fmt.Sprintf("unknown action %q; allowed: allow, deny, mfa (allow with MFA required)", r.Action))
		}
		c := &r.Conditions
		checkSelection(rp+".conditions.network", c.Network, report, func(path, s string, report reporter) {
			if _, msg := parseNetwork(s); msg != "" {
				report(path, msg)
			}
		})
		switch c.AuthType {
		case "", AuthAny, AuthLDAP, AuthAPI, AuthConsole:
		default:
			report(rp+".conditions.authType", fmt.Sprintf("unknown authType %q; allowed: any, ldap, api, console", c.AuthType))
		}
		switch c.UserType {
		case "", UserAny, UserPerson, UserServiceAccount:
		default:
			report(rp+".conditions.userType", fmt.Sprintf("unknown userType %q; allowed: any, person, service_account", c.UserType))
		}
	}
}

// parseNetwork parses a CIDR prefix or a single address. An IPv4-mapped
// IPv6 prefix (::ffff:10.0.0.0/104) becomes the IPv4 prefix it maps. It
// returns a message saying what is wrong, or "".
func parseNetwork(s string) (netip.Prefix, string) {
	const want = "want a CIDR prefix such as 10.1.0.0/16 or 2001:db8::/32, or a single address"
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		p, err = netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Sprintf("%q is not a network; %s", s, want)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, fmt.Sprintf("%q is not a network; %s", s, want)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if m := p.Masked(); m != p {
		return p, fmt.Sprintf("%q has bits set after the prefix length; did you mean %s?", s, m)
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, ""
}

func checkRange(path string, v, lo, hi int, note string, report reporter) {
	if v < lo || v > hi {
		report(path, fmt.Sprintf("%d is out of range; allowed: %d to %d%s", v, lo, hi, note))
	}
}

func checkSettings(s *PasswordSettings, report reporter) {
	checkRange("settings.minLength", s.MinLength, 1, MaxMinLength, " characters", report)
	classes := 0
	for _, c := range []struct {
		name string
		v    int
	}{{"minLowerCase", s.MinLowerCase}, {"minUpperCase", s.MinUpperCase}, {"minNumber", s.MinNumber}, {"minSymbol", s.MinSymbol}} {
		checkRange("settings."+c.name, c.v, 0, MaxMinLength, " (0 = not required)", report)
		classes += max(c.v, 0)
	}
	if classes > MaxMinLength {
		report("settings", fmt.Sprintf("the character class minimums add up to %d; at most %d allowed", classes, MaxMinLength))
	}
	checkRange("settings.history", s.HistoryCount, 0, MaxHistory, " previous passwords (0 = off)", report)
	checkRange("settings.maxAgeDays", s.MaxAgeDays, 0, MaxMaxAgeDays, " days (0 = never expires)", report)
	checkRange("settings.lockout.maxAttempts", s.Lockout.MaxAttempts, 0, MaxAttempts, " failed attempts (0 = no lockout)", report)
	checkRange("settings.lockout.autoUnlockMinutes", s.Lockout.AutoUnlockMinutes, 0, MaxAutoUnlockMin, " minutes (0 = only an admin unlocks)", report)
	if len(s.ExcludeAttributes) > MaxAttributes {
		report("settings.excludeAttributes", fmt.Sprintf("has %d entries; at most %d allowed", len(s.ExcludeAttributes), MaxAttributes))
		return
	}
	seen := make(map[string]int, len(s.ExcludeAttributes))
	for i, a := range s.ExcludeAttributes {
		ap := "settings.excludeAttributes[" + strconv.Itoa(i) + "]"
		if !isAttrName(a) {
			report(ap, fmt.Sprintf("%q is not an attribute name; want a profile attribute such as firstName, lastName or email", a))
			continue
		}
		key := strings.ToLower(a)
		if j, dup := seen[key]; dup {
			report(ap, fmt.Sprintf("%q is listed twice (also excludeAttributes[%d])", a, j))
			continue
		}
		seen[key] = i
	}
}

func isAttrName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// checkUnique reports, per kind, names used twice (regardless of case),
// priorities used twice, and IDs used twice. where(j) describes where
// policy j is, for the message ("" when unknown).
func checkUnique(ps []Policy, report func(i int, path, msg string), where func(j int) string) {
	type key struct {
		kind Kind
		name string
	}
	type pkey struct {
		kind Kind
		prio int
	}
	names := make(map[key]int, len(ps))
	prios := make(map[pkey]int, len(ps))
	ids := make(map[string]int, len(ps))
	at := func(j int) string {
		if w := where(j); w != "" {
			return " (" + w + ")"
		}
		return ""
	}
	for i := range ps {
		p := &ps[i]
		if p.Name != "" {
			k := key{p.Kind, strings.ToLower(p.Name)}
			if j, dup := names[k]; dup {
				report(i, "name", fmt.Sprintf("name %q is already used by another %s policy%s; names are unique per kind", p.Name, p.Kind, at(j)))
			} else {
				names[k] = i
			}
		}
		if p.Priority >= 1 && p.Priority <= MaxPriority {
			k := pkey{p.Kind, p.Priority}
			if j, dup := prios[k]; dup {
				report(i, "priority", fmt.Sprintf("priority %d is already used by %s policy %q%s; priorities are unique per kind", p.Priority, p.Kind, ps[j].Name, at(j)))
			} else {
				prios[k] = i
			}
		}
		if p.ID != "" {
			if j, dup := ids[p.ID]; dup {
				report(i, "id", fmt.Sprintf("id %q is already used by policy %q%s", p.ID, ps[j].Name, at(j)))
			} else {
				ids[p.ID] = i
			}
		}
	}
}
