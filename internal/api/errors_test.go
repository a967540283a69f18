package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/api"
	"github.com/dirgate/dirgate/internal/directory"
)

// TestErrors: every kind of refusal, with Okta's status and error code,
// and a cause or summary that names the problem.
func TestErrors(t *testing.T) {
	f := newFixture(t, api.Config{MaxBody: 4096})
	ann := `{"profile":{"login":"ann","email":"ann@example.com","firstName":"Ann","lastName":"Lee"}}`
	if res := f.do(t, f.orgAdmin, "POST", "/api/v1/users?activate=false", ann); res.status != 200 {
		t.Fatalf("creating ann: %d %s", res.status, res.body)
	}
	for _, tc := range []struct {
		name               string
		token              string
		method, path, body string
		status             int
		code               string
		mention            string // in the body
	}{
		{"no token", "", "GET", "/api/v1/users", "", 401, "E0000011", "Invalid token provided"},
		{"another scheme", "Bearer", "GET", "/api/v1/users", "", 401, "E0000011", ""},
		{"malformed token", "not-a-token", "GET", "/api/v1/users", "", 401, "E0000011", ""},
		{"unknown token", "00" + strings.Repeat("A", 40), "GET", "/api/v1/users", "", 401, "E0000011", ""},
		{"read-only token writing", f.readOnly, "POST", "/api/v1/users", ann, 403, "E0000006", "READ_ONLY_ADMIN"},
		{"read-only token deleting", f.readOnly, "DELETE", "/api/v1/users/ann", "", 403, "E0000006", ""},
		{"org admin assigning a role", f.orgAdmin, "POST", "/api/v1/users/ann/roles", `{"type":"SUPER_ADMIN"}`, 403, "E0000006", "SUPER_ADMIN"},
		{"bad JSON", f.orgAdmin, "POST", "/api/v1/users", `{"profile":`, 400, "E0000003", "not well-formed"},
		{"no body", f.orgAdmin, "POST", "/api/v1/users", "", 400, "E0000003", "empty"},
		{"trailing data", f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"x"}} {}`, 400, "E0000003", ""},
		{"too large", f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"` + strings.Repeat("x", 5000) + `"}}`, 413, "E0000003", "4096 bytes"},
		{"unknown field", f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"bob"},"nickname":"b"}`, 400, "E0000001", "nickname"},
		{"unknown credential field", f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"bob"},"credentials":{"recovery_question":{}}}`, 400, "E0000001", "recovery_question"},
		{"undeclared profile attribute", f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"bob","city":"Oslo"}}`, 400, "E0000001", "city"},
		{"profile value not a string", f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"bob","firstName":3}}`, 400, "E0000001", "firstName: expected a string"},
		{"no login", f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"email":"x@example.com"}}`, 400, "E0000001", "login"},
		{"duplicate login", f.orgAdmin, "POST", "/api/v1/users", ann, 400, "E0000001", "already exists"},
		{"duplicate login in another case", f.orgAdmin, "POST", "/api/v1/users", strings.Replace(ann, `"ann"`, `"ANN"`, 1), 400, "E0000001", "already exists"},
		{"weak password", f.orgAdmin, "POST", "/api/v1/users", `{"profile":{"login":"bob"},"credentials":{"password":{"value":"x"}}}`, 400, "E0000001", "password"},
		{"illegal lifecycle transition", f.orgAdmin, "POST", "/api/v1/users/ann/lifecycle/suspend", "", 400, "E0000001", "STAGED"},
		{"unknown lifecycle operation", f.orgAdmin, "POST", "/api/v1/users/ann/lifecycle/explode", "", 404, "E0000007", "explode"},
		{"unknown user", f.readOnly, "GET", "/api/v1/users/nobody", "", 404, "E0000007", "nobody"},
		{"unknown group", f.readOnly, "GET", "/api/v1/groups/nogroup", "", 404, "E0000007", "nogroup"},
		{"member of an unknown group", f.orgAdmin, "PUT", "/api/v1/groups/nogroup/users/ann", "", 404, "E0000007", ""},
		{"invalid filter expression", f.readOnly, "GET", "/api/v1/users?filter=" + url.QueryEscape(`status equals "ACTIVE"`), "", 400, "E0000001", "invalid filter expression"},
		{"filter on an unknown attribute", f.readOnly, "GET", "/api/v1/users?filter=" + url.QueryEscape(`profile.city eq "Oslo"`), "", 400, "E0000001", "profile.city"},
		{"operator a filter does not allow", f.readOnly, "GET", "/api/v1/users?filter=" + url.QueryEscape(`status sw "ACT"`), "", 400, "E0000001", "sw"},
		{"invalid search expression", f.readOnly, "GET", "/api/v1/users?search=" + url.QueryEscape(`(status eq "ACTIVE"`), "", 400, "E0000001", "invalid search expression"},
		{"invalid group search", f.readOnly, "GET", "/api/v1/groups?search=" + url.QueryEscape(`profile.name zz "x"`), "", 400, "E0000001", "search"},
		{"invalid log filter", f.readOnly, "GET", "/api/v1/logs?filter=" + url.QueryEscape(`eventType eq`), "", 400, "E0000001", "filter"},
		{"log since not a time", f.readOnly, "GET", "/api/v1/logs?since=yesterday", "", 400, "E0000001", "since"},
		{"log sortOrder", f.readOnly, "GET", "/api/v1/logs?sortOrder=SIDEWAYS", "", 400, "E0000001", "sortOrder"},
		{"enrolling another factor type", f.orgAdmin, "POST", "/api/v1/users/ann/factors", `{"factorType":"sms"}`, 400, "E0000001", "token:software:totp"},
		{"activating an unknown factor", f.orgAdmin, "POST", "/api/v1/users/ann/factors/00fnothing/lifecycle/activate", `{"passCode":"123456"}`, 404, "E0000007", ""},
		{"read-only token enrolling", f.readOnly, "POST", "/api/v1/users/ann/factors", `{"factorType":"token:software:totp"}`, 403, "E0000006", ""},
		{"bad limit", f.readOnly, "GET", "/api/v1/users?limit=abc", "", 400, "E0000001", "limit"},
		{"bad activate", f.orgAdmin, "POST", "/api/v1/users?activate=maybe", ann, 400, "E0000001", "activate"},
		{"group without a name", f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"description":"d"}}`, 400, "E0000001", "profile.name"},
		{"wrong old password", f.orgAdmin, "POST", "/api/v1/users/super/credentials/change_password",
			`{"oldPassword":{"value":"wrong"},"newPassword":{"value":"N3w-password!x"}}`, 403, "E0000014", ""},
		{"unknown path", f.readOnly, "GET", "/api/v1/nothing", "", 404, "E0000007", ""},
		{"a method the path does not take", f.readOnly, "PATCH", "/api/v1/users/ann", "", 405, "E0000022", "GET, POST, PUT, DELETE"},
		{"removing a role not held", f.super, "DELETE", "/api/v1/users/ann/roles/ORG_ADMIN", "", 404, "E0000007", "ORG_ADMIN"},
		{"unknown role", f.super, "POST", "/api/v1/users/ann/roles", `{"type":"GOD"}`, 400, "E0000001", "GOD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, tc.token, tc.method, tc.path, tc.body)
			if res.status != tc.status || res.errorCode() != tc.code {
				t.Fatalf("%s %s: %d %s, want %d %s", tc.method, tc.path, res.status, res.body, tc.status, tc.code)
			}
			if !strings.Contains(string(res.body), tc.mention) {
				t.Errorf("%s %s: %s does not mention %q", tc.method, tc.path, res.body, tc.mention)
			}
			var e struct {
				ErrorSummary, ErrorLink, ErrorID string
				ErrorCauses                      []any
			}
			res.json(t, &e)
			if e.ErrorSummary == "" || e.ErrorLink != tc.code || !strings.HasPrefix(e.ErrorID, "oae") || e.ErrorCauses == nil {
				t.Errorf("error body %s lacks Okta's fields", res.body)
			}
		})
	}
}

