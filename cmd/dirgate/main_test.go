package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
)

// syncBuffer is a bytes.Buffer safe for a serve goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs one command in-process with stdin and an environment of its
// own (never the test process's DIRGATE_* variables).
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli { return &cli{t: t, env: map[string]string{}} }

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	var out, errb syncBuffer
	a := &app{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		lookupEnv: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok },
	}
	code := run(context.Background(), args, a)
	return result{code, out.String(), errb.String()}
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("dirgate %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must exit with code and print an error
// containing want, on one line starting "dirgate: ".
func (c *cli) fails(code int, want string, stdin string, args ...string) result {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != code {
		c.t.Fatalf("dirgate %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "dirgate: ") || !strings.Contains(last, want) {
		c.t.Fatalf("dirgate %s: stderr %q, want a 'dirgate: ' line containing %q", strings.Join(args, " "), r.stderr, want)
	}
	return r
}

func TestVersion(t *testing.T) {
	out := newCLI(t).ok("", "version")
	if !regexp.MustCompile(`^dirgate \S+ \(go\S+, \w+/\w+\)\n$`).MatchString(out) {
		t.Errorf("version output %q", out)
	}
}

func TestUsageErrors(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command given"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown subcommand", []string{"user", "frobnicate"}, `unknown command "frobnicate" for "dirgate user"`},
		{"missing subcommand", []string{"group"}, "dirgate group needs a subcommand"},
		{"unknown flag", []string{"user", "list", "--bogus"}, "unknown flag: --bogus"},
		{"missing required flag", []string{"user", "list", "--data", data}, `required flag(s) "org" not set`},
		{"missing login", []string{"user", "show", "--data", data, "--org", "x"}, `required flag(s) "login" not set`},
		{"extra argument", []string{"user", "list", "--org", "x", "extra"}, `unknown command "extra"`},
		{"import without file", []string{"import", "--org", "x"}, "accepts 1 arg(s)"},
		{"bad output format", []string{"user", "list", "--data", data, "--org", "x", "--output", "yaml"}, "--output must be table or json"},
		{"bad log level", []string{"serve", "--data", data, "--log-level", "loud"}, "--log-level must be"},
		{"tls-cert without key", []string{"serve", "--data", data, "--tls-cert", "x.pem"}, "--tls-cert and --tls-key go together"},
		{"bad status", []string{"user", "create", "--data", data, "--org", "x", "--login", "a", "--status", "SUSPENDED"}, "--status must be STAGED or ACTIVE"},
		{"bad attr", []string{"user", "create", "--data", data, "--org", "x", "--login", "a", "--attr", "novalue"}, "--attr wants NAME=VALUE"},
		{"missing config file", []string{"user", "list", "--config", filepath.Join(data, "nope.yaml"), "--org", "x"}, "nope.yaml"},
		{"argon2 memory too small", []string{"user", "list", "--data", data, "--org", "x", "--argon2-memory", "1"}, "argon2 parameters m=1 KiB"},
		{"argon2 threads too many", []string{"user", "list", "--data", data, "--org", "x", "--argon2-threads", "200"}, "p=200 are out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			r := c.fails(2, tc.want, "", tc.args...)
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && !strings.Contains(r.stderr, "Usage:") {
				t.Errorf("error is not one line: %q", r.stderr)
			}
		})
	}
}

// TestHelp runs --help on every command.
func TestHelp(t *testing.T) {
	root := (&app{}).rootCmd()
	var paths [][]string
	var walk func(prefix []string, cmds []*cobra.Command)
	walk = func(prefix []string, cmds []*cobra.Command) {
		for _, c := range cmds {
			p := append(append([]string{}, prefix...), c.Name())
			paths = append(paths, p)
			walk(p, c.Commands())
		}
	}
	walk(nil, root.Commands())
	if len(paths) < 25 {
		t.Fatalf("only %d commands found", len(paths))
	}
	c := newCLI(t)
	for _, p := range paths {
		r := c.run("", append(p, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "dirgate "+strings.Join(p, " ")) {
			t.Errorf("dirgate %s --help: exit %d\n%s%s", strings.Join(p, " "), r.code, r.stdout, r.stderr)
		}
	}
	if out := c.ok("", "--help"); !strings.Contains(out, "DIRGATE_") || !strings.Contains(out, "--config") {
		t.Errorf("root help lacks the config and environment description:\n%s", out)
	}
}

func TestNoDatabase(t *testing.T) {
	c := newCLI(t)
	missing := filepath.Join(t.TempDir(), "nothing-here")
	c.fails(1, "no dirgate database at "+filepath.Join(missing, "dirgate.db"), "", "user", "list", "--data", missing, "--org", "x")
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Error("a failed command created the data directory")
	}
}

