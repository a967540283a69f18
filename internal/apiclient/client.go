// Package apiclient is a client for dirgate's management REST API (package
// api): users, groups, admin roles and TOTP factors under /api/v1, shaped
// like Okta's. It uses net/http and encoding/json only.
//
//	c, err := apiclient.New("https://127.0.0.1:8080", token, nil,
//		apiclient.WithCAFile("dirgate-data/tls/ca.pem"))
//	users, err := c.ListUsers(ctx, nil)
//
// # The token
//
// Every call authenticates with an API token ("Authorization: SSWS
// <token>", made by 'dirgate token create'). The token is a secret: a
// Client never puts it in an error, formats (fmt's verbs, log/slog)
// without it, and sends it only to the base URL's origin: it follows no
// redirect, and a page's Link rel="next" is read for its query only.
// Plain http is refused except to a loopback address.
//
// # Errors
//
// An error answer is an *Error: the HTTP status, Okta's errorCode,
// errorSummary and errorCauses. An *Error unwraps to the *directory.Error
// the server reported (as far as the answer tells it; see Error.Unwrap),
// so errors.As(err, &de) and directory.CodeOf(err) work on it as on the
// directory's own errors. Network failures are returned wrapped, naming
// the method and path.
//
// # Rate limits
//
// The server limits each token's calls per minute and answers 429 past the
// limit, before doing anything; the Client then waits until the window's
// reset (X-Rate-Limit-Reset) and retries, up to WithMaxRetries times.
package apiclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults.
const (
	// DefaultMaxRetries is how many times a call the server refused with
	// 429 (rate limit) is retried.
	DefaultMaxRetries = 3
	// DefaultTimeout bounds one request when New makes the http.Client.
	DefaultTimeout = 60 * time.Second
	// maxErrorBody bounds how much of an error answer is read.
	maxErrorBody = 64 << 10
	// maxBody bounds a successful answer (a page of 10,000 group members
	// is about 10 MB).
	maxBody = 256 << 20
	// maxWait bounds one wait for a rate-limit window to reset (the
	// server's windows are a minute long).
	maxWait = 61 * time.Second
)

// Client calls one dirgate server's REST API. It is safe for concurrent
// use.
type Client struct {
	base       string // scheme://host[:port][/prefix], no trailing slash
	token      string // never formatted: see Format
	hc         *http.Client
	userAgent  string
	maxRetries int
	// sleep waits d or until ctx is done (tests replace it).
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

// Option configures New.
type Option func(*options)

type options struct {
	caFile     string
	rootCAs    *x509.CertPool
	userAgent  string
	maxRetries int
}

// WithCAFile makes the Client trust only the CA certificates of the PEM
// file path (such as DIR/tls/ca.pem of 'dirgate serve') instead of the
// system's pool.
func WithCAFile(path string) Option { return func(o *options) { o.caFile = path } }

// WithRootCAs makes the Client trust only the certificates of pool.
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.rootCAs = pool } }

// WithUserAgent sets the User-Agent header of the Client's requests.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithMaxRetries sets how many times a call refused with 429 is retried
// (0: never; default DefaultMaxRetries).
func WithMaxRetries(n int) Option { return func(o *options) { o.maxRetries = max(n, 0) } }

// New returns a Client of the server at baseURL (such as
// "https://127.0.0.1:8080": the address /api/v1 is below) acting with
// token. httpClient is the client to send with (nil: one with
// DefaultTimeout and the default transport's settings); New uses a copy
// that follows no redirect, and WithCAFile or WithRootCAs need its
// Transport to be nil or an *http.Transport (which is cloned).
func New(baseURL, token string, httpClient *http.Client, opts ...Option) (*Client, error) {
	base, err := parseBase(baseURL)
	if err != nil {
		return nil, err
	}
	if err := checkToken(token); err != nil {
		return nil, err
	}
	o := options{userAgent: "dirgate-apiclient", maxRetries: DefaultMaxRetries}
	for _, opt := range opts {
		opt(&o)
	}
	var hc http.Client
	if httpClient != nil {
		hc = *httpClient
	} else {
		hc.Timeout = DefaultTimeout
	}
	// A redirect could take the token to another origin, or from https to
	// http: the API never redirects, so a redirect is an answer.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	pool := o.rootCAs
	if o.caFile != "" {
		if pool, err = CertPoolFromFile(o.caFile); err != nil {
			return nil, err
		}
	}
	if pool != nil {
		var tr *http.Transport
		switch t := hc.Transport.(type) {
		case nil:
			tr = http.DefaultTransport.(*http.Transport).Clone()
		case *http.Transport:
			tr = t.Clone()
		default:
			return nil, fmt.Errorf("apiclient: a CA file needs the http.Client's Transport to be an *http.Transport, not %T", t)
		}
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		tr.TLSClientConfig.RootCAs = pool
		if tr.TLSClientConfig.MinVersion < tls.VersionTLS12 {
			tr.TLSClientConfig.MinVersion = tls.VersionTLS12
		}
		hc.Transport = tr
	}
	return &Client{base: base, token: token, hc: &hc, userAgent: o.userAgent, maxRetries: o.maxRetries,
		sleep: sleepCtx, now: time.Now}, nil
}

