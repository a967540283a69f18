package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/dirgate/dirgate/internal/api"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/totp"
)

// The API's OpenAPI description (openapi.yaml) is checked against the
// server: every route the package registers must be described (and every
// described operation registered), and real calls, covering every route
// and the main error statuses, must be requests and answers the
// description allows.

// openAPIPath is where routes.go serves the description (without a token).
const openAPIPath = "/api/v1/openapi.yaml"

// spec is the loaded, validated description and its router.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	// Route on paths alone: the test server is not the documented host.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("routing openapi.yaml: %v", err)
	}
	return &spec{doc: doc, router: router}
}

// --- routes registered in the package's source

var (
	routeRE = regexp.MustCompile(`s\.(?:handle|mux\.HandleFunc|mux\.Handle)\(\s*"([A-Z]+) (/[^"]*)"`)
	paramRE = regexp.MustCompile(`\{[^}]*\}`)
)

// normPath makes a ServeMux pattern's path and an OpenAPI path comparable:
// every {name} (and {name...}) becomes {}; a trailing {$} goes.
func normPath(p string) string {
	return paramRE.ReplaceAllString(strings.TrimSuffix(p, "{$}"), "{}")
}

// sourceRoutes reads the "METHOD /path" patterns the package registers,
// from its non-test source files, as "METHOD normalized-path" -> where.
func sourceRoutes(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range routeRE.FindAllSubmatchIndex(src, -1) {
			line := 1 + bytes.Count(src[:m[0]], []byte("\n"))
			key := string(src[m[2]:m[3]]) + " " + normPath(string(src[m[4]:m[5]]))
			out[key] = fmt.Sprintf("%s:%d", name, line)
		}
	}
	if len(out) == 0 {
		t.Fatal("found no routes in the package's source: has the registration changed shape?")
	}
	return out
}

// specOperations is every operation the description has, as "METHOD
// normalized-path" -> its OpenAPI path.
func (s *spec) operations() map[string]string {
	out := map[string]string{}
	for path, item := range s.doc.Paths.Map() {
		for method := range item.Operations() {
			out[method+" "+normPath(path)] = path
		}
	}
	return out
}

// checkRoutesDescribed fails for a registered route the description lacks
// and for a described operation no route serves.
func checkRoutesDescribed(t *testing.T, s *spec) map[string]string {
	t.Helper()
	routes, ops := sourceRoutes(t), s.operations()
	for _, key := range sortedKeys(routes) {
		if _, ok := ops[key]; !ok {
			t.Errorf("route %q (%s) is not described in openapi.yaml", key, routes[key])
		}
	}
	for _, key := range sortedKeys(ops) {
		if _, ok := routes[key]; !ok {
			if key == "GET "+openAPIPath {
				t.Logf("routes.go does not register %s yet: add s.mux.HandleFunc(\"GET %s\", s.openAPI)", key, openAPIPath)
				continue
			}
			t.Errorf("openapi.yaml describes %q, which no route serves", key)
		}
	}
	return routes
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// --- validating calls

// checker makes calls against a fixture's server, validating each request
// and answer against the description, and remembers what it covered.
type checker struct {
	spec *spec
	f    *fixture
	// covered: "METHOD normalized-path" -> statuses answered.
	covered map[string]map[int]bool
}

func newChecker(s *spec, f *fixture) *checker {
	return &checker{spec: s, f: f, covered: map[string]map[int]bool{}}
}

var filterOptions = &openapi3filter.Options{
	IncludeResponseStatus:             true, // an undocumented status fails
	RejectWhenRequestBodyNotSpecified: true,
	SkipSettingDefaults:               true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		// The fixture's tokens are real: the server checks them. Here the
		// request must only carry one the way the scheme says.
		if in.SecuritySchemeName != "apiToken" {
			return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
		}
		scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
		if !ok || scheme != "SSWS" || token == "" {
			return errors.New(`no "Authorization: SSWS <token>"`)
		}
		return nil
	},
}

// call sends method path (body: JSON, or "") with token ("" for none),
// wants status, and validates the request and the answer. outside says
// the request is one the description does not allow (a missing token, a
// parameter of the wrong type, an unknown property...): then the
// description must refuse it, and the server's answer must still be one
// the operation documents.
func (c *checker) call(t *testing.T, token, method, path, body string, status int, outside bool) *response {
	t.Helper()
	newReq := func() *http.Request {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, c.f.srv.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "SSWS "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return req
	}
	req := newReq()
	route, pathParams, err := c.spec.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: not in openapi.yaml: %v", method, path, err)
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: filterOptions}
	err = openapi3filter.ValidateRequest(context.Background(), reqIn)
	switch {
	case err != nil && !outside:
		t.Errorf("%s %s: the request does not match openapi.yaml: %v", method, path, err)
	case err == nil && outside:
		t.Errorf("%s %s: openapi.yaml allows a request the test thinks it does not", method, path)
	}

	res := c.send(t, newReq())
	if res.status != status {
		t.Errorf("%s %s: %d %s, want %d", method, path, res.status, res.body, status)
	}
	c.validateResponse(t, reqIn, res)
	c.note(method+" "+normPath(route.Path), res.status)
	return res
}

func (c *checker) send(t *testing.T, req *http.Request) *response {
	t.Helper()
	res, err := c.f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

func (c *checker) validateResponse(t *testing.T, reqIn *openapi3filter.RequestValidationInput, res *response) {
	t.Helper()
	method, path := reqIn.Request.Method, reqIn.Request.URL.RequestURI()
	in := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: res.status,
		Header: res.header, Options: filterOptions}
	in.SetBodyBytes(res.body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: the %d answer does not match openapi.yaml: %v\nbody: %s", method, path, res.status, err, res.body)
	}
	if reqIn.Route.Operation.Security != nil && len(*reqIn.Route.Operation.Security) == 0 {
		return // public: no token, no rate limit
	}
	// The rate-limit headers are optional in the description (a server may
	// run without a limit); the fixture has one, so every authenticated
	// answer carries them.
	if res.status != http.StatusUnauthorized {
		for _, h := range []string{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
			if res.header.Get(h) == "" {
				t.Errorf("%s %s: the %d answer has no %s", method, path, res.status, h)
			}
		}
	}
}

