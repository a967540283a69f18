package nullserver_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/bench/dataset"
	"github.com/dirgate/dirgate/bench/load"
	"github.com/dirgate/dirgate/bench/nullserver"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

const base = "dc=bench,dc=okta,dc=com"

// start serves set on 127.0.0.1:0 and returns its ldap:// URL.
func start(t *testing.T, set *dataset.Set) string {
	t.Helper()
	s, err := nullserver.New(set)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, ldapserver.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return "ldap://" + l.Addr().String()
}

func run(t *testing.T, url, op string, set *dataset.Set) *load.Result {
	t.Helper()
	r, err := load.Run(context.Background(), load.Config{
		URL: url, Op: op, Conns: 2, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond,
		ServerPID: os.Getpid(), Set: set, PageSize: 100, Seed: 1,
	})
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	t.Log(r)
	return r
}

// TestEveryOpVerifies runs every operation against a null server of the
// same data set: all answers must verify.
func TestEveryOpVerifies(t *testing.T) {
	set := dataset.New(1000, 1, base)
	url := start(t, set)
	for _, op := range load.Ops {
		t.Run(op, func(t *testing.T) {
			r := run(t, url, op, set)
			if r.Errors != 0 || r.FirstError != "" {
				t.Fatalf("%d errors, first: %s", r.Errors, r.FirstError)
			}
			if r.Ops <= 0 {
				t.Fatal("no operations completed")
			}
			if r.P50 <= 0 || r.P50 > r.P90 || r.P90 > r.P99 || r.P99 > r.Max {
				t.Errorf("percentiles out of order: %v %v %v %v", r.P50, r.P90, r.P99, r.Max)
			}
			switch op {
			case load.OpPaged:
				if r.Entries != r.Ops*int64(set.N()+1) {
					t.Errorf("paged: %d entries in %d scans, want %d each", r.Entries, r.Ops, set.N()+1)
				}
			case load.OpSearchUID, load.OpSearchBind:
				if r.Entries != r.Ops {
					t.Errorf("%d entries for %d ops", r.Entries, r.Ops)
				}
			}
		})
	}
}

// TestWrongAnswersAreErrors points load generators at servers loaded with
// other data: every kind of operation must report errors, not results.
func TestWrongAnswersAreErrors(t *testing.T) {
	set1 := dataset.New(1000, 1, base)
	url := start(t, set1)
	// Seed 2: other passwords and other group memberships, same DNs.
	set2 := dataset.New(1000, 2, base)
	for _, op := range []string{load.OpBind, load.OpSearchUID, load.OpSearchGroup, load.OpSearchBind} {
		t.Run(op, func(t *testing.T) {
			r := run(t, url, op, set2)
			if r.Errors == 0 || r.FirstError == "" {
				t.Fatalf("seed 2 against a seed 1 server: no errors (%d ops)", r.Ops)
			}
		})
	}
	// The paged scan sees only DNs, which the seed does not change: give
	// it one user too few and one too many.
	t.Run("paged-extra-entry", func(t *testing.T) {
		r := run(t, url, load.OpPaged, dataset.New(999, 1, base))
		if r.Errors == 0 || r.Ops != 0 || !strings.Contains(r.FirstError, "unexpected entry") {
			t.Fatalf("server with one user more: %d ops, %d errors, %q", r.Ops, r.Errors, r.FirstError)
		}
	})
	t.Run("paged-missing-entry", func(t *testing.T) {
		r := run(t, start(t, dataset.New(999, 1, base)), load.OpPaged, set1)
		if r.Errors == 0 || r.Ops != 0 || !strings.Contains(r.FirstError, "999 of 1000") {
			t.Fatalf("server with one user fewer: %d ops, %d errors, %q", r.Ops, r.Errors, r.FirstError)
		}
	})
}

func TestRefusesOtherRequests(t *testing.T) {
	set := dataset.New(100, 1, base)
	c, err := goldap.DialURL(start(t, set))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(set.DN(3), set.Password(4)); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
		t.Fatalf("bind with another user's password: %v", err)
	}
	if err := c.Bind(set.ServiceDN(), set.ServicePassword()); err != nil {
		t.Fatal(err)
	}
	for _, req := range []*goldap.SearchRequest{
		goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, 0, 0, 0, false, "(cn=User 1)", nil, nil),
		goldap.NewSearchRequest(base, goldap.ScopeSingleLevel, 0, 0, 0, false, "(uid=user000001)", nil, nil),
		goldap.NewSearchRequest("dc=other", goldap.ScopeWholeSubtree, 0, 0, 0, false, "(uid=user000001)", nil, nil),
	} {
		_, err := c.Search(req)
		if !goldap.IsErrorWithCode(err, goldap.LDAPResultUnwillingToPerform) || !strings.Contains(err.Error(), "null server") {
			t.Errorf("%s %s: %v, want unwillingToPerform from the null server", req.BaseDN, req.Filter, err)
		}
	}
	// A search it knows, for a user it does not have, finds nothing.
	res, err := c.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, 0, 0, 0, false, "(uid=nobody)", nil, nil))
	if err != nil || len(res.Entries) != 0 {
		t.Fatalf("(uid=nobody): %v, %d entries", err, len(res.Entries))
	}
	// The service account is found by uid, with all user attributes for "*".
	res, err = c.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, 0, 0, 0, false, "(uid=svc-bench)", []string{"*"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("cn") != set.ServiceCN() || res.Entries[0].GetAttributeValue("memberOf") != "" {
		t.Fatalf("(uid=svc-bench): %v, %+v", err, res)
	}
}

// TestServerGoneMidRun closes the server during a run: the run must end
// on time with the failures counted, for persistent connections and for
// searchbind's fresh ones alike.
func TestServerGoneMidRun(t *testing.T) {
	set := dataset.New(200, 1, base)
	for _, op := range []string{load.OpSearchUID, load.OpSearchBind} {
		t.Run(op, func(t *testing.T) {
			s, err := nullserver.New(set)
			if err != nil {
				t.Fatal(err)
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go s.Serve(l)
			closed := time.AfterFunc(150*time.Millisecond, func() { s.Close() })
			defer closed.Stop()
			r, err := load.Run(context.Background(), load.Config{
				URL: "ldap://" + l.Addr().String(), Op: op, Conns: 2, Duration: 400 * time.Millisecond, Set: set,
			})
			if err != nil {
				t.Fatal(err)
			}
			if r.Ops == 0 || r.Errors == 0 || r.FirstError == "" {
				t.Fatalf("server closed mid-run: %d ops, %d errors, %q", r.Ops, r.Errors, r.FirstError)
			}
		})
	}
}
