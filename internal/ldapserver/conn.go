package ldapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

// conn is one client connection. Its reader goroutine (serve) frames and
// decodes requests and answers the cheap and the exclusive ones itself —
// policy refusals, Abandon, Unbind, Bind, StartTLS — so they cost no
// goroutine; every other operation runs on its own goroutine so a long
// search neither blocks the connection nor its Abandon. Responses from all
// goroutines go through send, one Write per response or batch of entries.
type conn struct {
	srv         *Server
	ip          string
	slots       chan struct{} // the address's execution slots (Server.running); nil: unlimited
	raw         net.Conn      // the TCP connection
	implicitTLS bool
	br          *bufio.Reader
	sess        Session
	start       time.Time

	ctx    context.Context // cancelled when the connection closes
	cancel context.CancelFunc

	// Write side. nc is raw or the *tls.Conn over it; it changes only in
	// the reader, while no operation is running, under wmu.
	wmu       sync.Mutex
	nc        net.Conn
	wdeadline time.Time

	// Operations.
	mu     sync.Mutex
	ops    map[int32]*op // outstanding: no final response started yet
	active int           // operation goroutines still running
	drain  chan struct{} // closed when active drops to zero
	paged  map[string]*pagedSearch
	order  []string // paged cookies, oldest first

	// Reader-goroutine state.
	enc       ber.Encoder
	rdeadline time.Time
	nreq      uint64

	shutdown  atomic.Bool
	closeOnce sync.Once
	reason    string
}

