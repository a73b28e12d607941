package reshape

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The helpers of the parallel path: goroutines started once, on the first
// copy that needs them, and kept. A copy split across w workers runs its
// last part on the caller's goroutine and hands the others to w-1 helpers.
//
// A goroutine started per call is too slow to wake for copies that live in
// the cache: on the 2-vCPU EPYC VM, a 4-6 MB cached copy split across two
// fresh goroutines ran at 0.73-0.77× of one goroutine, and the same split
// handed to a helper already running gained 1.68-1.95× (the cache-speed
// issue). So a helper that finishes a part spins on its state for helperSpin
// before it parks, as OpenMP's threads do: a burst of calls from a capture
// loop finds it ready, and a program that stops copying has no helper using
// a CPU helperSpin later.

// helperSpin is how long a helper polls for its next part before it parks.
// A parked helper costs a wake-up (a futex call, 5-50 µs measured on the
// 2-vCPU VM) when the next copy comes, about the time a 1 MiB cached copy
// takes; 200 µs of polling covers the gaps between the copies of one batch
// in a capture hook, and is short enough that an idle program shows no CPU
// use.
const helperSpin = 200 * time.Microsecond

// The states of a helper.
const (
	helperIdle   = iota // polling for a part, or about to
	helperParked        // blocked on wake, or about to
	helperPosted        // a part is waiting for it
)

// crew is the process's helpers and the one split copy that uses them at a
// time.
var crew struct {
	busy    sync.Mutex // held by the copy that uses the helpers
	job     splitJob   // that copy's view: its parts read it, nobody writes it while they run
	helpers []*helper  // started on demand, never stopped
	bounds  []int      // the parts of that copy: part k is units [bounds[k], bounds[k+1])
	pending atomic.Int32
	// failure is the first panic of a helper's part, re-raised on the
	// caller's goroutine once every part has finished.
	failure atomic.Pointer[helperPanic]
}

// helperPanic carries a recovered panic value from a helper to the caller.
type helperPanic struct{ value any }

// helper is one goroutine of the crew.
type helper struct {
	state  atomic.Int32
	wake   chan struct{} // buffered: a send never blocks the caller
	lo, hi int           // the part's units; set before state becomes helperPosted
}

// runSplit copies units [0, units) of crew.job split at bounds (parts
// [bounds[k], bounds[k+1])) across len(bounds)-1 workers: all parts but the
// last go to helpers, the last runs here. The caller holds crew.busy and has
// filled crew.job. It returns once every part is written, re-raising the
// first panic of any part.
func runSplit(bounds []int) {
	parts := len(bounds) - 1
	for len(crew.helpers) < parts-1 {
		h := &helper{wake: make(chan struct{}, 1)}
		crew.helpers = append(crew.helpers, h)
		go h.loop()
	}
	crew.pending.Store(int32(parts - 1))
	for k, h := range crew.helpers[:parts-1] {
		h.lo, h.hi = bounds[k], bounds[k+1]
		if h.state.Swap(helperPosted) == helperParked {
			h.wake <- struct{}{}
		}
	}
	// Wait for the helpers even when the caller's own part panics: they
	// write dst and read crew.job until they are done.
	defer waitHelpers()
	crew.job.run(bounds[parts-1], bounds[parts])
}

// waitHelpers polls until every helper part is done, yielding the processor
// now and then so that a helper waiting for one can run, then re-raises the
// first panic of a part.
func waitHelpers() {
	for i := 0; crew.pending.Load() > 0; i++ {
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	if p := crew.failure.Swap(nil); p != nil {
		panic(p.value)
	}
}

// loop is the life of a helper: wait for a part, copy it, report it done.
func (h *helper) loop() {
	for {
		h.await()
		h.runPart()
		h.state.Store(helperIdle) // before pending drops: the next post must find it idle
		crew.pending.Add(-1)
	}
}

// runPart copies the posted part, recovering a panic into crew.failure.
func (h *helper) runPart() {
	defer func() {
		if v := recover(); v != nil {
			crew.failure.CompareAndSwap(nil, &helperPanic{v})
		}
	}()
	crew.job.run(h.lo, h.hi)
}

// await returns once a part is posted: it polls for helperSpin, then parks
// until the poster wakes it.
func (h *helper) await() {
	start := time.Now()
	for i := 0; ; i++ {
		if h.state.Load() == helperPosted {
			return
		}
		if i%128 == 127 && time.Since(start) > helperSpin {
			break
		}
	}
	if h.state.CompareAndSwap(helperIdle, helperParked) {
		<-h.wake // the poster swaps in helperPosted, sees helperParked and sends
	}
}
