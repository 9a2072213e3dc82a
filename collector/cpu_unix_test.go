//go:build unix

package collector

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) this process has used:
// every goroutine's and the garbage collector's, and, for SQLite, the
// in-process database engine's.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
