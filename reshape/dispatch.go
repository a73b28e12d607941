package reshape

import (
	"math/bits"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/stridekit/stridekit/generated"
)

// kindOf picks the innermost loop from the innermost source stride.
func kindOf(innerStride int) generated.Kind {
	switch innerStride {
	case 1:
		return generated.Rows
	case 0:
		return generated.Broadcast
	}
	return generated.Gather
}

// copyOp is what a copy does to each element: moves it, or converts it.
type copyOp struct {
	dt     generated.DType // the view's dtype (the source's, when converting)
	stream bool            // the store policy of the whole result (see generated.Kernel)
	conv   conversion      // the conversion; run is nil for a plain copy
}

// dstSize is the size of an element of the result.
func (op copyOp) dstSize() int {
	if op.conv.run != nil {
		return op.conv.to.Size()
	}
	return op.dt.Size()
}

// dispatch copies the canonical view (cshape, cstrides) of dtype dt, whose
// element [0, 0, ...] is at src, into dst, row-major. The caller has
// validated and counted the view (v: its elements and the span of the
// source it reads), checked that dst holds all of it and does not overlap
// it.
//
// A copy whose footprint reaches the streaming threshold is written with
// non-temporal stores wherever a kernel has them (streams). A result of at
// least the parallel threshold is split across up to SetMaxWorkers
// goroutines (parallel); each part, or the whole view, runs through serial.
//
// A memory fault while the view is read or dst written (a mapped file
// truncated under the copy: SIGBUS), on the calling goroutine or on a
// helper, is returned as an error wrapping ErrFault rather than ending the
// process: see catchFault.
func dispatch(dt generated.DType, dst, src unsafe.Pointer, v inspected, cshape, cstrides []int) error {
	return dispatchOp(copyOp{dt: dt}, dst, src, v, cshape, cstrides)
}

// dispatchAs is dispatch converting each element by c.
func dispatchAs(c conversion, dst, src unsafe.Pointer, v inspected, cshape, cstrides []int) error {
	return dispatchOp(copyOp{dt: c.from, conv: c}, dst, src, v, cshape, cstrides)
}

// dispatchOp is dispatch for any copyOp.
func dispatchOp(op copyOp, dst, src unsafe.Pointer, v inspected, cshape, cstrides []int) (err error) {
	defer catchFault(&err, debug.SetPanicOnFault(true), op, dst, src, v)
	bytes := v.n * op.dstSize()
	op.stream = streams(bytes + min(bytes, (v.hi-v.lo+1)*op.dt.Size()))
	if w := workersFor(bytes); w > 1 && parallel(op, dst, src, cshape, cstrides, w) {
		return nil
	}
	serial(op, dst, src, cshape, cstrides)
	return nil
}

// catchFault is deferred by dispatchOp, which has made the goroutine's
// memory faults panics (debug.SetPanicOnFault; prev is the setting it had,
// restored here). It turns the panic of a fault at an address inside the
// span of the source the view reads, or inside the destination, into an
// error wrapping ErrFault: the memory went away under the copy, as the
// pages of a truncated mapped file do. Any other panic goes on as it was,
// a fault elsewhere included: that is a bug, not a vanished file. A helper
// of the parallel path faults the same way and its panic is raised again on
// the caller (waitHelpers), so it lands here too.
//
// It costs each copy a deferred call and two flag writes, nothing per
// element and no allocation.
func catchFault(err *error, prev bool, op copyOp, dst, src unsafe.Pointer, v inspected) {
	debug.SetPanicOnFault(prev)
	r := recover()
	if r == nil {
		return
	}
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		addr, size := f.Addr(), uintptr(op.dt.Size())
		srcLo := uintptr(src) - uintptr(v.off-v.lo)*size
		srcHi := uintptr(src) + uintptr(v.hi-v.off+1)*size
		dstHi := uintptr(dst) + uintptr(v.n*op.dstSize())
		if srcLo <= addr && addr < srcHi || uintptr(dst) <= addr && addr < dstHi {
			*err = errorf(ErrFault, "at address %#x, in the memory the view reads or the destination: it went away during the copy (a memory-mapped file truncated while in use?)", addr)
			return
		}
	}
	panic(r)
}

