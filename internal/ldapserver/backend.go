package ldapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"

	"github.com/dirgate/dirgate/internal/ldap"
)

// Backend answers the operations the server does not answer itself. It is
// defined here and implemented by dit; the server never imports dit.
//
// Every method gets a context that is cancelled when the client abandons the
// operation, when the connection closes, and (for Search) when the search
// time limit passes; a backend that blocks must watch it. A method reports
// an LDAP outcome by returning a *ResultError (see Fail); any other error is
// answered operationsError with a generic diagnostic and logged, so internal
// details never reach the client.
//
// The server handles, before a backend sees the request: the TLS and
// bind-first policies, SASL (authMethodNotSupported), anonymous and
// unauthenticated simple binds, StartTLS, critical controls nobody supports,
// the paged results control, size limits and the search time limit.
//
// Request values alias the message buffer and must not be kept after the
// method returns (a Cursor may keep them until Close: the server keeps the
// message alive while a paged search is suspended).
type Backend interface {
	// Bind checks a simple bind with a non-empty name and password and
	// returns the identity the connection then acts as. Wrong credentials
	// are Fail(ldap.InvalidCredentials, ...).
	Bind(ctx context.Context, s *Session, name string, password []byte, controls []ldap.Control) (Identity, error)

	// Search starts a search and returns a cursor over the matching
	// entries. An error here (noSuchObject, ...) ends the search with no
	// entries. The server pulls entries as it needs them: it may stop
	// early (size limit, abandon) or suspend the cursor between pages of a
	// paged search, and always calls Close.
	Search(ctx context.Context, s *Session, req *ldap.SearchRequest, controls []ldap.Control) (Cursor, error)

	// Compare reports whether the entry holds the value.
	Compare(ctx context.Context, s *Session, req *ldap.CompareRequest, controls []ldap.Control) (bool, error)

	// Extended answers an extended operation other than StartTLS. An
	// operation the backend does not know is ErrUnknownExtended, which the
	// server answers protocolError as RFC 4511 §4.12 requires.
	Extended(ctx context.Context, s *Session, req *ldap.ExtendedRequest, controls []ldap.Control) (ldap.ExtendedResponse, error)
}

// Cursor streams the entries of one search.
type Cursor interface {
	// Next writes exactly one entry to w and returns nil, or writes nothing
	// and returns io.EOF when no entry is left, or another error (a
	// *ResultError ends the search with that result after the entries
	// already sent). Attribute selection (the request's attribute list,
	// "*", "+", "1.1") and typesOnly are the backend's job: it knows which
	// attributes are operational and may hold entries pre-encoded per
	// selection. ctx is the current operation's (a paged search's pages
	// each have their own).
	Next(ctx context.Context, w *EntryWriter) error
	// Close releases the cursor. Called exactly once.
	Close()
}

// ResultControler is implemented by a Cursor whose search's final
// response carries response controls (the sort result of RFC 2891). The
// server asks before Close, and at the end of every page of a paged
// search.
type ResultControler interface {
	ResultControls() []ldap.Control
}

// ControlSupporter is implemented by a backend that honours request
// controls. A critical control that neither the server (paged results on
// Search) nor the backend supports gets unavailableCriticalExtension (12);
// non-critical unknown controls are ignored (RFC 4511 §4.1.11).
type ControlSupporter interface {
	SupportsControl(op Op, oid string) bool
}

// Modifier, Adder, Deleter and Renamer are the optional write operations. A
// backend without one answers unwillingToPerform (53): "the LDAP interface
// is read-only".
type Modifier interface {
	Modify(ctx context.Context, s *Session, req *ldap.ModifyRequest, controls []ldap.Control) error
}

// Adder adds entries; see Modifier.
type Adder interface {
	Add(ctx context.Context, s *Session, req *ldap.AddRequest, controls []ldap.Control) error
}

// Deleter deletes entries; see Modifier.
type Deleter interface {
	Delete(ctx context.Context, s *Session, req *ldap.DeleteRequest, controls []ldap.Control) error
}

// Renamer renames and moves entries (ModifyDN); see Modifier.
type Renamer interface {
	ModifyDN(ctx context.Context, s *Session, req *ldap.ModifyDNRequest, controls []ldap.Control) error
}

// Identity is who a connection acts as after a successful bind.
type Identity struct {
	// DN is the bound entry's DN as the backend names it (for logs and
	// WhoAmI).
	DN string
	// Value is the backend's own handle (a user record, an ACL subject);
	// the server never looks inside.
	Value any
	// Controls go with the bind's response (a password policy control);
	// the server sends them once and does not keep them.
	Controls []ldap.Control
}

// ResultError is an LDAP result returned as an error by a Backend.
type ResultError struct {
	Code       ldap.ResultCode
	MatchedDN  string
	Diagnostic string // sent to the client: never secrets or internals
	// Controls go with the result (a password policy control saying
	// why a bind or a password change failed).
	Controls []ldap.Control
}

// controlsOf returns the response controls err carries, if it is a
// *ResultError.
func controlsOf(err error) []ldap.Control {
	var re *ResultError
	if errors.As(err, &re) {
		return re.Controls
	}
	return nil
}

func (e *ResultError) Error() string {
	if e.Diagnostic == "" {
		return "ldap: " + e.Code.String()
	}
	return "ldap: " + e.Code.String() + ": " + e.Diagnostic
}

// Fail returns a *ResultError with the given code and diagnostic message.
func Fail(code ldap.ResultCode, diagnostic string) error {
	return &ResultError{Code: code, Diagnostic: diagnostic}
}

// ErrUnknownExtended is returned by Backend.Extended for a request name it
// does not implement.
var ErrUnknownExtended = errors.New("ldapserver: unknown extended operation")

// Op names an LDAP operation, for metrics, logs and ControlSupporter.
type Op uint8

// Operations.
const (
	OpBind Op = iota
	OpUnbind
	OpSearch
	OpModify
	OpAdd
	OpDelete
	OpModifyDN
	OpCompare
	OpAbandon
	OpExtended
	OpStartTLS
	numOps
)

var opNames = [numOps]string{"bind", "unbind", "search", "modify", "add", "delete", "modifydn", "compare", "abandon", "extended", "starttls"}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "unknown"
}

// Session is a backend's view of one client connection.
type Session struct {
	id         uint64
	remoteAddr net.Addr
	localAddr  net.Addr
	tlsState   atomic.Pointer[tls.ConnectionState]
	identity   atomic.Pointer[Identity]
	prior      atomic.Pointer[Identity]
}

// ID is a number unique to this connection for the server's lifetime, for
// correlating logs.
func (s *Session) ID() uint64 { return s.id }

// RemoteAddr is the client's address.
func (s *Session) RemoteAddr() net.Addr { return s.remoteAddr }

// LocalAddr is the address the client connected to.
func (s *Session) LocalAddr() net.Addr { return s.localAddr }

// TLS returns the connection's TLS state, or nil before TLS is established.
func (s *Session) TLS() *tls.ConnectionState { return s.tlsState.Load() }

// Identity returns the bound identity, or nil while the connection is
// anonymous (before a bind, after an anonymous bind and after a failed bind).
func (s *Session) Identity() *Identity { return s.identity.Load() }

// PriorIdentity returns the identity the connection was last bound as
// before the bind in progress, or nil: a search+bind client (PostgreSQL's
// ldap method) binds as its service account, then as the user, so during
// the user's bind this names the application asking.
func (s *Session) PriorIdentity() *Identity { return s.prior.Load() }