// nextLink is the path and query of the rel="next" Link of res, "" when
// there is none.
func nextLink(t *testing.T, res *response) string {
	t.Helper()
	for _, v := range res.header.Values("Link") {
		if u, ok := strings.CutSuffix(v, `>; rel="next"`); ok {
			pu, err := url.Parse(strings.TrimPrefix(u, "<"))
			if err != nil {
				t.Fatalf("Link %q: %v", v, err)
			}
			return pu.RequestURI()
		}
	}
	return ""
}

func idOf(t *testing.T, res *response) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	res.json(t, &v)
	if v.ID == "" {
		t.Fatalf("no id in %s", res.body)
	}
	return v.ID
}

// TestOpenAPIResponses: openapi.yaml is a valid OpenAPI 3.0.3 document
// that describes every route the package registers, and real calls to
// every route, with their main error answers (400, 401, 403, 404, 413,
// 429), are requests and answers it allows.
func TestOpenAPIResponses(t *testing.T) {
	s := loadSpec(t)
	routes := checkRoutesDescribed(t, s)

	f := newFixture(t, api.Config{MaxBody: 4096, LDAP: api.LDAPInfo{Host: "ldap.example.com", LDAPPort: 389, LDAPSPort: 636}})
	c := newChecker(s, f)
	const in, out = false, true // the request is inside / outside the description

	// --- users
	ann := c.call(t, f.orgAdmin, "POST", "/api/v1/users?activate=false",
		`{"profile":{"login":"ann@example.com","email":"ann@example.com","firstName":"Ann","lastName":"Lee","costCenter":"cc-1","title":null},
		  "credentials":{"password":{"value":"Ann-password-1"},"provider":{"type":"OKTA","name":"OKTA"}}}`, 200, in)
	annID := idOf(t, ann)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users",
		`{"profile":{"login":"robot","email":"robot@example.com"},"type":{"id":"service_account"},"credentials":{"password":{"value":"R0bot-password-1"}}}`, 200, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"ann@example.com"}}`, 400, in) // duplicate
	c.call(t, f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"bob","city":"Oslo"}}`, 400, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"bob"},"groupIds":["nogroup"]}`, 404, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"`+strings.Repeat("b", 5000)+`"}}`, 413, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"bob"},"nickname":"b"}`, 400, out)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users", `{"profile":`, 400, out)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users", ``, 400, out)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users?activate=maybe", `{"profile":{"login":"bob"}}`, 400, out)
	c.call(t, f.readOnly, "POST", "/api/v1/users", `{"profile":{"login":"bob"}}`, 403, in)
	c.call(t, "", "POST", "/api/v1/users", `{"profile":{"login":"bob"}}`, 401, out)

	page := c.call(t, f.readOnly, "GET", "/api/v1/users?limit=2", "", 200, in)
	next := nextLink(t, page)
	if next == "" {
		t.Errorf("GET /api/v1/users?limit=2 of 6 users has no next link: %v", page.header.Values("Link"))
	} else {
		c.call(t, f.readOnly, "GET", next, "", 200, in)
	}
	c.call(t, f.readOnly, "GET", "/api/v1/users?q=ann&filter="+url.QueryEscape(`status eq "STAGED"`)+
		"&search="+url.QueryEscape(`profile.lastName sw "Le"`), "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/users?filter="+url.QueryEscape(`status equals "ACTIVE"`), "", 400, in)
	c.call(t, f.readOnly, "GET", "/api/v1/users?limit=abc", "", 400, out)
	c.call(t, f.readOnly, "GET", "/api/v1/users?limit=0", "", 400, out)
	c.call(t, "00"+strings.Repeat("A", 40), "GET", "/api/v1/users", "", 401, in) // well-formed, unknown

	for _, ref := range []string{annID, "ann@example.com", "ann%40example.com", "me"} {
		c.call(t, f.readOnly, "GET", "/api/v1/users/"+ref, "", 200, in)
	}
	c.call(t, f.readOnly, "GET", "/api/v1/users/nobody", "", 404, in)

	c.call(t, f.orgAdmin, "POST", "/api/v1/users/"+annID, `{"profile":{"nickName":"Annie","costCenter":null}}`, 200, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/"+annID, `{"credentials":{"password":{"value":"Ann-password-2"}}}`, 200, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/"+annID, `{}`, 400, out)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/nobody", `{"profile":{"nickName":"x"}}`, 404, in)
	c.call(t, f.orgAdmin, "PUT", "/api/v1/users/"+annID,
		`{"profile":{"login":"ann@example.com","email":"ann@example.com","firstName":"Ann","lastName":"Lee-Smith"}}`, 200, in)
	c.call(t, f.orgAdmin, "PUT", "/api/v1/users/"+annID, `{"profile":{"login":"ann@example.com","email":3}}`, 400, out)
	c.call(t, f.readOnly, "PUT", "/api/v1/users/"+annID, `{"profile":{"login":"ann@example.com"}}`, 403, in)

	// --- lifecycle (ann is STAGED)
	life := func(action string) string { return "/api/v1/users/" + annID + "/lifecycle/" + action }
	c.call(t, f.orgAdmin, "POST", life("suspend"), "", 400, in) // not from STAGED
	c.call(t, f.orgAdmin, "POST", life("activate")+"?sendEmail=false", "", 200, in)
	c.call(t, f.orgAdmin, "POST", life("suspend"), "", 200, in)
	c.call(t, f.orgAdmin, "POST", life("unsuspend"), "", 200, in)
	c.call(t, f.orgAdmin, "POST", life("unlock"), "", 400, in) // not LOCKED_OUT
	c.call(t, f.orgAdmin, "POST", life("expire_password"), "", 200, in)
	c.call(t, f.orgAdmin, "POST", life("expire_password")+"?tempPassword=true", "", 200, in)
	c.call(t, f.orgAdmin, "POST", life("expire_password")+"?tempPassword=perhaps", "", 400, out)
	c.call(t, f.orgAdmin, "POST", life("expire_password_with_temp_password"), "", 200, in)
	c.call(t, f.orgAdmin, "POST", life("reset_factors"), "", 200, in)
	c.call(t, f.orgAdmin, "POST", life("reset_password"), "", 400, in)
	c.call(t, f.orgAdmin, "POST", life("explode"), "", 404, out)
	c.call(t, f.readOnly, "POST", life("suspend"), "", 403, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/nobody/lifecycle/activate", "", 404, in)

	// --- credentials
	c.call(t, f.super, "POST", "/api/v1/users/me/credentials/change_password",
		`{"oldPassword":{"value":"Adm1n-password!"},"newPassword":{"value":"N3w-password!x"}}`, 200, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/super/credentials/change_password",
		`{"oldPassword":{"value":"wrong"},"newPassword":{"value":"An0ther-password!"}}`, 403, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/super/credentials/change_password",
		`{"oldPassword":{"value":"N3w-password!x"}}`, 400, out)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/super/credentials/change_password",
		`{"oldPassword":{"value":"N3w-password!x"},"newPassword":{"value":"An0ther-password!"},"revokeSessions":"yes"}`, 400, out)

	// --- roles
	c.call(t, f.readOnly, "GET", "/api/v1/users/super/roles", "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/users/nobody/roles", "", 404, in)
	c.call(t, f.super, "POST", "/api/v1/users/"+annID+"/roles", `{"type":"READ_ONLY_ADMIN"}`, 201, in)
	c.call(t, f.super, "POST", "/api/v1/users/"+annID+"/roles", `{"type":"READ_ONLY_ADMIN"}`, 201, in) // held already
	c.call(t, f.readOnly, "GET", "/api/v1/users/"+annID+"/roles", "", 200, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/"+annID+"/roles", `{"type":"SUPER_ADMIN"}`, 403, in)
	c.call(t, f.super, "POST", "/api/v1/users/"+annID+"/roles", `{"type":"GOD"}`, 400, out)
	c.call(t, f.super, "DELETE", "/api/v1/users/"+annID+"/roles/READ_ONLY_ADMIN", "", 204, in)
	c.call(t, f.super, "DELETE", "/api/v1/users/"+annID+"/roles/READ_ONLY_ADMIN", "", 404, in)
	c.call(t, f.super, "DELETE", "/api/v1/users/"+annID+"/roles/GOD", "", 400, in)
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/users/super/roles/SUPER_ADMIN", "", 403, in)

	// --- groups
	eng := c.call(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"engineering","description":"Engineers"}}`, 200, in)
	engID := idOf(t, eng)
	c.call(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"ops","description":null}}`, 200, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"Engineering"}}`, 400, in) // taken, in another case
	c.call(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"`+strings.Repeat("x", 5000)+`"}}`, 413, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"description":"d"}}`, 400, out)
	// Trailing data: kin-openapi reads the first JSON value only, so the
	// description cannot refuse this one.
	c.call(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"x"}} {}`, 400, in)
	c.call(t, f.readOnly, "POST", "/api/v1/groups", `{"profile":{"name":"x"}}`, 403, in)

	gpage := c.call(t, f.readOnly, "GET", "/api/v1/groups?limit=1", "", 200, in)
	if next := nextLink(t, gpage); next == "" {
		t.Errorf("GET /api/v1/groups?limit=1 of 2 groups has no next link: %v", gpage.header.Values("Link"))
	} else {
		c.call(t, f.readOnly, "GET", next, "", 200, in)
	}
	c.call(t, f.readOnly, "GET", "/api/v1/groups?q=eng&filter="+url.QueryEscape(`type eq "OKTA_GROUP"`)+
		"&search="+url.QueryEscape(`profile.name sw "eng"`), "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/groups?search="+url.QueryEscape(`profile.name zz "x"`), "", 400, in)
	c.call(t, f.readOnly, "GET", "/api/v1/groups?limit=-1", "", 400, out)

	c.call(t, f.readOnly, "GET", "/api/v1/groups/"+engID, "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/groups/engineering", "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/groups/nogroup", "", 404, in)
	c.call(t, f.orgAdmin, "PUT", "/api/v1/groups/"+engID, `{"profile":{"name":"engineering","description":"All engineers"}}`, 200, in)
	c.call(t, f.orgAdmin, "PUT", "/api/v1/groups/nogroup", `{"profile":{"name":"x"}}`, 404, in)
	c.call(t, f.orgAdmin, "PUT", "/api/v1/groups/"+engID, `{"profile":{"name":"ops"}}`, 400, in) // taken

	c.call(t, f.orgAdmin, "PUT", "/api/v1/groups/"+engID+"/users/"+annID, "", 204, in)
	c.call(t, f.orgAdmin, "PUT", "/api/v1/groups/"+engID+"/users/plain", "", 204, in)
	c.call(t, f.orgAdmin, "PUT", "/api/v1/groups/nogroup/users/plain", "", 404, in)
	c.call(t, f.orgAdmin, "PUT", "/api/v1/groups/"+engID+"/users/nobody", "", 404, in)
	c.call(t, f.readOnly, "PUT", "/api/v1/groups/"+engID+"/users/plain", "", 403, in)
	mpage := c.call(t, f.readOnly, "GET", "/api/v1/groups/"+engID+"/users?limit=1", "", 200, in)
	if next := nextLink(t, mpage); next == "" {
		t.Errorf("members with limit=1 of 2 have no next link: %v", mpage.header.Values("Link"))
	} else {
		c.call(t, f.readOnly, "GET", next, "", 200, in)
	}
	c.call(t, f.readOnly, "GET", "/api/v1/groups/nogroup/users", "", 404, in)
	c.call(t, f.readOnly, "GET", "/api/v1/users/"+annID+"/groups", "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/users/nobody/groups", "", 404, in)
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/groups/"+engID+"/users/plain", "", 204, in)
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/groups/nogroup/users/plain", "", 404, in)
	// nested groups (dirgate's own): ops in engineering
	nested := "/api/dirgate/v1/groups/"
	c.call(t, f.orgAdmin, "PUT", nested+engID+"/groups/ops", "", 204, in)
	c.call(t, f.orgAdmin, "PUT", nested+engID+"/groups/ops", "", 204, in) // in already
	c.call(t, f.orgAdmin, "PUT", nested+"ops/groups/"+engID, "", 400, in) // a cycle
	c.call(t, f.orgAdmin, "PUT", nested+"ops/groups/ops", "", 400, in)    // itself
	c.call(t, f.orgAdmin, "PUT", nested+"nogroup/groups/ops", "", 404, in)
	c.call(t, f.orgAdmin, "PUT", nested+engID+"/groups/nogroup", "", 404, in)
	c.call(t, f.readOnly, "PUT", nested+engID+"/groups/ops", "", 403, in)
	c.call(t, f.readOnly, "GET", nested+engID+"/groups", "", 200, in)
	c.call(t, f.readOnly, "GET", nested+"ops/parents", "", 200, in)
	c.call(t, f.readOnly, "GET", nested+"nogroup/groups", "", 404, in)
	c.call(t, f.readOnly, "GET", nested+"nogroup/parents", "", 404, in)
	c.call(t, f.readOnly, "DELETE", nested+engID+"/groups/ops", "", 403, in)
	c.call(t, f.orgAdmin, "DELETE", nested+engID+"/groups/ops", "", 204, in)
	c.call(t, f.orgAdmin, "DELETE", nested+engID+"/groups/ops", "", 204, in) // out already
	c.call(t, f.orgAdmin, "DELETE", nested+engID+"/groups/nogroup", "", 404, in)
	c.call(t, f.orgAdmin, "PUT", nested+engID+"/groups/ops", "", 204, in) // for the group delete below
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/groups/"+engID, "", 204, in)
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/groups/"+engID, "", 404, in)
	c.call(t, f.readOnly, "DELETE", "/api/v1/groups/ops", "", 403, in)

	// --- factors (plain is ACTIVE)
	factors := "/api/v1/users/plain/factors"
	c.call(t, f.readOnly, "GET", factors, "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/users/nobody/factors", "", 404, in)
	c.call(t, f.readOnly, "POST", factors, `{"factorType":"token:software:totp","provider":"GOOGLE"}`, 403, in)
	c.call(t, f.orgAdmin, "POST", factors, `{"factorType":"sms"}`, 400, out)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/nobody/factors", `{"factorType":"token:software:totp"}`, 404, in)
	enrol := c.call(t, f.orgAdmin, "POST", factors, `{"factorType":"token:software:totp","provider":"GOOGLE"}`, 200, in)
	var factor struct {
		ID       string `json:"id"`
		Embedded struct {
			Activation struct {
				SharedSecret string `json:"sharedSecret"`
			} `json:"activation"`
		} `json:"_embedded"`
	}
	enrol.json(t, &factor)
	fpath := factors + "/" + factor.ID
	c.call(t, f.readOnly, "GET", fpath, "", 200, in)
	c.call(t, f.readOnly, "GET", factors+"/nofactor", "", 404, in)
	c.call(t, f.readOnly, "GET", factors, "", 200, in)
	secret, err := totp.DecodeSecret(factor.Embedded.Activation.SharedSecret)
	if err != nil {
		t.Fatalf("the enrolment's secret %q: %v", factor.Embedded.Activation.SharedSecret, err)
	}
	code := totp.Code(secret, time.Now())
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	c.call(t, f.orgAdmin, "POST", fpath+"/lifecycle/activate", `{"passCode":"`+wrong+`"}`, 403, in)
	c.call(t, f.orgAdmin, "POST", fpath+"/lifecycle/activate", `{"passCode":""}`, 400, out)
	c.call(t, f.orgAdmin, "POST", fpath+"/lifecycle/activate", `{"passCode":"`+code+`"}`, 200, in)
	c.call(t, f.orgAdmin, "POST", fpath+"/lifecycle/activate", `{"passCode":"`+code+`"}`, 400, in) // active already
	c.call(t, f.orgAdmin, "POST", factors, `{"factorType":"token:software:totp"}`, 400, in)        // reset first
	c.call(t, f.readOnly, "DELETE", fpath, "", 403, in)
	c.call(t, f.orgAdmin, "DELETE", fpath, "", 204, in)
	c.call(t, f.orgAdmin, "DELETE", fpath, "", 404, in)
	// A push factor (users turn it on on the console) lists and deletes.
	push, err := f.d.EnrollPush(ctx, "example", "plain")
	if err != nil {
		t.Fatal(err)
	}
	if body := string(c.call(t, f.readOnly, "GET", factors, "", 200, in).body); !strings.Contains(body, `"factorType":"push"`) || !strings.Contains(body, `"provider":"OKTA"`) {
		t.Errorf("the push factor listed as %s", body)
	}
	c.call(t, f.orgAdmin, "DELETE", factors+"/"+push.ID, "", 204, in)

	// --- policies and their rules
	c.call(t, f.readOnly, "GET", "/api/v1/policies?type=PASSWORD", "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/policies", "", 400, out)
	c.call(t, f.readOnly, "GET", "/api/v1/policies?type=BOGUS", "", 400, out)
	strong := `{"type":"PASSWORD","name":"Strong","priority":1,"description":"For ops",
		"conditions":{"people":{"groups":{"include":["ops"]}}},
		"settings":{"password":{"complexity":{"minLength":14,"excludeAttributes":["firstName"]},"age":{"historyCount":3},"lockout":{"maxAttempts":4}}}}`
	c.call(t, f.orgAdmin, "POST", "/api/v1/policies", strong, 403, in)
	pw := c.call(t, f.super, "POST", "/api/v1/policies", strong, 200, in)
	pwID := idOf(t, pw)
	c.call(t, f.super, "POST", "/api/v1/policies", strong, 400, in) // the name is taken
	c.call(t, f.super, "POST", "/api/v1/policies", `{"type":"PASSWORD","name":"Weak","priority":2,"colour":"red"}`, 400, out)
	so := c.call(t, f.super, "POST", "/api/v1/policies", `{"type":"OKTA_SIGN_ON","name":"MFA","priority":1,"status":"ACTIVE"}`, 200, in)
	soID := idOf(t, so)
	c.call(t, f.super, "POST", "/api/v1/policies",
		`{"type":"OKTA_SIGN_ON","name":"Odd","priority":2,"settings":{"password":{}}}`, 400, in) // sign-on policies have no settings
	c.call(t, f.readOnly, "GET", "/api/v1/policies?type=OKTA_SIGN_ON", "", 200, in)
	got := c.call(t, f.readOnly, "GET", "/api/v1/policies/"+pwID, "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/policies/"+soID, "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/policies/nopolicy", "", 404, in)
	c.call(t, f.super, "PUT", "/api/v1/policies/"+pwID, string(got.body), 200, in) // what was read goes back
	c.call(t, f.super, "PUT", "/api/v1/policies/"+pwID, `{"type":"PASSWORD","name":"Stronger","priority":1,
		"settings":{"password":{"complexity":{"minLength":16}}}}`, 200, in)
	c.call(t, f.super, "PUT", "/api/v1/policies/nopolicy", `{"type":"PASSWORD","name":"x","priority":3}`, 404, in)
	c.call(t, f.super, "POST", "/api/v1/policies/"+soID+"/lifecycle/deactivate", "", 204, in)
	c.call(t, f.super, "POST", "/api/v1/policies/"+soID+"/lifecycle/activate", "", 204, in)
	c.call(t, f.super, "POST", "/api/v1/policies/"+soID+"/lifecycle/explode", "", 404, out)
	c.call(t, f.super, "POST", "/api/v1/policies/nopolicy/lifecycle/activate", "", 404, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/policies/"+soID+"/lifecycle/deactivate", "", 403, in)

	rules := "/api/v1/policies/" + soID + "/rules"
	ldapMFA := `{"type":"SIGN_ON","name":"LDAP needs MFA","priority":1,
		"conditions":{"network":{"connection":"ZONE","include":["0.0.0.0/0"],"exclude":["10.0.0.0/8"]},
		  "authContext":{"authType":"LDAP_INTERFACE"},"userType":{"include":["person"]}},
		"actions":{"signon":{"access":"ALLOW","requireFactor":true}}}`
	rule := c.call(t, f.super, "POST", rules, ldapMFA, 200, in)
	ruleID := idOf(t, rule)
	c.call(t, f.super, "POST", rules, ldapMFA, 400, in) // the name is taken
	c.call(t, f.super, "POST", rules, `{"name":"x","priority":2,"actions":{"signon":{"access":"MAYBE"}}}`, 400, in)
	c.call(t, f.super, "POST", "/api/v1/policies/"+pwID+"/rules", `{"name":"x","priority":1}`, 400, in) // password policies have none
	c.call(t, f.super, "POST", "/api/v1/policies/nopolicy/rules", `{"name":"x","priority":1}`, 404, in)
	c.call(t, f.super, "POST", rules, `{"name":"x"}`, 400, out)
	c.call(t, f.orgAdmin, "POST", rules, `{"name":"x","priority":2}`, 403, in)
	c.call(t, f.readOnly, "GET", rules, "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/policies/"+pwID+"/rules", "", 400, in)
	c.call(t, f.readOnly, "GET", rules+"/"+ruleID, "", 200, in)
	c.call(t, f.readOnly, "GET", rules+"/norule", "", 404, in)
	c.call(t, f.super, "POST", rules+"/"+ruleID+"/lifecycle/deactivate", "", 204, in)
	c.call(t, f.super, "POST", rules+"/"+ruleID+"/lifecycle/explode", "", 404, out)
	c.call(t, f.super, "POST", rules+"/norule/lifecycle/activate", "", 404, in)
	renamed := c.call(t, f.super, "PUT", rules+"/"+ruleID, `{"name":"LDAP denied","priority":1,
		"conditions":{"authContext":{"authType":"LDAP_INTERFACE"}},"actions":{"signon":{"access":"DENY"}}}`, 200, in)
	ruleID = idOf(t, renamed) // a rule's id follows its name
	c.call(t, f.super, "PUT", rules+"/norule", `{"name":"x","priority":1}`, 404, in)
	c.call(t, f.super, "PUT", rules+"/"+ruleID, string(renamed.body), 200, in) // what was read goes back
	c.call(t, f.orgAdmin, "DELETE", rules+"/"+ruleID, "", 403, in)
	c.call(t, f.super, "DELETE", rules+"/"+ruleID, "", 204, in)
	c.call(t, f.super, "DELETE", rules+"/"+ruleID, "", 404, in)
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/policies/"+pwID, "", 403, in)
	c.call(t, f.super, "DELETE", "/api/v1/policies/"+pwID, "", 204, in)
	c.call(t, f.super, "DELETE", "/api/v1/policies/"+pwID, "", 404, in)

	// --- policy documents (dirgate's format)
	doc := `[{"kind":"password","name":"Docs","priority":5,"people":{"groups":{"include":["Everyone"]}},"settings":{"minLength":10}}]`
	c.call(t, f.super, "POST", "/api/dirgate/v1/policies/apply", doc, 200, in)
	c.call(t, f.super, "POST", "/api/dirgate/v1/policies/apply?mode=create", doc, 400, in)
	c.call(t, f.super, "POST", "/api/dirgate/v1/policies/apply?mode=sideways", doc, 400, out)
	c.call(t, f.orgAdmin, "POST", "/api/dirgate/v1/policies/apply", doc, 403, in)
	c.call(t, f.readOnly, "GET", "/api/dirgate/v1/policies", "", 200, in)
	c.call(t, f.super, "DELETE", "/api/dirgate/v1/policies/password/Docs", "", 204, in)
	c.call(t, f.super, "DELETE", "/api/dirgate/v1/policies/password/Docs", "", 404, in)

	// --- directory integrations: "Down" is unreachable, "Source" is
	// another directory's LDAP interface (integrations_test.go)
	ints := "/api/dirgate/v1/integrations"
	downSettings := `{"urls":["ldaps://127.0.0.1:1"],"bindDN":"cn=sync,dc=example,dc=com","userSearchBase":"ou=people,dc=example,dc=com","userAttribute":"uid"}`
	srcSettings, srcPassword := dirgateLDAP(t, 3)
	c.call(t, f.readOnly, "GET", ints, "", 200, in)
	c.call(t, f.super, "POST", ints, integrationBody("Both", strings.Replace(downSettings, `}`, `,"userSearchFilter":"(uid=*)"}`, 1), ""), 400, in)
	c.call(t, f.super, "POST", ints, integrationBody("Typo", strings.Replace(downSettings, `}`, `,"colour":"red"}`, 1), ""), 400, out)
	c.call(t, f.super, "POST", ints, `{"settings":`+downSettings+`}`, 400, out) // no name
	c.call(t, f.super, "POST", ints, integrationBody("Down", downSettings, `,"bindPassword":"`+strings.Repeat("p", 5000)+`"`), 413, in)
	c.call(t, f.orgAdmin, "POST", ints, integrationBody("Down", downSettings, ""), 403, in)
	down := c.call(t, f.super, "POST", ints, integrationBody("Down", downSettings, `,"bindPassword":"sync-password"`), 201, in)
	downID := idOf(t, down)
	c.call(t, f.super, "POST", ints, integrationBody("down", downSettings, ""), 400, in) // the name is taken
	source := c.call(t, f.super, "POST", ints, integrationBody("Source", srcSettings, `,"default":true,"bindPassword":"`+srcPassword+`"`), 201, in)
	sourceID := idOf(t, source)
	c.call(t, f.readOnly, "GET", ints, "", 200, in)
	c.call(t, f.readOnly, "GET", ints+"/"+downID, "", 200, in)
	c.call(t, f.readOnly, "GET", ints+"/Source", "", 200, in)
	c.call(t, f.readOnly, "GET", ints+"/nothing", "", 404, in)
	c.call(t, f.super, "PUT", ints+"/"+downID, integrationBody("Down", strings.Replace(downSettings, `}`, `,"timeout":"5s"}`, 1), ""), 200, in) // the password stays
	c.call(t, f.super, "PUT", ints+"/"+downID, integrationBody("Down", strings.Replace(downSettings, "ldaps://", "https://", 1), ""), 400, in)
	c.call(t, f.super, "PUT", ints+"/nothing", integrationBody("Down", downSettings, ""), 404, in)
	c.call(t, f.orgAdmin, "PUT", ints+"/"+downID, integrationBody("Down", downSettings, ""), 403, in)
	c.call(t, f.super, "POST", ints+"/"+downID+"/test-connection", "", 200, in) // its connect step failed
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/test-connection", "", 200, in)
	c.call(t, f.readOnly, "POST", ints+"/"+sourceID+"/test-connection", "", 403, in)
	c.call(t, f.super, "POST", ints+"/nothing/test-connection", "", 404, in)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/test-login", `{"login":"src-1","password":"Src-password-1"}`, 200, in)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/test-login", `{"login":"src-1","password":"wrong"}`, 200, in)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/test-login", `{"login":"src-1"}`, 400, out)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/test-login", `{"login":"src-1","password":"`+strings.Repeat("p", 5000)+`"}`, 413, in)
	c.call(t, f.orgAdmin, "POST", ints+"/"+sourceID+"/test-login", `{"login":"src-1","password":"x"}`, 403, in)
	c.call(t, f.super, "POST", ints+"/nothing/test-login", `{"login":"src-1","password":"x"}`, 404, in)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/test-sync", "", 200, in)
	c.call(t, f.super, "POST", ints+"/"+downID+"/test-sync", "", 502, in)
	c.call(t, f.orgAdmin, "POST", ints+"/"+sourceID+"/test-sync", "", 403, in)
	c.call(t, f.super, "POST", ints+"/nothing/test-sync", "", 404, in)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/sync", "", 200, in)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/sync", "", 200, in) // nothing left to change
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/sync?full=true&adopt=local&adoptBy=email", "", 200, in)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/sync?full=perhaps", "", 400, out)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/test-sync?adoptBy=phone", "", 400, out)
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/test-sync?adopt=nothing", "", 400, in)
	if err := f.d.BeginRun(ctx, sourceID, "elsewhere:1", time.Hour); err != nil { // another process runs it
		t.Fatal(err)
	}
	c.call(t, f.readOnly, "GET", ints+"/"+sourceID, "", 200, in) // running
	c.call(t, f.super, "POST", ints+"/"+sourceID+"/sync", "", 409, in)
	if err := f.d.EndRun(ctx, sourceID, "elsewhere:1", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	c.call(t, f.super, "POST", ints+"/"+downID+"/sync", "", 502, in)
	c.call(t, f.readOnly, "GET", ints+"/"+downID, "", 200, in) // its state has the last run's error
	c.call(t, f.readOnly, "POST", ints+"/"+sourceID+"/sync", "", 403, in)
	c.call(t, f.super, "POST", ints+"/nothing/sync", "", 404, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/src-1", `{"profile":{"firstName":"Changed"}}`, 400, in) // kept by "Source"
	c.call(t, f.orgAdmin, "DELETE", ints+"/"+downID, "", 403, in)
	c.call(t, f.super, "DELETE", ints+"/"+downID, "", 204, in)
	c.call(t, f.super, "DELETE", ints+"/"+downID, "", 404, in)

	// --- the token's own org, then orgs with an installation token
	c.call(t, f.readOnly, "GET", "/api/v1/org", "", 200, in)
	_, inst, err := f.d.CreateInstallationToken(ctx, "provisioning")
	if err != nil {
		t.Fatal(err)
	}
	c.call(t, inst, "POST", "/api/dirgate/v1/orgs", `{"name":"acme","customAttributes":["employeeNumber"]}`, 201, in)
	c.call(t, inst, "POST", "/api/dirgate/v1/orgs", `{"name":"acme"}`, 400, in) // taken
	c.call(t, inst, "POST", "/api/dirgate/v1/orgs", `{"name":"no spaces"}`, 400, in)
	c.call(t, inst, "POST", "/api/dirgate/v1/orgs", `{"name":"beta","region":"eu"}`, 400, out)
	c.call(t, f.super, "POST", "/api/dirgate/v1/orgs", `{"name":"gamma"}`, 403, in)
	c.call(t, inst, "GET", "/api/dirgate/v1/orgs", "", 200, in)
	c.call(t, f.super, "GET", "/api/dirgate/v1/orgs", "", 403, in)
	c.call(t, inst, "GET", "/api/dirgate/v1/orgs/example", "", 200, in)
	c.call(t, inst, "GET", "/api/dirgate/v1/orgs/nothing", "", 404, in)
	c.call(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"mfaSeparator":"|"}`, 200, in)
	c.call(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"customAttributes":["employeeNumber","costCenter"]}`, 200, in)
	c.call(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"writes":true,"transitiveMemberOf":true}`, 200, in)
	c.call(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"transitiveMemberOf":"yes"}`, 400, out)
	c.call(t, inst, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"mfaSeparator":"a"}`, 400, in)
	c.call(t, inst, "PUT", "/api/dirgate/v1/orgs/nothing/ldap", `{"mfaSeparator":"|"}`, 404, in)
	c.call(t, f.super, "PUT", "/api/dirgate/v1/orgs/acme/ldap", `{"mfaSeparator":"|"}`, 403, in)
	c.call(t, inst, "GET", "/api/v1/users", "", 403, in) // an installation token has no org
	c.call(t, inst, "POST", "/api/dirgate/v1/orgs", `{"name":"empty"}`, 201, in)
	c.call(t, f.super, "DELETE", "/api/dirgate/v1/orgs/empty", "", 403, in)
	c.call(t, inst, "DELETE", "/api/dirgate/v1/orgs/empty", "", 204, in)
	c.call(t, inst, "DELETE", "/api/dirgate/v1/orgs/empty", "", 404, in)
	if _, err := f.d.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "zoe"}}); err != nil {
		t.Fatal(err)
	}
	c.call(t, inst, "DELETE", "/api/dirgate/v1/orgs/acme", "", 400, in) // zoe is in it
	c.call(t, inst, "DELETE", "/api/dirgate/v1/orgs/acme?force=perhaps", "", 400, out)
	c.call(t, inst, "DELETE", "/api/dirgate/v1/orgs/acme?force=true", "", 204, in)

	// --- deleting a user: deactivate, then delete, then it is gone
	c.call(t, f.readOnly, "DELETE", "/api/v1/users/"+annID, "", 403, in)
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/users/"+annID+"?sendEmail=false", "", 204, in)
	c.call(t, f.orgAdmin, "POST", life("deactivate"), "", 400, in) // DEPROVISIONED already
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/users/"+annID, "", 204, in)
	c.call(t, f.orgAdmin, "DELETE", "/api/v1/users/"+annID, "", 404, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/plain/lifecycle/deactivate", "", 200, in)
	c.call(t, f.orgAdmin, "POST", "/api/v1/users/plain/lifecycle/activate", "", 200, in)

	// --- the system log: events are written asynchronously; wait for the
	// last write's.
	var events []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := c.call(t, f.readOnly, "GET", "/api/v1/logs?limit=1000", "", 200, in)
		events = nil
		res.json(t, &events)
		if slices.ContainsFunc(events, func(e map[string]any) bool { return e["eventType"] == "user.lifecycle.activate" }) &&
			slices.ContainsFunc(events, func(e map[string]any) bool { return e["eventType"] == "system.api.call" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the system log did not get the test's events: %d events", len(events))
		}
		time.Sleep(50 * time.Millisecond)
	}
	lpage := c.call(t, f.readOnly, "GET", "/api/v1/logs?limit=2&sortOrder=ASCENDING", "", 200, in)
	if next := nextLink(t, lpage); next == "" {
		t.Errorf("GET /api/v1/logs has no next link: %v", lpage.header.Values("Link"))
	} else {
		c.call(t, f.readOnly, "GET", next, "", 200, in)
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	c.call(t, f.readOnly, "GET", "/api/v1/logs?since="+since+"&until="+until+
		"&filter="+url.QueryEscape(`eventType eq "user.lifecycle.create"`)+"&q=ann", "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/logs?sortOrder=DESCENDING&limit=2", "", 200, in)
	c.call(t, f.readOnly, "GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq`), "", 400, in)
	c.call(t, f.readOnly, "GET", "/api/v1/logs?sortOrder=SIDEWAYS", "", 400, out)
	c.call(t, f.readOnly, "GET", "/api/v1/logs?since=yesterday", "", 400, out)
	c.call(t, f.readOnly, "GET", "/api/v1/logs?after=abc", "", 400, out)
	c.call(t, "", "GET", "/api/v1/logs", "", 401, out)

	// --- the description itself, where routes.go serves it
	if _, ok := routes["GET "+openAPIPath]; ok {
		res := c.call(t, "", "GET", openAPIPath, "", 200, in)
		if !bytes.Equal(res.body, api.OpenAPI()) {
			t.Errorf("GET %s: not the embedded openapi.yaml", openAPIPath)
		}
	}

	// --- an unknown path: no operation, but Okta's error all the same
	res := c.send(t, mustRequest(t, "GET", f.srv.URL+"/api/v1/nothing", f.readOnly))
	if res.status != 404 {
		t.Errorf("GET /api/v1/nothing: %d %s, want 404", res.status, res.body)
	}
	validateSchema(t, s, "Error", res.body)

	// --- 429: a fixture whose tokens may make one call a minute
	lf := newFixture(t, api.Config{RateLimit: 1})
	lc := newChecker(s, lf)
	lc.call(t, lf.readOnly, "GET", "/api/v1/groups", "", 200, in)
	lc.call(t, lf.readOnly, "GET", "/api/v1/groups", "", 429, in)
	lc.call(t, lf.readOnly, "POST", "/api/v1/users", `{"profile":{"login":"bob"}}`, 429, in)
	for key, statuses := range lc.covered {
		for st := range statuses {
			c.note(key, st)
		}
	}

	// Every route was called, and answered successfully at least once;
	// the main statuses were all seen.
	seen := map[int]bool{}
	for _, key := range sortedKeys(routes) {
		ok := false
		for st := range c.covered[key] {
			seen[st] = true
			ok = ok || st < 300
		}
		if !ok && key != "GET "+openAPIPath {
			t.Errorf("route %q (%s) has no successful call in TestOpenAPIResponses: add one, so its description is checked", key, routes[key])
		}
	}
	for _, st := range []int{200, 201, 204, 400, 401, 403, 404, 413, 429} {
		if !seen[st] {
			t.Errorf("no call answered %d", st)
		}
	}
}

// note records that the operation key answered status.
func (c *checker) note(key string, status int) {
	if c.covered[key] == nil {
		c.covered[key] = map[int]bool{}
	}
	c.covered[key][status] = true
}

func mustRequest(t *testing.T, method, u, token string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	return req
}

// validateSchema checks a JSON document against a schema of the
// description's components.
func validateSchema(t *testing.T, s *spec, name string, doc []byte) {
	t.Helper()
	if err := visit(s, name, doc); err != nil {
		t.Errorf("%s does not match schema %s: %v", doc, name, err)
	}
}

func visit(s *spec, name string, doc []byte) error {
	ref := s.doc.Components.Schemas[name]
	if ref == nil {
		return fmt.Errorf("openapi.yaml has no schema %s", name)
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return err
	}
	return ref.Value.VisitJSON(v, openapi3.VisitAsResponse())
}

// TestOpenAPIStrict: the response schemas are strict where dirgate is, so
// an answer that drifts (a field more, a field less, a wrong type) fails.
func TestOpenAPIStrict(t *testing.T) {
	s := loadSpec(t)
	f := newFixture(t, api.Config{})
	get := func(path string) map[string]any {
		t.Helper()
		res := f.do(t, f.orgAdmin, "GET", path, "")
		if res.status != 200 {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		var v any
		res.json(t, &v)
		if list, ok := v.([]any); ok {
			return list[0].(map[string]any)
		}
		return v.(map[string]any)
	}
	if res := f.do(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"ops"}}`); res.status != 200 {
		t.Fatalf("creating a group: %d %s", res.status, res.body)
	}
	errRes := f.do(t, f.orgAdmin, "GET", "/api/v1/users/nobody", "")
	var errBody map[string]any
	errRes.json(t, &errBody)
	originals := map[string]map[string]any{
		"User":  get("/api/v1/users/plain"),
		"Group": get("/api/v1/groups/ops"),
		"Role":  get("/api/v1/users/super/roles"),
		"Error": errBody,
	}
	for name, doc := range originals {
		b, _ := json.Marshal(doc)
		if err := visit(s, name, b); err != nil {
			t.Fatalf("the real %s %s does not match: %v", name, b, err)
		}
	}
	for _, tc := range []struct {
		schema string
		drift  func(m map[string]any)
	}{
		{"User", func(m map[string]any) { m["realmId"] = "x" }},
		{"User", func(m map[string]any) { delete(m, "lastLogin") }},
		{"User", func(m map[string]any) { m["created"] = nil }},
		{"User", func(m map[string]any) { m["created"] = "2026-01-02" }},
		{"User", func(m map[string]any) { m["status"] = "RECOVERY" }},
		{"User", func(m map[string]any) { m["profile"].(map[string]any)["age"] = 3.0 }},
		{"User", func(m map[string]any) { delete(m["profile"].(map[string]any), "login") }},
		{"User", func(m map[string]any) { m["_links"].(map[string]any)["schema"] = map[string]any{"href": "x"} }},
		{"Group", func(m map[string]any) { m["profile"].(map[string]any)["owner"] = "x" }},
		{"Group", func(m map[string]any) { m["profile"].(map[string]any)["description"] = nil }},
		{"Group", func(m map[string]any) { delete(m, "lastMembershipUpdated") }},
		{"Role", func(m map[string]any) { m["type"] = "APP_ADMIN" }},
		{"Error", func(m map[string]any) { delete(m, "errorId") }},
		{"Error", func(m map[string]any) { m["errorCauses"] = nil }},
		{"Error", func(m map[string]any) { m["errorCauses"] = []any{map[string]any{"errorSummary": "x", "reason": "y"}} }},
		{"Error", func(m map[string]any) { m["status"] = 404.0 }},
	} {
		b, _ := json.Marshal(originals[tc.schema])
		var m map[string]any
		json.Unmarshal(b, &m)
		tc.drift(m)
		b, _ = json.Marshal(m)
		if visit(s, tc.schema, b) == nil {
			t.Errorf("schema %s accepts the drifted %s", tc.schema, b)
		}
	}
}

// TestOpenAPIFilter: the checks TestOpenAPIResponses makes of each answer
// do fail on drift: a body with a field more, a list without its Link
// header, an undocumented status, another content type.
func TestOpenAPIFilter(t *testing.T) {
	s := loadSpec(t)
	f := newFixture(t, api.Config{})
	res := f.do(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"ops"}}`)
	if res.status != 200 {
		t.Fatalf("creating a group: %d %s", res.status, res.body)
	}
	list := f.do(t, f.readOnly, "GET", "/api/v1/users", "")
	check := func(what, method, path string, status int, header http.Header, body []byte) {
		t.Helper()
		req := mustRequest(t, method, f.srv.URL+path, f.readOnly)
		route, params, err := s.router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		reqIn := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: filterOptions}
		in := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: status, Header: header, Options: filterOptions}
		in.SetBodyBytes(body)
		if openapi3filter.ValidateResponse(context.Background(), in) == nil {
			t.Errorf("%s: ValidateResponse accepts it", what)
		}
	}
	check("a group with a field more", "GET", "/api/v1/groups/ops", 200, res.header,
		bytes.Replace(res.body, []byte(`"type":"OKTA_GROUP"`), []byte(`"type":"OKTA_GROUP","source":"x"`), 1))
	noLink := list.header.Clone()
	noLink.Del("Link")
	check("a list without a Link header", "GET", "/api/v1/users", 200, noLink, list.body)
	badLink := list.header.Clone()
	badLink.Set("Link", "<x>; rel=\"prev\"")
	check("a Link that is not self or next", "GET", "/api/v1/users", 200, badLink, list.body)
	check("an undocumented status", "GET", "/api/v1/groups/ops", http.StatusTeapot, res.header, res.body)
	text := res.header.Clone()
	text.Set("Content-Type", "text/plain")
	check("another content type", "GET", "/api/v1/groups/ops", 200, text, res.body)
}