// TestRevokedToken: a revoked token is refused at its next call.
func TestRevokedToken(t *testing.T) {
	f := newFixture(t, api.Config{})
	if res := f.do(t, f.orgAdmin, "GET", "/api/v1/users", ""); res.status != 200 {
		t.Fatalf("before revoking: %d %s", res.status, res.body)
	}
	if err := f.d.RevokeToken(ctx, "example", f.orgAdminTokenID); err != nil {
		t.Fatal(err)
	}
	if res := f.do(t, f.orgAdmin, "GET", "/api/v1/users", ""); res.status != 401 || res.errorCode() != "E0000011" {
		t.Fatalf("after revoking: %d %s, want 401 E0000011", res.status, res.body)
	}
}

// TestTokenFollowsAdminRoles: a token acts with its admin's roles of the
// moment, and stops working when the admin is suspended.
func TestTokenFollowsAdminRoles(t *testing.T) {
	f := newFixture(t, api.Config{})
	group := `{"profile":{"name":"ops"}}`
	if _, err := f.d.RemoveRole(ctx, "example", "orgadmin", "ORG_ADMIN"); err != nil {
		t.Fatal(err)
	}
	if res := f.do(t, f.orgAdmin, "POST", "/api/v1/groups", group); res.status != 403 || res.errorCode() != "E0000006" {
		t.Fatalf("after the role was removed: %d %s, want 403 E0000006", res.status, res.body)
	}
	if _, err := f.d.AssignRole(ctx, "example", "orgadmin", "ORG_ADMIN"); err != nil {
		t.Fatal(err)
	}
	if res := f.do(t, f.orgAdmin, "POST", "/api/v1/groups", group); res.status != 200 {
		t.Fatalf("after the role came back: %d %s", res.status, res.body)
	}
	if _, err := f.d.Lifecycle(ctx, "example", "orgadmin", "suspend"); err != nil {
		t.Fatal(err)
	}
	if res := f.do(t, f.orgAdmin, "GET", "/api/v1/groups", ""); res.status != 401 {
		t.Fatalf("with the admin suspended: %d %s, want 401", res.status, res.body)
	}
}

