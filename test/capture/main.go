// Command capture is a minimal plaintext LDAP responder that records the
// exact request bytes real clients send. It answers just enough for a client
// to carry on (success for nearly everything, one fixed entry per search) and
// writes every LDAPMessage it received, concatenated as it arrived, to -out.
// The captures are test data for internal/ldap's decoder; see README.md and
// run.sh for how they are produced.
//
// Responses are encoded by hand with internal/ber so the tool does not depend
// on the ldap package it produces test data for.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/ber"
)

// Request and response tags, [APPLICATION n] (RFC 4511 §4.2–4.13).
const (
	tagBindRequest       = 0x60
	tagBindResponse      = 0x61
	tagUnbindRequest     = 0x42
	tagSearchRequest     = 0x63
	tagSearchResultEntry = 0x64
	tagSearchResultDone  = 0x65
	tagModifyRequest     = 0x66
	tagModifyResponse    = 0x67
	tagAddRequest        = 0x68
	tagAddResponse       = 0x69
	tagDelRequest        = 0x4a
	tagDelResponse       = 0x6b
	tagModifyDNRequest   = 0x6c
	tagModifyDNResponse  = 0x6d
	tagCompareRequest    = 0x6e
	tagCompareResponse   = 0x6f
	tagAbandonRequest    = 0x50
	tagExtendedRequest   = 0x77
	tagExtendedResponse  = 0x78

	tagControls     ber.Tag = 0xa0 // [0] Controls
	tagSASL         ber.Tag = 0xa3 // [3] SaslCredentials in a BindRequest
	tagExtName      ber.Tag = 0x80 // [0] requestName in an ExtendedRequest
	tagExtRespValue ber.Tag = 0x8b // [11] responseValue in an ExtendedResponse
)

// Result codes, OIDs and texts used in answers.
const (
	resultSuccess                 = 0
	resultProtocolError           = 2
	resultCompareTrue             = 6
	resultAuthMethodNotSupported  = 7
	resultUnwillingToPerform      = 53
	oidPagedResults               = "1.2.840.113556.1.4.319"
	oidStartTLS                   = "1.3.6.1.4.1.1466.20037"
	oidWhoAmI                     = "1.3.6.1.4.1.4203.1.11.3"
	oidPasswordModify             = "1.3.6.1.4.1.4203.1.11.1"
	whoAmIValue                   = "dn:cn=x"
	holdPrefix                    = "cn=hold" // searches under this base are never answered
	maxMessage                    = ber.DefaultMaxMessage
	defaultIdle                   = 10 * time.Second
	pagedCookiePrefix             = "page-"
	startTLSDiagnostic            = "StartTLS not offered by the capture responder"
	saslDiagnostic                = "SASL not offered by the capture responder"
	unknownExtendedDiagnostic     = "extended operation not known to the capture responder"
	unknownOperationDiagnosticFmt = "operation tag 0x%02x not known to the capture responder"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback only)")
	out := flag.String("out", "", "file to write the captured request bytes to (required)")
	portFile := flag.String("port-file", "", "file to write the chosen TCP port to once listening")
	conns := flag.Int("conns", 1, "number of connections to serve before exiting")
	pages := flag.Int("pages", 1, "pages per paged search: earlier pages carry a non-empty cookie")
	idle := flag.Duration("idle", defaultIdle, "give up on a connection (and accepting) after this long without input")
	flag.Parse()
	if *out == "" {
		log.Fatal("capture: -out is required")
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("capture: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if *portFile != "" {
		// Written via a temporary name so a poller never sees a partial port.
		tmp := *portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			log.Fatalf("capture: %v", err)
		}
		if err := os.Rename(tmp, *portFile); err != nil {
			log.Fatalf("capture: %v", err)
		}
	}

	var captured []byte
	var failed error
	for i := 0; i < *conns; i++ {
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(*idle))
		c, err := ln.Accept()
		if err != nil {
			failed = fmt.Errorf("accept: %w", err)
			break
		}
		s := &session{conn: c, pages: *pages, idle: *idle}
		err = s.serve()
		c.Close()
		captured = append(captured, s.captured...)
		if err != nil {
			failed = err
			break
		}
	}
	ln.Close()
	// Whatever arrived is written even on failure, so a broken run can be
	// inspected; the exit status still reports it.
	if err := os.WriteFile(*out, captured, 0o644); err != nil {
		log.Fatalf("capture: %v", err)
	}
	if failed != nil {
		log.Fatalf("capture: %s: %v", *out, failed)
	}
}

