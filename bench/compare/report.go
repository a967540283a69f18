package compare

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/bench/load"
)

// Measurement is one load.Run against one server: the unit the medians are
// taken over.
type Measurement struct {
	Server string       `json:"server"`
	Op     string       `json:"op"`
	Conns  int          `json:"conns"`
	Round  int          `json:"round"`
	Result *load.Result `json:"result,omitempty"`
	// Err is load.Run's own error (the run could not start or was cut
	// short); Result is nil then.
	Err string `json:"err,omitempty"`
}

// Failed reports whether the measurement is left out of the medians: it did
// not run, or any of its operations failed or came back wrong. A server
// that answers some operations badly does not get a throughput figure from
// that run.
func (m *Measurement) Failed() bool {
	return m.Err != "" || m.Result == nil || m.Result.Errors > 0
}

// Fact is one line of what was measured about a server outside the load:
// load time, start-up time, memory.
type Fact struct {
	Name, Value string
}

// ServerInfo is what the report says about one server of one size.
type ServerInfo struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Facts []Fact `json:"facts"`
}

// SizeReport is one data-set size: its servers and every measurement.
type SizeReport struct {
	Users        int           `json:"users"`
	Groups       int           `json:"groups"`
	Servers      []ServerInfo  `json:"servers"`
	Measurements []Measurement `json:"measurements"`
}

// Report is a whole run.
type Report struct {
	Date           time.Time     `json:"date"`
	Machine        string        `json:"machine"` // uname
	CPU            string        `json:"cpu"`     // model name from /proc/cpuinfo
	Cores          int           `json:"cores"`
	GoVersion      string        `json:"goVersion"`
	SlapdVersion   string        `json:"slapdVersion,omitempty"`
	DirgateVersion string        `json:"dirgateVersion,omitempty"`
	Command        string        `json:"command"`
	LoadBefore     string        `json:"loadBefore,omitempty"` // /proc/loadavg before and after
	LoadAfter      string        `json:"loadAfter,omitempty"`
	Seed           int64         `json:"seed"`
	Rounds         int           `json:"rounds"`
	Duration       time.Duration `json:"duration"`
	Warmup         time.Duration `json:"warmup"`
	Servers        []string      `json:"servers"` // in measurement order; the first is the one ratios are of
	Ops            []string      `json:"ops"`
	Conns          []int         `json:"conns"`
	Sizes          []SizeReport  `json:"sizes"`
}

// stat is the median, min and max of the measurements that count, and how
// many of all there were did.
type stat struct {
	med, min, max float64
	n, total      int
}

func (s stat) ok() bool { return s.n > 0 }

// summarize takes the median (the mean of the middle two for an even
// count): with few rounds, one disturbed round must not move the figure.
func summarize(vals []float64, total int) stat {
	s := stat{n: len(vals), total: total}
	if len(vals) == 0 {
		return s
	}
	v := slices.Clone(vals)
	slices.Sort(v)
	s.min, s.max = v[0], v[len(v)-1]
	if k := len(v) / 2; len(v)%2 == 1 {
		s.med = v[k]
	} else {
		s.med = (v[k-1] + v[k]) / 2
	}
	return s
}

// metric extracts one figure from a result.
type metric func(r *load.Result) float64

func opsPerSec(r *load.Result) float64 { return r.OpsPerSec }

// entriesPerSec and cpuPerEntry are over the entries that arrived inside
// the interval: for paged, page by page, so a round in which no scan
// completed still has them.
func entriesPerSec(r *load.Result) float64 { return float64(r.EntriesReceived) / r.Elapsed.Seconds() }

// cpuPerOp is in µs, from the totals rather than the truncated CPUPerOp.
func cpuPerOp(r *load.Result) float64 {
	if r.Ops == 0 {
		return math.NaN()
	}
	return float64(r.ServerCPU) / float64(time.Microsecond) / float64(r.Ops)
}

func cpuPerEntry(r *load.Result) float64 {
	if r.EntriesReceived == 0 {
		return math.NaN()
	}
	return float64(r.ServerCPU) / float64(time.Microsecond) / float64(r.EntriesReceived)
}

