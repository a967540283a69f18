package ldap

import (
	"errors"

	"github.com/dirgate/dirgate/internal/ber"
)

var errPagedSize = errors.New("ldap: paged results size out of range")

// ParsePagedResults decodes the value of a simple paged results control
// (RFC 2696): realSearchControlValue ::= SEQUENCE { size INTEGER
// (0..maxInt), cookie OCTET STRING }. The cookie aliases value.
func ParsePagedResults(value []byte) (size int32, cookie []byte, err error) {
	r := ber.NewReader(value)
	seq, err := r.Enter(ber.TagSequence)
	if err != nil {
		return 0, nil, err
	}
	if err := r.Finish(); err != nil {
		return 0, nil, err
	}
	n, err := seq.Int(ber.TagInteger)
	if err != nil {
		return 0, nil, err
	}
	if n < 0 || n > MaxMessageID {
		return 0, nil, errPagedSize
	}
	if cookie, err = seq.OctetString(ber.TagOctetString); err != nil {
		return 0, nil, err
	}
	return int32(n), cookie, seq.Finish()
}

// AppendPagedResultsValue appends a paged results control value to dst.
func AppendPagedResultsValue(dst []byte, size int32, cookie []byte) []byte {
	e := ber.Encoder{Buf: dst}
	e.Begin(ber.TagSequence)
	e.Int(ber.TagInteger, int64(size))
	e.OctetString(ber.TagOctetString, cookie)
	e.End()
	return e.Buf
}

// FindControl returns the first control with the given OID, or nil.
func FindControl(cs []Control, oid string) *Control {
	for i := range cs {
		if cs[i].OID == oid {
			return &cs[i]
		}
	}
	return nil
}
