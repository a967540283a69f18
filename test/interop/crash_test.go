package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// TestCrashSafety kills `dirgate serve` (SQLite) with SIGKILL in a loop
// while clients write: user creations and password changes through the
// REST API, and wrong-password binds (each counted in the store before its
// answer). After every kill it starts serve again on the same data
// directory and checks that every write the server acknowledged is there:
// every created user, every user's last acknowledged password (or a change
// sent later, which the kill may have let through), and at least as many
// failed logins as were answered. At the end SQLite's integrity check
// passes.
func TestCrashSafety(t *testing.T) {
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Admin-password-1\n", "user", "create", "--data", data, "--org", "example", "--login", "admin", "--role", "ORG_ADMIN", "--password-stdin")
	token := strings.TrimSpace(mustDirgate(t, "", "token", "create", "--data", data, "--org", "example", "--login", "admin", "--name", "crash"))
	// Users whose passwords change, and users who get wrong passwords.
	const changers, failers = 4, 6
	for i := range changers + failers {
		login := fmt.Sprintf("crash%02d", i)
		mustDirgate(t, "Initial-pw-"+login+"\n", "user", "create", "--data", data, "--org", "example", "--login", login, "--password-stdin")
	}
	serveArgs := []string{"--no-demo", "--argon2-memory", "64", "--argon2-time", "1"}

	var (
		mu       sync.Mutex
		created  = map[string]bool{}     // acknowledged creations
		password = map[string][]string{} // per changer: last acknowledged, then later ones sent
		failed   = map[string]int{}      // acknowledged wrong-password answers
	)
	for i := range changers {
		login := fmt.Sprintf("crash%02d", i)
		password[login] = []string{"Initial-pw-" + login}
	}

	const rounds = 5
	var acked atomic.Int64
	for round := range rounds {
		s := startDirgate(t, data, serveArgs...)
		pem, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tlsConf := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
		httpc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConf}}
		api := func(method, path string, body any) (int, error) {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest(method, s.httpURL+path, bytes.NewReader(b))
			req.Header.Set("Authorization", "SSWS "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := httpc.Do(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}

		// The writers run until the kill; only answers count.
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 3 { // creations
			wg.Go(func() {
				for k := 0; ctx.Err() == nil; k++ {
					login := fmt.Sprintf("r%dw%dk%03d", round, w, k)
					code, err := api("POST", "/api/v1/users?activate=true", map[string]any{
						"profile":     map[string]string{"login": login, "email": login + "@example.com", "firstName": "C", "lastName": "S"},
						"credentials": map[string]any{"password": map[string]string{"value": "Pw-" + login + "-1"}},
					})
					if err == nil && code == 200 {
						mu.Lock()
						created[login] = true
						mu.Unlock()
						acked.Add(1)
					} else if err == nil {
						t.Errorf("create %s: HTTP %d", login, code)
						return
					}
				}
			})
		}
		for i := range changers { // password changes
			login := fmt.Sprintf("crash%02d", i)
			wg.Go(func() {
				for k := 0; ctx.Err() == nil; k++ {
					pw := fmt.Sprintf("Changed-%d-%d-%s", round, k, login)
					mu.Lock()
					password[login] = append(password[login], pw) // sent: may land even if unanswered
					mu.Unlock()
					code, err := api("POST", "/api/v1/users/"+login, map[string]any{"credentials": map[string]any{"password": map[string]string{"value": pw}}})
					if err == nil && code == 200 {
						mu.Lock()
						// Acknowledged: older candidates can no longer be it.
						l := password[login]
						for j := range l {
							if l[j] == pw {
								password[login] = l[j:]
								break
							}
						}
						mu.Unlock()
						acked.Add(1)
					} else if err == nil {
						t.Errorf("password change of %s: HTTP %d", login, code)
						return
					}
				}
			})
		}
		for i := range failers { // wrong passwords, counted before the answer
			login := fmt.Sprintf("crash%02d", changers+i)
			wg.Go(func() {
				for ctx.Err() == nil {
					c, err := ldap.DialURL(s.ldapsURL, ldap.DialWithTLSConfig(tlsConf))
					if err != nil {
						return
					}
					err = c.Bind("uid="+login+","+exUsers, "wrong-password")
					c.Close()
					if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
						mu.Lock()
						failed[login]++
						mu.Unlock()
						acked.Add(1)
					}
				}
			})
		}
		time.Sleep(time.Duration(400+rand.IntN(600)) * time.Millisecond)
		if err := s.cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		<-s.done
		stop()
		wg.Wait()
		if t.Failed() {
			return
		}
	}

	// Everything acknowledged is there, in a server started afresh.
	s := startDirgate(t, data, serveArgs...)
	for login, candidates := range password {
		ok := false
		for _, pw := range candidates {
			if r := s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", "uid="+login+","+exUsers, "-w", pw, "-b", "uid="+login+","+exUsers, "-s", "base", "uid"); r.code == 0 {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s: neither its last acknowledged password nor a later one binds (candidates %q)", login, candidates)
		}
	}
	s.stop(t)
	st, err := sqlite.Open(filepath.Join(data, "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(context.Background()); err != nil {
		t.Errorf("after %d kills: %v", rounds, err)
	}
	have := map[string]int{} // login -> failed logins in the store
	err = st.View(context.Background(), func(r store.Reader) error {
		orgs, err := r.Orgs()
		if err != nil || len(orgs) != 1 {
			return fmt.Errorf("orgs %v: %v", orgs, err)
		}
		us, err := r.Users(orgs[0].ID)
		for _, u := range us {
			have[u.Profile.Login] = u.FailedLogins
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for login := range created {
		if _, ok := have[login]; !ok {
			t.Errorf("user %s was acknowledged but is gone after a kill", login)
		}
	}
	for login, n := range failed {
		if have[login] < n {
			t.Errorf("%s: %d wrong passwords answered, %d failed logins in the store", login, n, have[login])
		}
	}
	t.Logf("%d kills; %d writes acknowledged (%d creations), all there; integrity check ok", rounds, acked.Load(), len(created))
	if len(created) == 0 || acked.Load() < int64(rounds) {
		t.Errorf("too few writes to tell anything: %d acknowledged", acked.Load())
	}
}
