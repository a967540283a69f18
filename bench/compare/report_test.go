package compare

import (
	"context"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/bench/load"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in            []float64
		med, min, max float64
	}{
		{[]float64{3}, 3, 3, 3},
		{[]float64{5, 1, 3}, 3, 1, 5},
		{[]float64{4, 1, 3, 100}, 3.5, 1, 100}, // even: mean of the middle two
	} {
		s := summarize(tc.in, len(tc.in))
		if s.med != tc.med || s.min != tc.min || s.max != tc.max || s.n != len(tc.in) {
			t.Errorf("summarize(%v) = %+v, want med %v min %v max %v", tc.in, s, tc.med, tc.min, tc.max)
		}
	}
	in := []float64{3, 1, 2}
	summarize(in, 3)
	if in[0] != 3 || in[1] != 1 {
		t.Errorf("summarize sorted its input: %v", in)
	}
	if s := summarize(nil, 2); s.ok() || s.total != 2 {
		t.Errorf("summarize(nil) = %+v", s)
	}
}

func TestFormatting(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 123456.6: "123,457", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{1234.4: "1234", 56.78: "56.8", 4.567: "4.57", 0.4444: "0.444"} {
		if got := micros(v); got != want {
			t.Errorf("micros(%v) = %q, want %q", v, got, want)
		}
	}
	if got := cell(summarize([]float64{10, 30, 20}, 4), thousands); got != "20 (10–30) [3/4]" {
		t.Errorf("cell = %q", got)
	}
	if got := cell(summarize([]float64{1500}, 1), thousands); got != "1,500" {
		t.Errorf("cell of one round = %q", got)
	}
	if got := cell(summarize(nil, 3), thousands); got != "— [0/3]" {
		t.Errorf("cell of no counted round = %q", got)
	}
	if got := ratio(summarize([]float64{300}, 1), summarize([]float64{200}, 1)); got != "1.50" {
		t.Errorf("ratio = %q", got)
	}
	if got := ratio(summarize([]float64{300}, 1), summarize(nil, 1)); got != "—" {
		t.Errorf("ratio without the other = %q", got)
	}
}

func res(op string, conns int, opsPerSec float64, cpuPerOp time.Duration, entriesPerOp int64, errs int64) *load.Result {
	d := time.Second
	ops := int64(opsPerSec)
	return &load.Result{Op: op, Conns: conns, Ops: ops, Entries: ops * entriesPerOp, EntriesReceived: ops * entriesPerOp, Errors: errs,
		Elapsed: d, OpsPerSec: opsPerSec, ServerCPU: cpuPerOp * time.Duration(ops)}
}

// TestMarkdownPagedWithoutCompletedScans: at 100,000 users and 64
// connections no scan completes inside a short interval, but pages arrive.
// Such a round shows 0 ops/s and no CPU/op, counts in the per-entry table
// by the entries that arrived, and is listed under the table; a round
// with an error still counts nowhere.
func TestMarkdownPagedWithoutCompletedScans(t *testing.T) {
	rep := &Report{Servers: []string{"dirgate", "slapd"}, Ops: []string{"paged"}, Conns: []int{64}, Rounds: 3,
		Duration: 3 * time.Second, Warmup: time.Second}
	sz := SizeReport{Users: 100000, Groups: 2000}
	partial := func(received int64, cpu time.Duration, errs int64) *load.Result {
		return &load.Result{Op: "paged", Conns: 64, EntriesReceived: received, Errors: errs,
			Elapsed: 3 * time.Second, ServerCPU: cpu}
	}
	for round := 1; round <= 3; round++ {
		// dirgate: 300,000 entries in 3 s for 0.3 s of CPU (1 µs each).
		sz.Measurements = append(sz.Measurements, Measurement{Server: "dirgate", Op: "paged", Conns: 64, Round: round,
			Result: partial(300000, 300*time.Millisecond, 0)})
		// slapd: 30,000 entries for 3 s of CPU (100 µs each); round 2 had
		// an error, which would have been the cheapest.
		r := partial(30000, 3*time.Second, 0)
		if round == 2 {
			r = partial(3000000, 30*time.Millisecond, 1)
			r.FirstError = "at 1.000s: wrong answer: paged scan: uid=x returned twice"
		}
		sz.Measurements = append(sz.Measurements, Measurement{Server: "slapd", Op: "paged", Conns: 64, Round: round, Result: r})
	}
	rep.Sizes = []SizeReport{sz}
	var b strings.Builder
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		// No scan completed: 0 ops/s, honestly, and no CPU per scan.
		"| paged | 64 | 0 (0–0) | — [0/3] | 0 (0–0) [2/3] | — [0/3] | — | — |",
		// Per entry, every round without errors counts.
		"| 64 | 100,000 (100,000–100,000) | 1.00 (1.00–1.00) | 10,000 (10,000–10,000) [2/3] | 100 (100–100) [2/3] | 0.01 |",
		"- dirgate `paged` conns=64, rounds 1, 2, 3: 900,000 entries arrived inside the interval\n",
		"- slapd `paged` conns=64, rounds 1, 3: 60,000 entries arrived inside the interval\n",
		"left out of the medians (1 of 6)",
		"- slapd `paged` conns=64 round 2: 1 errors, 0 operations verified; first: at 1.000s: wrong answer: paged scan: uid=x returned twice\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q\n%s", want, md)
		}
	}
	if strings.Contains(md, "1,000,000") || strings.Contains(md, "0.010") {
		t.Errorf("the errored round reached the per-entry table:\n%s", md)
	}
}

