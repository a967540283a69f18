package ldapserver_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

func plaintext(c *ldapserver.Config) { c.AllowPlaintext = true }

// ldapCode extracts the result code go-ldap reports.
func ldapCode(t *testing.T, err error) uint16 {
	t.Helper()
	var le *goldap.Error
	if !errors.As(err, &le) {
		t.Fatalf("want an LDAP error, got %v", err)
	}
	return le.ResultCode
}

func TestConfigValidate(t *testing.T) {
	cert, _ := selfSigned(t)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	b := newTestBackend()
	tests := []struct {
		name string
		cfg  ldapserver.Config
		want string // substring of the error; "" for valid
	}{
		{"defaults with TLS", ldapserver.Config{Backend: b, TLSConfig: tlsCfg}, ""},
		{"plaintext only", ldapserver.Config{Backend: b, AllowPlaintext: true}, ""},
		{"no backend", ldapserver.Config{TLSConfig: tlsCfg}, "Backend is required"},
		{"no TLS, no plaintext", ldapserver.Config{Backend: b}, "AllowPlaintext is off"},
		{"TLS without certificate", ldapserver.Config{Backend: b, TLSConfig: &tls.Config{}}, "no certificate"},
		{"TLS 1.1 max", ldapserver.Config{Backend: b, TLSConfig: &tls.Config{Certificates: tlsCfg.Certificates, MaxVersion: tls.VersionTLS11}}, "below TLS 1.2"},
		{"tiny messages", ldapserver.Config{Backend: b, AllowPlaintext: true, MaxMessageSize: 100}, "MaxMessageSize"},
		{"per-IP above total", ldapserver.Config{Backend: b, AllowPlaintext: true, MaxConnections: 10, MaxConnectionsPerIP: 20}, "exceeds MaxConnections"},
		{"unlimited connections", ldapserver.Config{Backend: b, AllowPlaintext: true, MaxConnections: -1, MaxConnectionsPerIP: -1}, ""},
		{"negative outstanding", ldapserver.Config{Backend: b, AllowPlaintext: true, MaxOutstandingOps: -1}, "MaxOutstandingOps"},
		{"negative page", ldapserver.Config{Backend: b, AllowPlaintext: true, MaxPageSize: -5}, "MaxPageSize"},
		{"negative search limit", ldapserver.Config{Backend: b, AllowPlaintext: true, SearchTimeLimit: -time.Second}, "SearchTimeLimit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestRequireTLS: without TLS everything but StartTLS is refused with
// confidentialityRequired; after StartTLS the same requests work.
func TestRequireTLS(t *testing.T) {
	ts := startServer(t, nil)
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.ConfidentialityRequired)
	rc.send(searchReq(2, "", 0))
	rc.expectResult(2, ldap.TagSearchResultDone, ldap.ConfidentialityRequired)
	rc.send(extendedReq(3, ldap.OIDWhoAmI))
	rc.expectResult(3, ldap.TagExtendedResponse, ldap.ConfidentialityRequired)

	rc.send(extendedReq(4, ldap.OIDStartTLS))
	r := rc.expectResult(4, ldap.TagExtendedResponse, ldap.Success)
	if r.Name != ldap.OIDStartTLS {
		t.Errorf("StartTLS responseName = %q", r.Name)
	}
	rc.startTLS(ts)
	rc.send(bindReq(5, 3, "cn=admin", "secret"))
	rc.expectResult(5, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(6, "", 0))
	if entries, done := rc.searchAll(6); len(entries) != 3 || done.Code != ldap.Success {
		t.Fatalf("after StartTLS: %d entries, %v", len(entries), done.Code)
	}

	// go-ldap sees the same refusal as an LDAP error 13.
	c, err := goldap.DialURL("ldap://" + ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind("cn=admin", "secret"); ldapCode(t, err) != goldap.LDAPResultConfidentialityRequired {
		t.Fatalf("plaintext bind: %v", err)
	}
}

// TestBindFirst: before a successful bind only StartTLS, Bind, Unbind and
// Abandon are allowed; an anonymous bind does not count.
func TestBindFirst(t *testing.T) {
	ts := startServer(t, nil)
	rc := dialRawTLS(t, ts)
	rc.send(searchReq(1, "", 0)) // RootDSE included
	rc.expectResult(1, ldap.TagSearchResultDone, ldap.InsufficientAccessRights)
	rc.send(compareReq(2, "cn=x", "a", "yes"))
	rc.expectResult(2, ldap.TagCompareResponse, ldap.InsufficientAccessRights)
	rc.send(bindReq(3, 3, "", ""))
	rc.expectResult(3, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(4, "", 0))
	rc.expectResult(4, ldap.TagSearchResultDone, ldap.InsufficientAccessRights)
	rc.send(bindReq(5, 3, "cn=admin", "secret"))
	rc.expectResult(5, ldap.TagBindResponse, ldap.Success)
	rc.send(compareReq(6, "cn=x", "a", "yes"))
	rc.expectResult(6, ldap.TagCompareResponse, ldap.CompareTrue)
	// A failed bind leaves the connection anonymous again.
	rc.send(bindReq(7, 3, "cn=admin", "wrong"))
	rc.expectResult(7, ldap.TagBindResponse, ldap.InvalidCredentials)
	rc.send(compareReq(8, "cn=x", "a", "yes"))
	rc.expectResult(8, ldap.TagCompareResponse, ldap.InsufficientAccessRights)
}

// TestPriorIdentity: during a bind, the session knows the identity the
// connection was bound as before (a search+bind client's service
// account), also after a failed bind in between.
func TestPriorIdentity(t *testing.T) {
	ts := startServer(t, nil)
	rc := dialRawTLS(t, ts)
	rc.send(bindReq(1, 3, "cn=prior", "x"))
	if r := rc.expectResult(1, ldap.TagBindResponse, ldap.InvalidCredentials); r.Diagnostic != "prior:none" {
		t.Fatalf("a first bind: %q", r.Diagnostic)
	}
	rc.send(bindReq(2, 3, "cn=admin", "secret"))
	rc.expectResult(2, ldap.TagBindResponse, ldap.Success)
	for id := int32(3); id <= 4; id++ {
		rc.send(bindReq(id, 3, "cn=prior", "x"))
		if r := rc.expectResult(id, ldap.TagBindResponse, ldap.InvalidCredentials); r.Diagnostic != "prior:cn=admin" {
			t.Fatalf("bind %d after cn=admin: %q", id, r.Diagnostic)
		}
	}
}

func TestBindResults(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name string
		req  []byte
		code ldap.ResultCode
	}{
		{"simple ok", bindReq(1, 3, "cn=admin", "secret"), ldap.Success},
		{"wrong password", bindReq(1, 3, "cn=admin", "nope"), ldap.InvalidCredentials},
		{"unknown user", bindReq(1, 3, "cn=nobody", "secret"), ldap.InvalidCredentials},
		{"anonymous", bindReq(1, 3, "", ""), ldap.Success},
		{"unauthenticated", bindReq(1, 3, "cn=admin", ""), ldap.UnwillingToPerform},
		{"empty name with password", bindReq(1, 3, "", "secret"), ldap.InvalidCredentials},
		{"LDAPv2", bindReq(1, 2, "cn=admin", "secret"), ldap.ProtocolError},
		{"SASL EXTERNAL", saslBindReq(1, "EXTERNAL"), ldap.AuthMethodNotSupported},
		{"SASL PLAIN", saslBindReq(1, "PLAIN"), ldap.AuthMethodNotSupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRawTLS(t, ts)
			rc.send(tc.req)
			r := rc.expectResult(1, ldap.TagBindResponse, tc.code)
			if tc.code == ldap.InvalidCredentials && r.Diagnostic != "The credentials provided were invalid." {
				t.Errorf("diagnostic %q", r.Diagnostic)
			}
		})
	}
}

// TestGoLDAPClient runs the common client path with go-ldap: StartTLS,
// bind, search, compare, WhoAmI, paging.
func TestGoLDAPClient(t *testing.T) {
	ts := startServer(t, nil)
	c, err := goldap.DialURL("ldap://" + ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(ts.clientTLS()); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind("cn=admin", "secret"); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(goldap.NewSearchRequest("dc=x", goldap.ScopeWholeSubtree, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 3 || res.Entries[0].GetAttributeValue("cn") != "e1" {
		t.Fatalf("search: %d entries", len(res.Entries))
	}
	if ok, err := c.Compare("cn=x", "a", "yes"); err != nil || !ok {
		t.Fatalf("compare: %v %v", ok, err)
	}
	who, err := c.WhoAmI(nil)
	if err != nil || who.AuthzID != "dn:cn=admin" {
		t.Fatalf("whoami: %+v %v", who, err)
	}
	res, err = c.SearchWithPaging(goldap.NewSearchRequest("ou=many", goldap.ScopeWholeSubtree, 0, 0, 0, false, "(objectClass=*)", nil, nil), 300)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range res.Entries {
		seen[e.DN] = true
	}
	if len(res.Entries) != manyEntries || len(seen) != manyEntries {
		t.Fatalf("paged search: %d entries, %d distinct, want %d", len(res.Entries), len(seen), manyEntries)
	}
	_, err = c.Search(goldap.NewSearchRequest("cn=missing", goldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	if ldapCode(t, err) != goldap.LDAPResultNoSuchObject {
		t.Fatalf("missing base: %v", err)
	}
}

func TestStartTLSSequencing(t *testing.T) {
	ts := startServer(t, nil)

	t.Run("second StartTLS", func(t *testing.T) {
		rc := dialRaw(t, ts.addr)
		rc.send(extendedReq(1, ldap.OIDStartTLS))
		rc.expectResult(1, ldap.TagExtendedResponse, ldap.Success)
		rc.startTLS(ts)
		rc.send(extendedReq(2, ldap.OIDStartTLS))
		rc.expectResult(2, ldap.TagExtendedResponse, ldap.OperationsError)
		// The connection still works over TLS.
		rc.send(bindReq(3, 3, "cn=admin", "secret"))
		rc.expectResult(3, ldap.TagBindResponse, ldap.Success)
	})
	t.Run("StartTLS on ldaps", func(t *testing.T) {
		rc := dialRawTLS(t, ts)
		rc.send(extendedReq(1, ldap.OIDStartTLS))
		rc.expectResult(1, ldap.TagExtendedResponse, ldap.OperationsError)
	})
	t.Run("operation outstanding", func(t *testing.T) {
		ts := startServer(t, func(c *ldapserver.Config) { c.AllowPlaintext = true })
		rc := dialRaw(t, ts.addr)
		rc.send(bindReq(1, 3, "cn=admin", "secret"))
		rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
		rc.send(searchReq(2, "cn=block", 0))
		<-ts.backend.started
		rc.send(extendedReq(3, ldap.OIDStartTLS))
		rc.expectResult(3, ldap.TagExtendedResponse, ldap.OperationsError)
		rc.send(abandonReq(4, 2))
		if err := <-ts.backend.ctxEnded; !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned search ctx: %v", err)
		}
		// Once nothing is outstanding StartTLS works.
		rc.send(extendedReq(5, ldap.OIDStartTLS))
		rc.expectResult(5, ldap.TagExtendedResponse, ldap.Success)
		rc.startTLS(ts)
		rc.send(compareReq(6, "cn=x", "a", "no"))
		rc.expectResult(6, ldap.TagCompareResponse, ldap.CompareFalse)
	})
	t.Run("no TLS configured", func(t *testing.T) {
		ts := startServer(t, func(c *ldapserver.Config) { c.AllowPlaintext, c.TLSConfig = true, nil })
		rc := dialRaw(t, ts.addr)
		rc.send(extendedReq(1, ldap.OIDStartTLS))
		rc.expectResult(1, ldap.TagExtendedResponse, ldap.ProtocolError)
	})
	t.Run("failed handshake closes", func(t *testing.T) {
		rc := dialRaw(t, ts.addr)
		rc.send(extendedReq(1, ldap.OIDStartTLS))
		rc.expectResult(1, ldap.TagExtendedResponse, ldap.Success)
		rc.send([]byte("this is not a TLS ClientHello at all......"))
		rc.expectClosed()
	})
}

func TestUnsupportedOperations(t *testing.T) {
	ts := startServer(t, plaintext)
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	rc.send(deleteReq(2, "cn=x"))
	r := rc.expectResult(2, ldap.TagDelResponse, ldap.UnwillingToPerform)
	if !strings.Contains(r.Diagnostic, "read-only") {
		t.Errorf("diagnostic %q", r.Diagnostic)
	}
	rc.send(extendedReq(3, "1.2.3.4.999"))
	rc.expectResult(3, ldap.TagExtendedResponse, ldap.ProtocolError)
	rc.send(extendedReq(4, ldap.OIDWhoAmI))
	if r := rc.expectResult(4, ldap.TagExtendedResponse, ldap.Success); string(r.Value) != "dn:cn=admin" {
		t.Errorf("whoami value %q", r.Value)
	}
}

func TestCriticalControls(t *testing.T) {
	ts := startServer(t, plaintext)
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	tests := []struct {
		name string
		req  func(id int32) []byte
		tag  ber.Tag
		code ldap.ResultCode
	}{
		{"unknown critical", func(id int32) []byte { return searchReq(id, "", 0, ctl{oid: "1.9.9.9", critical: true}) }, ldap.TagSearchResultDone, ldap.UnavailableCriticalExtension},
		{"unknown non-critical", func(id int32) []byte { return searchReq(id, "", 0, ctl{oid: "1.9.9.9"}) }, ldap.TagSearchResultDone, ldap.Success},
		{"backend critical", func(id int32) []byte { return searchReq(id, "", 0, ctl{oid: "1.2.3.4.5", critical: true}) }, ldap.TagSearchResultDone, ldap.Success},
		{"paged critical", func(id int32) []byte {
			c := pagedCtl(10, nil)
			c.critical = true
			return searchReq(id, "", 0, c)
		}, ldap.TagSearchResultDone, ldap.Success},
		{"paged on compare", func(id int32) []byte {
			c := pagedCtl(10, nil)
			c.critical = true
			return message(id, func(e *ber.Encoder) {
				e.Begin(ldap.TagCompareRequest)
				e.String(ber.TagOctetString, "cn=x")
				e.Begin(ber.TagSequence)
				e.String(ber.TagOctetString, "a")
				e.String(ber.TagOctetString, "yes")
				e.End()
				e.End()
			}, c)
		}, ldap.TagCompareResponse, ldap.UnavailableCriticalExtension},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := int32(10 + i)
			rc.send(tc.req(id))
			for {
				r := rc.mustRead()
				if r.Tag == ldap.TagSearchResultEntry {
					continue
				}
				if r.ID != id || r.Tag != tc.tag || r.Code != tc.code {
					t.Fatalf("got %d %#x %v (%s)", r.ID, byte(r.Tag), r.Code, r.Diagnostic)
				}
				break
			}
		})
	}
}

func TestPaging(t *testing.T) {
	ts := startServer(t, func(c *ldapserver.Config) { c.AllowPlaintext = true; c.MaxPageSize = 400 })
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)

	// Pages of 1000 asked, 400 given (MaxPageSize); all entries, once each.
	seen := map[string]bool{}
	var cookie []byte
	pages := 0
	for id := int32(2); ; id++ {
		rc.send(searchReq(id, "ou=many", 0, pagedCtl(1000, cookie)))
		entries, done := rc.searchAll(id)
		if done.Code != ldap.Success || !done.HasPaged {
			t.Fatalf("page %d: %v %q paged=%v", pages, done.Code, done.Diagnostic, done.HasPaged)
		}
		if len(entries) > 400 {
			t.Fatalf("page of %d entries above MaxPageSize", len(entries))
		}
		for _, dn := range entries {
			if seen[dn] {
				t.Fatalf("entry %s sent twice", dn)
			}
			seen[dn] = true
		}
		pages++
		cookie = done.Cookie
		if len(cookie) == 0 {
			break
		}
		if len(cookie) < 16 {
			t.Fatalf("cookie of %d octets is guessable", len(cookie))
		}
	}
	if len(seen) != manyEntries || pages != 7 {
		t.Fatalf("%d entries in %d pages, want %d in 7", len(seen), pages, manyEntries)
	}

	// Page size 0 with a cookie abandons: the cookie is then unknown.
	rc.send(searchReq(100, "ou=many", 0, pagedCtl(10, nil)))
	entries, done := rc.searchAll(100)
	if len(entries) != 10 || len(done.Cookie) == 0 {
		t.Fatalf("first page: %d entries, cookie %x", len(entries), done.Cookie)
	}
	rc.send(searchReq(101, "ou=many", 0, pagedCtl(0, done.Cookie)))
	entries, d2 := rc.searchAll(101)
	if len(entries) != 0 || d2.Code != ldap.Success || len(d2.Cookie) != 0 {
		t.Fatalf("abandon page: %d entries, %v, cookie %x", len(entries), d2.Code, d2.Cookie)
	}
	rc.send(searchReq(102, "ou=many", 0, pagedCtl(10, done.Cookie)))
	if _, d3 := rc.searchAll(102); d3.Code != ldap.UnwillingToPerform || !strings.Contains(d3.Diagnostic, "cookie") {
		t.Fatalf("reused cookie: %v %q", d3.Code, d3.Diagnostic)
	}
	rc.send(searchReq(103, "ou=many", 0, pagedCtl(10, []byte("forged-cookie-0123456789"))))
	if _, d4 := rc.searchAll(103); d4.Code != ldap.UnwillingToPerform {
		t.Fatalf("forged cookie: %v", d4.Code)
	}

	// The client's sizeLimit bounds the whole paged search.
	var total int
	cookie = nil
	for id := int32(200); ; id++ {
		rc.send(searchReq(id, "ou=many", 25, pagedCtl(10, cookie)))
		entries, done := rc.searchAll(id)
		total += len(entries)
		if done.Code == ldap.SizeLimitExceeded {
			break
		}
		if done.Code != ldap.Success || len(done.Cookie) == 0 {
			t.Fatalf("sized paging: %v cookie %x after %d", done.Code, done.Cookie, total)
		}
		cookie = done.Cookie
	}
	if total != 25 {
		t.Fatalf("sized paging returned %d entries, want 25", total)
	}

	// A bind drops suspended searches (they ran as another identity).
	rc.send(searchReq(300, "ou=many", 0, pagedCtl(10, nil)))
	_, done = rc.searchAll(300)
	rc.send(bindReq(301, 3, "cn=admin", "secret"))
	rc.expectResult(301, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(302, "ou=many", 0, pagedCtl(10, done.Cookie)))
	if _, d := rc.searchAll(302); d.Code != ldap.UnwillingToPerform {
		t.Fatalf("cookie across a bind: %v", d.Code)
	}
}

func TestSizeLimit(t *testing.T) {
	ts := startServer(t, plaintext)
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	tests := []struct {
		base      string
		sizeLimit int
		entries   int
		code      ldap.ResultCode
	}{
		{"ou=many", 0, 1000, ldap.SizeLimitExceeded},
		{"ou=many", 5000, 1000, ldap.SizeLimitExceeded},
		{"ou=many", 10, 10, ldap.SizeLimitExceeded},
		{"dc=x", 3, 3, ldap.Success}, // exactly as many as exist
		{"dc=x", 0, 3, ldap.Success},
	}
	for i, tc := range tests {
		id := int32(10 + i)
		rc.send(searchReq(id, tc.base, tc.sizeLimit))
		entries, done := rc.searchAll(id)
		if len(entries) != tc.entries || done.Code != tc.code {
			t.Errorf("%s sizeLimit %d: %d entries, %v; want %d, %v", tc.base, tc.sizeLimit, len(entries), done.Code, tc.entries, tc.code)
		}
	}
}

func TestSearchTimeLimit(t *testing.T) {
	ts := startServer(t, func(c *ldapserver.Config) { c.AllowPlaintext = true; c.SearchTimeLimit = time.Millisecond })
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(2, "cn=block", 0))
	rc.expectResult(2, ldap.TagSearchResultDone, ldap.TimeLimitExceeded)
	if err := <-ts.backend.ctxEnded; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("backend ctx ended with %v", err)
	}
}

