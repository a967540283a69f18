package dit_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/dit"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

const pwBase = "dc=acme,dc=okta,dc=com"

func pwDN(login string) string { return "uid=" + login + ",ou=users," + pwBase }

// passwordDirectory serves a real directory (SQLite) over LDAP with a
// password policy (12 characters, a digit, history 3) and users: alice
// and bob (no role), ops (ORG_ADMIN), svc (READ_ONLY_ADMIN), root
// (SUPER_ADMIN); each one's password is "<login>-Passw0rd".
func passwordDirectory(t *testing.T) (*directory.Directory, string) {
	t.Helper()
	ctx := context.Background()
	dir := realDirectory(t)
	if _, err := dir.CreateOrg(ctx, directory.OrgInput{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	for login, role := range map[string]string{"alice": "", "bob": "", "ops": directory.RoleOrgAdmin,
		"svc": directory.RoleReadOnlyAdmin, "root": directory.RoleSuperAdmin} {
		in := directory.UserInput{Profile: directory.Profile{Login: login}, Password: []byte(login + "-Passw0rd")}
		if role != "" {
			in.Roles = []string{role}
		}
		if _, err := dir.CreateUser(ctx, "acme", in); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := policy.Parse([]byte(`{"kind": "password", "name": "Strong", "priority": 1,
		"people": {"groups": {"include": ["Everyone"]}},
		"settings": {"minLength": 12, "minNumber": 1, "history": 3}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.ApplyPolicies(ctx, "acme", ps, directory.PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	return dir, serveDirectory(t, dir)
}

// realDirectory is a directory over a fresh SQLite store, argon2 made
// cheap for tests.
func realDirectory(t *testing.T) *directory.Directory {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir, err := directory.New(directory.Config{Store: st, Password: password.Params{Memory: 64, Time: 1, Threads: 1},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	return dir
}

// serveDirectory serves dir over plain LDAP on 127.0.0.1 through a DIT
// that follows its changes every 10 ms, and returns the URL.
func serveDirectory(t *testing.T, dir *directory.Directory) string {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	d, err := dit.New(dir, dit.Options{PollInterval: 10 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return dit.Serve(t, d)
}

func pwBind(t *testing.T, url, login, pw string) *goldap.Conn {
	t.Helper()
	c, err := goldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(pwDN(login), pw); err != nil {
		t.Fatalf("bind as %s: %v", login, err)
	}
	return c
}

// binds reports whether login binds with pw.
func binds(t *testing.T, url, login, pw string) bool {
	t.Helper()
	c, err := goldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.Bind(pwDN(login), pw) == nil
}

// wantCode fails unless err is an LDAP result with code and a diagnostic
// holding diag.
func wantCode(t *testing.T, what string, err error, code uint16, diag string) {
	t.Helper()
	var le *goldap.Error
	if !errors.As(err, &le) || le.ResultCode != code || !strings.Contains(le.Err.Error(), diag) {
		t.Errorf("%s: %v, want result %d (%s) with %q", what, err, code, goldap.LDAPResultCodeMap[code], diag)
	}
}

// TestPasswordModify: RFC 3062 over a real directory. A user changes its
// own password with the old one, under the password policy and its
// history; an ORG_ADMIN sets another user's (and can have one generated);
// a read-only admin, a plain user, and an ORG_ADMIN for a SUPER_ADMIN
// cannot; each change is in the system log with its actor.
func TestPasswordModify(t *testing.T) {
	dir, url := passwordDirectory(t)
	alice := pwBind(t, url, "alice", "alice-Passw0rd")
	pm := func(c *goldap.Conn, who, old, new string) (*goldap.PasswordModifyResult, error) {
		return c.PasswordModify(goldap.NewPasswordModifyRequest(who, old, new))
	}

	_, err := pm(alice, "", "", "Alice-Second-1")
	wantCode(t, "own change without the old password", err, goldap.LDAPResultUnwillingToPerform, "takes your current one")
	_, err = pm(alice, "", "wrong-Passw0rd", "Alice-Second-1")
	wantCode(t, "own change with a wrong old password", err, goldap.LDAPResultInvalidCredentials, "old password is wrong")
	_, err = pm(alice, "", "alice-Passw0rd", "short1")
	wantCode(t, "too short", err, goldap.LDAPResultConstraintViolation, "at least 12 characters")
	_, err = pm(alice, "", "alice-Passw0rd", "alice-Passw0rd")
	wantCode(t, "the current password again", err, goldap.LDAPResultConstraintViolation, "password requirements were not met")
	if _, err := pm(alice, "", "alice-Passw0rd", "Alice-Second-1"); err != nil {
		t.Fatalf("own change: %v", err)
	}
	if binds(t, url, "alice", "alice-Passw0rd") || !binds(t, url, "alice", "Alice-Second-1") {
		t.Fatal("after the change, the old password still binds or the new one does not")
	}
	// userIdentity naming oneself, as a DN and as an authzId.
	if _, err := pm(alice, "dn:"+pwDN("alice"), "Alice-Second-1", "Alice-Third-22"); err != nil {
		t.Fatalf("own change by dn: %v", err)
	}
	_, err = pm(alice, "u:alice", "Alice-Third-22", "Alice-Second-1")
	wantCode(t, "back to a password in the history", err, goldap.LDAPResultConstraintViolation, "password requirements were not met")

	// Another user's password.
	_, err = pm(alice, pwDN("bob"), "", "Bob-By-Alice-1")
	wantCode(t, "a plain user for another", err, goldap.LDAPResultInsufficientAccessRights, "only an ORG_ADMIN or SUPER_ADMIN")
	_, err = pm(alice, pwDN("nobody"), "", "Bob-By-Alice-1")
	wantCode(t, "a plain user for nobody (no existence told)", err, goldap.LDAPResultInsufficientAccessRights, "only an ORG_ADMIN or SUPER_ADMIN")
	svc := pwBind(t, url, "svc", "svc-Passw0rd")
	_, err = pm(svc, pwDN("bob"), "", "Bob-By-Svc-11")
	wantCode(t, "a read-only admin for another", err, goldap.LDAPResultInsufficientAccessRights, "ORG_ADMIN or SUPER_ADMIN")
	ops := pwBind(t, url, "ops", "ops-Passw0rd")
	_, err = pm(ops, pwDN("nobody"), "", "Bob-By-Ops-11")
	wantCode(t, "an admin for nobody", err, goldap.LDAPResultNoSuchObject, "names no user")
	_, err = pm(ops, pwDN("root"), "", "Root-By-Ops-11")
	wantCode(t, "an ORG_ADMIN for a SUPER_ADMIN", err, goldap.LDAPResultInsufficientAccessRights, "only a super admin")
	_, err = pm(ops, pwDN("bob"), "", "weak")
	wantCode(t, "an admin's weak password", err, goldap.LDAPResultConstraintViolation, "at least 12 characters")
	if _, err := pm(ops, pwDN("bob"), "", "Bob-By-Ops-11"); err != nil {
		t.Fatalf("admin reset: %v", err)
	}
	if !binds(t, url, "bob", "Bob-By-Ops-11") {
		t.Fatal("bob does not bind with the password ops set")
	}
	res, err := pm(ops, "u:bob", "", "")
	if err != nil || len(res.GeneratedPassword) < 16 {
		t.Fatalf("generated password: %+v %v", res, err)
	}
	if !binds(t, url, "bob", res.GeneratedPassword) {
		t.Fatal("bob does not bind with the generated password")
	}
	root := pwBind(t, url, "root", "root-Passw0rd")
	if _, err := pm(root, pwDN("ops"), "", "Ops-By-Root-11"); err != nil {
		t.Fatalf("super admin sets an org admin's password: %v", err)
	}

	// Malformed value.
	_, err = alice.Extended(goldap.NewExtendedRequest("1.3.6.1.4.1.4203.1.11.1", asPacket("\x04\x00")))
	wantCode(t, "malformed value", err, goldap.LDAPResultProtocolError, "malformed Password Modify")

	// The system log: each change by its actor, no password anywhere.
	want := map[string]string{"alice": "alice", "bob": "ops", "ops": "root"}
	waitEvents(t, dir, func(evs []directory.LogEvent) bool {
		got := map[string]string{}
		for _, e := range evs {
			got[e.Target[0].AlternateID] = e.Actor.AlternateID
		}
		for target, actor := range want {
			if got[target] != actor {
				return false
			}
		}
		return true
	})
}

// TestUserPasswordModify: the userPassword Modify forms. A user deletes
// its old value and adds the new one; replacing is an admin's; a hash or
// any other attribute is refused.
func TestUserPasswordModify(t *testing.T) {
	_, url := passwordDirectory(t)
	alice := pwBind(t, url, "alice", "alice-Passw0rd")
	mod := func(c *goldap.Conn, login string, f func(*goldap.ModifyRequest)) error {
		r := goldap.NewModifyRequest(pwDN(login), nil)
		f(r)
		return c.Modify(r)
	}
	err := mod(alice, "alice", func(r *goldap.ModifyRequest) { r.Replace("userPassword", []string{"Alice-Second-1"}) })
	wantCode(t, "own replace", err, goldap.LDAPResultUnwillingToPerform, "delete the old value and add the new one")
	err = mod(alice, "alice", func(r *goldap.ModifyRequest) {
		r.Delete("userPassword", []string{"wrong-Passw0rd"})
		r.Add("userPassword", []string{"Alice-Second-1"})
	})
	wantCode(t, "own change, wrong old value", err, goldap.LDAPResultInvalidCredentials, "old password is wrong")
	err = mod(alice, "alice", func(r *goldap.ModifyRequest) {
		r.Delete("userPassword", []string{"alice-Passw0rd"})
		r.Add("userPassword", []string{"{SSHA}abcdefghijklmnop"})
	})
	wantCode(t, "a hash", err, goldap.LDAPResultUnwillingToPerform, "not a hash")
	err = mod(alice, "alice", func(r *goldap.ModifyRequest) { r.Replace("cn", []string{"Alice"}) })
	wantCode(t, "another attribute", err, goldap.LDAPResultUnwillingToPerform, "read-only but for passwords")
	if err := mod(alice, "alice", func(r *goldap.ModifyRequest) {
		r.Delete("userPassword", []string{"alice-Passw0rd"})
		r.Add("userPassword", []string{"Alice-Second-1"})
	}); err != nil {
		t.Fatalf("own change: %v", err)
	}
	if !binds(t, url, "alice", "Alice-Second-1") {
		t.Fatal("alice does not bind with her new password")
	}
	err = mod(alice, "bob", func(r *goldap.ModifyRequest) { r.Replace("userPassword", []string{"Bob-By-Alice-1"}) })
	wantCode(t, "a plain user replacing another's", err, goldap.LDAPResultInsufficientAccessRights, "only an ORG_ADMIN")
	ops := pwBind(t, url, "ops", "ops-Passw0rd")
	if err := mod(ops, "bob", func(r *goldap.ModifyRequest) { r.Replace("userPassword", []string{"Bob-By-Ops-11"}) }); err != nil {
		t.Fatalf("admin replace: %v", err)
	}
	if !binds(t, url, "bob", "Bob-By-Ops-11") {
		t.Fatal("bob does not bind with the password ops set")
	}
}

// waitEvents polls the org's update_password events until ok accepts
// them (the log is written asynchronously).
func waitEvents(t *testing.T, dir *directory.Directory, ok func([]directory.LogEvent) bool) {
	t.Helper()
	waitEventsOf(t, dir, directory.EventUserUpdatePassword, ok)
}

// waitEventsOf polls the org's events of one type until ok accepts them;
// it fails on a password in any of them.
func waitEventsOf(t *testing.T, dir *directory.Directory, eventType string, ok func([]directory.LogEvent) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var evs []directory.LogEvent
	for {
		stored, err := dir.Events(context.Background(), "acme", directory.EventFilter{EventType: eventType})
		if err != nil {
			t.Fatal(err)
		}
		evs = evs[:0]
		for _, s := range stored {
			if strings.Contains(string(s.Doc), "Passw0rd") || strings.Contains(string(s.Doc), "-By-") {
				t.Fatalf("a password in the system log: %s", s.Doc)
			}
			var e directory.LogEvent
			if err := json.Unmarshal(s.Doc, &e); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
		if ok(evs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s events: %+v", eventType, evs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// asPacket is an extended request's requestValue holding v as it is.
func asPacket(v string) *ber.Packet {
	return ber.NewString(ber.ClassContext, ber.TypePrimitive, 1, v, "requestValue")
}

// bindPolicy binds with the password policy control and returns the
// policy response (nil when there is none) and the bind's error.
func bindPolicy(t *testing.T, url, dn, pw string) (*goldap.Conn, *goldap.ControlBeheraPasswordPolicy, error) {
	t.Helper()
	c, err := goldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	res, err := c.SimpleBind(&goldap.SimpleBindRequest{Username: dn, Password: pw,
		Controls: []goldap.Control{goldap.NewControlBeheraPasswordPolicy()}})
	if res == nil {
		t.Fatalf("bind %s: no result: %v", dn, err)
	}
	var pp *goldap.ControlBeheraPasswordPolicy
	for _, ct := range res.Controls {
		if p, ok := ct.(*goldap.ControlBeheraPasswordPolicy); ok {
			pp = p
		}
	}
	return c, pp, err
}

// TestPasswordPolicyControl: binds with the password policy control get
// a well-formed response: bare on success and on a wrong password or an
// unknown user; accountLocked to a locked user who knew the password;
// changeAfterReset to a user whose password expired, whose connection
// may then change its password and do nothing else.
func TestPasswordPolicyControl(t *testing.T) {
	dir, url := passwordDirectory(t)
	ctx := context.Background()
	check := func(what string, pp *goldap.ControlBeheraPasswordPolicy, wantErr int8) {
		t.Helper()
		if pp == nil {
			t.Errorf("%s: no password policy control in the response", what)
		} else if pp.Error != wantErr || pp.Expire != -1 || pp.Grace != -1 {
			t.Errorf("%s: control %+v, want error %d", what, pp, wantErr)
		}
	}
	_, pp, err := bindPolicy(t, url, pwDN("alice"), "alice-Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	check("success", pp, -1)
	_, pp, err = bindPolicy(t, url, pwDN("alice"), "wrong-Passw0rd")
	wantCode(t, "wrong password", err, goldap.LDAPResultInvalidCredentials, directory.MsgInvalidCredentials)
	check("wrong password", pp, -1)
	_, pp, err = bindPolicy(t, url, pwDN("nobody"), "wrong-Passw0rd")
	wantCode(t, "unknown user", err, goldap.LDAPResultInvalidCredentials, directory.MsgInvalidCredentials)
	check("unknown user", pp, -1)

	// A locked account: told only with the right password.
	ps, err := policy.Parse([]byte(`{"kind": "password", "name": "Strong", "priority": 1,
		"people": {"groups": {"include": ["Everyone"]}},
		"settings": {"minLength": 12, "minNumber": 1, "history": 3, "lockout": {"maxAttempts": 2}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.ApplyPolicies(ctx, "acme", ps, directory.PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob locked out", func() bool {
		bindPolicy(t, url, pwDN("bob"), "wrong-Passw0rd")
		u, err := dir.User(ctx, "acme", "bob")
		return err == nil && u.Status == directory.StatusLockedOut
	})
	_, pp, err = bindPolicy(t, url, pwDN("bob"), "wrong-Passw0rd")
	wantCode(t, "locked, wrong password", err, goldap.LDAPResultInvalidCredentials, directory.MsgInvalidCredentials)
	check("locked, wrong password", pp, -1)
	_, pp, err = bindPolicy(t, url, pwDN("bob"), "bob-Passw0rd")
	wantCode(t, "locked, right password", err, goldap.LDAPResultInvalidCredentials, directory.MsgInvalidCredentials)
	check("locked, right password", pp, 1) // accountLocked

	// An expired password: without the control the bind fails as before;
	// with it the connection may change the password, and only that.
	if _, err := dir.Lifecycle(ctx, "acme", "alice", directory.ActionExpirePassword); err != nil {
		t.Fatal(err)
	}
	var c *goldap.Conn
	waitFor(t, "the expiry in the snapshot", func() bool {
		c, pp, err = bindPolicy(t, url, pwDN("alice"), "alice-Passw0rd")
		return err == nil && pp != nil && pp.Error == 2
	})
	// Without the control, the bind fails as any other (Okta's answer).
	if binds(t, url, "alice", "alice-Passw0rd") {
		t.Fatal("an expired password binds without the control")
	}
	check("expired", pp, 2) // changeAfterReset
	_, err = c.Search(goldap.NewSearchRequest(pwBase, goldap.ScopeWholeSubtree, 0, 0, 0, false, "(uid=alice)", nil, nil))
	wantCode(t, "a search before the change", err, goldap.LDAPResultInsufficientAccessRights, "the password has expired")
	_, err = c.PasswordModify(goldap.NewPasswordModifyRequest(pwDN("bob"), "", "Bob-By-Alice-1"))
	wantCode(t, "another's password", err, goldap.LDAPResultInsufficientAccessRights, "only an ORG_ADMIN")
	if _, err := c.PasswordModify(goldap.NewPasswordModifyRequest("", "alice-Passw0rd", "Alice-Renewed-1")); err != nil {
		t.Fatalf("changing the expired password: %v", err)
	}
	_, err = c.Search(goldap.NewSearchRequest(pwBase, goldap.ScopeWholeSubtree, 0, 0, 0, false, "(uid=alice)", nil, nil))
	wantCode(t, "a search after the change, before binding again", err, goldap.LDAPResultInsufficientAccessRights, "bind again")
	if u, err := dir.User(ctx, "acme", "alice"); err != nil || u.Status != directory.StatusActive {
		t.Fatalf("after the change: %+v %v", u, err)
	}
	waitFor(t, "the new password binds", func() bool { return binds(t, url, "alice", "Alice-Renewed-1") })
}

// waitFor retries ok until it holds (changes reach the snapshot within a
// poll).
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
