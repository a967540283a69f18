package ldapserver_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// testBackend is a small in-memory backend with knobs for the server's
// edge cases:
//   - bind: cn=admin / secret; cn=prior fails with "prior:" and the DN
//     PriorIdentity names ("none" for nil)
//   - search base "ou=many": manyEntries entries; "cn=block": blocks until
//     its context ends (reporting the context's error); "cn=hold": waits
//     for release (ignoring ctx) and returns one entry; anything else: 3
//     entries.
//   - compare: true when the value is "yes".
//   - extended: WhoAmI; anything else is unknown.
type testBackend struct {
	started  chan struct{} // one send per blocking/holding search started
	ctxEnded chan error    // the ctx error a blocking search saw
	release  chan struct{} // closes to let "cn=hold" searches finish
	persist  chan string   // entries a "cn=persist" search sends after its first
}

const manyEntries = 2500

func newTestBackend() *testBackend {
	return &testBackend{
		started:  make(chan struct{}, 16),
		ctxEnded: make(chan error, 16),
		release:  make(chan struct{}),
		persist:  make(chan string, 16),
	}
}

func (b *testBackend) Bind(ctx context.Context, s *ldapserver.Session, name string, pw []byte, _ []ldap.Control) (ldapserver.Identity, error) {
	if name == "cn=admin" && string(pw) == "secret" {
		return ldapserver.Identity{DN: name}, nil
	}
	if name == "cn=prior" { // tells the test what PriorIdentity says
		prior := "none"
		if p := s.PriorIdentity(); p != nil {
			prior = p.DN
		}
		return ldapserver.Identity{}, ldapserver.Fail(ldap.InvalidCredentials, "prior:"+prior)
	}
	return ldapserver.Identity{}, ldapserver.Fail(ldap.InvalidCredentials, "The credentials provided were invalid.")
}

func (b *testBackend) Search(ctx context.Context, s *ldapserver.Session, req *ldap.SearchRequest, _ []ldap.Control) (ldapserver.Cursor, error) {
	switch req.BaseObject {
	case "ou=many":
		return &sliceCursor{n: manyEntries}, nil
	case "cn=block":
		return &blockCursor{b: b}, nil
	case "cn=hold":
		signal(b.started, struct{}{})
		<-b.release
		return &sliceCursor{n: 1}, nil
	case "cn=persist":
		return &persistCursor{b: b, next: "cn=first"}, nil
	case "cn=missing":
		return nil, &ldapserver.ResultError{Code: ldap.NoSuchObject, MatchedDN: "dc=x", Diagnostic: "no such entry"}
	}
	return &sliceCursor{n: 3}, nil
}

func (b *testBackend) Compare(ctx context.Context, s *ldapserver.Session, req *ldap.CompareRequest, _ []ldap.Control) (bool, error) {
	return req.Value == "yes", nil
}

func (b *testBackend) Extended(ctx context.Context, s *ldapserver.Session, req *ldap.ExtendedRequest, _ []ldap.Control) (ldap.ExtendedResponse, error) {
	if req.Name == ldap.OIDWhoAmI {
		v := []byte("dn:" + s.Identity().DN)
		return ldap.ExtendedResponse{Value: v, HasValue: true}, nil
	}
	return ldap.ExtendedResponse{}, ldapserver.ErrUnknownExtended
}

func (b *testBackend) SupportsControl(op ldapserver.Op, oid string) bool {
	return op == ldapserver.OpSearch && (oid == "1.2.3.4.5" || oid == ldap.OIDSyncRequest)
}