// serial copies a canonical view on the calling goroutine.
//
// A view whose innermost axis is strided in the source (neither 0 nor 1)
// while another axis has source stride 1 is a transpose: it runs as the
// blocked 2-D transposes of generated.TransposeRows (transposeAxes), or,
// when its stride-1 axis is shorter than a line, of a chain of axes through
// a buffer (transposeChain, see planChain). Every
// other view runs the kernel for (dt, rank, kind); for a contiguous view,
// canonical rank 1 with stride 1, that is one copy() (the rank-1 Rows
// kernel). A view of rank above
// generated.MaxRank is an odometer over its leading axes, each step running
// the rank-MaxRank kernel on the trailing axes.
//
// A converting copy runs the same way through the converter of its pair
// (serialConvert).
func serial(op copyOp, dst, src unsafe.Pointer, cshape, cstrides []int) {
	dt, stream := op.dt, op.stream
	size := dt.Size()
	r := len(cshape)
	kind := kindOf(cstrides[r-1])
	if kind == generated.Gather {
		if p, ok := planChain(dt, cshape, cstrides); ok {
			transposeChain(op, dst, src, cshape, cstrides, &p)
			return
		}
		if b := transposeAxis(dt, cshape, cstrides); b >= 0 {
			transposeAxes(op, dst, src, cshape, cstrides, b)
			return
		}
	}
	if op.conv.run != nil {
		serialConvert(op.conv, dst, src, cshape, cstrides)
		return
	}
	lead := max(r-generated.MaxRank, 0) // axes the kernel does not cover
	var shape, strides [generated.MaxRank]int
	copy(shape[:], cshape[lead:])
	copy(strides[:], cstrides[lead:])
	kernel := generated.Registry[dt][r-lead][kind]
	if lead == 0 {
		kernel(dst, src, shape, strides, stream)
		return
	}

	block := 1 // elements one kernel call writes
	for _, e := range shape {
		block *= e
	}
	var idx [stackRank]int
	d, o := 0, 0 // element offsets of the current block in dst and from src
	for {
		kernel(unsafe.Add(dst, d*size), unsafe.Add(src, o*size), shape, strides, stream)
		d += block
		if !step(idx[:lead], cshape[:lead], cstrides[:lead], &o) {
			return
		}
	}
}

// step advances idx, a row-major index over axes of this shape, by one, and
// moves the offset off by the strides of the axes that change. It reports
// false when idx wraps around to all zeros (and off to where it started).
func step(idx, shape, strides []int, off *int) bool {
	for a := len(idx) - 1; a >= 0; a-- {
		idx[a]++
		*off += strides[a]
		if idx[a] < shape[a] {
			return true
		}
		*off -= strides[a] * shape[a]
		idx[a] = 0
	}
	return false
}

// transposeAxis returns the axis of a canonical view with a strided
// innermost axis that a blocked transpose should pair with the axes after
// it: the last axis b with source stride 1, if it spans at least a tile
// column and the axes after it at least a tile row. Otherwise it returns -1
// and the view is gathered.
func transposeAxis(dt generated.DType, cshape, cstrides []int) int {
	t := generated.Transposes[dt]
	r := len(cshape)
	ni := cshape[r-1]
	for b := r - 2; b >= 0; b-- {
		if cstrides[b] == 1 {
			if cshape[b] < t.TileJ || ni < t.TileI {
				return -1
			}
			return b
		}
		ni *= cshape[b]
	}
	return -1
}

// rowChunk is how many source rows transposeAxes hands to a transpose at a
// time: a multiple of every width's BlockI, and a table (4 KiB) that the
// stack holds.
const rowChunk = 512

// transposeAxes copies a canonical view as 2-D transposes of axis b (source
// stride 1) with all the axes after it, as HPTT pairs the stride-1 axes of
// source and destination. In the destination those axes are contiguous: one
// row of dj elements per index of b. Their source offsets, any mix of
// strides, go in a table, rowChunk rows at a time; the transpose then reads
// whole tiles across them. An odometer over the axes before b repeats each
// chunk, whose table does not change, at every one of their indices. Where
// the destination rows crowd the L1 cache (generated.Crowds), one
// generated.CrowdBuffer on this goroutine's stack serves every transpose of
// the copy.
func transposeAxes(op copyOp, dst, src unsafe.Pointer, cshape, cstrides []int, b int) {
	dj := transposeRows(cshape, b)
	transposeAxesPart(op, dst, src, cshape, cstrides, b, dj, 0, dj)
}

// transposeRows is the number of source rows of transposeAxes' transposes
// of axis b: the product of the axes after it, the length of each
// destination row.
func transposeRows(cshape []int, b int) int {
	dj := 1
	for _, e := range cshape[b+1:] {
		dj *= e
	}
	return dj
}

