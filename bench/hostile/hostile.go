// Package hostile runs hostile LDAP clients against a server while a
// well-behaved client (the probe) measures its searches and binds, and
// samples the server's memory: the evidence that one client cannot take
// the directory from the others. Everything is bounded (connections,
// operations, time) and meant for 127.0.0.1.
//
// The attackers dial from another loopback address (Config.AttackFrom,
// 127.0.0.2) than the probe, as hostile hosts would: the per-address
// connection limit is one of the defences under test.
package hostile

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Config says where and how hard.
type Config struct {
	LDAP, LDAPS string // host:port of ldap:// (StartTLS) and ldaps://
	TLS         *tls.Config
	// BindDN/BindPassword: the service account the storm and the probe's
	// searches bind as. UserDN/UserPassword: the user the probe's
	// search+bind logins bind as; UserUID is its uid.
	BindDN, BindPassword          string
	UserDN, UserPassword, UserUID string
	// VictimDN is the user the huge and injected passwords try (default
	// UserDN): their failures count towards its lockout, so a victim other
	// than the probe's user keeps the probe's logins apart from that.
	VictimDN                       string
	Base                           string
	Duration                       time.Duration
	ServerPID                      int    // for RSS samples; 0: none
	AttackFrom                     string // source address of the attackers (default 127.0.0.2)
	Idle, Slow, Stall, Storm, Bad  int    // connections of each attack (defaults 400, 50, 50, 4, 4)
	StormOutstanding, FloodPerConn int    // searches kept in flight per storm connection (8); requests of the flood (5000)
	StormFilter                    string // default (cn=*a*b*c*)
}

func (c *Config) defaults() {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	set(&c.Idle, 400)
	set(&c.Slow, 50)
	set(&c.Stall, 50)
	set(&c.Storm, 4)
	set(&c.Bad, 4)
	set(&c.StormOutstanding, 8)
	set(&c.FloodPerConn, 5000)
	if c.AttackFrom == "" {
		c.AttackFrom = "127.0.0.2"
	}
	if c.StormFilter == "" {
		c.StormFilter = "(cn=*a*b*c*)"
	}
	if c.VictimDN == "" {
		c.VictimDN = c.UserDN
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
}

// Report is what a run saw.
type Report struct {
	Duration time.Duration
	// The probe: operations done, failures (with the first), latencies.
	ProbeSearches, ProbeLogins, ProbeFailures int64
	FirstProbeFailure                         string
	SearchP50, SearchP99, SearchMax           time.Duration
	LoginP50, LoginP99, LoginMax              time.Duration
	// Server memory (VmRSS) before, at most, at the end, in KiB.
	RSSBefore, RSSMax, RSSAfter int64
	// Per attack: how much was thrown and what came back.
	Attacks map[string]*Counts
	// Breaches: anything an attacker got that it must not (a bind with a
	// wrong or injected credential, an entry through an injected filter).
	Breaches []string
}

// Counts are one attack's figures.
type Counts struct {
	Conns, Ops, Refused, Closed, Errors atomic.Int64
}

func (c *Counts) String() string {
	return fmt.Sprintf("conns %d, ops %d, refused %d, closed by the server %d, other errors %d",
		c.Conns.Load(), c.Ops.Load(), c.Refused.Load(), c.Closed.Load(), c.Errors.Load())
}

// Run attacks for c.Duration and returns the report.
func Run(ctx context.Context, c Config) (*Report, error) {
	c.defaults()
	ctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	r := &Report{Attacks: map[string]*Counts{}}
	var mu sync.Mutex
	breach := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(r.Breaches) < 20 {
			r.Breaches = append(r.Breaches, fmt.Sprintf(format, a...))
		}
	}
	counts := func(name string) *Counts {
		mu.Lock()
		defer mu.Unlock()
		k := &Counts{}
		r.Attacks[name] = k
		return k
	}
	a := &attacker{c: &c, breach: breach}
	r.RSSBefore = rss(c.ServerPID)
	var wg sync.WaitGroup
	stopRSS := make(chan struct{})
	var rssMax atomic.Int64
	rssMax.Store(r.RSSBefore)
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				return
			case <-t.C:
				if v := rss(c.ServerPID); v > rssMax.Load() {
					rssMax.Store(v)
				}
			}
		}
	}()
	start := time.Now()
	run := func(name string, n int, f func(ctx context.Context, k *Counts)) {
		k := counts(name)
		for range n {
			wg.Go(func() { f(ctx, k) })
		}
	}
	run("idle connections", 1, a.idle)
	run("slowloris (a bind, a byte every 200 ms)", c.Slow, a.slowloris)
	run("TLS handshakes never finished", c.Stall, a.stall)
	run("oversized and deeply nested messages", c.Bad, a.malformed)
	run("search storm "+c.StormFilter, c.Storm, a.storm)
	run("outstanding-operation flood on one connection", 1, a.flood)
	run("abandon storm", 2, a.abandons)
	run("StartTLS amid operations", 2, a.startTLSMidway)
	run("binds with 1 MiB passwords", 2, a.hugePasswords)
	run("LDAP injection in bind DNs and filters", 1, a.injection)

	p := &probe{c: &c}
	p.run(ctx)
	wg.Wait()
	close(stopRSS)
	r.Duration = time.Since(start)
	time.Sleep(500 * time.Millisecond) // the server closes what it still holds
	r.RSSMax, r.RSSAfter = max(rssMax.Load(), rss(c.ServerPID)), rss(c.ServerPID)
	r.ProbeSearches, r.ProbeLogins, r.ProbeFailures, r.FirstProbeFailure = p.searches, p.logins, p.failures, p.first
	r.SearchP50, r.SearchP99, r.SearchMax = quantiles(p.searchLat)
	r.LoginP50, r.LoginP99, r.LoginMax = quantiles(p.loginLat)
	return r, nil
}