// TestRateLimit: past the limit a token gets 429 E0000047, and the
// headers count down.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: 3})
	for i := range 3 {
		res := f.do(t, f.readOnly, "GET", "/api/v1/groups", "")
		if res.status != 200 {
			t.Fatalf("call %d: %d %s", i+1, res.status, res.body)
		}
		if got, want := res.header.Get("X-Rate-Limit-Remaining"), string(rune('2'-i)); got != want {
			t.Errorf("call %d: X-Rate-Limit-Remaining = %q, want %q", i+1, got, want)
		}
		if res.header.Get("X-Rate-Limit-Limit") != "3" || res.header.Get("X-Rate-Limit-Reset") == "" {
			t.Errorf("call %d: headers %v", i+1, res.header)
		}
	}
	if res := f.do(t, f.readOnly, "GET", "/api/v1/groups", ""); res.status != 429 || res.errorCode() != "E0000047" {
		t.Fatalf("4th call: %d %s, want 429 E0000047", res.status, res.body)
	}
	// Another token has its own count.
	if res := f.do(t, f.orgAdmin, "GET", "/api/v1/groups", ""); res.status != 200 {
		t.Fatalf("another token: %d %s", res.status, res.body)
	}
}

// TestFactorWrongPassCode: a wrong code leaves the factor pending, with
// Okta's E0000068.
func TestFactorWrongPassCode(t *testing.T) {
	f := newFixture(t, api.Config{})
	res := f.do(t, f.orgAdmin, "POST", "/api/v1/users/plain/factors", `{"factorType":"token:software:totp","provider":"GOOGLE"}`)
	var enrolled struct {
		ID       string
		Status   string
		Embedded struct {
			Activation struct{ SharedSecret string } `json:"activation"`
		} `json:"_embedded"`
	}
	res.json(t, &enrolled)
	if res.status != 200 || enrolled.Status != "PENDING_ACTIVATION" || enrolled.Embedded.Activation.SharedSecret == "" {
		t.Fatalf("enrol: %d %s", res.status, res.body)
	}
	res = f.do(t, f.orgAdmin, "POST", "/api/v1/users/plain/factors/"+enrolled.ID+"/lifecycle/activate", `{"passCode":"000000x"}`)
	if res.status != 403 || res.errorCode() != "E0000068" {
		t.Fatalf("wrong code: %d %s, want 403 E0000068", res.status, res.body)
	}
	res = f.do(t, f.readOnly, "GET", "/api/v1/users/plain/factors/"+enrolled.ID, "")
	if res.status != 200 || !strings.Contains(string(res.body), "PENDING_ACTIVATION") || strings.Contains(string(res.body), enrolled.Embedded.Activation.SharedSecret) {
		t.Fatalf("after a wrong code: %d %s (pending, without its secret)", res.status, res.body)
	}
}

// TestCallsAudited: every call is in the system log with the token's
// admin as actor, refused ones included, and the token's last use is
// recorded.
func TestCallsAudited(t *testing.T) {
	f := newFixture(t, api.Config{})
	f.do(t, f.readOnly, "GET", "/api/v1/users/plain", "")
	f.do(t, f.readOnly, "DELETE", "/api/v1/users/plain", "") // refused: 403
	if err := f.d.Close(); err != nil {                      // flushes the log and the token's last use
		t.Fatal(err)
	}
	evs, err := f.d.Events(ctx, "example", directory.EventFilter{EventType: directory.EventAPICall})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		var le directory.LogEvent
		if err := json.Unmarshal(e.Doc, &le); err != nil {
			t.Fatal(err)
		}
		if le.Actor.AlternateID != "readonly" || le.Target[0].Type != "ApiToken" {
			t.Errorf("event %s: actor %+v, target %+v", e.Doc, le.Actor, le.Target)
		}
		got = append(got, fmt.Sprintf("%v %v %v %s", le.DebugContext.DebugData["method"], le.DebugContext.DebugData["path"],
			le.DebugContext.DebugData["status"], le.Outcome.Result))
	}
	want := []string{"GET /api/v1/users/plain 200 SUCCESS", "DELETE /api/v1/users/plain 403 DENY"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("API call events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	toks, err := f.d.Tokens(ctx, "example")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if used := !tok.LastUsed.IsZero(); used != (tok.Name == "readonly token") {
			t.Errorf("token %q: last used %v", tok.Name, tok.LastUsed)
		}
	}
}

