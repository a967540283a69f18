package interop

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	exBase   = "dc=example,dc=okta,dc=com"
	exUsers  = "ou=users," + exBase
	bindDN   = "uid=ldap-bind," + exBase // the reference documents' form: no ou=users
	bindPW   = "bind-Secret-1"
	okta49   = "The credentials provided were invalid."
	aliceExD = "uid=alice," + exUsers
)

// setupExample creates the org "example" with the read-only service
// account, alice (in group eng), bob (no role) and carol (suspended), all
// through the CLI as an administrator would.
func setupExample(t *testing.T, data string) {
	t.Helper()
	mustDirgate(t, "", "init", "--data", data, "--org", "example")
	mustDirgate(t, bindPW+"\n", "user", "create", "--data", data, "--org", "example", "--login", "ldap-bind",
		"--service-account", "--role", "read_only_admin", "--password-stdin")
	for _, u := range []string{"alice", "bob", "carol"} {
		mustDirgate(t, u+"-password\n", "user", "create", "--data", data, "--org", "example", "--login", u,
			"--email", u+"@example.com", "--first", strings.ToUpper(u[:1])+u[1:], "--last", "Example", "--password-stdin")
	}
	mustDirgate(t, "", "user", "suspend", "--data", data, "--org", "example", "--login", "carol")
	mustDirgate(t, "", "group", "create", "--data", data, "--org", "example", "--name", "eng")
	mustDirgate(t, "", "group", "add-member", "--data", data, "--org", "example", "--group", "eng", "--login", "alice")
}

func asBind(url string, extra ...string) []string {
	return append([]string{"-LLL", "-x", "-H", url, "-D", bindDN, "-w", bindPW}, extra...)
}

// attrs returns the values of attribute a in ldapsearch -LLL output.
func attrs(out, a string) []string {
	var v []string
	for _, line := range strings.Split(out, "\n") {
		if val, ok := strings.CutPrefix(line, a+": "); ok {
			v = append(v, val)
		}
	}
	return v
}

