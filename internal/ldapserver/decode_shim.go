package ldapserver

// TEMPORARY: a minimal request decoder used until the msg branch's
// ldap.DecodeMessage is merged. It ignores search filters.

import (
	"errors"
	"unsafe"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

var decodeMessage = shimDecode

func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func shimDecode(b []byte) (ldap.Message, error) {
	var m ldap.Message
	r := ber.NewReader(b)
	seq, err := r.Enter(ber.TagSequence)
	if err != nil {
		return m, err
	}
	id, err := seq.Int(ber.TagInteger)
	if err != nil {
		return m, err
	}
	m.ID = int32(id)
	tag, body, err := seq.Next()
	if err != nil {
		return m, err
	}
	br := ber.NewReader(body)
	switch tag {
	case ldap.TagBindRequest:
		v, err := br.Int(ber.TagInteger)
		if err != nil {
			return m, err
		}
		name, err := br.OctetString(ber.TagOctetString)
		if err != nil {
			return m, err
		}
		t, auth, err := br.Next()
		if err != nil {
			return m, err
		}
		req := &ldap.BindRequest{Version: int(v), Name: str(name)}
		if t == 0x80 {
			req.Password = auth
		} else {
			req.Method = ldap.AuthSASL
		}
		m.Request = req
	case ldap.TagUnbindRequest:
		m.Request = &ldap.UnbindRequest{}
	case ldap.TagAbandonRequest:
		v, err := ber.ParseInt(body)
		if err != nil {
			return m, err
		}
		m.Request = &ldap.AbandonRequest{ID: int32(v)}
	case ldap.TagDelRequest:
		m.Request = &ldap.DeleteRequest{DN: str(body)}
	case ldap.TagSearchRequest:
		base, err := br.OctetString(ber.TagOctetString)
		if err != nil {
			return m, err
		}
		sc, _ := br.Int(ber.TagEnumerated)
		_, _ = br.Int(ber.TagEnumerated)
		sl, _ := br.Int(ber.TagInteger)
		tl, _ := br.Int(ber.TagInteger)
		to, _ := br.Bool(ber.TagBoolean)
		ft, fb, err := br.Next()
		if err != nil {
			return m, err
		}
		f, err := shimFilter(ft, fb, 0)
		if err != nil {
			return m, err
		}
		req := &ldap.SearchRequest{BaseObject: str(base), Scope: ldap.Scope(sc), SizeLimit: int32(sl), TimeLimit: int32(tl), TypesOnly: to,
			Filter: f}
		as, err := br.Enter(ber.TagSequence)
		if err != nil {
			return m, err
		}
		for !as.Empty() {
			a, err := as.OctetString(ber.TagOctetString)
			if err != nil {
				return m, err
			}
			req.Attributes = append(req.Attributes, str(a))
		}
		m.Request = req
	case ldap.TagCompareRequest:
		e, _ := br.OctetString(ber.TagOctetString)
		ava, err := br.Enter(ber.TagSequence)
		if err != nil {
			return m, err
		}
		a, _ := ava.OctetString(ber.TagOctetString)
		v, _ := ava.OctetString(ber.TagOctetString)
		m.Request = &ldap.CompareRequest{Entry: str(e), Attr: str(a), Value: str(v)}
	case ldap.TagExtendedRequest:
		n, err := br.OctetString(0x80)
		if err != nil {
			return m, err
		}
		req := &ldap.ExtendedRequest{Name: str(n)}
		if !br.Empty() {
			v, err := br.OctetString(0x81)
			if err != nil {
				return m, err
			}
			req.Value, req.HasValue = v, true
		}
		m.Request = req
	case ldap.TagModifyRequest:
		m.Request = &ldap.ModifyRequest{}
	case ldap.TagAddRequest:
		m.Request = &ldap.AddRequest{}
	case ldap.TagModifyDNRequest:
		m.Request = &ldap.ModifyDNRequest{}
	default:
		return m, errors.New("unknown op")
	}
	if !seq.Empty() {
		cs, err := seq.Enter(0xa0)
		if err != nil {
			return m, err
		}
		for !cs.Empty() {
			c, err := cs.Enter(ber.TagSequence)
			if err != nil {
				return m, err
			}
			oid, err := c.OctetString(ber.TagOctetString)
			if err != nil {
				return m, err
			}
			ctl := ldap.Control{OID: str(oid)}
			if t, _ := c.Peek(); t == ber.TagBoolean && !c.Empty() {
				ctl.Critical, _ = c.Bool(ber.TagBoolean)
			}
			if !c.Empty() {
				ctl.Value, _ = c.OctetString(ber.TagOctetString)
				ctl.HasValue = true
			}
			m.Controls = append(m.Controls, ctl)
		}
	}
	return m, nil
}

// shimFilter decodes and/or/not/equality/present/substrings; other kinds
// keep only their kind.
func shimFilter(tag ber.Tag, b []byte, depth int) (ldap.Filter, error) {
	f := ldap.Filter{Kind: ldap.FilterKind(tag.Number())}
	if depth > 32 {
		return f, errors.New("too deep")
	}
	r := ber.NewReader(b)
	switch f.Kind {
	case ldap.FilterAnd, ldap.FilterOr, ldap.FilterNot:
		for !r.Empty() {
			t, c, err := r.Next()
			if err != nil {
				return f, err
			}
			cf, err := shimFilter(t, c, depth+1)
			if err != nil {
				return f, err
			}
			f.Children = append(f.Children, cf)
		}
	case ldap.FilterPresent:
		f.Attr = str(b)
	case ldap.FilterEquality, ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual, ldap.FilterApprox:
		a, err := r.OctetString(ber.TagOctetString)
		if err != nil {
			return f, err
		}
		v, err := r.OctetString(ber.TagOctetString)
		if err != nil {
			return f, err
		}
		f.Attr, f.Value = str(a), str(v)
	case ldap.FilterSubstrings:
		a, err := r.OctetString(ber.TagOctetString)
		if err != nil {
			return f, err
		}
		f.Attr = str(a)
		parts, err := r.Enter(ber.TagSequence)
		if err != nil {
			return f, err
		}
		for !parts.Empty() {
			t, v, err := parts.Next()
			if err != nil {
				return f, err
			}
			f.Substrings = append(f.Substrings, ldap.Substring{Kind: ldap.SubstringKind(t.Number()), Value: str(v)})
		}
	}
	return f, nil
}
