package ldapserver

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"math"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

// EntryWriter encodes the entries a Cursor returns straight into the
// operation's response buffer. An entry is either written whole with Entry,
// or opened with Begin, given attributes with Attribute (from values) or
// Raw (pre-encoded), and closed with End.
type EntryWriter struct {
	enc       *ber.Encoder
	id        int32
	typesOnly bool
	open      bool
	entries   int // completed by the current Cursor.Next call
	misuse    bool
}

// TypesOnly reports whether the client asked for attribute types without
// values; Attribute and Entry honour it, Raw callers must.
func (w *EntryWriter) TypesOnly() bool { return w.typesOnly }

// Begin opens an entry with the given DN.
func (w *EntryWriter) Begin(dn string) {
	if w.open {
		w.misuse = true
		return
	}
	w.open = true
	ldap.BeginSearchResultEntry(w.enc, w.id, dn)
}

// Attribute appends one attribute to the open entry (its values are left
// out when TypesOnly).
func (w *EntryWriter) Attribute(typ string, values []string) {
	if !w.open {
		w.misuse = true
		return
	}
	if w.typesOnly {
		values = nil
	}
	ldap.AppendPartialAttribute(w.enc, typ, values)
}

// Raw appends pre-encoded PartialAttribute elements (each a whole
// SEQUENCE { type, SET OF value }) to the open entry.
func (w *EntryWriter) Raw(attrs []byte) {
	if !w.open {
		w.misuse = true
		return
	}
	w.enc.Raw(attrs)
}

// End closes the open entry.
func (w *EntryWriter) End() { w.EndWith(nil) }

// EndWith closes the open entry with response controls on it (a content
// synchronisation's Sync State control).
func (w *EntryWriter) EndWith(controls []ldap.Control) {
	if !w.open {
		w.misuse = true
		return
	}
	w.open = false
	w.entries++
	ldap.EndSearchResultEntry(w.enc, controls)
}

// Intermediate writes an IntermediateResponse (RFC 4511 §4.13) in place of
// an entry (a content synchronisation's Sync Info message): for Next's
// contract it counts as the one entry.
func (w *EntryWriter) Intermediate(name string, value []byte) {
	if w.open {
		w.misuse = true
		return
	}
	w.entries++
	ldap.AppendIntermediateResponse(w.enc, w.id, name, value, value != nil, nil)
}

// Entry writes a whole entry with the given attributes.
func (w *EntryWriter) Entry(dn string, attrs []ldap.Attribute) {
	w.Begin(dn)
	for i := range attrs {
		w.Attribute(attrs[i].Type, attrs[i].Values)
	}
	w.End()
}

// flushSize is how many octets of entries are batched into one Write.
const flushSize = 32 << 10

// ctxCheckEvery is how often (in entries) the search loop checks the time
// limit itself, for cursors that never block and so never look at ctx.
const ctxCheckEvery = 32

var errCursorMisuse = errors.New("ldapserver: cursor did not write exactly one whole entry")

// rollback drops everything encoded after mark, including unclosed
// elements.
func rollback(e *ber.Encoder, mark int) {
	b := e.Buf[:mark]
	e.Reset()
	e.Buf = b
}

// stream writes up to max entries from cur and then looks one entry ahead
// to learn whether more exist. The look-ahead entry is not sent; when
// stash is non-nil its protocolOp bytes are kept there so the next page can
// send it.
func (o *op) stream(ctx context.Context, cur Cursor, max int, stash *[]byte) (n int, more bool, err error) {
	w := &o.w
	*w = EntryWriter{enc: &o.enc, id: o.id, typesOnly: o.msg.Request.(*ldap.SearchRequest).TypesOnly}
	for {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return n, false, err
			}
		}
		mark := len(o.enc.Buf)
		w.entries, w.open, w.misuse = 0, false, false
		err := cur.Next(ctx, w)
		if err != nil {
			rollback(&o.enc, mark)
			if err == io.EOF {
				return n, false, nil
			}
			return n, false, err
		}
		if w.entries != 1 || w.open || w.misuse {
			rollback(&o.enc, mark)
			return n, false, errCursorMisuse
		}
		if n == max {
			if stash != nil {
				*stash = protocolOpOf(o.enc.Buf[mark:], *stash)
			}
			rollback(&o.enc, mark)
			return n, true, nil
		}
		n++
		if len(o.enc.Buf) >= flushSize && !o.flush() {
			return n, false, context.Canceled
		}
	}
}

