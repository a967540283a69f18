package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dirgate/dirgate/internal/api"
	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/console"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/dit"
	"github.com/dirgate/dirgate/internal/ldapserver"
	"github.com/dirgate/dirgate/internal/tlsboot"
	"github.com/dirgate/dirgate/internal/version"
)

// serveFlags are serve's settings.
type serveFlags struct {
	data              string
	ldap, ldaps, http string
	noDemo, plaintext bool
	hostnames         []string
	logLevel          string
	tlsCert, tlsKey   string
	shutdownGrace     time.Duration
	eventRetention    time.Duration // system log (logs.go)
	bindCacheTTL      time.Duration
	pushTimeout       time.Duration
	failureFloor      time.Duration
	noSync            bool
	pprof             string
	upgradeHashes     bool
	httpPlaintext     bool
	apiRateLimit      int
	publicURL         string
	pgsync            []string // ORG=FILE
	limits            ldapLimits
}

// ldapLimits are the LDAP server's limits as serve's flags set them (0:
// ldapserver's default; negative lifts the limits that can be lifted).
type ldapLimits struct {
	maxMessage, maxConns, maxConnsPerIP, maxOutstanding, maxRunning int
	sizeLimit, maxPageSize, maxPaged                                int
	idle, read, handshake, write, searchTime                        time.Duration
}

func (l *ldapLimits) flags(fl *pflag.FlagSet) {
	fl.IntVar(&l.maxMessage, "ldap-max-message", ber.DefaultMaxMessage, "largest LDAP request in `BYTES`; a larger one ends the connection (at least 1024)")
	fl.IntVar(&l.maxConns, "ldap-max-connections", ldapserver.DefaultMaxConnections, "open LDAP connections over all listeners; more are closed at once; negative: unlimited")
	fl.IntVar(&l.maxConnsPerIP, "ldap-max-connections-per-ip", ldapserver.DefaultMaxConnectionsPerIP, "open LDAP connections from one client address; negative: unlimited")
	fl.IntVar(&l.maxOutstanding, "ldap-max-outstanding", ldapserver.DefaultMaxOutstandingOps, "operations in progress on one connection; more are answered busy (51)")
	fl.IntVar(&l.maxRunning, "ldap-max-running-per-ip", 0, "operations executing at once for one client address, over its connections; more wait their turn, so one address cannot take every core (0: 2 × the cores; negative: unlimited)")
	fl.IntVar(&l.sizeLimit, "ldap-size-limit", ldapserver.DefaultMaxEntriesUnpaged, "entries a search without paging returns before sizeLimitExceeded (4)")
	fl.IntVar(&l.maxPageSize, "ldap-max-page-size", ldapserver.DefaultMaxPageSize, "largest page a paged search gets, whatever it asks")
	fl.IntVar(&l.maxPaged, "ldap-max-paged-searches", ldapserver.DefaultMaxPagedSearches, "paged searches one connection may hold open; one more drops the oldest")
	fl.DurationVar(&l.idle, "ldap-idle-timeout", ldapserver.DefaultIdleTimeout, "closes an LDAP connection idle this long; negative: never")
	fl.DurationVar(&l.read, "ldap-read-timeout", ldapserver.DefaultReadTimeout, "time one LDAP request may take to arrive in full once it has begun; a client sending slower (slowloris) is disconnected; negative: never")
	fl.DurationVar(&l.handshake, "ldap-tls-handshake-timeout", ldapserver.DefaultTLSHandshakeTimeout, "bound on a TLS handshake (LDAPS and StartTLS)")
	fl.DurationVar(&l.write, "ldap-write-timeout", ldapserver.DefaultWriteTimeout, "a client that does not read its answers for this long is disconnected; negative: never")
	fl.DurationVar(&l.searchTime, "ldap-search-time-limit", ldapserver.DefaultSearchTimeLimit, "bound on one search (or page); a client's smaller timeLimit wins; exceeding it gives timeLimitExceeded (3)")
}

