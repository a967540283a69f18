package load

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/bench/dataset"
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