// Markdown writes the report as a table.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "Hostile clients for %v; the well-behaved client:\n\n", r.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "| probe | done | p50 | p99 | max |\n|---|--:|--:|--:|--:|\n")
	fmt.Fprintf(w, "| search (uid=…) as the service account | %d | %v | %v | %v |\n", r.ProbeSearches, r.SearchP50, r.SearchP99, r.SearchMax)
	fmt.Fprintf(w, "| search+bind login (new connections) | %d | %v | %v | %v |\n\n", r.ProbeLogins, r.LoginP50, r.LoginP99, r.LoginMax)
	fmt.Fprintf(w, "Probe failures: %d", r.ProbeFailures)
	if r.FirstProbeFailure != "" {
		fmt.Fprintf(w, " (first: %s)", r.FirstProbeFailure)
	}
	fmt.Fprintf(w, ". Server RSS: %d MiB before, %d MiB at most, %d MiB after.\n\n", r.RSSBefore>>10, r.RSSMax>>10, r.RSSAfter>>10)
	fmt.Fprintf(w, "| attack | what it did and got |\n|---|---|\n")
	names := make([]string, 0, len(r.Attacks))
	for n := range r.Attacks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "| %s | %s |\n", n, r.Attacks[n])
	}
	fmt.Fprintf(w, "\nBreaches: %d\n", len(r.Breaches))
	for _, b := range r.Breaches {
		fmt.Fprintf(w, "- %s\n", b)
	}
}