// protocolOpOf copies the protocolOp of an encoded LDAPMessage into dst.
func protocolOpOf(msg []byte, dst []byte) []byte {
	r := ber.NewReader(msg)
	seq, err := r.Enter(ber.TagSequence)
	if err == nil {
		err = seq.Skip() // messageID
	}
	if err != nil {
		return dst[:0]
	}
	_, raw, err := seq.NextRaw()
	if err != nil {
		return dst[:0]
	}
	return append(dst[:0], raw...)
}

func (o *op) search(req *ldap.SearchRequest) {
	s := o.c.srv
	ctx := o.ctx // carries the search time limit (see register)
	for i := range o.msg.Controls {
		if o.msg.Controls[i].OID == ldap.OIDPagedResults {
			o.pagedSearch(ctx, req, &o.msg.Controls[i])
			return
		}
	}

	cur, err := s.backend.Search(ctx, &o.c.sess, req, o.msg.Controls)
	if err != nil {
		o.finish(o.searchResult(ctx, err), controlsOf(err)...)
		return
	}
	max := s.cfg.MaxEntriesUnpaged
	if req.SizeLimit > 0 && int(req.SizeLimit) < max {
		max = int(req.SizeLimit)
	}
	p, persist := cur.(Persistent)
	persist = persist && persistent(&o.msg)
	if persist {
		max = math.MaxInt // a synchronisation sends the whole content
	}
	_, more, err := o.stream(ctx, cur, max, nil)
	for persist && err == nil {
		// The refresh is sent: wait for changes without holding the
		// client address's execution slot.
		if !o.flush() {
			err = context.Canceled
			break
		}
		o.releaseSlot()
		if err = p.Wait(ctx); err == nil {
			_, _, err = o.stream(ctx, cur, max, nil)
		}
	}
	controls := resultControls(cur)
	cur.Close()
	var r ldap.Result
	switch {
	case err != nil:
		r = o.searchResult(ctx, err)
	case more:
		r = ldap.Result{Code: ldap.SizeLimitExceeded, Diagnostic: "size limit exceeded; use the paged results control for more entries"}
	}
	o.finish(r, controls...)
}

// Persistent is implemented by a Cursor whose search goes on after its
// first entries (a content synchronisation's refreshAndPersist, RFC 4533):
// once Next has returned io.EOF, the server sends what it has, gives up
// the client address's execution slot and calls Wait, which returns nil
// when Next may have more, or an error to end the search with (ctx done:
// abandoned, cancelled, disconnected; a *ResultError). Such a search has
// no time or size limit; it counts against the connection's outstanding
// operations until it ends.
type Persistent interface {
	Wait(ctx context.Context) error
}

// persistent reports whether m is a search that asks to go on after its
// refresh (a Sync Request control in refreshAndPersist mode); only such a
// search is exempt from the time limit.
func persistent(m *ldap.Message) bool {
	if _, ok := m.Request.(*ldap.SearchRequest); !ok {
		return false
	}
	if ldap.FindControl(m.Controls, ldap.OIDPagedResults) != nil {
		return false // each page has its time limit, and no page waits
	}
	c := ldap.FindControl(m.Controls, ldap.OIDSyncRequest)
	if c == nil {
		return false
	}
	r, err := ldap.ParseSyncRequest(c.Value)
	return err == nil && r.Mode == ldap.SyncRefreshAndPersist
}

// resultControls returns the response controls cur has for the search's
// final response, if it is a ResultControler.
func resultControls(cur Cursor) []ldap.Control {
	if rc, ok := cur.(ResultControler); ok {
		return rc.ResultControls()
	}
	return nil
}

// searchResult maps an error that ended a search, telling the time limit
// apart from abandonment and disconnection.
func (o *op) searchResult(ctx context.Context, err error) ldap.Result {
	if !o.abandoned.Load() && o.c.ctx.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ldap.Result{Code: ldap.TimeLimitExceeded, Diagnostic: "time limit exceeded"}
	}
	return o.c.srv.resultOf(err, OpSearch, &o.c.sess)
}

// pagedSearch is a search suspended between pages of RFC 2696 paging.
type pagedSearch struct {
	cur       Cursor
	sizeLimit int    // the client's sizeLimit over the whole search; 0 none
	sent      int    // entries sent so far
	stash     []byte // protocolOp of the look-ahead entry
}

const cookieLen = 16

