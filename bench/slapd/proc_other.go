//go:build !linux

package slapd

import (
	"os"
	"syscall"
)

var terminate os.Signal = os.Interrupt

func sysProcAttr() *syscall.SysProcAttr { return nil }