// signal sends without blocking: the channels are buffered well beyond
// what a test waits for, and a fuzz run must never stall on them.
func signal[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

type sliceCursor struct{ i, n int }

func (c *sliceCursor) Next(ctx context.Context, w *ldapserver.EntryWriter) error {
	if c.i >= c.n {
		return io.EOF
	}
	c.i++
	w.Entry("cn=e"+strconv.Itoa(c.i)+",ou=many", []ldap.Attribute{
		{Type: "cn", Values: []string{"e" + strconv.Itoa(c.i)}},
		{Type: "objectClass", Values: []string{"top", "person"}},
	})
	return nil
}

func (c *sliceCursor) Close() {}

// persistCursor sends one entry, then (as a persistent search) each name
// the backend's persist channel delivers.
type persistCursor struct {
	b    *testBackend
	next string
}

func (c *persistCursor) Next(ctx context.Context, w *ldapserver.EntryWriter) error {
	if c.next == "" {
		return io.EOF
	}
	w.Entry(c.next, []ldap.Attribute{{Type: "cn", Values: []string{c.next}}})
	c.next = ""
	return nil
}

func (c *persistCursor) Wait(ctx context.Context) error {
	select {
	case c.next = <-c.b.persist:
		return nil
	case <-ctx.Done():
		signal(c.b.ctxEnded, ctx.Err())
		return ctx.Err()
	}
}

func (c *persistCursor) Close() {}

type blockCursor struct{ b *testBackend }

func (c *blockCursor) Next(ctx context.Context, w *ldapserver.EntryWriter) error {
	signal(c.b.started, struct{}{})
	<-ctx.Done()
	signal(c.b.ctxEnded, ctx.Err())
	return ctx.Err()
}

func (c *blockCursor) Close() {}

// testServer runs a server on 127.0.0.1 with a self-signed certificate.
type testServer struct {
	srv      *ldapserver.Server
	backend  *testBackend
	addr     string // ldap://
	tlsAddr  string // ldaps://
	roots    *x509.CertPool
	serveErr chan error
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

var (
	certOnce          sync.Once
	certPEM, keyPEM   []byte
	testCert          tls.Certificate
	errCertGeneration error
)

func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	certOnce.Do(func() {
		certPEM, keyPEM, errCertGeneration = ldapserver.GenerateSelfSigned([]string{"127.0.0.1", "localhost"}, time.Hour)
		if errCertGeneration == nil {
			testCert, errCertGeneration = tls.X509KeyPair(certPEM, keyPEM)
		}
	})
	if errCertGeneration != nil {
		t.Fatal(errCertGeneration)
	}
	return testCert, certPEM
}

// startServer starts a server; mod adjusts the config first.
func startServer(t testing.TB, mod func(*ldapserver.Config)) *testServer {
	t.Helper()
	cert, pemBytes := selfSigned(t)
	b := newTestBackend()
	cfg := ldapserver.Config{
		Backend:   b,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		Logger:    quietLogger(),
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := ldapserver.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, backend: b, roots: x509.NewCertPool(), serveErr: make(chan error, 2)}
	ts.roots.AppendCertsFromPEM(pemBytes)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	go func() { ts.serveErr <- srv.Serve(l) }()
	if cfg.TLSConfig != nil {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ts.tlsAddr = tl.Addr().String()
		go func() { ts.serveErr <- srv.ServeTLS(tl) }()
	}
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
		srv.Close()
	})
	return ts
}

func (ts *testServer) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: ts.roots, ServerName: "127.0.0.1"}
}

// rawClient speaks LDAP as bytes, to control sequencing exactly and to
// send what no library would.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func dialRawTLS(t testing.TB, ts *testServer) *rawClient {
	t.Helper()
	nc, err := tls.Dial("tcp", ts.tlsAddr, ts.clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// startTLS upgrades the connection after a successful StartTLS response.
func (rc *rawClient) startTLS(ts *testServer) {
	rc.t.Helper()
	tc := tls.Client(rc.nc, ts.clientTLS())
	if err := tc.Handshake(); err != nil {
		rc.t.Fatal(err)
	}
	rc.nc = tc
	rc.br = bufio.NewReader(tc)
}

func (rc *rawClient) send(b []byte) {
	rc.t.Helper()
	if _, err := rc.nc.Write(b); err != nil {
		rc.t.Fatal(err)
	}
}

// response is one decoded server message.
type response struct {
	ID         int32
	Tag        ber.Tag
	Code       ldap.ResultCode
	Diagnostic string
	MatchedDN  string
	Name       string // ExtendedResponse responseName
	Value      []byte // ExtendedResponse responseValue
	DN         string // SearchResultEntry
	Cookie     []byte // paged results response control
	HasPaged   bool
}

// read returns the next message, or an error when the connection ends.
func (rc *rawClient) read() (response, error) {
	b, err := ber.ReadMessage(rc.br, 16<<20)
	if err != nil {
		return response{}, err
	}
	return parseResponse(b)
}

func (rc *rawClient) mustRead() response {
	rc.t.Helper()
	r, err := rc.read()
	if err != nil {
		rc.t.Fatalf("reading a response: %v", err)
	}
	return r
}

// expectClosed asserts the server ends the connection.
func (rc *rawClient) expectClosed() {
	rc.t.Helper()
	for {
		r, err := rc.read()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
				rc.t.Fatalf("expected the connection to close, got %v", err)
			}
			return
		}
		rc.t.Fatalf("expected the connection to close, got a message %+v", r)
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}