// TestAbandon: the backend's context is cancelled and the abandoned
// operation sends nothing more.
func TestAbandon(t *testing.T) {
	ts := startServer(t, plaintext)
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(2, "cn=block", 0))
	<-ts.backend.started
	rc.send(abandonReq(3, 2))
	if err := <-ts.backend.ctxEnded; !errors.Is(err, context.Canceled) {
		t.Fatalf("backend ctx ended with %v", err)
	}
	rc.send(abandonReq(4, 999)) // unknown: ignored
	rc.send(compareReq(5, "cn=x", "a", "yes"))
	// The next message must be the compare's: nothing for 2, 3 or 4.
	rc.expectResult(5, ldap.TagCompareResponse, ldap.CompareTrue)
	// The abandoned ID is free again.
	rc.send(compareReq(2, "cn=x", "a", "no"))
	rc.expectResult(2, ldap.TagCompareResponse, ldap.CompareFalse)
}

func TestUnbindCloses(t *testing.T) {
	ts := startServer(t, plaintext)
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(2, "cn=block", 0))
	<-ts.backend.started
	rc.send(unbindReq(3))
	rc.expectClosed()
	// Unbind abandons what was running.
	if err := <-ts.backend.ctxEnded; !errors.Is(err, context.Canceled) {
		t.Fatalf("backend ctx ended with %v", err)
	}
}

