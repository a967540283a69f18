package dit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

func TestBind(t *testing.T) {
	client := directory.ClientInfo{IP: "192.0.2.7", TLS: true, Protocol: "ldap"}
	tests := []struct {
		name     string
		dn, pw   string
		authErr  error
		wantDN   string // success: the canonical DN
		wantUser string
		code     ldap.ResultCode
		diag     string
		// what Authenticate must be asked
		org, userID, login string
	}{
		{name: "full DN", dn: aliceDN, pw: "alice-password", wantDN: aliceDN, wantUser: aliceID, org: acmeID, userID: aliceID},
		{name: "without ou=users", dn: "uid=alice@acme.example," + acmeBase, pw: "alice-password", wantDN: aliceDN, wantUser: aliceID, org: acmeID, userID: aliceID},
		{name: "case and spacing", dn: "UID = Alice@ACME.example , OU=Users,DC=ACME, dc=okta,dc=com", pw: "alice-password", wantDN: aliceDN, wantUser: aliceID, org: acmeID, userID: aliceID},
		{name: "userid alias", dn: "userid=alice@acme.example,dc=acme,dc=okta,dc=com", pw: "alice-password", wantDN: aliceDN, wantUser: aliceID, org: acmeID, userID: aliceID},
		{name: "plus escaped", dn: bobDN, pw: "bob-password", wantDN: bobDN, wantUser: bobID, org: acmeID, userID: bobID},
		{name: "plus hex-escaped", dn: `uid=bob\2Btest@acme.example,dc=acme,dc=okta,dc=com`, pw: "bob-password", wantDN: bobDN, wantUser: bobID, org: acmeID, userID: bobID},
		{name: "apostrophe", dn: obrDN, pw: "obrien-password", wantDN: obrDN, wantUser: obrienID, org: acmeID, userID: obrienID},
		{name: "upper-case login spelled lower", dn: "uid=carol.upper@acme.example,ou=users," + acmeBase, pw: "carol-password", wantDN: carolDN, wantUser: carolID, org: acmeID, userID: carolID},
		{name: "same login, other org", dn: "uid=alice@acme.example,ou=users," + gBase, pw: "other-alice-password", wantDN: "uid=alice@acme.example,ou=users," + gBase, wantUser: galiceID, org: globexID, userID: galiceID},
		{name: "wrong password", dn: aliceDN, pw: "nope", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, org: acmeID, userID: aliceID},
		{name: "other org's password", dn: "uid=alice@acme.example,ou=users," + gBase, pw: "alice-password", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, org: globexID, userID: galiceID},
		{name: "suspended", dn: samDN, pw: "sam-password", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, org: acmeID, userID: samID},
		{name: "unknown login", dn: "uid=nobody@acme.example,ou=users," + acmeBase, pw: "x", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, org: acmeID, login: "nobody@acme.example"},
		{name: "unknown org", dn: "uid=alice@acme.example,dc=nope,dc=okta,dc=com", pw: "alice-password", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, login: "alice@acme.example"},
		{name: "under ou=groups", dn: "uid=alice@acme.example,ou=groups," + acmeBase, pw: "alice-password", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, login: "alice@acme.example"},
		{name: "a group", dn: engDN, pw: "x", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, login: engDN},
		{name: "a group, normalised", dn: "cn=engineering,ou=groups," + acmeBase, pw: "x", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, login: "cn=engineering,ou=groups," + acmeBase},
		{name: "not a DN", dn: "alice", pw: "alice-password", code: ldap.InvalidCredentials, diag: directory.MsgInvalidCredentials, login: "alice"},
		{name: "policy", dn: aliceDN, pw: "alice-password", authErr: &directory.Error{Code: directory.CodePolicyDenied, Message: directory.MsgPolicyDenied, Reason: "MFA required"},
			code: ldap.InvalidCredentials, diag: directory.MsgPolicyDenied, org: acmeID, userID: aliceID},
		{name: "unavailable", dn: aliceDN, pw: "alice-password", authErr: &directory.Error{Code: directory.CodeUnavailable, Message: "store down", Reason: "dial tcp: refused"},
			code: ldap.Unavailable, diag: "directory temporarily unavailable; retry", org: acmeID, userID: aliceID},
		{name: "internal", dn: aliceDN, pw: "alice-password", authErr: errors.New("disk on fire"), code: ldap.OperationsError, diag: "internal error", org: acmeID, userID: aliceID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture()
			f.authErr = tt.authErr
			d := newDIT(t, f)
			id, err := d.bind(context.Background(), tt.dn, []byte(tt.pw), client, false)
			if len(f.auths) != 1 {
				t.Fatalf("Authenticate called %d times, want once", len(f.auths))
			}
			req := f.auths[0]
			want := client
			want.BindDN = tt.dn // the DN as the client sent it, for the system log
			if req.OrgID != tt.org || req.UserID != tt.userID || req.Login != tt.login || req.Client != want {
				t.Errorf("Authenticate got %+v, want org %q user %q login %q client %+v", req, tt.org, tt.userID, tt.login, want)
			}
			if tt.code != 0 {
				re, ok := err.(*ldapserver.ResultError)
				if !ok || re.Code != tt.code || re.Diagnostic != tt.diag {
					t.Fatalf("bind: %v, want %v %q", err, tt.code, tt.diag)
				}
				return
			}
			if err != nil {
				t.Fatalf("bind: %v", err)
			}
			p, _ := id.Value.(*principal)
			if id.DN != tt.wantDN || p == nil || p.UserID != tt.wantUser || p.OrgID != tt.org {
				t.Errorf("identity %q %+v, want %q %s/%s", id.DN, p, tt.wantDN, tt.org, tt.wantUser)
			}
			// The identity works for searches.
			if es, err := run(t, d, &id, query{base: id.DN}); err != nil || len(es) != 1 {
				t.Errorf("search as the bound user: %d entries, %v", len(es), err)
			}
		})
	}
	// A cancelled bind is reported as such, for the server to map.
	f := fixture()
	f.authErr = context.Canceled
	d := newDIT(t, f)
	if _, err := d.bind(context.Background(), aliceDN, []byte("x"), client, false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestResultTable pins the one mapping from directory errors to LDAP
// results, and that no Reason reaches a client.
func TestResultTable(t *testing.T) {
	tests := []struct {
		code directory.Code
		want ldap.ResultCode
		diag string
	}{
		{directory.CodeInvalidCredentials, ldap.InvalidCredentials, "The credentials provided were invalid."},
		// A policy denial is the one whose Message goes to the client (it
		// may say what is missing); see below.
		{directory.CodePolicyDenied, ldap.InvalidCredentials, "secret message"},
		{directory.CodeUnavailable, ldap.Unavailable, "directory temporarily unavailable; retry"},
		{directory.CodeThrottled, ldap.Busy, "too many failed binds from this address; try again later"},
		{directory.CodeNotFound, ldap.NoSuchObject, "no such entry"},
		{directory.CodeForbidden, ldap.InsufficientAccessRights, "insufficient access rights"},
		{directory.CodeInvalid, ldap.UnwillingToPerform, "the request is not valid"},
		{directory.CodeIllegalTransition, ldap.UnwillingToPerform, "the operation is not allowed in the entry's current state"},
		{directory.CodeConflict, ldap.EntryAlreadyExists, "the entry already exists"},
		{directory.CodeInternal, ldap.OperationsError, "internal error"},
		{directory.Code(99), ldap.OperationsError, "internal error"},
	}
	for _, tt := range tests {
		err := ldapError(fmt.Errorf("wrapped: %w", &directory.Error{Code: tt.code, Message: "secret message", Reason: "secret reason"}))
		re, ok := err.(*ldapserver.ResultError)
		leak := ok && strings.Contains(re.Error(), "secret reason") || ok && (tt.code != directory.CodePolicyDenied && strings.Contains(re.Error(), "secret"))
		if !ok || re.Code != tt.want || re.Diagnostic != tt.diag || leak {
			t.Errorf("%v: %v, want %v %q", tt.code, err, tt.want, tt.diag)
		}
	}
	if re := ldapError(&directory.Error{Code: directory.CodePolicyDenied}).(*ldapserver.ResultError); re.Diagnostic != directory.MsgPolicyDenied {
		t.Errorf("policy denial without a message: %q", re.Diagnostic)
	}
	if err := ldapError(context.DeadlineExceeded); err != context.DeadlineExceeded {
		t.Errorf("deadline: %v", err)
	}
	if re, ok := ldapError(errors.New("secret")).(*ldapserver.ResultError); !ok || re.Code != ldap.OperationsError || re.Diagnostic != "internal error" {
		t.Errorf("plain error: %v", re)
	}
}

func TestCompare(t *testing.T) {
	d := newDIT(t, fixture())
	tests := []struct {
		name            string
		who             *ldapserver.Identity
		dn, attr, value string
		want            bool
		code            ldap.ResultCode
	}{
		{"equal, case ignored", asAdmin, aliceDN, "mail", "ALICE@acme.example", true, 0},
		{"different", asAdmin, aliceDN, "mail", "bob@acme.example", false, 0},
		{"attribute alias", asAdmin, aliceDN, "commonName", "alice l.", true, 0},
		{"memberOf, DN matching", asAdmin, aliceDN, "memberOf", "CN=Engineering, OU=Groups,DC=acme,DC=okta,DC=com", true, 0},
		{"uniqueMember", asAdmin, engDN, "uniqueMember", bobDN, true, 0},
		{"objectClass by OID", asAdmin, aliceDN, "objectClass", "2.16.840.1.113730.3.2.2", true, 0},
		{"custom attribute", asAdmin, aliceDN, "costCenter", "cc-42", true, 0},
		{"custom attribute differs", asAdmin, aliceDN, "costCenter", "cc-43", false, 0},
		{"DN in any case", asAdmin, "UID=ALICE@acme.example,OU=users," + acmeBase, "uid", "alice@acme.example", true, 0},
		{"userPassword", asAdmin, aliceDN, "userPassword", "leak", false, ldap.InsufficientAccessRights},
		{"userPassword by OID", asAdmin, aliceDN, "2.5.4.35", "leak", false, ldap.InsufficientAccessRights},
		{"unknown type", asAdmin, aliceDN, "bogus", "x", false, ldap.UndefinedAttributeType},
		{"absent attribute", asAdmin, carolDN, "title", "x", false, ldap.NoSuchAttribute},
		{"no such entry", asAdmin, "uid=nobody," + usersOU, "uid", "nobody", false, ldap.NoSuchObject},
		{"invalid DN", asAdmin, "nope", "uid", "x", false, ldap.InvalidDNSyntax},
		{"another org", asHank, aliceDN, "uid", "alice@acme.example", false, ldap.NoSuchObject},
		{"user, itself", asAlice, aliceDN, "uid", "alice@acme.example", true, 0},
		{"user, another user", asAlice, bobDN, "uid", "bob+test@acme.example", false, ldap.NoSuchObject},
		{"user, a group", asAlice, engDN, "cn", "Engineering", false, ldap.NoSuchObject},
		{"suspended", as(acmeID, samID, samDN), samDN, "uid", "sam@acme.example", false, ldap.InsufficientAccessRights},
		{"not bound", nil, aliceDN, "uid", "alice@acme.example", false, ldap.InsufficientAccessRights},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.compare(tt.who, &ldap.CompareRequest{Entry: tt.dn, Attr: tt.attr, Value: tt.value})
			if code := resultCode(t, err); code != tt.code || got != tt.want {
				t.Errorf("compare = %v, %v; want %v, %v", got, err, tt.want, tt.code)
			}
		})
	}
}

func TestWhoAmI(t *testing.T) {
	d := newDIT(t, fixture())
	x, err := d.Extended(context.Background(), &ldapserver.Session{}, &ldap.ExtendedRequest{Name: ldap.OIDWhoAmI}, nil)
	if err != nil || !x.HasValue || len(x.Value) != 0 {
		t.Errorf("anonymous WhoAmI: %+v %v", x, err)
	}
	if x := whoAmI(asAlice); string(x.Value) != "dn:"+aliceDN {
		t.Errorf("WhoAmI: %q", x.Value)
	}
	if _, err := d.Extended(context.Background(), &ldapserver.Session{}, &ldap.ExtendedRequest{Name: "1.3.6.1.4.1.4203.1.11.99"}, nil); !errors.Is(err, ldapserver.ErrUnknownExtended) {
		t.Errorf("unknown extended operation: %v", err)
	}
}