// TestOpenAPIDocument: every operation has an id and documents the
// answers every authenticated call can give.
func TestOpenAPIDocument(t *testing.T) {
	s := loadSpec(t)
	if ss := s.doc.Components.SecuritySchemes["apiToken"]; ss == nil || ss.Value.Type != "apiKey" ||
		ss.Value.In != "header" || ss.Value.Name != "Authorization" {
		t.Errorf("security scheme apiToken is not an apiKey in the Authorization header: %+v", ss)
	}
	ids := map[string]string{}
	for path, item := range s.doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %s", where, other, op.OperationID)
			}
			ids[op.OperationID] = where
			if op.Security != nil && len(*op.Security) == 0 {
				continue // public
			}
			for _, st := range []string{"401", "403", "429", "500", "503"} {
				if op.Responses.Value(st) == nil {
					t.Errorf("%s does not document %s", where, st)
				}
			}
			if op.RequestBody != nil && op.Responses.Value("413") == nil {
				t.Errorf("%s takes a body but does not document 413", where)
			}
		}
	}
}

// TestOpenAPIServed: the handler answers the embedded description, as
// YAML, without a token; so does the server when routes.go registers it.
func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t, api.Config{})
	mux := http.NewServeMux()
	mux.Handle("GET "+openAPIPath, api.New(api.Config{Directory: f.d}).OpenAPIHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	check := func(base string) {
		t.Helper()
		res, err := http.Get(base + openAPIPath)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/yaml" {
			t.Errorf("GET %s%s: %d, Content-Type %q", base, openAPIPath, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if !bytes.Equal(b, api.OpenAPI()) {
			t.Errorf("GET %s%s: %d bytes, not the embedded %d", base, openAPIPath, len(b), len(api.OpenAPI()))
		}
	}
	check(srv.URL)
	if _, ok := sourceRoutes(t)["GET "+openAPIPath]; ok {
		check(f.srv.URL)
	}
	if len(api.OpenAPI()) == 0 || !bytes.HasPrefix(api.OpenAPI(), []byte("openapi: 3.0.3")) {
		t.Error("the embedded description is not openapi.yaml")
	}
}
