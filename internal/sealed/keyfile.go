package sealed

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Errors about key text. They never quote it.
var (
	ErrKeyFormat = errors.New("sealed: key is not base64 or hex")
	ErrKeyLength = errors.New("sealed: key must be 32 bytes")
)

// maxKeyFile bounds how much of a key file is read.
const maxKeyFile = 1024

// KeyFromString parses a key given as text, for instance in the
// DIRGATE_SECRET_KEY environment variable: 32 bytes as base64 (standard or
// URL alphabet, padded or not) or as 64 hex digits, with surrounding
// white space ignored.
func KeyFromString(s string) (*Key, error) {
	return keyFromText([]byte(s))
}

func keyFromText(text []byte) (*Key, error) {
	raw, err := decodeKey(text)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	return newKey(raw)
}

func decodeKey(text []byte) ([]byte, error) {
	s := strings.TrimSpace(string(text))
	if len(s) == 2*KeySize {
		if raw, err := hex.DecodeString(s); err == nil {
			return raw, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		raw, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(raw) != KeySize {
			n := len(raw)
			clear(raw)
			return nil, fmt.Errorf("%w (got %d bytes)", ErrKeyLength, n)
		}
		return raw, nil
	}
	return nil, ErrKeyFormat
}

// LoadOrCreateKey reads the key stored in the file at path (32 bytes as
// base64 or hex, as KeyFromString takes them). If there is no such file it
// makes a key with crypto/rand and creates the file, mode 0600, holding
// the key as base64; created reports that it did. Creation is atomic: the
// key is written to a temporary file in the same directory, synced, and
// hard-linked into place, so a reader never sees part of a key and two
// processes racing to create it end up sharing the winner's key. Missing
// parent directories are made with mode 0700.
//
// A key file that group or other may read or write is refused, as is one
// that is not a regular file or does not hold a 32-byte key.
func LoadOrCreateKey(path string) (key *Key, created bool, err error) {
	key, err = loadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	return createKey(path)
}

func loadKey(path string) (*Key, error) {
	// Stat before opening, so that a FIFO or device is never opened.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sealed: key file: %w", err)
	}
	if err := checkKeyFile(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sealed: key file: %w", err)
	}
	defer f.Close()
	fi2, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sealed: key file: %w", err)
	}
	if !os.SameFile(fi, fi2) {
		return nil, fmt.Errorf("sealed: key file %s was replaced while being opened", path)
	}
	if err := checkKeyFile(path, fi2); err != nil {
		return nil, err
	}
	text, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	defer clear(text)
	if err != nil {
		return nil, fmt.Errorf("sealed: key file: %w", err)
	}
	if len(text) > maxKeyFile {
		return nil, fmt.Errorf("sealed: key file %s is too large to hold a key", path)
	}
	k, err := keyFromText(text)
	if err != nil {
		return nil, fmt.Errorf("%w, in key file %s", err, path)
	}
	return k, nil
}

func checkKeyFile(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("sealed: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("sealed: key file %s has mode %04o; group and other must have no access to it (chmod 600 %s)", path, perm, path)
	}
	return nil
}

func createKey(path string) (*Key, bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("sealed: key file directory: %w", err)
	}
	raw := make([]byte, KeySize)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, errors.New("sealed: cannot read random bytes")
	}
	k, err := newKey(raw)
	if err != nil {
		return nil, false, err
	}
	text := []byte(base64.StdEncoding.EncodeToString(raw) + "\n")
	defer clear(text)

	// os.CreateTemp makes the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, false, fmt.Errorf("sealed: creating key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after the link, only the temporary name goes
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(text)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("sealed: creating key file: %w", err)
	}
	// Link, unlike rename, never replaces a file that appeared meanwhile.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			k, err := loadKey(path)
			return k, false, err
		}
		return nil, false, fmt.Errorf("sealed: creating key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new name durable
		_ = d.Close()
	}
	return k, true, nil
}
