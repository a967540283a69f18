package ldap

import "github.com/dirgate/dirgate/internal/ber"

// AppendRequest appends one whole LDAPMessage carrying req to e.Buf: the
// client side of DecodeMessage, used by tests, fuzzing and load generators.
// Whatever DecodeMessage returns re-encodes to a message that decodes equal.
// Optional fields are written when their Has flag is set (or, for controls
// and SASL credentials, when the value is non-empty), so a request built by
// hand need not set the flags.
func AppendRequest(e *ber.Encoder, id int32, req Request, controls []Control) {
	BeginMessage(e, id)
	switch r := req.(type) {
	case *BindRequest:
		appendBind(e, r)
	case *UnbindRequest:
		e.Null(TagUnbindRequest)
	case *SearchRequest:
		appendSearch(e, r)
	case *ModifyRequest:
		e.Begin(TagModifyRequest)
		e.String(ber.TagOctetString, r.Object)
		e.Begin(ber.TagSequence)
		for i := range r.Changes {
			c := &r.Changes[i]
			e.Begin(ber.TagSequence)
			e.Int(ber.TagEnumerated, int64(c.Op))
			AppendPartialAttribute(e, c.Attr.Type, c.Attr.Values)
			e.End()
		}
		e.End()
		e.End()
	case *AddRequest:
		e.Begin(TagAddRequest)
		e.String(ber.TagOctetString, r.Entry)
		e.Begin(ber.TagSequence)
		for i := range r.Attributes {
			AppendPartialAttribute(e, r.Attributes[i].Type, r.Attributes[i].Values)
		}
		e.End()
		e.End()
	case *DeleteRequest:
		e.String(TagDelRequest, r.DN)
	case *ModifyDNRequest:
		e.Begin(TagModifyDNRequest)
		e.String(ber.TagOctetString, r.Entry)
		e.String(ber.TagOctetString, r.NewRDN)
		e.Bool(ber.TagBoolean, r.DeleteOldRDN)
		if r.HasNewSuperior || r.NewSuperior != "" {
			e.String(tagNewSuperior, r.NewSuperior)
		}
		e.End()
	case *CompareRequest:
		e.Begin(TagCompareRequest)
		e.String(ber.TagOctetString, r.Entry)
		e.Begin(ber.TagSequence)
		e.String(ber.TagOctetString, r.Attr)
		e.String(ber.TagOctetString, r.Value)
		e.End()
		e.End()
	case *AbandonRequest:
		e.Int(TagAbandonRequest, int64(r.ID))
	case *ExtendedRequest:
		e.Begin(TagExtendedRequest)
		e.String(tagExtName, r.Name)
		if r.HasValue || len(r.Value) > 0 {
			e.OctetString(tagExtValue, r.Value)
		}
		e.End()
	default:
		panic("ldap: AppendRequest: unknown request type") // a programming error
	}
	EndMessage(e, controls)
}

func appendBind(e *ber.Encoder, r *BindRequest) {
	e.Begin(TagBindRequest)
	e.Int(ber.TagInteger, int64(r.Version))
	e.String(ber.TagOctetString, r.Name)
	switch r.Method {
	case AuthSASL:
		e.Begin(tagAuthSASL)
		e.String(ber.TagOctetString, r.Mechanism)
		if r.HasCredentials || len(r.Credentials) > 0 {
			e.OctetString(ber.TagOctetString, r.Credentials)
		}
		e.End()
	default:
		e.OctetString(tagAuthSimple, r.Password)
	}
	e.End()
}

func appendSearch(e *ber.Encoder, r *SearchRequest) {
	e.Begin(TagSearchRequest)
	e.String(ber.TagOctetString, r.BaseObject)
	e.Int(ber.TagEnumerated, int64(r.Scope))
	e.Int(ber.TagEnumerated, int64(r.DerefAliases))
	e.Int(ber.TagInteger, int64(r.SizeLimit))
	e.Int(ber.TagInteger, int64(r.TimeLimit))
	e.Bool(ber.TagBoolean, r.TypesOnly)
	r.Filter.Encode(e)
	e.Begin(ber.TagSequence)
	for _, a := range r.Attributes {
		e.String(ber.TagOctetString, a)
	}
	e.End()
	e.End()
}
