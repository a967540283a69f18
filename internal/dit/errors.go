package dit

import (
	"context"
	"errors"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// ldapResult is the LDAP answer to a domain error.
type ldapResult struct {
	code       ldap.ResultCode
	diagnostic string
	// message: send the domain error's Message instead (it is written
	// for the client: a sign-on policy denial that says what is missing).
	message bool
}

const diagUnavailable = "directory temporarily unavailable; retry"

// resultOfCode is the one table from directory error codes to LDAP result
// codes and the diagnostics clients see. The domain error's Reason is
// never sent (it may tell an unknown user from a wrong password); it is
// logged. Codes missing here get resultInternal.
var resultOfCode = map[directory.Code]ldapResult{
	directory.CodeInvalidCredentials: {ldap.InvalidCredentials, directory.MsgInvalidCredentials, false},
	directory.CodePolicyDenied:       {ldap.InvalidCredentials, directory.MsgPolicyDenied, true},
	directory.CodeUnavailable:        {ldap.Unavailable, diagUnavailable, false},
	directory.CodeThrottled:          {ldap.Busy, "too many failed binds from this address; try again later", false},
	directory.CodeNotFound:           {ldap.NoSuchObject, "no such entry", false},
	directory.CodeForbidden:          {ldap.InsufficientAccessRights, "insufficient access rights", false},
	directory.CodeInvalid:            {ldap.UnwillingToPerform, "the request is not valid", false},
	directory.CodeIllegalTransition:  {ldap.UnwillingToPerform, "the operation is not allowed in the entry's current state", false},
	directory.CodeConflict:           {ldap.EntryAlreadyExists, "the entry already exists", false},
}

var resultInternal = ldapResult{ldap.OperationsError, "internal error", false}

// ldapError maps an error from the Source to what the server answers: a
// *directory.Error through resultOfCode; a cancelled or timed-out context
// as it is (the server tells abandon, disconnection and the time limit
// apart); anything else as an internal error.
func ldapError(err error) error {
	var de *directory.Error
	if errors.As(err, &de) {
		r, ok := resultOfCode[de.Code]
		if !ok {
			r = resultInternal
		}
		if r.message && de.Message != "" {
			return ldapserver.Fail(r.code, de.Message)
		}
		return ldapserver.Fail(r.code, r.diagnostic)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return ldapserver.Fail(resultInternal.code, resultInternal.diagnostic)
}
