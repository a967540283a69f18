// Command dirgate is the identity directory server and its administration
// CLI. This package only wires commands to the packages that hold the
// rules: flags and their config-file and environment sources (config), the
// domain (directory), storage (store/sqlite), LDIF mapping (dirldif), the
// LDAP view (dit), the network server (ldapserver) and first-start TLS
// (tlsboot).
//
// Exit codes: 0 success, 1 failure, 2 usage (bad flags, arguments or
// configuration).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dirgate/dirgate/internal/config"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// app is one invocation's environment; tests build their own.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// lookupEnv reads DIRGATE_* variables (nil: os.LookupEnv).
	lookupEnv config.LookupEnv
	// serving, when set, is called once serve listens, with the bound
	// addresses (tests listen on port 0).
	serving func(*listening)

	ctx   context.Context
	inRun bool // flags, arguments and configuration were accepted
	// argon2 are the cost parameters of new password hashes (existing
	// hashes verify with the parameters they carry).
	argon2 password.Params
	// storeURL is --store (store.go), storeOnCommandLine whether it was
	// given as a flag (not in the environment or the config file).
	storeURL           string
	storeOnCommandLine bool
	// secretKeyFile is --secret-key-file (factor.go).
	secretKeyFile string
}

// usageError is a mistake in how a command was called: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitError ends a command with its own exit code (pgsync --check's
// "changes pending"), msg (if any) on stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, a *app) int {
	if a.lookupEnv == nil {
		a.lookupEnv = os.LookupEnv
	}
	a.ctx = ctx
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteC()
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(a.stderr, "dirgate: "+oneLine(ee.msg))
		}
		return ee.code
	}
	msg := "dirgate: " + oneLine(message(err))
	var ue *usageError
	if !a.inRun || errors.As(err, &ue) {
		if cmd != nil && !strings.Contains(msg, "--help") {
			msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
		}
		fmt.Fprintln(a.stderr, msg)
		return 2
	}
	fmt.Fprintln(a.stderr, msg)
	return 1
}

