package interop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSSSD: Debian's SSSD (id_provider = ldap, ldap_schema = rfc2307bis)
// resolves and authenticates an org's users through dirgate serve once the
// org serves POSIX accounts (`dirgate org posix --enable`): getent passwd
// and group and initgroups through the sss NSS module, and a PAM login
// through pam_sss (pamtester), right password accepted and wrong one
// refused. SSSD binds as the read-only service account over LDAPS.
//
// SSSD keeps its sockets and caches in /var/lib/sss, one instance per
// machine: the test runs as root (as CI does) and only when no other sssd
// is running.
func TestSSSD(t *testing.T) {
	requireLdapsearch(t)
	sssd, err := exec.LookPath("sssd")
	if err != nil {
		sssd = "/usr/sbin/sssd"
	}
	for _, p := range []string{sssd, "/usr/bin/pamtester", "/usr/bin/getent"} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (scripts/test installs sssd-ldap, libnss-sss, libpam-sss and pamtester)", p)
			}
			t.Skipf("%s is missing", p)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("SSSD runs as root")
	}
	if out, _ := exec.Command("pgrep", "-x", "sssd").Output(); len(out) > 0 {
		t.Skip("another sssd is running; this test needs /var/lib/sss to itself")
	}

	data := t.TempDir()
	setupExample(t, data) // ldap-bind, then alice and bob active, carol suspended; alice in eng
	mustDirgate(t, "", "group", "add-member", "--data", data, "--org", "example", "--group", "eng", "--login", "bob")
	// Numbered in the order they were created: ldap-bind 20000, alice
	// 20001, bob 20002, carol 20003; eng 10000.
	out := mustDirgate(t, "", "org", "posix", "--data", data, "--org", "example", "--enable", "--uid-range", "20000-20999", "--home", "/home/{localpart}")
	if !strings.Contains(out, "POSIX accounts on") {
		t.Fatalf("org posix --enable said: %s", out)
	}
	s := startDirgate(t, data, "--no-demo")

	// SSSD's state starts empty and is emptied after, so that nothing
	// cached from another run answers.
	for _, dir := range []string{"/var/lib/sss/db", "/var/lib/sss/mc"} {
		clearDir(t, dir)
		t.Cleanup(func() { clearDir(t, dir) })
	}
	conf := filepath.Join(t.TempDir(), "sssd.conf")
	writeFile(t, conf, 0o600, fmt.Sprintf(`[sssd]
services = nss, pam
domains = dirgate

[nss]
memcache_timeout = 0

[domain/dirgate]
id_provider = ldap
auth_provider = ldap
ldap_uri = %s
ldap_tls_cacert = %s
ldap_tls_reqcert = demand
ldap_schema = rfc2307bis
ldap_search_base = %s
ldap_user_search_base = ou=users,%s
ldap_group_search_base = ou=groups,%s
ldap_group_member = uniqueMember
ldap_default_bind_dn = %s
ldap_default_authtok_type = password
ldap_default_authtok = %s
cache_credentials = false
entry_cache_timeout = 1
enumerate = false
`, s.ldapsURL, s.caFile, exBase, exBase, exBase, bindDN, bindPW))
	pamService := "dirgate-sssd-test"
	pamFile := filepath.Join("/etc/pam.d", pamService)
	writeFile(t, pamFile, 0o644, "auth required pam_sss.so\naccount required pam_sss.so\n")
	t.Cleanup(func() { os.Remove(pamFile) })

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, sssd, "-i", "-c", conf, "--logger=stderr", "-d", "2")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sssd's log:\n%s", logs.String())
		}
	})

	run := func(stdin string, name string, args ...string) (string, error) {
		c := exec.Command(name, args...)
		c.Stdin = strings.NewReader(stdin)
		var o bytes.Buffer
		c.Stdout, c.Stderr = &o, &o
		err := c.Run()
		return o.String(), err
	}
	var passwd string
	deadline := time.Now().Add(30 * time.Second)
	for {
		passwd, err = run("", "getent", "-s", "sss", "passwd", "alice")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("getent -s sss passwd alice never answered: %v %s", err, passwd)
		}
		time.Sleep(200 * time.Millisecond)
	}
	f := strings.Split(strings.TrimSpace(passwd), ":")
	if len(f) != 7 || f[0] != "alice" || f[2] != "20001" || f[3] != "100" || f[4] != "Alice Example" || f[5] != "/home/alice" || f[6] != "/bin/bash" {
		t.Errorf("alice's passwd entry: %q", passwd)
	}
	if out, err := run("", "getent", "-s", "sss", "passwd", "20002"); err != nil || !strings.HasPrefix(out, "bob:") {
		t.Errorf("getpwuid(20002): %q %v", out, err)
	}
	group, err := run("", "getent", "-s", "sss", "group", "eng")
	g := strings.Split(strings.TrimSpace(group), ":")
	if err != nil || len(g) != 4 || g[0] != "eng" || g[2] != "10000" || !sameSet(strings.Split(g[3], ","), []string{"alice", "bob"}) {
		t.Errorf("the group eng: %q %v", group, err)
	}
	if out, err := run("", "getent", "-s", "sss", "initgroups", "alice"); err != nil || !strings.Contains(out, "10000") {
		t.Errorf("alice's groups: %q %v", out, err)
	}
	if out, err := run("", "getent", "-s", "sss", "passwd", "nobody-here"); err == nil {
		t.Errorf("an unknown user resolved: %q", out)
	}

	if out, err := run("alice-password\n", "pamtester", pamService, "alice", "authenticate"); err != nil {
		t.Errorf("pam_sss login with alice's password: %v\n%s", err, out)
	}
	if out, err := run("not-her-password\n", "pamtester", pamService, "alice", "authenticate"); err == nil {
		t.Errorf("pam_sss login with a wrong password succeeded:\n%s", out)
	}
	if out, err := run("carol-password\n", "pamtester", pamService, "carol", "authenticate"); err == nil {
		t.Errorf("pam_sss login of a suspended user succeeded:\n%s", out)
	}
}

// clearDir removes what dir holds, keeping dir.
func clearDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return
		}
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, path string, mode os.FileMode, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