func TestServeLdapsearch(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	s := startDirgate(t, data, "--no-demo")

	search := func(t *testing.T, args ...string) result {
		t.Helper()
		r := s.ldapsearch(t, args...)
		if r.code != 0 {
			t.Fatalf("ldapsearch %v: exit %d: %s", args, r.code, r.stderr)
		}
		return r
	}
	t.Run("user entry over LDAPS and StartTLS", func(t *testing.T) {
		for _, args := range [][]string{
			asBind(s.ldapsURL, "-b", exBase, "(uid=alice)"),
			asBind(s.ldapURL, "-ZZ", "-b", exBase, "(uid=alice)"),
		} {
			r := search(t, args...)
			if got := dns(r.stdout); len(got) != 1 || got[0] != aliceExD {
				t.Fatalf("DNs %v", got)
			}
			oc := strings.Join(attrs(r.stdout, "objectClass"), ",")
			if oc != "top,person,organizationalPerson,inetOrgPerson" {
				t.Fatalf("objectClass %s", oc)
			}
			for a, want := range map[string]string{"uid": "alice", "mail": "alice@example.com", "givenName": "Alice",
				"sn": "Example", "cn": "Alice Example", "organizationalStatus": "ACTIVE"} {
				if got := attrs(r.stdout, a); len(got) != 1 || got[0] != want {
					t.Fatalf("%s = %v, want %s\n%s", a, got, want, r.stdout)
				}
			}
			if id := attrs(r.stdout, "uniqueIdentifier"); len(id) != 1 || !regexp.MustCompile(`^00u[0-9A-Za-z]{17}$`).MatchString(id[0]) {
				t.Fatalf("uniqueIdentifier %v", id)
			}
			if strings.Contains(r.stdout, "memberOf") || strings.Contains(r.stdout, "userPassword") {
				t.Fatalf("memberOf or userPassword without asking:\n%s", r.stdout)
			}
		}
	})
	t.Run("memberOf by name and with +", func(t *testing.T) {
		for _, sel := range [][]string{{"memberOf"}, {"+"}, {"*", "+"}} {
			r := search(t, asBind(s.ldapsURL, append([]string{"-b", exBase, "(uid=alice)"}, sel...)...)...)
			if got := attrs(r.stdout, "memberOf"); len(got) != 1 || got[0] != "cn=eng,ou=groups,"+exBase {
				t.Fatalf("%v: memberOf %v\n%s", sel, got, r.stdout)
			}
			if sel[0] == "memberOf" && strings.Contains(r.stdout, "mail:") {
				t.Fatalf("asked only memberOf, got mail")
			}
			if sel[0] == "+" && (len(attrs(r.stdout, "entryDN")) != 1 || strings.Contains(r.stdout, "mail:")) {
				t.Fatalf("+ should give operational attributes only:\n%s", r.stdout)
			}
		}
	})
	t.Run("groups", func(t *testing.T) {
		r := search(t, asBind(s.ldapsURL, "-b", exBase, "(objectClass=groupOfUniqueNames)")...)
		if got := dns(r.stdout); len(got) != 1 || got[0] != "cn=eng,ou=groups,"+exBase {
			t.Fatalf("groups %v", got)
		}
		if m := attrs(r.stdout, "uniqueMember"); len(m) != 1 || m[0] != aliceExD {
			t.Fatalf("uniqueMember %v", m)
		}
		r = search(t, asBind(s.ldapsURL, "-b", exBase, "(&(objectClass=groupOfUniqueNames)(uniqueMember="+aliceExD+"))", "cn")...)
		if got := attrs(r.stdout, "cn"); len(got) != 1 || got[0] != "eng" {
			t.Fatalf("group by member %v", got)
		}
	})
	t.Run("anonymous and RootDSE", func(t *testing.T) {
		for _, args := range [][]string{
			{"-LLL", "-x", "-H", s.ldapsURL, "-b", "", "-s", "base", "+"},
			{"-LLL", "-x", "-H", s.ldapsURL, "-b", exBase, "(uid=alice)"},
			{"-LLL", "-x", "-H", s.ldapURL, "-ZZ", "-b", "", "-s", "base"},
		} {
			r := s.ldapsearch(t, args...)
			if r.code != 50 {
				t.Fatalf("%v: exit %d, want 50: %s", args, r.code, r.stderr)
			}
		}
		r := search(t, asBind(s.ldapsURL, "-b", "", "-s", "base", "+")...)
		if nc := attrs(r.stdout, "namingContexts"); len(nc) != 1 || nc[0] != exBase {
			t.Fatalf("namingContexts %v\n%s", nc, r.stdout)
		}
	})
	t.Run("a user without a role sees only itself", func(t *testing.T) {
		r := search(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", "uid=bob,"+exUsers, "-w", "bob-password", "-b", exBase, "(objectClass=*)", "uid")
		if got := dns(r.stdout); len(got) != 1 || got[0] != "uid=bob,"+exUsers {
			t.Fatalf("bob sees %v", got)
		}
	})
	t.Run("refused binds", func(t *testing.T) {
		for _, tc := range []struct{ dn, pw string }{
			{aliceExD, "wrong"},
			{"uid=carol," + exUsers, "carol-password"}, // suspended
			{"uid=nobody," + exUsers, "x"},
		} {
			r := s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", tc.dn, "-w", tc.pw, "-b", exBase)
			if r.code != 49 || !strings.Contains(r.stderr, okta49) {
				t.Fatalf("%s: exit %d, stderr %q; want 49 with %q", tc.dn, r.code, r.stderr, okta49)
			}
		}
	})
	t.Run("a CLI change reaches LDAP", func(t *testing.T) {
		mustDirgate(t, "dave-password\n", "user", "create", "--data", data, "--org", "example", "--login", "dave", "--password-stdin")
		eventually(t, "dave visible over LDAP", func() error {
			r := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exBase, "(uid=dave)", "uid")...)
			if len(dns(r.stdout)) != 1 {
				return fmt.Errorf("exit %d, %q", r.code, r.stdout)
			}
			return nil
		})
		mustDirgate(t, "", "user", "suspend", "--data", data, "--org", "example", "--login", "dave")
		eventually(t, "dave suspended over LDAP", func() error {
			r := s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", "uid=dave,"+exUsers, "-w", "dave-password", "-b", exBase)
			if r.code != 49 {
				return fmt.Errorf("exit %d", r.code)
			}
			return nil
		})
	})
}

