package compare

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/bench/dataset"
	"github.com/dirgate/dirgate/bench/slapd"
)

// target is a running server under test.
type target struct {
	name  string
	url   string
	pid   int
	log   string
	facts []Fact
	stop  func()
	alive func() bool
	// cpuOthers is the CPU so far of the processes it relies on (nil:
	// none), counted with its own.
	cpuOthers func() (time.Duration, error)
}

// proc is a server process started by compare, stopped with SIGTERM (the
// graceful shutdown every server here has), then killed if it lingers.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// env is the process's environment (nil: dgcompare's).
func startProc(bin string, args []string, logPath string, stdout io.Writer, env []string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stderr = logf
	cmd.Stdout = logf
	if stdout != nil {
		cmd.Stdout = io.MultiWriter(logf, stdout)
	}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), log: logf}
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) stop() {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(terminate)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// writeLDIF writes set to path with o, and its size for the report.
func writeLDIF(set *dataset.Set, path string, o dataset.LDIFOptions) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = set.WriteLDIF(w, o)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// startDirgate loads the set into a fresh data directory with dirgate's
// own CLI, as an administrator would (init, import, a read-only admin
// service account), and serves it on plaintext LDAP only. With pg the
// store is that PostgreSQL cluster's database dirgate instead of SQLite.
func startDirgate(ctx context.Context, bin, dir string, set *dataset.Set, pg *pgStore) (*target, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	ldif := filepath.Join(dir, "bench.ldif")
	// No memberOf (dirgate computes it from the groups and its import
	// ignores it) and no service account: it is created with the CLI.
	if err := writeLDIF(set, ldif, dataset.LDIFOptions{}); err != nil {
		return nil, err
	}
	var env []string
	if pg != nil {
		env = append(os.Environ(), "DIRGATE_STORE="+pg.url)
	}
	cli := func(stdin string, args ...string) (time.Duration, error) {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(t0)
		if err != nil {
			return d, fmt.Errorf("dirgate %s: %v\n%s", args[0], err, lastLines(out, 20))
		}
		return d, nil
	}
	if _, err := cli("", "init", "--data", data, "--org", Org); err != nil {
		return nil, err
	}
	importTime, err := cli("", "import", "--data", data, "--org", Org, ldif)
	if err != nil {
		return nil, err
	}
	if _, err := cli(set.ServicePassword()+"\n", "user", "create", "--data", data, "--org", Org,
		"--login", set.ServiceUID(), "--service-account", "--role", "READ_ONLY_ADMIN", "--password-stdin"); err != nil {
		return nil, err
	}

	ldapPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "serve.log")
	t0 := time.Now()
	p, err := startProc(bin, []string{"serve", "--data", data, "--no-demo", "--allow-plaintext",
		"--ldap", fmt.Sprintf("127.0.0.1:%d", ldapPort), "--ldaps", "",
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort), "--http-plaintext"}, logPath, nil, env)
	if err != nil {
		return nil, err
	}
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort)
	if err := waitFor(ctx, p, 5*time.Minute, func() error { return httpOK(ready) }); err != nil {
		p.stop()
		return nil, fmt.Errorf("dirgate serve not ready: %v\n%s", err, fileTail(logPath, 20))
	}
	startup := time.Since(t0)
	name := ServerDirgate
	if pg != nil {
		name = ServerDirgatePG
	}
	t := &target{
		name: name, url: fmt.Sprintf("ldap://127.0.0.1:%d", ldapPort), pid: p.cmd.Process.Pid,
		log: logPath, stop: p.stop, alive: p.alive,
	}
	rss, err := rssAfterStart(ctx, t.pid)
	if err != nil {
		p.stop()
		return nil, err
	}
	t.facts = []Fact{
		{"import", seconds(importTime)},
		{"start-up to /readyz", seconds(startup)},
		{"RSS after start-up", rss},
	}
	if pg == nil {
		t.facts = append(t.facts, Fact{"database", dirSize(data)})
	} else {
		t.facts = append(t.facts, Fact{"database", pg.size()})
	}
	return t, nil
}

