package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// TestDiskFull runs `dirgate serve` on a data directory in a small tmpfs
// and fills the file system up: writes then fail with a clear error (the
// REST API's 503 E0000010 naming the full disk, the CLI's message, LDAP's
// unavailable (52) for a wrong password that cannot be counted), while
// searches and binds keep working from the snapshot; once space is freed,
// writes succeed again, every acknowledged write is there and SQLite's
// integrity check passes.
func TestDiskFull(t *testing.T) {
	requireLdapsearch(t)
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=24m,mode=0700"); err != nil {
		if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
			t.Fatalf("mounting a tmpfs as root: %v", err)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	data := filepath.Join(mnt, "data")
	setupExample(t, data)
	mustDirgate(t, "Admin-password-1\n", "user", "create", "--data", data, "--org", "example", "--login", "admin", "--role", "ORG_ADMIN", "--password-stdin")
	token := strings.TrimSpace(mustDirgate(t, "", "token", "create", "--data", data, "--org", "example", "--login", "admin", "--name", "full"))
	s := startDirgate(t, data, "--no-demo", "--argon2-memory", "64", "--argon2-time", "1")

	pem, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	httpc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	create := func(login string) (int, string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{
			"profile":     map[string]string{"login": login, "email": login + "@example.com", "firstName": "D", "lastName": "F"},
			"credentials": map[string]any{"password": map[string]string{"value": "Pw-" + login + "-1"}},
		})
		req, _ := http.NewRequest("POST", s.httpURL+"/api/v1/users?activate=true", bytes.NewReader(body))
		req.Header.Set("Authorization", "SSWS "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatalf("create %s: %v", login, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	acked := []string{}
	if code, body := create("before"); code != 200 {
		t.Fatalf("create before the disk fills: %d %s", code, body)
	}
	acked = append(acked, "before")
	eventually(t, "the user made before the disk fills binds", func() error {
		if out := s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", "uid=before,"+exUsers, "-w", "Pw-before-1", "-b", "uid=before,"+exUsers, "-s", "base", "uid"); out.code != 0 {
			return fmt.Errorf("exit %d %s", out.code, out.stderr)
		}
		return nil
	})

	// Fill the file system to the last block.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	for size := len(chunk) / 2; size >= 512; size /= 2 { // the last partial blocks
		for {
			if _, err := f.Write(chunk[:size]); err != nil {
				break
			}
		}
	}
	f.Close()

	// Writes fail, clearly, once SQLite needs a page it does not have.
	var full string
	for i := range 200 {
		login := fmt.Sprintf("full%03d", i)
		code, body := create(login)
		if code == 200 {
			acked = append(acked, login)
			continue
		}
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "E0000010") || !strings.Contains(body, "disk is full") {
			t.Fatalf("a write on a full disk: %d %s; want 503 E0000010 naming the full disk", code, body)
		}
		full = body
		break
	}
	if full == "" {
		t.Fatal("200 users created on a full file system: the disk never filled")
	}
	r := dirgate(t, "", "user", "create", "--data", data, "--org", "example", "--login", "cli-full")
	if r.code == 0 || !strings.Contains(r.stderr, "disk is full") {
		t.Errorf("the CLI on a full disk: exit %d, %s", r.code, r.stderr)
	}

	// Reads and binds go on.
	if out := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exBase, "(uid=alice)", "uid")...); out.code != 0 || len(attrs(out.stdout, "uid")) != 1 {
		t.Errorf("search on a full disk: exit %d %s%s", out.code, out.stdout, out.stderr)
	}
	if out := s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", "uid=before,"+exUsers, "-w", "Pw-before-1", "-b", "uid=before,"+exUsers, "-s", "base", "uid"); out.code != 0 {
		t.Errorf("a right-password bind on a full disk: exit %d %s", out.code, out.stderr)
	}

	// A wrong password must be counted, and cannot be: it fails closed.
	if out := s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", "uid=before,"+exUsers, "-w", "wrong", "-b", "uid=before,"+exUsers, "-s", "base", "uid"); out.code != 52 {
		t.Errorf("a wrong password on a full disk: exit %d %s; want 52 (unavailable)", out.code, out.stderr)
	}

	// Space again: writes succeed.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, body := create("after"); code != 200 {
		t.Fatalf("create after space was freed: %d %s", code, body)
	}
	acked = append(acked, "after")
	s.stop(t)

	st, err := sqlite.Open(filepath.Join(data, "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = st.View(context.Background(), func(r store.Reader) error {
		orgs, err := r.Orgs()
		if err != nil {
			return err
		}
		for _, login := range acked {
			if _, err := r.UserByLogin(orgs[0].ID, login); err != nil {
				return fmt.Errorf("acknowledged user %s: %w", login, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	t.Logf("full after %d more creations; the refusal: %s", len(acked)-2, strings.TrimSpace(full))
}
