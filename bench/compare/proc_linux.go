package compare

import (
	"os"
	"syscall"
)

var terminate os.Signal = syscall.SIGTERM

// sysProcAttr has the kernel kill a server when dgcompare dies without
// stopping it (a panic, SIGKILL), so no server outlives the run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

func diskUsage(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
