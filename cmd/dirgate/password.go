package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// readPassword reads a new password: one line from stdin with
// --password-stdin (only the trailing newline is stripped), else from a
// prompt without echo when stdin is a terminal, typed twice. Passwords are
// never taken from the command line.
func (a *app) readPassword(fromStdin bool, who string) ([]byte, error) {
	if fromStdin {
		return readLine(a.stdin)
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, usagef("no password given: pipe it in with --password-stdin (or run on a terminal to be prompted)")
	}
	fmt.Fprintf(a.stderr, "New password for %s: ", who)
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return nil, fmt.Errorf("reading the password: %w", err)
	}
	fmt.Fprintf(a.stderr, "Again: ")
	again, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return nil, fmt.Errorf("reading the password: %w", err)
	}
	defer clear(again)
	if !bytes.Equal(pw, again) {
		clear(pw)
		return nil, errors.New("the passwords do not match")
	}
	if len(pw) == 0 {
		return nil, errors.New("the password is empty")
	}
	return pw, nil
}

// readLine reads one line: up to and without "\n" (and a "\r" before it),
// or to the end of input.
func readLine(r io.Reader) ([]byte, error) {
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil, errors.New("--password-stdin: stdin holds no password (an empty first line)")
	}
	return line, nil
}
