package ldapsource

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Steps of talking to a source, as StepError.Step and TestStep.Name name
// them.
const (
	StepConnect    = "connect"
	StepTLS        = "tls"
	StepBind       = "bind"
	StepSearch     = "search"
	StepFindUser   = "find user"
	StepBindAsUser = "bind as user"
)

// StepError is a failure of one step of talking to an LDAP server: which
// step (StepConnect, StepTLS, StepBind, StepSearch), against which URL,
// the cause, and what the user may do about it. Its message is meant for
// the person who filled in the settings; it never holds a password.
type StepError struct {
	Step string
	URL  string
	Err  error
	Hint string
}

func (e *StepError) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }

// retryable says whether Dial may try the next URL after e: a server that
// cannot be reached or spoken to securely may be replaced by the next, a
// refused bind (a wrong password) may not, it is the same directory.
func (e *StepError) retryable() bool {
	switch e.Step {
	case StepConnect, StepTLS:
		return true
	case StepBind:
		// Busy, unavailable, or the connection lost: another replica may do.
		return ldap.IsErrorAnyOf(e.Err, ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.ErrorNetwork)
	}
	return false
}

// DialError is Dial's failure when every URL failed: one StepError per URL
// tried, in order. errors.As finds the first StepError in it.
type DialError struct {
	Attempts []*StepError
}

func (e *DialError) Error() string {
	var b strings.Builder
	b.WriteString("no LDAP server could be used: ")
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(a.URL + ": " + a.Error())
	}
	return b.String()
}

func (e *DialError) Unwrap() []error {
	errs := make([]error, len(e.Attempts))
	for i, a := range e.Attempts {
		errs[i] = a
	}
	return errs
}

// SizeLimitError says that the server stopped a search at its size limit:
// the list it returned is truncated, and dirgate does not use it.
type SizeLimitError struct {
	// Returned is how many entries came before the server stopped.
	Returned int
	// Paged says the search was paged (the server bounds a paged search's
	// total too).
	Paged bool
}

func (e *SizeLimitError) Error() string {
	if e.Paged {
		return fmt.Sprintf("the server returned only %d entries of a paged search and stopped at its size limit", e.Returned)
	}
	return fmt.Sprintf("the server returned only %d entries and stopped at its size limit", e.Returned)
}

// Client is a bound connection to one of an integration's LDAP servers. A
// Client is used by one goroutine at a time. When a context given to one of
// its methods is cancelled while a request is in flight, the connection is
// closed (LDAP has no other way to stop a request at once) and the Client
// cannot be used any more.
type Client struct {
	s      *Settings
	url    string
	conn   ldap.Client
	log    *slog.Logger
	level  slog.Level
	failed []*StepError
}

// URL is the URL of the server the client is connected to.
func (c *Client) URL() string { return c.url }

// Failed lists the URLs tried before the one that answered, and why each
// was skipped.
func (c *Client) Failed() []*StepError { return c.failed }

// Close closes the connection. Closing twice is fine.
func (c *Client) Close() error {
	if c == nil || c.conn == nil {
		return nil
	}
	if c.conn.IsClosing() {
		return nil
	}
	return c.conn.Close()
}

// Dial connects to the first of s.URLs that answers, with TLS (ldaps://,
// or StartTLS on ldap:// when s.StartTLS; plain LDAP only with
// s.InsecurePlaintext), and binds as s.BindDN with bindPassword. A URL
// that does not connect or fails TLS is skipped for the next one (see
// Client.Failed); a refused bind is not, as the next server is the same
// directory. Each attempt is bounded by s.Timeout. Errors are a *StepError
// (one URL, or a bind refused) or a *DialError (every URL failed), or a
// *FieldError for settings that cannot be used.
//
// s is not changed; its defaults are filled in on a copy. log may be nil.
func Dial(ctx context.Context, s *Settings, bindPassword []byte, log *slog.Logger) (*Client, error) {
	es, err := effective(s)
	if err != nil {
		return nil, err
	}
	c := &Client{s: es, log: log, level: slog.LevelDebug}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if es.Debug {
		c.level = slog.LevelInfo
	}
	d, err := newDialer(es, c.log, c.level, nil)
	if err != nil {
		return nil, err
	}
	conn, u, failed, err := d.all(ctx, es.BindDN, bindPassword)
	c.failed = failed
	if err != nil {
		return nil, err
	}
	c.conn, c.url = conn, u
	return c, nil
}