func TestInit(t *testing.T) {
	c := newCLI(t)
	data := filepath.Join(t.TempDir(), "d")
	out := c.ok("", "init", "--data", data, "--org", "acme")
	if out != "created org acme (dc=acme,dc=okta,dc=com) in "+data+"\n" {
		t.Errorf("init output %q", out)
	}
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir: %v %v", fi, err)
	}
	c.fails(1, "org acme already exists", "", "init", "--data", data, "--org", "acme")
	c.fails(1, `org name "Bad_Name"`, "", "init", "--data", data, "--org", "Bad_Name")
	out = c.ok("", "init", "--data", data, "--org", "corp", "--suffix", "dc=corp,dc=example", "--custom-attribute", "costCenter", "--custom-attribute", "badge")
	if !strings.Contains(out, "dc=corp,dc=corp,dc=example") {
		t.Errorf("init output %q", out)
	}
	c.fails(1, "would shadow a built-in LDAP attribute", "", "init", "--data", data, "--org", "x", "--custom-attribute", "mail")
}

func initOrg(t *testing.T, c *cli, org string) string {
	t.Helper()
	data := t.TempDir()
	c.ok("", "init", "--data", data, "--org", org, "--custom-attribute", "costCenter")
	return data
}

func TestUsers(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	u := func(args ...string) []string { return append(args, "--data", data, "--org", "acme") }

	out := c.ok("alice-password\n", u("user", "create", "--login", "alice", "--email", "alice@acme.example", "--first", "Alice", "--last", "Anders",
		"--title", "Engineer", "--department", "Eng", "--attr", "costCenter=42", "--password-stdin")...)
	if !regexp.MustCompile(`^created user alice \(00u[0-9A-Za-z]{17}\) ACTIVE\n$`).MatchString(out) {
		t.Errorf("create output %q", out)
	}
	out = c.ok("", u("user", "create", "--login", "svc", "--service-account", "--role", "read_only_admin", "--status", "staged")...)
	if !strings.Contains(out, "STAGED (no password") {
		t.Errorf("create output %q", out)
	}
	c.fails(1, "a user with login ALICE already exists", "password\n", u("user", "create", "--login", "ALICE", "--password-stdin")...)
	c.fails(1, `profile attribute "badge" is not declared`, "", u("user", "create", "--login", "x", "--attr", "badge=1")...)
	c.fails(1, `unknown admin role "god"`, "", u("user", "create", "--login", "x", "--role", "god")...)
	c.fails(1, "email \"nope\" is not an address", "", u("user", "create", "--login", "x", "--email", "nope")...)
	c.fails(1, "stdin holds no password", "\n", u("user", "create", "--login", "x", "--password-stdin")...)
	c.fails(1, `no org named "nope"`, "", "user", "list", "--data", data, "--org", "nope")

	// list: a table, and JSON without any credential.
	out = c.ok("", u("user", "list")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^LOGIN\s+STATUS\s+TYPE\s+ROLES\s+ID$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^alice\s+ACTIVE\s+person\s+-\s+00u`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^svc\s+STAGED\s+service_account\s+READ_ONLY_ADMIN\s+00u`).MatchString(lines[2]) {
		t.Errorf("user list:\n%s", out)
	}
	out = c.ok("", u("user", "list", "--output", "json")...)
	var users []userView
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("user list json: %v\n%s", err, out)
	}
	if len(users) != 2 || users[0].Profile.Login != "alice" || !users[0].PasswordSet || users[1].PasswordSet ||
		users[0].Profile.Custom["costCenter"] != "42" || users[1].Roles[0] != "READ_ONLY_ADMIN" {
		t.Errorf("user list json: %+v", users)
	}
	if strings.Contains(out, "ARGON2") || strings.Contains(out, "alice-password") {
		t.Error("a credential in the JSON")
	}

	// show
	out = c.ok("", u("user", "show", "--login", "alice")...)
	for _, want := range []string{"login:", "alice", "status:", "ACTIVE", "costCenter:", "42", "password:", "set"} {
		if !strings.Contains(out, want) {
			t.Errorf("user show lacks %q:\n%s", want, out)
		}
	}
	c.fails(1, `no user "zoe" in org acme`, "", u("user", "show", "--login", "zoe")...)

	// lifecycle, with the errors Okta's rules give.
	c.fails(1, "cannot suspend user svc: the user is STAGED; from STAGED the allowed actions are: activate, deactivate", "", u("user", "suspend", "--login", "svc")...)
	if out := c.ok("", u("user", "activate", "--login", "svc")...); out != "user svc is ACTIVE\n" {
		t.Errorf("activate: %q", out)
	}
	for _, step := range []struct{ cmd, want string }{
		{"suspend", "SUSPENDED"}, {"unsuspend", "ACTIVE"}, {"expire-password", "PASSWORD_EXPIRED"},
	} {
		if out := c.ok("", u("user", step.cmd, "--login", "alice")...); out != "user alice is "+step.want+"\n" {
			t.Errorf("%s: %q", step.cmd, out)
		}
	}
	c.fails(1, "cannot unlock user alice", "", u("user", "unlock", "--login", "alice")...)
	if out := c.ok("new-password\n", u("user", "set-password", "--login", "alice", "--password-stdin")...); !strings.Contains(out, "(ACTIVE)") {
		t.Errorf("set-password after expiry: %q", out)
	}
	c.fails(2, "pipe it in with --password-stdin", "", u("user", "set-password", "--login", "alice")...)
	c.fails(1, "cannot delete user alice: the user is ACTIVE; deactivate it first", "", u("user", "delete", "--login", "alice")...)

	// roles, case-insensitive.
	if out := c.ok("", u("user", "add-role", "--login", "alice", "--role", "org_admin")...); out != "user alice has roles: ORG_ADMIN\n" {
		t.Errorf("add-role: %q", out)
	}
	c.ok("", u("user", "add-role", "--login", "alice", "--role", "Super_Admin")...)
	if out := c.ok("", u("user", "remove-role", "--login", "alice", "--role", "ORG_ADMIN")...); out != "user alice has roles: SUPER_ADMIN\n" {
		t.Errorf("remove-role: %q", out)
	}
	c.fails(1, "does not have the role ORG_ADMIN", "", u("user", "remove-role", "--login", "alice", "--role", "org_admin")...)

	c.ok("", u("user", "deactivate", "--login", "alice")...)
	if out := c.ok("", u("user", "delete", "--login", "alice")...); out != "deleted user alice\n" {
		t.Errorf("delete: %q", out)
	}
	c.fails(1, `no user "alice"`, "", u("user", "show", "--login", "alice")...)
}