func TestMarkdown(t *testing.T) {
	rep := &Report{
		Date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: "Linux x", CPU: "Test CPU", Cores: 2,
		GoVersion: "go1.26", SlapdVersion: "slapd 2.5.13", DirgateVersion: "dirgate 0.1", Command: "dgcompare -users 1000",
		Seed: 1, Rounds: 3, Duration: time.Second, Warmup: time.Second,
		Servers: []string{"dirgate", "slapd"}, Ops: []string{"bind", "paged"}, Conns: []int{1},
	}
	sz := SizeReport{Users: 1000, Groups: 20, Servers: []ServerInfo{
		{Name: "dirgate", Facts: []Fact{{"import", "0.50 s"}, {"RSS after start-up", "30.0 MiB"}}},
		{Name: "slapd", Facts: []Fact{{"slapadd -q", "0.20 s"}}},
	}}
	add := func(server, op string, round int, r *load.Result, err string) {
		sz.Measurements = append(sz.Measurements, Measurement{Server: server, Op: op, Conns: 1, Round: round, Result: r, Err: err})
	}
	// bind: dirgate 4000, 6000, and a round with errors that would have
	// been the fastest; slapd 2000, 3000, 4000.
	add("dirgate", "bind", 1, res("bind", 1, 4000, 50*time.Microsecond, 0, 0), "")
	add("slapd", "bind", 1, res("bind", 1, 2000, 100*time.Microsecond, 0, 0), "")
	add("dirgate", "bind", 2, res("bind", 1, 90000, time.Microsecond, 0, 7), "")
	sz.Measurements[2].Result.FirstError = "at 0.1s: bind uid=user000001: wrong\nanswer"
	add("slapd", "bind", 2, res("bind", 1, 3000, 100*time.Microsecond, 0, 0), "")
	add("dirgate", "bind", 3, res("bind", 1, 6000, 70*time.Microsecond, 0, 0), "")
	add("slapd", "bind", 3, res("bind", 1, 4000, 100*time.Microsecond, 0, 0), "")
	// paged: 1001 entries an operation; slapd's second round did not run.
	for round := 1; round <= 3; round++ {
		add("dirgate", "paged", round, res("paged", 1, 100, 1001*time.Microsecond, 1001, 0), "")
		if round == 2 {
			add("slapd", "paged", round, nil, "load: connection 1: connection refused")
		} else {
			add("slapd", "paged", round, res("paged", 1, 50, 10010*time.Microsecond, 1001, 0), "")
		}
	}
	rep.Sizes = []SizeReport{sz}

	var b strings.Builder
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"- Date: 2026-01-02 03:04 UTC",
		"Test CPU, 2 cores",
		"slapd: slapd 2.5.13",
		"- Command: `dgcompare -users 1000`",
		"### 1,000 users",
		"- dirgate: import 0.50 s, RSS after start-up 30.0 MiB\n",
		"| op | conns | dirgate ops/s | dirgate CPU µs/op | slapd ops/s | slapd CPU µs/op | dirgate/slapd ops/s | dirgate/slapd CPU/op |",
		// dirgate's errored round is out: median of 4000 and 6000, CPU of 50 and 70.
		"| bind | 1 | 5,000 (4,000–6,000) [2/3] | 60.0 (50.0–70.0) [2/3] | 3,000 (2,000–4,000) | 100 (100–100) | 1.67 | 0.60 |",
		"| paged | 1 | 100 (100–100) | 1001 (1001–1001) | 50 (50–50) [2/3] | 10010 (10010–10010) [2/3] | 2.00 | 0.10 |",
		"| 1 | 100,100 (100,100–100,100) | 1.00 (1.00–1.00) | 50,050 (50,050–50,050) [2/3] | 10.0 (10.0–10.0) [2/3] | 0.10 |",
		"left out of the medians (2 of 12)",
		"- dirgate `bind` conns=1 round 2: 7 errors, 90000 operations verified; first: at 0.1s: bind uid=user000001: wrong answer\n",
		"- slapd `paged` conns=1 round 2: did not run: load: connection 1: connection refused\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q\n%s", want, md)
		}
	}
	if strings.Contains(md, "90,000") {
		t.Errorf("the errored round's throughput reached the table:\n%s", md)
	}
}

