// Package slapd runs a private OpenLDAP slapd (Debian's package) on
// 127.0.0.1 for the side-by-side benchmark: it writes a slapd.conf, loads an
// LDIF with slapadd and starts slapd in the foreground, so the benchmark can
// measure its CPU by PID and stop it with the run.
//
// The configuration mirrors what dirgate serves, so both do the same work:
// an mdb database with equality indexes on the attributes the load filters
// on, the memberof overlay (groupOfUniqueNames/uniqueMember -> memberOf),
// ACLs under which userPassword is only usable to authenticate, a bound
// user reads its own entry and the service account reads everything, and
// the same search limits (1000 entries without paging, pages of at most
// 1000, paged searches unbounded). No TLS: both run plaintext on loopback,
// as TLS would cost both the same.
package slapd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Paths of Debian 12's slapd package.
const (
	DefaultBinDir    = "/usr/sbin"
	DefaultModuleDir = "/usr/lib/ldap"
	DefaultSchemaDir = "/etc/ldap/schema"
)

// Options says what to run.
type Options struct {
	// Dir is a fresh working directory: slapd.conf, the database (db/) and
	// slapd's log (slapd.log) go there.
	Dir string
	// Suffix is the database's naming context, e.g. dc=bench,dc=okta,dc=com.
	Suffix string
	// LDIF is the file slapadd loads before slapd starts. slapadd runs no
	// overlays, so memberOf values must be in it already.
	LDIF string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// ServiceDN is the account that may read every entry (but no
	// userPassword), as dirgate's read-only admin service account does.
	ServiceDN string
	// Threads sets slapd's worker threads; 0 keeps slapd's default (16),
	// which is already more than the cores a benchmark machine has.
	Threads int
	// BinDir, ModuleDir and SchemaDir default to Debian's paths.
	BinDir, ModuleDir, SchemaDir string

	// ConfigText, when not empty, is written as slapd.conf instead of what
	// Config generates, for callers that need their own schema, ACLs,
	// limits or TLS (internal/connector/ldapsource/ldaptest). Its paths
	// should be absolute and its database directory must be Dir/db, which
	// Start creates. ServiceDN and Threads are then unused (ServiceDN is
	// not required).
	ConfigText string
	// ExtraURLs are more URLs for slapd to listen on besides URL(), e.g.
	// "ldaps://127.0.0.1:PORT/" (the configuration must then set up TLS).
	// Start still waits for the ldap:// URL on Port.
	ExtraURLs []string
}

// Server is a running slapd.
type Server struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{} // closed when slapd has exited
	err  error         // slapd's exit status, set before done is closed
	log  string

	// LoadTime is how long slapadd took to load the LDIF.
	LoadTime time.Duration
	// StartTime is from starting slapd to its first answer.
	StartTime time.Duration
}

// URL is the ldap:// URL slapd listens on.
func (s *Server) URL() string { return s.url }

// PID is slapd's process id, for reading its CPU time from /proc.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Alive reports whether slapd is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// LogFile is where slapd's stderr goes.
func (s *Server) LogFile() string { return s.log }

// Stop asks slapd to shut down (SIGTERM) and waits for it; after 10 seconds
// it kills it. Stopping a stopped server is fine.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(terminate)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// Available reports whether slapd and slapadd are installed in Debian's
// place.
func Available() bool {
	for _, b := range []string{"slapd", "slapadd"} {
		if _, err := os.Stat(filepath.Join(DefaultBinDir, b)); err != nil {
			return false
		}
	}
	return true
}

// Version is the first line of `slapd -VV`, e.g.
// "@(#) $OpenLDAP: slapd 2.5.13+dfsg-5 (Feb  8 2023 01:56:12) $".
func Version() (string, error) {
	out, err := exec.Command(filepath.Join(DefaultBinDir, "slapd"), "-VV").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("slapd -VV: %v: %s", err, bytes.TrimSpace(out))
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line), nil
}

