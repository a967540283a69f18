//go:build !linux

package compare

import (
	"os"
	"syscall"
)

var terminate os.Signal = os.Interrupt

func sysProcAttr() *syscall.SysProcAttr { return nil }

func diskUsage(fi os.FileInfo) int64 { return fi.Size() }
