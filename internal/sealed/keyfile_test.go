package sealed

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestLoadOrCreateKeyCreates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "secret.key") // parent made too
	k1, created, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("created = false for a new file")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", perm)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("parent directory: %v, %v", di.Mode(), err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil || len(raw) != KeySize {
		t.Fatalf("file holds %q: %d bytes, %v", text, len(raw), err)
	}
	// No temporary file is left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want 1", len(entries))
	}

	// Loading it again gives the same key.
	k2, created, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if created || k2.ID() != k1.ID() {
		t.Fatalf("second load: created %v, id %s, want false, %s", created, k2.ID(), k1.ID())
	}
	s, err := k1.Seal([]byte("secret"), []byte("u"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k2.Open(s, []byte("u")); err != nil || string(pt) != "secret" {
		t.Fatalf("reloaded key does not open: %q, %v", pt, err)
	}
}

// The file mode is 0600 whatever the umask.
func TestLoadOrCreateKeyUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "k")
	if _, _, err := LoadOrCreateKey(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	const n = 8
	var wg sync.WaitGroup
	ids := make([]string, n)
	made := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			k, created, err := LoadOrCreateKey(path)
			if err == nil {
				ids[i] = k.ID()
			}
			made[i], errs[i] = created, err
		})
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("processes got different keys: %v", ids)
		}
		if made[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d callers report creating the key, want 1", creators)
	}
}

func TestLoadKeyFileFormats(t *testing.T) {
	k, raw := newTestKey(t)
	for name, text := range map[string]string{
		"base64":         base64.StdEncoding.EncodeToString(raw),
		"base64 newline": base64.StdEncoding.EncodeToString(raw) + "\n",
		"hex":            hex.EncodeToString(raw) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, created, err := LoadOrCreateKey(path)
			if err != nil || created || got.ID() != k.ID() {
				t.Fatalf("got %v, created %v, err %v; want %s", got, created, err, k.ID())
			}
		})
	}
	// A key file reached through a symbolic link (as Kubernetes mounts
	// secrets) is read; the target's mode is what counts.
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte(hex.EncodeToString(raw)), 0o400); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if got, _, err := LoadOrCreateKey(link); err != nil || got.ID() != k.ID() {
		t.Fatalf("through a symlink: %v, %v", got, err)
	}
}

func TestLoadKeyFileModeRefused(t *testing.T) {
	_, raw := newTestKey(t)
	text := base64.StdEncoding.EncodeToString(raw) + "\n"
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o620, 0o602, 0o601, 0o610, 0o666} {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		k, created, err := LoadOrCreateKey(path)
		if err == nil || k != nil || created {
			t.Fatalf("mode %04o: accepted", mode)
		}
		if errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("mode %04o: unclear error %q", mode, err)
		}
		if strings.Contains(err.Error(), text[:20]) {
			t.Fatalf("error %q shows the key", err)
		}
		// The file is left as it was.
		if after, _ := os.ReadFile(path); string(after) != text {
			t.Fatalf("mode %04o: key file changed", mode)
		}
	}
}

func TestLoadKeyFileBad(t *testing.T) {
	_, raw := newTestKey(t)
	tests := []struct {
		name string
		text string
		want error
	}{
		{"short", base64.StdEncoding.EncodeToString(raw[:16]), ErrKeyLength},
		{"long", base64.StdEncoding.EncodeToString(append(raw, raw...)), ErrKeyLength},
		{"empty", "", ErrKeyLength},
		{"garbage", "this is no key, but it is a secret!", ErrKeyFormat},
		{"two keys", base64.StdEncoding.EncodeToString(raw) + "\n" + base64.StdEncoding.EncodeToString(raw) + "\n", ErrKeyFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, created, err := LoadOrCreateKey(path)
			if !errors.Is(err, tt.want) || created {
				t.Fatalf("error %v created %v, want %v", err, created, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if len(tt.text) >= 12 && strings.Contains(err.Error(), tt.text[:12]) {
				t.Errorf("error %q shows the file's contents", err)
			}
			if after, _ := os.ReadFile(path); string(after) != tt.text {
				t.Fatal("bad key file was overwritten")
			}
		})
	}

	t.Run("too large", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, []byte(strings.Repeat("A", maxKeyFile+1)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "too large") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		path := t.TempDir()
		if err := os.Chmod(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("fifo", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "k")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Skip(err)
		}
		// Opening a FIFO would block; it must be refused first.
		if _, _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("dangling symlink", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "k")
		if err := os.Symlink(filepath.Join(dir, "missing"), path); err != nil {
			t.Fatal(err)
		}
		if _, created, err := LoadOrCreateKey(path); err == nil || created {
			t.Fatalf("dangling symlink: created %v, error %v", created, err)
		}
	})
}
