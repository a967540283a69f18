package compare

import (
	"context"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/bench/load"
	"github.com/dirgate/dirgate/bench/slapd"
)

// TestEndToEnd builds dirgate and dgbench, starts all three servers on
// 1000 users and measures every operation once, briefly. It takes about a
// minute, so it runs only with DIRGATE_BENCH_E2E=1.
func TestEndToEnd(t *testing.T) {
	if os.Getenv("DIRGATE_BENCH_E2E") != "1" {
		t.Skip("set DIRGATE_BENCH_E2E=1 to run the whole comparison on 1000 users")
	}
	if !slapd.Available() {
		t.Fatal("slapd is not installed (bench/scripts/install-slapd.sh)")
	}
	o, err := parseFlags([]string{"-users", "1000", "-rounds", "1", "-duration", "300ms", "-warmup", "100ms",
		"-work", t.TempDir()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var progress strings.Builder
	rep, err := run(ctx, o, &progress, "dgcompare (test)")
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if len(rep.Sizes) != 1 {
		t.Fatalf("%d sizes", len(rep.Sizes))
	}
	sz := rep.Sizes[0]
	if want := len(load.Ops) * 3 * 3; len(sz.Measurements) != want {
		t.Errorf("%d measurements, want %d", len(sz.Measurements), want)
	}
	// Every server answered correctly; a 300 ms window may end before a
	// single paged scan does (under the race detector it does), so
	// operations are only required per server and kind, and of paged,
	// entries received inside the window in every measurement.
	done := map[string]int64{}
	for _, m := range sz.Measurements {
		if m.Failed() {
			t.Errorf("%s %s conns=%d failed: %s %+v", m.Server, m.Op, m.Conns, m.Err, m.Result)
			continue
		}
		done[m.Server+" "+m.Op] += m.Result.Ops
		if m.Op == load.OpPaged && m.Result.EntriesReceived == 0 {
			t.Errorf("%s paged conns=%d: no entry arrived inside the window", m.Server, m.Conns)
		}
	}
	for _, s := range o.servers {
		for _, op := range load.Ops {
			if op != load.OpPaged && done[s+" "+op] == 0 {
				t.Errorf("%s %s: no operation completed", s, op)
			}
		}
	}
	for _, s := range sz.Servers {
		if f := s.Facts; !slices.ContainsFunc(f, func(f Fact) bool { return f.Name == "RSS after start-up" && strings.HasSuffix(f.Value, " MiB") }) {
			t.Errorf("%s: no RSS after start-up in %v", s.Name, f)
		}
	}
	if len(sz.Servers) != 3 {
		t.Errorf("server facts for %d servers", len(sz.Servers))
	}
	var md strings.Builder
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| searchbind | 64 |", "dirgate/slapd ops/s", "No measurement had errors"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, md.String())
		}
	}
	// Everything was stopped: no server still answers.
	for _, s := range sz.Servers {
		addr := strings.TrimSuffix(strings.TrimPrefix(s.URL, "ldap://"), "/")
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listens on %s after the run", s.Name, addr)
		}
	}
}