// effective is a copy of s with the defaults Normalize would fill in. It
// does not insist on the whole form (a connection may be tested before the
// search bases are given), only on what connecting needs.
func effective(s *Settings) (*Settings, error) {
	if s == nil {
		return nil, errors.New("ldapsource: no settings")
	}
	c := *s
	if len(c.URLs) == 0 {
		return nil, bad("urls", "give at least one LDAP URL (ldaps://host:636 or ldap://host:389 with StartTLS)")
	}
	if c.Timeout <= 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	switch {
	case c.UserAttribute != "":
		c.LoginAttribute = c.UserAttribute
	case c.LoginAttribute == "":
		c.LoginAttribute = "uid"
	}
	c.groupDefaults()
	return &c, nil
}

func (s *Settings) timeout() time.Duration { return time.Duration(s.Timeout) }

// recorder receives the steps of a connection as they end (TestConnection
// and TestLogin report them); nil records nothing.
type recorder func(TestStep)

func (r recorder) step(name, u string, t0 time.Time, msg string, err *StepError) {
	if r == nil {
		return
	}
	st := TestStep{Name: name, URL: u, OK: err == nil, Duration: time.Since(t0), Message: msg}
	if err != nil {
		st.Message = err.Error()
	}
	r(st)
}

// dialer connects to the servers of one integration.
type dialer struct {
	s     *Settings // effective
	tls   *tls.Config
	log   *slog.Logger
	level slog.Level
	rec   recorder
}

func newDialer(s *Settings, log *slog.Logger, level slog.Level, rec recorder) (*dialer, error) {
	cfg, serr := rootCAs(s)
	if serr != nil {
		return nil, serr
	}
	return &dialer{s: s, tls: cfg, log: log, level: level, rec: rec}, nil
}

// all tries the URLs in order, as Dial describes, binding as dn.
func (d *dialer) all(ctx context.Context, dn string, password []byte) (*ldap.Conn, string, []*StepError, error) {
	var failed []*StepError
	for _, u := range d.s.URLs {
		if err := ctx.Err(); err != nil {
			return nil, "", failed, &StepError{Step: StepConnect, URL: u, Err: err}
		}
		conn, serr := d.one(ctx, u, dn, password, StepBind)
		if serr == nil {
			return conn, u, failed, nil
		}
		failed = append(failed, serr)
		if !serr.retryable() || ctx.Err() != nil {
			return nil, "", failed, serr
		}
		d.log.Warn("ldap: server skipped", "url", u, "step", serr.Step, "error", serr.Error())
	}
	if len(failed) == 1 {
		return nil, "", failed, failed[0]
	}
	return nil, "", failed, &DialError{Attempts: failed}
}