// transposeAxesPart is transposeAxes, dj rows (transposeRows), for source
// rows [r0, r1) only: the elements r0..r1-1 of every destination row (a
// worker's part when parallel splits the rows).
func transposeAxesPart(op copyOp, dst, src unsafe.Pointer, cshape, cstrides []int, b, dj, r0, r1 int) {
	nj := cshape[b]
	if op.stream { // the streamed tiles leave their stores to this one fence
		defer generated.StreamFence()
	}
	if op.buffers(dst, src, cshape, cstrides, b, dj, r0, r1) {
		var buf generated.CrowdBuffer // on the stack, cleared once per copy
		transposeAxesWith(op, dst, src, cshape, cstrides, b, nj, dj, r0, r1, &buf)
		return
	}
	transposeAxesWith(op, dst, src, cshape, cstrides, b, nj, dj, r0, r1, nil)
}

// buffers reports whether the transposes of transposeAxesPart, into rows
// of dj elements from dst, may write through a generated.CrowdBuffer: in
// the cache, where their destination rows crowd the L1 cache
// (generated.Crowds) or their source rows do (packsRows); beyond it, a
// plain copy's where the destination rows are not whole aligned lines
// (generated.StreamCrowds), a converting copy's where the build and its
// tiles say so (generated.ConvStreamCrowds).
func (op copyOp) buffers(dst, src unsafe.Pointer, cshape, cstrides []int, b, dj, r0, r1 int) bool {
	if op.stream {
		if op.conv.run != nil {
			return generated.ConvStreamCrowds(op.conv.from, op.conv.to, dj, dst)
		}
		return generated.StreamCrowds(op.dstSize(), cshape[b], dj, dst)
	}
	return generated.Crowds(op.dstSize(), cshape[b], dj) || packsRows(op, src, cshape, cstrides, b, dj, r0, r1)
}

// packsRows reports whether the plain transposes of transposeAxesPart take
// the buffer for their source rows alone, which they read through the
// packed tiles (generated.Packs): it lists the offsets of the first rows,
// from r0, as many as generated.PackRows asks for (none for most copies).
func packsRows(op copyOp, src unsafe.Pointer, cshape, cstrides []int, b, dj, r0, r1 int) bool {
	size := op.dt.Size()
	n := min(generated.PackRows(size, cshape[b], dj), r1-r0, packSample)
	if op.conv.run != nil || n <= 0 {
		return false
	}
	var rows [packSample]int
	var idx [stackRank]int
	o := firstRow(cshape, cstrides, b, r0, idx[:])
	fillRows(rows[:n], cshape[b+1:], cstrides[b+1:], idx[b+1:len(cshape)], &o, size)
	return generated.Packs(size, cshape[b], dj, src, rows[:n])
}

// packSample is the most source rows packsRows lists: the rows of the
// largest band of the packed tiles (generated.PackRows), and a table that
// the stack holds.
const packSample = 64

// firstRow sets idx, over the axes after b, to the indices of transpose row
// r0 (of transposeAxesPart's rows, in order) and returns its source offset
// in elements.
func firstRow(cshape, cstrides []int, b, r0 int, idx []int) int {
	o := 0
	for a, rest := len(cshape)-1, r0; a > b; a-- {
		idx[a] = rest % cshape[a]
		o += idx[a] * cstrides[a]
		rest /= cshape[a]
	}
	return o
}

