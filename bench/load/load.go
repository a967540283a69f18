// Package load is the benchmark's closed-loop load generator: Conns workers,
// each on its own connection, run one kind of LDAP operation back to back
// for a fixed time, and every answer is checked against the data set the
// server was loaded from. A wrong answer is an error, never a result, so a
// server cannot look fast by answering badly. The server's CPU time over
// the measured interval is read from /proc, so results can be compared per
// operation as well as per second.
//
// It speaks plaintext ldap:// through go-ldap (meant for loopback runs) and
// keeps its own work small: it shares the machine with the server.
package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/bench/dataset"
)

// The operations Run knows.
const (
	// OpBind: a simple bind as a random user, with its password, on the
	// worker's persistent connection.
	OpBind = "bind"
	// OpSearchUID: bound as the service account, a subtree search from the
	// base for (uid=<random user>) asking for cn, mail and memberOf.
	OpSearchUID = "search-uid"
	// OpSearchGroup: bound as the service account, the groups of a random
	// user: (&(objectClass=groupOfUniqueNames)(uniqueMember=<its DN>)),
	// asking for cn.
	OpSearchGroup = "search-group"
	// OpSearchBind: PostgreSQL's pg_hba.conf "ldap" search+bind login, one
	// operation being the whole sequence: connect, bind as the service
	// account, search ou=users for (uid=X) asking for no attributes
	// ("1.1", as PostgreSQL's LDAP_NO_ATTRS), unbind; connect again, bind as
	// the DN found with the user's password, unbind.
	OpSearchBind = "searchbind"
	// OpPaged: bound as the service account, every inetOrgPerson under
	// ou=users with the paged results control; one operation is the whole
	// scan. Its entries are also counted page by page as they arrive
	// (Result.EntriesReceived), so a scan longer than the interval still
	// gives a per-entry figure.
	OpPaged = "paged"
)

// Ops lists the operations in the order reports show them.
var Ops = []string{OpBind, OpSearchUID, OpSearchGroup, OpSearchBind, OpPaged}

// DefaultPageSize is the paged scan's page size (the most dirgate and a
// default slapd give per page).
const DefaultPageSize = 1000

// Config is one run.
type Config struct {
	URL       string        // ldap://host:port
	Op        string        // one of Ops
	Conns     int           // workers, one connection each (default 1)
	Duration  time.Duration // measured interval (required)
	Warmup    time.Duration // same load before measuring, not counted
	ServerPID int           // server process for CPU accounting; 0: none
	// OtherCPU, when set, is the CPU time so far of processes the server
	// relies on (dirgate-pg's PostgreSQL), counted in ServerCPU with it.
	OtherCPU func() (time.Duration, error)
	Set      *dataset.Set // what the server was loaded with (required)
	// BindDN and BindPassword are the account the searches bind as
	// (default: the data set's service account).
	BindDN, BindPassword string
	PageSize             int   // OpPaged's page size (default DefaultPageSize)
	Seed                 int64 // picks the random users
}

