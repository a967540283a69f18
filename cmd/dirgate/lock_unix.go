//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// dataLock is the exclusive lock serve holds on its data directory.
type dataLock struct{ f *os.File }

// lockData takes an exclusive flock on path without waiting, and writes
// this process's id into the file. If another process holds the lock the
// error names it by the pid it wrote.
func lockData(path string) (*dataLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another dirgate serve"
			if b, err := os.ReadFile(path); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
					who = fmt.Sprintf("another dirgate serve (pid %d)", pid)
				}
			}
			return nil, fmt.Errorf("the data directory is in use by %s: %s is locked", who, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataLock{f: f}, nil
}

// unlock releases the lock (closing the file does).
func (l *dataLock) unlock() {
	l.f.Truncate(0)
	l.f.Close()
}