func TestGroups(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	g := func(args ...string) []string { return append(args, "--data", data, "--org", "acme") }
	for _, l := range []string{"alice", "bob"} {
		c.ok("", g("user", "create", "--login", l)...)
	}
	if out := c.ok("", g("group", "create", "--name", "eng", "--description", "Engineers")...); !strings.HasPrefix(out, "created group eng (00g") {
		t.Errorf("group create: %q", out)
	}
	c.ok("", g("group", "create", "--name", "empty")...)
	c.fails(1, "a group named ENG already exists", "", g("group", "create", "--name", "ENG")...)
	if out := c.ok("", g("group", "add-member", "--group", "eng", "--login", "alice")...); out != "added alice to eng\n" {
		t.Errorf("add-member: %q", out)
	}
	if out := c.ok("", g("group", "add-member", "--group", "eng", "--login", "alice")...); out != "alice is already a member of eng\n" {
		t.Errorf("add-member again: %q", out)
	}
	c.ok("", g("group", "add-member", "--group", "eng", "--login", "bob")...)
	c.fails(1, `no user "zoe"`, "", g("group", "add-member", "--group", "eng", "--login", "zoe")...)
	c.fails(1, `no group "ops"`, "", g("group", "add-member", "--group", "ops", "--login", "bob")...)
	c.fails(2, `required flag(s) "group" not set`, "", g("group", "add-member", "--login", "bob")...)

	out := c.ok("", g("group", "members", "--name", "eng")...)
	if !regexp.MustCompile(`(?s)^LOGIN\s+STATUS\s+TYPE\s+ID\nalice\s+ACTIVE.*\nbob\s+ACTIVE`).MatchString(out) {
		t.Errorf("members:\n%s", out)
	}
	out = c.ok("", g("group", "list")...)
	if !regexp.MustCompile(`(?m)^empty\s+0\s+00g\S+\s+-$`).MatchString(out) || !regexp.MustCompile(`(?m)^eng\s+2\s+00g\S+\s+Engineers$`).MatchString(out) {
		t.Errorf("group list:\n%s", out)
	}
	var gs []struct {
		Name    string
		Members int
	}
	if err := json.Unmarshal([]byte(c.ok("", g("group", "list", "-o", "json")...)), &gs); err != nil || len(gs) != 2 || gs[1].Members != 2 {
		t.Errorf("group list json: %+v %v", gs, err)
	}
	if out := c.ok("", g("user", "show", "--login", "bob")...); !regexp.MustCompile(`groups:\s+eng`).MatchString(out) {
		t.Errorf("user show groups:\n%s", out)
	}
	if out := c.ok("", g("group", "remove-member", "--group", "eng", "--login", "bob")...); out != "removed bob from eng\n" {
		t.Errorf("remove-member: %q", out)
	}
	if out := c.ok("", g("group", "remove-member", "--group", "eng", "--login", "bob")...); out != "bob was not a member of eng\n" {
		t.Errorf("remove-member again: %q", out)
	}
	c.ok("", g("group", "delete", "--name", "eng")...)
	c.fails(1, `no group "eng"`, "", g("group", "members", "--name", "eng")...)
}

