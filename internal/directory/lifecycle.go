package directory

import (
	"sort"
	"strings"

	"github.com/dirgate/dirgate/internal/store"
)

// Action is a lifecycle operation on a user (Okta's names).
type Action string

// Lifecycle actions.
const (
	ActionActivate       Action = "activate"
	ActionDeactivate     Action = "deactivate"
	ActionSuspend        Action = "suspend"
	ActionUnsuspend      Action = "unsuspend"
	ActionUnlock         Action = "unlock"
	ActionExpirePassword Action = "expire_password"
	// actionLock is taken by lockout (issue 5), never by an admin.
	actionLock Action = "lock"
)

// Actions lists the lifecycle actions an administrator may take.
var Actions = []Action{ActionActivate, ActionDeactivate, ActionSuspend, ActionUnsuspend, ActionUnlock, ActionExpirePassword}

// transitions is Okta's lifecycle: action -> status it may be taken from ->
// status it leads to. Deactivate goes from any status but DEPROVISIONED.
var transitions = map[Action]map[string]string{
	ActionActivate: {
		StatusStaged:        StatusActive,
		StatusDeprovisioned: StatusActive,
	},
	ActionDeactivate: {
		StatusStaged: StatusDeprovisioned, StatusActive: StatusDeprovisioned,
		StatusSuspended: StatusDeprovisioned, StatusLockedOut: StatusDeprovisioned,
		StatusPasswordExpired: StatusDeprovisioned,
	},
	ActionSuspend:        {StatusActive: StatusSuspended},
	ActionUnsuspend:      {StatusSuspended: StatusActive},
	ActionUnlock:         {StatusLockedOut: StatusActive},
	ActionExpirePassword: {StatusActive: StatusPasswordExpired, StatusPasswordExpired: StatusPasswordExpired},
	actionLock:           {StatusActive: StatusLockedOut},
}

// Statuses (re-exported from store for callers of directory).
const (
	StatusStaged          = store.StatusStaged
	StatusActive          = store.StatusActive
	StatusSuspended       = store.StatusSuspended
	StatusDeprovisioned   = store.StatusDeprovisioned
	StatusLockedOut       = store.StatusLockedOut
	StatusPasswordExpired = store.StatusPasswordExpired
)

// ParseAction maps a name in any case ("expire-password" too) to an Action.
func ParseAction(s string) (Action, *Error) {
	k := Action(strings.ReplaceAll(strings.ToLower(s), "-", "_"))
	if _, ok := transitions[k]; ok && k != actionLock {
		return k, nil
	}
	names := make([]string, len(Actions))
	for i, a := range Actions {
		names[i] = string(a)
	}
	return "", invalid("action", "unknown lifecycle action %q (known: %s)", s, strings.Join(names, ", "))
}

// next returns the status action leads to from status, or an error that
// says which actions the current status allows.
func next(login, status string, a Action) (string, *Error) {
	if to, ok := transitions[a][status]; ok {
		return to, nil
	}
	e := errf(CodeIllegalTransition, "cannot %s user %s: the user is %s; from %s the allowed actions are: %s",
		strings.ReplaceAll(string(a), "_", " "), login, status, status, strings.Join(AllowedActions(status), ", "))
	return "", e
}

// AllowedActions lists the admin actions allowed from status (delete
// included when it is allowed), sorted.
func AllowedActions(status string) []string {
	var out []string
	for _, a := range Actions {
		if _, ok := transitions[a][status]; ok {
			out = append(out, string(a))
		}
	}
	if status == StatusDeprovisioned {
		out = append(out, "delete")
	}
	sort.Strings(out)
	return out
}