func newConn(s *Server, nc net.Conn, ip string, implicitTLS bool) *conn {
	c := &conn{
		srv:         s,
		ip:          ip,
		raw:         nc,
		nc:          nc,
		implicitTLS: implicitTLS,
		start:       time.Now(),
		ops:         make(map[int32]*op),
	}
	c.sess.id = s.nextID.Add(1)
	c.sess.remoteAddr = nc.RemoteAddr()
	c.sess.localAddr = nc.LocalAddr()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Reasons a connection ends, as logged and counted.
const (
	reasonClientClosed  = "client_closed"
	reasonUnbind        = "unbind"
	reasonProtocolError = "protocol_error"
	reasonTooLarge      = "message_too_large"
	reasonIdle          = "idle_timeout"
	reasonReadTimeout   = "read_timeout"
	reasonShutdown      = "shutdown"
	reasonWriteError    = "write_error"
	reasonReadError     = "read_error"
	reasonTLSHandshake  = "tls_handshake"
)

var errShutdown = errors.New("shutdown")

func (c *conn) serve() {
	c.srv.metrics.connOpened(c.implicitTLS)
	c.srv.log.Debug("ldap connection opened", "conn", c.sess.id, "remote", c.sess.remoteAddr.String(), "ldaps", c.implicitTLS)
	c.finish(c.run())
}

func (c *conn) run() string {
	if c.implicitTLS {
		if !c.handshake() {
			return reasonTLSHandshake
		}
	} else {
		c.br = bufio.NewReaderSize(c.raw, 4096)
	}
	max := c.srv.cfg.MaxMessageSize
	for {
		if err := c.waitForRequest(); err != nil {
			switch {
			case err == errShutdown:
				return reasonShutdown
			case isTimeout(err):
				return reasonIdle
			case err == io.EOF:
				return reasonClientClosed
			}
			return reasonReadError
		}
		// Every LDAPMessage is a SEQUENCE: refuse anything else before
		// waiting for the length it claims (an HTTP request or a TLS
		// ClientHello on the ldap:// port would otherwise hang until the
		// idle timeout).
		if first, _ := c.br.Peek(1); first[0] != byte(ber.TagSequence) {
			c.protocolError("malformed message: not an LDAPMessage", errors.New("first octet is not a SEQUENCE tag"))
			return reasonProtocolError
		}
		b, err := c.readRequest(max)
		if err != nil {
			switch {
			case c.shutdown.Load():
				return reasonShutdown
			case err == ber.ErrTooLarge:
				c.srv.log.Warn("ldap request too large; disconnecting", "conn", c.sess.id, "remote", c.sess.remoteAddr.String(), "max", max)
				c.notice(ldap.ProtocolError, "request exceeds the maximum message size of "+strconv.Itoa(max)+" octets")
				return reasonTooLarge
			case err == io.ErrUnexpectedEOF || err == io.EOF:
				return reasonClientClosed
			case isTimeout(err):
				c.srv.log.Warn("ldap request not received in full in time; disconnecting", "conn", c.sess.id, "remote", c.sess.remoteAddr.String(), "timeout", c.srv.cfg.ReadTimeout)
				return reasonReadTimeout
			}
			var ne net.Error
			if errors.As(err, &ne) {
				return reasonReadError
			}
			c.protocolError("malformed message framing", err)
			return reasonProtocolError
		}
		m, err := ldap.DecodeMessage(b)
		if err != nil {
			c.protocolError("malformed request", err)
			return reasonProtocolError
		}
		c.nreq++
		if stop := c.dispatch(&m); stop != "" {
			return stop
		}
	}
}

// waitForRequest blocks until a request starts to arrive, enforcing the
// idle timeout only while no operation is running (a long search is not
// idleness). It consumes nothing, so a timeout here leaves the stream intact.
func (c *conn) waitForRequest() error {
	idle := c.srv.cfg.IdleTimeout
	for {
		if idle > 0 {
			// Refresh the deadline only when it has drifted by a second:
			// one SetReadDeadline per request would cost more than it buys.
			if d := time.Now().Add(idle); d.Sub(c.rdeadline) > time.Second {
				c.raw.SetReadDeadline(d)
				c.rdeadline = d
			}
		}
		// Checked after setting the deadline: beginShutdown sets the flag
		// before its own (past) deadline, so one of the two always wins.
		if c.shutdown.Load() {
			return errShutdown
		}
		_, err := c.br.Peek(1)
		if err == nil {
			return nil
		}
		if isTimeout(err) && !c.shutdown.Load() && c.outstanding() > 0 {
			c.rdeadline = time.Time{}
			continue
		}
		if c.shutdown.Load() {
			return errShutdown
		}
		return err
	}
}

// readRequest reads the request that has begun to arrive. When it is not
// all buffered already, the read deadline becomes ReadTimeout from now, so
// a client dribbling octets cannot hold the connection until the idle
// timeout; the next waitForRequest restores the idle deadline.
func (c *conn) readRequest(max int) ([]byte, error) {
	rt := c.srv.cfg.ReadTimeout
	if rt > 0 {
		if buf, _ := c.br.Peek(c.br.Buffered()); !ber.Framed(buf) {
			d := time.Now().Add(rt)
			c.raw.SetReadDeadline(d)
			c.rdeadline = time.Time{} // refreshed by the next wait
			// As in waitForRequest: a shutdown's past deadline may just
			// have been replaced.
			if c.shutdown.Load() {
				return nil, errShutdown
			}
			b, err := ber.ReadMessage(c.br, max)
			if err == nil && c.srv.cfg.IdleTimeout <= 0 {
				c.raw.SetReadDeadline(time.Time{})
			}
			return b, err
		}
	}
	return ber.ReadMessage(c.br, max)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *conn) outstanding() int {
	c.mu.Lock()
	n := c.active
	c.mu.Unlock()
	return n
}

// handshake runs the TLS server handshake on the raw connection (ldaps://
// at connect, or after a StartTLS response) and switches reads and writes
// to it. A failed handshake ends the connection.
func (c *conn) handshake() bool {
	tc := tls.Server(c.raw, c.srv.tlsConfig())
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.cfg.TLSHandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		c.srv.log.Info("ldap TLS handshake failed", "conn", c.sess.id, "remote", c.sess.remoteAddr.String(), "err", err)
		return false
	}
	st := tc.ConnectionState()
	c.sess.tlsState.Store(&st)
	c.wmu.Lock()
	c.nc = tc
	c.wdeadline = time.Time{}
	c.wmu.Unlock()
	if c.br == nil {
		c.br = bufio.NewReaderSize(tc, 4096)
	} else {
		c.br.Reset(tc)
	}
	return true
}

// send writes b as one Write, unless o has been abandoned or the
// connection is closing (after Unbind or a protocol error nothing more may
// reach the client, least of all the cancelled results of its operations).
// It reports false when the connection is broken (and has been closed).
func (c *conn) send(o *op, b []byte) bool {
	c.wmu.Lock()
	if o != nil && (o.abandoned.Load() || c.ctx.Err() != nil) {
		c.wmu.Unlock()
		return true
	}
	if wt := c.srv.cfg.WriteTimeout; wt > 0 {
		if d := time.Now().Add(wt); d.Sub(c.wdeadline) > time.Second {
			c.nc.SetWriteDeadline(d)
			c.wdeadline = d
		}
	}
	_, err := c.nc.Write(b)
	c.wmu.Unlock()
	if err != nil {
		c.abort(reasonWriteError)
		return false
	}
	return true
}