func quantiles(l []time.Duration) (p50, p99, mx time.Duration) {
	if len(l) == 0 {
		return 0, 0, 0
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	at := func(q float64) time.Duration {
		return l[min(len(l)-1, int(q*float64(len(l))))].Round(10 * time.Microsecond)
	}
	return at(0.50), at(0.99), l[len(l)-1].Round(10 * time.Microsecond)
}

// rss is a process's VmRSS in KiB (0 when unknown).
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// probe is the well-behaved client: a search on a kept connection and a
// PostgreSQL-style search+bind login on new connections, in turn, every
// 20 ms.
type probe struct {
	c                          *Config
	searches, logins, failures int64
	first                      string
	searchLat, loginLat        []time.Duration
}

func (p *probe) fail(err error) {
	p.failures++
	if p.first == "" {
		p.first = err.Error()
	}
}

func (p *probe) dial() (*ldap.Conn, error) {
	l, err := ldap.DialURL("ldaps://"+p.c.LDAPS, ldap.DialWithTLSConfig(p.c.TLS))
	if err != nil {
		return nil, err
	}
	l.SetTimeout(30 * time.Second)
	return l, nil
}

func (p *probe) run(ctx context.Context) {
	var kept *ldap.Conn
	defer func() {
		if kept != nil {
			kept.Close()
		}
	}()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if i%2 == 0 {
			t0 := time.Now()
			if kept == nil {
				var err error
				if kept, err = p.dial(); err == nil {
					err = kept.Bind(p.c.BindDN, p.c.BindPassword)
				}
				if err != nil {
					p.fail(fmt.Errorf("search connection: %w", err))
					kept = nil
					continue
				}
			}
			res, err := kept.Search(ldap.NewSearchRequest(p.c.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
				"(uid="+ldap.EscapeFilter(p.c.UserUID)+")", []string{"cn"}, nil))
			if err == nil && len(res.Entries) != 1 {
				err = fmt.Errorf("%d entries for uid=%s", len(res.Entries), p.c.UserUID)
			}
			if err != nil {
				p.fail(fmt.Errorf("search: %w", err))
				kept.Close()
				kept = nil
				continue
			}
			p.searches++
			p.searchLat = append(p.searchLat, time.Since(t0))
			continue
		}
		t0 := time.Now()
		err := p.login()
		if err != nil {
			p.fail(fmt.Errorf("login: %w", err))
			continue
		}
		p.logins++
		p.loginLat = append(p.loginLat, time.Since(t0))
	}
}

// login is PostgreSQL's search+bind: bind as the service account, find
// the user, bind as it on a second connection.
func (p *probe) login() error {
	l, err := p.dial()
	if err != nil {
		return err
	}
	defer l.Close()
	if err := l.Bind(p.c.BindDN, p.c.BindPassword); err != nil {
		return err
	}
	res, err := l.Search(ldap.NewSearchRequest(p.c.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(uid="+ldap.EscapeFilter(p.c.UserUID)+")", []string{"1.1"}, nil))
	if err != nil {
		return err
	}
	if len(res.Entries) != 1 {
		return fmt.Errorf("%d entries", len(res.Entries))
	}
	l2, err := p.dial()
	if err != nil {
		return err
	}
	defer l2.Close()
	return l2.Bind(res.Entries[0].DN, p.c.UserPassword)
}

// attacker holds the attacks.
type attacker struct {
	c      *Config
	breach func(format string, a ...any)
}

func (a *attacker) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(a.c.AttackFrom)}, Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}

func (a *attacker) dialTLS(ctx context.Context) (*tls.Conn, error) {
	raw, err := a.dialTCP(ctx, a.c.LDAPS)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(raw, a.c.TLS)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	tc.SetDeadline(time.Time{})
	return tc, nil
}

// each dials until ctx ends, counting connections (and failed dials as
// refused), and runs body on every connection, which it then closes; ctx
// ending closes the connection too, so a blocked body returns.
func (a *attacker) each(ctx context.Context, k *Counts, dial func(context.Context) (net.Conn, error), body func(net.Conn)) {
	for ctx.Err() == nil {
		a.once(ctx, k, dial, body)
	}
}

// once is one round of each.
func (a *attacker) once(ctx context.Context, k *Counts, dial func(context.Context) (net.Conn, error), body func(net.Conn)) {
	session(ctx, k, &k.Refused, dial, body)
}

// eachLDAP is each for go-ldap connections over TLS, bound as the
// service account when bound.
func (a *attacker) eachLDAP(ctx context.Context, k *Counts, bound bool, body func(*ldap.Conn)) {
	dial := a.ldapConnUnbound
	if bound {
		dial = a.ldapConn
	}
	for ctx.Err() == nil {
		session(ctx, k, &k.Errors, dial, body)
	}
}

// session dials, runs body on the connection until it returns or ctx
// ends, and closes it; a failed dial (not the run's end) counts in
// dialFailed and waits a moment.
func session[C io.Closer](ctx context.Context, k *Counts, dialFailed *atomic.Int64, dial func(context.Context) (C, error), body func(C)) {
	conn, err := dial(ctx)
	if err != nil {
		if ctx.Err() == nil {
			dialFailed.Add(1)
		}
		sleep(ctx, 200*time.Millisecond)
		return
	}
	k.Conns.Add(1)
	stop := closeOnDone(ctx, conn)
	body(conn)
	stop()
	conn.Close()
}

