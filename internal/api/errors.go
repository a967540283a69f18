package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/dirgate/dirgate/internal/directory"
)

// Okta's error codes, for the errors dirgate answers.
const (
	codeValidation   = "E0000001" // Api validation failed
	codeBadJSON      = "E0000003" // The request body was not well-formed
	codeForbidden    = "E0000006" // You do not have permission
	codeNotFound     = "E0000007" // Not found
	codeMethod       = "E0000022" // The endpoint does not support the provided HTTP method
	codeInternal     = "E0000009" // Internal Server Error
	codeInvalidToken = "E0000011" // Invalid token provided
	codeCredentials  = "E0000014" // Update of credentials failed
	codeUnavailable  = "E0000010" // Service is temporarily unavailable
	codeRateLimit    = "E0000047" // API call exceeded rate limit
	codeFactorCode   = "E0000068" // Invalid Passcode/Answer
)

// apiError is an error answer in Okta's shape.
type apiError struct {
	status  int
	code    string
	summary string
	causes  []string
}

// errorBody is Okta's error JSON.
type errorBody struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

// codeTable is the one map from domain errors to HTTP (DESIGN.md): status
// and Okta code per directory.Code.
var codeTable = map[directory.Code]struct {
	status int
	code   string
}{
	directory.CodeNotFound:           {http.StatusNotFound, codeNotFound},
	directory.CodeConflict:           {http.StatusBadRequest, codeValidation},
	directory.CodeInvalid:            {http.StatusBadRequest, codeValidation},
	directory.CodeIllegalTransition:  {http.StatusBadRequest, codeValidation},
	directory.CodeInvalidCredentials: {http.StatusForbidden, codeCredentials},
	directory.CodePolicyDenied:       {http.StatusForbidden, codeCredentials},
	directory.CodeForbidden:          {http.StatusForbidden, codeForbidden},
	directory.CodeUnavailable:        {http.StatusServiceUnavailable, codeUnavailable},
	directory.CodeThrottled:          {http.StatusTooManyRequests, codeRateLimit},
	directory.CodeInternal:           {http.StatusInternalServerError, codeInternal},
}

// fromDomain translates err (a *directory.Error or anything else) into
// the answer. Internal errors say nothing of their cause to the caller.
func fromDomain(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var de *directory.Error
	if !errors.As(err, &de) {
		de = &directory.Error{Code: directory.CodeInternal}
	}
	t, ok := codeTable[de.Code]
	if !ok {
		t = codeTable[directory.CodeInternal]
	}
	e := &apiError{status: t.status, code: t.code}
	switch t.code {
	case codeValidation:
		field := strings.TrimPrefix(de.Field, "profile.")
		e.summary = "Api validation failed: " + field
		if field == "" {
			e.summary = "Api validation failed"
		}
		msg := de.Message
		if de.Code == directory.CodeConflict && field != "" {
			msg = "An object with this field already exists in the current organization: " + de.Message
		}
		if field != "" {
			msg = field + ": " + msg
		}
		e.causes = []string{msg}
	case codeNotFound:
		e.summary = "Not found: Resource not found: " + de.Message
	case codeCredentials:
		e.summary = "Update of credentials failed"
		e.causes = []string{de.Message}
	case codeInternal:
		e.summary = "Internal Server Error"
	default:
		e.summary = de.Message
	}
	return e
}

func (e *apiError) Error() string { return e.code + ": " + e.summary }

func quote(s string) string { return strconv.Quote(s) }

// validation is an E0000001 answer about one field.
func validation(field, msg string) *apiError {
	return fromDomain(&directory.Error{Code: directory.CodeInvalid, Field: field, Message: msg})
}

func notFound(what string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, summary: "Not found: Resource not found: " + what}
}

// writeError answers with e; internal errors are logged with their cause
// (never a secret: domain errors hold none) under the error id the caller
// sees.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := fromDomain(err)
	id := "oae" + randomID(22)
	if e.status >= 500 {
		s.log.Error("api: request failed", "errorId", id, "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.Debug("api: request refused", "errorId", id, "method", r.Method, "path", r.URL.Path, "code", e.code, "err", err)
	}
	body := errorBody{ErrorCode: e.code, ErrorSummary: e.summary, ErrorLink: e.code, ErrorID: id, ErrorCauses: []errorCause{}}
	for _, c := range e.causes {
		body.ErrorCauses = append(body.ErrorCauses, errorCause{ErrorSummary: c})
	}
	writeJSON(w, e.status, body)
}