func TestDuplicateMessageID(t *testing.T) {
	ts := startServer(t, plaintext)
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(2, "cn=block", 0))
	<-ts.backend.started
	rc.send(searchReq(2, "dc=x", 0))
	r := rc.expectResult(0, ldap.TagExtendedResponse, ldap.ProtocolError)
	if r.Name != ldap.OIDNoticeOfDisconnection {
		t.Fatalf("notice name %q", r.Name)
	}
	rc.expectClosed()
}

func TestMaxConnections(t *testing.T) {
	tests := []struct {
		name       string
		total, per int
	}{
		{"total", 2, -1},
		{"per IP", 10, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, func(c *ldapserver.Config) {
				c.AllowPlaintext, c.MaxConnections, c.MaxConnectionsPerIP = true, tc.total, tc.per
			})
			var open []*rawClient
			for i := 0; i < 2; i++ {
				rc := dialRaw(t, ts.addr)
				rc.send(bindReq(1, 3, "cn=admin", "secret"))
				rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
				open = append(open, rc)
			}
			rc := dialRaw(t, ts.addr)
			r := rc.expectResult(0, ldap.TagExtendedResponse, ldap.Busy)
			if r.Name != ldap.OIDNoticeOfDisconnection {
				t.Fatalf("refusal is not a notice of disconnection: %+v", r)
			}
			rc.expectClosed()
			// Closing one makes room.
			open[0].send(unbindReq(2))
			open[0].expectClosed()
			for {
				rc := dialRaw(t, ts.addr)
				rc.send(bindReq(1, 3, "cn=admin", "secret"))
				r, err := rc.read()
				if err != nil {
					t.Fatal(err)
				}
				if r.Code == ldap.Busy { // the server had not yet forgotten the closed one
					continue
				}
				if r.Code != ldap.Success {
					t.Fatalf("after a close: %v", r.Code)
				}
				break
			}
		})
	}
}