// stats summarizes metric f over the measurements of (server, op, conns).
//
// Which rounds count in a cell, the k of its [k/n]: a round that failed
// (did not run, or had any error) counts in no cell and is listed under
// the table with its errors. Every other round counts in every cell it
// gives a figure for: ops/s and entries/s always, 0 included; CPU per
// operation only when an operation completed inside the interval, CPU per
// entry only when an entry arrived there. A round left out of a CPU cell
// for that reason is listed under the table too (noOps), so no round is
// dropped silently. For paged, whose per-entry figures count the pages
// that arrived inside the interval, a round in which no scan completed
// still counts in the per-entry table.
func (sz *SizeReport) stats(server, op string, conns int, f metric) stat {
	var vals []float64
	total := 0
	for i := range sz.Measurements {
		m := &sz.Measurements[i]
		if m.Server != server || m.Op != op || m.Conns != conns {
			continue
		}
		total++
		if m.Failed() {
			continue
		}
		if v := f(m.Result); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	return summarize(vals, total)
}

// measured reports whether any server was measured on (op, conns).
func (sz *SizeReport) measured(op string, conns int) bool {
	for i := range sz.Measurements {
		if m := &sz.Measurements[i]; m.Op == op && m.Conns == conns {
			return true
		}
	}
	return false
}

// Markdown writes the report: the machine and run header, then per size
// its server facts, the table, the paged scan per entry, and every
// measurement that had errors.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("## dirgate and OpenLDAP slapd, side by side\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", r.Date.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %s; %s, %d cores; the load generator runs on the same machine\n", r.Machine, r.CPU, r.Cores)
	fmt.Fprintf(&b, "- Go: %s", r.GoVersion)
	if r.DirgateVersion != "" {
		fmt.Fprintf(&b, "; dirgate: %s", r.DirgateVersion)
	}
	if r.SlapdVersion != "" {
		fmt.Fprintf(&b, "; slapd: %s", r.SlapdVersion)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "- Command: `%s`\n", r.Command)
	if r.LoadBefore != "" {
		fmt.Fprintf(&b, "- Load average (1, 5, 15 min) before the run: %s; after: %s\n", r.LoadBefore, r.LoadAfter)
	}
	fmt.Fprintf(&b, "- Each measurement: %v warm-up, then %v measured, closed loop (each connection sends its next request when the answer is in and verified); "+
		"the servers run side by side and are measured in turn (%s, then again), %d round(s); seed %d\n",
		r.Warmup, r.Duration, strings.Join(r.Servers, ", "), r.Rounds, r.Seed)
	b.WriteString("- Cells: median over the rounds, (min–max) when there are several; [k/n] when only k of n rounds count (the others are listed under the table). " +
		"ops/s is throughput; CPU is the server process's user+system time (all threads, from /proc) per operation, in µs. ")
	if slices.Contains(r.Servers, ServerDirgatePG) {
		b.WriteString("dirgate-pg's CPU includes its PostgreSQL's (postmaster and backends). ")
	}
	if len(r.Servers) > 1 {
		fmt.Fprintf(&b, "A ratio is %s's median over the other's: above 1 for ops/s, below 1 for CPU, is %s doing better.", r.Servers[0], r.Servers[0])
	}
	b.WriteString("\n")
	for i := range r.Sizes {
		b.WriteString("\n")
		r.sizeMarkdown(&b, &r.Sizes[i])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) sizeMarkdown(b *strings.Builder, sz *SizeReport) {
	fmt.Fprintf(b, "### %s users\n\n", thousands(float64(sz.Users)))
	fmt.Fprintf(b, "- Data set: %s users, %s groups of 50 members (groupOfUniqueNames), one service account\n",
		thousands(float64(sz.Users)), thousands(float64(sz.Groups)))
	for _, s := range sz.Servers {
		fmt.Fprintf(b, "- %s", s.Name)
		for i, f := range s.Facts {
			sep := ", "
			if i == 0 {
				sep = ": "
			}
			fmt.Fprintf(b, "%s%s %s", sep, f.Name, f.Value)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")

	base := r.Servers[0]
	others := r.Servers[1:]
	// The main table.
	b.WriteString("| op | conns |")
	for _, s := range r.Servers {
		fmt.Fprintf(b, " %s ops/s | %s CPU µs/op |", s, s)
	}
	for _, o := range others {
		fmt.Fprintf(b, " %s/%s ops/s | %s/%s CPU/op |", base, o, base, o)
	}
	b.WriteString("\n|---|--:|")
	b.WriteString(strings.Repeat("--:|", 2*len(r.Servers)+2*len(others)))
	b.WriteString("\n")
	for _, op := range r.Ops {
		for _, c := range r.Conns {
			if !sz.measured(op, c) {
				continue // an interrupted run: no row rather than an empty one
			}
			fmt.Fprintf(b, "| %s | %d |", op, c)
			for _, s := range r.Servers {
				fmt.Fprintf(b, " %s | %s |",
					cell(sz.stats(s, op, c, opsPerSec), thousands),
					cell(sz.stats(s, op, c, cpuPerOp), micros))
			}
			for _, o := range others {
				fmt.Fprintf(b, " %s | %s |",
					ratio(sz.stats(base, op, c, opsPerSec), sz.stats(o, op, c, opsPerSec)),
					ratio(sz.stats(base, op, c, cpuPerOp), sz.stats(o, op, c, cpuPerOp)))
			}
			b.WriteString("\n")
		}
	}

	// The paged scan per entry: one operation is a whole walk of the
	// users, so per entry is the figure that carries to other sizes.
	if slices.Contains(r.Ops, load.OpPaged) {
		fmt.Fprintf(b, "\n`paged` per entry (one operation returns all %s users and the service account; "+
			"entries are counted page by page as they arrive inside the measured interval, whether or not their scan completed in it):\n\n",
			thousands(float64(sz.Users)))
		b.WriteString("| conns |")
		for _, s := range r.Servers {
			fmt.Fprintf(b, " %s entries/s | %s CPU µs/entry |", s, s)
		}
		for _, o := range others {
			fmt.Fprintf(b, " %s/%s CPU/entry |", base, o)
		}
		b.WriteString("\n|--:|")
		b.WriteString(strings.Repeat("--:|", 2*len(r.Servers)+len(others)))
		b.WriteString("\n")
		for _, c := range r.Conns {
			if !sz.measured(load.OpPaged, c) {
				continue
			}
			fmt.Fprintf(b, "| %d |", c)
			for _, s := range r.Servers {
				fmt.Fprintf(b, " %s | %s |",
					cell(sz.stats(s, load.OpPaged, c, entriesPerSec), thousands),
					cell(sz.stats(s, load.OpPaged, c, cpuPerEntry), micros))
			}
			for _, o := range others {
				fmt.Fprintf(b, " %s |", ratio(sz.stats(base, load.OpPaged, c, cpuPerEntry), sz.stats(o, load.OpPaged, c, cpuPerEntry)))
			}
			b.WriteString("\n")
		}
	}

	if l := sz.noOps(); len(l) > 0 {
		b.WriteString("\nRounds without errors in which no operation completed inside the measured interval, so without CPU µs/op (their ops/s is 0; " +
			"a `paged` round still counts in the per-entry table by the pages that arrived inside it):\n\n")
		for _, s := range l {
			b.WriteString(s)
			b.WriteString("\n")
		}
	}

	var bad []string
	for i := range sz.Measurements {
		m := &sz.Measurements[i]
		if !m.Failed() {
			continue
		}
		line := fmt.Sprintf("- %s `%s` conns=%d round %d: ", m.Server, m.Op, m.Conns, m.Round)
		if m.Err != "" {
			line += "did not run: " + m.Err
		} else {
			line += fmt.Sprintf("%d errors, %d operations verified", m.Result.Errors, m.Result.Ops)
			if m.Result.FirstError != "" {
				line += "; first: " + m.Result.FirstError
			}
		}
		bad = append(bad, line)
	}
	switch {
	case len(sz.Measurements) == 0:
		b.WriteString("\nNothing was measured: the run stopped before the first measurement.\n")
	case len(bad) == 0:
		b.WriteString("\nNo measurement had errors: every answer matched the data set.\n")
	default:
		fmt.Fprintf(b, "\nMeasurements with errors, left out of the medians (%d of %d):\n\n", len(bad), len(sz.Measurements))
		for _, l := range bad {
			b.WriteString(oneLine(l))
			b.WriteString("\n")
		}
	}
}

// noOps lists, one line per server, operation and concurrency, the rounds
// that had no error and completed no operation inside the interval.
func (sz *SizeReport) noOps() []string {
	type key struct {
		server, op string
		conns      int
	}
	var order []key
	rounds := map[key][]string{}
	entries := map[key]int64{}
	for i := range sz.Measurements {
		m := &sz.Measurements[i]
		if m.Failed() || m.Result.Ops > 0 {
			continue
		}
		k := key{m.Server, m.Op, m.Conns}
		if _, ok := rounds[k]; !ok {
			order = append(order, k)
		}
		rounds[k] = append(rounds[k], strconv.Itoa(m.Round))
		entries[k] += m.Result.EntriesReceived
	}
	var out []string
	for _, k := range order {
		word := "round"
		if len(rounds[k]) > 1 {
			word = "rounds"
		}
		line := fmt.Sprintf("- %s `%s` conns=%d, %s %s", k.server, k.op, k.conns, word, strings.Join(rounds[k], ", "))
		if k.op == load.OpPaged {
			line += fmt.Sprintf(": %s entries arrived inside the interval", thousands(float64(entries[k])))
		}
		out = append(out, line)
	}
	return out
}

// cell is "median (min–max)", with [k/n] when some rounds did not count
// and a dash when none did.
func cell(s stat, format func(float64) string) string {
	if !s.ok() {
		if s.total == 0 {
			return ""
		}
		return fmt.Sprintf("— [0/%d]", s.total)
	}
	out := format(s.med)
	if s.n > 1 {
		out += " (" + format(s.min) + "–" + format(s.max) + ")"
	}
	if s.n < s.total {
		out += fmt.Sprintf(" [%d/%d]", s.n, s.total)
	}
	return out
}

func ratio(a, b stat) string {
	if !a.ok() || !b.ok() || b.med == 0 {
		return "—"
	}
	return strconv.FormatFloat(a.med/b.med, 'f', 2, 64)
}

// thousands formats a count with thousands separators: 12,345.
func thousands(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// micros keeps about three significant digits.
func micros(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// oneLine keeps an error message from breaking the Markdown list.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
