package api_test

import (
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/api"
	"github.com/dirgate/dirgate/internal/policy"
)

// TestPolicies walks policies and their rules through the API in Okta's
// shape and checks what the directory then holds: the same documents the
// CLI applies.
func TestPolicies(t *testing.T) {
	f := newFixture(t, api.Config{})
	if res := f.do(t, f.orgAdmin, "POST", "/api/v1/groups", `{"profile":{"name":"people"}}`); res.status != 200 {
		t.Fatalf("group: %d %s", res.status, res.body)
	}
	type pol struct {
		ID, Type, Name, Status string
		Priority               int
		Settings               struct {
			Password struct {
				Complexity struct{ MinLength int }
				Age        struct{ HistoryCount int }
				Lockout    struct{ MaxAttempts int }
			}
		}
	}
	// A password policy, then renamed with PUT.
	res := f.do(t, f.super, "POST", "/api/v1/policies", `{"type":"PASSWORD","name":"Strong","priority":1,
		"conditions":{"people":{"groups":{"include":["people"]}}},
		"settings":{"password":{"complexity":{"minLength":14},"age":{"historyCount":3},"lockout":{"maxAttempts":4}}}}`)
	var pw pol
	res.json(t, &pw)
	if res.status != 200 || pw.ID == "" || pw.Type != "PASSWORD" || pw.Settings.Password.Complexity.MinLength != 14 ||
		pw.Settings.Password.Age.HistoryCount != 3 || pw.Settings.Password.Lockout.MaxAttempts != 4 {
		t.Fatalf("create password policy: %d %s", res.status, res.body)
	}
	res = f.do(t, f.super, "PUT", "/api/v1/policies/"+pw.ID, `{"type":"PASSWORD","name":"Stronger","priority":1,
		"settings":{"password":{"complexity":{"minLength":16}}}}`)
	var renamed pol
	res.json(t, &renamed)
	if res.status != 200 || renamed.ID != pw.ID || renamed.Name != "Stronger" || renamed.Settings.Password.Complexity.MinLength != 16 {
		t.Fatalf("replace: %d %s", res.status, res.body)
	}

	// A sign-on policy with an MFA rule for LDAP, then the rule edited.
	res = f.do(t, f.super, "POST", "/api/v1/policies", `{"type":"OKTA_SIGN_ON","name":"MFA","priority":1,"status":"ACTIVE"}`)
	var so pol
	res.json(t, &so)
	if res.status != 200 || so.Type != "OKTA_SIGN_ON" {
		t.Fatalf("create sign-on policy: %d %s", res.status, res.body)
	}
	res = f.do(t, f.super, "POST", "/api/v1/policies/"+so.ID+"/rules", `{"type":"SIGN_ON","name":"LDAP needs MFA","priority":1,
		"conditions":{"network":{"connection":"ZONE","include":["0.0.0.0/0"],"exclude":["10.0.0.0/8"]},
		  "authContext":{"authType":"LDAP_INTERFACE"},"userType":{"include":["person"]}},
		"actions":{"signon":{"access":"ALLOW","requireFactor":true}}}`)
	var rule struct {
		ID         string
		Conditions struct {
			Network     struct{ Connection string }
			AuthContext struct{ AuthType string }
		}
		Actions struct {
			Signon struct {
				Access        string
				RequireFactor bool
			}
		}
	}
	res.json(t, &rule)
	if res.status != 200 || rule.ID == "" || rule.Conditions.Network.Connection != "ZONE" ||
		rule.Conditions.AuthContext.AuthType != "LDAP_INTERFACE" || !rule.Actions.Signon.RequireFactor {
		t.Fatalf("create rule: %d %s", res.status, res.body)
	}
	ps, err := f.d.Policies(ctx, "example")
	if err != nil {
		t.Fatal(err)
	}
	var got *policy.Policy
	for i := range ps {
		if ps[i].ID == so.ID {
			got = &ps[i]
		}
	}
	if got == nil || len(got.Rules) != 1 || got.Rules[0].Action != policy.ActionMFA || got.Rules[0].Conditions.AuthType != policy.AuthLDAP ||
		got.Rules[0].Conditions.Network.Exclude[0] != "10.0.0.0/8" || got.Rules[0].Conditions.UserType != policy.UserPerson {
		t.Fatalf("the directory holds %+v", got)
	}
	if res := f.do(t, f.super, "POST", "/api/v1/policies/"+so.ID+"/rules/"+rule.ID+"/lifecycle/deactivate", ""); res.status != 204 {
		t.Fatalf("deactivate rule: %d %s", res.status, res.body)
	}
	res = f.do(t, f.readOnly, "GET", "/api/v1/policies/"+so.ID+"/rules/"+rule.ID, "")
	if res.status != 200 || !strings.Contains(string(res.body), `"status":"INACTIVE"`) {
		t.Fatalf("rule after deactivating: %d %s", res.status, res.body)
	}
	res = f.do(t, f.super, "PUT", "/api/v1/policies/"+so.ID+"/rules/"+rule.ID, `{"name":"LDAP denied","priority":1,
		"conditions":{"authContext":{"authType":"LDAP_INTERFACE"}},"actions":{"signon":{"access":"DENY"}}}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"access":"DENY"`) {
		t.Fatalf("replace rule: %d %s", res.status, res.body)
	}
	res = f.do(t, f.readOnly, "GET", "/api/v1/policies?type=OKTA_SIGN_ON", "")
	if res.status != 200 || !strings.Contains(string(res.body), `"name":"MFA"`) || strings.Contains(string(res.body), "Stronger") {
		t.Fatalf("list sign-on policies: %d %s", res.status, res.body)
	}
	var rules []struct{ ID, Name string }
	res = f.do(t, f.readOnly, "GET", "/api/v1/policies/"+so.ID+"/rules", "")
	res.json(t, &rules)
	if len(rules) != 1 || rules[0].Name != "LDAP denied" {
		t.Fatalf("rules: %s", res.body)
	}
	if res := f.do(t, f.super, "DELETE", "/api/v1/policies/"+so.ID+"/rules/"+rules[0].ID, ""); res.status != 204 {
		t.Fatalf("delete rule: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.super, "DELETE", "/api/v1/policies/"+pw.ID, ""); res.status != 204 {
		t.Fatalf("delete policy: %d %s", res.status, res.body)
	}
	if res := f.do(t, f.readOnly, "GET", "/api/v1/policies/"+pw.ID, ""); res.status != 404 || res.errorCode() != "E0000007" {
		t.Fatalf("deleted policy: %d %s", res.status, res.body)
	}

	// Refusals.
	res = f.do(t, f.super, "POST", "/api/v1/policies", `{"type":"PASSWORD","name":"Another","priority":2}`)
	var pw2 pol
	res.json(t, &pw2)
	for _, tc := range []struct {
		name, token, method, path, body string
		status                          int
		code, mention                   string
	}{
		{"list without a type", f.readOnly, "GET", "/api/v1/policies", "", 400, "E0000001", "type"},
		{"unknown type", f.super, "POST", "/api/v1/policies", `{"type":"ACCESS_POLICY","name":"x","priority":2}`, 400, "E0000001", "OKTA_SIGN_ON"},
		{"settings on a sign-on policy", f.super, "POST", "/api/v1/policies", `{"type":"OKTA_SIGN_ON","name":"x","priority":2,"settings":{"password":{}}}`, 400, "E0000001", "settings"},
		{"an unknown group", f.super, "POST", "/api/v1/policies", `{"type":"OKTA_SIGN_ON","name":"x","priority":2,"conditions":{"people":{"groups":{"include":["nobody"]}}}}`, 400, "E0000001", "nobody"},
		{"a taken priority", f.super, "POST", "/api/v1/policies", `{"type":"OKTA_SIGN_ON","name":"other","priority":1}`, 400, "E0000001", "priority"},
		{"a taken name", f.super, "POST", "/api/v1/policies", `{"type":"OKTA_SIGN_ON","name":"mfa","priority":3}`, 400, "E0000001", "already exists"},
		{"org admin writing policies", f.orgAdmin, "POST", "/api/v1/policies", `{"type":"OKTA_SIGN_ON","name":"y","priority":5}`, 403, "E0000006", "SUPER_ADMIN"},
		{"rules of a password policy", f.super, "GET", "/api/v1/policies/" + pw2.ID + "/rules", "", 400, "E0000001", "settings, not rules"},
		{"a deleted policy", f.super, "GET", "/api/v1/policies/" + pw.ID + "/rules", "", 404, "E0000007", ""},
		{"a bad network connection", f.super, "POST", "/api/v1/policies/" + so.ID + "/rules", `{"name":"n","priority":2,"conditions":{"network":{"connection":"SOMEWHERE"}}}`, 400, "E0000001", "ZONE"},
		{"a bad CIDR", f.super, "POST", "/api/v1/policies/" + so.ID + "/rules", `{"name":"n","priority":2,"conditions":{"network":{"connection":"ZONE","include":["10.0.0.0/99"]}}}`, 400, "E0000001", "10.0.0.0/99"},
		{"an unknown rule", f.readOnly, "GET", "/api/v1/policies/" + so.ID + "/rules/0prnothing", "", 404, "E0000007", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, tc.token, tc.method, tc.path, tc.body)
			if res.status != tc.status || res.errorCode() != tc.code || !strings.Contains(string(res.body), tc.mention) {
				t.Errorf("%s %s: %d %s, want %d %s mentioning %q", tc.method, tc.path, res.status, res.body, tc.status, tc.code, tc.mention)
			}
		})
	}
}
