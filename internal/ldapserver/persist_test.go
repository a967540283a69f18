package ldapserver_test

import (
	"context"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/ldapserver"
)

// TestPersistentSearch: a search whose Sync Request asks for
// refreshAndPersist, with a Persistent cursor, outlives the search time
// limit, gives up its address's execution slot while it waits (another
// operation from the same address runs with MaxRunningPerIP 1), sends
// what its cursor has after each Wait, and ends when its client goes; the same
// search in refreshOnly mode ends after its entries.
func TestPersistentSearch(t *testing.T) {
	ts := startServer(t, func(c *ldapserver.Config) {
		c.SearchTimeLimit = 200 * time.Millisecond
		c.MaxRunningPerIP = 1
	})
	dial := func() *goldap.Conn {
		c, err := goldap.DialURL("ldaps://"+ts.tlsAddr, goldap.DialWithTLSConfig(ts.clientTLS()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Bind("cn=admin", "secret"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := dial()
	req := func() *goldap.SearchRequest {
		return goldap.NewSearchRequest("cn=persist", goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil)
	}

	r, err := c.Search(&goldap.SearchRequest{BaseDN: "cn=persist", Scope: goldap.ScopeBaseObject, Filter: "(objectClass=*)",
		Controls: []goldap.Control{goldap.NewControlSyncRequest(goldap.SyncRequestModeRefreshOnly, nil, false)}})
	if err != nil || len(r.Entries) != 1 {
		t.Fatalf("refreshOnly: %v %v", r, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := c.Syncrepl(ctx, req(), 16, goldap.SyncRequestModeRefreshAndPersist, nil, false)
	next := func(what string) string {
		t.Helper()
		got := make(chan string, 1)
		go func() {
			if resp.Next() && resp.Entry() != nil {
				got <- resp.Entry().DN
				return
			}
			got <- "end: " + errString(resp.Err())
		}()
		select {
		case dn := <-got:
			return dn
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: nothing within 5 s", what)
			return ""
		}
	}
	if dn := next("the refresh"); dn != "cn=first" {
		t.Fatalf("the refresh: %q", dn)
	}
	time.Sleep(400 * time.Millisecond) // twice the time limit

	// Another search from this address runs while the persistent one waits.
	other := dial()
	if r, err := other.Search(goldap.NewSearchRequest("ou=x", goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil)); err != nil || len(r.Entries) != 3 {
		t.Fatalf("a search beside the persistent one: %v %v", r, err)
	}
	ts.backend.persist <- "cn=second"
	if dn := next("a change after the time limit"); dn != "cn=second" {
		t.Fatalf("after the time limit: %q", dn)
	}
	cancel()
	c.Close() // go-ldap does not abandon: the client goes
	select {
	case err := <-ts.backend.ctxEnded:
		if err != context.Canceled {
			t.Errorf("the persistent search's Wait saw %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the persistent search's Wait did not return when its client went")
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