// limitFlagNames turns ldapserver.Config's field names in its errors into
// the flags that set them.
var limitFlagNames = strings.NewReplacer(
	"ldapserver: ", "", "MaxMessageSize", "--ldap-max-message", "MaxConnectionsPerIP", "--ldap-max-connections-per-ip",
	"MaxConnections", "--ldap-max-connections", "MaxOutstandingOps", "--ldap-max-outstanding",
	"MaxEntriesUnpaged", "--ldap-size-limit", "MaxPageSize", "--ldap-max-page-size", "MaxPagedSearches", "--ldap-max-paged-searches",
	"TLSHandshakeTimeout", "--ldap-tls-handshake-timeout", "SearchTimeLimit", "--ldap-search-time-limit", "ShutdownGrace", "--shutdown-grace")

// apply sets them in c.
func (l *ldapLimits) apply(c *ldapserver.Config) {
	c.MaxMessageSize, c.MaxConnections, c.MaxConnectionsPerIP = l.maxMessage, l.maxConns, l.maxConnsPerIP
	c.MaxOutstandingOps, c.MaxEntriesUnpaged, c.MaxPageSize, c.MaxPagedSearches = l.maxOutstanding, l.sizeLimit, l.maxPageSize, l.maxPaged
	c.MaxRunningPerIP, c.ReadTimeout = l.maxRunning, l.read
	c.IdleTimeout, c.TLSHandshakeTimeout, c.WriteTimeout, c.SearchTimeLimit = l.idle, l.handshake, l.write, l.searchTime
}

// listening is what serve reports once it listens (tests use port 0).
type listening struct {
	LDAP, LDAPS, HTTP string // bound addresses, "" when disabled
	CAFile            string
}

