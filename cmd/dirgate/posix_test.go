package main

import "testing"

// TestOrgPOSIX: org posix turns POSIX accounts on with defaults or given
// settings, refuses bad flags and settings with a clear message, and
// turns them off.
func TestOrgPOSIX(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	g := func(args ...string) []string {
		return append(append([]string{"org", "posix"}, args...), "--data", data, "--org", "acme")
	}
	if out := c.ok("", g("--enable")...); out != "org acme: POSIX accounts on: uidNumber 10000-59999, gidNumber 10000-59999, primary gidNumber 100, home /home/{login}, shell /bin/bash\n" {
		t.Errorf("enable with the defaults: %q", out)
	}
	if out := c.ok("", g("--enable", "--uid-range", "20000-20009", "--home", "/u/{localpart}", "--shell", "/bin/zsh", "--primary-gid", "500")...); out != "org acme: POSIX accounts on: uidNumber 20000-20009, gidNumber 10000-59999, primary gidNumber 500, home /u/{localpart}, shell /bin/zsh\n" {
		t.Errorf("enable with settings: %q", out)
	}
	c.fails(2, "give --enable or --disable", "", g()...)
	c.fails(2, "give --enable or --disable", "", g("--enable", "--disable")...)
	c.fails(2, `--uid-range is MIN-MAX, two positive numbers, not "20000"`, "", g("--enable", "--uid-range", "20000")...)
	c.fails(2, "--disable takes no other settings", "", g("--disable", "--shell", "/bin/sh")...)
	c.fails(1, "must be an absolute path", "", g("--enable", "--home", "home/{login}")...)
	c.fails(1, "unknown placeholder", "", g("--enable", "--home", "/home/{user}")...)
	if out := c.ok("", g("--disable")...); out != "org acme: POSIX accounts off\n" {
		t.Errorf("disable: %q", out)
	}
}
