package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

// signIn authenticates through the directory of data as a bind would.
func signIn(t *testing.T, data, org, login, pw string) {
	t.Helper()
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, ctx: context.Background()}
	o, err := a.openDirectory(data, false)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	ctx := context.Background()
	og, err := o.dir.Org(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	o.dir.Authenticate(ctx, directory.AuthRequest{OrgID: og.ID, Login: login, Password: []byte(pw),
		Client: directory.ClientInfo{IP: "192.0.2.9", Protocol: "ldap", TLS: true}})
}

func logLines(out string) []string {
	out = strings.TrimRight(out, "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestLogs(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	u := func(args ...string) []string { return append(args, "--data", data, "--org", "acme") }
	c.ok("Qx8-secret,pw\n", u("user", "create", "--login", "alice", "--password-stdin")...)
	c.ok("", u("group", "create", "--name", "eng")...)
	c.ok("", u("group", "add-member", "--group", "eng", "--login", "alice")...)
	c.ok("", u("user", "suspend", "--login", "alice")...)
	signIn(t, data, "acme", "alice", "Qx8-secret,pw")
	c.ok("", u("user", "unsuspend", "--login", "alice")...)
	signIn(t, data, "acme", "alice", "Qx8-wrong,pw")

	text := logLines(c.ok("", u("logs")...))
	wantTypes := []string{"user.lifecycle.create", "group.lifecycle.create", "group.user_membership.add", "user.lifecycle.suspend",
		"user.authentication.auth_via_ldap", "user.lifecycle.unsuspend", "user.authentication.auth_via_ldap"}
	if len(text) != len(wantTypes) {
		t.Fatalf("logs: %d lines, want %d:\n%s", len(text), len(wantTypes), strings.Join(text, "\n"))
	}
	for i, typ := range wantTypes {
		f := strings.Fields(text[i])
		if len(f) < 6 || f[1] != typ {
			t.Errorf("line %d %q: want event type %s", i, text[i], typ)
			continue
		}
		if _, err := time.Parse(time.RFC3339, f[0]); err != nil {
			t.Errorf("line %d: published %q: %v", i, f[0], err)
		}
	}
	for i, want := range map[int]string{
		0: "SUCCESS  system@dirgate  alice  -",
		2: "SUCCESS  system@dirgate  alice,eng  -",
		4: "FAILURE  alice  alice  192.0.2.9  user is SUSPENDED",
		6: "FAILURE  alice  alice  192.0.2.9  wrong password",
	} {
		if !strings.Contains(text[i], want) {
			t.Errorf("line %d %q: want %q", i, text[i], want)
		}
	}
	for _, l := range text {
		if strings.Contains(l, "Qx8") {
			t.Errorf("a password shows in the log: %q", l)
		}
	}

	js := logLines(c.ok("", u("logs", "--output", "json")...))
	if len(js) != len(wantTypes) {
		t.Fatalf("json: %d lines, want %d", len(js), len(wantTypes))
	}
	for i, l := range js {
		var ev directory.LogEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.EventType != wantTypes[i] || ev.UUID == "" {
			t.Errorf("json line %d %q: %+v %v", i, l, ev, err)
		}
		if strings.Contains(l, "Qx8") {
			t.Errorf("a password shows in the log: %q", l)
		}
	}

	filtered := logLines(c.ok("", u("logs", "--filter", `eventType eq "user.authentication.auth_via_ldap"`)...))
	if len(filtered) != 2 || !strings.Contains(filtered[1], "wrong password") {
		t.Errorf("filtered: %q", filtered)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"since a duration ago", []string{"--since", "1h"}, len(wantTypes)},
		{"since the future", []string{"--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 0},
		{"until the past", []string{"--until", "2000-01-01T00:00:00Z"}, 0},
		{"until now", []string{"--until", "0s"}, len(wantTypes)},
	} {
		if got := logLines(c.ok("", u(append([]string{"logs"}, tc.args...)...)...)); len(got) != tc.want {
			t.Errorf("%s: %d lines, want %d", tc.name, len(got), tc.want)
		}
	}
}

func TestLogsUsageErrors(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"other operator", []string{"--filter", `eventType ne "x"`}, `supported filter is eventType eq "TYPE"`},
		{"other field", []string{"--filter", `outcome.result eq "FAILURE"`}, `supported filter is eventType eq "TYPE"`},
		{"unquoted", []string{"--filter", `eventType eq user.lifecycle.create`}, `supported filter is eventType eq "TYPE"`},
		{"bad since", []string{"--since", "yesterday"}, `--since "yesterday": want an RFC 3339 time`},
		{"bad until", []string{"--until", "-5m"}, `--until "-5m"`},
		{"bad output", []string{"--output", "yaml"}, "--output must be text or json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.fails(2, tc.want, "", append([]string{"logs", "--data", data, "--org", "acme"}, tc.args...)...)
		})
	}
	c.fails(2, `required flag(s) "org" not set`, "", "logs", "--data", data)
	c.fails(1, `no org named "nope"`, "", "logs", "--data", data, "--org", "nope")
}

func TestLogsFollow(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	u := func(args ...string) []string { return append(args, "--data", data, "--org", "acme") }
	c.ok("", u("group", "create", "--name", "one")...)
	defer func(d time.Duration) { followEvery = d }(followEvery)
	followEvery = 20 * time.Millisecond

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, lookupEnv: func(string) (string, bool) { return "", false }}
		done <- run(ctx, u("logs", "--follow"), a)
	}()
	waitLines := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if len(logLines(out.String())) >= n {
				return
			}
		}
		t.Fatalf("follow printed %q, want %d lines (stderr %q)", out.String(), n, errb.String())
	}
	waitLines(1)
	c.ok("", u("group", "create", "--name", "two")...)
	waitLines(2)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("follow exit %d, stderr %q", code, errb.String())
	}
	lines := logLines(out.String())
	if len(lines) != 2 || !strings.Contains(lines[0], "  one  ") || !strings.Contains(lines[1], "  two  ") {
		t.Fatalf("follow printed %q", lines)
	}
}