// session serves one client connection.
type session struct {
	conn     net.Conn
	pages    int
	idle     time.Duration
	paged    int    // paged searches answered so far
	captured []byte // every request message, concatenated as received
	enc      ber.Encoder
}

func (s *session) serve() error {
	r := bufio.NewReader(s.conn)
	for {
		s.conn.SetReadDeadline(time.Now().Add(s.idle))
		msg, err := ber.ReadMessage(r, maxMessage)
		if errors.Is(err, io.EOF) {
			return nil // the client closed between messages
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		s.captured = append(s.captured, msg...)
		done, err := s.answer(msg)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// request is the little the responder needs to know about a message.
type request struct {
	id       int64
	tag      ber.Tag
	body     []byte // protocolOp contents
	controls []string
}

func parse(msg []byte) (request, error) {
	var q request
	top := ber.NewReader(msg)
	seq, err := top.Enter(ber.TagSequence)
	if err != nil {
		return q, err
	}
	if q.id, err = seq.Int(ber.TagInteger); err != nil {
		return q, err
	}
	if q.tag, q.body, err = seq.Next(); err != nil {
		return q, err
	}
	if seq.Empty() {
		return q, nil
	}
	ctrls, err := seq.Enter(tagControls)
	if err != nil {
		return q, err
	}
	for !ctrls.Empty() {
		c, err := ctrls.Enter(ber.TagSequence)
		if err != nil {
			return q, err
		}
		oid, err := c.OctetString(ber.TagOctetString)
		if err != nil {
			return q, err
		}
		q.controls = append(q.controls, string(oid))
	}
	return q, nil
}

func (q request) hasControl(oid string) bool {
	for _, c := range q.controls {
		if c == oid {
			return true
		}
	}
	return false
}

// answer writes the response to one request and reports whether the
// connection is finished.
func (s *session) answer(msg []byte) (bool, error) {
	q, err := parse(msg)
	if err != nil {
		return false, fmt.Errorf("parse request: %w", err)
	}
	s.enc.Reset()
	switch q.tag {
	case tagBindRequest:
		code, diag := int64(resultSuccess), ""
		if isSASL(q.body) {
			code, diag = resultAuthMethodNotSupported, saslDiagnostic
		}
		s.result(q.id, tagBindResponse, code, diag, nil, nil)
	case tagUnbindRequest:
		return true, nil
	case tagSearchRequest:
		if strings.HasPrefix(searchBase(q.body), holdPrefix) {
			return false, nil // left pending, so a client can abandon it
		}
		s.search(q)
	case tagModifyRequest:
		s.result(q.id, tagModifyResponse, resultSuccess, "", nil, nil)
	case tagAddRequest:
		s.result(q.id, tagAddResponse, resultSuccess, "", nil, nil)
	case tagDelRequest:
		s.result(q.id, tagDelResponse, resultSuccess, "", nil, nil)
	case tagModifyDNRequest:
		s.result(q.id, tagModifyDNResponse, resultSuccess, "", nil, nil)
	case tagCompareRequest:
		s.result(q.id, tagCompareResponse, resultCompareTrue, "", nil, nil)
	case tagAbandonRequest:
		return false, nil
	case tagExtendedRequest:
		s.extended(q)
	default:
		// Unknown operations get an ExtendedResponse-shaped notice of
		// failure; any client then gives up, which the run will show.
		s.result(q.id, tagExtendedResponse, resultProtocolError,
			fmt.Sprintf(unknownOperationDiagnosticFmt, byte(q.tag)), nil, nil)
	}
	_, err = s.conn.Write(s.enc.Buf)
	return false, err
}

// isSASL reports whether a BindRequest body uses the sasl choice.
func isSASL(body []byte) bool {
	r := ber.NewReader(body)
	if err := r.Skip(); err != nil { // version
		return false
	}
	if r.Skip() != nil { // name
		return false
	}
	t, err := r.Peek()
	return err == nil && t == tagSASL
}

// searchBase returns the baseObject of a SearchRequest body.
func searchBase(body []byte) string {
	r := ber.NewReader(body)
	b, _ := r.OctetString(ber.TagOctetString)
	return string(b)
}

func (s *session) search(q request) {
	base := searchBase(q.body)
	e := &s.enc
	e.Begin(ber.TagSequence)
	e.Int(ber.TagInteger, q.id)
	e.Begin(tagSearchResultEntry)
	e.String(ber.TagOctetString, base)
	e.Begin(ber.TagSequence)
	attr(e, "objectClass", "top")
	attr(e, "cn", "x")
	e.End()
	e.End()
	e.End()

	var controls func()
	if q.hasControl(oidPagedResults) {
		s.paged++
		cookie := ""
		if s.paged < s.pages {
			cookie = pagedCookiePrefix + strconv.Itoa(s.paged)
		}
		controls = func() { pagedControl(e, cookie) }
	}
	s.result(q.id, tagSearchResultDone, resultSuccess, "", nil, controls)
}

func attr(e *ber.Encoder, name string, vals ...string) {
	e.Begin(ber.TagSequence)
	e.String(ber.TagOctetString, name)
	e.Begin(ber.TagSet)
	for _, v := range vals {
		e.String(ber.TagOctetString, v)
	}
	e.End()
	e.End()
}

// pagedControl appends a Controls element holding the paged results
// response control (RFC 2696): size 0 (unknown) and the given cookie.
func pagedControl(e *ber.Encoder, cookie string) {
	var v ber.Encoder
	v.Begin(ber.TagSequence)
	v.Int(ber.TagInteger, 0)
	v.String(ber.TagOctetString, cookie)
	v.End()

	e.Begin(tagControls)
	e.Begin(ber.TagSequence)
	e.String(ber.TagOctetString, oidPagedResults)
	e.OctetString(ber.TagOctetString, v.Buf)
	e.End()
	e.End()
}

func (s *session) extended(q request) {
	name := ""
	r := ber.NewReader(q.body)
	if b, err := r.OctetString(tagExtName); err == nil {
		name = string(b)
	}
	switch name {
	case oidStartTLS:
		// Refused, so that a client run with a single -Z goes on in plaintext
		// and the StartTLS request itself is captured.
		s.result(q.id, tagExtendedResponse, resultProtocolError, startTLSDiagnostic, nil, nil)
	case oidWhoAmI:
		s.result(q.id, tagExtendedResponse, resultSuccess, "", func() {
			s.enc.String(tagExtRespValue, whoAmIValue)
		}, nil)
	case oidPasswordModify:
		s.result(q.id, tagExtendedResponse, resultSuccess, "", nil, nil)
	default:
		s.result(q.id, tagExtendedResponse, resultUnwillingToPerform, unknownExtendedDiagnostic, nil, nil)
	}
}

// result appends an LDAPMessage whose protocolOp is an LDAPResult with the
// given tag. extra appends fields after the diagnostic message (inside the
// op); controls appends the message's Controls element.
func (s *session) result(id int64, tag ber.Tag, code int64, diag string, extra, controls func()) {
	e := &s.enc
	e.Begin(ber.TagSequence)
	e.Int(ber.TagInteger, id)
	e.Begin(tag)
	e.Int(ber.TagEnumerated, code)
	e.String(ber.TagOctetString, "") // matchedDN
	e.String(ber.TagOctetString, diag)
	if extra != nil {
		extra()
	}
	e.End()
	if controls != nil {
		controls()
	}
	e.End()
}