// rootCAs is the TLS configuration common to every URL: TLS 1.2 or later
// and the CA certificates of s.CACert (when given).
func rootCAs(s *Settings) (*tls.Config, *StepError) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	pemText := strings.TrimSpace(s.CACert)
	if pemText == "" {
		return cfg, nil
	}
	pool := x509.NewCertPool()
	rest := []byte(pemText)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &StepError{Step: StepTLS, Err: fmt.Errorf("the CA certificate (caCert) #%d does not parse: %v", n+1, err),
				Hint: "paste the CA's certificate in PEM (-----BEGIN CERTIFICATE----- …)"}
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, &StepError{Step: StepTLS, Err: errors.New("the CA certificate (caCert) holds no PEM certificate"),
			Hint: "paste the CA's certificate in PEM (-----BEGIN CERTIFICATE----- …), or leave it empty to trust the system's CAs"}
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// one connects to one URL, secures the connection and binds as dn: the
// service account (bindStep StepBind) or a user (StepBindAsUser).
func (d *dialer) one(ctx context.Context, rawURL, dn string, password []byte, bindStep string) (*ldap.Conn, *StepError) {
	s, log, level, rec := d.s, d.log, d.level, d.rec
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		serr := &StepError{Step: StepConnect, URL: rawURL, Err: fmt.Errorf("%q is not an LDAP URL", rawURL),
			Hint: "use ldaps://host[:port] or ldap://host[:port]"}
		rec.step(StepConnect, rawURL, time.Now(), "", serr)
		return nil, serr
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = strings.Trim(u.Host, "[]"), "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
	}
	addr := net.JoinHostPort(host, port)
	if u.Scheme == "ldap" && !s.StartTLS && !s.InsecurePlaintext {
		serr := &StepError{Step: StepTLS, URL: rawURL, Err: fmt.Errorf("TLS: %s is plain LDAP and StartTLS is off", rawURL),
			Hint: "turn StartTLS on (or use ldaps://), so that the bind password is not sent in clear"}
		rec.step(StepTLS, rawURL, time.Now(), "", serr)
		return nil, serr
	}
	timeout := s.timeout()
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// connect
	t0 := time.Now()
	var nd net.Dialer
	raw, err := nd.DialContext(actx, "tcp", addr)
	if err != nil {
		serr := connectError(rawURL, addr, timeout, err)
		log.Log(ctx, level, "ldap: connect failed", "url", rawURL, "error", serr.Error(), "duration", time.Since(t0))
		rec.step(StepConnect, rawURL, t0, "", serr)
		return nil, serr
	}
	log.Log(ctx, level, "ldap: connected", "url", rawURL, "addr", addr, "duration", time.Since(t0))
	rec.step(StepConnect, rawURL, t0, "connected to "+addr, nil)

	// tls
	t0 = time.Now()
	netConn := raw
	isTLS := false
	switch {
	case u.Scheme == "ldaps" || s.StartTLS:
		cfg := d.tls.Clone()
		cfg.ServerName = host
		how := "ldaps"
		stop := context.AfterFunc(actx, func() { _ = raw.SetDeadline(time.Now()) })
		_ = raw.SetDeadline(time.Now().Add(timeout))
		var tc *tls.Conn
		var err error
		if u.Scheme == "ldap" {
			how = "StartTLS"
			err = startTLS(raw)
		}
		if err == nil {
			tc = tls.Client(raw, cfg)
			err = tc.HandshakeContext(actx)
		}
		stopped := stop()
		if err != nil {
			if !stopped && ctx.Err() != nil {
				err = ctx.Err()
			}
			raw.Close()
			serr := tlsError(rawURL, s.CACert != "", timeout, err)
			log.Log(ctx, level, "ldap: TLS failed", "url", rawURL, "error", serr.Error(), "duration", time.Since(t0))
			rec.step(StepTLS, rawURL, t0, "", serr)
			return nil, serr
		}
		_ = raw.SetDeadline(time.Time{})
		st := tc.ConnectionState()
		msg := fmt.Sprintf("%s, %s, certificate of %s verified", how, tls.VersionName(st.Version), host)
		if len(st.PeerCertificates) > 0 {
			msg += " (issued by " + st.PeerCertificates[0].Issuer.String() + ")"
		}
		log.Log(ctx, level, "ldap: TLS established", "url", rawURL, "how", how, "version", tls.VersionName(st.Version), "duration", time.Since(t0))
		rec.step(StepTLS, rawURL, t0, msg, nil)
		netConn, isTLS = tc, true
	default:
		log.Warn("ldap: plain LDAP without TLS (insecurePlaintext): the bind password crosses the network in clear", "url", rawURL)
		rec.step(StepTLS, rawURL, t0, "none: plain LDAP (insecurePlaintext), the bind password crosses the network in clear", nil)
	}

	conn := ldap.NewConn(netConn, isTLS)
	conn.Start()
	conn.SetTimeout(timeout)

	// bind
	t0 = time.Now()
	if err := bind(actx, conn, dn, password); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		conn.Close()
		serr := bindError(bindStep, rawURL, dn, timeout, err)
		log.Log(ctx, level, "ldap: bind failed", "url", rawURL, "dn", dn, "error", serr.Error(), "duration", time.Since(t0))
		rec.step(bindStep, rawURL, t0, "", serr)
		return nil, serr
	}
	log.Log(ctx, level, "ldap: bound", "url", rawURL, "dn", dn, "duration", time.Since(t0))
	rec.step(bindStep, rawURL, t0, "bound as "+dn, nil)
	return conn, nil
}

