package slapd

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

const (
	suffix = "dc=bench,dc=okta,dc=com"
	svcDN  = "uid=svc-bench,ou=users," + suffix
	svcPW  = "svc-Secret-1"
)

func userDN(i int) string  { return fmt.Sprintf("uid=user%06d,ou=users,%s", i, suffix) }
func groupDN(g int) string { return fmt.Sprintf("cn=group%05d,ou=groups,%s", g, suffix) }
func userPW(i int) string  { return fmt.Sprintf("pw-%06d-x", i) }

// ssha is RFC 2307's {SSHA}: SHA-1 over password and salt, then the salt.
func ssha(pw string) string {
	salt := []byte("saltsalt")
	h := sha1.Sum(append([]byte(pw), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}

// writeLDIF writes n users in groups of 50 (user i in group i/50), with
// memberOf already on the users as slapadd needs, and the service account.
// It stands in for bench/dataset so this package is tested on its own.
func writeLDIF(t *testing.T, path string, n int) {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: bench\no: bench\n\n", suffix)
	for _, ou := range []string{"users", "groups"} {
		fmt.Fprintf(&b, "dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n", ou, suffix, ou)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: user%06d\ncn: User %d\nsn: U%d\nmail: user%06d@bench.example\nuserPassword: %s\nmemberOf: %s\n\n",
			userDN(i), i, i, i, i, ssha(userPW(i)), groupDN(i/50))
	}
	for g := 0; g*50 < n; g++ {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfUniqueNames\ncn: group%05d\n", groupDN(g), g)
		for i := g * 50; i < n && i < (g+1)*50; i++ {
			fmt.Fprintf(&b, "uniqueMember: %s\n", userDN(i))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: svc-bench\ncn: svc\nsn: svc\nuserPassword: %s\n\n", svcDN, ssha(svcPW))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServer(t *testing.T) {
	if !Available() {
		if os.Getenv("CI") == "true" {
			t.Fatal("slapd is not installed (bench/scripts/install-slapd.sh)")
		}
		t.Skip("slapd is not installed (bench/scripts/install-slapd.sh)")
	}
	dir := t.TempDir()
	const n = 1200 // more than one 1000-entry page
	ldif := filepath.Join(dir, "data.ldif")
	writeLDIF(t, ldif, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Dir: filepath.Join(dir, "slapd"), Suffix: suffix, LDIF: ldif, ServiceDN: svcDN})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if !strings.HasPrefix(s.URL(), "ldap://127.0.0.1:") || s.PID() <= 0 {
		t.Fatalf("URL %q PID %d", s.URL(), s.PID())
	}

	c, err := ldap.DialURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// A user binds and reads its own entry, memberOf included (loaded from
	// the LDIF, as slapadd runs no overlay), but not its password.
	if err := c.Bind(userDN(7), userPW(7)); err != nil {
		t.Fatalf("user bind: %v", err)
	}
	res, err := c.Search(ldap.NewSearchRequest(userDN(7), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(uid=user000007)", []string{"cn", "memberOf", "userPassword"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || res.Entries[0].DN != userDN(7) {
		t.Fatalf("search uid as self: %d entries", len(res.Entries))
	}
	e := res.Entries[0]
	if got := e.GetAttributeValues("memberOf"); len(got) != 1 || !strings.EqualFold(got[0], groupDN(0)) {
		t.Errorf("memberOf = %q, want %s", got, groupDN(0))
	}
	if got := e.GetAttributeValue("userPassword"); got != "" {
		t.Errorf("userPassword readable by its owner: %q", got)
	}
	// Another user's entry is invisible to it.
	res, err = c.Search(ldap.NewSearchRequest(userDN(8), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"cn"}, nil))
	if err == nil && len(res.Entries) != 0 {
		t.Errorf("a user sees another user's entry")
	}
	if err := c.Bind(userDN(8), "wrong"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("wrong password: %v, want invalidCredentials", err)
	}

	// The service account finds a user and its group, and can be followed
	// by a user bind on the same connection (search+bind clients do this).
	if err := c.Bind(svcDN, svcPW); err != nil {
		t.Fatalf("service bind: %v", err)
	}
	res, err = c.Search(ldap.NewSearchRequest("ou=groups,"+suffix, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(uniqueMember="+userDN(60)+")", []string{"cn"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || !strings.EqualFold(res.Entries[0].DN, groupDN(1)) {
		t.Fatalf("group of user 60: %v", res.Entries)
	}
	res, err = c.Search(ldap.NewSearchRequest("ou=users,"+suffix, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(uid=user001100)", []string{"memberOf", "userPassword"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("userPassword") != "" ||
		!strings.EqualFold(res.Entries[0].GetAttributeValue("memberOf"), groupDN(22)) {
		t.Fatalf("service search for user 1100: %v", res.Entries)
	}

	// Without paging the service account gets at most 1000 entries, with
	// paging all of them.
	_, err = c.Search(ldap.NewSearchRequest("ou=users,"+suffix, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=inetOrgPerson)", []string{"1.1"}, nil))
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		t.Errorf("unpaged search of %d users: %v, want sizeLimitExceeded", n+1, err)
	}
	res, err = c.SearchWithPaging(ldap.NewSearchRequest("ou=users,"+suffix, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=inetOrgPerson)", []string{"uid"}, nil), 500)
	if err != nil {
		t.Fatalf("paged search: %v", err)
	}
	if len(res.Entries) != n+1 {
		t.Errorf("paged search: %d entries, want %d", len(res.Entries), n+1)
	}

	if err := c.Bind(userDN(9), userPW(9)); err != nil {
		t.Errorf("user bind after service bind: %v", err)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if c2, err := ldap.DialURL(s.URL()); err == nil {
		c2.Close()
		t.Errorf("slapd still accepts connections after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestConfigRejectsQuotes(t *testing.T) {
	if _, err := Config(Options{Suffix: `dc=a"b`, ServiceDN: "cn=x"}, "/tmp"); err == nil {
		t.Error("a suffix with a quote was accepted")
	}
	conf, err := Config(Options{Suffix: suffix, ServiceDN: svcDN, ModuleDir: "/m", SchemaDir: "/s", Threads: 8}, "/w")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`suffix "` + suffix + `"`, "directory /w/db", "include /s/cosine.schema",
		"moduleload memberof", "threads 8", `by dn.exact="` + svcDN + `" read`} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q", want)
		}
	}
}

// A caller's own slapd.conf is used as given, and slapd also listens on
// the extra URLs.
func TestConfigTextAndExtraURLs(t *testing.T) {
	if !Available() {
		if os.Getenv("CI") == "true" {
			t.Fatal("slapd is not installed (bench/scripts/install-slapd.sh)")
		}
		t.Skip("slapd is not installed (bench/scripts/install-slapd.sh)")
	}
	dir := t.TempDir()
	ldif := filepath.Join(dir, "data.ldif")
	writeLDIF(t, ldif, 3)
	run := filepath.Join(dir, "slapd")
	text, err := Config(Options{Suffix: suffix, ServiceDN: svcDN, ModuleDir: DefaultModuleDir, SchemaDir: DefaultSchemaDir}, run)
	if err != nil {
		t.Fatal(err)
	}
	text = "# caller's own configuration\n" + text
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf("ldap://127.0.0.1:%d/", port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Dir: run, Suffix: suffix, LDIF: ldif, ConfigText: text, ExtraURLs: []string{extra}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	conf, err := os.ReadFile(filepath.Join(run, "slapd.conf"))
	if err != nil || string(conf) != text {
		t.Errorf("slapd.conf is not the given text (%v)", err)
	}
	for _, u := range []string{s.URL(), extra} {
		c, err := ldap.DialURL(u)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if err := c.Bind(svcDN, svcPW); err != nil {
			t.Errorf("%s: service bind: %v", u, err)
		}
		c.Close()
	}
}