// transposeAxesWith is transposeAxesPart, axis b of nj elements before dj
// destination elements, rows [r0, r1) of them, with the buffer for
// destinations whose rows crowd the L1 cache (generated.Crowds), or nil.
func transposeAxesWith(op copyOp, dst, src unsafe.Pointer, cshape, cstrides []int, b, nj, dj, r0, r1 int, buf *generated.CrowdBuffer) {
	dt := op.dt
	size, dsize := dt.Size(), op.dstSize()
	r := len(cshape)

	var table [rowChunk]int // on the stack: TransposeRows calls directly
	var rowIdx, outerIdx [stackRank]int
	o := firstRow(cshape, cstrides, b, r0, rowIdx[:]) // source offset of the next row, in elements: row r0's
	// Where every chunk's offsets are the first chunk's moved (chunksRepeat),
	// the table is filled once, its offsets from the chunk's first row, and
	// each chunk's src is its own first row: an element of the source, as
	// unsafe.Add's result must be.
	shared := r0%rowChunk == 0 && r1-r0 > rowChunk && chunksRepeat(cshape[b+1:])
	for i0 := r0; i0 < r1; i0 += rowChunk {
		rows := table[:min(rowChunk, r1-i0)]
		first := 0 // source offset of the chunk's first row, in elements, where the table's offsets are from it
		if shared && i0 > r0 {
			first = firstRow(cshape, cstrides, b, i0, rowIdx[:])
		} else {
			if shared { // the offsets from the chunk's first row (a pass over the table after took 2-6% at 256 KiB)
				first, o = o, 0
			}
			fillRows(rows, cshape[b+1:], cstrides[b+1:], rowIdx[b+1:r], &o, size)
		}
		// The axes before b lead the destination: each of their indices
		// is the next nj*dj elements of it.
		d, so := i0, 0 // element offsets in dst and src of the current repeat
		for {
			s := unsafe.Add(src, (so+first)*size)
			if op.conv.run != nil {
				if !generated.ConvTransposeRows(op.conv.from, op.conv.to, unsafe.Add(dst, d*dsize), s, rows, nj, dj, op.stream, buf) {
					transposeConvert(op.conv, unsafe.Add(dst, d*dsize), s, rows, nj, dj)
				}
			} else {
				generated.TransposeRows(dt, unsafe.Add(dst, d*size), s, rows, nj, dj, op.stream, buf)
			}
			d += nj * dj
			if !step(outerIdx[:b], cshape[:b], cstrides[:b], &so) {
				break
			}
		}
	}
}

// cacheLine is the unit of memory that workers never share in the
// destination: 64 bytes on every CPU Go supports well.
const cacheLine = 64

// unitsPerWorker is how many split units (see parallel) each worker should
// have at least, so that rounding chunks to cache lines keeps them even.
const unitsPerWorker = 8

// parallel splits a canonical view across up to workers goroutines,
// including the calling one, and reports whether it did; it declines a view
// too small to give every worker a chunk. The view is split along its
// leading axes: units are the indices of axes 0..p, flattened, where p is the
// first axis at which there are unitsPerWorker units per worker (or the last
// axis; for a transpose, its stride-1 axis, which each part keeps at least a
// tile column of). Each worker copies a contiguous range of units, which is a
// contiguous range of dst. A transpose whose split would reach its stride-1
// axis and leave each worker a short share of every source row (rowSplit)
// is split by its source rows instead: each worker copies a range of them,
// the same elements of every destination row. Range boundaries are placed
// where dst is at a 64-byte boundary, so no two workers write to one cache
// line; when the alignment of dst and the size of a unit allow no such
// boundary, they fall on whole units, and at most one line is shared per
// boundary (splitting rows, rowSplit asks for destination rows of whole
// lines, so the boundaries of every row fall alike).
func parallel(op copyOp, dst, src unsafe.Pointer, cshape, cstrides []int, workers int) bool {
	dt := op.dt
	size := op.dstSize()
	r := len(cshape)
	// A transpose (see serial) must keep its stride-1 axis b in every part,
	// with a whole tile column of it: the split stops at b.
	// A chained transpose (see planChain) keeps its chain whole, but for
	// parts of the chain axis that comes first in the view if that is not
	// the stride-1 axis.
	b, keep, tileCols := r-1, false, false
	if kindOf(cstrides[r-1]) == generated.Gather {
		if cp, ok := planChain(dt, cshape, cstrides); ok {
			b, keep = cp.first(), cp.first() == cp.axes[0]
		} else if tb := transposeAxis(dt, cshape, cstrides); tb >= 0 {
			b, tileCols = tb, true
		}
	}
	p, units := 0, cshape[0]
	for units < workers*unitsPerWorker && p < b {
		p++
		units *= cshape[p]
	}
	splitRows := false
	switch {
	case p == b && keep: // no parts of a chain's stride-1 axis
		return false
	case p == b && tileCols:
		if dj := transposeRows(cshape, b); rowSplit(dt.Size(), size, cshape[b], dj, workers) {
			splitRows, units = true, dj // parts of the transposes' source rows
		} else { // parts of the transposes' tile columns
			workers = min(workers, cshape[b]/generated.Transposes[dt].TileJ)
		}
	}
	unitBytes, period := size, 0
	if splitRows {
		period = rowChunk
	} else {
		for _, e := range cshape[p+1:] {
			unitBytes *= e
		}
	}

	// Boundaries are first + m*period units: first aligns dst to a line
	// where possible, period keeps the alignment (and, splitting rows,
	// gives each part whole chunks of rows).
	linePeriod := cacheLine >> bits.TrailingZeros(uint(unitBytes|cacheLine))
	period = max(period, linePeriod)
	first := 0
	mis := int(uintptr(dst) % cacheLine)
	for k := 0; k < linePeriod; k++ {
		if (mis+k*unitBytes)%cacheLine == 0 {
			first = k
			break
		}
	}
	steps := (units - first) / period // whole periods after first
	if workers > steps {
		workers = steps
	}
	if workers < 2 {
		return false
	}

	// One split copy at a time uses the helpers; a copy that finds them
	// busy runs on its caller alone, which is no slower than waiting.
	if !crew.busy.TryLock() {
		return false
	}
	defer crew.busy.Unlock()
	job := &crew.job
	*job = splitJob{op: op, dst: dst, src: src, r: r, p: p, unitBytes: unitBytes, rows: splitRows}
	// Once every part is done (runSplit waits for them, even on a panic),
	// forget the buffers: crew lives as long as the process, and these
	// pointers would keep the caller's source and result alive, gigabytes
	// perhaps, until the next split copy. The rest of the job stays, for
	// the tests that ask how the copy was split.
	defer func() { job.dst, job.src = nil, nil }()
	copy(job.shape[:], cshape)
	copy(job.strides[:], cstrides)
	bounds := crew.bounds[:0]
	bounds = append(bounds, 0)
	for w := 1; w < workers; w++ {
		bounds = append(bounds, first+(steps*w/workers)*period)
	}
	bounds = append(bounds, units)
	crew.bounds = bounds
	runSplit(bounds)
	return true
}

