package directory

import (
	"errors"
	"fmt"
)

// Code classifies a domain error. The LDAP view (dit) and the REST API each
// map codes to their wire errors with one table; nothing else inspects
// messages.
type Code int

// Error codes.
const (
	CodeInternal           Code = iota
	CodeNotFound                // no such org, user or group
	CodeConflict                // a unique name is taken
	CodeInvalid                 // input fails validation
	CodeIllegalTransition       // lifecycle action not allowed from the current status
	CodeInvalidCredentials      // authentication failed (any reason)
	CodePolicyDenied            // a sign-on policy denied the authentication
	CodeForbidden               // the actor may not do this
	CodeUnavailable             // the store is unreachable or busy: retry
	CodeThrottled               // too many failed sign-ins from the client's address: wait
)

var codeNames = map[Code]string{
	CodeInternal: "internal", CodeNotFound: "not_found", CodeConflict: "conflict",
	CodeInvalid: "invalid", CodeIllegalTransition: "illegal_transition",
	CodeInvalidCredentials: "invalid_credentials", CodePolicyDenied: "policy_denied",
	CodeForbidden: "forbidden", CodeUnavailable: "unavailable", CodeThrottled: "throttled",
}

func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is a domain error. Message is safe to show the caller (it names
// the problem and, where useful, what is allowed); Reason is for the audit
// log and server logs only (e.g. why credentials were refused: the client
// must not learn whether a user exists). Neither ever holds a secret.
type Error struct {
	Code    Code
	Message string
	Reason  string
	Field   string // for CodeInvalid: the offending field, e.g. "profile.login"
	Err     error  // cause, for errors.Is/As
}

func (e *Error) Error() string {
	if e.Reason != "" && e.Reason != e.Message {
		return e.Message + " (" + e.Reason + ")"
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of err's *Error, or CodeInternal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Okta's LDAP diagnostics (DESIGN.md): the same words whatever the reason,
// so a client cannot tell an unknown user from a wrong password.
const (
	MsgInvalidCredentials = "The credentials provided were invalid."
	MsgPolicyDenied       = "Authentication denied by sign on policy."
	// MsgPasswordExpired goes only to a caller whose password was right
	// (as Active Directory's "data 532"), so the user knows to change it.
	MsgPasswordExpired = "The credentials provided were invalid: the password has expired and must be changed."
	// MsgNoFactor goes only to a caller whose password was right.
	MsgNoFactor = "Authentication denied by sign on policy: MFA is required and the user has no enrolled factor."
)

// Causes of an Authenticate failure that a caller who knew the password
// may be told (an LDAP password policy control says them): its
// *Error wraps one.
var (
	ErrPasswordExpired = errors.New("the password has expired")
	ErrLockedOut       = errors.New("the account is locked out")
)

func errf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *Error {
	e := errf(CodeInvalid, format, args...)
	e.Field = field
	return e
}

// credentialsError is an authentication failure with its internal reason.
func credentialsError(reason string) *Error {
	return &Error{Code: CodeInvalidCredentials, Message: MsgInvalidCredentials, Reason: reason}
}
