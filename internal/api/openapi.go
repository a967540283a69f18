package api

import (
	"bytes"
	_ "embed" // openapi.yaml
	"net/http"
	"strconv"
)

// openAPISpec is the OpenAPI 3.0 description of this API; openapi_test.go
// checks real answers against it, and that every route has one.
//
//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPI returns the API's OpenAPI 3.0 description (YAML), a copy.
func OpenAPI() []byte { return bytes.Clone(openAPISpec) }

// OpenAPIHandler serves the description as GET /api/v1/openapi.yaml does
// (for tests and for serving it elsewhere).
func (s *Server) OpenAPIHandler() http.Handler { return http.HandlerFunc(s.openAPI) }

// openAPI serves the description; it needs no token (it is public, as
// Okta's is).
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/yaml")
	h.Set("Content-Length", strconv.Itoa(len(openAPISpec)))
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(openAPISpec)
	}
}
