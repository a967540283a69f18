package main

import (
	"strings"
	"testing"
)

func TestTokenCommands(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	c.ok("", "init", "--data", data, "--org", "example")
	c.ok("Adm1n-password!\n", "user", "create", "--data", data, "--org", "example", "--login", "boss", "--role", "org_admin", "--password-stdin")
	c.ok("Pl4in-password!\n", "user", "create", "--data", data, "--org", "example", "--login", "plain", "--password-stdin")

	r := c.run("", "token", "create", "--data", data, "--org", "example", "--login", "boss", "--name", "scripts")
	secret := strings.TrimSpace(r.stdout)
	if r.code != 0 || len(secret) != 42 || !strings.HasPrefix(secret, "00") || !strings.Contains(r.stderr, "shown only this once") {
		t.Fatalf("token create: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	inst := strings.TrimSpace(c.ok("", "token", "create", "--data", data, "--installation", "--name", "provisioning"))
	if len(inst) != 42 || inst == secret {
		t.Fatalf("installation token %q", inst)
	}
	c.fails(1, "holds no admin role", "", "token", "create", "--data", data, "--org", "example", "--login", "plain", "--name", "x")
	c.fails(2, "one of the two", "", "token", "create", "--data", data, "--org", "example", "--login", "boss", "--installation", "--name", "x")
	c.fails(2, "one of the two", "", "token", "create", "--data", data, "--name", "x")

	list := c.ok("", "token", "list", "--data", data, "--org", "example")
	if !strings.Contains(list, "scripts") || strings.Contains(list, secret) || strings.Contains(list, "provisioning") {
		t.Fatalf("token list:\n%s", list)
	}
	id := strings.Fields(strings.Split(strings.TrimSpace(list), "\n")[1])
	c.ok("", "token", "revoke", "--data", data, "--org", "example", id[len(id)-1])
	if list := c.ok("", "token", "list", "--data", data, "--org", "example"); strings.Contains(list, "scripts") {
		t.Fatalf("token list after revoking:\n%s", list)
	}
	c.fails(1, "no API token", "", "token", "revoke", "--data", data, "--org", "example", id[len(id)-1])
}