func (a *attacker) plain(ctx context.Context) (net.Conn, error)   { return a.dialTCP(ctx, a.c.LDAP) }
func (a *attacker) tlsPort(ctx context.Context) (net.Conn, error) { return a.dialTCP(ctx, a.c.LDAPS) }
func (a *attacker) secure(ctx context.Context) (net.Conn, error)  { return a.dialTLS(ctx) }

// closeOnDone closes conn when ctx ends, so blocked reads return.
func closeOnDone(ctx context.Context, conn io.Closer) func() bool {
	return context.AfterFunc(ctx, func() { conn.Close() })
}

// idle opens c.Idle connections and holds them, reopening what the
// server closes.
func (a *attacker) idle(ctx context.Context, k *Counts) {
	var wg sync.WaitGroup
	for range a.c.Idle {
		wg.Go(func() {
			a.each(ctx, k, a.plain, func(conn net.Conn) {
				io.Copy(io.Discard, conn) // until the server (or the end) closes it
				if ctx.Err() == nil {
					k.Closed.Add(1)
				}
			})
		})
	}
	wg.Wait()
}

// slowloris sends a bind request a byte at a time.
func (a *attacker) slowloris(ctx context.Context, k *Counts) {
	msg := bindRequest(1, a.c.VictimDN, "slow-password")
	a.each(ctx, k, a.plain, func(conn net.Conn) {
		for i := 0; i < len(msg) && ctx.Err() == nil; i++ {
			conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write(msg[i : i+1]); err != nil {
				k.Closed.Add(1)
				return
			}
			k.Ops.Add(1)
			sleep(ctx, 200*time.Millisecond)
		}
	})
}

// stall connects to ldaps:// and never says hello (or only half of it).
func (a *attacker) stall(ctx context.Context, k *Counts) {
	hello := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01} // a record header promising 512 bytes, then nothing
	i := 0
	a.each(ctx, k, a.tlsPort, func(conn net.Conn) {
		if i++; i%2 == 0 {
			conn.Write(hello)
		}
		io.Copy(io.Discard, conn)
		if ctx.Err() == nil {
			k.Closed.Add(1)
		}
	})
}