// errNoPassword: an empty password would make a simple bind an
// unauthenticated one, which servers accept for any DN.
var errNoPassword = errors.New("no password given")

// bind binds with a simple bind, refusing an empty password; a cancelled
// ctx closes the connection.
func bind(ctx context.Context, conn ldap.Client, dn string, password []byte) error {
	if len(password) == 0 {
		return errNoPassword
	}
	return withContext(ctx, conn, func() error { return conn.Bind(dn, string(password)) })
}

// withContext runs fn, closing conn if ctx ends first; it then returns
// ctx's error.
func withContext(ctx context.Context, conn ldap.Client, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	err := fn()
	if !stop() {
		return ctx.Err()
	}
	return err
}

// startTLS sends the StartTLS extended request (RFC 4511 4.14) on raw and
// reads its answer, before go-ldap takes the connection over, so that the
// handshake's errors stay typed and the exchange obeys the deadline. The
// message ID 1 is used again by go-ldap's first request, which RFC 4511
// allows (it is no longer outstanding).
func startTLS(raw net.Conn) error {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	req.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.1466.20037", "TLS Extended Command"))
	p.AppendChild(req)
	if _, err := raw.Write(p.Bytes()); err != nil {
		return &startTLSError{err: err}
	}
	resp, err := ber.ReadPacket(raw)
	if err != nil {
		return &startTLSError{err: err}
	}
	if len(resp.Children) < 2 || resp.Children[1].Tag != ldap.ApplicationExtendedResponse {
		return &startTLSError{err: errors.New("unexpected answer")}
	}
	if err := ldap.GetLDAPError(resp); err != nil {
		return &startTLSError{err: err, refused: true}
	}
	return nil
}

type startTLSError struct {
	err     error
	refused bool // the server answered no
}

func (e *startTLSError) Error() string { return "StartTLS: " + e.err.Error() }
func (e *startTLSError) Unwrap() error { return e.err }

// causeError is an error whose message is written for people, keeping the
// original error for errors.Is and errors.As.
type causeError struct {
	msg string
	err error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.err }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func connectError(u, addr string, timeout time.Duration, err error) *StepError {
	reason := err.Error()
	var dnsErr *net.DNSError
	var sysErr *os.SyscallError
	switch {
	case errors.Is(err, context.Canceled):
		reason = "cancelled"
	case isTimeout(err):
		reason = fmt.Sprintf("no answer within %s", timeout)
	case errors.As(err, &dnsErr):
		reason = dnsErr.Err
		if dnsErr.IsNotFound {
			reason = "no such host"
		}
	case errors.As(err, &sysErr):
		reason = sysErr.Err.Error()
	}
	return &StepError{Step: StepConnect, URL: u, Err: &causeError{msg: "connect: " + addr + ": " + reason, err: err},
		Hint: "check the host name and port, that the server is running, and that no firewall is in the way"}
}

