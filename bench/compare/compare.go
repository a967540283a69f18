// Package compare runs dirgate, OpenLDAP slapd and the null server side by
// side on the same generated data set, drives each with the same load and
// prints a Markdown comparison (dgcompare, or Main from another command).
//
// The servers are measured interleaved — every operation and concurrency
// gets one measurement of each server in turn, round after round — so a
// slow minute of a shared machine lands on all of them rather than on
// whichever ran then. The figure that survives a noisy machine best is CPU
// per operation, which is why it is reported next to throughput.
package compare

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dirgate/dirgate/bench/dataset"
	"github.com/dirgate/dirgate/bench/load"
	"github.com/dirgate/dirgate/bench/slapd"
)

// Base is the data set's naming context: dirgate's org "bench" under its
// default suffix.
const (
	Org  = "bench"
	Base = "dc=bench,dc=okta,dc=com"
)

// The servers compare knows, in their default order.
const (
	ServerDirgate = "dirgate"
	ServerSlapd   = "slapd"
	ServerNull    = "null"
	// ServerDirgatePG is dirgate over a PostgreSQL store (--store) in a
	// private cluster that compare starts: searches come from the same
	// snapshot, binds count their failures and last sign-ins there.
	ServerDirgatePG = "dirgate-pg"
)

// options are the command's flags.
type options struct {
	users    []int
	seed     int64
	rounds   int
	ops      []string
	conns    []int
	duration time.Duration
	warmup   time.Duration
	work     string
	servers  []string
	dirgate  string
	dgbench  string
	out      string
	jsonOut  string
	pageSize int
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("dgcompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: dgcompare [flags]\n\nRuns dirgate, slapd and the null server side by side and prints a Markdown comparison.\n\n")
		fs.PrintDefaults()
	}
	o := &options{}
	users := fs.String("users", "10000,100000", "data set `SIZES` (users, comma-separated); one table each")
	fs.Int64Var(&o.seed, "seed", 1, "data set seed")
	fs.IntVar(&o.rounds, "rounds", 3, "measurements per server, operation and concurrency")
	ops := fs.String("ops", strings.Join(load.Ops, ","), "`OPS` to measure (comma-separated): "+strings.Join(load.Ops, ", "))
	conns := fs.String("conns", "1,16,64", "concurrent connections to measure (comma-separated)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of one measurement")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load before each measurement, not counted")
	fs.StringVar(&o.work, "work", "", "working `DIR` for binaries, LDIF and data (kept; default: a temporary directory, removed)")
	servers := fs.String("servers", "dirgate,slapd,null", "`SERVERS` to run, in measurement order; ratios are of the first to the others")
	fs.StringVar(&o.dirgate, "dirgate", "", "dirgate binary `PATH` (default: go build ./cmd/dirgate into the work dir)")
	fs.StringVar(&o.dgbench, "dgbench", "", "dgbench binary `PATH`, for the null server (default: go build ./bench/cmd/dgbench)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown to `FILE`")
	fs.StringVar(&o.jsonOut, "json", "", "write every measurement as JSON to `FILE`")
	fs.IntVar(&o.pageSize, "page-size", load.DefaultPageSize, "page size of the paged scan")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.users, err = intList(*users, 1); err != nil {
		return nil, fmt.Errorf("-users: %v", err)
	}
	if o.conns, err = intList(*conns, 1); err != nil {
		return nil, fmt.Errorf("-conns: %v", err)
	}
	o.ops = strList(*ops)
	for _, op := range o.ops {
		if !slices.Contains(load.Ops, op) {
			return nil, fmt.Errorf("-ops: unknown operation %q (want %s)", op, strings.Join(load.Ops, ", "))
		}
	}
	o.servers = strList(*servers)
	for _, s := range o.servers {
		if s != ServerDirgate && s != ServerDirgatePG && s != ServerSlapd && s != ServerNull {
			return nil, fmt.Errorf("-servers: unknown server %q (want dirgate, dirgate-pg, slapd, null)", s)
		}
	}
	if len(o.ops) == 0 || len(o.servers) == 0 {
		return nil, errors.New("-ops and -servers must not be empty")
	}
	if o.rounds < 1 || o.duration <= 0 || o.warmup < 0 {
		return nil, errors.New("-rounds must be at least 1, -duration positive, -warmup not negative")
	}
	return o, nil
}