func TestMaxOutstandingOps(t *testing.T) {
	ts := startServer(t, func(c *ldapserver.Config) { c.AllowPlaintext = true; c.MaxOutstandingOps = 2 })
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(2, "cn=block", 0))
	rc.send(searchReq(3, "cn=block", 0))
	<-ts.backend.started
	<-ts.backend.started
	rc.send(searchReq(4, "dc=x", 0))
	rc.expectResult(4, ldap.TagSearchResultDone, ldap.Busy)
	rc.send(abandonReq(5, 2))
	<-ts.backend.ctxEnded
	// Room again once the abandoned one has gone.
	for id := int32(6); ; id++ {
		rc.send(compareReq(id, "cn=x", "a", "yes"))
		r := rc.mustRead()
		if r.Code == ldap.Busy {
			continue
		}
		if r.ID != id || r.Code != ldap.CompareTrue {
			t.Fatalf("got %+v", r)
		}
		break
	}
}

// TestHostileClients: an oversized message, garbage, a bad request and a
// truncated message each end only their own connection, with a Notice of
// Disconnection where the stream was readable, while another client keeps
// working.
func TestHostileClients(t *testing.T) {
	ts := startServer(t, func(c *ldapserver.Config) { c.AllowPlaintext = true; c.MaxMessageSize = 2048 })
	good := dialRaw(t, ts.addr)
	good.send(bindReq(1, 3, "cn=admin", "secret"))
	good.expectResult(1, ldap.TagBindResponse, ldap.Success)

	big := searchReq(1, strings.Repeat("x", 4000), 0)
	tests := []struct {
		name   string
		send   []byte
		notice string // diagnostic substring; "" when no notice is expected
		close  bool   // client closes after sending
	}{
		{"oversized", big, "maximum message size of 2048", false},
		{"oversized header only", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, "maximum message size", false},
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "malformed", false},
		{"indefinite length", []byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00}, "malformed", false},
		{"not a request", []byte{0x30, 0x05, 0x02, 0x01, 0x01, 0x61, 0x00}, "", false},
		{"truncated then gone", big[:100], "", true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRaw(t, ts.addr)
			rc.send(tc.send)
			if tc.close {
				rc.nc.Close()
			} else {
				r := rc.mustRead()
				if r.ID != 0 || r.Name != ldap.OIDNoticeOfDisconnection || r.Code != ldap.ProtocolError {
					t.Fatalf("want a protocolError notice of disconnection, got %+v", r)
				}
				if !strings.Contains(r.Diagnostic, tc.notice) {
					t.Fatalf("notice diagnostic %q lacks %q", r.Diagnostic, tc.notice)
				}
				rc.expectClosed()
			}
			id := int32(100 + i)
			good.send(searchReq(id, "dc=x", 0))
			if entries, done := good.searchAll(id); len(entries) != 3 || done.Code != ldap.Success {
				t.Fatalf("other client: %d entries, %v", len(entries), done.Code)
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *ldapserver.Config) { c.AllowPlaintext = true; c.IdleTimeout = 20 * time.Millisecond })
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	rc.expectClosed()
}