// malformed sends a message that announces 64 MiB, and one whose filter
// is nested 1,000 deep, on fresh TLS connections.
func (a *attacker) malformed(ctx context.Context, k *Counts) {
	nested := deepFilterSearch(2, a.c.Base, 1000)
	i := 0
	a.each(ctx, k, a.secure, func(conn net.Conn) {
		msg := nested
		if i++; i%2 == 0 {
			msg = []byte{0x30, 0x84, 0x04, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01}
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		conn.Write(msg)
		k.Ops.Add(1)
		if _, err := io.Copy(io.Discard, conn); err == nil || !isTimeout(err) {
			k.Closed.Add(1) // the Notice of Disconnection, then the close
		} else {
			k.Errors.Add(1)
		}
	})
}

// storm keeps StormOutstanding expensive substring searches in flight on
// a bound connection.
func (a *attacker) storm(ctx context.Context, k *Counts) {
	a.eachLDAP(ctx, k, true, func(l *ldap.Conn) {
		var wg sync.WaitGroup
		for range a.c.StormOutstanding {
			wg.Go(func() {
				for ctx.Err() == nil {
					_, err := l.Search(ldap.NewSearchRequest(a.c.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
						a.c.StormFilter, []string{"cn"}, nil))
					switch {
					case err == nil || ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
						k.Ops.Add(1)
					case ldap.IsErrorWithCode(err, ldap.LDAPResultBusy) || ldap.IsErrorWithCode(err, ldap.LDAPResultAdminLimitExceeded):
						k.Refused.Add(1)
					default:
						if ctx.Err() == nil {
							k.Errors.Add(1)
						}
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

// flood writes FloodPerConn searches on one bound connection without
// reading, then reads what comes back.
func (a *attacker) flood(ctx context.Context, k *Counts) {
	a.each(ctx, k, a.secure, func(conn net.Conn) {
		conn.Write(bindRequest(1, a.c.BindDN, a.c.BindPassword))
		var buf []byte
		for i := range a.c.FloodPerConn {
			buf = append(buf, searchRequest(int64(i+2), a.c.Base, "(objectClass=*)")...)
			if len(buf) > 64<<10 {
				conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if _, err := conn.Write(buf); err != nil {
					break // the server stopped reading: the write timeout's back-pressure
				}
				buf = buf[:0]
			}
			k.Ops.Add(1)
		}
		conn.Write(buf)
		// Read the answers a while: busy (51) beyond the outstanding limit.
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		k.Refused.Add(countResults(conn, ldap.LDAPResultBusy))
	})
}

// abandons sends a search and abandons it at once, over and over.
func (a *attacker) abandons(ctx context.Context, k *Counts) {
	a.each(ctx, k, a.secure, func(conn net.Conn) {
		conn.Write(bindRequest(1, a.c.BindDN, a.c.BindPassword))
		go io.Copy(io.Discard, conn)
		for i := int64(2); ctx.Err() == nil && i < 20000; i += 2 {
			conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := conn.Write(append(searchRequest(i, a.c.Base, "(objectClass=*)"), abandonRequest(i+1, i)...)); err != nil {
				k.Closed.Add(1)
				return
			}
			k.Ops.Add(2)
		}
	})
}

// startTLSMidway sends a search and, before its answer, StartTLS: on
// ldap:// (where the search is refused for want of TLS, so nothing is in
// flight, and StartTLS proceeds; the client then never handshakes) and on
// a bound ldaps:// connection (where StartTLS must be refused:
// operationsError, counted as refused).
func (a *attacker) startTLSMidway(ctx context.Context, k *Counts) {
	i := 0
	midway := func(secure bool) func(net.Conn) {
		return func(conn net.Conn) {
			conn.SetDeadline(time.Now().Add(3 * time.Second))
			if secure {
				conn.Write(bindRequest(9, a.c.BindDN, a.c.BindPassword))
			}
			conn.Write(append(searchRequest(1, a.c.Base, "(objectClass=*)"), startTLSRequest(2)...))
			k.Ops.Add(2)
			if secure {
				k.Refused.Add(countResults(conn, int(ldap.LDAPResultOperationsError)))
			} else {
				countResults(conn, -1)
			}
			sleep(ctx, 20*time.Millisecond)
		}
	}
	for ctx.Err() == nil {
		i++
		dial, secure := a.plain, false
		if i%2 == 0 {
			dial, secure = a.secure, true
		}
		a.once(ctx, k, dial, midway(secure))
	}
}

// hugePasswords binds as the user with a 1 MiB password.
func (a *attacker) hugePasswords(ctx context.Context, k *Counts) {
	pw := strings.Repeat("p", 1<<20)
	a.eachLDAP(ctx, k, false, func(l *ldap.Conn) {
		for i := 0; i < 20 && ctx.Err() == nil; i++ {
			err := l.Bind(a.c.VictimDN, pw)
			k.Ops.Add(1)
			if err == nil {
				a.breach("a 1 MiB password bound as %s", a.c.VictimDN)
			} else if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				k.Refused.Add(1)
			} else {
				if ctx.Err() == nil { // not the end of the run closing it
					k.Errors.Add(1)
				}
				return
			}
		}
	})
}

// injection tries bind DNs and filter values built from strings a user
// could control.
func (a *attacker) injection(ctx context.Context, k *Counts) {
	users := "ou=users," + a.c.Base
	dns := []string{
		"uid=*," + users, "uid=" + a.c.UserUID + ")(uid=*)," + users, "uid=" + a.c.UserUID + "\x00," + users,
		"uid=" + a.c.UserUID + "," + users + ")(objectClass=*", "uid=*)(|(uid=*," + users, "(uid=*)",
	}
	values := []string{"*", "*)(uid=*", a.c.UserUID + ")(|(uid=*", "\\2a", "*))(|(objectClass=*", a.c.UserUID + "\x00"}
	a.eachLDAP(ctx, k, false, func(l *ldap.Conn) {
		for _, dn := range dns {
			for _, pw := range []string{a.c.UserPassword, "*"} {
				k.Ops.Add(1)
				if err := l.Bind(dn, pw); err == nil {
					a.breach("bind as %q with %q succeeded", dn, pw)
				} else {
					k.Refused.Add(1)
				}
			}
		}
		// Bound as the service account: the injected value is a literal.
		if err := l.Bind(a.c.BindDN, a.c.BindPassword); err == nil {
			for _, v := range values {
				k.Ops.Add(1)
				res, err := l.Search(ldap.NewSearchRequest(a.c.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
					"(uid="+ldap.EscapeFilter(v)+")", []string{"uid"}, nil))
				if err == nil && len(res.Entries) > 0 {
					a.breach("the escaped value %q matched %d entries", v, len(res.Entries))
				} else {
					k.Refused.Add(1)
				}
			}
		}
		sleep(ctx, 50*time.Millisecond)
	})
}

func (a *attacker) ldapConnUnbound(ctx context.Context) (*ldap.Conn, error) {
	tc, err := a.dialTLS(ctx)
	if err != nil {
		return nil, err
	}
	l := ldap.NewConn(tc, true)
	l.Start()
	l.SetTimeout(20 * time.Second)
	return l, nil
}

func (a *attacker) ldapConn(ctx context.Context) (*ldap.Conn, error) {
	l, err := a.ldapConnUnbound(ctx)
	if err != nil {
		return nil, err
	}
	if err := l.Bind(a.c.BindDN, a.c.BindPassword); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// countResults reads LDAP messages until an error and counts the results
// with code (-1: every message).
func countResults(conn net.Conn, code int) int64 {
	var n int64
	for {
		p, err := ber.ReadPacket(conn)
		if err != nil {
			return n
		}
		if code < 0 {
			n++
			continue
		}
		if len(p.Children) >= 2 && len(p.Children[1].Children) > 0 {
			if v, ok := p.Children[1].Children[0].Value.(int64); ok && int(v) == code {
				n++
			}
		}
	}
}

// --- request encoding (RFC 4511), with go-asn1-ber

func envelope(id int64, op *ber.Packet) []byte {
	m := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAPMessage")
	m.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "messageID"))
	m.AppendChild(op)
	return m.Bytes()
}

func bindRequest(id int64, dn, pw string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "BindRequest")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(3), "version"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "name"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, pw, "simple"))
	return envelope(id, op)
}

func searchWithFilter(id int64, base string, filter *ber.Packet) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 3, nil, "SearchRequest")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, base, "baseObject"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(2), "scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(0), "derefAliases"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), "sizeLimit"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), "timeLimit"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "typesOnly"))
	op.AppendChild(filter)
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "1.1", "attribute"))
	op.AppendChild(attrs)
	return envelope(id, op)
}

