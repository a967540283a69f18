package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/connector/ldapsource/ldaptest"
)

// TestDelegatedAuthenticationOverLDAP: users synced from a slapd with
// delegated authentication bind to dirgate's LDAP interface (ldapsearch)
// with their slapd password, which dirgate checks at slapd: the right one
// binds, a wrong one gets 49.
func TestDelegatedAuthenticationOverLDAP(t *testing.T) {
	requireLdapsearch(t)
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 20, Groups: 2})
	data := t.TempDir()
	setupExample(t, data)
	ca, err := os.ReadFile(src.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]any{
		"urls": []string{src.URL}, "startTLS": true, "caCert": string(ca), "bindDN": src.BindDN,
		"userSearchBase": src.UsersBase, "userAttribute": "uid", "paging": true,
		"profileSchema":           map[string]string{"email": "mail", "firstName": "givenName", "lastName": "sn"},
		"delegatedAuthentication": true, "schedule": "manual",
	}
	raw, _ := json.Marshal(settings)
	file := filepath.Join(t.TempDir(), "src.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	mustDirgate(t, src.BindPassword+"\n", "integration", "create", "--data", data, "--org", "example", "--name", "Source", "-f", file, "--password-stdin")
	if out := mustDirgate(t, "", "integration", "sync", "--data", data, "--org", "example", "--integration", "Source"); !strings.Contains(out, "20 created") {
		t.Fatalf("sync:\n%s", out)
	}
	s := startDirgate(t, data, "--no-demo")
	u := src.Users[7]
	dn := "uid=" + u.Login + "," + exUsers
	bind := func(pw string) result {
		return s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", dn, "-w", pw, "-b", dn, "-s", "base", "mail")
	}
	r := bind(src.UserPassword(u.Login))
	if r.code != 0 || !strings.Contains(r.stdout, "mail: "+u.Email) {
		t.Fatalf("%s with the slapd password: exit %d\n%s%s", u.Login, r.code, r.stdout, r.stderr)
	}
	if r := bind("not-the-password"); r.code != 49 {
		t.Fatalf("a wrong password: exit %d %s", r.code, r.stderr)
	}
}