// TestReadTimeout: a request that has begun to arrive must arrive in full
// within ReadTimeout (slowloris is disconnected long before the idle
// timeout), while a connection waiting between requests, and a request
// sent in two parts within the bound, are served.
func TestReadTimeout(t *testing.T) {
	ts := startServer(t, func(c *ldapserver.Config) { c.AllowPlaintext = true; c.ReadTimeout = 300 * time.Millisecond })
	rc := dialRaw(t, ts.addr)
	bind := bindReq(1, 3, "cn=admin", "secret")
	rc.send(bind[:5])
	time.Sleep(50 * time.Millisecond)
	rc.send(bind[5:])
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	time.Sleep(500 * time.Millisecond) // idle between requests: no read timeout
	rc.send(compareReq(2, "cn=x", "cn", "yes"))
	rc.expectResult(2, ldap.TagCompareResponse, ldap.CompareTrue)

	slow := dialRaw(t, ts.addr)
	slow.nc.SetReadDeadline(time.Now().Add(10 * time.Second)) // the idle timeout (5 min) would not end it
	for _, b := range bindReq(1, 3, "cn=admin", "secret")[:4] {
		slow.send([]byte{b})
		time.Sleep(50 * time.Millisecond)
	}
	slow.expectClosed()
}

// TestShutdownGraceful: idle connections get a Notice of Disconnection
// (unavailable) at once; a running operation finishes and is answered
// before its connection is closed; Serve returns ErrServerClosed.
func TestShutdownGraceful(t *testing.T) {
	ts := startServer(t, plaintext)
	idle := dialRaw(t, ts.addr)
	idle.send(bindReq(1, 3, "cn=admin", "secret"))
	idle.expectResult(1, ldap.TagBindResponse, ldap.Success)
	busy := dialRaw(t, ts.addr)
	busy.send(bindReq(1, 3, "cn=admin", "secret"))
	busy.expectResult(1, ldap.TagBindResponse, ldap.Success)
	busy.send(searchReq(2, "cn=hold", 0))
	<-ts.backend.started

	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- ts.srv.Shutdown(context.Background()) }()

	r := idle.mustRead()
	if r.Name != ldap.OIDNoticeOfDisconnection || r.Code != ldap.Unavailable {
		t.Fatalf("idle connection got %+v", r)
	}
	idle.expectClosed()
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		// The listener may still accept in the kernel backlog race; a
		// refused or immediately closed connection are both fine.
		t.Log("dial after shutdown connected")
	}

	close(ts.backend.release)
	entries, done := busy.searchAll(2)
	if len(entries) != 1 || done.Code != ldap.Success {
		t.Fatalf("in-flight search: %d entries, %v", len(entries), done.Code)
	}
	r = busy.mustRead()
	if r.Name != ldap.OIDNoticeOfDisconnection || r.Code != ldap.Unavailable {
		t.Fatalf("busy connection then got %+v", r)
	}
	busy.expectClosed()
	if err := <-shutdownErr; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := <-ts.serveErr; !errors.Is(err, ldapserver.ErrServerClosed) {
			t.Fatalf("Serve returned %v", err)
		}
	}
}