func tlsError(u string, haveCA bool, timeout time.Duration, err error) *StepError {
	var (
		unknownCA   x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalid     x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		startErr    *startTLSError
		verifyError *tls.CertificateVerificationError
	)
	reason, hint := err.Error(), ""
	switch {
	case errors.Is(err, context.Canceled):
		reason = "cancelled"
	case errors.As(err, &unknownCA):
		reason = "certificate signed by unknown authority"
		hint = "give the server's CA certificate (caCert)"
		if haveCA {
			hint = "give the server's CA certificate: the one in caCert did not sign the server's certificate"
		}
	case errors.As(err, &hostErr):
		reason = strings.TrimPrefix(hostErr.Error(), "x509: ")
		hint = "use a host name in the URL that the server's certificate names, or have the certificate reissued for this name"
	case errors.As(err, &invalid):
		reason = strings.TrimPrefix(invalid.Error(), "x509: ")
		if invalid.Reason == x509.Expired {
			hint = "the server's certificate has expired or is not valid yet: have it renewed (or check the clocks)"
		} else {
			hint = "the server's certificate cannot be used for TLS: have it reissued"
		}
	case errors.As(err, &verifyError):
		reason = strings.TrimPrefix(verifyError.Err.Error(), "x509: ")
		hint = "the server's certificate could not be verified"
	case errors.As(err, &recordErr):
		reason = "the server does not speak TLS on this port"
		hint = "use ldaps:// with the LDAPS port (636), or ldap:// with StartTLS on the LDAP port (389)"
	case errors.As(err, &startErr) && startErr.refused:
		reason = "the server refused StartTLS: " + describeLDAP(startErr.err)
		hint = "enable TLS on the server, or use ldaps://"
	case errors.As(err, &startErr):
		reason = "StartTLS failed: " + startErr.err.Error()
		if isTimeout(err) {
			reason = fmt.Sprintf("StartTLS: no answer within %s", timeout)
		}
		hint = "is this an LDAPS port? use ldaps:// for it, ldap:// with StartTLS on the LDAP port (389)"
	case isTimeout(err):
		reason = fmt.Sprintf("no TLS handshake within %s", timeout)
		hint = "is this the LDAPS port? for ldap:// use StartTLS on the LDAP port (389)"
	case errors.Is(err, io.EOF):
		reason = "the server closed the connection during the handshake"
		hint = "check that the server has a certificate and accepts TLS 1.2 or later"
	}
	return &StepError{Step: StepTLS, URL: u, Err: &causeError{msg: "TLS: " + reason, err: err}, Hint: hint}
}

// describeLDAP is an LDAP error as people read it: "invalid credentials
// (49)", with the server's diagnostic message when it gave one.
func describeLDAP(err error) string {
	var le *ldap.Error
	if !errors.As(err, &le) {
		return err.Error()
	}
	if le.ResultCode == ldap.ErrorNetwork {
		msg := "connection lost"
		if le.Err != nil {
			msg = strings.TrimPrefix(le.Err.Error(), "ldap: ")
		}
		return msg
	}
	name := strings.ToLower(ldap.LDAPResultCodeMap[le.ResultCode])
	if name == "" {
		name = "result code"
	}
	s := fmt.Sprintf("%s (%d)", name, le.ResultCode)
	if le.Err != nil {
		if d := strings.TrimSpace(le.Err.Error()); d != "" {
			s += ": " + d
		}
	}
	return s
}

// adBindData matches the sub-code in Active Directory's bind diagnostic
// ("80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error,
// data 52e, v4563").
var adBindData = regexp.MustCompile(`\bdata ([0-9a-fA-F]{3,4})\b`)

var adBindHints = map[string]string{
	"525": "the account does not exist: check the bind DN",
	"52e": "check the bind DN and password",
	"530": "the account may not log in at this time",
	"531": "the account may not log in from this computer",
	"532": "the account's password has expired",
	"533": "the account is disabled",
	"701": "the account has expired",
	"773": "the account must change its password first",
	"775": "the account is locked out",
}

