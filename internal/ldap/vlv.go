package ldap

import (
	"errors"

	"github.com/dirgate/dirgate/internal/ber"
)

// Virtual list view (draft-ietf-ldapext-ldapv3-vlv-09): a window of a
// sorted search's results, around an offset or the first entry whose sort
// key is at or after a value.
const (
	OIDVLVRequest  = "2.16.840.1.113730.3.4.9"
	OIDVLVResponse = "2.16.840.1.113730.3.4.10"
)

var (
	tagVLVByOffset = ber.Context(0, true)
	tagVLVGreater  = ber.Context(1, false)
)

// VLVRequest is a decoded virtual list view request. Value and ContextID
// alias the control value.
type VLVRequest struct {
	Before, After int
	// ByOffset: the target is Offset (1 the first entry) of a list the
	// client believes holds Count entries (0: it does not know);
	// otherwise it is the first entry whose sort key is at or after
	// Value (greaterThanOrEqual).
	ByOffset      bool
	Offset, Count int
	Value         []byte
	ContextID     []byte
}

// MaxVLVWindow bounds beforeCount and afterCount: a window is meant to be
// a screenful.
const MaxVLVWindow = 10000

var errVLVRange = errors.New("ldap: virtual list view counts out of range")

// ParseVLVRequest decodes a virtual list view request control value:
//
//	VirtualListViewRequest ::= SEQUENCE {
//	    beforeCount INTEGER (0..maxInt),
//	    afterCount  INTEGER (0..maxInt),
//	    target CHOICE {
//	        byOffset [0] SEQUENCE { offset INTEGER (1..maxInt), contentCount INTEGER (0..maxInt) },
//	        greaterThanOrEqual [1] AssertionValue },
//	    contextID OCTET STRING OPTIONAL }
func ParseVLVRequest(value []byte) (VLVRequest, error) {
	r := ber.NewReader(value)
	seq, err := r.Enter(ber.TagSequence)
	if err != nil {
		return VLVRequest{}, err
	}
	if err := r.Finish(); err != nil {
		return VLVRequest{}, err
	}
	var v VLVRequest
	before, err := seq.Int(ber.TagInteger)
	if err != nil {
		return VLVRequest{}, err
	}
	after, err := seq.Int(ber.TagInteger)
	if err != nil {
		return VLVRequest{}, err
	}
	if before < 0 || after < 0 || before > MaxVLVWindow || after > MaxVLVWindow {
		return VLVRequest{}, errVLVRange
	}
	v.Before, v.After = int(before), int(after)
	t, err := seq.Peek()
	if err != nil {
		return VLVRequest{}, err
	}
	switch t {
	case tagVLVByOffset:
		off, err := seq.Enter(tagVLVByOffset)
		if err != nil {
			return VLVRequest{}, err
		}
		o, err := off.Int(ber.TagInteger)
		if err != nil {
			return VLVRequest{}, err
		}
		c, err := off.Int(ber.TagInteger)
		if err != nil {
			return VLVRequest{}, err
		}
		if err := off.Finish(); err != nil {
			return VLVRequest{}, err
		}
		if o < 0 || c < 0 || o > 1<<31-1 || c > 1<<31-1 {
			return VLVRequest{}, errVLVRange
		}
		v.ByOffset, v.Offset, v.Count = true, int(o), int(c)
	case tagVLVGreater:
		val, err := seq.OctetString(tagVLVGreater)
		if err != nil {
			return VLVRequest{}, err
		}
		v.Value = val[:len(val):len(val)]
	default:
		return VLVRequest{}, errors.New("ldap: virtual list view target is neither byOffset nor greaterThanOrEqual")
	}
	if !seq.Empty() {
		id, err := seq.OctetString(ber.TagOctetString)
		if err != nil {
			return VLVRequest{}, err
		}
		v.ContextID = id[:len(id):len(id)]
	}
	if err := seq.Finish(); err != nil {
		return VLVRequest{}, err
	}
	return v, nil
}

// AppendVLVRequest appends a virtual list view request control value (for
// clients and tests).
func AppendVLVRequest(dst []byte, v VLVRequest) []byte {
	e := ber.Encoder{Buf: dst}
	e.Begin(ber.TagSequence)
	e.Int(ber.TagInteger, int64(v.Before))
	e.Int(ber.TagInteger, int64(v.After))
	if v.ByOffset {
		e.Begin(tagVLVByOffset)
		e.Int(ber.TagInteger, int64(v.Offset))
		e.Int(ber.TagInteger, int64(v.Count))
		e.End()
	} else {
		e.OctetString(tagVLVGreater, v.Value)
	}
	if v.ContextID != nil {
		e.OctetString(ber.TagOctetString, v.ContextID)
	}
	e.End()
	return e.Buf
}

// VLVResponseControl is the virtual list view response:
//
//	VirtualListViewResponse ::= SEQUENCE {
//	    targetPosition INTEGER (0..maxInt),
//	    contentCount   INTEGER (0..maxInt),
//	    virtualListViewResult ENUMERATED { success (0), ... },
//	    contextID OCTET STRING OPTIONAL }
func VLVResponseControl(target, count int, code ResultCode) Control {
	e := ber.Encoder{}
	e.Begin(ber.TagSequence)
	e.Int(ber.TagInteger, int64(target))
	e.Int(ber.TagInteger, int64(count))
	e.Int(ber.TagEnumerated, int64(code))
	e.End()
	return Control{OID: OIDVLVResponse, Value: e.Buf, HasValue: true}
}
