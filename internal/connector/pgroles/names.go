package pgroles

import "strings"

// RoleNameOf is the role name of a login under mode (NameLogin or
// NameLocalPart), in lower case, or why it has none. Names are never
// truncated or rewritten otherwise: two logins that would need it could
// become one role.
func RoleNameOf(login, mode string) (name, reason string) {
	name = strings.ToLower(strings.TrimSpace(login))
	if mode == NameLocalPart {
		if i := strings.LastIndexByte(name, '@'); i >= 0 {
			name = name[:i]
		}
	}
	if reason := checkRoleName(name); reason != "" {
		return "", "its role name " + quoteLiteral(name) + " " + reason
	}
	return name, ""
}