func bindError(step, u, dn string, timeout time.Duration, err error) *StepError {
	credHint := "check the bind DN and password"
	if step == StepBindAsUser {
		credHint = "wrong password, or the account may not log in (locked, disabled or expired)"
	}
	reason, hint := describeLDAP(err), ""
	var le *ldap.Error
	switch {
	case errors.Is(err, errNoPassword):
		reason = "no password given"
		hint = "give the password (an empty one would make an anonymous bind)"
	case errors.Is(err, context.Canceled):
		reason = "cancelled"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err) || (errors.As(err, &le) && le.ResultCode == ldap.ErrorNetwork && strings.Contains(reason, "timed out")):
		reason = fmt.Sprintf("no answer within %s", timeout)
		hint = "the server is slow or stuck: try again, or raise the timeout"
	case errors.As(err, &le):
		switch le.ResultCode {
		case ldap.LDAPResultInvalidCredentials:
			hint = credHint
			if m := adBindData.FindStringSubmatch(reason); m != nil {
				if h, ok := adBindHints[strings.ToLower(m[1])]; ok {
					hint = h
				}
			}
		case ldap.LDAPResultInvalidDNSyntax:
			hint = "the bind DN is not a valid DN (e.g. cn=sync,ou=services,dc=example,dc=com)"
		case ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultStrongAuthRequired:
			hint = "the server requires a secure connection: use ldaps:// or turn StartTLS on"
		case ldap.LDAPResultUnwillingToPerform, ldap.LDAPResultInappropriateAuthentication:
			hint = "the server refuses this kind of bind for this account"
		case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable:
			hint = "the server is not available now: try again later"
		}
	}
	return &StepError{Step: step, URL: u, Err: &causeError{msg: "bind as " + dn + " failed: " + reason, err: err}, Hint: hint}
}

// TestReport is what TestConnection and TestLogin found: each step, in
// order, with its URL, outcome, duration and message. Messages never hold
// a password.
type TestReport struct {
	OK bool `json:"ok"`
	// URL is the server that answered, if one did.
	URL   string     `json:"url,omitempty"`
	Steps []TestStep `json:"steps"`
	// Err is the failure (a *StepError, *DialError or *FieldError).
	Err error `json:"-"`
}

// TestStep is one step of a TestReport.
type TestStep struct {
	Name     string        `json:"name"` // StepConnect, StepTLS, StepBind, StepFindUser, StepBindAsUser
	URL      string        `json:"url,omitempty"`
	OK       bool          `json:"ok"`
	Duration time.Duration `json:"-"`
	Message  string        `json:"message"`
}

// MarshalJSON writes Duration as "12.3ms" and as milliseconds.
func (s TestStep) MarshalJSON() ([]byte, error) {
	type plain TestStep
	return json.Marshal(struct {
		plain
		Duration string  `json:"duration"`
		Millis   float64 `json:"durationMs"`
	}{plain(s), s.Duration.Round(time.Microsecond).String(), float64(s.Duration.Microseconds()) / 1000})
}

// Failed is the step that failed the test (the last one), or nil when it
// passed. Earlier steps may have failed too: the URLs skipped by failover.
func (r *TestReport) Failed() *TestStep {
	if r.OK || len(r.Steps) == 0 || r.Steps[len(r.Steps)-1].OK {
		return nil
	}
	return &r.Steps[len(r.Steps)-1]
}

func (r *TestReport) add(st TestStep) { r.Steps = append(r.Steps, st) }

func (r *TestReport) fail(err error) *TestReport {
	r.OK, r.Err = false, err
	if r.Failed() == nil {
		st := TestStep{Name: "settings", Message: err.Error()}
		var se *StepError
		if errors.As(err, &se) {
			st.Name, st.URL = se.Step, se.URL
		}
		r.add(st)
	}
	return r
}

// TestConnection tries s as Dial would (connect, TLS, bind as s.BindDN,
// with failover) and reports every step, the URLs skipped included.
func TestConnection(ctx context.Context, s *Settings, bindPassword []byte) *TestReport {
	r := &TestReport{}
	es, err := effective(s)
	if err != nil {
		return r.fail(err)
	}
	d, err := newDialer(es, slog.New(slog.DiscardHandler), slog.LevelDebug, r.add)
	if err != nil {
		return r.fail(err)
	}
	conn, u, _, err := d.all(ctx, es.BindDN, bindPassword)
	if err != nil {
		return r.fail(err)
	}
	conn.Close()
	r.OK, r.URL = true, u
	return r
}

