package load

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// TestProcessTreeCPU: the CPU a child burns counts in its parent's tree
// (here, after it ended), once.
func TestProcessTreeCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	self := os.Getpid()
	tree0, err := ProcessTreeCPU(self)
	if err != nil {
		t.Fatal(err)
	}
	own0, _ := ProcessCPU(self)
	// About half a second of CPU in a shell loop.
	burn := exec.Command("sh", "-c", `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done`)
	t0 := time.Now()
	if out, err := burn.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	child := burn.ProcessState.UserTime() + burn.ProcessState.SystemTime()
	tree1, err := ProcessTreeCPU(self)
	if err != nil {
		t.Fatal(err)
	}
	own1, _ := ProcessCPU(self)
	if child < 100*time.Millisecond {
		t.Skipf("the child used only %v (in %v): too little to tell", child, time.Since(t0))
	}
	grew, ownGrew := tree1-tree0, own1-own0
	// Ticks are 10 ms: allow two of slack on the child's figure.
	if grew < child-20*time.Millisecond {
		t.Errorf("tree grew %v, the child used %v", grew, child)
	}
	// Nothing counted twice: the tree is the process plus the child.
	if grew > child+ownGrew+30*time.Millisecond {
		t.Errorf("tree grew %v, more than the child's %v and the process's own %v", grew, child, ownGrew)
	}
	if _, err := ProcessTreeCPU(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