// TestShutdownDeadline: an operation that outlives the deadline is
// cancelled and Shutdown reports the deadline.
func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, plaintext)
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", "secret"))
	rc.expectResult(1, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(2, "cn=block", 0))
	<-ts.backend.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-ts.backend.ctxEnded; !errors.Is(err, context.Canceled) {
		t.Fatalf("backend ctx: %v", err)
	}
	rc.expectClosed()
}

func TestMetricsAndLogs(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	var mu sync.Mutex
	ts := startServer(t, func(c *ldapserver.Config) {
		c.AllowPlaintext = true
		c.Registerer = reg
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	const secret = "hunter2-Very-Secret"
	rc := dialRaw(t, ts.addr)
	rc.send(bindReq(1, 3, "cn=admin", secret))
	rc.expectResult(1, ldap.TagBindResponse, ldap.InvalidCredentials)
	rc.send(bindReq(2, 3, "cn=admin", "secret"))
	rc.expectResult(2, ldap.TagBindResponse, ldap.Success)
	rc.send(searchReq(3, "dc=x", 0, ctl{oid: "1.2.3", critical: true, value: []byte(secret)}))
	rc.expectResult(3, ldap.TagSearchResultDone, ldap.UnavailableCriticalExtension)
	rc.send(unbindReq(4))
	rc.expectClosed()
	ts.srv.Shutdown(context.Background())

	for _, tc := range []struct {
		op, result string
		want       float64
	}{
		{"bind", "invalidCredentials", 1},
		{"bind", "success", 1},
		{"search", "unavailableCriticalExtension", 1},
	} {
		got := testutil.ToFloat64(counterFor(t, reg, tc.op, tc.result))
		if got != tc.want {
			t.Errorf("ldap_operations_total{op=%q,result=%q} = %v, want %v", tc.op, tc.result, got, tc.want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "ldap_connections_total", "ldap_disconnects_total", "ldap_connections_open", "ldap_operation_duration_seconds"); err != nil || n == 0 {
		t.Errorf("connection metrics: %d series, %v", n, err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Contains(out, secret) {
		t.Fatalf("a credential reached the logs:\n%s", out)
	}
	if !strings.Contains(out, "ldap connection closed") || !strings.Contains(out, "reason=unbind") {
		t.Errorf("connection close not logged:\n%s", out)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// counterFor returns the registered ldap_operations_total child.
func counterFor(t *testing.T, reg *prometheus.Registry, op, result string) prometheus.Collector {
	t.Helper()
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ldap_operations_total", Help: "LDAP operations answered, by operation and result code."}, []string{"op", "result"})
	if err := reg.Register(vec); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector.(*prometheus.CounterVec).WithLabelValues(op, result)
		}
		t.Fatal(err)
	}
	t.Fatal("ldap_operations_total was not registered")
	return nil
}
