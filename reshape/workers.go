package reshape

import (
	"runtime"
	"sync/atomic"
)

// maxWorkers is the setting of SetMaxWorkers: 0 means GOMAXPROCS.
var maxWorkers atomic.Int64

// parallelThreshold is the setting of SetParallelThreshold, in bytes.
var parallelThreshold atomic.Int64

func init() { parallelThreshold.Store(DefaultParallelThreshold) }

// DefaultParallelThreshold is the size in bytes of a copy's result below
// which one goroutine does the whole copy, whatever SetMaxWorkers says. On
// the 2-vCPU EPYC VM, with the split handed to ready helpers (see pool.go),
// two workers against one over the suite's row cases and transposes in
// every width (benchmarks/README.md, medians of 3 runs) gave 0.98× at
// 256 KiB, 0.94× at 1 MiB (0.54-1.49×), 1.18× at 4 MiB (0.95-1.47×), 1.43×
// at 16 MiB and 1.77× at 64 MiB: the split pays from between 1 and 4 MiB,
// and the suite's 4 MiB cases, which land within 4% of it, all split.
const DefaultParallelThreshold = 3 << 20

// SetMaxWorkers sets how many goroutines one copy may split its work across
// and returns the previous setting (0 for the default). n == 1 makes every copy single-threaded,
// as it runs on the caller's goroutine; n <= 0 restores the default,
// runtime.GOMAXPROCS(0) read at each call. Copies whose result is smaller
// than the parallel threshold (SetParallelThreshold) always run on one
// goroutine. The setting is global and safe to change concurrently with
// copies; a copy reads it once when it starts.
func SetMaxWorkers(n int) (previous int) {
	if n < 0 {
		n = 0
	}
	return int(maxWorkers.Swap(int64(n)))
}

// SetParallelThreshold sets the result size in bytes from which a copy may
// use more than one goroutine and returns the previous setting; bytes <= 0
// restores DefaultParallelThreshold.
func SetParallelThreshold(bytes int) (previous int) {
	if bytes <= 0 {
		bytes = DefaultParallelThreshold
	}
	return int(parallelThreshold.Swap(int64(bytes)))
}

// workersFor returns how many goroutines a copy of resultBytes bytes uses.
func workersFor(resultBytes int) int {
	if int64(resultBytes) < parallelThreshold.Load() {
		return 1
	}
	w := int(maxWorkers.Load())
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return w
}