// notice sends a Notice of Disconnection; the caller then closes.
func (c *conn) notice(code ldap.ResultCode, diagnostic string) {
	c.enc.Reset()
	ldap.AppendNoticeOfDisconnection(&c.enc, code, diagnostic)
	c.send(nil, c.enc.Buf)
}

// protocolError logs a request the server cannot parse and sends the
// Notice of Disconnection RFC 4511 §4.1.1 asks for. The error text comes
// from the decoder and names structure, never values.
func (c *conn) protocolError(what string, err error) {
	c.srv.log.Warn("ldap protocol error; disconnecting", "conn", c.sess.id, "remote", c.sess.remoteAddr.String(), "err", err)
	c.notice(ldap.ProtocolError, what)
}

// abort closes the connection now and cancels its operations. The first
// reason given is the one logged.
func (c *conn) abort(reason string) {
	c.closeOnce.Do(func() {
		c.reason = reason
		c.cancel()
		c.raw.Close()
	})
}

// beginShutdown asks the reader to stop reading; running operations
// finish, then the reader sends a Notice of Disconnection and closes.
func (c *conn) beginShutdown() {
	c.shutdown.Store(true)
	c.raw.SetReadDeadline(time.Unix(1, 0))
}

// waitDrained blocks until no operation goroutine runs, or the connection
// is aborted.
func (c *conn) waitDrained() {
	c.mu.Lock()
	if c.active == 0 {
		c.mu.Unlock()
		return
	}
	if c.drain == nil {
		c.drain = make(chan struct{})
	}
	ch := c.drain
	c.mu.Unlock()
	select {
	case <-ch:
	case <-c.ctx.Done():
	}
}

// finish runs when the reader stops: it lets a shutdown drain politely,
// then closes, waits for the operations and releases everything.
func (c *conn) finish(reason string) {
	if reason == reasonShutdown {
		c.waitDrained()
		if c.ctx.Err() == nil {
			c.notice(ldap.Unavailable, "the server is shutting down")
		}
	}
	c.abort(reason)
	// Operations see their context cancelled and return; wait for them
	// so nothing writes to or reads state of a closed connection.
	c.mu.Lock()
	var ch chan struct{}
	if c.active > 0 {
		if c.drain == nil {
			c.drain = make(chan struct{})
		}
		ch = c.drain
	}
	c.mu.Unlock()
	if ch != nil {
		<-ch
	}
	c.dropPaged()
	c.srv.metrics.connClosed(c.reason)
	c.srv.log.Debug("ldap connection closed", "conn", c.sess.id, "remote", c.sess.remoteAddr.String(),
		"tls", c.sess.TLS() != nil, "duration", time.Since(c.start), "requests", c.nreq, "reason", c.reason)
	c.srv.forget(c)
}

func opOf(m *ldap.Message) Op {
	switch r := m.Request.(type) {
	case *ldap.BindRequest:
		return OpBind
	case *ldap.UnbindRequest:
		return OpUnbind
	case *ldap.SearchRequest:
		return OpSearch
	case *ldap.ModifyRequest:
		return OpModify
	case *ldap.AddRequest:
		return OpAdd
	case *ldap.DeleteRequest:
		return OpDelete
	case *ldap.ModifyDNRequest:
		return OpModifyDN
	case *ldap.CompareRequest:
		return OpCompare
	case *ldap.AbandonRequest:
		return OpAbandon
	case *ldap.ExtendedRequest:
		if r.Name == ldap.OIDStartTLS {
			return OpStartTLS
		}
		return OpExtended
	}
	return numOps
}