func parseResponse(b []byte) (response, error) {
	var r response
	rd := ber.NewReader(b)
	seq, err := rd.Enter(ber.TagSequence)
	if err != nil {
		return r, err
	}
	id, err := seq.Int(ber.TagInteger)
	if err != nil {
		return r, err
	}
	r.ID = int32(id)
	tag, body, err := seq.Next()
	if err != nil {
		return r, err
	}
	r.Tag = tag
	br := ber.NewReader(body)
	switch tag {
	case ldap.TagSearchResultEntry:
		dn, err := br.OctetString(ber.TagOctetString)
		if err != nil {
			return r, err
		}
		r.DN = string(dn)
	case ldap.TagBindResponse, ldap.TagSearchResultDone, ldap.TagModifyResponse, ldap.TagAddResponse,
		ldap.TagDelResponse, ldap.TagModifyDNResponse, ldap.TagCompareResponse, ldap.TagExtendedResponse:
		code, err := br.Int(ber.TagEnumerated)
		if err != nil {
			return r, err
		}
		m, err := br.OctetString(ber.TagOctetString)
		if err != nil {
			return r, err
		}
		d, err := br.OctetString(ber.TagOctetString)
		if err != nil {
			return r, err
		}
		r.Code, r.MatchedDN, r.Diagnostic = ldap.ResultCode(code), string(m), string(d)
		for !br.Empty() {
			t, v, err := br.Next()
			if err != nil {
				return r, err
			}
			switch t {
			case 0x8a:
				r.Name = string(v)
			case 0x8b:
				r.Value = append([]byte(nil), v...)
			}
		}
	}
	if !seq.Empty() {
		cs, err := seq.Enter(0xa0)
		if err != nil {
			return r, err
		}
		for !cs.Empty() {
			c, err := cs.Enter(ber.TagSequence)
			if err != nil {
				return r, err
			}
			oid, _ := c.OctetString(ber.TagOctetString)
			if string(oid) != ldap.OIDPagedResults {
				continue
			}
			if t, _ := c.Peek(); t == ber.TagBoolean {
				c.Skip()
			}
			v, err := c.OctetString(ber.TagOctetString)
			if err != nil {
				return r, err
			}
			vr := ber.NewReader(v)
			vs, err := vr.Enter(ber.TagSequence)
			if err != nil {
				return r, err
			}
			vs.Skip()
			ck, err := vs.OctetString(ber.TagOctetString)
			if err != nil {
				return r, err
			}
			r.Cookie, r.HasPaged = append([]byte(nil), ck...), true
		}
	}
	return r, nil
}

// Request encoders for the raw client.

type ctl struct {
	oid      string
	critical bool
	value    []byte
}

func message(id int32, body func(e *ber.Encoder), ctls ...ctl) []byte {
	var e ber.Encoder
	e.Begin(ber.TagSequence)
	e.Int(ber.TagInteger, int64(id))
	body(&e)
	if len(ctls) > 0 {
		e.Begin(0xa0)
		for _, c := range ctls {
			e.Begin(ber.TagSequence)
			e.String(ber.TagOctetString, c.oid)
			if c.critical {
				e.Bool(ber.TagBoolean, true)
			}
			if c.value != nil {
				e.OctetString(ber.TagOctetString, c.value)
			}
			e.End()
		}
		e.End()
	}
	e.End()
	return e.Buf
}