// Result is one run's figures. Durations are in nanoseconds in JSON.
type Result struct {
	Op      string `json:"op"`
	Conns   int    `json:"conns"`
	Ops     int64  `json:"ops"`     // verified operations in the interval
	Entries int64  `json:"entries"` // search entries those returned
	// EntriesReceived is the search entries that arrived inside the
	// interval in verified answers. For OpPaged it is counted page by
	// page: a scan that began before the interval, or ends after it or
	// never, contributes the pages that arrived inside it (each checked
	// as it arrives: no entry twice in a scan, none outside the data
	// set). For the other operations it equals Entries. It is the count
	// per-entry figures are over.
	EntriesReceived int64 `json:"entriesReceived"`
	Errors          int64 `json:"errors"` // failed or wrong operations in the interval
	// Elapsed is the measured interval; OpsPerSec is Ops over it.
	Elapsed   time.Duration `json:"elapsed"`
	OpsPerSec float64       `json:"opsPerSec"`
	// Latency of the verified operations (nearest rank).
	P50 time.Duration `json:"p50"`
	P90 time.Duration `json:"p90"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
	// ServerCPU is the server's user+system time over the interval (all
	// its threads), CPUPerOp that over Ops. Zero without ServerPID.
	ServerCPU  time.Duration `json:"serverCPU"`
	CPUPerOp   time.Duration `json:"cpuPerOp"`
	FirstError string        `json:"firstError,omitempty"`
}

// String is the one-line human summary.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s conns=%-3d ops=%d (%.0f/s) entries=%d", r.Op, r.Conns, r.Ops, r.OpsPerSec, r.Entries)
	if r.EntriesReceived != r.Entries {
		fmt.Fprintf(&b, " received=%d (%.0f/s)", r.EntriesReceived, float64(r.EntriesReceived)/r.Elapsed.Seconds())
	}
	fmt.Fprintf(&b, " errors=%d p50=%v p90=%v p99=%v max=%v",
		r.Errors, round(r.P50), round(r.P90), round(r.P99), round(r.Max))
	if r.ServerCPU > 0 {
		fmt.Fprintf(&b, " server-cpu=%v cpu/op=%v", round(r.ServerCPU), round(r.CPUPerOp))
	}
	if r.FirstError != "" {
		fmt.Fprintf(&b, " first-error=%q", r.FirstError)
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(100 * time.Nanosecond)
	}
}

// hardStopGrace bounds how long an operation may still run after the
// interval: a hung server must not hang the run. It is a socket deadline
// set once per connection, so it costs nothing per operation.
const hardStopGrace = 30 * time.Second

// Run runs the load and returns its figures. It returns an error when the
// run cannot start (bad configuration, server unreachable, the service
// bind refused) or ctx ends; failures during the run are counted in the
// Result.
func Run(ctx context.Context, c Config) (*Result, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	addr, err := hostPort(c.URL)
	if err != nil {
		return nil, err
	}
	if c.ServerPID > 0 {
		if _, err := ProcessCPU(c.ServerPID); err != nil {
			return nil, err
		}
	}

	workers := make([]*worker, c.Conns)
	defer func() {
		for _, w := range workers {
			if w != nil {
				w.closeAll()
			}
		}
	}()
	for i := range workers {
		w := newWorker(&c, addr, i)
		workers[i] = w
		if err := w.setup(ctx); err != nil {
			return nil, fmt.Errorf("load: connection %d: %w", i+1, err)
		}
	}
	stopAbort := context.AfterFunc(ctx, func() {
		for _, w := range workers {
			w.abort()
		}
	})
	defer stopAbort()

	t0 := time.Now()
	win := window{start: t0.Add(c.Warmup)}
	win.end = win.start.Add(c.Duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		w.win = win
		w.hardStop = win.end.Add(hardStopGrace)
		w.deadlineAll()
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx)
		}()
	}

	serverCPU := func() (time.Duration, error) {
		d, err := ProcessCPU(c.ServerPID)
		if err == nil && c.OtherCPU != nil {
			var o time.Duration
			o, err = c.OtherCPU()
			d += o
		}
		return d, err
	}
	var cpu0, cpu1 time.Duration
	var cpuErr error
	if sleepUntil(ctx, win.start) && c.ServerPID > 0 {
		cpu0, cpuErr = serverCPU()
	}
	if sleepUntil(ctx, win.end) && c.ServerPID > 0 && cpuErr == nil {
		cpu1, cpuErr = serverCPU()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cpuErr != nil {
		return nil, fmt.Errorf("load: server CPU: %w", cpuErr)
	}

	r := &Result{Op: c.Op, Conns: c.Conns, Elapsed: c.Duration, ServerCPU: cpu1 - cpu0}
	var lat []time.Duration
	var firstAt time.Time
	for _, w := range workers {
		r.Ops += w.ops
		r.Entries += w.entries
		r.EntriesReceived += w.received
		r.Errors += w.errors
		lat = append(lat, w.lat...)
		if w.firstErr != "" && (firstAt.IsZero() || w.firstAt.Before(firstAt)) {
			firstAt, r.FirstError = w.firstAt, fmt.Sprintf("at %.3fs: %s", w.firstAt.Sub(win.start).Seconds(), w.firstErr)
		}
	}
	r.OpsPerSec = float64(r.Ops) / r.Elapsed.Seconds()
	if r.Ops > 0 {
		r.CPUPerOp = r.ServerCPU / time.Duration(r.Ops)
	}
	slices.Sort(lat)
	r.P50, r.P90, r.P99 = rank(lat, 50), rank(lat, 90), rank(lat, 99)
	if len(lat) > 0 {
		r.Max = lat[len(lat)-1]
	}
	return r, nil
}

func (c *Config) defaults() error {
	if c.Set == nil {
		return errors.New("load: Config.Set is required")
	}
	if !slices.Contains(Ops, c.Op) {
		return fmt.Errorf("load: unknown operation %q (want one of %s)", c.Op, strings.Join(Ops, ", "))
	}
	if c.Duration <= 0 {
		return errors.New("load: Config.Duration must be positive")
	}
	if c.Warmup < 0 {
		return errors.New("load: Config.Warmup must not be negative")
	}
	if c.Conns == 0 {
		c.Conns = 1
	}
	if c.Conns < 0 {
		return errors.New("load: Config.Conns must be positive")
	}
	if c.Set.N() == 0 {
		return errors.New("load: the data set has no users")
	}
	if c.BindDN == "" {
		c.BindDN, c.BindPassword = c.Set.ServiceDN(), c.Set.ServicePassword()
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.PageSize < 0 {
		return errors.New("load: Config.PageSize must be positive")
	}
	return nil
}

// hostPort takes ldap://host[:port] (port 389 by default).
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("load: URL %q: %w", raw, err)
	}
	if u.Scheme != "ldap" || u.Host == "" {
		return "", fmt.Errorf("load: URL %q: want ldap://host:port (plaintext, for loopback runs)", raw)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "389"), nil
	}
	return u.Host, nil
}

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// rank is the p-th percentile by nearest rank of sorted durations.
func rank(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := (len(sorted)*p + 99) / 100 // ceil(n*p/100)
	return sorted[max(k, 1)-1]
}

// clkTck is USER_HZ, the unit of /proc/<pid>/stat's times. The kernel fixes
// it at 100 on every architecture Go runs Linux on (getconf CLK_TCK says
// so), whatever CONFIG_HZ is.
const clkTck = 100

// ProcessCPU returns a process's user+system CPU time so far, all threads
// included (fields 14 and 15 of /proc/<pid>/stat; children are not).
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	d, err := parseStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return d, nil
}

// ProcessTreeCPU is the user+system time of process pid, of its children
// that ended (its cutime and cstime), and of every descendant running now:
// what a server made of processes (PostgreSQL's postmaster and backends)
// has used so far. A descendant that ends between two readings moves its
// time into its parent's children counts, so the sum only grows.
func ProcessTreeCPU(pid int) (time.Duration, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	type proc struct {
		ppid int
		cpu  time.Duration // own, plus waited-for children
	}
	procs := map[int]proc{}
	for _, d := range dirs {
		p, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		st := string(b)
		k := strings.LastIndexByte(st, ')')
		if k < 0 {
			continue
		}
		f := strings.Fields(st[k+1:])
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var ticks uint64
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			v, _ := strconv.ParseUint(f[i], 10, 64)
			ticks += v
		}
		procs[p] = proc{ppid: ppid, cpu: time.Duration(ticks) * (time.Second / clkTck)}
	}
	if _, ok := procs[pid]; !ok {
		return 0, fmt.Errorf("no process %d", pid)
	}
	var total time.Duration
	for p, pr := range procs {
		for q := p; ; {
			if q == pid {
				total += pr.cpu
				break
			}
			next, ok := procs[q]
			if !ok || next.ppid == q || next.ppid == 0 {
				break
			}
			q = next.ppid
		}
	}
	return total, nil
}

// parseStat reads utime and stime from a /proc/<pid>/stat line.
func parseStat(s string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces
	// and parentheses: fields are counted after the last ')'.
	k := strings.LastIndexByte(s, ')')
	if k < 0 {
		return 0, errors.New("no command name")
	}
	f := strings.Fields(s[k+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields, want at least 15", len(f)+2)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad utime or stime")
	}
	return time.Duration(utime+stime) * (time.Second / clkTck), nil
}

// window is the measured interval.
type window struct{ start, end time.Time }

// worker is one closed loop. Its counters are its own until Run reads them
// after the loop ends.
type worker struct {
	c    *Config
	set  *dataset.Set
	addr string
	r    *rand.Rand

	win      window
	hardStop time.Time

	// conn is the persistent connection (nil after it broke); raw are the
	// sockets open now, so abort can unblock a read on any of them.
	conn    *ldap.Conn
	mu      sync.Mutex
	raw     map[net.Conn]struct{}
	aborted bool

	req   *ldap.SearchRequest
	paged *ldap.ControlPaging
	seen  []uint32 // OpPaged: seen[i] == epoch when user i came back this scan
	epoch uint32
	gbuf  []int

	ops, entries, errors int64
	received             int64 // entries that arrived inside the interval
	lat                  []time.Duration
	firstErr             string
	firstAt              time.Time
}

func newWorker(c *Config, addr string, i int) *worker {
	w := &worker{
		c:    c,
		set:  c.Set,
		addr: addr,
		r:    rand.New(rand.NewPCG(uint64(c.Seed), uint64(i))),
		raw:  map[net.Conn]struct{}{},
		lat:  make([]time.Duration, 0, 4096),
	}
	s := c.Set
	switch c.Op {
	case OpSearchUID:
		w.req = ldap.NewSearchRequest(s.Base(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"", []string{"cn", "mail", "memberOf"}, nil)
	case OpSearchGroup:
		w.req = ldap.NewSearchRequest(s.Base(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"", []string{"cn"}, nil)
	case OpSearchBind:
		w.req = ldap.NewSearchRequest(s.UsersDN(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"", []string{"1.1"}, nil)
	case OpPaged:
		w.paged = ldap.NewControlPaging(uint32(c.PageSize))
		w.req = ldap.NewSearchRequest(s.UsersDN(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=inetOrgPerson)", []string{"1.1"}, []ldap.Control{w.paged})
		w.seen = make([]uint32, s.N())
	}
	return w
}

// persistent reports whether the operation runs on one long-lived
// connection (all but searchbind).
func (w *worker) persistent() bool { return w.c.Op != OpSearchBind }

// setup opens the persistent connection and, for the searches, binds it.
func (w *worker) setup(ctx context.Context) error {
	if !w.persistent() {
		return nil
	}
	conn, err := w.dial(ctx)
	if err != nil {
		return err
	}
	if w.c.Op != OpBind {
		if err := conn.Bind(w.c.BindDN, w.c.BindPassword); err != nil {
			conn.Close()
			return fmt.Errorf("bind as %s: %w", w.c.BindDN, err)
		}
	}
	w.conn = conn
	return nil
}

func (w *worker) dial(ctx context.Context) (*ldap.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", w.addr)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if w.aborted {
		w.mu.Unlock()
		nc.Close()
		return nil, context.Canceled
	}
	w.raw[nc] = struct{}{}
	if w.hardStop.IsZero() {
		nc.SetDeadline(time.Now().Add(hardStopGrace)) // setup, before the run's times are known
	} else {
		nc.SetDeadline(w.hardStop)
	}
	w.mu.Unlock()
	lc := ldap.NewConn(&tracked{Conn: nc, w: w}, false)
	lc.Start()
	return lc, nil
}

// tracked forgets its socket on Close.
type tracked struct {
	net.Conn
	w *worker
}

func (t *tracked) Close() error {
	t.w.mu.Lock()
	delete(t.w.raw, t.Conn)
	t.w.mu.Unlock()
	return t.Conn.Close()
}

// deadlineAll sets the hard stop on sockets opened before it was known.
func (w *worker) deadlineAll() {
	w.mu.Lock()
	for nc := range w.raw {
		nc.SetDeadline(w.hardStop)
	}
	w.mu.Unlock()
}

// abort unblocks every read and write of the worker, now and to come.
func (w *worker) abort() {
	w.mu.Lock()
	w.aborted = true
	for nc := range w.raw {
		nc.SetDeadline(time.Unix(1, 0))
	}
	w.mu.Unlock()
}

func (w *worker) closeAll() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

func (w *worker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		if w.persistent() && w.conn == nil {
			if err := w.setup(ctx); err != nil {
				if !w.record(time.Now(), 0, 0, err) {
					return
				}
				time.Sleep(10 * time.Millisecond) // the server is down: do not spin
				continue
			}
		}
		start := time.Now()
		if !start.Before(w.win.end) {
			return
		}
		n, err := w.do(ctx)
		if err == errPastInterval {
			return // a paged scan cut at its first page after the interval
		}
		stop := time.Now()
		if err != nil && w.conn != nil && (w.conn.IsClosing() || ldap.IsErrorWithCode(err, ldap.ErrorNetwork)) {
			w.conn.Close()
			w.conn = nil
		}
		w.record(stop, stop.Sub(start), n, err)
		if errors.As(err, new(*connectError)) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// connectError is a failed connect of searchbind, after which the worker
// pauses as it does when a persistent connection cannot be reopened.
type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// errPastInterval ends a paged scan at its first page after the interval:
// nothing of it would count any more, and finishing it could take longer
// than the interval did.
var errPastInterval = errors.New("load: past the measured interval")

// inside reports whether t is inside the measured interval.
func (w *worker) inside(t time.Time) bool {
	return !t.Before(w.win.start) && !t.After(w.win.end)
}

// record counts an operation that ended at stop, when that is inside the
// interval. It reports false once the interval is over. The entries of a
// verified operation count in entries, and in received but for a paged
// scan, which counts received page by page itself (see pagedScan).
func (w *worker) record(stop time.Time, d time.Duration, entries int, err error) bool {
	if stop.Before(w.win.start) {
		return true
	}
	if stop.After(w.win.end) {
		return false
	}
	if err != nil {
		w.errors++
		if w.firstErr == "" {
			w.firstErr, w.firstAt = err.Error(), stop
		}
		return true
	}
	w.ops++
	w.entries += int64(entries)
	if w.c.Op != OpPaged {
		w.received += int64(entries)
	}
	w.lat = append(w.lat, d)
	return true
}

func (w *worker) do(ctx context.Context) (int, error) {
	i := w.r.IntN(w.set.N())
	switch w.c.Op {
	case OpBind:
		return 0, w.conn.Bind(w.set.DN(i), w.set.Password(i))
	case OpSearchUID:
		return w.searchUID(i)
	case OpSearchGroup:
		return w.searchGroup(i)
	case OpSearchBind:
		return w.searchBind(ctx, i)
	case OpPaged:
		return w.pagedScan()
	}
	return 0, nil
}

// wrong is an answer that does not match the data set.
type wrong struct{ msg string }

func (e *wrong) Error() string { return "wrong answer: " + e.msg }

func wrongf(format string, args ...any) error { return &wrong{fmt.Sprintf(format, args...)} }

func (w *worker) searchUID(i int) (int, error) {
	s := w.set
	uid := s.UID(i)
	w.req.Filter = "(uid=" + uid + ")"
	res, err := w.conn.Search(w.req)
	if err != nil {
		return 0, fmt.Errorf("search uid=%s: %w", uid, err)
	}
	if len(res.Entries) != 1 {
		return 0, wrongf("search uid=%s: %d entries, want 1", uid, len(res.Entries))
	}
	e := res.Entries[0]
	if j, ok := s.UserIndex(e.DN); !ok || j != i {
		return 0, wrongf("search uid=%s: entry %q, want %q", uid, e.DN, s.DN(i))
	}
	if v := e.GetEqualFoldAttributeValues("cn"); len(v) != 1 || v[0] != s.CN(i) {
		return 0, wrongf("search uid=%s: cn %q, want %q", uid, v, s.CN(i))
	}
	if v := e.GetEqualFoldAttributeValues("mail"); len(v) != 1 || v[0] != s.Mail(i) {
		return 0, wrongf("search uid=%s: mail %q, want %q", uid, v, s.Mail(i))
	}
	of := e.GetEqualFoldAttributeValues("memberOf")
	w.gbuf = w.gbuf[:0]
	for _, dn := range of {
		g, ok := s.GroupIndex(dn)
		if !ok {
			return 0, wrongf("search uid=%s: memberOf %q is no group of the data set", uid, dn)
		}
		w.gbuf = append(w.gbuf, g)
	}
	if err := w.sameGroups(i, "search uid="+uid+": memberOf"); err != nil {
		return 0, err
	}
	return 1, nil
}

// sameGroups compares w.gbuf, as a set, with user i's groups.
func (w *worker) sameGroups(i int, what string) error {
	slices.Sort(w.gbuf)
	if want := w.set.GroupsOf(i); !slices.Equal(w.gbuf, want) {
		return wrongf("%s: groups %v, want %v", what, w.gbuf, want)
	}
	return nil
}

func (w *worker) searchGroup(i int) (int, error) {
	s := w.set
	dn := s.DN(i)
	w.req.Filter = "(&(objectClass=groupOfUniqueNames)(uniqueMember=" + ldap.EscapeFilter(dn) + "))"
	res, err := w.conn.Search(w.req)
	if err != nil {
		return 0, fmt.Errorf("search groups of %s: %w", s.UID(i), err)
	}
	w.gbuf = w.gbuf[:0]
	for _, e := range res.Entries {
		g, ok := s.GroupIndex(e.DN)
		if !ok {
			return 0, wrongf("search groups of %s: entry %q is no group of the data set", s.UID(i), e.DN)
		}
		if v := e.GetEqualFoldAttributeValues("cn"); len(v) != 1 || v[0] != s.GroupCN(g) {
			return 0, wrongf("search groups of %s: %s has cn %q", s.UID(i), e.DN, v)
		}
		w.gbuf = append(w.gbuf, g)
	}
	if err := w.sameGroups(i, "search groups of "+s.UID(i)); err != nil {
		return 0, err
	}
	return len(res.Entries), nil
}

func (w *worker) searchBind(ctx context.Context, i int) (int, error) {
	s := w.set
	uid := s.UID(i)
	c1, err := w.dial(ctx)
	if err != nil {
		return 0, &connectError{fmt.Errorf("searchbind %s: connect: %w", uid, err)}
	}
	if err := c1.Bind(w.c.BindDN, w.c.BindPassword); err != nil {
		c1.Close()
		return 0, fmt.Errorf("searchbind %s: bind as %s: %w", uid, w.c.BindDN, err)
	}
	w.req.Filter = "(uid=" + uid + ")"
	res, err := c1.Search(w.req)
	if err != nil {
		c1.Close()
		return 0, fmt.Errorf("searchbind %s: search: %w", uid, err)
	}
	c1.Unbind() // sends the unbind, then closes
	if len(res.Entries) != 1 {
		return 0, wrongf("searchbind %s: %d entries, want 1", uid, len(res.Entries))
	}
	dn := res.Entries[0].DN
	if j, ok := s.UserIndex(dn); !ok || j != i {
		return 0, wrongf("searchbind %s: entry %q, want %q", uid, dn, s.DN(i))
	}
	c2, err := w.dial(ctx)
	if err != nil {
		return 0, &connectError{fmt.Errorf("searchbind %s: connect again: %w", uid, err)}
	}
	if err := c2.Bind(dn, s.Password(i)); err != nil {
		c2.Close()
		return 0, fmt.Errorf("searchbind %s: bind as %s: %w", uid, dn, err)
	}
	c2.Unbind()
	return 1, nil
}

// pagedScan walks ou=users page by page. Each page is checked as it
// arrives (an entry seen twice in this scan, or one the data set does not
// have, is an error at that page), and its entries count in received when
// it arrives inside the interval, whether or not the scan completes there.
// The count of the whole scan is checked when it completes. The scan stops
// at its first page after the interval (errPastInterval).
func (w *worker) pagedScan() (int, error) {
	s := w.set
	w.epoch++
	if w.epoch == 0 { // wrapped: old marks could collide
		clear(w.seen)
		w.epoch = 1
	}
	w.paged.SetCookie(nil)
	var sc scanCount
	for {
		res, err := w.conn.Search(w.req)
		at := time.Now()
		if err != nil {
			return 0, fmt.Errorf("paged scan, page %d: %w", sc.pages+1, err)
		}
		if err := w.checkPage(&sc, res.Entries); err != nil {
			return 0, err
		}
		ctl, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if ctl == nil {
			return 0, wrongf("paged scan: page %d has no paged results control", sc.pages)
		}
		if at.After(w.win.end) {
			return 0, errPastInterval
		}
		if w.inside(at) {
			w.received += int64(len(res.Entries))
		}
		if len(ctl.Cookie) == 0 {
			break
		}
		w.paged.SetCookie(ctl.Cookie)
	}
	if sc.users != s.N() {
		return 0, wrongf("paged scan: %d of %d users in %d pages", sc.users, s.N(), sc.pages)
	}
	return sc.users + sc.service, nil
}

// scanCount is what one paged scan has returned so far.
type scanCount struct{ users, service, pages int }

// checkPage checks one page of the current scan (w.epoch) and counts it in
// sc: every entry must be a user of the data set not yet returned in this
// scan, or the service account, once.
func (w *worker) checkPage(sc *scanCount, entries []*ldap.Entry) error {
	s := w.set
	sc.pages++
	for _, e := range entries {
		if i, ok := s.UserIndex(e.DN); ok {
			if w.seen[i] == w.epoch {
				return wrongf("paged scan: %s returned twice", e.DN)
			}
			w.seen[i] = w.epoch
			sc.users++
			continue
		}
		if s.IsServiceDN(e.DN) && sc.service == 0 {
			sc.service++
			continue
		}
		return wrongf("paged scan: unexpected entry %q", e.DN)
	}
	return nil
}