// splitJob is a view split across workers by parallel.
type splitJob struct {
	op              copyOp
	dst, src        unsafe.Pointer
	shape, strides  [stackRank]int // the canonical view, r axes
	r, p, unitBytes int            // its rank, the last split axis, bytes of dst per unit
	// rows marks a split of a transpose's source rows (see rowSplit): axis
	// p is its stride-1 axis, and units are its rows, one element of every
	// destination row each.
	rows bool
}

// rowShareMax is the largest share of each source row, in bytes, below
// which parallel splits a transpose's rows rather than its tile columns.
// Cut into columns, each worker reads its share of every source row, and
// the CPU's prefetchers run on past it into the other's; with rows of 1
// KiB or less per worker (two workers, float32 [r, c] views transposed,
// and the suite's reverse4d, whose source rows are 2 KiB) the row split
// was faster on the 2-vCPU EPYC VM (medians of 3-4 interleaved rounds of
// 8x, two workers): reverse4d at 4 and 16 MiB 1.26-1.56x in uint8 and
// bfloat16, float32 2.38/1.08, float64 0.96/1.43, at 64 MiB 1.05-1.18x;
// [r, c] float32 with c = 64 and 256 (256 B and 1 KiB rows) 1.55-2.2x and
// 1.14-1.44x at 16 and 64 MiB, c = 512 1.07-1.10x. With 2 KiB and more per
// worker (transpose2d from 16 MiB) it measured 0.87-1.14x, noise or worse,
// so the columns stay. (See rowRunMin for a second condition.)
const rowShareMax = 1024

// rowRunMin is the shortest part of each destination row, in bytes, that
// a worker of a row split writes: with 1 KiB (transpose2d uint8 4 MiB,
// [2048, 2048]) the row split measured 0.29 against 0.37 ms (medians of 6
// interleaved rounds, two workers), where reverse4d, with parts of 8 KiB and
// more, gained (float64 4 MiB 0.33 to 0.19 ms, 64 MiB 7.4 to 6.6; uint8 4
// MiB 0.60 to 0.47).
const rowRunMin = 4096

// rowSplit reports whether parallel splits a transpose of nj columns of
// size-byte elements (their stride-1 source axis) by dj source rows into
// dsize-byte elements by its rows: when each of the workers' share of a
// source row would be at most rowShareMax bytes, each part of a destination
// row is at least rowRunMin bytes, the rows give every part some chunks
// (rowChunk), and the destination rows are whole lines long, so that the
// parts, which cut every destination row at the same place, share no line.
func rowSplit(size, dsize, nj, dj, workers int) bool {
	return nj*size <= workers*rowShareMax && dj*dsize >= workers*rowRunMin &&
		dj >= 2*workers*rowChunk && dj*dsize%cacheLine == 0
}

