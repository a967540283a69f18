package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The dirgate binary under test, built once per test run (without -race:
// it is the program users run).
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func dirgateBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dirgate-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "dirgate")
		// Built as the Dockerfile builds the image's binary (static,
		// -trimpath), so these tests run what ships, and the Helm
		// chart's test (deploy/helm) finds the packages in the build
		// cache.
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "github.com/dirgate/dirgate/cmd/dirgate")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// dirgate runs one CLI command with stdin, bounded by cmdTimeout.
func dirgate(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	return dirgateEnv(t, nil, stdin, args...)
}

// dirgateEnv is dirgate with the variables env (KEY=VALUE) set.
func dirgateEnv(t *testing.T, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, dirgateBin(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("dirgate %v: %v", args, err)
	}
	return r
}

// mustDirgate runs a CLI command that must succeed.
func mustDirgate(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := dirgate(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("dirgate %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// cleanEnv is the environment without DIRGATE_* settings of the caller.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DIRGATE_") {
			env = append(env, kv)
		}
	}
	return env
}

// dgServer is a running `dirgate serve`.
type dgServer struct {
	*env
	data      string
	ldapsPort int
	httpURL   string
	cmd       *exec.Cmd
	out       *syncBuffer
	done      chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDirgate runs `dirgate serve` on free loopback ports over the data
// directory and waits until /readyz says the snapshot is loaded.
//
// The ports are free when picked, not reserved: another process (a
// client's ephemeral port, a cluster another test starts) may take one
// first, and then serve is started again on others.
func startDirgate(t *testing.T, data string, args ...string) *dgServer {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, inUse := tryStartDirgate(t, data, args...)
		if !inUse || attempt == 3 {
			if inUse {
				t.Fatalf("dirgate serve: its ports were taken three times:\n%s", s.out.String())
			}
			return s
		}
	}
}

// tryStartDirgate is one start of startDirgate; inUse says serve exited
// because a port it was given was taken.
func tryStartDirgate(t *testing.T, data string, args ...string) (_ *dgServer, inUse bool) {
	t.Helper()
	ldapPort, ldapsPort, httpPort := freePort(t), freePort(t), freePort(t)
	s := &dgServer{
		env: &env{
			ldapURL:  fmt.Sprintf("ldap://127.0.0.1:%d", ldapPort),
			ldapsURL: fmt.Sprintf("ldaps://127.0.0.1:%d", ldapsPort),
			caFile:   filepath.Join(data, "tls", "ca.pem"),
			home:     t.TempDir(),
		},
		data: data, ldapsPort: ldapsPort,
		httpURL: fmt.Sprintf("https://127.0.0.1:%d", httpPort),
		out:     &syncBuffer{}, done: make(chan struct{}),
	}
	all := append([]string{"serve", "--data", data,
		"--ldap", fmt.Sprintf("127.0.0.1:%d", ldapPort),
		"--ldaps", fmt.Sprintf("127.0.0.1:%d", ldapsPort),
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort)}, args...)
	s.cmd = exec.Command(dirgateBin(t), all...)
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(2 * time.Minute) // bounds a broken start; not a performance check
	for {
		resp, err := s.get("/readyz") // the CA appears once serve has started
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, false
			}
		}
		select {
		case <-s.done:
			if strings.Contains(s.out.String(), "address already in use") {
				return s, true
			}
			t.Fatalf("dirgate serve exited early:\n%s", s.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dirgate serve not ready:\n%s", s.out.String())
		}
	}
}

// httpClient trusts the server's CA (DIR/tls/ca.pem).
func (s *dgServer) httpClient() (*http.Client, error) {
	pem, err := os.ReadFile(s.caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no certificate", s.caFile)
	}
	return &http.Client{Timeout: time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// get fetches path from the server's HTTPS address.
func (s *dgServer) get(path string) (*http.Response, error) {
	c, err := s.httpClient()
	if err != nil {
		return nil, err
	}
	return c.Get(s.httpURL + path)
}

// stop sends SIGTERM and waits for a graceful exit.
func (s *dgServer) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Errorf("dirgate serve did not stop on SIGTERM:\n%s", s.out.String())
	}
	if t.Failed() {
		t.Logf("dirgate serve output:\n%s", s.out.String())
	}
}

// eventually retries check until it succeeds or the bound passes; for
// changes that reach the LDAP snapshot asynchronously (within ~2 s).
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
