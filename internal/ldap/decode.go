package ldap

import (
	"errors"
	"fmt"

	"github.com/dirgate/dirgate/internal/ber"
)

// DecodeError says why a request could not be decoded. ID is the message ID
// when it was read before the problem, else 0. A server answers it with a
// Notice of Disconnection (protocolError) and closes the connection: after a
// malformed PDU the stream cannot be trusted (RFC 4511 §4.1.1).
type DecodeError struct {
	ID  int32
	Op  string // the request type, when known
	Err error
}

func (e *DecodeError) Error() string {
	switch {
	case e.ID != 0 && e.Op != "":
		return fmt.Sprintf("ldap: message %d: %s: %v", e.ID, e.Op, e.Err)
	case e.ID != 0:
		return fmt.Sprintf("ldap: message %d: %v", e.ID, e.Err)
	}
	return "ldap: " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

var (
	errUnknownOp  = errors.New("unknown protocolOp")
	errBadID      = errors.New("messageID out of range (1..2147483647)")
	errNotRequest = errors.New("a response is not a request")
)

// DecodeMessage decodes b, which holds exactly one LDAPMessage carrying a
// request. Strings and byte slices in the result alias b.
func DecodeMessage(b []byte) (Message, error) {
	var m Message
	r := ber.NewReader(b)
	seq, err := r.Enter(ber.TagSequence)
	if err != nil {
		return m, &DecodeError{Err: err}
	}
	if err := r.Finish(); err != nil {
		return m, &DecodeError{Err: err}
	}
	id, err := seq.Int(ber.TagInteger)
	if err != nil {
		return m, &DecodeError{Err: fmt.Errorf("messageID: %w", err)}
	}
	if id < 1 || id > MaxMessageID {
		return m, &DecodeError{Err: errBadID}
	}
	m.ID = int32(id)
	tag, body, err := seq.Next()
	if err != nil {
		return m, &DecodeError{ID: m.ID, Err: fmt.Errorf("protocolOp: %w", err)}
	}
	body2, err := seq.Sub(body)
	if err != nil {
		return m, &DecodeError{ID: m.ID, Err: err}
	}
	m.Request, err = decodeRequest(tag, body, &body2)
	if err != nil {
		return m, &DecodeError{ID: m.ID, Op: opName(tag), Err: err}
	}
	if !seq.Empty() {
		m.Controls, err = decodeControls(&seq)
		if err != nil {
			return m, &DecodeError{ID: m.ID, Op: "controls", Err: err}
		}
	}
	if err := seq.Finish(); err != nil {
		return m, &DecodeError{ID: m.ID, Err: err}
	}
	return m, nil
}

// opName names a protocolOp tag for error messages.
func opName(tag ber.Tag) string {
	switch tag {
	case TagBindRequest:
		return "BindRequest"
	case TagUnbindRequest:
		return "UnbindRequest"
	case TagSearchRequest:
		return "SearchRequest"
	case TagModifyRequest:
		return "ModifyRequest"
	case TagAddRequest:
		return "AddRequest"
	case TagDelRequest:
		return "DelRequest"
	case TagModifyDNRequest:
		return "ModifyDNRequest"
	case TagCompareRequest:
		return "CompareRequest"
	case TagAbandonRequest:
		return "AbandonRequest"
	case TagExtendedRequest:
		return "ExtendedRequest"
	}
	return ""
}

// decodeRequest decodes a protocolOp: body is its contents and r a Reader
// over them one level deeper.
func decodeRequest(tag ber.Tag, body []byte, r *ber.Reader) (Request, error) {
	var (
		req Request
		err error
	)
	switch tag {
	case TagBindRequest:
		req, err = decodeBind(r)
	case TagUnbindRequest:
		if len(body) != 0 {
			return nil, errors.New("UnbindRequest must be empty")
		}
		return &UnbindRequest{}, nil
	case TagSearchRequest:
		req, err = decodeSearch(r)
	case TagModifyRequest:
		req, err = decodeModify(r)
	case TagAddRequest:
		req, err = decodeAdd(r)
	case TagDelRequest:
		return &DeleteRequest{DN: bytesToString(body)}, nil
	case TagModifyDNRequest:
		req, err = decodeModifyDN(r)
	case TagCompareRequest:
		req, err = decodeCompare(r)
	case TagAbandonRequest:
		id, err := ber.ParseInt(body)
		if err != nil {
			return nil, err
		}
		if id < 0 || id > MaxMessageID {
			return nil, fmt.Errorf("abandoned messageID %d out of range", id)
		}
		return &AbandonRequest{ID: int32(id)}, nil
	case TagExtendedRequest:
		req, err = decodeExtended(r)
	case TagBindResponse, TagSearchResultEntry, TagSearchResultDone, TagSearchResultReference,
		TagModifyResponse, TagAddResponse, TagDelResponse, TagModifyDNResponse,
		TagCompareResponse, TagExtendedResponse, TagIntermediateResponse:
		return nil, errNotRequest
	default:
		return nil, fmt.Errorf("%w %v", errUnknownOp, tag)
	}
	if err != nil {
		return nil, err
	}
	if err := r.Finish(); err != nil {
		return nil, err
	}
	return req, nil
}

func str(r *ber.Reader, what string) (string, error) {
	b, err := r.OctetString(ber.TagOctetString)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return bytesToString(b), nil
}

func enumIn(r *ber.Reader, what string, max int64) (int64, error) {
	v, err := r.Int(ber.TagEnumerated)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if v < 0 || v > max {
		return 0, fmt.Errorf("%s %d out of range", what, v)
	}
	return v, nil
}

func uint31(r *ber.Reader, what string) (int32, error) {
	v, err := r.Int(ber.TagInteger)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if v < 0 || v > MaxMessageID {
		return 0, fmt.Errorf("%s %d out of range", what, v)
	}
	return int32(v), nil
}

const (
	tagAuthSimple  = 0x80 // [0] simple
	tagAuthSASL    = 0xa3 // [3] SaslCredentials
	tagNewSuperior = 0x80 // [0] in ModifyDNRequest
	tagExtName     = 0x80 // [0] requestName
	tagExtValue    = 0x81 // [1] requestValue
)

func decodeBind(r *ber.Reader) (Request, error) {
	v, err := r.Int(ber.TagInteger)
	if err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	if v < 1 || v > 127 {
		return nil, fmt.Errorf("version %d out of range", v)
	}
	name, err := str(r, "name")
	if err != nil {
		return nil, err
	}
	req := &BindRequest{Version: int(v), Name: name}
	tag, c, err := r.Next()
	if err != nil {
		return nil, fmt.Errorf("authentication: %w", err)
	}
	switch tag {
	case tagAuthSimple:
		req.Method, req.Password = AuthSimple, c
	case tagAuthSASL:
		req.Method = AuthSASL
		s, err := r.Sub(c)
		if err != nil {
			return nil, err
		}
		if req.Mechanism, err = str(&s, "SASL mechanism"); err != nil {
			return nil, err
		}
		if !s.Empty() {
			if req.Credentials, err = s.OctetString(ber.TagOctetString); err != nil {
				return nil, fmt.Errorf("SASL credentials: %w", err)
			}
			req.HasCredentials = true
		}
		if err := s.Finish(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unsupported authentication choice %v", tag)
	}
	return req, nil
}

func decodeSearch(r *ber.Reader) (Request, error) {
	req := &SearchRequest{}
	var err error
	if req.BaseObject, err = str(r, "baseObject"); err != nil {
		return nil, err
	}
	v, err := enumIn(r, "scope", 2)
	if err != nil {
		return nil, err
	}
	req.Scope = Scope(v)
	if v, err = enumIn(r, "derefAliases", 3); err != nil {
		return nil, err
	}
	req.DerefAliases = DerefAliases(v)
	if req.SizeLimit, err = uint31(r, "sizeLimit"); err != nil {
		return nil, err
	}
	if req.TimeLimit, err = uint31(r, "timeLimit"); err != nil {
		return nil, err
	}
	if req.TypesOnly, err = r.Bool(ber.TagBoolean); err != nil {
		return nil, fmt.Errorf("typesOnly: %w", err)
	}
	if req.Filter, err = DecodeFilter(r); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	as, err := r.Enter(ber.TagSequence)
	if err != nil {
		return nil, fmt.Errorf("attributes: %w", err)
	}
	if n := countElements(as); n > 0 {
		req.Attributes = make([]string, 0, n)
		for !as.Empty() {
			a, err := str(&as, "attribute")
			if err != nil {
				return nil, err
			}
			req.Attributes = append(req.Attributes, a)
		}
	}
	return req, nil
}

// countElements counts the elements left in r (a copy), so slices are
// allocated once at their final size.
func countElements(r ber.Reader) int {
	n := 0
	for !r.Empty() {
		if r.Skip() != nil {
			return n
		}
		n++
	}
	return n
}

// decodeAttribute reads one PartialAttribute / Attribute.
func decodeAttribute(r *ber.Reader) (Attribute, error) {
	var a Attribute
	s, err := r.Enter(ber.TagSequence)
	if err != nil {
		return a, fmt.Errorf("attribute: %w", err)
	}
	if a.Type, err = str(&s, "attribute type"); err != nil {
		return a, err
	}
	vs, err := s.Enter(ber.TagSet)
	if err != nil {
		return a, fmt.Errorf("attribute %q values: %w", a.Type, err)
	}
	if n := countElements(vs); n > 0 {
		a.Values = make([]string, 0, n)
		for !vs.Empty() {
			v, err := str(&vs, "attribute value")
			if err != nil {
				return a, err
			}
			a.Values = append(a.Values, v)
		}
	}
	return a, s.Finish()
}

func decodeModify(r *ber.Reader) (Request, error) {
	req := &ModifyRequest{}
	var err error
	if req.Object, err = str(r, "object"); err != nil {
		return nil, err
	}
	cs, err := r.Enter(ber.TagSequence)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	req.Changes = make([]Change, 0, countElements(cs))
	for !cs.Empty() {
		c, err := cs.Enter(ber.TagSequence)
		if err != nil {
			return nil, fmt.Errorf("change: %w", err)
		}
		op, err := enumIn(&c, "operation", 3)
		if err != nil {
			return nil, err
		}
		a, err := decodeAttribute(&c)
		if err != nil {
			return nil, err
		}
		if err := c.Finish(); err != nil {
			return nil, err
		}
		req.Changes = append(req.Changes, Change{Op: ModifyOp(op), Attr: a})
	}
	return req, nil
}

func decodeAdd(r *ber.Reader) (Request, error) {
	req := &AddRequest{}
	var err error
	if req.Entry, err = str(r, "entry"); err != nil {
		return nil, err
	}
	as, err := r.Enter(ber.TagSequence)
	if err != nil {
		return nil, fmt.Errorf("attributes: %w", err)
	}
	req.Attributes = make([]Attribute, 0, countElements(as))
	for !as.Empty() {
		a, err := decodeAttribute(&as)
		if err != nil {
			return nil, err
		}
		req.Attributes = append(req.Attributes, a)
	}
	return req, nil
}

func decodeModifyDN(r *ber.Reader) (Request, error) {
	req := &ModifyDNRequest{}
	var err error
	if req.Entry, err = str(r, "entry"); err != nil {
		return nil, err
	}
	if req.NewRDN, err = str(r, "newrdn"); err != nil {
		return nil, err
	}
	if req.DeleteOldRDN, err = r.Bool(ber.TagBoolean); err != nil {
		return nil, fmt.Errorf("deleteoldrdn: %w", err)
	}
	if !r.Empty() {
		s, err := r.OctetString(tagNewSuperior)
		if err != nil {
			return nil, fmt.Errorf("newSuperior: %w", err)
		}
		req.NewSuperior, req.HasNewSuperior = bytesToString(s), true
	}
	return req, nil
}

func decodeCompare(r *ber.Reader) (Request, error) {
	req := &CompareRequest{}
	var err error
	if req.Entry, err = str(r, "entry"); err != nil {
		return nil, err
	}
	ava, err := r.Enter(ber.TagSequence)
	if err != nil {
		return nil, fmt.Errorf("ava: %w", err)
	}
	if req.Attr, err = str(&ava, "attributeDesc"); err != nil {
		return nil, err
	}
	if req.Value, err = str(&ava, "assertionValue"); err != nil {
		return nil, err
	}
	return req, ava.Finish()
}

func decodeExtended(r *ber.Reader) (Request, error) {
	n, err := r.OctetString(tagExtName)
	if err != nil {
		return nil, fmt.Errorf("requestName: %w", err)
	}
	req := &ExtendedRequest{Name: bytesToString(n)}
	if !r.Empty() {
		if req.Value, err = r.OctetString(tagExtValue); err != nil {
			return nil, fmt.Errorf("requestValue: %w", err)
		}
		req.HasValue = true
	}
	return req, nil
}

func decodeControls(seq *ber.Reader) ([]Control, error) {
	cs, err := seq.Enter(tagControls)
	if err != nil {
		return nil, err
	}
	out := make([]Control, 0, countElements(cs))
	for !cs.Empty() {
		c, err := cs.Enter(ber.TagSequence)
		if err != nil {
			return nil, err
		}
		var ctl Control
		if ctl.OID, err = str(&c, "controlType"); err != nil {
			return nil, err
		}
		if ctl.OID == "" {
			return nil, errors.New("empty controlType")
		}
		if t, err := c.Peek(); err == nil && t == ber.TagBoolean {
			if ctl.Critical, err = c.Bool(ber.TagBoolean); err != nil {
				return nil, fmt.Errorf("criticality: %w", err)
			}
		}
		if !c.Empty() {
			if ctl.Value, err = c.OctetString(ber.TagOctetString); err != nil {
				return nil, fmt.Errorf("controlValue: %w", err)
			}
			ctl.HasValue = true
		}
		if err := c.Finish(); err != nil {
			return nil, err
		}
		out = append(out, ctl)
	}
	return out, nil
}