// Start writes the configuration, loads the LDIF with slapadd -q and starts
// slapd, returning once it answers a RootDSE search. ctx bounds the loading
// and the wait, not the server's life: call Stop.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Dir == "" || o.Suffix == "" || o.LDIF == "" || (o.ServiceDN == "" && o.ConfigText == "") {
		return nil, errors.New("slapd: Dir, Suffix, LDIF and ServiceDN (or ConfigText) are required")
	}
	if o.BinDir == "" {
		o.BinDir = DefaultBinDir
	}
	if o.ModuleDir == "" {
		o.ModuleDir = DefaultModuleDir
	}
	if o.SchemaDir == "" {
		o.SchemaDir = DefaultSchemaDir
	}
	if o.Port == 0 {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		o.Port = p
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "slapd.conf")
	text := o.ConfigText
	if text == "" {
		if text, err = Config(o, dir); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}

	// Quick mode skips consistency checks and per-entry syncs: the LDIF is
	// ours and a failed load is simply redone.
	t0 := time.Now()
	add := exec.CommandContext(ctx, filepath.Join(o.BinDir, "slapadd"), "-q", "-f", conf, "-l", o.LDIF)
	if out, err := add.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapadd: %v: %s", err, lastLines(out, 10))
	}
	s := &Server{
		url:      fmt.Sprintf("ldap://127.0.0.1:%d/", o.Port),
		log:      filepath.Join(dir, "slapd.log"),
		done:     make(chan struct{}),
		LoadTime: time.Since(t0),
	}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	// -d 0 keeps slapd in the foreground (no fork, so the PID is slapd's
	// own) without debug output; loglevel in the config is 0 too, so slapd
	// spends nothing on per-operation logging. It runs as the current
	// user: it owns the files it was just given.
	urls := strings.Join(append([]string{s.url}, o.ExtraURLs...), " ")
	s.cmd = exec.Command(filepath.Join(o.BinDir, "slapd"), "-h", urls, "-f", conf, "-d", "0")
	s.cmd.Dir = dir
	s.cmd.Stdout = logf
	s.cmd.Stderr = logf
	s.cmd.SysProcAttr = sysProcAttr()
	t1 := time.Now()
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("slapd: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		log, _ := os.ReadFile(s.log)
		return nil, fmt.Errorf("slapd did not start: %v: %s", err, lastLines(log, 10))
	}
	s.StartTime = time.Since(t1)
	return s, nil
}

// waitReady polls with an anonymous RootDSE search, which the ACLs allow,
// until slapd answers, exits or ctx (at most a minute) ends.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	for {
		if last = s.ping(); last == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("%v (last: %v)", ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Server) ping() error {
	c, err := ldap.DialURL(s.url, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetTimeout(5 * time.Second)
	_, err = c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"namingContexts"}, nil))
	return err
}

// Config is the slapd.conf Start writes for o, with dir as the working
// directory.
func Config(o Options, dir string) (string, error) {
	for _, v := range []string{o.Suffix, o.ServiceDN} {
		if strings.ContainsAny(v, "\"\n\\") {
			return "", fmt.Errorf("slapd: %q: quotes, backslashes and newlines are not supported", v)
		}
	}
	var b strings.Builder
	err := confTemplate.Execute(&b, struct {
		Options
		Dir string
	}{o, dir})
	return b.String(), err
}

// The schemas inetOrgPerson needs (core, cosine) and nothing else; memberOf
// comes with the memberof overlay. maxsize is the mdb map size, address
// space rather than memory: 32 GiB holds well over a million users.
//
// The limits give the service account what dirgate gives every bound
// reader: 1000 entries per plain search (slapd's default is 500), pages
// of at most 1000, and no bound on a paged search's total (size.prtotal,
// which otherwise defaults to the hard limit and would end a paged walk of
// the users at 1000).
//
// In Debian 12's slapd 2.5 the memberof overlay is deprecated (dynlist's
// memberOf is the successor) but still shipped and working; it is the one
// that keeps memberOf stored on the user entry, as dirgate's snapshot does.
var confTemplate = template.Must(template.New("slapd.conf").Parse(`# Written by bench/slapd; regenerated on every run.
include {{.SchemaDir}}/core.schema
include {{.SchemaDir}}/cosine.schema
include {{.SchemaDir}}/inetorgperson.schema

pidfile {{.Dir}}/slapd.pid
argsfile {{.Dir}}/slapd.args
loglevel 0
{{- if .Threads}}
threads {{.Threads}}
{{- end}}

modulepath {{.ModuleDir}}
moduleload back_mdb
moduleload memberof

sizelimit size.soft=1000 size.hard=1000 size.pr=1000 size.prtotal=unlimited

database mdb
suffix "{{.Suffix}}"
rootdn "cn=admin,{{.Suffix}}"
directory {{.Dir}}/db
maxsize 34359738368

index objectClass eq
index uid eq
index mail eq
index cn eq
index uniqueMember eq

overlay memberof
memberof-group-oc groupOfUniqueNames
memberof-member-ad uniqueMember
memberof-memberof-ad memberOf
memberof-refint true

access to attrs=userPassword
	by anonymous auth
	by self auth
	by * none
access to *
	by dn.exact="{{.ServiceDN}}" read
	by self read
	by * none
`))

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