// CertPoolFromFile reads the PEM certificates of path into a new pool.
func CertPoolFromFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// parseBase checks a base URL and returns it without a trailing slash.
func parseBase(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		// Not quoted: a misplaced secret must not reach an error.
		return "", errors.New("server URL: want https://HOST[:PORT], with the scheme: the address the REST API's /api/v1 is below")
	}
	shown := u.Scheme + "://" + u.Host // no user information, path, query or fragment: a misplaced secret must not reach an error
	if u.Path != "" && u.Path != "/" {
		shown += "/…"
	}
	switch {
	case u.User != nil:
		return "", fmt.Errorf("server URL %s: a URL carries no credentials here (the API token goes in its own setting)", shown)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("server URL %s: want no query or fragment", shown)
	case strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1"):
		return "", fmt.Errorf("server URL %s: give the server's address without /api/v1 (it is added)", shown)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return "", fmt.Errorf("server URL %s: plain http would send the API token in clear over the network; use https (http only to a loopback address)", shown)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return strings.TrimSuffix(u.String(), "/"), nil
}

// redactURL is s without any user information (name and password: a
// token pasted there must not reach an error), for errors about a URL.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if u.User != nil {
			u.User = url.User("…")
		}
		return u.String()
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "…@" + s[i+1:]
		}
		return "…@" + s[i+1:]
	}
	return s
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkToken refuses a token that cannot go in a header. It never quotes
// the token.
func checkToken(token string) error {
	if token == "" {
		return errors.New("apiclient: no API token")
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c >= 0x7f {
			return errors.New("apiclient: the API token holds a space, a control or a non-ASCII character (is it the right file?)")
		}
	}
	return nil
}

// BaseURL is the server's address the Client calls.
func (c *Client) BaseURL() string { return c.base }

// String, GoString, Format and LogValue show the Client's server, never
// its token.
func (c *Client) String() string {
	if c == nil {
		return "apiclient.Client(nil)"
	}
	return "apiclient.Client(" + c.base + ")"
}

func (c *Client) GoString() string           { return c.String() }
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
func (c *Client) LogValue() slog.Value       { return slog.StringValue(c.String()) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// --- requests

// request is one call: path is escaped (see seg) and below /api/v1.
type request struct {
	method string
	path   string
	query  url.Values
	body   []byte // JSON, or nil
}

// seg escapes one path segment (an id, a login: "a/b" stays one segment).
func seg(s string) string { return url.PathEscape(s) }

// do sends r and decodes a JSON answer into out (nil: the answer is not
// read). It returns the answer's header.
func (c *Client) do(ctx context.Context, r request, out any) (http.Header, error) {
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		var body io.Reader
		if r.body != nil {
			body = bytes.NewReader(r.body)
		}
		req, err := http.NewRequestWithContext(ctx, r.method, target, body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
		req.Header.Set("Authorization", "SSWS "+c.token)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.userAgent)
		if r.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.hc.Do(req)
		if err != nil {
			return nil, transportError(r, err)
		}
		if res.StatusCode == http.StatusTooManyRequests && attempt < c.maxRetries {
			wait := retryWait(res.Header, c.now())
			drain(res)
			// The server refused before doing anything: sending again
			// is safe for any method.
			if err := c.sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s %s: waiting for the rate limit to reset: %w", r.method, r.path, err)
			}
			continue
		}
		defer res.Body.Close()
		return res.Header, c.answer(r, res, out)
	}
}

// transportError is a request that got no answer. *url.Error names the
// whole URL; the path is enough (the base is the user's own setting).
func transportError(r request, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", r.method, r.path, err)
}

func drain(res *http.Response) {
	io.Copy(io.Discard, io.LimitReader(res.Body, maxErrorBody))
	res.Body.Close()
}

