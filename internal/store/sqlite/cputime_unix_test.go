//go:build unix

package sqlite_test

import (
	"runtime"
	"syscall"
	"time"
)

// rusageWho is Linux's RUSAGE_THREAD; elsewhere (0) cpuTime counts the
// whole process.
var rusageWho = map[string]int{"linux": 1}[runtime.GOOS]

// cpuTime is the CPU time (user and system) the calling thread used so
// far on Linux (the caller locks its goroutine to the thread), the
// process's elsewhere, or 0 where it cannot be read. Benchmarks report it
// per operation: wall time also holds fsync waits and, on a busy
// machine, other processes' turns, and the process's CPU time the
// garbage collection of the benchmark's own allocations.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	who := syscall.RUSAGE_SELF
	if rusageWho != 0 {
		who = rusageWho
	}
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