// dispatch handles one request. It returns a non-empty reason when the
// connection must end.
func (c *conn) dispatch(m *ldap.Message) string {
	kind := opOf(m)
	switch kind {
	case OpAbandon:
		c.abandon(m.Request.(*ldap.AbandonRequest).ID)
		c.srv.metrics.countOnly(OpAbandon)
		return ""
	case OpUnbind:
		c.srv.metrics.countOnly(OpUnbind)
		return reasonUnbind
	case numOps:
		c.protocolError("unknown request", errors.New("unknown protocolOp"))
		return reasonProtocolError
	}
	if m.ID <= 0 {
		// messageID 0 is reserved for unsolicited notifications.
		c.protocolError("invalid message ID", errors.New("request with messageID 0"))
		return reasonProtocolError
	}
	start := time.Now()
	if kind == OpStartTLS {
		return c.startTLS(m, start)
	}
	if code, diag := c.policy(kind); code != ldap.Success {
		c.answer(m.ID, kind, ldap.Result{Code: code, Diagnostic: diag}, start)
		return ""
	}
	if oid, ok := c.unsupportedCritical(kind, m.Controls); !ok {
		c.answer(m.ID, kind, ldap.Result{Code: ldap.UnavailableCriticalExtension,
			Diagnostic: "critical control " + oid + " is not supported"}, start)
		return ""
	}
	if kind == OpBind {
		c.bind(m, m.Request.(*ldap.BindRequest), start)
		return ""
	}
	o, dup := c.register(m, kind, start)
	if dup {
		c.protocolError("message ID already in use", errors.New("duplicate messageID of an outstanding operation"))
		return reasonProtocolError
	}
	if o == nil {
		c.answer(m.ID, kind, ldap.Result{Code: ldap.Busy, Diagnostic: "too many outstanding operations on this connection"}, start)
		return ""
	}
	go o.run()
	return ""
}

// Diagnostics of the policy refusals.
const (
	diagConfidentiality = "TLS is required: use ldaps:// or StartTLS before this operation"
	diagBindFirst       = "a successful bind is required before this operation"
)

// policy applies the require-TLS and bind-first rules of the compatibility
// contract. StartTLS, Abandon and Unbind never get here.
func (c *conn) policy(kind Op) (ldap.ResultCode, string) {
	if !c.srv.cfg.AllowPlaintext && c.sess.TLS() == nil {
		return ldap.ConfidentialityRequired, diagConfidentiality
	}
	if kind != OpBind && !c.srv.cfg.AllowUnboundOps && c.sess.Identity() == nil {
		return ldap.InsufficientAccessRights, diagBindFirst
	}
	return ldap.Success, ""
}

// unsupportedCritical finds a critical control that neither the server nor
// the backend honours for this operation.
func (c *conn) unsupportedCritical(kind Op, ctrls []ldap.Control) (string, bool) {
	for i := range ctrls {
		ct := &ctrls[i]
		if !ct.Critical {
			continue
		}
		if kind == OpSearch && ct.OID == ldap.OIDPagedResults {
			continue
		}
		if c.srv.ctrls != nil && c.srv.ctrls.SupportsControl(kind, ct.OID) {
			continue
		}
		return ct.OID, false
	}
	return "", true
}

// answer writes a response that is only a result, from the reader.
func (c *conn) answer(id int32, kind Op, r ldap.Result, start time.Time) {
	c.enc.Reset()
	appendResponse(&c.enc, id, kind, r, nil)
	c.send(nil, c.enc.Buf)
	c.srv.metrics.observe(kind, r.Code, time.Since(start))
}

// appendResponse encodes the response of kind carrying only r.
func appendResponse(e *ber.Encoder, id int32, kind Op, r ldap.Result, controls []ldap.Control) {
	switch kind {
	case OpBind:
		ldap.AppendBindResponse(e, id, r, nil, controls)
	case OpExtended, OpStartTLS:
		var x ldap.ExtendedResponse
		if kind == OpStartTLS {
			x.Name = ldap.OIDStartTLS
		}
		ldap.AppendExtendedResponse(e, id, r, x, controls)
	default:
		ldap.AppendResult(e, id, responseTag[kind], r, controls)
	}
}

var responseTag = [numOps]ber.Tag{
	OpSearch:   ldap.TagSearchResultDone,
	OpModify:   ldap.TagModifyResponse,
	OpAdd:      ldap.TagAddResponse,
	OpDelete:   ldap.TagDelResponse,
	OpModifyDN: ldap.TagModifyDNResponse,
	OpCompare:  ldap.TagCompareResponse,
}