// searchRequest is a search with the present filter (objectClass=*) (the
// filter argument is informative: callers pass that one).
func searchRequest(id int64, base, _ string) []byte {
	return searchWithFilter(id, base, ber.NewString(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", "present"))
}

// deepFilterSearch is a search whose filter nests NOT depth times around
// a present filter, encoded by hand (go-asn1-ber re-measures every level
// of a deep tree).
func deepFilterSearch(id int64, base string, depth int) []byte {
	f := []byte{0x87, 11}
	f = append(f, "objectClass"...)
	for range depth {
		f = append(berHeader(0xa2, len(f)), f...)
	}
	body := append(berHeader(0x04, len(base)), base...)
	body = append(body, 0x0a, 1, 2, 0x0a, 1, 0, 0x02, 1, 0, 0x02, 1, 0, 0x01, 1, 0)
	body = append(body, f...)
	body = append(body, 0x30, 5, 0x04, 3, '1', '.', '1')
	op := append(berHeader(0x63, len(body)), body...)
	msg := append([]byte{0x02, 1, byte(id)}, op...)
	return append(berHeader(0x30, len(msg)), msg...)
}

// berHeader is a tag and a definite length.
func berHeader(tag byte, n int) []byte {
	if n < 0x80 {
		return []byte{tag, byte(n)}
	}
	var l []byte
	for v := n; v > 0; v >>= 8 {
		l = append([]byte{byte(v)}, l...)
	}
	return append([]byte{tag, 0x80 | byte(len(l))}, l...)
}

func abandonRequest(id, target int64) []byte {
	return envelope(id, ber.NewInteger(ber.ClassApplication, ber.TypePrimitive, 16, target, "AbandonRequest"))
}

func startTLSRequest(id int64) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 23, nil, "ExtendedRequest")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.1466.20037", "requestName"))
	return envelope(id, op)
}
