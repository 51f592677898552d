//go:build unix

package preprocess

import (
	"syscall"
	"time"
)

// processCPU is this process's user+system CPU time. Benchmarks report it
// per op next to ns/op because the machine is shared: wall time per op
// grows with other load, CPU time much less.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