// message is what the user sees of err: a directory error's Message (its
// Reason is for logs, except for store failures), anything else as it is.
func message(err error) string {
	var de *directory.Error
	if errors.As(err, &de) {
		msg := de.Message
		// An operator needs the store's own words to act on a failure
		// (no secret is ever in them); other reasons stay in the logs.
		if (de.Code == directory.CodeInternal || de.Code == directory.CodeUnavailable) && de.Reason != "" && de.Reason != msg {
			msg += ": " + de.Reason
		}
		// Keep any context wrapped around the domain error.
		if s := err.Error(); strings.HasSuffix(s, de.Error()) {
			return strings.TrimSuffix(s, de.Error()) + msg
		}
		return msg
	}
	return err.Error()
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func (a *app) rootCmd() *cobra.Command {
	var configFile string
	root := &cobra.Command{
		Use:   "dirgate",
		Short: "An identity directory with an LDAP interface, modelled on Okta's",
		Long: `dirgate keeps orgs, users, groups and admin roles, and serves them over LDAP
the way Okta's LDAP interface does.

Every flag can also be set in a YAML config file (--config FILE, keys are flag
names, e.g. "ldaps: 127.0.0.1:1636") and from DIRGATE_<FLAG> environment
variables (upper case, dashes as underscores, e.g. DIRGATE_LOG_LEVEL=debug).
A flag on the command line wins over the environment, which wins over the
file, which wins over the default. DIRGATE_CONFIG names the file too.

Users are named by --login, groups by --name; where a command names both
(group add-member, group remove-member) the group is --group. The nested
group commands name the group --group too (group groups), and the group put
in it or taken out --child (group add-group, group remove-group).

The user, group and factor commands work on the data directory (--data) or,
with --server URL, on a running server through its REST API, printing the
same; the API token comes from DIRGATE_TOKEN or --token-file, never from the
command line (see 'dirgate user --help').`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a subcommand: show help, exit 2.
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(a.stderr)
			cmd.Help()
			return usagef("no command given")
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			dataOnCommandLine := cmd.Flags().Changed("data")
			a.storeOnCommandLine = cmd.Flags().Changed("store")
			if err := a.applyConfig(cmd, configFile); err != nil {
				return err
			}
			return requireTarget(cmd, dataOnCommandLine) // remote.go
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&configFile, "config", "", "YAML config `FILE` of flag settings (also DIRGATE_CONFIG)")
	pf := root.PersistentFlags()
	pf.Uint32Var(&a.argon2.Memory, "argon2-memory", password.DefaultParams.Memory, "argon2id memory cost of new password hashes, in `KiB`")
	pf.Uint32Var(&a.argon2.Time, "argon2-time", password.DefaultParams.Time, "argon2id passes over the memory for new password hashes")
	pf.Uint8Var(&a.argon2.Threads, "argon2-threads", password.DefaultParams.Threads, "argon2id lanes of new password hashes")
	a.addSecretKeyFlag(pf) // factor.go
	a.addStoreFlag(pf)     // store.go
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if refused := refusedFlag(c, err); refused != nil { // remote.go
			return refused
		}
		return &usageError{err.Error()}
	})
	root.AddCommand(
		a.versionCmd(),
		a.serveCmd(),
		a.initCmd(),
		a.userCmd(),
		a.groupCmd(),
		a.importCmd(),
		a.exportCmd(),
		a.factorCmd(),
	)
	root.AddCommand(a.policyCmd())
	root.AddCommand(a.orgCmd())          // org.go
	root.AddCommand(a.logsCmd())         // logs.go
	root.AddCommand(a.tokenCmd())        // token.go
	root.AddCommand(a.integrationCmd())  // integration.go
	root.AddCommand(a.pgHBACmd())        // pghba.go
	root.AddCommand(a.pgsyncCmd())       // pgsync.go
	root.AddCommand(a.migrateStoreCmd()) // migratestore.go
	root.AddCommand(a.backupCmd())       // backup.go
	root.AddCommand(a.restoreCmd())      // backup.go
	return root
}

// applyConfig fills the command's flags from the environment and the
// config file (see package config).
func (a *app) applyConfig(cmd *cobra.Command, file string) error {
	if !cmd.Flags().Changed("config") {
		if v, ok := a.lookupEnv(config.EnvName("config")); ok {
			file = v
		}
	}
	var f *config.File
	if file != "" {
		var err error
		if f, err = config.ReadFile(file); err != nil {
			return err
		}
		known := map[string]bool{}
		collectFlags(cmd.Root(), known)
		if err := f.CheckKeys(func(k string) bool { return known[k] }); err != nil {
			return err
		}
	}
	if err := config.Apply(cmd.Flags(), f, a.lookupEnv); err != nil {
		return err
	}
	if err := a.argon2.Validate(); err != nil {
		return usagef("--argon2-*: %v", err)
	}
	return nil
}

func collectFlags(c *cobra.Command, into map[string]bool) {
	add := func(fl *pflag.Flag) { into[fl.Name] = true }
	c.LocalFlags().VisitAll(add)
	c.PersistentFlags().VisitAll(add)
	for _, sub := range c.Commands() {
		collectFlags(sub, into)
	}
}

// do wraps a command body: from here on errors are failures (exit 1)
// unless they are usage errors.
func (a *app) do(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.inRun = true
		return fn(cmd, args)
	}
}

// parent is a command that only groups subcommands.
func (a *app) parent(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			cmd.SetOut(a.stderr)
			cmd.Help()
			return usagef("%s needs a subcommand", cmd.CommandPath())
		},
	}
	c.AddCommand(subs...)
	return c
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and exit",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			fmt.Fprintf(a.stdout, "dirgate %s (%s, %s/%s)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		}),
	}
}

// cliLogger is the logger of the administration commands: warnings and
// errors only, on stderr.
func (a *app) cliLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