// TestPublicURL: with Config.PublicURL the links name it, not the
// request's host (behind a proxy that terminates TLS).
func TestPublicURL(t *testing.T) {
	f := newFixture(t, api.Config{PublicURL: "https://dirgate.example.com/"})
	res := f.do(t, f.readOnly, "GET", "/api/v1/users?limit=1", "")
	links := strings.Join(res.header.Values("Link"), "\n")
	if res.status != 200 || !strings.Contains(links, `<https://dirgate.example.com/api/v1/users?after=`) ||
		!strings.Contains(string(res.body), `"href":"https://dirgate.example.com/api/v1/users/`) {
		t.Fatalf("links: %s\n%s", links, res.body)
	}
}

// TestLogsNewestFirst: sortOrder=DESCENDING pages from the newest event
// back, following Link rel="next", and ends.
func TestLogsNewestFirst(t *testing.T) {
	f := newFixture(t, api.Config{})
	for i := range 5 {
		f.do(t, f.orgAdmin, "POST", "/api/v1/groups", fmt.Sprintf(`{"profile":{"name":"g%d"}}`, i))
	}
	if err := f.d.Close(); err != nil { // writes the queued events
		t.Fatal(err)
	}
	path := "/api/v1/logs?sortOrder=DESCENDING&limit=2&filter=" + url.QueryEscape(`eventType eq "group.lifecycle.create"`)
	var got []string
	for range 10 {
		res := f.do(t, f.readOnly, "GET", path, "")
		var evs []struct {
			Target []struct{ DisplayName string }
		}
		res.json(t, &evs)
		for _, e := range evs {
			got = append(got, e.Target[0].DisplayName)
		}
		next := ""
		for _, l := range res.header.Values("Link") {
			if strings.HasSuffix(l, `rel="next"`) {
				next = strings.TrimPrefix(strings.Split(l, ">")[0], "<"+f.srv.URL)
			}
		}
		if next == "" {
			break
		}
		path = next
	}
	if strings.Join(got, " ") != "g4 g3 g2 g1 g0" {
		t.Errorf("newest first: %v", got)
	}
}

// TestTempPasswordAndResetFactors: expire_password_with_temp_password
// leaves the user PASSWORD_EXPIRED with a password that is right (the
// sign-in is told it expired), and reset_factors deletes the factors.
func TestTempPasswordAndResetFactors(t *testing.T) {
	f := newFixture(t, api.Config{})
	res := f.do(t, f.orgAdmin, "POST", "/api/v1/users/plain/lifecycle/expire_password_with_temp_password", "")
	var tp struct{ TempPassword string }
	res.json(t, &tp)
	if res.status != 200 || len(tp.TempPassword) < 12 {
		t.Fatalf("temp password: %d %s", res.status, res.body)
	}
	u, err := f.d.User(ctx, "example", "plain")
	if err != nil || u.Status != directory.StatusPasswordExpired {
		t.Fatalf("plain after the temp password: %+v, %v", u, err)
	}
	o, _ := f.d.Org(ctx, "example")
	_, err = f.d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: "plain", Password: []byte(tp.TempPassword)})
	if err == nil || !strings.Contains(err.Error(), directory.MsgPasswordExpired) {
		t.Errorf("signing in with the temp password: %v, want %q", err, directory.MsgPasswordExpired)
	}
	if res := f.do(t, f.orgAdmin, "POST", "/api/v1/users/plain/factors", `{"factorType":"token:software:totp"}`); res.status != 200 {
		t.Fatalf("enrol: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.orgAdmin, "POST", "/api/v1/users/plain/lifecycle/reset_factors", ""); res.status != 200 {
		t.Fatalf("reset_factors: %d %s", res.status, res.body)
	}
	if fs, err := f.d.Factors(ctx, "example", "plain"); err != nil || len(fs) != 0 {
		t.Errorf("factors after reset_factors: %d, %v", len(fs), err)
	}
}
