package totp

import (
	"net/url"
	"testing"
)

func TestURI(t *testing.T) {
	tests := []struct {
		name            string
		issuer, account string
		want            string
		// what a Key URI parser finds
		label, issuerParam string
	}{
		{
			name:   "spaces, @ and +",
			issuer: "ACME Co", account: "john.doe+mfa@email.com",
			want:  "otpauth://totp/ACME%20Co:john.doe%2Bmfa@email.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
			label: "ACME Co:john.doe+mfa@email.com", issuerParam: "ACME Co",
		},
		{
			name:   "plain",
			issuer: "dirgate", account: "alice",
			want:  "otpauth://totp/dirgate:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=dirgate&algorithm=SHA1&digits=6&period=30",
			label: "dirgate:alice", issuerParam: "dirgate",
		},
		{
			name:   "colon in issuer: label prefix left out",
			issuer: "Corp: EU", account: "bob",
			want:  "otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Corp%3A%20EU&algorithm=SHA1&digits=6&period=30",
			label: "bob", issuerParam: "Corp: EU",
		},
		{
			name:   "colon in account replaced",
			issuer: "dirgate", account: "ad:bob",
			want:  "otpauth://totp/dirgate:ad_bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=dirgate&algorithm=SHA1&digits=6&period=30",
			label: "dirgate:ad_bob", issuerParam: "dirgate",
		},
		{
			name:   "no issuer",
			issuer: "", account: "carol",
			want:  "otpauth://totp/carol?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30",
			label: "carol", issuerParam: "",
		},
		{
			name:   "UTF-8, & = ? # / %",
			issuer: "Bücher & Co", account: "a=b?c#d/e%f",
			want:  "otpauth://totp/B%C3%BCcher%20%26%20Co:a%3Db%3Fc%23d%2Fe%25f?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=B%C3%BCcher%20%26%20Co&algorithm=SHA1&digits=6&period=30",
			label: "Bücher & Co:a=b?c#d/e%f", issuerParam: "Bücher & Co",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := URI(tt.issuer, tt.account, rfcSecret)
			if got != tt.want {
				t.Errorf("URI =\n  %s\nwant\n  %s", got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if u.Scheme != "otpauth" || u.Host != "totp" {
				t.Errorf("scheme %q host %q", u.Scheme, u.Host)
			}
			if u.Path != "/"+tt.label {
				t.Errorf("label %q, want %q", u.Path[1:], tt.label)
			}
			q := u.Query()
			if s, err := DecodeSecret(q.Get("secret")); err != nil || string(s) != string(rfcSecret) {
				t.Errorf("secret parameter %q does not decode to the secret", q.Get("secret"))
			}
			if q.Get("issuer") != tt.issuerParam {
				t.Errorf("issuer parameter %q, want %q", q.Get("issuer"), tt.issuerParam)
			}
			if q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
				t.Errorf("algorithm %q digits %q period %q", q.Get("algorithm"), q.Get("digits"), q.Get("period"))
			}
		})
	}
}
