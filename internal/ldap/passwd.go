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
