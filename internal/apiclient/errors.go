package apiclient

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// Okta's error codes that dirgate answers (internal/api/errors.go).
const (
	CodeValidation   = "E0000001" // Api validation failed (also: a name taken, a lifecycle action not allowed)
	CodeBadJSON      = "E0000003" // The request body was not well-formed
	CodeForbidden    = "E0000006" // You do not have permission
	CodeNotFound     = "E0000007" // Not found
	CodeInternal     = "E0000009" // Internal Server Error
	CodeUnavailable  = "E0000010" // Service is temporarily unavailable
	CodeInvalidToken = "E0000011" // Invalid token provided
	CodeCredentials  = "E0000014" // Update of credentials failed
	CodeMethod       = "E0000022" // The endpoint does not support the provided HTTP method
	CodeRateLimit    = "E0000047" // API call exceeded rate limit
	CodeFactorCode   = "E0000068" // Invalid Passcode/Answer
)

// The words the server puts before a domain error's message.
const (
	notFoundPrefix   = "Not found: Resource not found: "
	validationPrefix = "Api validation failed"
	conflictPrefix   = "An object with this field already exists in the current organization: "
)

// Error is an error answer of the API: Okta's error object and the HTTP
// status it came with. It holds nothing of the request but its method and
// path (never the token, the query or the body).
type Error struct {
	Method     string   // of the request, e.g. "GET"
	Path       string   // of the request, e.g. "/api/v1/users/alice"
	StatusCode int      // HTTP status, e.g. 404
	Code       string   // Okta's errorCode, e.g. "E0000007"; "" when the answer was not Okta's error JSON
	Summary    string   // errorSummary (for another answer: the HTTP status text)
	Causes     []string // the errorSummary of each of errorCauses
	ID         string   // errorId: the server logs internal errors under it

	domain *directory.Error
}

// wireError is Okta's error JSON.
type wireError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

// newError builds the *Error of an answer with status and body.
func newError(method, path string, status int, isJSON bool, body []byte) *Error {
	e := &Error{Method: method, Path: path, StatusCode: status}
	var w wireError
	if isJSON && json.Unmarshal(body, &w) == nil && w.ErrorCode != "" {
		e.Code, e.Summary, e.ID = w.ErrorCode, w.ErrorSummary, w.ErrorID
		for _, c := range w.ErrorCauses {
			if c.ErrorSummary != "" {
				e.Causes = append(e.Causes, c.ErrorSummary)
			}
		}
	} else {
		// Not dirgate's answer (a proxy's, say): its body is not shown.
		e.Summary = http.StatusText(status)
		if e.Summary == "" {
			e.Summary = "HTTP status " + strconv.Itoa(status)
		}
	}
	e.domain = e.toDomain()
	return e
}

// Error reads as the server's summary and causes, then where it came from:
//
//	Not found: Resource not found: no user "zoe" in org acme (HTTP 404 E0000007, GET /api/v1/users/zoe)
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Summary)
	for _, c := range e.Causes {
		b.WriteString("; ")
		b.WriteString(c)
	}
	b.WriteString(" (HTTP ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Method != "" {
		b.WriteString(", " + e.Method + " " + e.Path)
	}
	if e.ID != "" && e.StatusCode >= 500 {
		b.WriteString(", errorId " + e.ID)
	}
	b.WriteByte(')')
	return b.String()
}

// Unwrap returns the domain error the answer reports, so that
// errors.As(err, &de) with a *directory.Error and directory.CodeOf work.
// Its Message is the directory's own message where the answer carries it
// (not found, validation, conflict, permission), else the server's words.
//
// The API answers several domain codes alike, so some cannot be told
// apart: CodeIllegalTransition comes back as CodeInvalid (both are Okta's
// E0000001), CodePolicyDenied as CodeInvalidCredentials (E0000014).
func (e *Error) Unwrap() error {
	if e.domain == nil {
		return nil
	}
	return e.domain
}

// Domain is Unwrap's *directory.Error.
func (e *Error) Domain() *directory.Error { return e.domain }

// toDomain maps the answer back through the server's table
// (internal/api/errors.go) to a directory.Error.
func (e *Error) toDomain() *directory.Error {
	d := &directory.Error{Code: directory.CodeInternal, Message: e.text()}
	switch e.Code {
	case CodeNotFound:
		d.Code, d.Message = directory.CodeNotFound, strings.TrimPrefix(e.Summary, notFoundPrefix)
	case CodeValidation:
		d.Code = directory.CodeInvalid
		field := strings.TrimPrefix(strings.TrimPrefix(e.Summary, validationPrefix), ": ")
		d.Field = field
		if len(e.Causes) > 0 {
			msgs := make([]string, len(e.Causes))
			for i, c := range e.Causes {
				if field != "" {
					c = strings.TrimPrefix(c, field+": ")
				}
				if rest, ok := strings.CutPrefix(c, conflictPrefix); ok {
					d.Code, c = directory.CodeConflict, rest
				}
				msgs[i] = c
			}
			d.Message = strings.Join(msgs, "; ")
		}
	case CodeBadJSON, CodeMethod:
		d.Code = directory.CodeInvalid
	case CodeForbidden:
		d.Code = directory.CodeForbidden
	case CodeInvalidToken, CodeFactorCode:
		d.Code = directory.CodeInvalidCredentials
	case CodeCredentials:
		d.Code = directory.CodeInvalidCredentials
		if len(e.Causes) > 0 {
			d.Message = strings.Join(e.Causes, "; ")
		}
	case CodeRateLimit:
		d.Code = directory.CodeThrottled
	case CodeUnavailable:
		d.Code = directory.CodeUnavailable
	case CodeInternal:
		d.Code = directory.CodeInternal
	default:
		d.Code = codeOfStatus(e.StatusCode)
	}
	if (d.Code == directory.CodeInternal || d.Code == directory.CodeUnavailable) && e.ID != "" {
		d.Reason = "the server logged it as errorId " + e.ID
	}
	return d
}

// text is the summary and the causes.
func (e *Error) text() string {
	if len(e.Causes) == 0 {
		return e.Summary
	}
	return e.Summary + ": " + strings.Join(e.Causes, "; ")
}

// codeOfStatus classifies an answer that is not Okta's error JSON.
func codeOfStatus(status int) directory.Code {
	switch {
	case status == http.StatusNotFound:
		return directory.CodeNotFound
	case status == http.StatusUnauthorized:
		return directory.CodeInvalidCredentials
	case status == http.StatusForbidden:
		return directory.CodeForbidden
	case status == http.StatusTooManyRequests:
		return directory.CodeThrottled
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		return directory.CodeUnavailable
	case status >= 400 && status < 500:
		return directory.CodeInvalid
	}
	return directory.CodeInternal
}

// IsStatus reports whether err is (or wraps) an *Error with that HTTP
// status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == status
}