func (a *app) serveCmd() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve [--data DIR] [--ldap ADDR] [--ldaps ADDR] [--http ADDR] [flags]",
		Short: "Run the LDAP server (and /healthz, /readyz, /metrics)",
		Long: `Serve the directory in DIR over LDAP (StartTLS) and LDAPS, with /healthz,
/readyz and /metrics on HTTP. An empty address turns a listener off; port 0
picks a free port (the banner and logs say which).

On an empty data directory serve creates the demo org "example"
(dc=example,dc=okta,dc=com) with the read-only bind account ldap-bind, an org
admin, users alice, bob, carol and dave, and groups, with random passwords
written to DIR/demo-credentials.txt (mode 0600); --no-demo leaves it empty,
and so does a PostgreSQL --store (create orgs with 'dirgate init --store').

TLS: without --tls-cert/--tls-key, serve makes a private CA (DIR/tls/ca.pem)
and a server certificate signed by it for the --hostname names (and the listen
address when it is a specific one, and this machine's host name along with
localhost, as libldap checks ldap://localhost against it), reuses them on later starts and renews
the server certificate when it expires within 30 days. Clients trust ca.pem
(LDAPTLS_CACERT). SIGHUP reloads the certificate files, and a handshake reloads
them when they changed on disk (checked every 5 s: a renewed Kubernetes Secret).

One serve per data directory (it locks DIR/serve.lock); the CLI commands work
on the same directory while it runs, and serve sees their changes within
about a second. SIGINT or SIGTERM stops it gracefully.`,
		Example: `  dirgate serve --data ./dirgate-data
  dirgate serve --data /var/lib/dirgate --ldaps 0.0.0.0:636 --ldap 0.0.0.0:389 --hostname ldap.example.com
  DIRGATE_LOG_LEVEL=debug dirgate serve --no-demo`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error { return a.serve(&f) }),
	}
	fl := c.Flags()
	addDataFlag(c, &f.data)
	fl.StringVar(&f.ldap, "ldap", "127.0.0.1:1389", "ldap:// (StartTLS) listen `ADDR`; empty: off")
	fl.StringVar(&f.ldaps, "ldaps", "127.0.0.1:1636", "ldaps:// listen `ADDR`; empty: off")
	fl.StringVar(&f.http, "http", "127.0.0.1:8080", "HTTPS listen `ADDR` for the REST API (/api/v1/), /healthz, /readyz, /metrics; empty: off")
	fl.BoolVar(&f.httpPlaintext, "http-plaintext", false, "serve --http without TLS (only on a loopback address, unless --allow-plaintext)")
	fl.IntVar(&f.apiRateLimit, "api-rate-limit", api.DefaultRateLimit, "REST API calls one token may make per minute; negative: unlimited")
	fl.StringVar(&f.publicURL, "public-url", "", "the REST API's address as clients reach it (`URL`, e.g. https://dirgate.example.com behind a proxy), for the links in its answers; default: from each request")
	fl.BoolVar(&f.noDemo, "no-demo", false, "do not create the demo org on an empty data directory")
	fl.BoolVar(&f.plaintext, "allow-plaintext", false, "allow LDAP operations without TLS (loopback testing only)")
	fl.StringSliceVar(&f.hostnames, "hostname", []string{"localhost", "127.0.0.1"}, "`NAMES` (DNS names, IP addresses) of the generated server certificate")
	fl.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "server certificate (chain) PEM `FILE` to use instead of the generated one")
	fl.StringVar(&f.tlsKey, "tls-key", "", "private key PEM `FILE` of --tls-cert")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", 10*time.Second, "how long running operations may finish on shutdown")
	fl.DurationVar(&f.eventRetention, "event-retention", directory.DefaultEventRetention, "how long the system log keeps events (negative: forever); pruned hourly")
	fl.DurationVar(&f.bindCacheTTL, "bind-cache-ttl", directory.DefaultBindCacheTTL, "how long a successful bind is remembered, so the same password is not verified again (a keyed hash, never the password; forgotten on any change to the user); 0: off")
	fl.DurationVar(&f.failureFloor, "bind-failure-floor", directory.DefaultFailureFloor, "a failed bind or sign-in is answered no sooner than this after it began, so its time does not tell an unknown user from a wrong password (SECURITY.md); 0: off")
	fl.DurationVar(&f.pushTimeout, "push-timeout", directory.DefaultPushTimeout, "how long a push sign-in (an LDAP bind with <password>,push) waits for the user to approve it on the console's self-service page; PostgreSQL gives up on a login after its authentication_timeout (60s by default)")
	fl.BoolVar(&f.noSync, "no-sync", false, "do not run directory integrations on their schedules in this process ('dirgate integration sync' still runs them)")
	fl.StringArrayVar(&f.pgsync, "pgsync", nil, "run 'dirgate pgsync' for `ORG=FILE` (a mapping file) on the file's schedule; repeatable")
	fl.StringVar(&f.pprof, "pprof", "", "serve Go's profiler (/debug/pprof/) on this `ADDR` (loopback only; empty: off)")
	f.limits.flags(fl)
	fl.BoolVar(&f.upgradeHashes, "upgrade-hashes", false, "re-hash imported legacy password hashes ({SSHA}, {CRYPT}, …) with argon2id at the user's next successful bind")
	return c
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, usagef("--log-level must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

// certHosts is the names the generated certificate must hold: the
// --hostname list, any specific host the TLS listeners bind, and with
// "localhost" the machine's host name too: OpenLDAP's libldap (ldapsearch,
// PostgreSQL) checks a certificate for ldap://localhost against it.
func certHosts(f *serveFlags) []string {
	hosts := slices.Clone(f.hostnames)
	if slices.Contains(hosts, "localhost") {
		if h, err := os.Hostname(); err == nil && h != "" && !slices.Contains(hosts, h) && !strings.ContainsAny(h, " /") {
			hosts = append(hosts, h)
		}
	}
	for _, addr := range []string{f.ldaps, f.ldap} {
		h, _, err := net.SplitHostPort(addr)
		if err != nil || h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
			continue
		}
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

func (a *app) serve(f *serveFlags) (err error) {
	level, err := parseLevel(f.logLevel)
	if err != nil {
		return err
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if u, err := url.Parse(f.publicURL); f.publicURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "") {
		return usagef("--public-url must be an absolute http(s) URL such as https://dirgate.example.com, not %q", f.publicURL)
	}
	if f.httpPlaintext && f.http != "" && !f.plaintext && !loopbackAddr(f.http) {
		return usagef("--http-plaintext on %s would send API tokens in clear over the network: use it on a loopback address, or add --allow-plaintext", f.http)
	}
	if len(f.hostnames) == 0 && f.tlsCert == "" {
		return usagef("--hostname needs at least one name for the generated certificate")
	}
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	log.Debug("settings", "data", f.data, "ldap", f.ldap, "ldaps", f.ldaps, "http", f.http, "hostname", f.hostnames,
		"allow-plaintext", f.plaintext, "no-demo", f.noDemo, "tls-cert", f.tlsCert, "tls-key", f.tlsKey)
	ctx, stop := context.WithCancel(a.ctx)
	defer stop()

	// The data directory, its lock and its database.
	data, err := filepath.Abs(f.data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	lock, err := lockData(filepath.Join(data, lockFile))
	if err != nil {
		return err
	}
	defer lock.unlock()
	keys, createdKey, err := a.secretKeys(data) // the key sealing TOTP secrets (factor.go)
	if err != nil {
		return err
	}
	if createdKey != "" {
		log.Info("created the secret key that encrypts TOTP secrets; back it up with the database", "file", createdKey)
	}
	st, err := a.openStore(ctx, data, true, log) // store.go
	if err != nil {
		return err
	}
	defer st.Close()
	if f.failureFloor < 0 || f.failureFloor > 5*time.Second {
		return usagef("--bind-failure-floor must be between 0 and 5s, not %s", f.failureFloor)
	}
	if f.pushTimeout < time.Second || f.pushTimeout > 10*time.Minute {
		return usagef("--push-timeout must be between 1s and 10m, not %s", f.pushTimeout)
	}
	ttl := f.bindCacheTTL
	if ttl == 0 {
		ttl = -1 // off (directory.Config reads 0 as the default)
	}
	dir, err := directory.New(directory.Config{Store: st, Password: a.argon2, Logger: log, Secrets: keys, EventRetention: f.eventRetention,
		BindCacheTTL: ttl, UpgradeHashes: f.upgradeHashes, PushTimeout: f.pushTimeout, FailureFloor: f.failureFloor})
	if err != nil {
		return err
	}
	dir.SetDelegate((&ldapsource.Delegator{Dir: dir}).Check) // delegated authentication of synced users
	defer func() {
		if cerr := dir.Close(); cerr != nil {
			log.Error("flushing login bookkeeping", "err", cerr)
		}
	}()

	// TLS.
	b := &banner{dataDir: data, store: a.pgStoreName(data), hostname: f.hostnames[0], plaintext: f.plaintext, httpPlaintext: f.httpPlaintext,
		credFile: filepath.Join(data, credentialsFile)}
	certFile, keyFile := f.tlsCert, f.tlsKey
	generated := certFile == ""
	var boot tlsboot.Options
	if generated {
		boot = tlsboot.Options{Dir: filepath.Join(data, tlsDir), Hosts: certHosts(f)}
		r, err := tlsboot.Ensure(boot)
		if err != nil {
			return err
		}
		logTLS(log, r)
		certFile, keyFile, b.caFile = r.CertFile, r.KeyFile, r.CAFile
	}
	b.certFile = certFile
	certs, err := ldapserver.LoadCertSource(certFile, keyFile)
	if err != nil {
		return err
	}

	// Listeners first, so a taken port fails before anything is created.
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	listen := func(what, addr string) (net.Listener, error) {
		if addr == "" {
			return nil, nil
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("cannot listen on %s for %s: %w", addr, what, err)
		}
		ls = append(ls, l)
		return l, nil
	}
	ldapL, err := listen("LDAP", f.ldap)
	if err != nil {
		return err
	}
	ldapsL, err := listen("LDAPS", f.ldaps)
	if err != nil {
		return err
	}
	httpL, err := listen("HTTP", f.http)
	if err != nil {
		return err
	}
	if ldapL == nil && ldapsL == nil {
		return usagef("both --ldap and --ldaps are off: nothing to serve")
	}
	addrOf := func(l net.Listener) string {
		if l == nil {
			return ""
		}
		return l.Addr().String()
	}
	b.ldapAddr, b.ldapsAddr, b.httpAddr = addrOf(ldapL), addrOf(ldapsL), addrOf(httpL)

	// HTTP first: /healthz answers and /readyz says 503 while the
	// snapshot loads.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "dirgate_build_info", Help: "The running dirgate's version."}, []string{"version"})
	build.WithLabelValues(version.Version).Set(1)
	reg.MustRegister(build)
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dirgate_password_verifications_total",
		Help: "Slow password hashes (argon2id, bcrypt, SHA-crypt) verified by sign-ins: their CPU cost."},
		func() float64 { return float64(dir.PasswordVerifications()) }))
	var view atomic.Pointer[dit.DIT]
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	var hs *http.Server
	if httpL != nil {
		// Syncs asked for through the API or the console go on after
		// their request; shutting down ends them (the next run finishes
		// their work) before the store closes.
		runCtx, stopRuns := context.WithCancel(context.Background())
		runner := &ldapsource.Runner{Dir: dir, Log: log, Context: runCtx}
		defer func() { stopRuns(); runner.Wait() }()
		apiSrv := api.New(api.Config{Directory: dir, Logger: log, RateLimit: f.apiRateLimit, PublicURL: f.publicURL,
			LDAP: api.LDAPInfo{Host: b.hostname, LDAPPort: portOf(ldapL), LDAPSPort: portOf(ldapsL)}, Runner: runner})
		consoleSrv, err := console.New(console.Config{Directory: dir, Logger: log, CAFile: b.caFile,
			LDAP: console.LDAPInfo{Host: b.hostname, LDAPPort: portOf(ldapL), LDAPSPort: portOf(ldapsL)}, Runner: runner})
		if err != nil {
			return err
		}
		hs = &http.Server{Handler: httpHandler(&view, reg, apiSrv.Handler(), consoleSrv.Handler()), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		serveHTTP := func() error { return hs.Serve(httpL) }
		if !f.httpPlaintext {
			hs.TLSConfig = certs.TLSConfig()
			serveHTTP = func() error { return hs.ServeTLS(httpL, "", "") }
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serveHTTP(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("HTTP: %w", err)
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			hs.Shutdown(sctx)
		}()
	}

	if f.pprof != "" {
		stop, err := servePprof(f.pprof, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	// The demo org, on an empty directory.
	orgs, err := dir.Orgs(ctx)
	if err != nil {
		return err
	}
	// Not over a shared PostgreSQL store: nodes starting together would
	// race to make it, and its passwords would land in one node's
	// directory only.
	if len(orgs) == 0 && !f.noDemo && a.storeURL == "" {
		b.demoBase = "dc=" + demoOrg + "," + directory.DefaultSuffix
		if _, err := createDemo(ctx, dir, b.credFile, b); err != nil {
			return err
		}
		log.Info("created the demo org", "org", demoOrg, "credentials", b.credFile)
		if orgs, err = dir.Orgs(ctx); err != nil {
			return err
		}
	} else if o, err := dir.Org(ctx, demoOrg); err == nil {
		if _, err := dir.User(ctx, demoOrg, demoBindUID); err == nil {
			if _, err := os.Stat(b.credFile); err == nil {
				b.demoBase = directory.BaseDN(o)
			}
		}
	}
	b.orgs = orgs
	pgJobs, err := a.pgsyncJobs(ctx, dir, f.pgsync, log)
	if err != nil {
		return err
	}

	// The LDAP view and server.
	start := time.Now()
	v, err := dit.New(dir, dit.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("loading the directory: %w", err)
	}
	view.Store(v)
	// Loading reads every record once and builds the snapshot from them:
	// hand what that left behind back to the system now rather than at
	// the scavenger's pace, so the resident size is the snapshot's.
	freeing := time.Now()
	debug.FreeOSMemory()
	log.Info("snapshot loaded", "seq", v.Seq(), "elapsed", time.Since(start).Round(time.Millisecond),
		"gc", time.Since(freeing).Round(time.Millisecond))
	ditCtx, stopDIT := context.WithCancel(context.Background())
	wg.Add(1)
	go func() { defer wg.Done(); v.Run(ditCtx) }()
	defer stopDIT()
	if !f.noSync { // directory integrations on their schedules
		sched := &ldapsource.Scheduler{Dir: dir, Log: log}
		if err := sched.Register(reg); err != nil {
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); sched.Loop(ditCtx) }()
	}
	if pgJobs != nil { // PostgreSQL role syncs (pgsync.go)
		wg.Add(1)
		go func() { defer wg.Done(); pgJobs.Loop(ditCtx) }()
	}

	lc := ldapserver.Config{
		Backend:        v,
		TLSConfig:      certs.TLSConfig(),
		AllowPlaintext: f.plaintext,
		Logger:         log,
		Registerer:     reg,
		ShutdownGrace:  f.shutdownGrace,
	}
	f.limits.apply(&lc)
	srv, err := ldapserver.NewServer(lc)
	if err != nil {
		return usagef("%s", limitFlagNames.Replace(err.Error()))
	}
	if ldapL != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ldapL); err != nil && !errors.Is(err, ldapserver.ErrServerClosed) {
				errc <- fmt.Errorf("LDAP: %w", err)
			}
		}()
	}
	if ldapsL != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.ServeTLS(ldapsL); err != nil && !errors.Is(err, ldapserver.ErrServerClosed) {
				errc <- fmt.Errorf("LDAPS: %w", err)
			}
		}()
	}
	// Certificate upkeep: SIGHUP reloads; a generated certificate is
	// renewed when due.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	log.Info("serving", "ldap", b.ldapAddr, "ldaps", b.ldapsAddr, "http", b.httpAddr, "data", data, "version", version.Version)
	b.write(a.stdout)
	if a.serving != nil {
		a.serving(&listening{LDAP: b.ldapAddr, LDAPS: b.ldapsAddr, HTTP: b.httpAddr, CAFile: b.caFile})
	}

	renew := time.NewTicker(12 * time.Hour)
	defer renew.Stop()
	refreshCert := func(why string) {
		if generated {
			r, err := tlsboot.Ensure(boot)
			if err != nil {
				log.Error("TLS certificate renewal failed", "err", err)
			} else {
				logTLS(log, r)
			}
		}
		if err := certs.Reload(); err != nil {
			log.Error("TLS certificate reload failed; serving the previous one", "err", err, "trigger", why)
			return
		}
		log.Info("TLS certificate loaded", "file", certFile, "trigger", why, "expires", certExpiry(certs.Certificate()))
	}

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down")
			break loop
		case err := <-errc:
			log.Error("listener failed; shutting down", "err", err)
			runErr = err
			break loop
		case <-hup:
			refreshCert("SIGHUP")
		case <-renew.C:
			if generated {
				refreshCert("renewal check")
			}
		}
	}

	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownGrace+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("LDAP connections closed before their operations finished", "err", err)
	}
	if hs != nil {
		hs.Shutdown(sctx)
	}
	stopDIT()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