// writeUsersLDIF writes n inetOrgPerson users (uid=userNNNNNN) with {SSHA}
// passwords "password-<uid>" and n/50 groups of 50 members, the shape slapcat
// writes, and returns the path.
func writeUsersLDIF(t *testing.T, dir, base string, n int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\n\ndn: %s\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: x\no: x\n\n", base)
	fmt.Fprintf(&b, "dn: ou=users,%s\nobjectClass: organizationalUnit\nou: users\n\n", base)
	for i := range n {
		uid := fmt.Sprintf("user%06d", i)
		salt := []byte(fmt.Sprintf("s%07d", i))
		h := sha1.Sum(append([]byte("password-"+uid), salt...))
		hash := "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
		fmt.Fprintf(&b, "dn: uid=%s,ou=users,%s\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\nuid: %s\ncn: User %d\nsn: %d\ngivenName: User\nmail: %s@example.com\nuserPassword:: %s\nentryUUID: 00000000-0000-0000-0000-%012d\n\n",
			uid, base, uid, i, i, uid, base64.StdEncoding.EncodeToString([]byte(hash)), i)
	}
	for g := range n / 50 {
		fmt.Fprintf(&b, "dn: cn=group%05d,ou=groups,%s\nobjectClass: groupOfUniqueNames\ncn: group%05d\n", g, base, g)
		for m := range 50 {
			fmt.Fprintf(&b, "uniqueMember: uid=user%06d,ou=users,%s\n", (g*50+m*7)%n, base)
		}
		b.WriteString("\n")
	}
	p := filepath.Join(dir, "users.ldif")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServeSizeLimitAndPaging(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "", "import", "--data", data, "--org", "example", writeUsersLDIF(t, t.TempDir(), exBase, 1001))
	s := startDirgate(t, data, "--no-demo")

	filter := "(uid=user*)"
	r := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exUsers, filter, "1.1")...)
	if r.code != 4 || len(dns(r.stdout)) != 1000 {
		t.Fatalf("unpaged: exit %d with %d entries, want 4 with 1000: %s", r.code, len(dns(r.stdout)), r.stderr)
	}
	r = s.ldapsearch(t, asBind(s.ldapsURL, "-E", "pr=400/noprompt", "-b", exUsers, filter, "1.1")...)
	if r.code != 0 || len(dns(r.stdout)) != 1001 {
		t.Fatalf("paged: exit %d with %d entries, want 0 with 1001: %s", r.code, len(dns(r.stdout)), r.stderr)
	}
	// An imported {SSHA} password verifies as it is.
	r = s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", "uid=user000777,"+exUsers, "-w", "password-user000777", "-b", "uid=user000777,"+exUsers, "-s", "base", "uid")
	if r.code != 0 || len(dns(r.stdout)) != 1 {
		t.Fatalf("imported user bind: exit %d %s", r.code, r.stderr)
	}
}

func TestImport100kUsers(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	mustDirgate(t, "", "init", "--data", data, "--org", "big")
	const base = "dc=big,dc=okta,dc=com"
	file := writeUsersLDIF(t, t.TempDir(), base, 100000)
	out := mustDirgate(t, "", "import", "--data", data, "--org", "big", file)
	m := regexp.MustCompile(`imported 100000 users, 2000 groups, (\d+) memberships in ([0-9.]+m?s)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("import report:\n%s", out)
	}
	t.Logf("import of 100,000 users: %s", m[0])
	mustDirgate(t, "admin-password\n", "user", "create", "--data", data, "--org", "big", "--login", "admin", "--role", "ORG_ADMIN", "--password-stdin")
	s := startDirgate(t, data, "--no-demo")
	r := s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", "uid=admin,"+base, "-w", "admin-password", "-b", base, "(uid=user099999)", "memberOf")
	if r.code != 0 || len(dns(r.stdout)) != 1 || len(attrs(r.stdout, "memberOf")) == 0 {
		t.Fatalf("search in the imported org: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
