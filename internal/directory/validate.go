package directory

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on profile values (Okta's where it has one).
const (
	maxLoginLen = 100
	maxNameLen  = 1024
	maxAttrs    = 64
)

var (
	orgNameRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	attrNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)
)

// reservedAttrs are LDAP attribute names the user entry already uses;
// custom attributes may not shadow them.
var reservedAttrs = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{"objectClass", "uid", "uniqueIdentifier", "organizationalStatus", "givenName", "sn",
		"cn", "mail", "displayName", "nickName", "title", "department", "o", "mobile", "telephoneNumber",
		"entryUUID", "entryDN", "memberOf", "userPassword", "hasSubordinates", "numSubordinates",
		"structuralObjectClass", "subschemaSubentry", "createTimestamp", "modifyTimestamp", "description",
		"uniqueMember", "member", "ou", "dc"} {
		m[strings.ToLower(n)] = true
	}
	return m
}()

func foldKey(s string) string { return strings.ToLower(s) }

// checkText refuses invalid UTF-8, control characters and overlong values.
func checkText(field, v string, max int) *Error {
	if !utf8.ValidString(v) {
		return invalid(field, "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(v) > max {
		return invalid(field, "%s is longer than %d characters", field, max)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid(field, "%s contains a control character", field)
		}
	}
	return nil
}

func validateOrgName(name string) *Error {
	if !orgNameRE.MatchString(name) {
		return invalid("name", "org name %q must be 1-63 lower-case letters, digits or hyphens, not starting or ending with a hyphen", name)
	}
	return nil
}

func validateLogin(login string) *Error {
	if login == "" {
		return invalid("profile.login", "login is required")
	}
	if e := checkText("profile.login", login, maxLoginLen); e != nil {
		return e
	}
	for _, r := range login {
		if unicode.IsSpace(r) {
			return invalid("profile.login", "login %q must not contain spaces", login)
		}
	}
	return nil
}

// validateProfile checks p against the org's declared custom attributes.
func validateProfile(p *Profile, org *Org) *Error {
	if e := validateLogin(p.Login); e != nil {
		return e
	}
	if p.Email != "" {
		if e := checkText("profile.email", p.Email, maxLoginLen); e != nil {
			return e
		}
		if at := strings.IndexByte(p.Email, '@'); at <= 0 || at == len(p.Email)-1 || strings.ContainsAny(p.Email, " \t") {
			return invalid("profile.email", "email %q is not an address of the form name@domain", p.Email)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"profile.firstName", p.FirstName}, {"profile.lastName", p.LastName},
		{"profile.displayName", p.DisplayName}, {"profile.nickName", p.NickName},
		{"profile.title", p.Title}, {"profile.department", p.Department},
		{"profile.organization", p.Organization}, {"profile.mobilePhone", p.MobilePhone},
		{"profile.primaryPhone", p.PrimaryPhone},
	} {
		if e := checkText(f.name, f.v, maxNameLen); e != nil {
			return e
		}
	}
	for k, v := range p.Custom {
		if !declared(org, k) {
			return invalid("profile."+k, "profile attribute %q is not declared for org %s (declared: %s)", k, org.Name, strings.Join(org.CustomAttributes, ", "))
		}
		if e := checkText("profile."+k, v, maxNameLen); e != nil {
			return e
		}
	}
	return nil
}

func declared(org *Org, name string) bool {
	for _, a := range org.CustomAttributes {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

func validateCustomAttributes(names []string) *Error {
	if len(names) > maxAttrs {
		return invalid("customAttributes", "at most %d custom attributes", maxAttrs)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !attrNameRE.MatchString(n) {
			return invalid("customAttributes", "custom attribute %q must start with a letter and hold only letters, digits and hyphens (at most 64)", n)
		}
		k := strings.ToLower(n)
		if reservedAttrs[k] {
			return invalid("customAttributes", "custom attribute %q would shadow a built-in LDAP attribute", n)
		}
		if seen[k] {
			return invalid("customAttributes", "custom attribute %q is declared twice", n)
		}
		seen[k] = true
	}
	return nil
}

// validateGroup checks a group's name and description.
func validateGroup(in GroupInput) *Error {
	if e := validateGroupName(in.Name); e != nil {
		return e
	}
	return checkText("profile.description", in.Description, maxNameLen)
}

func validateGroupName(name string) *Error {
	if strings.TrimSpace(name) == "" {
		return invalid("profile.name", "group name is required")
	}
	if name != strings.TrimSpace(name) {
		return invalid("profile.name", "group name %q must not start or end with spaces", name)
	}
	if e := checkText("profile.name", name, 255); e != nil {
		return e
	}
	return nil
}

// normalizeRole maps a role name in any case to its canonical form.
func normalizeRole(r string) (string, *Error) {
	for _, known := range Roles {
		if strings.EqualFold(r, known) {
			return known, nil
		}
	}
	return "", invalid("role", "unknown admin role %q (known: %s)", r, strings.Join(Roles, ", "))
}