func logTLS(log *slog.Logger, r *tlsboot.Result) {
	if r.CACreated {
		log.Info("created a private CA; clients must trust it", "ca", r.CAFile)
	}
	if r.Issued {
		log.Info("issued a server certificate", "cert", r.CertFile, "reason", r.Reason, "expires", r.NotAfter.UTC().Format(time.DateOnly))
	} else {
		log.Debug("reusing the server certificate", "cert", r.CertFile, "expires", r.NotAfter.UTC().Format(time.DateOnly))
	}
}

func certExpiry(c *tls.Certificate) string {
	if c == nil || c.Leaf == nil {
		return ""
	}
	return c.Leaf.NotAfter.UTC().Format(time.DateOnly)
}

// httpHandler serves the REST API below /api/, the console below
// /console/ (and / sends browsers there), /healthz (200 while the
// process runs), /readyz (200 once the LDAP snapshot is loaded and current,
// else 503) and /metrics.
func httpHandler(view *atomic.Pointer[dit.DIT], reg *prometheus.Registry, apiHandler, consoleHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", apiHandler)
	mux.Handle("/console/", consoleHandler)
	mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusSeeOther))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		v := view.Load()
		if v == nil || !v.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready: the directory snapshot is not loaded (or not current)")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// loopbackAddr reports whether addr (host:port) listens on loopback only.
func loopbackAddr(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// portOf is l's TCP port, 0 for none.
func portOf(l net.Listener) int {
	if l == nil {
		return 0
	}
	if t, ok := l.Addr().(*net.TCPAddr); ok {
		return t.Port
	}
	return 0
}