func bindReq(id int32, version int, name, password string) []byte {
	return message(id, func(e *ber.Encoder) {
		e.Begin(ldap.TagBindRequest)
		e.Int(ber.TagInteger, int64(version))
		e.String(ber.TagOctetString, name)
		e.String(0x80, password)
		e.End()
	})
}

func saslBindReq(id int32, mech string) []byte {
	return message(id, func(e *ber.Encoder) {
		e.Begin(ldap.TagBindRequest)
		e.Int(ber.TagInteger, 3)
		e.String(ber.TagOctetString, "")
		e.Begin(ber.Context(3, true))
		e.String(ber.TagOctetString, mech)
		e.End()
		e.End()
	})
}

func searchReq(id int32, base string, sizeLimit int, ctls ...ctl) []byte {
	return message(id, func(e *ber.Encoder) {
		e.Begin(ldap.TagSearchRequest)
		e.String(ber.TagOctetString, base)
		e.Int(ber.TagEnumerated, 2)
		e.Int(ber.TagEnumerated, 0)
		e.Int(ber.TagInteger, int64(sizeLimit))
		e.Int(ber.TagInteger, 0)
		e.Bool(ber.TagBoolean, false)
		e.String(ber.Context(7, false), "objectClass")
		e.Begin(ber.TagSequence)
		e.End()
		e.End()
	}, ctls...)
}

func pagedCtl(size int, cookie []byte) ctl {
	var e ber.Encoder
	e.Begin(ber.TagSequence)
	e.Int(ber.TagInteger, int64(size))
	e.OctetString(ber.TagOctetString, cookie)
	e.End()
	return ctl{oid: ldap.OIDPagedResults, value: e.Buf}
}

func extendedReq(id int32, oid string) []byte {
	return message(id, func(e *ber.Encoder) {
		e.Begin(ldap.TagExtendedRequest)
		e.String(0x80, oid)
		e.End()
	})
}

func abandonReq(id, target int32) []byte {
	return message(id, func(e *ber.Encoder) { e.Int(ldap.TagAbandonRequest, int64(target)) })
}

func unbindReq(id int32) []byte {
	return message(id, func(e *ber.Encoder) { e.Null(ldap.TagUnbindRequest) })
}

func deleteReq(id int32, dn string) []byte {
	return message(id, func(e *ber.Encoder) { e.String(ldap.TagDelRequest, dn) })
}

func compareReq(id int32, dn, attr, value string) []byte {
	return message(id, func(e *ber.Encoder) {
		e.Begin(ldap.TagCompareRequest)
		e.String(ber.TagOctetString, dn)
		e.Begin(ber.TagSequence)
		e.String(ber.TagOctetString, attr)
		e.String(ber.TagOctetString, value)
		e.End()
		e.End()
	})
}

// searchAll reads a whole search's responses: entries, then the done.
func (rc *rawClient) searchAll(id int32) (entries []string, done response) {
	rc.t.Helper()
	for {
		r := rc.mustRead()
		if r.ID != id {
			rc.t.Fatalf("response for message %d while reading search %d", r.ID, id)
		}
		switch r.Tag {
		case ldap.TagSearchResultEntry:
			entries = append(entries, r.DN)
		case ldap.TagSearchResultDone:
			return entries, r
		default:
			rc.t.Fatalf("unexpected %v in a search", r.Tag)
		}
	}
}

// expectResult reads one response and checks its message ID, tag and code.
func (rc *rawClient) expectResult(id int32, tag ber.Tag, code ldap.ResultCode) response {
	rc.t.Helper()
	r := rc.mustRead()
	if r.ID != id || r.Tag != tag || r.Code != code {
		rc.t.Fatalf("got id=%d tag=%#x code=%v (%q), want id=%d tag=%#x code=%v", r.ID, byte(r.Tag), r.Code, r.Diagnostic, id, byte(tag), code)
	}
	return r
}