func intList(s string, min int) ([]int, error) {
	var out []int
	for _, f := range strList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v < min {
			return nil, fmt.Errorf("%q is not a whole number of at least %d", f, min)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func strList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Main is the dgcompare command: args are its flags (without the program
// name). Every process it starts is stopped before it returns, on errors
// and on SIGINT/SIGTERM too.
func Main(args []string) error {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv("GOGC") == "" {
		// The load generator shares the cores with the servers: less GC
		// work for more memory, as dgbench load does.
		debug.SetGCPercent(400)
	}
	rep, err := run(ctx, o, os.Stderr, strings.TrimSpace("dgcompare "+shellJoin(args)))
	if rep != nil {
		if werr := writeOutputs(o, rep); err == nil {
			err = werr
		}
	}
	return err
}

func writeOutputs(o *options, rep *Report) error {
	var md strings.Builder
	if err := rep.Markdown(&md); err != nil {
		return err
	}
	fmt.Print(md.String())
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md.String()), 0o644); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// run does the work and returns the report of what was measured, partial
// when it stopped on an error.
func run(ctx context.Context, o *options, progress io.Writer, command string) (*Report, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(progress, "dgcompare: "+format+"\n", a...) }

	work := o.work
	if work == "" {
		d, err := os.MkdirTemp("", "dgcompare-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		work = d
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	work, err := filepath.Abs(work)
	if err != nil {
		return nil, err
	}

	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	has := func(s string) bool { return slices.Contains(o.servers, s) }
	if (has(ServerDirgate) || has(ServerDirgatePG)) && o.dirgate == "" {
		o.dirgate = filepath.Join(work, "bin", "dirgate")
		logf("building %s", o.dirgate)
		if err := goBuild(ctx, root, o.dirgate, "./cmd/dirgate"); err != nil {
			return nil, err
		}
	}
	if has(ServerNull) && o.dgbench == "" {
		o.dgbench = filepath.Join(work, "bin", "dgbench")
		logf("building %s", o.dgbench)
		if err := goBuild(ctx, root, o.dgbench, "./bench/cmd/dgbench"); err != nil {
			return nil, err
		}
	}
	if has(ServerSlapd) && !slapd.Available() {
		return nil, errors.New("slapd is not installed: run bench/scripts/install-slapd.sh")
	}

	rep := &Report{
		Date:      time.Now(),
		Machine:   machine(),
		CPU:       cpuModel(),
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		Command:   command,
		Seed:      o.seed,
		Rounds:    o.rounds,
		Duration:  o.duration,
		Warmup:    o.warmup,
		Servers:   o.servers,
		Ops:       o.ops,
		Conns:     o.conns,
	}
	if has(ServerSlapd) {
		if rep.SlapdVersion, err = slapd.Version(); err != nil {
			return nil, err
		}
		rep.SlapdVersion = shortSlapdVersion(rep.SlapdVersion)
	}
	if has(ServerDirgate) || has(ServerDirgatePG) {
		rep.DirgateVersion = dirgateVersion(ctx, o.dirgate, root)
	}

	rep.LoadBefore = loadAvg()
	defer func() { rep.LoadAfter = loadAvg() }()
	for _, n := range o.users {
		sz, err := runSize(ctx, o, work, n, logf)
		if sz != nil {
			rep.Sizes = append(rep.Sizes, *sz)
		}
		if err != nil {
			return rep, fmt.Errorf("%d users: %w", n, err)
		}
	}
	return rep, nil
}

// runSize starts every server on one data set, measures them interleaved
// and stops them.
func runSize(ctx context.Context, o *options, work string, n int, logf func(string, ...any)) (*SizeReport, error) {
	dir := filepath.Join(work, strconv.Itoa(n))
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	set := dataset.New(n, o.seed, Base)
	sz := &SizeReport{Users: n, Groups: set.Groups()}

	var running []*target
	defer func() {
		for _, t := range running {
			facts := t.facts
			if peak := procStatus(t.pid, "VmHWM"); peak != "" {
				facts = append(facts, Fact{"peak RSS", peak})
			}
			sz.Servers = append(sz.Servers, ServerInfo{Name: t.name, URL: t.url, Facts: facts})
			t.stop()
		}
	}()
	for _, name := range o.servers {
		logf("%d users: starting %s", n, name)
		var t *target
		var err error
		switch name {
		case ServerDirgate:
			t, err = startDirgate(ctx, o.dirgate, filepath.Join(dir, "dirgate"), set, nil)
		case ServerDirgatePG:
			t, err = startDirgatePG(ctx, o.dirgate, filepath.Join(dir, "dirgate-pg"), set)
		case ServerSlapd:
			t, err = startSlapd(ctx, filepath.Join(dir, "slapd"), set)
		case ServerNull:
			t, err = startNull(ctx, o.dgbench, filepath.Join(dir, "null"), set)
		}
		if err != nil {
			return sz, fmt.Errorf("%s: %w", name, err)
		}
		running = append(running, t)
		logf("%d users: %s ready at %s (pid %d)", n, name, t.url, t.pid)
	}

	for _, op := range o.ops {
		for _, c := range o.conns {
			for round := 1; round <= o.rounds; round++ {
				for _, t := range running {
					m := Measurement{Server: t.name, Op: op, Conns: c, Round: round}
					r, err := load.Run(ctx, load.Config{
						URL:          t.url,
						Op:           op,
						Conns:        c,
						Duration:     o.duration,
						Warmup:       o.warmup,
						ServerPID:    t.pid,
						OtherCPU:     t.cpuOthers,
						Set:          set,
						BindDN:       set.ServiceDN(),
						BindPassword: set.ServicePassword(),
						PageSize:     o.pageSize,
						Seed:         o.seed + int64(round),
					})
					if ctx.Err() != nil {
						return sz, ctx.Err()
					}
					if err != nil {
						m.Err = err.Error()
						logf("%d users: %s %s conns=%d round %d: %v", n, t.name, op, c, round, err)
					} else {
						m.Result = r
						logf("%d users: %-7s round %d: %v", n, t.name, round, r)
					}
					sz.Measurements = append(sz.Measurements, m)
					if !t.alive() {
						return sz, fmt.Errorf("%s exited during the run (see %s)", t.name, t.log)
					}
				}
			}
		}
	}
	return sz, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the dirgate module: run from the repository")
	}
	return filepath.Dir(mod), nil
}

func goBuild(ctx context.Context, root, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func machine() string {
	out, err := exec.Command("uname", "-srvm").Output()
	if err != nil {
		return runtime.GOOS + "/" + runtime.GOARCH
	}
	return strings.TrimSpace(string(out))
}

// loadAvg is the machine's 1, 5 and 15 minute load averages, which say
// whether something else shared the cores during the run.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// shortSlapdVersion turns "@(#) $OpenLDAP: slapd 2.5.13+dfsg-5 (Feb  8
// 2023 01:56:12) $" into "slapd 2.5.13+dfsg-5 (Feb 8 2023 01:56:12)".
func shortSlapdVersion(v string) string {
	v = strings.TrimPrefix(v, "@(#) ")
	v = strings.TrimPrefix(v, "$OpenLDAP: ")
	v = strings.TrimSuffix(v, "$")
	return strings.Join(strings.Fields(v), " ")
}

// dirgateVersion is `dirgate version` and the commit of the tree it was
// built from, marked when the tree had changes (read-only git commands).
func dirgateVersion(ctx context.Context, bin, root string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	v := strings.TrimSpace(string(out))
	if err != nil || v == "" {
		v = "dirgate (version unknown)"
	}
	if c, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		v += ", tree at " + strings.TrimSpace(string(c))
		if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
			v += " with uncommitted changes"
		}
	}
	return v
}

// shellJoin quotes args for a shell where needed, for the report's
// command line.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,/=:@+", r))
		}) < 0 {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