// abandon cancels an outstanding operation and silences it (RFC 4511
// §4.11: no response to either). Unknown IDs are ignored.
func (c *conn) abandon(id int32) {
	c.mu.Lock()
	if o := c.ops[id]; o != nil {
		o.abandoned.Store(true)
		o.ctx.end()
	}
	c.mu.Unlock()
}

// bind runs a bind in the reader: RFC 4511 §4.2.1 has the server finish
// outstanding operations first and process nothing else meanwhile, which
// not reading gives for free.
func (c *conn) bind(m *ldap.Message, req *ldap.BindRequest, start time.Time) {
	c.waitDrained()
	// Any bind attempt first drops the old identity (a failed bind leaves
	// the connection anonymous) and the paged searches run under it.
	if old := c.sess.identity.Swap(nil); old != nil {
		c.sess.prior.Store(old)
	}
	c.dropPaged()

	var r ldap.Result
	var controls []ldap.Control
	switch {
	case req.Version != 3:
		r = ldap.Result{Code: ldap.ProtocolError, Diagnostic: "only LDAP version 3 is supported"}
	case req.Method != ldap.AuthSimple:
		r = ldap.Result{Code: ldap.AuthMethodNotSupported, Diagnostic: "SASL is not supported; use a simple bind over TLS"}
	case req.Name == "" && len(req.Password) == 0:
		// Anonymous bind (RFC 4513 §5.1.1): succeeds, and the connection
		// stays unauthenticated.
	case len(req.Password) == 0:
		// Unauthenticated bind (RFC 4513 §5.1.2): servers SHOULD fail it
		// with unwillingToPerform by default, so a client that forgot the
		// password does not believe it authenticated.
		r = ldap.Result{Code: ldap.UnwillingToPerform, Diagnostic: "unauthenticated bind (a name with an empty password) is not allowed"}
	case req.Name == "":
		r = ldap.Result{Code: ldap.InvalidCredentials, Diagnostic: "The credentials provided were invalid."}
	default:
		id, err := c.srv.backend.Bind(c.ctx, &c.sess, req.Name, req.Password, m.Controls)
		if err == nil {
			controls, id.Controls = id.Controls, nil
			c.sess.identity.Store(&id)
		} else {
			r, controls = c.srv.resultOf(err, OpBind, &c.sess), controlsOf(err)
		}
	}
	c.enc.Reset()
	ldap.AppendBindResponse(&c.enc, m.ID, r, nil, controls)
	c.send(nil, c.enc.Buf)
	c.srv.metrics.observe(OpBind, r.Code, time.Since(start))
}

// startTLS implements RFC 4511 §4.14 and RFC 4513 §3.1.1.
func (c *conn) startTLS(m *ldap.Message, start time.Time) string {
	x := m.Request.(*ldap.ExtendedRequest)
	var r ldap.Result
	// An abandoned operation counts as finished: the client gets no
	// response for it and so cannot wait for it (RFC 4511 §4.11). The
	// handshake below still waits until it has stopped.
	c.mu.Lock()
	busy := false
	for _, o := range c.ops {
		if !o.abandoned.Load() {
			busy = true
			break
		}
	}
	c.mu.Unlock()
	switch {
	case c.srv.tlsConfig() == nil:
		r = ldap.Result{Code: ldap.ProtocolError, Diagnostic: "StartTLS is not supported: no TLS certificate is configured"}
	case x.HasValue:
		r = ldap.Result{Code: ldap.ProtocolError, Diagnostic: "StartTLS takes no request value"}
	case c.sess.TLS() != nil:
		r = ldap.Result{Code: ldap.OperationsError, Diagnostic: "TLS is already established on this connection"}
	case busy:
		r = ldap.Result{Code: ldap.OperationsError, Diagnostic: "StartTLS refused: other operations are outstanding"}
	case c.br.Buffered() > 0:
		// The client sent more requests without waiting for the response
		// (RFC 4513 §3.1.1 forbids it); they would be read as TLS.
		r = ldap.Result{Code: ldap.OperationsError, Diagnostic: "StartTLS refused: requests were sent after it without waiting for its response"}
	}
	c.answer(m.ID, OpStartTLS, r, start)
	if r.Code != ldap.Success {
		return ""
	}
	// Operations removed from c.ops may still be writing their last
	// response; the handshake must not interleave with it.
	c.waitDrained()
	if !c.handshake() {
		return reasonTLSHandshake
	}
	return ""
}
