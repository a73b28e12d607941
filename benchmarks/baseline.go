package benchmarks

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The baselines a case is read against: the same bytes copied contiguously,
// once with copy() and once with a cached copy, on as many goroutines as
// stridekit has workers. The ceiling is the faster of the two.
//
// copy() alone is not the ceiling in the cache: the runtime's memmove
// (runtime/memmove_amd64.s) switches to non-temporal stores at 1 MiB, which
// send a 1-16 MiB copy to memory although source and result would fit in
// the cache. CopyCached copies the same bytes in pieces below that switch.
// Far beyond the cache copy() wins, and is the ceiling there.
//
// Parts of a split copy run on ready helpers (Crew), goroutines started once
// that spin while the baseline is measured: a goroutine started per call
// costs more than a cached copy of a few MiB takes (0.73-0.77× of one
// goroutine for 4-6 MB on the 2-vCPU EPYC VM), which would make the ceiling
// of two workers too low. The helpers are independent of reshape's own.

// CachedPiece is the largest single copy() of CopyCached: half the 1 MiB at
// which memmove turns to non-temporal stores on amd64.
const CachedPiece = 512 << 10

// CopyParallel is the copy() baseline with workers goroutines: src is split
// into workers parts of equal length, rounded up to whole 64-byte cache
// lines (the last part takes the rest), and each part is one copy() call
// into dst. The caller copies the last part and the ready helpers of crew
// the others; crew may be nil when workers <= 1, which is a plain
// copy(dst, src). dst must hold len(src) elements.
func CopyParallel[T any](crew *Crew, dst, src []T, workers int) {
	if workers <= 1 || len(src) < 2 {
		copy(dst, src)
		return
	}
	crew.split(bytesOf(dst, len(src)), bytesOf(src, len(src)), workers, 0)
}

// CopyCached is the cached-copy baseline: CopyParallel with every part
// copied in pieces of at most CachedPiece bytes, which memmove copies with
// ordinary stores.
func CopyCached[T any](crew *Crew, dst, src []T, workers int) {
	if workers <= 1 || len(src) < 2 {
		copyPieces(bytesOf(dst, len(src)), bytesOf(src, len(src)), CachedPiece)
		return
	}
	crew.split(bytesOf(dst, len(src)), bytesOf(src, len(src)), workers, CachedPiece)
}

// bytesOf returns the first n elements of s as bytes.
func bytesOf[T any](s []T, n int) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n*int(unsafe.Sizeof(s[0])))
}

// copyPieces copies src into dst in copy() calls of at most piece bytes, or
// one call when piece is 0.
func copyPieces(dst, src []byte, piece int) {
	if piece <= 0 {
		copy(dst, src)
		return
	}
	for o := 0; o < len(src); o += piece {
		e := min(o+piece, len(src))
		copy(dst[o:e], src[o:e])
	}
}

// Crew is a set of ready helper goroutines for the split baselines. While
// Ready, its helpers spin on an atomic and take a part the moment a copy
// posts one, as OpenMP's threads do between parallel regions; after Park
// they block and use no CPU, so that they never compete with stridekit's own
// workers while stridekit is measured. A Crew is used by one goroutine at a
// time. The zero Crew is ready for use, parked, with no helpers yet; Stop
// ends its helpers once one is done with it.
type Crew struct {
	mu      sync.Mutex
	helpers []*crewHelper
	running sync.WaitGroup // one for each helper not yet returned
	ready   atomic.Bool
	seq     atomic.Uint64 // the number of copies posted
	pending atomic.Int32  // parts of the current copy not yet done
	// The current copy, set before seq moves.
	dst, src []byte
	bounds   []int
	piece    int
}

// crewHelper is one goroutine of a Crew: it copies part k of every copy
// posted with more than k+1 parts, and answers every copy posted.
type crewHelper struct {
	k    int
	wake chan struct{} // buffered: Ready never blocks
}

// Ready starts helpers up to workers-1 and sets them spinning; it returns
// once every helper has answered, so that the next copy finds them ready.
func (c *Crew) Ready(workers int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ready.Store(true)
	for len(c.helpers) < workers-1 {
		h := &crewHelper{k: len(c.helpers), wake: make(chan struct{}, 1)}
		c.helpers = append(c.helpers, h)
		c.running.Add(1)
		go c.loop(h, c.seq.Load())
	}
	for _, h := range c.helpers {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	c.bounds = append(c.bounds[:0], 0) // a copy of no parts: every helper only answers
	c.post()
	c.wait()
}

// Park stops the helpers spinning once they finish what they copy.
func (c *Crew) Park() { c.ready.Store(false) }

// Stop parks the helpers and ends them, and returns once every one has
// returned. Parked helpers use no CPU but would otherwise live as long as
// the process: a run of the suite, which makes a Crew for each case, would
// keep a set for every case it ran. A later Ready starts new helpers.
func (c *Crew) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Park()
	for _, h := range c.helpers {
		close(h.wake)
	}
	c.running.Wait()
	c.helpers = nil
}

// loop is the life of a helper: spin for posted copies while the crew is
// ready, block while it is parked, return once Stop closes its wake.
func (c *Crew) loop(h *crewHelper, seen uint64) {
	defer c.running.Done()
	for {
		if !c.ready.Load() {
			if _, open := <-h.wake; !open {
				return
			}
			continue
		}
		s := c.seq.Load()
		if s == seen {
			continue
		}
		seen = s
		if h.k+1 < len(c.bounds)-1 { // this copy has a part for h
			lo, hi := c.bounds[h.k], c.bounds[h.k+1]
			copyPieces(c.dst[lo:hi], c.src[lo:hi], c.piece)
		}
		c.pending.Add(-1) // every helper answers, so that none reads c while the next copy is set up
	}
}

// split copies src into dst in workers parts of whole 64-byte lines, the
// last on the caller, the others on ready helpers, each part in copy()
// calls of piece bytes (0: one call).
func (c *Crew) split(dst, src []byte, workers, piece int) {
	if !c.ready.Load() || len(c.helpers) < workers-1 {
		c.Ready(workers)
	}
	n := len(src)
	part := ((n+workers-1)/workers + 63) / 64 * 64
	c.bounds = c.bounds[:0]
	for lo := 0; lo < n; lo += part {
		c.bounds = append(c.bounds, lo)
	}
	c.bounds = append(c.bounds, n)
	parts := len(c.bounds) - 1
	c.dst, c.src, c.piece = dst, src, piece
	c.post()
	lo := c.bounds[parts-1]
	copyPieces(dst[lo:], src[lo:], piece)
	c.wait()
	// Every helper has answered: forget the buffers. The helpers outlive
	// the copy, and until Stop the Crew and its helpers keep what it
	// points to alive: at 1 GiB a run of the suite, whose helpers then
	// lived as long as the process, held every case's buffers and was
	// killed for memory after a dozen cases.
	c.dst, c.src = nil, nil
}

// post hands the copy set up in c to the helpers.
func (c *Crew) post() {
	c.pending.Store(int32(len(c.helpers)))
	c.seq.Add(1)
}

// wait returns once every helper has answered the copy posted last.
func (c *Crew) wait() {
	for i := 0; c.pending.Load() > 0; i++ {
		if i%1024 == 1023 {
			runtime.Gosched() // a helper descheduled by the OS: let it run
		}
	}
}
