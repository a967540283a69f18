package apiclient

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

const testToken = "00abcdefghijABCDEFGHIJ0123456789klmnopqrst"

func testClient(t *testing.T, url string, opts ...Option) (*Client, *[]time.Duration) {
	t.Helper()
	c, err := New(url, testToken, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return c, &waits
}

// TestRetryOn429: a call refused for the rate limit is sent again, body
// and all, after the window's reset; past WithMaxRetries the 429 is the
// error.
func TestRetryOn429(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	refuse := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		if r.Header.Get("Authorization") != "SSWS "+testToken {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		if len(bodies) <= refuse {
			w.Header().Set("Date", "Mon, 01 Jun 2026 10:00:20 GMT")
			w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Date(2026, 6, 1, 10, 1, 0, 0, time.UTC).Unix(), 10))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorCauses":[]}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"00g1","profile":{"name":"ops"}}`)
	}))
	defer srv.Close()
	c, waits := testClient(t, srv.URL)
	g, err := c.CreateGroup(context.Background(), "ops", "")
	if err != nil || g.Name != "ops" {
		t.Fatalf("CreateGroup: %+v %v", g, err)
	}
	if len(bodies) != 3 || bodies[0] != bodies[2] || !strings.Contains(bodies[0], `"name":"ops"`) {
		t.Errorf("bodies sent: %q", bodies)
	}
	if len(*waits) != 2 || (*waits)[0] != 41*time.Second {
		t.Errorf("waits %v, want 41s (reset at :01:00, server clock :00:20, one second to spare)", *waits)
	}

	refuse, bodies = 10, nil
	c, _ = testClient(t, srv.URL, WithMaxRetries(1))
	_, err = c.CreateGroup(context.Background(), "ops", "")
	if directory.CodeOf(err) != directory.CodeThrottled || len(bodies) != 2 || !IsStatus(err, 429) {
		t.Errorf("past the retries: %v after %d calls", err, len(bodies))
	}
}

func TestRetryWait(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{h(), time.Second},
		{h("Retry-After", "5"), 5 * time.Second},
		{h("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(10*time.Second).Unix(), 10)), 11 * time.Second},
		{h("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)), time.Second},
		{h("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(time.Hour).Unix(), 10)), maxWait},
	} {
		if got := retryWait(tc.h, now); got != tc.want {
			t.Errorf("retryWait(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

// TestNoRedirect: a redirect is not followed (it could take the token to
// another origin, or to plain http).
func TestNoRedirect(t *testing.T) {
	var elsewhere int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere++ }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/api/v1/users?token=x", http.StatusFound)
	}))
	defer srv.Close()
	c, _ := testClient(t, srv.URL)
	_, err := c.ListUsers(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "redirected") || elsewhere != 0 {
		t.Errorf("redirect: %v, %d requests elsewhere", err, elsewhere)
	}
}

// TestNextLinkStaysHome: a page's next link is read for its cursor; the
// next request goes to the Client's own server whatever host the link
// names.
func TestNextLinkStaysHome(t *testing.T) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Query().Get("after") {
		case "":
			w.Header().Add("Link", `<http://evil.example/api/v1/users?limit=1>; rel="self"`)
			w.Header().Add("Link", `<http://evil.example/api/v1/users?after=00u1&limit=1>; rel="next"`)
			io.WriteString(w, `[{"id":"00u1","profile":{"login":"a"}}]`)
		case "00u1":
			w.Header().Set("Link", `<https://x/api/v1/users?after=00u1,2&limit=1>; rel="self", <https://x/api/v1/users?after=00u2&limit=1>; rel="next"`)
			io.WriteString(w, `[{"id":"00u2","profile":{"login":"b"}}]`)
		default:
			io.WriteString(w, `[]`)
		}
	}))
	defer srv.Close()
	c, _ := testClient(t, srv.URL)
	us, err := c.ListUsers(context.Background(), &ListOptions{Limit: 1})
	if err != nil || len(us) != 2 || us[1].Login() != "b" {
		t.Fatalf("ListUsers: %v %v", us, err)
	}
	if len(queries) != 3 || queries[1] != "after=00u1&limit=1" {
		t.Errorf("queries %q", queries)
	}
}

func TestNextLinkParsing(t *testing.T) {
	for _, tc := range []struct{ v, want string }{
		{`<https://a/x?after=1>; rel="next"`, "https://a/x?after=1"},
		{`<https://a/x>; rel="self", <https://a/x?after=2>; rel=next`, "https://a/x?after=2"},
		{`<https://a/x?q=a,b>; rel="self";title="x, y", <https://a/y>; rel="prev next"`, "https://a/y"},
		{`<https://a/x>; rel="self"`, ""},
		{`garbage`, ""},
	} {
		h := http.Header{}
		h.Add("Link", tc.v)
		if got := nextLink(h); got != tc.want {
			t.Errorf("nextLink(%s) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestNotDirgate: answers that are not dirgate's (a proxy's page, another
// service) are errors that say so, without their bodies.
func TestNotDirgate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/groups" {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>hello</html>")
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>bad gateway</html>")
	}))
	defer srv.Close()
	c, _ := testClient(t, srv.URL)
	_, err := c.ListUsers(context.Background(), nil)
	if directory.CodeOf(err) != directory.CodeUnavailable || strings.Contains(err.Error(), "html") || !IsStatus(err, 502) {
		t.Errorf("502: %v", err)
	}
	_, err = c.ListGroups(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("HTML 200: %v", err)
	}
}

