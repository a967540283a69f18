package dit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
)

// TestWithDirectory runs dit over a real Directory and SQLite store,
// through a real server, with writes made through the directory while
// Run follows the change feed.
func TestWithDirectory(t *testing.T) {
	ctx := context.Background()
	dir := realDirectory(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(dir.CreateOrg(ctx, directory.OrgInput{Name: "acme", CustomAttributes: []string{"costCenter"}}))
	must(dir.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "svc@acme.example", FirstName: "Bind", LastName: "Service"},
		Password: []byte("svc-password"), Roles: []string{directory.RoleReadOnlyAdmin}}))
	must(dir.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "Alice+ops@acme.example", Email: "alice@acme.example",
		Custom: map[string]string{"costCenter": "CC-1"}}, Password: []byte("alice-password")}))
	must(dir.CreateGroup(ctx, "acme", directory.GroupInput{Name: "Engineering"}))
	must(dir.AddMember(ctx, "acme", "Engineering", "Alice+ops@acme.example"))

	url := serveDirectory(t, dir)
	c, err := goldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	const base = "dc=acme,dc=okta,dc=com"
	const aliceDN = `uid=Alice\+ops@acme.example,ou=users,` + base
	if err := c.Bind("uid=svc@acme.example,"+base, "svc-password"); err != nil {
		t.Fatalf("service bind: %v", err)
	}
	search := func(filter string) []*goldap.Entry {
		t.Helper()
		res, err := c.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, filter, []string{"uid", "memberOf", "costCenter"}, nil))
		if err != nil {
			t.Fatalf("search %s: %v", filter, err)
		}
		return res.Entries
	}
	es := search("(&(costCenter=cc-1)(memberOf=cn=engineering,ou=groups," + base + "))")
	if len(es) != 1 || es[0].DN != aliceDN {
		t.Fatalf("alice by custom attribute and group: %v", es)
	}

	// PostgreSQL's search+bind: a second connection binds as the DN found.
	c2, err := goldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Bind(es[0].DN, "alice-password"); err != nil {
		t.Errorf("bind as the DN found: %v", err)
	}
	var le *goldap.Error
	if err := c2.Bind(es[0].DN, "wrong"); !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultInvalidCredentials {
		t.Errorf("wrong password: %v", err)
	}

	// A write through the directory shows up while Run polls.
	must(dir.CreateUser(ctx, "acme", directory.UserInput{Profile: directory.Profile{Login: "bob@acme.example"}, Password: []byte("bob-password")}))
	must(dir.Lifecycle(ctx, "acme", "Alice+ops@acme.example", directory.ActionSuspend))
	deadline := time.Now().Add(10 * time.Second)
	for len(search("(uid=bob@acme.example)")) != 1 || len(search("(organizationalStatus=SUSPENDED)")) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("changes made through the directory never became visible")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := c2.Bind(aliceDN, "alice-password"); !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultInvalidCredentials {
		t.Errorf("suspended user's bind: %v", err)
	}

	// A sign-on policy applied through the directory reaches binds with
	// the snapshot's next refresh; the excluded service account still
	// binds.
	ps, err := policy.Parse([]byte(`{"kind": "sign-on", "name": "Only the service", "priority": 1,
		"people": {"groups": {"include": ["Everyone"]}, "users": {"exclude": ["svc@acme.example"]}},
		"rules": [{"name": "No", "priority": 1, "action": "deny"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	must(dir.ApplyPolicies(ctx, "acme", ps, directory.PolicyUpsert))
	bobDN := "uid=bob@acme.example,ou=users," + base
	for {
		err := c2.Bind(bobDN, "bob-password")
		if errors.As(err, &le) && le.ResultCode == goldap.LDAPResultInvalidCredentials && strings.Contains(le.Err.Error(), directory.MsgPolicyDenied) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the policy never reached binds: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := c2.Bind("uid=svc@acme.example,"+base, "svc-password"); err != nil {
		t.Errorf("the excluded service account: %v", err)
	}
}