func TestMarkdownNoErrors(t *testing.T) {
	rep := &Report{Servers: []string{"null"}, Ops: []string{"bind"}, Conns: []int{1, 16}, Rounds: 1}
	rep.Sizes = []SizeReport{{Users: 10, Measurements: []Measurement{
		{Server: "null", Op: "bind", Conns: 1, Round: 1, Result: res("bind", 1, 10, time.Microsecond, 0, 0)},
	}}}
	var b strings.Builder
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !strings.Contains(md, "No measurement had errors") || strings.Contains(md, "/null") || strings.Contains(md, "`paged` per entry") ||
		!strings.Contains(md, "| bind | 1 |") || strings.Contains(md, "| bind | 16 |") {
		t.Errorf("single server, no paged, no errors, conns=16 never measured:\n%s", md)
	}
}

func TestCPUPerOpWithoutOps(t *testing.T) {
	if v := cpuPerOp(&load.Result{}); !math.IsNaN(v) {
		t.Errorf("cpuPerOp of no operations = %v, want NaN (no figure)", v)
	}
}

func TestParseFlags(t *testing.T) {
	var sink strings.Builder
	o, err := parseFlags([]string{"-users", "1000, 5000", "-conns", "2", "-ops", "bind,paged", "-servers", "slapd,dirgate"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.users) != 2 || o.users[1] != 5000 || len(o.conns) != 1 || o.conns[0] != 2 ||
		strings.Join(o.ops, " ") != "bind paged" || strings.Join(o.servers, " ") != "slapd dirgate" ||
		o.rounds != 3 || o.duration != 5*time.Second || o.warmup != time.Second {
		t.Errorf("parsed %+v", o)
	}
	d, err := parseFlags(nil, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.users) != 2 || d.users[0] != 10000 || d.users[1] != 100000 || len(d.ops) != 5 || len(d.conns) != 3 ||
		strings.Join(d.servers, ",") != "dirgate,slapd,null" {
		t.Errorf("defaults %+v", d)
	}
	for _, bad := range [][]string{
		{"-users", "0"}, {"-users", "x"}, {"-conns", ""}, {"-ops", "modify"}, {"-servers", "ad"}, {"-rounds", "0"}, {"extra"},
	} {
		if _, err := parseFlags(bad, &sink); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"-users", "10000", "-out", "my file.md", "-x", "it's", ""})
	want := `-users 10000 -out 'my file.md' -x 'it'\''s' ''`
	if got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}

func TestLineWatch(t *testing.T) {
	w := &lineWatch{want: "listening on", found: make(chan struct{})}
	w.Write([]byte("starting\nlisten"))
	select {
	case <-w.found:
		t.Fatal("found before the line was complete")
	default:
	}
	w.Write([]byte("ing on 127.0.0.1:1\n"))
	select {
	case <-w.found:
	default:
		t.Fatal("a split line was not found")
	}
	w.Write([]byte("listening on again\n")) // must not close twice
}

func TestShortSlapdVersion(t *testing.T) {
	got := shortSlapdVersion("@(#) $OpenLDAP: slapd 2.5.13+dfsg-5 (Feb  8 2023 01:56:12) $")
	if got != "slapd 2.5.13+dfsg-5 (Feb 8 2023 01:56:12)" {
		t.Errorf("shortSlapdVersion = %q", got)
	}
}

func TestMarkdownNothingMeasured(t *testing.T) {
	rep := &Report{Servers: []string{"dirgate"}, Ops: []string{"bind"}, Conns: []int{1}, Rounds: 1,
		Sizes: []SizeReport{{Users: 10}}}
	var b strings.Builder
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	if md := b.String(); !strings.Contains(md, "Nothing was measured") || strings.Contains(md, "No measurement had errors") {
		t.Errorf("a run that stopped before measuring:\n%s", md)
	}
}

// TestRSSAfterStart: the resident set is read rssSettle after ready, not
// at once (dirgate returns memory to the kernel right after it is ready),
// and a cancelled run does not wait.
func TestRSSAfterStart(t *testing.T) {
	if rssSettle != time.Second {
		t.Errorf("rssSettle = %v, the README says one second", rssSettle)
	}
	defer func(d time.Duration) { rssSettle = d }(rssSettle)
	rssSettle = 50 * time.Millisecond
	t0 := time.Now()
	rss, err := rssAfterStart(context.Background(), os.Getpid())
	if err != nil || time.Since(t0) < rssSettle {
		t.Fatalf("rssAfterStart = %q, %v after %v; want a sample no sooner than %v", rss, err, time.Since(t0), rssSettle)
	}
	if runtime.GOOS == "linux" && !strings.HasSuffix(rss, " MiB") {
		t.Errorf("VmRSS of this process = %q", rss)
	}
	rssSettle = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rssAfterStart(ctx, os.Getpid()); err == nil {
		t.Error("a cancelled run waited for the sample")
	}
}
