package load

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/bench/dataset"
	"github.com/dirgate/dirgate/bench/nullserver"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	line := "4242 (slap d) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 9 0 123 456 789"
	d, err := parseStat(line)
	if err != nil || d != 3250*time.Millisecond {
		t.Fatalf("parseStat = %v, %v; want 3.25s (325 ticks)", d, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 ten 12"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestProcessCPUGrows(t *testing.T) {
	before, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the counter moves (a tick is 10 ms); bounded so a
	// broken reader fails instead of hanging.
	x := 0
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		for i := range 1_000_000 {
			x += i
		}
		if after, _ := ProcessCPU(os.Getpid()); after > before {
			return
		}
	}
	t.Fatalf("CPU time did not grow (%d)", x)
}

func TestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    int
		want time.Duration
	}{{50, 100}, {90, 180}, {99, 198}, {100, 200}} {
		if got := rank(d, c.p); got != c.want {
			t.Errorf("rank(1..200, %d) = %d, want %d", c.p, got, c.want)
		}
	}
	if rank(nil, 50) != 0 || rank(d[:1], 99) != 1 {
		t.Error("rank of empty or single-element input")
	}
}

func TestConfigErrors(t *testing.T) {
	set := dataset.New(10, 1, "dc=bench,dc=okta,dc=com")
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "ldap://127.0.0.1:1", Op: OpBind, Duration: time.Second}, "Set is required"},
		{Config{URL: "ldap://127.0.0.1:1", Op: "modify", Duration: time.Second, Set: set}, "unknown operation"},
		{Config{URL: "ldap://127.0.0.1:1", Op: OpBind, Set: set}, "Duration"},
		{Config{URL: "ldaps://127.0.0.1:1", Op: OpBind, Duration: time.Second, Set: set}, "want ldap://"},
		{Config{URL: "ldap://127.0.0.1:1", Op: OpBind, Duration: time.Second, Set: dataset.New(0, 1, "dc=x")}, "no users"},
		// Nothing listens on port 1: the run cannot start.
		{Config{URL: "ldap://127.0.0.1:1", Op: OpSearchUID, Duration: time.Second, Set: set}, "connection 1"},
	} {
		_, err := Run(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"ldap://127.0.0.1:1389": "127.0.0.1:1389",
		"ldap://localhost":      "localhost:389",
		"ldap://[::1]:10389":    "[::1]:10389",
	} {
		if got, err := hostPort(in); err != nil || got != want {
			t.Errorf("hostPort(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// slowReads delays every read of the server's side of a connection, so
// every request (one per page of a paged scan) waits at least delay.
type slowReads struct {
	net.Listener
	delay time.Duration
}

func (l slowReads) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return slowConn{c, l.delay}, nil
}

type slowConn struct {
	net.Conn
	delay time.Duration
}

func (c slowConn) Read(b []byte) (int, error) {
	time.Sleep(c.delay)
	return c.Conn.Read(b)
}

// startNull serves set with the null server, each request delayed.
func startNull(t *testing.T, set *dataset.Set, delay time.Duration) string {
	t.Helper()
	s, err := nullserver.New(set)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(slowReads{l, delay})
	t.Cleanup(func() { s.Close() })
	return "ldap://" + l.Addr().String()
}

// TestPagedCountsPagesInsideTheInterval: 2000 users in pages of 10, each
// page at least 20 ms, make a scan of at least 4 s, far longer than the
// 100 ms warm-up and 1 s measured. No scan completes, yet the pages that
// arrived inside the interval are counted (and verified), and the run
// ends at the interval rather than when the scans would have. The bounds
// leave room for a machine busy with other work.
func TestPagedCountsPagesInsideTheInterval(t *testing.T) {
	set := dataset.New(2000, 1, "dc=bench,dc=okta,dc=com")
	url := startNull(t, set, 20*time.Millisecond)
	t0 := time.Now()
	r, err := Run(context.Background(), Config{
		URL: url, Op: OpPaged, Conns: 2, Duration: time.Second, Warmup: 100 * time.Millisecond,
		Set: set, PageSize: 10, Seed: 1,
	})
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r, "; Run took", took)
	if r.Errors != 0 || r.FirstError != "" {
		t.Fatalf("%d errors, first: %s", r.Errors, r.FirstError)
	}
	if r.Ops != 0 || r.Entries != 0 {
		t.Errorf("%d scans (%d entries) completed; none can in 1.1 s", r.Ops, r.Entries)
	}
	// Two connections, at most one page per 20 ms each: at most 2×51
	// pages of 10 inside 1 s; at least one.
	if r.EntriesReceived < 10 || r.EntriesReceived > 1020 || r.EntriesReceived%10 != 0 {
		t.Errorf("%d entries received inside the interval, want 10-1020 in pages of 10", r.EntriesReceived)
	}
	if !strings.Contains(r.String(), fmt.Sprintf("received=%d", r.EntriesReceived)) {
		t.Errorf("String() lacks the received count: %s", r)
	}
	// The scans stop at their first page after the interval (about
	// 1.1 s); finishing them would take until 4 s at least.
	if took > 3*time.Second {
		t.Errorf("Run took %v: the scans ran on after the interval", took)
	}
}

// TestPagedWrongPageIsAnErrorAtOnce: a page with an entry the data set
// does not have is an error when it arrives, though no scan completes.
func TestPagedWrongPageIsAnErrorAtOnce(t *testing.T) {
	// The server has 1000 users; the load generator knows 5, so the
	// first page of 10 already holds user000005.
	url := startNull(t, dataset.New(1000, 1, "dc=bench,dc=okta,dc=com"), 20*time.Millisecond)
	r, err := Run(context.Background(), Config{
		URL: url, Op: OpPaged, Conns: 1, Duration: time.Second, Warmup: 50 * time.Millisecond,
		Set: dataset.New(5, 1, "dc=bench,dc=okta,dc=com"), PageSize: 10, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors == 0 || r.Ops != 0 || r.EntriesReceived != 0 || !strings.Contains(r.FirstError, "unexpected entry") {
		t.Fatalf("%d ops, %d errors, %d entries received, first error %q; want errors at the first page and nothing counted",
			r.Ops, r.Errors, r.EntriesReceived, r.FirstError)
	}
}

func TestCheckPage(t *testing.T) {
	set := dataset.New(10, 1, "dc=bench,dc=okta,dc=com")
	w := newWorker(&Config{Op: OpPaged, Set: set, PageSize: 5}, "", 0)
	entry := func(dn string) *ldap.Entry { return &ldap.Entry{DN: dn} }
	w.epoch = 1
	var sc scanCount
	if err := w.checkPage(&sc, []*ldap.Entry{entry(set.DN(0)), entry(set.DN(1)), entry(set.ServiceDN())}); err != nil {
		t.Fatal(err)
	}
	if sc != (scanCount{users: 2, service: 1, pages: 1}) {
		t.Errorf("after one page: %+v", sc)
	}
	for _, c := range []struct {
		dn, want string
	}{
		{set.DN(1), "returned twice"},                                     // on an earlier page of the same scan
		{set.ServiceDN(), "unexpected"},                                   // the service account again
		{"uid=user000010,ou=users,dc=bench,dc=okta,dc=com", "unexpected"}, // beyond the data set
	} {
		if err := w.checkPage(&sc, []*ldap.Entry{entry(set.DN(2)), entry(c.dn)}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("page with %s: %v, want %q", c.dn, err, c.want)
		}
		w.seen[2] = 0 // let the next page carry user 2 again
	}
	// A new scan may return the same users again.
	w.epoch++
	sc = scanCount{}
	if err := w.checkPage(&sc, []*ldap.Entry{entry(set.DN(1))}); err != nil || sc.users != 1 {
		t.Errorf("next scan: %v, %+v", err, sc)
	}
}
