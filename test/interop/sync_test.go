package interop

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLdapsearchSync follows an org with OpenLDAP's ldapsearch -E sync
// (RFC 4533) against dirgate serve: sync=ro sends the content with a
// cookie, and with the cookie only what changed since; sync=rp sends the
// content, says the refresh is done, and then each user created,
// changed and deleted (with the CLI, as the server runs) as it happens.
func TestLdapsearchSync(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	s := startDirgate(t, data, "--no-demo")
	search := append(asBind(s.ldapsURL, "-b", exBase), "(objectClass=inetOrgPerson)", "uid", "title")
	search = search[1:] // not -LLL: the sync controls are printed as comments
	cookieRE := regexp.MustCompile(`(?m)^# cookie: (\S+)$`)

	r := s.ldapTool(t, "ldapsearch", "", append([]string{"-E", "sync=ro"}, search...)...)
	r.wantSuccess(t, "ldapsearch -E sync=ro")
	for _, u := range []string{"alice", "bob", "carol", "ldap-bind"} {
		if !strings.Contains(r.stdout, "dn: uid="+u+","+exUsers) {
			t.Errorf("the refresh lacks %s:\n%s", u, r.stdout)
		}
	}
	m := cookieRE.FindStringSubmatch(r.stdout)
	if m == nil || strings.Count(r.stdout, "added") != 4 || !strings.Contains(r.stdout, "refreshDeletes=0") {
		t.Fatalf("the refresh's states and cookie:\n%s", r.stdout)
	}
	cookie := m[1]

	mustDirgate(t, "", "user", "update", "--data", data, "--org", "example", "--login", "bob", "--set", "title=Builder")
	var out string
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = s.ldapTool(t, "ldapsearch", "", append([]string{"-E", "sync=ro/" + cookie}, search...)...)
		r.wantSuccess(t, "ldapsearch -E sync=ro/<cookie>")
		if out = r.stdout; strings.Contains(out, "title: Builder") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Count(out, "dn: ") != 1 || !strings.Contains(out, "dn: uid=bob,"+exUsers) || !strings.Contains(out, "refreshDeletes=1") {
		t.Fatalf("the refresh from the cookie, after bob changed:\n%s", out)
	}

	// refreshAndPersist, until ldapsearch is stopped.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := s.ldapCommand(ctx, "ldapsearch", append([]string{"-E", "sync=rp"}, search...)...)
	var mu sync.Mutex
	var buf strings.Builder
	cmd.Stdout = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	waitOut := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			mu.Lock()
			got := buf.String()
			mu.Unlock()
			if ok(got) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("ldapsearch -E sync=rp: no %s in:\n%s", what, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitOut("end of the refresh", func(o string) bool { return strings.Contains(o, "refresh done, switching to persist stage") })
	mustDirgate(t, "dave-password-1\n", "user", "create", "--data", data, "--org", "example", "--login", "dave", "--password-stdin")
	waitOut("dave added", func(o string) bool {
		return regexp.MustCompile(`dn: uid=dave,` + exUsers + `\n.*\n# SyncState control, UUID \S+ added`).MatchString(o)
	})
	mustDirgate(t, "", "user", "update", "--data", data, "--org", "example", "--login", "dave", "--set", "title=Diver")
	waitOut("dave modified", func(o string) bool { return strings.Contains(o, "modified\nuid: dave\ntitle: Diver") })
	mustDirgate(t, "", "user", "deactivate", "--data", data, "--org", "example", "--login", "dave")
	mustDirgate(t, "", "user", "delete", "--data", data, "--org", "example", "--login", "dave")
	got := waitOut("dave deleted", func(o string) bool { return strings.Contains(o, "deleted") })
	if n := len(cookieRE.FindAllString(got, -1)); n < 4 {
		t.Errorf("%d cookies in the persist stage, want one after the refresh and one per step:\n%s", n, got)
	}
	cancel()
}

// writerFunc is an io.Writer.
type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
