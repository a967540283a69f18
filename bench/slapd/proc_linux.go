package slapd

import (
	"os"
	"syscall"
)

var terminate os.Signal = syscall.SIGTERM

// sysProcAttr has the kernel kill slapd when the benchmark dies without
// stopping it (a panic, SIGKILL), so no server outlives the run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
