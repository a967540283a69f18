// Command dgbench generates the benchmark's data set, runs the load
// generator and serves the null server; the logic is in bench/dataset,
// bench/load and bench/nullserver, which bench/compare calls directly.
//
//	dgbench gen  -users N -seed S -base B [-memberof] [-service] [-dirgate] [-version] -o FILE
//	dgbench load -url URL -op OP -conns C -duration D -warmup W -pid PID -users N -seed S -base B [-json]
//	dgbench null -listen ADDR -users N -seed S -base B
//	dgbench visible -dirgate BIN -data DIR -org ORG -url URL -users N [-load-conns C -pid PID]
//	dgbench touch -mib N
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/dirgate/dirgate/bench/dataset"
	"github.com/dirgate/dirgate/bench/load"
	"github.com/dirgate/dirgate/bench/nullserver"
	"github.com/dirgate/dirgate/bench/visibility"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

const defaultBase = "dc=bench,dc=okta,dc=com"

const usage = `usage: dgbench <command> [flags]

  gen   write the data set as LDIF
  load  run the load generator against a server and print the result
  null  serve the data set from the null server (the benchmark's floor)
  visible  time CLI changes until LDAP shows them, under search load
  passwords  print "uid password" of the first -users users (to set them again)
  touch  time the first touch of fresh memory (what a start-up pays per MiB)

"dgbench <command> -h" lists a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "gen":
		err = gen(args)
	case "load":
		err = runLoad(args)
	case "null":
		err = null(args)
	case "visible":
		err = visible(args)
	case "passwords":
		err = passwords(args)
	case "touch":
		err = touch(args)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "dgbench: unknown command %q\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "dgbench:", err)
		}
		os.Exit(1)
	}
}

// setFlags are the flags that name the data set, shared by every command.
type setFlags struct {
	users int
	seed  int64
	base  string
}

func (f *setFlags) add(fs *flag.FlagSet) {
	fs.IntVar(&f.users, "users", 10000, "number of users")
	fs.Int64Var(&f.seed, "seed", 1, "data set seed")
	fs.StringVar(&f.base, "base", defaultBase, "base DN (naming context)")
}

func (f *setFlags) set() *dataset.Set { return dataset.New(f.users, f.seed, f.base) }

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	var sf setFlags
	sf.add(fs)
	var o dataset.LDIFOptions
	fs.BoolVar(&o.MemberOf, "memberof", false, "add memberOf to users (for slapadd, which does not run the memberof overlay)")
	fs.BoolVar(&o.Service, "service", false, "write the service account uid=svc-bench")
	fs.BoolVar(&o.DirgateService, "dirgate", false, "make the service account a read-only admin service account in dirgate (dirgateRole; not for slapadd)")
	fs.BoolVar(&o.Version, "version", false, `write "version: 1" first`)
	out := fs.String("o", "-", "output `FILE` (- for stdout)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if sf.users < 0 {
		return errors.New("gen: -users must not be negative")
	}
	var w io.Writer = os.Stdout
	var f *os.File
	if *out != "-" {
		var err error
		if f, err = os.Create(*out); err != nil {
			return err
		}
		w = f
	}
	err := sf.set().WriteLDIF(w, o)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var sf setFlags
	sf.add(fs)
	var c load.Config
	fs.StringVar(&c.URL, "url", "ldap://127.0.0.1:1389", "server `URL` (ldap:// only)")
	fs.StringVar(&c.Op, "op", load.OpSearchUID, "operation: "+strings.Join(load.Ops, ", "))
	fs.IntVar(&c.Conns, "conns", 16, "concurrent connections (workers)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measured interval")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "load before measuring, not counted")
	fs.IntVar(&c.ServerPID, "pid", 0, "server process `PID` for CPU accounting (0: none)")
	fs.StringVar(&c.BindDN, "bind-dn", "", "`DN` the searches bind as (default: the data set's service account)")
	fs.StringVar(&c.BindPassword, "bind-pw", "", "password of -bind-dn")
	fs.IntVar(&c.PageSize, "page-size", load.DefaultPageSize, "page size of the paged scan")
	fs.Int64Var(&c.Seed, "load-seed", 1, "seed of the random user choice")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile to `FILE`")
	if err := parse(fs, args); err != nil {
		return err
	}
	c.Set = sf.set()
	if os.Getenv("GOGC") == "" {
		// The generator allocates per response (go-ldap) and shares the
		// cores with the server: trade memory for less GC work.
		debug.SetGCPercent(400)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := load.Run(ctx, c)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	fmt.Println(r)
	return nil
}

func null(args []string) error {
	fs := flag.NewFlagSet("null", flag.ContinueOnError)
	var sf setFlags
	sf.add(fs)
	listen := fs.String("listen", "127.0.0.1:1389", "listen `ADDR`")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := nullserver.New(sf.set())
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	fmt.Println("listening on", l.Addr())
	if err := s.Serve(l); !errors.Is(err, ldapserver.ErrServerClosed) {
		return err
	}
	return nil
}

// visible measures change visibility while -load-conns connections run
// search-uid against the same server.
func visible(args []string) error {
	fs := flag.NewFlagSet("visible", flag.ContinueOnError)
	var sf setFlags
	sf.add(fs)
	var c visibility.Config
	fs.StringVar(&c.Dirgate, "dirgate", "dirgate", "the dirgate `BINARY`")
	fs.StringVar(&c.Data, "data", "", "dirgate's data `DIR`")
	fs.StringVar(&c.Org, "org", "bench", "the `ORG`")
	fs.StringVar(&c.URL, "url", "ldap://127.0.0.1:1389", "dirgate serve's ldap:// `URL`")
	fs.IntVar(&c.Changes, "changes", 10, "user changes to time")
	fs.StringVar(&c.API, "api", "", "make the changes through the REST API at this https:// `URL` instead of the CLI")
	tokenFile := fs.String("token-file", "", "`FILE` holding an org admin's API token, for -api")
	fs.StringVar(&c.CAFile, "ca", "", "CA certificate `FILE` to trust for -api (e.g. DIR/tls/ca.pem)")
	conns := fs.Int("load-conns", 16, "search-uid connections running meanwhile (0: none)")
	pid := fs.Int("pid", 0, "server `PID`, for the load's CPU figure")
	if err := parse(fs, args); err != nil {
		return err
	}
	c.Set = sf.set()
	if c.API != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("-api needs -token-file: %w", err)
		}
		c.Token = strings.TrimSpace(string(b))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	// The load runs in one-second measurements until the changes are
	// timed, so it covers them all and ends with them.
	var rounds []*load.Result
	var loadErr error
	done := make(chan struct{})
	if *conns > 0 {
		go func() {
			defer close(done)
			for loadCtx.Err() == nil {
				r, err := load.Run(loadCtx, load.Config{URL: c.URL, Op: load.OpSearchUID, Conns: *conns, Duration: time.Second,
					ServerPID: *pid, Set: c.Set})
				if err != nil {
					if loadCtx.Err() == nil {
						loadErr = err
					}
					return
				}
				rounds = append(rounds, r)
			}
		}()
		time.Sleep(2 * time.Second) // a first measurement under way
	} else {
		close(done)
	}
	res, err := visibility.Run(ctx, c)
	stopLoad()
	<-done
	if err != nil {
		return err
	}
	fmt.Printf("visible after: p50=%v max=%v over %d changes (%d never visible within the timeout)\n",
		res.P50.Round(time.Millisecond), res.Max.Round(time.Millisecond), res.Changes, res.Lost)
	if loadErr != nil {
		return fmt.Errorf("the search load failed: %w", loadErr)
	}
	if len(rounds) > 0 {
		var ops, errs int64
		var cpu time.Duration
		for _, r := range rounds {
			ops, errs, cpu = ops+r.Ops, errs+r.Errors, cpu+r.ServerCPU
		}
		fmt.Printf("meanwhile: search-uid at %d connections, %d s measured: %.0f ops/s, %d errors, server CPU %v/op\n",
			*conns, len(rounds), float64(ops)/float64(len(rounds)), errs, (cpu / time.Duration(max(ops, 1))).Round(100*time.Nanosecond))
	}
	return nil
}

func passwords(args []string) error {
	fs := flag.NewFlagSet("passwords", flag.ContinueOnError)
	var sf setFlags
	sf.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	set := sf.set()
	for i := range set.N() {
		fmt.Println(set.UID(i), set.Password(i))
	}
	return nil
}

// touch maps -mib MiB of fresh anonymous memory and writes one byte per
// 4 KiB page, timing it: the cost of memory the process has not used
// before, which a start-up pays for everything it builds. The mapping is
// the kernel's directly (not Go's heap), so nothing but the page faults is
// timed.
func touch(args []string) error {
	fs := flag.NewFlagSet("touch", flag.ContinueOnError)
	mib := fs.Int("mib", 400, "MiB to touch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n := *mib << 20
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	defer syscall.Munmap(b)
	start := time.Now()
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	d := time.Since(start)
	fmt.Printf("first touch of %d MiB: %v (%.2f ms per MiB)\n", *mib, d.Round(time.Millisecond), float64(d.Microseconds())/1000/float64(*mib))
	return nil
}
