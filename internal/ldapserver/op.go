package ldapserver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

// op is one operation running on its own goroutine. ops are pooled with
// their encoder buffer, so a steady stream of searches allocates no
// response buffers.
type op struct {
	c         *conn
	id        int32
	kind      Op
	msg       ldap.Message
	start     time.Time
	ctx       *opContext
	abandoned atomic.Bool
	enc       ber.Encoder
	w         EntryWriter
	slot      chan struct{} // the execution slot o holds, if any
}

// releaseSlot gives back the client address's execution slot o holds.
func (o *op) releaseSlot() {
	if o.slot != nil {
		<-o.slot
		o.slot = nil
	}
}

var opPool = sync.Pool{New: func() any { return new(op) }}

// maxPooledBuf keeps one huge search from pinning its buffer in the pool.
const maxPooledBuf = 256 << 10

// register records a new outstanding operation. It returns dup when the
// message ID is already outstanding, and a nil op when the connection is at
// its MaxOutstandingOps.
func (c *conn) register(m *ldap.Message, kind Op, start time.Time) (o *op, dup bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.ops[m.ID]; ok {
		return nil, true
	}
	if len(c.ops) >= c.srv.cfg.MaxOutstandingOps || c.active >= 2*c.srv.cfg.MaxOutstandingOps {
		return nil, false
	}
	o = opPool.Get().(*op)
	o.c, o.id, o.kind, o.msg, o.start = c, m.ID, kind, *m, start
	o.abandoned.Store(false)
	// One context per operation: a search's also carries its time limit.
	var deadline time.Time
	if req, ok := m.Request.(*ldap.SearchRequest); ok && !persistent(m) {
		deadline = time.Now().Add(c.srv.searchTimeLimit(req))
	}
	o.ctx = newOpContext(c.ctx, deadline)
	o.enc.Reset()
	c.ops[m.ID] = o
	c.active++
	return o, false
}

// complete removes o from the outstanding set; called before its final
// response is written, so a client that reuses the ID as soon as it sees
// the response never collides with it.
func (o *op) complete() {
	c := o.c
	c.mu.Lock()
	if c.ops[o.id] == o {
		delete(c.ops, o.id)
	}
	c.mu.Unlock()
}

// release ends the goroutine's use of o.
func (o *op) release() {
	o.ctx.end()
	c := o.c
	c.mu.Lock()
	if c.ops[o.id] == o {
		delete(c.ops, o.id)
	}
	c.active--
	if c.active == 0 && c.drain != nil {
		close(c.drain)
		c.drain = nil
	}
	c.mu.Unlock()
	o.c, o.msg, o.ctx = nil, ldap.Message{}, nil
	o.w = EntryWriter{}
	if cap(o.enc.Buf) > maxPooledBuf {
		o.enc.Buf = nil
	}
	opPool.Put(o)
}

func (o *op) run() {
	defer o.release()
	// Wait for one of the client address's execution slots. An operation
	// abandoned or cut off meanwhile goes on without one: the backend sees
	// its context done at once.
	if slots := o.c.slots; slots != nil {
		select {
		case slots <- struct{}{}:
			o.slot = slots
			defer o.releaseSlot()
		case <-o.ctx.Done():
		}
	}
	switch req := o.msg.Request.(type) {
	case *ldap.SearchRequest:
		o.search(req)
	case *ldap.CompareRequest:
		ok, err := o.c.srv.backend.Compare(o.ctx, &o.c.sess, req, o.msg.Controls)
		r := ldap.Result{Code: ldap.CompareFalse}
		if err != nil {
			r = o.c.srv.resultOf(err, o.kind, &o.c.sess)
		} else if ok {
			r.Code = ldap.CompareTrue
		}
		o.finish(r)
	case *ldap.ExtendedRequest:
		o.extended(req)
	case *ldap.ModifyRequest:
		o.write(o.c.srv.modify != nil, func() error {
			return o.c.srv.modify.Modify(o.ctx, &o.c.sess, req, o.msg.Controls)
		})
	case *ldap.AddRequest:
		o.write(o.c.srv.add != nil, func() error {
			return o.c.srv.add.Add(o.ctx, &o.c.sess, req, o.msg.Controls)
		})
	case *ldap.DeleteRequest:
		o.write(o.c.srv.del != nil, func() error {
			return o.c.srv.del.Delete(o.ctx, &o.c.sess, req, o.msg.Controls)
		})
	case *ldap.ModifyDNRequest:
		o.write(o.c.srv.rename != nil, func() error {
			return o.c.srv.rename.ModifyDN(o.ctx, &o.c.sess, req, o.msg.Controls)
		})
	}
}

const diagReadOnly = "the LDAP interface is read-only"

func (o *op) write(supported bool, f func() error) {
	if !supported {
		o.finish(ldap.Result{Code: ldap.UnwillingToPerform, Diagnostic: diagReadOnly})
		return
	}
	var r ldap.Result
	err := f()
	if err != nil {
		r = o.c.srv.resultOf(err, o.kind, &o.c.sess)
	}
	o.finish(r, controlsOf(err)...)
}

func (o *op) extended(req *ldap.ExtendedRequest) {
	x, err := o.c.srv.backend.Extended(o.ctx, &o.c.sess, req, o.msg.Controls)
	var r ldap.Result
	var controls []ldap.Control
	if err != nil {
		r, controls = o.c.srv.resultOf(err, o.kind, &o.c.sess), controlsOf(err)
		if errors.Is(err, ErrUnknownExtended) {
			// RFC 4511 §4.12: an unrecognised requestName gets protocolError.
			r = ldap.Result{Code: ldap.ProtocolError, Diagnostic: "unsupported extended operation " + req.Name}
		}
		x = ldap.ExtendedResponse{}
	}
	o.complete()
	ldap.AppendExtendedResponse(&o.enc, o.id, r, x, controls)
	o.flushFinal(r.Code)
}

// finish appends the final result-only response to whatever is buffered
// (entries of a search) and writes it.
func (o *op) finish(r ldap.Result, controls ...ldap.Control) {
	o.complete()
	appendResponse(&o.enc, o.id, o.kind, r, controls)
	o.flushFinal(r.Code)
}

func (o *op) flushFinal(code ldap.ResultCode) {
	if o.abandoned.Load() {
		return
	}
	o.c.send(o, o.enc.Buf)
	o.enc.Reset()
	o.c.srv.metrics.observe(o.kind, code, time.Since(o.start))
}

// flush writes buffered entries of a search that is still running.
func (o *op) flush() bool {
	ok := o.c.send(o, o.enc.Buf)
	o.enc.Reset()
	return ok
}

// resultOf maps a backend error to the result sent to the client. Only a
// *ResultError's diagnostic reaches the client; anything else is an
// internal failure, logged and answered generically.
func (s *Server) resultOf(err error, kind Op, sess *Session) ldap.Result {
	var re *ResultError
	if errors.As(err, &re) {
		return ldap.Result{Code: re.Code, MatchedDN: re.MatchedDN, Diagnostic: re.Diagnostic}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ldap.Result{Code: ldap.TimeLimitExceeded, Diagnostic: "time limit exceeded"}
	case errors.Is(err, context.Canceled):
		return ldap.Result{Code: ldap.Canceled, Diagnostic: "operation cancelled"}
	case errors.Is(err, ErrUnknownExtended):
		return ldap.Result{Code: ldap.ProtocolError, Diagnostic: "unsupported extended operation"}
	}
	s.log.Error("ldap backend failed", "conn", sess.id, "op", kind.String(), "err", err)
	return ldap.Result{Code: ldap.OperationsError, Diagnostic: "internal error"}
}
