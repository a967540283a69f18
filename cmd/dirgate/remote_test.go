package main

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/api"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/sealed"
	"github.com/dirgate/dirgate/internal/store/sqlite"
	"github.com/dirgate/dirgate/internal/totp"
)

// remoteFixture is one data directory (org acme, custom attribute
// costCenter, a few users, groups and a pending factor) and the REST API
// served over the same database in-process (httptest.NewTLSServer): the
// same data, reached with --data and with --server.
type remoteFixture struct {
	t      *testing.T
	d      *directory.Directory // the server's
	data   string
	url    string
	caFile string
	// API tokens of an admin of each role.
	super, orgAdmin, readOnly string
}

// cheapArgon2 keeps the server's password hashing fast; the parameters
// are not under test.
var cheapArgon2 = password.Params{Memory: 64, Time: 1, Threads: 1}

func newRemoteFixture(t *testing.T) *remoteFixture {
	t.Helper()
	ctx := context.Background()
	f := &remoteFixture{t: t, data: initOrg(t, newCLI(t), "acme")}
	st, err := sqlite.Open(filepath.Join(f.data, dbFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := sealed.LoadOrCreateKey(filepath.Join(f.data, secretKeyFile)) // made by init, shared with --data
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealed.NewKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	f.d, err = directory.New(directory.Config{Store: st, Password: cheapArgon2, Secrets: keys, LoginFlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.d.Close(); st.Close() })
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []struct {
		login, role string
		token       *string
	}{
		{"super", directory.RoleSuperAdmin, &f.super},
		{"orgadmin", directory.RoleOrgAdmin, &f.orgAdmin},
		{"readonly", directory.RoleReadOnlyAdmin, &f.readOnly},
	} {
		must(f.d.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: a.login}, Roles: []string{a.role}}))
		_, secret, err := f.d.CreateToken(ctx, "acme", a.login, a.login+" token")
		must(nil, err)
		*a.token = secret
	}
	must(f.d.CreateUser(ctx, "acme", directory.UserInput{
		Profile: directory.Profile{Login: "alice", Email: "alice@acme.example", FirstName: "Alice", LastName: "Anders",
			Title: "Engineer", Department: "Eng", Custom: map[string]string{"costCenter": "42"}},
		Password: []byte("Alice-password-1")}))
	must(f.d.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "bob", FirstName: "Bob"}}))
	must(f.d.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "svc"}, ServiceAccount: true,
		Status: directory.StatusStaged, Roles: []string{directory.RoleReadOnlyAdmin}}))
	// Logins that are awkward in a URL path: a slash, and "me" (which in
	// a path is the token's own admin).
	must(f.d.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "team/bot"}}))
	must(f.d.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "me", FirstName: "Mia"}}))
	must(f.d.CreateGroup(ctx, "acme", directory.GroupInput{Name: "eng", Description: "Engineers"}))
	must(f.d.CreateGroup(ctx, "acme", directory.GroupInput{Name: "empty"}))
	must(f.d.AddMember(ctx, "acme", "eng", "alice"))
	must(f.d.AddMember(ctx, "acme", "eng", "bob"))
	must(f.d.EnrollTOTP(ctx, "acme", "bob")) // PENDING_ACTIVATION

	srv := httptest.NewUnstartedServer(api.New(api.Config{Directory: f.d, RateLimit: -1}).Handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// local runs a command on the data directory.
func (f *remoteFixture) local(stdin string, args ...string) result {
	f.t.Helper()
	c := newCLI(f.t)
	return c.run(stdin, append(args, "--data", f.data, "--org", "acme")...)
}

// remote runs a command on the server, with token in DIRGATE_TOKEN.
func (f *remoteFixture) remote(token, stdin string, args ...string) result {
	f.t.Helper()
	c := newCLI(f.t)
	c.env[envToken] = token
	return c.run(stdin, append(args, "--server", f.url, "--ca-file", f.caFile)...)
}

// sameResult fails unless l and r are the same, byte for byte.
func sameResult(t *testing.T, what string, l, r result) {
	t.Helper()
	if l != r {
		t.Errorf("%s: --data and --server differ\n--data:   exit %d\nstdout:\n%s\nstderr: %q\n--server: exit %d\nstdout:\n%s\nstderr: %q",
			what, l.code, l.stdout, l.stderr, r.code, r.stdout, r.stderr)
	}
}

// TestRemoteSameOutput runs each command once with --data and once with
// --server over the same data and wants the same stdout, stderr and exit
// code, byte for byte: reads (tables and JSON, ids and timestamps
// included) and writes that fail (so the data stays the same).
func TestRemoteSameOutput(t *testing.T) {
	f := newRemoteFixture(t)
	ctx := context.Background()
	bob, err := f.d.User(ctx, "acme", "bob")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string // in stdout or stderr: the case tests what it means to
	}{
		{"user list", "", []string{"user", "list"}, 0, "SUPER_ADMIN"},
		{"user list json", "", []string{"user", "list", "-o", "json"}, 0, `"costCenter": "42"`},
		{"user show", "", []string{"user", "show", "--login", "alice"}, 0, "costCenter:"},
		{"user show json", "", []string{"user", "show", "--login", "ALICE", "-o", "json"}, 0, `"passwordSet": true`},
		{"user show by id", "", []string{"user", "show", "--login", bob.ID, "-o", "json"}, 0, `"groups": [`},
		{"user show service account", "", []string{"user", "show", "--login", "svc"}, 0, "service_account"},
		{"user show login with a slash", "", []string{"user", "show", "--login", "team/bot"}, 0, "team/bot"},
		{"user show login me", "", []string{"user", "show", "--login", "me"}, 0, "Mia"},
		{"not found", "", []string{"user", "show", "--login", "nobody"}, 1, `no user "nobody" in org acme`},
		{"duplicate login", "pw-Abcdef-123\n", []string{"user", "create", "--login", "ALICE", "--password-stdin"}, 1, "a user with login ALICE already exists"},
		{"undeclared attribute", "", []string{"user", "create", "--login", "x", "--attr", "badge=1"}, 1, `profile attribute "badge" is not declared`},
		{"bad email", "", []string{"user", "create", "--login", "x", "--email", "nope"}, 1, `email "nope" is not an address`},
		{"unknown role on create", "", []string{"user", "create", "--login", "x", "--role", "god"}, 1, `unknown admin role "god"`},
		{"user list after the refused creates", "", []string{"user", "list"}, 0, "svc"},
		{"illegal lifecycle transition", "", []string{"user", "suspend", "--login", "svc"}, 1, "cannot suspend user svc: the user is STAGED"},
		{"unlock an active user", "", []string{"user", "unlock", "--login", "alice"}, 1, "cannot unlock user alice"},
		{"lifecycle of nobody", "", []string{"user", "activate", "--login", "nobody"}, 1, `no user "nobody"`},
		{"delete an active user", "", []string{"user", "delete", "--login", "alice"}, 1, "cannot delete user alice: the user is ACTIVE; deactivate it first"},
		{"delete nobody", "", []string{"user", "delete", "--login", "nobody"}, 1, `no user "nobody"`},
		{"user update", "", []string{"user", "update", "--login", "alice", "--set", "title=Chief"}, 0, "updated user alice"},
		{"user update an undeclared attribute", "", []string{"user", "update", "--login", "alice", "--set", "badge=1"}, 1, `profile attribute "badge" is not declared`},
		{"weak password", "x\n", []string{"user", "set-password", "--login", "alice", "--password-stdin"}, 1, "password"},
		{"remove a role not held", "", []string{"user", "remove-role", "--login", "alice", "--role", "org_admin"}, 1, "does not have the role ORG_ADMIN"},
		{"add an unknown role", "", []string{"user", "add-role", "--login", "alice", "--role", "god"}, 1, `unknown admin role "god"`},
		{"group list", "", []string{"group", "list"}, 0, "Engineers"},
		{"group list json", "", []string{"group", "list", "-o", "json"}, 0, `"members": 2`},
		{"group members", "", []string{"group", "members", "--name", "eng"}, 0, "bob"},
		{"group members json", "", []string{"group", "members", "--name", "ENG", "-o", "json"}, 0, `"login": "alice"`},
		{"group members of nothing", "", []string{"group", "members", "--name", "nogroup"}, 1, `no group "nogroup" in org acme`},
		{"duplicate group", "", []string{"group", "create", "--name", "ENG"}, 1, "a group named ENG already exists"},
		{"add to an unknown group", "", []string{"group", "add-member", "--group", "nogroup", "--login", "nobody"}, 1, `no group "nogroup"`},
		{"add an unknown user", "", []string{"group", "add-member", "--group", "eng", "--login", "nobody"}, 1, `no user "nobody"`},
		{"add a member again", "", []string{"group", "add-member", "--group", "eng", "--login", "alice"}, 0, "alice is already a member of eng"},
		{"remove a non-member", "", []string{"group", "remove-member", "--group", "empty", "--login", "alice"}, 0, "alice was not a member of empty"},
		{"delete an unknown group", "", []string{"group", "delete", "--name", "nogroup"}, 1, `no group "nogroup"`},
		{"groups in a group", "", []string{"group", "groups", "--group", "eng"}, 0, "NAME"},
		{"groups a group is in, json", "", []string{"group", "groups", "--group", "ENG", "--parents", "-o", "json"}, 0, "[]"},
		{"groups in nothing", "", []string{"group", "groups", "--group", "nogroup"}, 1, `no group "nogroup" in org acme`},
		{"a group in itself", "", []string{"group", "add-group", "--group", "eng", "--child", "ENG"}, 1, "group eng cannot be a member of itself"},
		{"a group in an unknown group", "", []string{"group", "add-group", "--group", "nogroup", "--child", "eng"}, 1, `no group "nogroup"`},
		{"an unknown group in a group", "", []string{"group", "add-group", "--group", "eng", "--child", "nogroup"}, 1, `no group "nogroup"`},
		{"remove a group not in", "", []string{"group", "remove-group", "--group", "eng", "--child", "empty"}, 0, "group empty was not in eng"},
		{"remove an unknown group", "", []string{"group", "remove-group", "--group", "eng", "--child", "nogroup"}, 1, `no group "nogroup"`},
		{"factor list pending", "", []string{"factor", "list", "--login", "bob"}, 0, "PENDING_ACTIVATION"},
		{"factor list json", "", []string{"factor", "list", "--login", "bob", "-o", "json"}, 0, `"factorType": "token:software:totp"`},
		{"factor list none", "", []string{"factor", "list", "--login", "alice"}, 0, "TYPE"},
		{"factor list of nobody", "", []string{"factor", "list", "--login", "nobody"}, 1, `no user "nobody"`},
		{"activate without a pending factor", "", []string{"factor", "activate", "--login", "alice", "--code", "123456"}, 1, "user alice has no TOTP factor waiting for activation"},
		{"reset factors of nobody", "", []string{"factor", "reset", "--login", "nobody"}, 1, `no user "nobody"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			l := f.local(tc.stdin, tc.args...)
			r := f.remote(f.super, tc.stdin, tc.args...)
			if l.code != tc.code || !strings.Contains(l.stdout+l.stderr, tc.want) {
				t.Errorf("--data: exit %d, want %d with %q\nstdout:\n%s\nstderr: %s", l.code, tc.code, tc.want, l.stdout, l.stderr)
			}
			sameResult(t, strings.Join(tc.args, " "), l, r)
		})
	}
	// The refused creates left nothing behind, either way.
	if r := f.local("", "user", "show", "--login", "x"); r.code != 1 {
		t.Errorf("user x exists after the refused creates:\n%s", r.stdout)
	}
}

// normalize replaces what two identical fixtures cannot share: ids,
// timestamps, TOTP secrets, and where the command worked (--data DIR
// --org acme, or --server URL) in the hint enroll prints.
func normalize(s string, where ...string) string {
	for _, w := range where {
		s = strings.ReplaceAll(s, w, "<WHERE>")
	}
	s = regexp.MustCompile(`\b(00[a-zA-Z])[0-9A-Za-z]{17}\b`).ReplaceAllString(s, "${1}<ID>")
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`).ReplaceAllString(s, "<TIME>")
	s = regexp.MustCompile(`(secret[:=] *)[A-Z2-7]+`).ReplaceAllString(s, "${1}<SECRET>")
	return s
}

type step struct {
	stdin string
	args  []string
	code  int
}

// TestRemoteSameWrites runs scenarios of writes step by step, with --data
// on one fixture and with --server on an identical one, and wants each
// step's output the same but for ids and timestamps (normalize).
func TestRemoteSameWrites(t *testing.T) {
	for _, sc := range []struct {
		name  string
		steps []step
	}{
		{"lifecycle", []step{
			{"", []string{"user", "activate", "--login", "svc"}, 0},
			{"", []string{"user", "suspend", "--login", "alice"}, 0},
			{"", []string{"user", "suspend", "--login", "alice"}, 1},
			{"", []string{"user", "unsuspend", "--login", "alice"}, 0},
			{"", []string{"user", "expire-password", "--login", "alice"}, 0},
			{"New-password-42\n", []string{"user", "set-password", "--login", "alice", "--password-stdin"}, 0},
			{"", []string{"user", "unlock", "--login", "alice"}, 1},
			{"", []string{"user", "deactivate", "--login", "me"}, 0},
			{"", []string{"user", "deactivate", "--login", "me"}, 1},
			{"", []string{"user", "delete", "--login", "me"}, 0},
			{"", []string{"user", "show", "--login", "me"}, 1},
			{"", []string{"user", "deactivate", "--login", "bob"}, 0},
			{"", []string{"user", "activate", "--login", "bob"}, 0},
			{"", []string{"user", "list"}, 0},
			{"", []string{"user", "list", "-o", "json"}, 0},
		}},
		{"create", []step{
			{"Carol-password-1\n", []string{"user", "create", "--login", "carol", "--email", "carol@acme.example", "--first", "Carol",
				"--last", "Cole", "--display-name", "CC", "--nick-name", "cc", "--title", "CTO", "--department", "Exec", "--organization", "Acme",
				"--phone", "+1 555", "--mobile", "+1 556", "--attr", "costCenter=7", "--attr", "costcenter=", "--password-stdin"}, 0},
			{"", []string{"user", "create", "--login", "dave", "--service-account", "--role", "read_only_admin", "--role", "ORG_ADMIN", "--status", "staged"}, 0},
			{"", []string{"user", "create", "--login", "erin", "-o", "json"}, 0},
			{"", []string{"user", "create", "--login", "carol"}, 1},
			{"", []string{"user", "show", "--login", "carol"}, 0},
			{"", []string{"user", "show", "--login", "dave", "-o", "json"}, 0},
			{"", []string{"user", "list"}, 0},
		}},
		{"roles", []step{
			{"", []string{"user", "add-role", "--login", "alice", "--role", "org_admin"}, 0},
			{"", []string{"user", "add-role", "--login", "alice", "--role", "Super_Admin"}, 0},
			{"", []string{"user", "add-role", "--login", "alice", "--role", "super_admin"}, 0},
			{"", []string{"user", "remove-role", "--login", "alice", "--role", "ORG_ADMIN"}, 0},
			{"", []string{"user", "remove-role", "--login", "alice", "--role", "org_admin"}, 1},
			{"", []string{"user", "show", "--login", "alice"}, 0},
		}},
		{"groups", []step{
			{"", []string{"group", "create", "--name", "ops", "--description", "Operations"}, 0},
			{"", []string{"group", "create", "--name", "OPS"}, 1},
			{"", []string{"group", "add-member", "--group", "ops", "--login", "alice"}, 0},
			{"", []string{"group", "add-member", "--group", "ops", "--login", "alice"}, 0},
			{"", []string{"group", "add-member", "--group", "ops", "--login", "me"}, 0},
			{"", []string{"group", "remove-member", "--group", "ops", "--login", "bob"}, 0},
			{"", []string{"group", "remove-member", "--group", "eng", "--login", "bob"}, 0},
			{"", []string{"group", "members", "--name", "ops"}, 0},
			{"", []string{"group", "members", "--name", "ops", "-o", "json"}, 0},
			{"", []string{"group", "list"}, 0},
			{"", []string{"user", "show", "--login", "alice"}, 0},
			{"", []string{"group", "delete", "--name", "ops"}, 0},
			{"", []string{"group", "members", "--name", "ops"}, 1},
			{"", []string{"group", "list", "-o", "json"}, 0},
		}},
		{"nested groups", []step{
			{"", []string{"group", "create", "--name", "ops", "--description", "Operations"}, 0},
			{"", []string{"group", "add-group", "--group", "eng", "--child", "ops"}, 0},
			{"", []string{"group", "add-group", "--group", "ENG", "--child", "ops"}, 0},
			{"", []string{"group", "add-group", "--group", "ops", "--child", "eng"}, 1},
			{"", []string{"group", "add-group", "--group", "empty", "--child", "eng"}, 0},
			{"", []string{"group", "add-group", "--group", "ops", "--child", "empty"}, 1},
			{"", []string{"group", "groups", "--group", "eng"}, 0},
			{"", []string{"group", "groups", "--group", "eng", "--parents"}, 0},
			{"", []string{"group", "groups", "--group", "ops", "--parents", "-o", "json"}, 0},
			{"", []string{"group", "remove-group", "--group", "eng", "--child", "ops"}, 0},
			{"", []string{"group", "remove-group", "--group", "eng", "--child", "ops"}, 0},
			{"", []string{"group", "add-group", "--group", "ops", "--child", "empty"}, 0},
			{"", []string{"group", "groups", "--group", "ops"}, 0},
			{"", []string{"group", "delete", "--name", "empty"}, 0},
			{"", []string{"group", "groups", "--group", "eng", "--parents"}, 0},
			{"", []string{"group", "groups", "--group", "ops", "-o", "json"}, 0},
		}},
		{"policies", []step{
			{remotePolicies, []string{"policy", "apply", "-f", "-"}, 0},
			{remotePolicies, []string{"policy", "apply", "-f", "-"}, 0},
			{remotePolicies, []string{"policy", "create", "-f", "-"}, 1},
			{strings.Replace(remotePolicies, "minLength: 12", "minLength: 14", 1), []string{"policy", "update", "-f", "-"}, 0},
			{"kind: password\nname: nobody's\npriority: 1\npeople: {groups: {include: [Everyone]}}\n", []string{"policy", "update", "-f", "-"}, 1},
			{"kind: sign-on\nname: x\npriority: 7\npeople: {groups: {include: [nogroup]}}\n", []string{"policy", "apply", "-f", "-"}, 1},
			{"", []string{"policy", "list"}, 0},
			{"", []string{"policy", "list", "--output", "yaml"}, 0},
			{"", []string{"policy", "list", "--output", "json"}, 0},
			{"", []string{"policy", "delete", "--kind", "sign-on", "--name", "MFA over LDAP"}, 0},
			{"", []string{"policy", "delete", "--kind", "sign-on", "--name", "MFA over LDAP"}, 1},
			{"", []string{"policy", "list"}, 0},
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			lf, rf := newRemoteFixture(t), newRemoteFixture(t)
			for i, st := range sc.steps {
				l := lf.local(st.stdin, st.args...)
				r := rf.remote(rf.super, st.stdin, st.args...)
				what := strings.Join(st.args, " ")
				if l.code != st.code {
					t.Fatalf("step %d, %s: --data exit %d, want %d\nstdout:\n%s\nstderr: %s", i, what, l.code, st.code, l.stdout, l.stderr)
				}
				nl := result{l.code, normalize(l.stdout), normalize(l.stderr)}
				nr := result{r.code, normalize(r.stdout), normalize(r.stderr)}
				sameResult(t, "step "+what, nl, nr)
			}
		})
	}
}

// remotePolicies is a policy file for TestRemoteSameWrites.
const remotePolicies = `kind: sign-on
name: MFA over LDAP
priority: 1
people:
  groups: {include: [Everyone]}
  users: {exclude: [svc]}
rules:
  - name: LDAP needs MFA
    priority: 1
    conditions: {authType: ldap, network: {include: [0.0.0.0/0]}}
    action: mfa
---
kind: password
name: Strong
priority: 1
people: {groups: {include: [eng]}}
settings: {minLength: 12, history: 3, lockout: {maxAttempts: 5}}
`

// TestRemotePolicyRefusals: only a SUPER_ADMIN's token changes policies;
// any admin's lists them.
func TestRemotePolicyRefusals(t *testing.T) {
	f := newRemoteFixture(t)
	for _, tok := range []string{f.orgAdmin, f.readOnly} {
		r := f.remote(tok, remotePolicies, "policy", "apply", "-f", "-")
		if r.code != 1 || !strings.Contains(r.stderr, "SUPER_ADMIN") || r.stdout != "" {
			t.Errorf("policy apply with a non-super token: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	}
	if r := f.remote(f.readOnly, "", "policy", "list"); r.code != 0 {
		t.Errorf("policy list with a read-only token: exit %d, %s", r.code, r.stderr)
	}
}

// TestRemoteFactors enrols, activates and resets a factor both ways. The
// secrets differ (each fixture makes its own); the rest of the output is
// the same, but for what the REST API does not give: when an ACTIVE
// factor was activated ("unknown" with --server), and the words of a
// wrong code's refusal (the server's, Okta's).
func TestRemoteFactors(t *testing.T) {
	lf, rf := newRemoteFixture(t), newRemoteFixture(t)
	qrDir := t.TempDir()
	run := func(remote bool, args ...string) result {
		t.Helper()
		if remote {
			return rf.remote(rf.super, "", args...)
		}
		return lf.local("", args...)
	}
	both := func(want int, args ...string) (l, r result) {
		t.Helper()
		l, r = run(false, args...), run(true, args...)
		if l.code != want {
			t.Fatalf("%s: --data exit %d, want %d\n%s%s", strings.Join(args, " "), l.code, want, l.stdout, l.stderr)
		}
		sameResult(t, strings.Join(args, " "),
			result{l.code, normalize(l.stdout, "--data "+lf.data+" --org acme"), normalize(l.stderr)},
			result{r.code, normalize(r.stdout, "--server "+rf.url), normalize(r.stderr)})
		return l, r
	}
	secretOf := func(out string) []byte {
		t.Helper()
		m := regexp.MustCompile(`(?m)^secret: ([A-Z2-7]+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no secret in:\n%s", out)
		}
		return mustDecode(t, m[1])
	}

	l, r := both(0, "factor", "enroll", "--login", "alice")
	lSecret, rSecret := secretOf(l.stdout), secretOf(r.stdout)
	if !strings.Contains(r.stdout, "dirgate factor activate --server "+rf.url+" --login alice --code CODE") {
		t.Errorf("the --server enrol's hint does not name the server:\n%s", r.stdout)
	}
	// The QR code is the same picture of the same kind of URI.
	for _, remote := range []bool{false, true} {
		qr := filepath.Join(qrDir, map[bool]string{false: "l.png", true: "r.png"}[remote])
		if res := run(remote, "factor", "enroll", "--login", "bob", "--qr", qr); res.code != 0 {
			t.Fatalf("enroll --qr (remote %v): %+v", remote, res)
		}
		wantMode(t, qr, 0o600)
	}
	both(0, "factor", "list", "--login", "alice")
	both(1, "factor", "enroll", "--login", "nobody")

	// A wrong code: refused either way (exit 1, the factor stays pending),
	// in the directory's words locally and the server's remotely.
	l, r = run(false, "factor", "activate", "--login", "alice", "--code", wrongCode(t, totp.EncodeSecret(lSecret))),
		run(true, "factor", "activate", "--login", "alice", "--code", wrongCode(t, totp.EncodeSecret(rSecret)))
	if l.code != 1 || r.code != 1 || r.stdout != "" || !strings.Contains(l.stderr, "the TOTP code is wrong or expired") ||
		!strings.Contains(r.stderr, "dirgate: Invalid Passcode/Answer") {
		t.Errorf("wrong code:\n--data %+v\n--server %+v", l, r)
	}

	l, r = run(false, "factor", "activate", "--login", "alice", "--code", totp.Code(lSecret, time.Now())),
		run(true, "factor", "activate", "--login", "alice", "--code", totp.Code(rSecret, time.Now()))
	sameResult(t, "factor activate", result{l.code, normalize(l.stdout), l.stderr}, result{r.code, normalize(r.stdout), r.stderr})
	if l.code != 0 {
		t.Fatalf("activate: %+v", l)
	}
	both(1, "factor", "activate", "--login", "alice", "--code", "123456")
	both(1, "factor", "enroll", "--login", "alice")

	// An ACTIVE factor's activation time: the API does not give it.
	l, r = run(false, "factor", "list", "--login", "alice"), run(true, "factor", "list", "--login", "alice")
	wantL := regexp.MustCompile(`(?m)^token:software:totp\s+ACTIVE\s+\S+Z\s+\S+Z\s+00f\w{17}$`)
	wantR := regexp.MustCompile(`(?m)^token:software:totp\s+ACTIVE\s+\S+Z\s+unknown\s+00f\w{17}$`)
	if !wantL.MatchString(l.stdout) || !wantR.MatchString(r.stdout) {
		t.Errorf("factor list of an active factor:\n--data:\n%s--server:\n%s", l.stdout, r.stdout)
	}
	l, r = run(false, "factor", "list", "--login", "alice", "-o", "json"), run(true, "factor", "list", "--login", "alice", "-o", "json")
	if !strings.Contains(l.stdout, `"activated"`) || strings.Contains(r.stdout, `"activated"`) {
		t.Errorf("factor list json of an active factor:\n--data:\n%s--server:\n%s", l.stdout, r.stdout)
	}

	both(0, "factor", "reset", "--login", "alice")
	both(0, "factor", "reset", "--login", "alice")
	both(0, "factor", "list", "--login", "alice")
}

// TestRemoteRefusals: what only --server can refuse (the token, its
// role, the connection), each with exit code 1 (2 for usage), nothing on
// stdout and one clear line on stderr; and nothing written.
func TestRemoteRefusals(t *testing.T) {
	f := newRemoteFixture(t)
	goodFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(goodFile, []byte(f.orgAdmin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	openFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(openFile, []byte(f.orgAdmin), 0o644); err != nil {
		t.Fatal(err)
	}
	unknownToken := "00" + strings.Repeat("A", 40)
	for _, tc := range []struct {
		name  string
		env   map[string]string // DIRGATE_TOKEN unless given
		args  []string          // --server and --ca-file are added unless "-server" is
		code  int
		want  string
		check []string // a --data command that must fail after (nothing written)
	}{
		{"bad token (401)", map[string]string{envToken: unknownToken}, []string{"user", "list"}, 1,
			"the server refused the API token (Invalid token provided)", nil},
		{"malformed token (401)", map[string]string{envToken: "not-a-token"}, []string{"group", "list"}, 1,
			"the server refused the API token", nil},
		{"read-only token writing (403)", map[string]string{envToken: f.readOnly}, []string{"user", "create", "--login", "x"}, 1,
			"You do not have permission to perform the requested action: to change users and groups takes ORG_ADMIN or SUPER_ADMIN; readonly holds READ_ONLY_ADMIN",
			[]string{"user", "show", "--login", "x"}},
		{"read-only token suspending", map[string]string{envToken: f.readOnly}, []string{"user", "suspend", "--login", "alice"}, 1,
			"readonly holds READ_ONLY_ADMIN", nil},
		{"read-only token enrolling", map[string]string{envToken: f.readOnly}, []string{"factor", "enroll", "--login", "alice"}, 1,
			"You do not have permission", nil},
		{"read-only token creating a group", map[string]string{envToken: f.readOnly}, []string{"group", "create", "--name", "x"}, 1,
			"You do not have permission", []string{"group", "members", "--name", "x"}},
		{"org admin giving a role", map[string]string{envToken: f.orgAdmin}, []string{"user", "add-role", "--login", "bob", "--role", "org_admin"}, 1,
			"takes SUPER_ADMIN; orgadmin holds ORG_ADMIN", nil},
		{"org admin creating an admin: no user is left", map[string]string{envToken: f.orgAdmin},
			[]string{"user", "create", "--login", "x", "--role", "org_admin"}, 1, "takes SUPER_ADMIN", []string{"user", "show", "--login", "x"}},
		{"no token", map[string]string{}, []string{"user", "list"}, 2, "--server needs an API token: put it in DIRGATE_TOKEN or in a file named by --token-file", nil},
		{"token on the command line", map[string]string{}, []string{"user", "list", "--token", f.super}, 2, "--token is refused", nil},
		{"token and token file", nil, []string{"user", "list", "--token-file", goodFile}, 2, "DIRGATE_TOKEN and --token-file both give the API token", nil},
		{"token file others may read", map[string]string{}, []string{"user", "list", "--token-file", openFile}, 1, "chmod 600", nil},
		{"token file", map[string]string{}, []string{"user", "show", "--login", "alice", "--token-file", goodFile}, 0, "alice", nil},
		{"token file from the environment", map[string]string{"DIRGATE_TOKEN_FILE": goodFile}, []string{"user", "show", "--login", "alice"}, 0, "alice", nil},
		{"the token's org", nil, []string{"user", "list", "--org", "ACME"}, 0, "LOGIN", nil},
		{"another org", nil, []string{"user", "list", "--org", "other"}, 1, "--org other: the API token acts in org acme", nil},
		{"--data and --server", nil, []string{"user", "list", "--data", f.data}, 2, "--data and --server both say where to work", nil},
		{"no CA", nil, []string{"-server", "user", "list", "--server", f.url}, 1, "certificate signed by unknown authority (give the CA that signed the server's certificate with --ca-file", nil},
		{"a CA file that is not", nil, []string{"-server", "user", "list", "--server", f.url, "--ca-file", goodFile}, 2, "holds no PEM certificate", nil},
		{"not a URL", nil, []string{"-server", "user", "list", "--server", "127.0.0.1:8080"}, 2, "want https://HOST[:PORT], with the scheme", nil},
		{"plain http", nil, []string{"-server", "user", "list", "--server", "http://dirgate.example:8080"}, 2, "plain http would send the API token in clear", nil},
		{"nothing listening", nil, []string{"-server", "user", "list", "--server", "https://127.0.0.1:1"}, 1, "GET /api/v1/users: dial tcp 127.0.0.1:1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.env[envToken] = f.super
			if tc.env != nil {
				c.env = tc.env
			}
			args := tc.args
			if args[0] == "-server" {
				args = args[1:]
			} else {
				args = append(args, "--server", f.url, "--ca-file", f.caFile)
			}
			r := c.run("", args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout:\n%s\nstderr: %s", r.code, tc.code, tc.want, r.stdout, r.stderr)
			}
			if r.code != 0 && (r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "dirgate: ")) {
				t.Errorf("a failure prints one line on stderr and nothing on stdout:\nstdout: %q\nstderr: %q", r.stdout, r.stderr)
			}
			if tc.check != nil {
				if l := f.local("", tc.check...); l.code != 1 {
					t.Errorf("after the refusal, %s: exit %d\n%s", strings.Join(tc.check, " "), l.code, l.stdout)
				}
			}
		})
	}
}

// TestRemoteTokenNeverShown runs commands that succeed and fail in every
// way with --server, and wants no token (the right one, wrong ones, one
// given where it is refused) in any stdout or stderr.
func TestRemoteTokenNeverShown(t *testing.T) {
	f := newRemoteFixture(t)
	unknown := "00" + strings.Repeat("Z", 40)
	weird := "00tok\"en\\with/odd=chars&more"
	secrets := []string{f.super, f.orgAdmin, f.readOnly, unknown, weird}
	openFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(openFile, []byte(f.super), 0o644); err != nil {
		t.Fatal(err)
	}
	hostPort := strings.TrimPrefix(f.url, "https://")
	type run struct {
		env  map[string]string
		args []string
	}
	var runs []run
	for _, tok := range []string{f.super, f.readOnly, unknown, weird} {
		for _, args := range [][]string{
			{"user", "list"}, {"user", "list", "-o", "json"}, {"user", "show", "--login", "alice"}, {"user", "show", "--login", "nobody"},
			{"user", "create", "--login", "x", "--role", "org_admin"}, {"user", "delete", "--login", "x"},
			{"user", "suspend", "--login", "svc"}, {"user", "add-role", "--login", "bob", "--role", "super_admin"},
			{"group", "list"}, {"group", "add-member", "--group", "eng", "--login", "svc"}, {"group", "create", "--name", "eng"},
			{"factor", "enroll", "--login", "svc"}, {"factor", "list", "--login", "bob"}, {"factor", "reset", "--login", "svc"},
			{"user", "list", "--org", "other"},
		} {
			runs = append(runs, run{map[string]string{envToken: tok}, append(args, "--server", f.url, "--ca-file", f.caFile)})
		}
	}
	runs = append(runs,
		run{map[string]string{}, []string{"user", "list", "--token", f.super, "--server", f.url}},
		run{map[string]string{}, []string{"user", "list", "--token=" + f.super, "--server", f.url}},
		run{map[string]string{}, []string{"user", "list", "--token-file", openFile, "--server", f.url}},
		run{map[string]string{envToken: f.super}, []string{"user", "list", "--server", f.url}}, // unknown CA
		run{map[string]string{envToken: f.super}, []string{"user", "list", "--server", "https://x:" + f.super + "@" + hostPort}},
		run{map[string]string{envToken: f.super}, []string{"user", "list", "--server", "https://" + f.super + "@" + hostPort}},
		run{map[string]string{envToken: f.super}, []string{"user", "list", "--server", f.super}},
		run{map[string]string{envToken: f.super}, []string{"user", "list", "--server", f.url + "/?token=" + f.super}},
		run{map[string]string{envToken: f.super}, []string{"user", "list", "--server", "http://dirgate.example/" + f.super}},
		run{map[string]string{envToken: f.super + "\n" + f.super}, []string{"user", "list", "--server", f.url, "--ca-file", f.caFile}},
	)
	failures := 0
	for _, rn := range runs {
		c := newCLI(t)
		c.env = rn.env
		r := c.run("", rn.args...)
		if r.code != 0 {
			failures++
		}
		for _, s := range secrets {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("a token is shown by %v:\nstdout:\n%s\nstderr: %s", redactArgs(rn.args, secrets), r.stdout, r.stderr)
			}
		}
	}
	if failures < len(runs)/2 {
		t.Errorf("only %d of %d runs failed: the test does not reach the errors", failures, len(runs))
	}
}

func redactArgs(args, secrets []string) string {
	s := strings.Join(args, " ")
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "<TOKEN>")
	}
	return s
}

// TestRemoteHelp: every command that takes --server says so, and how the
// token is given.
func TestRemoteHelp(t *testing.T) {
	c := newCLI(t)
	root := (&app{}).rootCmd()
	n := 0
	for _, parent := range []string{"user", "group", "factor", "policy"} {
		p, _, err := root.Find([]string{parent})
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range p.Commands() {
			n++
			out := c.ok("", parent, sub.Name(), "--help")
			for _, want := range []string{"--server URL", "--token-file", "--ca-file", "DIRGATE_TOKEN", "never from the command line"} {
				if !strings.Contains(out, want) {
					t.Errorf("dirgate %s %s --help lacks %q", parent, sub.Name(), want)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d commands take --server", n)
	}
	// The commands that stay local do not take it.
	if r := c.run("", "logs", "--org", "x", "--server", "https://x"); r.code != 2 || !strings.Contains(r.stderr, "unknown flag: --server") {
		t.Errorf("logs --server: %+v", r)
	}
}
