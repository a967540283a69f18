//go:build !unix

package main

import (
	"errors"
	"fmt"
	"os"
)

// dataLock marks the data directory in use. Without flock it is a file
// created exclusively and removed on unlock; a crashed server leaves it
// behind, and the error says so.
type dataLock struct{ path string }

func lockData(path string) (*dataLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		b, _ := os.ReadFile(path)
		return nil, fmt.Errorf("the data directory is in use by another dirgate serve (pid %s): %s exists (remove it if that process is gone)", string(b), path)
	}
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	fmt.Fprintf(f, "%d", os.Getpid())
	f.Close()
	return &dataLock{path: path}, nil
}

func (l *dataLock) unlock() { os.Remove(l.path) }
