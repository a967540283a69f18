package ldap

import "github.com/dirgate/dirgate/internal/ber"

// Response encoders. Each appends one whole LDAPMessage to e.Buf; with a
// reused buffer they allocate nothing. The server writes e.Buf to the
// connection after each call (or after a batch of entries).

// Response field tags.
const (
	tagReferral        = 0xa3 // [3] Referral, constructed
	tagServerSaslCreds = 0x87 // [7] in BindResponse
	tagResponseName    = 0x8a // [10] in ExtendedResponse
	tagResponseValue   = 0x8b // [11] in ExtendedResponse
	tagIntermName      = 0x80 // [0] in IntermediateResponse
	tagIntermValue     = 0x81 // [1] in IntermediateResponse
)

// BeginMessage opens an LDAPMessage and writes its messageID; the caller
// then writes one protocolOp and calls EndMessage.
func BeginMessage(e *ber.Encoder, id int32) {
	e.Begin(ber.TagSequence)
	e.Int(ber.TagInteger, int64(id))
}

// EndMessage writes the controls, if any, and closes the LDAPMessage.
func EndMessage(e *ber.Encoder, controls []Control) {
	if len(controls) > 0 {
		e.Begin(tagControls)
		for i := range controls {
			appendControl(e, &controls[i])
		}
		e.End()
	}
	e.End()
}

func appendControl(e *ber.Encoder, c *Control) {
	e.Begin(ber.TagSequence)
	e.String(ber.TagOctetString, c.OID)
	if c.Critical {
		e.Bool(ber.TagBoolean, true)
	}
	if c.HasValue || len(c.Value) > 0 {
		e.OctetString(ber.TagOctetString, c.Value)
	}
	e.End()
}

// appendResultFields writes the LDAPResult components (without a wrapper).
func appendResultFields(e *ber.Encoder, r *Result) {
	e.Int(ber.TagEnumerated, int64(r.Code))
	e.String(ber.TagOctetString, r.MatchedDN)
	e.String(ber.TagOctetString, r.Diagnostic)
	if len(r.Referral) > 0 {
		e.Begin(tagReferral)
		for _, u := range r.Referral {
			e.String(ber.TagOctetString, u)
		}
		e.End()
	}
}

// AppendResult writes a response that is a bare LDAPResult under tag:
// SearchResultDone, ModifyResponse, AddResponse, DelResponse,
// ModifyDNResponse or CompareResponse.
func AppendResult(e *ber.Encoder, id int32, tag ber.Tag, r Result, controls []Control) {
	BeginMessage(e, id)
	e.Begin(tag)
	appendResultFields(e, &r)
	e.End()
	EndMessage(e, controls)
}

// AppendBindResponse writes a BindResponse; saslCreds is sent when non-nil.
func AppendBindResponse(e *ber.Encoder, id int32, r Result, saslCreds []byte, controls []Control) {
	BeginMessage(e, id)
	e.Begin(TagBindResponse)
	appendResultFields(e, &r)
	if saslCreds != nil {
		e.OctetString(tagServerSaslCreds, saslCreds)
	}
	e.End()
	EndMessage(e, controls)
}

// ExtendedResponse is the body of an ExtendedResponse beyond its result.
type ExtendedResponse struct {
	Name     string // responseName; omitted when empty
	Value    []byte // responseValue; sent when HasValue
	HasValue bool
}

// AppendExtendedResponse writes an ExtendedResponse.
func AppendExtendedResponse(e *ber.Encoder, id int32, r Result, x ExtendedResponse, controls []Control) {
	BeginMessage(e, id)
	e.Begin(TagExtendedResponse)
	appendResultFields(e, &r)
	if x.Name != "" {
		e.String(tagResponseName, x.Name)
	}
	if x.HasValue {
		e.OctetString(tagResponseValue, x.Value)
	}
	e.End()
	EndMessage(e, controls)
}

// AppendNoticeOfDisconnection writes the unsolicited notification a server
// sends before it closes a connection on its own (RFC 4511 §4.4.1):
// messageID 0 and responseName 1.3.6.1.4.1.1466.20036.
func AppendNoticeOfDisconnection(e *ber.Encoder, code ResultCode, diagnostic string) {
	AppendExtendedResponse(e, 0, Result{Code: code, Diagnostic: diagnostic},
		ExtendedResponse{Name: OIDNoticeOfDisconnection}, nil)
}

// AppendIntermediateResponse writes an IntermediateResponse (RFC 4511 §4.13).
func AppendIntermediateResponse(e *ber.Encoder, id int32, name string, value []byte, hasValue bool, controls []Control) {
	BeginMessage(e, id)
	e.Begin(TagIntermediateResponse)
	if name != "" {
		e.String(tagIntermName, name)
	}
	if hasValue {
		e.OctetString(tagIntermValue, value)
	}
	e.End()
	EndMessage(e, controls)
}

// AppendSearchResultReference writes a SearchResultReference.
func AppendSearchResultReference(e *ber.Encoder, id int32, uris []string, controls []Control) {
	BeginMessage(e, id)
	e.Begin(TagSearchResultReference)
	for _, u := range uris {
		e.String(ber.TagOctetString, u)
	}
	e.End()
	EndMessage(e, controls)
}

// AppendSearchResultEntry writes a SearchResultEntry. With typesOnly the
// attribute values are left out (RFC 4511 §4.5.1.8).
func AppendSearchResultEntry(e *ber.Encoder, id int32, dn string, attrs []Attribute, typesOnly bool, controls []Control) {
	BeginSearchResultEntry(e, id, dn)
	for i := range attrs {
		if typesOnly {
			AppendPartialAttribute(e, attrs[i].Type, nil)
		} else {
			AppendPartialAttribute(e, attrs[i].Type, attrs[i].Values)
		}
	}
	EndSearchResultEntry(e, controls)
}

// BeginSearchResultEntry opens a SearchResultEntry and its attribute list,
// for callers that stream attributes (or append pre-encoded ones with Raw).
func BeginSearchResultEntry(e *ber.Encoder, id int32, dn string) {
	BeginMessage(e, id)
	e.Begin(TagSearchResultEntry)
	e.String(ber.TagOctetString, dn)
	e.Begin(ber.TagSequence)
}

// AppendPartialAttribute writes one PartialAttribute { type, SET OF value }.
func AppendPartialAttribute(e *ber.Encoder, typ string, values []string) {
	e.Begin(ber.TagSequence)
	e.String(ber.TagOctetString, typ)
	e.Begin(ber.TagSet)
	for _, v := range values {
		e.String(ber.TagOctetString, v)
	}
	e.End()
	e.End()
}

// EndSearchResultEntry closes what BeginSearchResultEntry opened.
func EndSearchResultEntry(e *ber.Encoder, controls []Control) {
	e.End() // attributes
	e.End() // SearchResultEntry
	EndMessage(e, controls)
}
