package reshape

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// The helpers of the parallel path: goroutines started once, on the first
// copy that needs them, and kept. A copy split into parts runs its last
// part on the caller's goroutine and posts the others to helpers.
//
// A goroutine started per call is too slow to wake for copies that live in
// the cache: on the 2-vCPU EPYC VM, a 4-6 MB cached copy split across two
// fresh goroutines ran at 0.73-0.77× of one goroutine, and the same split
// handed to a helper already running gained 1.68-1.95× (the cache-speed
// issue). So a helper that finishes a part polls for its next one for
// helperSpin before it parks, as OpenMP's threads do: a burst of calls from
// a capture loop finds it ready, and a program that stops copying has no
// helper using a CPU helperSpin later.
//
// Waking a parked helper costs far more than a cached copy on some
// machines (up to 300 µs measured on the VM, which must first wake the
// vCPU). So a part is claimed, by its helper or by the caller: the caller,
// once its own part is done, takes back every part whose helper has not
// started it, and waits only for parts that helpers are copying. A copy
// that finds its helpers parked then runs about as fast as on one
// goroutine, and the helpers it woke find nothing left to do.

// helperSpin is how long a helper polls for its next part before it parks.
// 200 µs covers the gaps between the copies of one batch in a capture
// hook, and is short enough that an idle program shows no CPU use.
const helperSpin = 200 * time.Microsecond

// callerSpin is how many times the caller polls for the helpers' parts
// before it blocks: the parts are even, so the helpers are usually done
// within a few polls; a helper that is slow (more workers than processors,
// or preempted) gets the caller's processor once the caller blocks.
const callerSpin = 1 << 12

// crew is the process's helpers and the one split copy that uses them at a
// time.
var crew = struct {
	busy    sync.Mutex // held by the copy that uses the helpers
	job     splitJob   // that copy's view: its parts read it, nobody writes it while they run
	helpers []*helper  // started on demand, never stopped
	bounds  []int      // the parts of that copy: part k is units [bounds[k], bounds[k+1])
	gen     uint64     // the number of copies posted
	// pending is the number of helper parts not yet copied, by whoever
	// claimed them.
	pending atomic.Int32
	// The caller blocks on done once it has polled pending for callerSpin:
	// it sets sleeping, and whoever finishes the last part clears it and
	// sends.
	sleeping atomic.Bool
	done     chan struct{}
	// failure is the first panic of a helper's part, re-raised on the
	// caller's goroutine once every part has finished.
	failure atomic.Pointer[helperPanic]
}{done: make(chan struct{}, 1)}

// helperPanic carries a recovered panic value from a helper to the caller.
type helperPanic struct{ value any }

// helper is one goroutine of the crew.
type helper struct {
	// post is the generation (crew.gen) of the part posted to the helper
	// last, shifted left by one, with bit 0 set once the part is claimed:
	// by the helper, which then copies it, or by the caller, which takes it
	// back. A helper that wakes late finds its part claimed, or finds the
	// part of a later copy.
	post   atomic.Uint64
	parked atomic.Bool   // blocked on wake, or about to
	wake   chan struct{} // buffered: a send never blocks the caller
	lo, hi int           // the part's units; set before post
}

// runSplit copies units [0, units) of crew.job split at bounds (parts
// [bounds[k], bounds[k+1])) across len(bounds)-1 workers: the caller copies
// the last part and posts the others to helpers, takes back those not
// started when its own is done, and waits for the rest. The caller holds
// crew.busy and has filled crew.job. It returns once every part is
// written, re-raising the first panic of any part.
func runSplit(bounds []int) {
	parts := len(bounds) - 1
	for len(crew.helpers) < parts-1 {
		h := &helper{wake: make(chan struct{}, 1)}
		h.post.Store(crew.gen<<1 | 1) // nothing to claim yet
		crew.helpers = append(crew.helpers, h)
		go h.loop(crew.gen)
	}
	crew.gen++
	gen := crew.gen
	crew.pending.Store(int32(parts - 1))
	posted := crew.helpers[:parts-1]
	for k, h := range posted {
		h.lo, h.hi = bounds[k], bounds[k+1]
		h.post.Store(gen << 1)
		if h.parked.Load() && h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	// Wait for the helpers even when a part the caller copies panics:
	// they write dst and read crew.job until they are done.
	defer waitHelpers()
	crew.job.run(bounds[parts-1], bounds[parts])
	for _, h := range posted {
		if h.post.CompareAndSwap(gen<<1, gen<<1|1) { // not started: copy it here
			takeBack(h)
		}
	}
}

// takeBack copies a helper's part on the caller's goroutine, counting it
// copied even when it panics.
func takeBack(h *helper) {
	defer partDone()
	crew.job.run(h.lo, h.hi)
}

// partDone counts a helper part as copied and wakes the caller if it was
// the last one and the caller blocked.
func partDone() {
	if crew.pending.Add(-1) == 0 && crew.sleeping.CompareAndSwap(true, false) {
		crew.done <- struct{}{}
	}
}

// waitHelpers returns once every helper part is copied, polling first and
// then blocking, and re-raises the first panic of a part.
func waitHelpers() {
	for i := 0; crew.pending.Load() > 0; i++ {
		if i < callerSpin {
			continue
		}
		crew.sleeping.Store(true)
		if crew.pending.Load() > 0 || !crew.sleeping.CompareAndSwap(true, false) {
			<-crew.done // the last part clears sleeping and sends
		}
		break
	}
	if p := crew.failure.Swap(nil); p != nil {
		panic(p.value)
	}
}

// loop is the life of a helper: wait for a part, claim it, copy it, report
// it copied. seen is the generation handled last.
//
// A helper's memory faults panic (debug.SetPanicOnFault), as the caller's
// do during a copy: runPart recovers the panic and the caller raises it
// again, where catchFault turns a fault in the copy's memory into
// ErrFault. A fault must not end the process from a helper, whose
// goroutine no caller's recover reaches.
func (h *helper) loop(seen uint64) {
	debug.SetPanicOnFault(true)
	for {
		seen = h.await(seen)
		if h.post.CompareAndSwap(seen<<1, seen<<1|1) {
			h.runPart()
			partDone()
		}
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

// await returns the generation of a part posted after generation seen: it
// polls for helperSpin, then parks until the caller wakes it. While it polls
// it yields its processor now and then, so that a goroutine made ready on it
// (the caller, woken by the last part) runs at once rather than when
// another processor steals it.
func (h *helper) await(seen uint64) uint64 {
	start := time.Now()
	for i := 0; ; i++ {
		if g := h.post.Load() >> 1; g != seen {
			return g
		}
		if i%128 == 127 {
			if time.Since(start) > helperSpin {
				break
			}
			runtime.Gosched()
		}
	}
	h.parked.Store(true)
	if g := h.post.Load() >> 1; g != seen && h.parked.CompareAndSwap(true, false) {
		return g // posted while parking, and nobody will send
	}
	<-h.wake // the caller clears parked and sends, after posting
	return h.post.Load() >> 1
}