// TestLogin checks that login can log in with password as a sync would
// check it: it connects and binds as the service account (as
// TestConnection), finds the user under s.UserBase by the login attribute
// (and s.UserFilter), then binds as the user found, with password, on a
// second connection to the same server.
func TestLogin(ctx context.Context, s *Settings, bindPassword []byte, login string, password []byte) *TestReport {
	r := &TestReport{}
	es, err := effective(s)
	if err != nil {
		return r.fail(err)
	}
	log := slog.New(slog.DiscardHandler)
	d, err := newDialer(es, log, slog.LevelDebug, r.add)
	if err != nil {
		return r.fail(err)
	}
	conn, u, _, err := d.all(ctx, es.BindDN, bindPassword)
	if err != nil {
		return r.fail(err)
	}
	r.URL = u
	c := &Client{s: es, url: u, conn: conn, log: log, level: slog.LevelDebug}
	defer c.Close()

	t0 := time.Now()
	dn, err := c.findUser(ctx, login)
	if err != nil {
		var se *StepError
		if !errors.As(err, &se) {
			se = &StepError{Step: StepFindUser, URL: u, Err: err}
		}
		se.Step = StepFindUser
		r.add(TestStep{Name: StepFindUser, URL: u, Duration: time.Since(t0), Message: se.Error()})
		return r.fail(se)
	}
	r.add(TestStep{Name: StepFindUser, URL: u, OK: true, Duration: time.Since(t0), Message: "found " + dn})

	// The user's bind, on a connection of its own; its connect and TLS
	// steps are the service account's again and are folded into this one.
	t0 = time.Now()
	d.rec = nil
	uconn, serr := d.one(ctx, u, dn, password, StepBindAsUser)
	if serr != nil {
		serr.Step = StepBindAsUser
		r.add(TestStep{Name: StepBindAsUser, URL: u, Duration: time.Since(t0), Message: serr.Error()})
		return r.fail(serr)
	}
	uconn.Close()
	r.add(TestStep{Name: StepBindAsUser, URL: u, OK: true, Duration: time.Since(t0), Message: "bound as " + dn})
	r.OK = true
	return r
}

// ErrNoUser is findUser's error when the source has no such user.
var ErrNoUser = errors.New("no user")

// findUser is the DN of the one user whose login attribute is login,
// within the user search (s.UserFilter when set). The login is escaped:
// it cannot change the filter.
func (c *Client) findUser(ctx context.Context, login string) (string, error) {
	if strings.TrimSpace(login) == "" {
		return "", &StepError{Step: StepFindUser, URL: c.url, Err: errors.New("no login given")}
	}
	if strings.TrimSpace(c.s.UserBase) == "" {
		return "", &StepError{Step: StepFindUser, URL: c.url, Err: errors.New("no user search base"), Hint: "give the base DN under which users are searched"}
	}
	filter := "(" + c.s.LoginAttribute + "=" + ldap.EscapeFilter(login) + ")"
	if c.s.UserAttribute == "" && c.s.UserFilter != "" {
		filter = "(&" + strings.TrimSpace(c.s.UserFilter) + filter + ")"
	}
	req := ldap.NewSearchRequest(c.s.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
		filter, []string{c.s.LoginAttribute}, nil)
	entries, _, err := c.do(ctx, req, false)
	var se *StepError
	if errors.As(err, &se) {
		var sl *SizeLimitError
		if errors.As(se.Err, &sl) {
			return "", &StepError{Step: StepFindUser, URL: c.url, Err: fmt.Errorf("more than one user has %s=%s under %s", c.s.LoginAttribute, login, c.s.UserBase),
				Hint: "logins must be unique: narrow the user search base or filter"}
		}
	}
	if err != nil {
		return "", err
	}
	switch len(entries) {
	case 0:
		return "", &StepError{Step: StepFindUser, URL: c.url, Err: fmt.Errorf("%w with %s=%s under %s (filter %s)", ErrNoUser, c.s.LoginAttribute, login, c.s.UserBase, filter),
			Hint: "check the login, the user search base and the login attribute"}
	case 1:
		return entries[0].DN, nil
	}
	return "", &StepError{Step: StepFindUser, URL: c.url, Err: fmt.Errorf("%d users have %s=%s under %s", len(entries), c.s.LoginAttribute, login, c.s.UserBase),
		Hint: "logins must be unique: narrow the user search base or filter"}
}