func (o *op) pagedSearch(ctx context.Context, req *ldap.SearchRequest, ctl *ldap.Control) {
	c := o.c
	size, cookie, err := ldap.ParsePagedResults(ctl.Value)
	if err != nil {
		o.finish(ldap.Result{Code: ldap.ProtocolError, Diagnostic: "malformed paged results control"})
		return
	}
	var ps *pagedSearch
	if len(cookie) > 0 {
		if ps = c.takePaged(cookie); ps == nil {
			o.finishPaged(ldap.Result{Code: ldap.UnwillingToPerform,
				Diagnostic: "paged results cookie is unknown or expired; restart the search without a cookie"}, nil, nil)
			return
		}
	}
	if size <= 0 {
		// RFC 2696 §3: a page size of zero abandons the paged search.
		if ps != nil {
			ps.cur.Close()
		}
		o.finishPaged(ldap.Result{}, nil, nil)
		return
	}
	if ps == nil {
		cur, err := c.srv.backend.Search(ctx, &c.sess, req, o.msg.Controls)
		if err != nil {
			o.finishPaged(o.searchResult(ctx, err), nil, controlsOf(err))
			return
		}
		ps = &pagedSearch{cur: cur, sizeLimit: int(max(req.SizeLimit, 0))}
	}
	page := min(int(size), c.srv.cfg.MaxPageSize)
	capped := false
	if ps.sizeLimit > 0 && ps.sizeLimit-ps.sent <= page {
		page, capped = ps.sizeLimit-ps.sent, true
	}
	pre := 0
	if len(ps.stash) > 0 && page > 0 {
		ldap.BeginMessage(&o.enc, o.id)
		o.enc.Raw(ps.stash)
		ldap.EndMessage(&o.enc, nil)
		ps.stash = ps.stash[:0]
		pre = 1
	}
	n, more, err := o.stream(ctx, ps.cur, page-pre, &ps.stash)
	ps.sent += pre + n
	controls := resultControls(ps.cur)
	var r ldap.Result
	switch {
	case err != nil:
		r = o.searchResult(ctx, err)
	case more && capped:
		r = ldap.Result{Code: ldap.SizeLimitExceeded, Diagnostic: "size limit exceeded"}
	case more:
		var ck [cookieLen]byte
		rand.Read(ck[:])
		c.putPaged(string(ck[:]), ps)
		o.finishPaged(ldap.Result{}, ck[:], controls)
		return
	}
	ps.cur.Close()
	o.finishPaged(r, nil, controls)
}

// finishPaged ends a page with the paged results response control and
// the backend's (extra).
func (o *op) finishPaged(r ldap.Result, cookie []byte, extra []ldap.Control) {
	o.complete()
	var val [cookieLen + 16]byte
	var ctl [2]ldap.Control
	ctl[0] = ldap.Control{OID: ldap.OIDPagedResults, Value: ldap.AppendPagedResultsValue(val[:0], 0, cookie), HasValue: true}
	ctls := append(ctl[:1], extra...)
	ldap.AppendResult(&o.enc, o.id, ldap.TagSearchResultDone, r, ctls)
	o.flushFinal(r.Code)
}

// takePaged removes and returns the suspended search for cookie, so two
// requests can never resume the same cursor.
func (c *conn) takePaged(cookie []byte) *pagedSearch {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.paged[string(cookie)]
	if ps != nil {
		delete(c.paged, string(cookie))
		for i, k := range c.order {
			if k == string(cookie) {
				c.order = append(c.order[:i], c.order[i+1:]...)
				break
			}
		}
	}
	return ps
}

// putPaged suspends ps under cookie, dropping the oldest suspended search
// when the connection holds MaxPagedSearches.
func (c *conn) putPaged(cookie string, ps *pagedSearch) {
	var evicted *pagedSearch
	c.mu.Lock()
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		ps.cur.Close()
		return
	}
	if c.paged == nil {
		c.paged = make(map[string]*pagedSearch)
	}
	if len(c.order) >= c.srv.cfg.MaxPagedSearches {
		old := c.order[0]
		c.order = c.order[1:]
		evicted = c.paged[old]
		delete(c.paged, old)
	}
	c.paged[cookie] = ps
	c.order = append(c.order, cookie)
	c.mu.Unlock()
	if evicted != nil {
		evicted.cur.Close()
	}
}

// dropPaged closes every suspended search (on bind and at close).
func (c *conn) dropPaged() {
	c.mu.Lock()
	paged := c.paged
	c.paged, c.order = nil, nil
	c.mu.Unlock()
	for _, ps := range paged {
		ps.cur.Close()
	}
}

// searchTimeLimit is the server's limit, or the client's when smaller.
func (s *Server) searchTimeLimit(req *ldap.SearchRequest) time.Duration {
	limit := s.cfg.SearchTimeLimit
	if req.TimeLimit > 0 {
		limit = min(limit, time.Duration(req.TimeLimit)*time.Second)
	}
	return limit
}
