package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeBodies feeds every request body decoder, and what turns a
// decoded body into a directory input, arbitrary bytes: none may panic, and
// each refusal is an Okta-shaped 4xx.
func FuzzDecodeBodies(f *testing.F) {
	for _, seed := range []string{
		`{"profile":{"login":"a","email":"a@example.com","costCenter":null},"credentials":{"password":{"value":"x"}},"groupIds":["g"]}`,
		`{"profile":{"name":"g","description":"d"}}`,
		`{"type":"PASSWORD","name":"p","priority":1,"settings":{"password":{"complexity":{"minLength":9},"age":{"historyCount":2}}}}`,
		`{"type":"OKTA_SIGN_ON","name":"s","priority":1,"conditions":{"people":{"groups":{"include":["Everyone"]}}}}`,
		`{"name":"r","priority":1,"conditions":{"network":{"connection":"ZONE","include":["10.0.0.0/8"]},"authContext":{"authType":"LDAP_INTERFACE"}},"actions":{"signon":{"access":"ALLOW","requireFactor":true}}}`,
		`{"oldPassword":{"value":"a"},"newPassword":{"value":"b"}}`,
		`{"factorType":"token:software:totp","provider":"GOOGLE"}`,
		`{"passCode":"123456"}`, `{"type":"READ_ONLY_ADMIN"}`,
		`{`, `[]`, `null`, `{"profile":[1]}`, `{"profile":{"login":{"a":1}}}`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	s := New(Config{MaxBody: 1 << 16})
	f.Fuzz(func(t *testing.T, body []byte) {
		decoders := []func() error{
			func() error {
				var in createUserIn
				if err := s.decode(req(body), &in); err != nil {
					return err
				}
				_ = in.Profile.profile()
				_ = in.Credentials.password()
				return in.Credentials.check()
			},
			func() error { var in updateUserIn; return s.decode(req(body), &in) },
			func() error { _, err := s.decodeGroup(req(body)); return err },
			func() error {
				var in policyJSON
				if err := s.decode(req(body), &in); err != nil {
					return err
				}
				_, err := policyIn(&in, nil)
				return err
			},
			func() error {
				var in ruleJSON
				if err := s.decode(req(body), &in); err != nil {
					return err
				}
				_, err := ruleIn(&in)
				return err
			},
			func() error { var in changePasswordIn; return s.decode(req(body), &in) },
			func() error { var in enrollIn; return s.decode(req(body), &in) },
		}
		for i, dec := range decoders {
			err := dec()
			if err == nil {
				continue
			}
			var ae *apiError
			if !errors.As(fromDomain(err), &ae) || ae.status < 400 || ae.status >= 500 || ae.code == "" || ae.summary == "" {
				t.Fatalf("decoder %d on %q: %v is not a 4xx answer (%+v)", i, body, err, ae)
			}
		}
	})
}

func req(body []byte) *http.Request {
	return httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(string(body)))
}