// run copies units [lo, hi): the indices of axes 0..p flattened. It runs
// serial once per stretch of units with the indices of axes 0..p-1 fixed,
// on the sub-view of axes p.. with axis p cut to the stretch. Splitting a
// transpose's rows, it runs the transposes of source rows [lo, hi).
func (j *splitJob) run(lo, hi int) {
	if j.rows {
		cshape := j.shape[:j.r]
		transposeAxesPart(j.op, j.dst, j.src, cshape, j.strides[:j.r], j.p, transposeRows(cshape, j.p), lo, hi)
		return
	}
	size := j.op.dt.Size()
	cshape, cstrides, p := j.shape[:j.r], j.strides[:j.r], j.p
	var shapeBuf, stridesBuf [stackRank]int
	sub := j.r - p
	shape, strides := shapeBuf[:sub], stridesBuf[:sub]
	copy(shape, cshape[p:])
	copy(strides, cstrides[p:])
	for u := lo; u < hi; {
		// Split u into the index along axis p and the offset of axes 0..p-1.
		rest, o := u, 0
		at := rest % cshape[p]
		rest /= cshape[p]
		for a := p - 1; a >= 0; a-- {
			o += (rest % cshape[a]) * cstrides[a]
			rest /= cshape[a]
		}
		n := min(cshape[p]-at, hi-u) // units left along axis p in this stretch
		shape[0] = n
		serial(j.op, unsafe.Add(j.dst, u*j.unitBytes), unsafe.Add(j.src, (o+at*cstrides[p])*size), shape, strides)
		u += n
	}
}

// serialConvert converts a canonical view that is not a transpose: the
// converter of the pair takes the last three axes (planes of rows of
// elements) in one call, and an odometer runs over the axes before them.
// The converter reads the innermost stride, so rows, gathers and broadcasts
// all go through it.
func serialConvert(c conversion, dst, src unsafe.Pointer, cshape, cstrides []int) {
	ssize, dsize := c.from.Size(), c.to.Size()
	r := len(cshape)
	lead := max(r-3, 0)
	// The last three axes, padded in front with single planes and rows.
	var shape, strides [3]int
	shape[0], shape[1] = 1, 1
	copy(shape[3-(r-lead):], cshape[lead:])
	copy(strides[3-(r-lead):], cstrides[lead:])
	block := shape[0] * shape[1] * shape[2]
	var idx [stackRank]int
	d, o := 0, 0 // element offsets of the current block in dst and from src
	for {
		c.run.convert(unsafe.Add(dst, d*dsize), unsafe.Add(src, o*ssize),
			shape[0], strides[0]*ssize, shape[1], strides[1]*ssize, shape[2], strides[2]*ssize)
		d += block
		if !step(idx[:lead], cshape[:lead], cstrides[:lead], &o) {
			return
		}
	}
}

// convertScratch is the size of the buffer in which transposeConvert stages
// a block of a transpose in the source dtype: it stays in the L1 cache.
const convertScratch = 32 << 10

// scratchPool holds the buffers of transposeConvert: a buffer on the stack
// would escape through the converter, a function value.
var scratchPool = sync.Pool{New: func() any { return new([convertScratch]byte) }}

// transposeConvert is generated.TransposeRows converting each element by c:
// it transposes as many source columns at a time as fill convertScratch
// (whole tile columns, at least one) into a buffer in the source dtype,
// then converts each of their rows into its destination row.
func transposeConvert(c conversion, dst, src unsafe.Pointer, rows []int, nj, dj int) {
	ssize, dsize := c.from.Size(), c.to.Size()
	ni := len(rows)
	tile := generated.Transposes[c.from].TileJ
	cols := max(tile, convertScratch/(ni*ssize)/tile*tile)
	buf := scratchPool.Get().(*[convertScratch]byte)
	defer scratchPool.Put(buf)
	scratch := unsafe.Pointer(&buf[0])
	for j0 := 0; j0 < nj; j0 += cols {
		m := min(cols, nj-j0)
		generated.TransposeRows(c.from, scratch, unsafe.Add(src, j0*ssize), rows, m, ni, false, nil)
		for j := range m {
			c.run.convert(unsafe.Add(dst, (j0+j)*dj*dsize), unsafe.Add(scratch, j*ni*ssize), 1, 0, 1, 0, ni, ssize)
		}
	}
}
