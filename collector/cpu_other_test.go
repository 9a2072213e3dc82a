//go:build !unix

package collector

import "time"

// processCPU is not measured here; the benchmarks leave the CPU metrics out.
func processCPU() (time.Duration, bool) { return 0, false }