func TestConfigPrecedence(t *testing.T) {
	c := newCLI(t)
	fileData := initOrg(t, c, "fromfile")
	envData := initOrg(t, c, "fromenv")
	flagData := initOrg(t, c, "fromflag")
	cfg := filepath.Join(t.TempDir(), "dirgate.yaml")
	os.WriteFile(cfg, []byte("data: "+fileData+"\norg: fromfile\noutput: json\n"), 0o600)

	orgOf := func(args ...string) string {
		t.Helper()
		out := c.ok("", append([]string{"user", "list"}, args...)...)
		// The data dir decides which org exists; each dir has one org.
		if strings.HasPrefix(out, "[") {
			return "json"
		}
		return out
	}
	// File only: data and org from the file, JSON from the file.
	if got := orgOf("--config", cfg); got != "json" {
		t.Errorf("file: output %q, want json", got)
	}
	// The file named by DIRGATE_CONFIG.
	c.env["DIRGATE_CONFIG"] = cfg
	if got := orgOf(); got != "json" {
		t.Errorf("DIRGATE_CONFIG: output %q", got)
	}
	// Environment over file.
	c.env["DIRGATE_DATA"], c.env["DIRGATE_ORG"], c.env["DIRGATE_OUTPUT"] = envData, "fromenv", "table"
	if got := orgOf(); !strings.HasPrefix(got, "LOGIN") {
		t.Errorf("env: output %q", got)
	}
	// The flag over both: the org exists only in flagData.
	c.ok("", "user", "create", "--login", "x", "--data", flagData, "--org", "fromflag")
	if got := c.ok("", "user", "list", "--data", flagData, "--org", "fromflag"); !strings.Contains(got, "\nx ") {
		t.Errorf("flag: %q", got)
	}
	// A wrong org from the environment is used (and fails), proving the
	// environment is read.
	c.env["DIRGATE_ORG"] = "fromfile"
	c.fails(1, `no org named "fromfile"`, "", "user", "list")

	// Configuration mistakes are usage errors.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("data: x\nlogn: alice\n"), 0o600)
	c.fails(2, `line 2: unknown key "logn"`, "", "user", "list", "--config", bad)
	c.env = map[string]string{"DIRGATE_OUTPUT": "xml"}
	c.fails(2, "--output must be table or json", "", "user", "list", "--data", envData, "--org", "fromenv")
	c.env = map[string]string{"DIRGATE_NO_DEMO": "perhaps"}
	c.fails(2, "environment DIRGATE_NO_DEMO", "", "serve", "--data", t.TempDir())
}

func TestOrgs(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	out := c.ok("", "org", "list", "--data", data)
	if !regexp.MustCompile(`(?m)^acme\s+dc=acme,dc=okta,dc=com\s+","\s+00o\w{17}\s+costCenter$`).MatchString(out) {
		t.Errorf("org list:\n%s", out)
	}
	if out := c.ok("", "org", "set", "--data", data, "--org", "acme", "--mfa-separator", "|"); out != "org acme: MFA separator \"|\"\n" {
		t.Errorf("org set: %q", out)
	}
	if out := c.ok("", "org", "list", "--data", data, "-o", "json"); !strings.Contains(out, `"mfaSeparator": "|"`) {
		t.Errorf("org list json:\n%s", out)
	}
	c.fails(1, "the MFA separator is one of the characters", "", "org", "set", "--data", data, "--org", "acme", "--mfa-separator", "x")
	c.fails(2, "nothing to set", "", "org", "set", "--data", data, "--org", "acme")
	c.fails(1, `no org named "nope"`, "", "org", "set", "--data", data, "--org", "nope", "--mfa-separator", ";")
	if out := c.ok("", "org", "set", "--data", data, "--org", "acme", "--mfa-separator", ""); out != "org acme: MFA separator \",\"\n" {
		t.Errorf("org set back to the default: %q", out)
	}
}