// TestErrorMapping: each of the server's answers back to its domain code
// and message.
func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		status  int
		code    string
		summary string
		causes  []string
		want    directory.Code
		message string
		field   string
	}{
		{404, CodeNotFound, "Not found: Resource not found: no user \"x\" in org a", nil, directory.CodeNotFound, `no user "x" in org a`, ""},
		{400, CodeValidation, "Api validation failed: login", []string{"login: An object with this field already exists in the current organization: a user with login x already exists in this org"},
			directory.CodeConflict, "a user with login x already exists in this org", "login"},
		{400, CodeValidation, "Api validation failed: credentials.password", []string{"credentials.password: too short"}, directory.CodeInvalid, "too short", "credentials.password"},
		{400, CodeValidation, "Api validation failed", []string{"cannot suspend user x"}, directory.CodeInvalid, "cannot suspend user x", ""},
		{400, CodeBadJSON, "The request body was not well-formed: it is empty", nil, directory.CodeInvalid, "The request body was not well-formed: it is empty", ""},
		{403, CodeForbidden, "You do not have permission", nil, directory.CodeForbidden, "You do not have permission", ""},
		{403, CodeCredentials, "Update of credentials failed", []string{"The credentials provided were invalid."}, directory.CodeInvalidCredentials, "The credentials provided were invalid.", ""},
		{403, CodeFactorCode, "Invalid Passcode/Answer", []string{"Your passcode doesn't match our records. Please try again."}, directory.CodeInvalidCredentials,
			"Invalid Passcode/Answer: Your passcode doesn't match our records. Please try again.", ""},
		{401, CodeInvalidToken, "Invalid token provided", nil, directory.CodeInvalidCredentials, "Invalid token provided", ""},
		{429, CodeRateLimit, "API call exceeded rate limit due to too many requests.", nil, directory.CodeThrottled, "API call exceeded rate limit due to too many requests.", ""},
		{503, CodeUnavailable, "the store is busy", nil, directory.CodeUnavailable, "the store is busy", ""},
		{500, CodeInternal, "Internal Server Error", nil, directory.CodeInternal, "Internal Server Error", ""},
		{405, CodeMethod, "The endpoint does not support the provided HTTP method: PATCH", nil, directory.CodeInvalid, "The endpoint does not support the provided HTTP method: PATCH", ""},
	} {
		w := map[string]any{"errorCode": tc.code, "errorSummary": tc.summary, "errorId": "oae1", "errorCauses": []map[string]string{}}
		for _, c := range tc.causes {
			w["errorCauses"] = append(w["errorCauses"].([]map[string]string), map[string]string{"errorSummary": c})
		}
		b, _ := json.Marshal(w)
		e := newError("GET", "/api/v1/x", tc.status, true, b)
		d := e.Domain()
		if d.Code != tc.want || d.Message != tc.message || d.Field != tc.field {
			t.Errorf("%s %q: %v %q field %q, want %v %q field %q", tc.code, tc.summary, d.Code, d.Message, d.Field, tc.want, tc.message, tc.field)
		}
		if (tc.status >= 500) != (d.Reason != "") {
			t.Errorf("%s: reason %q", tc.code, d.Reason)
		}
	}
}

// TestWithPassword: the hand-written JSON is valid and carries the
// password exactly.
func TestWithPassword(t *testing.T) {
	for _, pw := range []string{"plain", `q"uote\back`, "ctl\x01\x1f\ttab\nnl", "ünï©ødé ✓", "</script>&"} {
		for _, rest := range []string{"{}", `{"profile":{"login":"a"}}`} {
			b, err := withPassword([]byte(rest), []byte(pw))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Credentials struct{ Password struct{ Value string } }
				Profile     map[string]string
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%q: %s: %v", pw, b, err)
			}
			if got.Credentials.Password.Value != pw || (rest != "{}" && got.Profile["login"] != "a") {
				t.Errorf("%q with %s: %s", pw, rest, b)
			}
		}
	}
	if _, err := withPassword([]byte("{}"), []byte{0xc3}); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}
