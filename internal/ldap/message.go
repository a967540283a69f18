// Package ldap holds the LDAPv3 protocol types (RFC 4511): messages and
// their BER form, result codes, controls, distinguished names (RFC 4514),
// search filters (RFC 4515) and the matching rules filters are evaluated
// with. It knows nothing of networks or directories; ldapserver and dit
// build on it.
//
// Decoded requests alias the message buffer they were decoded from: strings
// and byte slices point into it, so decoding allocates only the request
// structs and slices. The buffer must not be modified while the request is
// in use (ber.ReadMessage returns a fresh one per message).
package ldap

import "github.com/dirgate/dirgate/internal/ber"

// Protocol operation tags, [APPLICATION n] (RFC 4511 §4.2–4.13).
const (
	TagBindRequest           = 0x60 // [APPLICATION 0] constructed
	TagBindResponse          = 0x61
	TagUnbindRequest         = 0x42 // [APPLICATION 2] primitive NULL
	TagSearchRequest         = 0x63
	TagSearchResultEntry     = 0x64
	TagSearchResultDone      = 0x65
	TagModifyRequest         = 0x66
	TagModifyResponse        = 0x67
	TagAddRequest            = 0x68
	TagAddResponse           = 0x69
	TagDelRequest            = 0x4a // [APPLICATION 10] primitive LDAPDN
	TagDelResponse           = 0x6b
	TagModifyDNRequest       = 0x6c
	TagModifyDNResponse      = 0x6d
	TagCompareRequest        = 0x6e
	TagCompareResponse       = 0x6f
	TagAbandonRequest        = 0x50 // [APPLICATION 16] primitive MessageID
	TagSearchResultReference = 0x73
	TagExtendedRequest       = 0x77
	TagExtendedResponse      = 0x78
	TagIntermediateResponse  = 0x79
	tagControls              = 0xa0 // [0] Controls, constructed
)

// Well-known extended operation and control OIDs.
const (
	OIDStartTLS              = "1.3.6.1.4.1.1466.20037"
	OIDNoticeOfDisconnection = "1.3.6.1.4.1.1466.20036"
	OIDWhoAmI                = "1.3.6.1.4.1.4203.1.11.3"
	OIDPasswordModify        = "1.3.6.1.4.1.4203.1.11.1"
	OIDPagedResults          = "1.2.840.113556.1.4.319"
)

// MaxMessageID is the largest message ID a client may use (RFC 4511 §4.1.1).
const MaxMessageID = 1<<31 - 1

// Message is one decoded LDAPMessage carrying a request.
type Message struct {
	ID       int32
	Request  Request
	Controls []Control
}

// Request is one of the request types below.
type Request interface {
	// Tag is the request's [APPLICATION n] identifier.
	Tag() ber.Tag
}

// Control is an LDAP control (RFC 4511 §4.1.11). Value aliases the message.
type Control struct {
	OID      string
	Critical bool
	Value    []byte
	HasValue bool
}

// AuthMethod says which CHOICE of AuthenticationChoice a bind carries.
type AuthMethod uint8

// Authentication choices.
const (
	AuthSimple AuthMethod = 0 // [0] OCTET STRING
	AuthSASL   AuthMethod = 3 // [3] SaslCredentials
)

// BindRequest (RFC 4511 §4.2).
type BindRequest struct {
	Version  int
	Name     string
	Method   AuthMethod
	Password []byte // simple bind; aliases the message, never logged
	// SASL bind
	Mechanism      string
	Credentials    []byte
	HasCredentials bool
}

// UnbindRequest (RFC 4511 §4.3).
type UnbindRequest struct{}

// Scope of a search.
type Scope uint8

// Search scopes (RFC 4511 §4.5.1.2).
const (
	ScopeBaseObject   Scope = 0
	ScopeSingleLevel  Scope = 1
	ScopeWholeSubtree Scope = 2
)

// DerefAliases says how aliases are dereferenced in a search.
type DerefAliases uint8

// Alias dereferencing (RFC 4511 §4.5.1.3).
const (
	NeverDerefAliases   DerefAliases = 0
	DerefInSearching    DerefAliases = 1
	DerefFindingBaseObj DerefAliases = 2
	DerefAlways         DerefAliases = 3
)

// SearchRequest (RFC 4511 §4.5.1).
type SearchRequest struct {
	BaseObject   string
	Scope        Scope
	DerefAliases DerefAliases
	SizeLimit    int32
	TimeLimit    int32 // seconds
	TypesOnly    bool
	Filter       Filter
	Attributes   []string
}

// Attribute is an attribute description and its values (PartialAttribute).
type Attribute struct {
	Type   string
	Values []string
}

// ModifyOp is the operation of one change in a ModifyRequest.
type ModifyOp uint8

// Modify operations (RFC 4511 §4.6; increment from RFC 4525).
const (
	ModifyAdd       ModifyOp = 0
	ModifyDelete    ModifyOp = 1
	ModifyReplace   ModifyOp = 2
	ModifyIncrement ModifyOp = 3
)

// Change is one change of a ModifyRequest.
type Change struct {
	Op   ModifyOp
	Attr Attribute
}

// ModifyRequest (RFC 4511 §4.6).
type ModifyRequest struct {
	Object  string
	Changes []Change
}

// AddRequest (RFC 4511 §4.7).
type AddRequest struct {
	Entry      string
	Attributes []Attribute
}

// DeleteRequest (RFC 4511 §4.8).
type DeleteRequest struct {
	DN string
}

// ModifyDNRequest (RFC 4511 §4.9).
type ModifyDNRequest struct {
	Entry          string
	NewRDN         string
	DeleteOldRDN   bool
	NewSuperior    string
	HasNewSuperior bool
}

// CompareRequest (RFC 4511 §4.10).
type CompareRequest struct {
	Entry string
	Attr  string
	Value string
}

// AbandonRequest (RFC 4511 §4.11).
type AbandonRequest struct {
	ID int32
}

// ExtendedRequest (RFC 4511 §4.12).
type ExtendedRequest struct {
	Name     string
	Value    []byte
	HasValue bool
}

func (*BindRequest) Tag() ber.Tag     { return TagBindRequest }
func (*UnbindRequest) Tag() ber.Tag   { return TagUnbindRequest }
func (*SearchRequest) Tag() ber.Tag   { return TagSearchRequest }
func (*ModifyRequest) Tag() ber.Tag   { return TagModifyRequest }
func (*AddRequest) Tag() ber.Tag      { return TagAddRequest }
func (*DeleteRequest) Tag() ber.Tag   { return TagDelRequest }
func (*ModifyDNRequest) Tag() ber.Tag { return TagModifyDNRequest }
func (*CompareRequest) Tag() ber.Tag  { return TagCompareRequest }
func (*AbandonRequest) Tag() ber.Tag  { return TagAbandonRequest }
func (*ExtendedRequest) Tag() ber.Tag { return TagExtendedRequest }

// Result is the LDAPResult every response carries (RFC 4511 §4.1.9).
type Result struct {
	Code       ResultCode
	MatchedDN  string
	Diagnostic string
	Referral   []string
}

// ResultCode is an LDAP result code (RFC 4511 Appendix A).
type ResultCode uint16