// retryWait is how long to wait after a 429: until X-Rate-Limit-Reset
// (Unix seconds of the server's clock, read against its Date header), or
// Retry-After; at least a second, at most maxWait.
func retryWait(h http.Header, now time.Time) time.Duration {
	wait := time.Second
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	} else if reset, err := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64); err == nil {
		serverNow := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			serverNow = d
		}
		wait = time.Unix(reset, 0).Sub(serverNow) + time.Second // Date has whole seconds
	}
	return min(max(wait, time.Second), maxWait)
}

// answer reads res: success into out, anything else as an error.
func (c *Client) answer(r request, res *http.Response, out any) error {
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		if out == nil || res.StatusCode == http.StatusNoContent {
			return nil
		}
		if !isJSON(res.Header) {
			return fmt.Errorf("%s %s: the server answered %s, not JSON: is %s dirgate's REST API?", r.method, r.path, orUnknown(res.Header.Get("Content-Type")), c.base)
		}
		if err := json.NewDecoder(io.LimitReader(res.Body, maxBody)).Decode(out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", r.method, r.path, err)
		}
		return nil
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return fmt.Errorf("%s %s: the server redirected (%s) to %s; the API does not redirect: is %s the REST API's address?",
			r.method, r.path, res.Status, redactURL(res.Header.Get("Location")), c.base)
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	return newError(r.method, r.path, res.StatusCode, isJSON(res.Header), b)
}

func isJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func orUnknown(s string) string {
	if s == "" {
		return "without a Content-Type"
	}
	return s
}

// get, post, put and del are do for one method.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) (http.Header, error) {
	return c.do(ctx, request{method: http.MethodGet, path: path, query: q}, out)
}

func (c *Client) post(ctx context.Context, path string, q url.Values, in, out any) error {
	body, err := jsonBody(in)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{method: http.MethodPost, path: path, query: q, body: body}, out)
	return err
}

func (c *Client) put(ctx context.Context, path string, in, out any) error {
	body, err := jsonBody(in)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{method: http.MethodPut, path: path, body: body}, out)
	return err
}

func (c *Client) del(ctx context.Context, path string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: path}, nil)
	return err
}

// jsonBody encodes in (nil: no body).
func jsonBody(in any) ([]byte, error) {
	if in == nil {
		return nil, nil
	}
	if b, ok := in.([]byte); ok {
		return b, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("apiclient: encoding the request: %w", err)
	}
	return b, nil
}

// --- paging

// ListOptions select and page a list (users, groups).
type ListOptions struct {
	Q      string // Okta's q: a prefix of a name, login or email
	Filter string // Okta's filter expression
	Search string // Okta's search expression
	Limit  int    // page size (0: the server's default)
}

func (o *ListOptions) values() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	for k, v := range map[string]string{"q": o.Q, "filter": o.Filter, "search": o.Search} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// listAll reads every page of a list, following Link rel="next". Only the
// next link's query is used (the cursor, with the same selection): the
// request stays on the Client's own origin and path, whatever host or
// scheme the server (or a proxy in front of it) wrote in the link.
func listAll[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for {
		var page []T
		h, err := c.get(ctx, path, q, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		next := nextLink(h)
		if next == "" {
			return all, nil
		}
		u, err := url.Parse(next)
		if err != nil {
			return nil, fmt.Errorf("GET %s: the Link rel=\"next\" is not a URL: %w", path, err)
		}
		if seen[u.RawQuery] || len(page) == 0 {
			return nil, fmt.Errorf("GET %s: the Link rel=\"next\" does not advance (%s)", path, u.RawQuery)
		}
		seen[u.RawQuery] = true
		if q, err = url.ParseQuery(u.RawQuery); err != nil {
			return nil, fmt.Errorf("GET %s: the Link rel=\"next\" has a bad query: %w", path, err)
		}
	}
}

// nextLink returns the target of the Link header's rel="next", or "".
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, l := range splitLinks(v) {
			target, params, ok := strings.Cut(l, ">")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") {
				continue
			}
			for p := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for rel := range strings.FieldsSeq(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target[1:]
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header value at the commas between links (not
// those inside <…> or quotes).
func splitLinks(v string) []string {
	var out []string
	start, inURL, inQuote := 0, false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '<' && !inQuote:
			inURL = true
		case c == '>' && !inQuote:
			inURL = false
		case c == '"' && !inURL:
			inQuote = !inQuote
		case c == ',' && !inURL && !inQuote:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}