// startSlapd loads the set with slapadd and runs slapd (bench/slapd).
func startSlapd(ctx context.Context, dir string, set *dataset.Set) (*target, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ldif := filepath.Join(dir, "bench.ldif")
	// slapadd runs no overlays: memberOf goes in with the users.
	if err := writeLDIF(set, ldif, dataset.LDIFOptions{MemberOf: true, Service: true}); err != nil {
		return nil, err
	}
	s, err := slapd.Start(ctx, slapd.Options{
		Dir: filepath.Join(dir, "run"), Suffix: Base, LDIF: ldif, ServiceDN: set.ServiceDN(),
	})
	if err != nil {
		return nil, err
	}
	t := &target{
		name: ServerSlapd, url: s.URL(), pid: s.PID(), log: s.LogFile(),
		stop:  func() { s.Stop() },
		alive: s.Alive,
	}
	rss, err := rssAfterStart(ctx, t.pid)
	if err != nil {
		s.Stop()
		return nil, err
	}
	t.facts = []Fact{
		{"slapadd -q", seconds(s.LoadTime)},
		{"start-up to first answer", seconds(s.StartTime)},
		{"RSS after start-up", rss},
		{"database", dirSize(filepath.Join(dir, "run", "db"))},
	}
	return t, nil
}

// startNull runs `dgbench null`, the floor, in its own process so its CPU
// is measured like the others'.
func startNull(ctx context.Context, bin, dir string, set *dataset.Set) (*target, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logPath := filepath.Join(dir, "null.log")
	lines := &lineWatch{want: "listening on", found: make(chan struct{})}
	t0 := time.Now()
	p, err := startProc(bin, []string{"null", "-listen", addr, "-users", strconv.Itoa(set.N()),
		"-seed", strconv.FormatInt(set.Seed(), 10), "-base", set.Base()}, logPath, lines, nil)
	if err != nil {
		return nil, err
	}
	if err := waitFor(ctx, p, 5*time.Minute, func() error {
		select {
		case <-lines.found:
			return nil
		default:
			return errors.New(`no "listening on" yet`)
		}
	}); err != nil {
		p.stop()
		return nil, fmt.Errorf("dgbench null did not start: %v\n%s", err, fileTail(logPath, 20))
	}
	startup := time.Since(t0)
	t := &target{
		name: ServerNull, url: "ldap://" + addr, pid: p.cmd.Process.Pid, log: logPath,
		stop: p.stop, alive: p.alive,
	}
	rss, err := rssAfterStart(ctx, t.pid)
	if err != nil {
		p.stop()
		return nil, err
	}
	t.facts = []Fact{
		{"start-up (data set generated in the process)", seconds(startup)},
		{"RSS after start-up", rss},
	}
	return t, nil
}

// lineWatch closes found once a line of the output starts with want.
type lineWatch struct {
	want  string
	buf   []byte
	found chan struct{}
	done  bool
}

func (w *lineWatch) Write(b []byte) (int, error) {
	if w.done {
		return len(b), nil
	}
	w.buf = append(w.buf, b...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if strings.HasPrefix(line, w.want) {
			w.done = true
			w.buf = nil
			close(w.found)
			return len(b), nil
		}
	}
}

// waitFor polls ready until it succeeds, p exits, ctx ends or limit passes.
func waitFor(ctx context.Context, p *proc, limit time.Duration, ready func() error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		last := ready()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited (%v)", p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("%v (last: %v)", ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

func httpOK(url string) error {
	resp, err := httpClient.Get(url)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// rssSettle is how long after a server is ready its "RSS after start-up"
// is read. dirgate serve answers /readyz and then returns to the kernel
// the memory its load left behind (debug.FreeOSMemory), so a sample at
// ready catches that transient (measured at 100,000 users: 287 MB at
// ready, 212 MB one second later and still 212 MB after 4 s). Every
// server is sampled the same time after it is ready.
var rssSettle = time.Second

// rssAfterStart waits rssSettle, then reads the process's VmRSS.
func rssAfterStart(ctx context.Context, pid int) (string, error) {
	tm := time.NewTimer(rssSettle)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return procStatus(pid, "VmRSS"), nil
}

// procStatus is one field of /proc/PID/status (VmRSS, VmHWM) as "12.3 MiB",
// or "" when it cannot be read.
func procStatus(pid int, field string) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok || k != field {
			continue
		}
		f := strings.Fields(v) // "12345 kB"
		if len(f) == 2 && f[1] == "kB" {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return mib(kb << 10)
			}
		}
	}
	return ""
}

// dirSize is the bytes the files under dir occupy on disk (mdb files are
// sparse, so their apparent size would say maxsize), as MiB.
func dirSize(dir string) string {
	var total int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			total += diskUsage(fi)
		}
		return nil
	})
	return mib(total) + " on disk"
}

func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func fileTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	return lastLines(b, n)
}
