package ldap

import (
	"github.com/dirgate/dirgate/internal/ber"
)

// Password Modify extended operation (RFC 3062 §2).
var (
	tagPMUserIdentity = ber.Context(0, false)
	tagPMOldPassword  = ber.Context(1, false)
	tagPMNewPassword  = ber.Context(2, false)
	tagPMGenPassword  = ber.Context(0, false)
)

// PasswordModify is the value of a Password Modify request. A field the
// request leaves out is nil; one it sends empty is empty but not nil.
// The fields alias the request value.
type PasswordModify struct {
	UserIdentity []byte // whose password: a DN or an authzId; nil: the bound user
	OldPassword  []byte // nil: not given
	NewPassword  []byte // nil: the server generates one
}

// ParsePasswordModify decodes a Password Modify request value:
//
//	PasswdModifyRequestValue ::= SEQUENCE {
//	    userIdentity [0] OCTET STRING OPTIONAL,
//	    oldPasswd    [1] OCTET STRING OPTIONAL,
//	    newPasswd    [2] OCTET STRING OPTIONAL }
//
// The fields come in that order, each at most once. A request without a
// value (hasValue false) asks for everything's default.
func ParsePasswordModify(value []byte, hasValue bool) (PasswordModify, error) {
	var pm PasswordModify
	if !hasValue {
		return pm, nil
	}
	r := ber.NewReader(value)
	seq, err := r.Enter(ber.TagSequence)
	if err != nil {
		return pm, err
	}
	if err := r.Finish(); err != nil {
		return pm, err
	}
	fields := []struct {
		tag ber.Tag
		dst *[]byte
	}{{tagPMUserIdentity, &pm.UserIdentity}, {tagPMOldPassword, &pm.OldPassword}, {tagPMNewPassword, &pm.NewPassword}}
	for _, f := range fields {
		if seq.Empty() {
			break
		}
		t, err := seq.Peek()
		if err != nil {
			return pm, err
		}
		if t != f.tag {
			continue
		}
		v, err := seq.OctetString(f.tag)
		if err != nil {
			return pm, err
		}
		if v == nil {
			v = []byte{}
		}
		*f.dst = v
	}
	return pm, seq.Finish()
}

// AppendPasswordModify appends pm as a request value (for clients and
// tests).
func AppendPasswordModify(dst []byte, pm PasswordModify) []byte {
	e := ber.Encoder{Buf: dst}
	e.Begin(ber.TagSequence)
	if pm.UserIdentity != nil {
		e.OctetString(tagPMUserIdentity, pm.UserIdentity)
	}
	if pm.OldPassword != nil {
		e.OctetString(tagPMOldPassword, pm.OldPassword)
	}
	if pm.NewPassword != nil {
		e.OctetString(tagPMNewPassword, pm.NewPassword)
	}
	e.End()
	return e.Buf
}

// AppendPasswordModifyResponse appends the response value carrying a
// generated password:
//
//	PasswdModifyResponseValue ::= SEQUENCE { genPasswd [0] OCTET STRING OPTIONAL }
func AppendPasswordModifyResponse(dst []byte, genPasswd []byte) []byte {
	e := ber.Encoder{Buf: dst}
	e.Begin(ber.TagSequence)
	e.OctetString(tagPMGenPassword, genPasswd)
	e.End()
	return e.Buf
}

// OIDPasswordPolicy is the password policy control's
// (draft-behera-ldap-password-policy-11 §6): a client sends it, without a
// value, with a bind or a password change to be told why it failed or
// what the password's state is.
const OIDPasswordPolicy = "1.3.6.1.4.1.42.2.27.8.5.1"

// PolicyError is the error field of a password policy response.
type PolicyError int8

// Password policy errors (§6.2); PolicyNoError leaves the field out.
const (
	PolicyNoError               PolicyError = -1
	PolicyPasswordExpired       PolicyError = 0
	PolicyAccountLocked         PolicyError = 1
	PolicyChangeAfterReset      PolicyError = 2
	PolicyPasswordModNotAllowed PolicyError = 3
	PolicyMustSupplyOldPassword PolicyError = 4
	PolicyInsufficientQuality   PolicyError = 5
	PolicyPasswordTooShort      PolicyError = 6
	PolicyPasswordTooYoung      PolicyError = 7
	PolicyPasswordInHistory     PolicyError = 8
)

// PasswordPolicyControl returns a password policy response control with
// err (PolicyNoError: an empty SEQUENCE, which still parses: an absent or
// malformed value is what makes SSSD fail the bind):
//
//	PasswordPolicyResponseValue ::= SEQUENCE {
//	    warning [0] CHOICE { timeBeforeExpiration [0] INTEGER,
//	                         graceAuthNsRemaining [1] INTEGER } OPTIONAL,
//	    error   [1] ENUMERATED { passwordExpired (0), ... } OPTIONAL }
//
// dirgate sends no warning: its password policies have no warning period.
func PasswordPolicyControl(err PolicyError) Control {
	e := ber.Encoder{}
	e.Begin(ber.TagSequence)
	if err != PolicyNoError {
		e.Int(ber.Context(1, false), int64(err))
	}
	e.End()
	return Control{OID: OIDPasswordPolicy, Value: e.Buf, HasValue: true}
}
