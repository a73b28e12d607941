package reshape

import (
	"unsafe"

	"github.com/stridekit/stridekit/generated"
)

// Transposes whose stride-1 source axis is short.
//
// transposeAxes pairs the stride-1 source axis b with the axes after it, and
// its tiles take TileJ elements of b at a time. When b is shorter than a
// tile (the [batch, 64, 32, 16] reversal at a batch of 2-8, a head axis of 8
// that moves to the front), there is no whole tile at all and the view used
// to be gathered an element at a time, at 0.01-0.03 of the ceiling. When b
// is shorter than a cache line, each source row of a tile uses part of a
// line. Yet the source runs on contiguously past b, along the axis whose
// stride is b's extent, and so on: those axes (the chain) together are one
// long stride-1 axis of the source. Only in the destination are they apart,
// so the destination rows of the chain are not evenly spaced.
//
// transposeChain transposes chain × rows blocks into a buffer that stays in
// the L1 cache, with the blocked transposes of generated.TransposeRows
// (whole tiles again), then copies each row of the buffer, a contiguous run
// of the destination, to where it belongs.

// chainPlan is a transpose of a chain of source axes (see above) with the
// axes after the last of them.
type chainPlan struct {
	axes [stackRank]int // the chain, in source order: axes[0] has stride 1, axes[k] stride extent(axes[:k])
	n    int            // axes in the chain
	last int            // the last chain axis in view order: the rows are the axes after it
}

// chainBytes is how many bytes of each source row a chain should span: a
// cache line. A stride-1 axis that spans less is chained with the axes that
// continue it in the source.
const chainBytes = 64

// chainRowBytes is the shortest destination run the chain's rows may make:
// below a line, the copies out of the buffer cost more than the tiles save.
const chainRowBytes = 64

// stageBytes is the size of transposeChain's buffer: the tiles write it and
// the row copies read it back while it is in the L1 cache.
const stageBytes = 16 << 10

// planChain returns the chain plan of a canonical view whose innermost axis
// is strided, when its stride-1 axis spans less than chainBytes and chaining
// gives whole tiles: a chain of at least TileJ elements and rows of at least
// TileI elements and chainRowBytes bytes.
func planChain(dt generated.DType, cshape, cstrides []int) (p chainPlan, ok bool) {
	r := len(cshape)
	size := dt.Size()
	t := generated.Transposes[dt]
	a0 := -1
	for a := r - 2; a >= 0; a-- {
		if cstrides[a] == 1 {
			a0 = a
			break
		}
	}
	if a0 < 0 || cshape[a0]*size >= chainBytes {
		return p, false
	}
	rowsAfter := func(last int) int {
		n := 1
		for _, e := range cshape[last+1:] {
			n *= e
		}
		return n
	}
	p.axes[0], p.n, p.last = a0, 1, a0
	ext := cshape[a0]
	for ext*size < chainBytes {
		next := -1
		for a := 0; a < r-1; a++ {
			if cstrides[a] == ext && !p.has(a) {
				next = a
				break
			}
		}
		if next < 0 {
			break
		}
		last := max(p.last, next)
		if ni := rowsAfter(last); ni < t.TileI || ni*size < chainRowBytes {
			break
		}
		p.axes[p.n], p.n, p.last = next, p.n+1, last
		ext *= cshape[next]
	}
	if p.n == 1 || ext < t.TileJ {
		return p, false
	}
	return p, true
}

// has reports whether axis a is in the chain.
func (p *chainPlan) has(a int) bool {
	for _, c := range p.axes[:p.n] {
		if c == a {
			return true
		}
	}
	return false
}

// first returns the chain's first axis in view order.
func (p *chainPlan) first() int {
	f := p.axes[0]
	for _, c := range p.axes[1:p.n] {
		f = min(f, c)
	}
	return f
}

// transposeChain copies a canonical view by its chain plan p: for each
// chunk of rows (the axes after p.last, their source offsets in a table as
// in transposeAxes) and each index of the other axes (an odometer over the
// axes up to p.last that are not in the chain), it transposes the chain,
// as many of its elements at a time as fill the buffer, into the buffer,
// one row per chain element, and copies each of those rows (converted
// where op converts) to its place in dst, found by an odometer over the
// chain.
func transposeChain(op copyOp, dst, src unsafe.Pointer, cshape, cstrides []int, p *chainPlan) {
	dt := op.dt
	size, dsize := dt.Size(), op.dstSize()
	r := len(cshape)

	// Strides of the destination, row-major, in elements.
	var dstStrides [stackRank]int
	acc := 1
	for a := r - 1; a >= 0; a-- {
		dstStrides[a] = acc
		acc *= cshape[a]
	}
	ni := dstStrides[p.last]

	// The chain, innermost last as step walks it; its source offset is
	// the chain index itself.
	var chShape, chDst [stackRank]int
	nj := 1
	for k := range p.n {
		a := p.axes[p.n-1-k]
		chShape[k], chDst[k] = cshape[a], dstStrides[a]
		nj *= cshape[a]
	}
	// The other axes up to p.last, in view order.
	var outShape, outSrc, outDst [stackRank]int
	no := 0
	for a := 0; a < p.last; a++ {
		if !p.has(a) {
			outShape[no], outSrc[no], outDst[no] = cshape[a], cstrides[a], dstStrides[a]
			no++
		}
	}

	var local [(stageBytes + cacheLine) / 8]uint64 // the buffer of plain copies, on the stack, from its first line boundary (lp)
	var cp unsafe.Pointer                          // the buffer of conversions (the converter is a function value: local would escape)
	if op.conv.run != nil {
		buf := scratchPool.Get().(*[convertScratch]byte)
		defer scratchPool.Put(buf)
		cp = unsafe.Pointer(&buf[0])
	}
	// The buffer starts on a line boundary, so that the tiles' stores into
	// it and copy()'s loads from it are whole lines where rowBytes is. A
	// stack frame places local only 8-aligned: on the Intel Xeon VM two
	// builds that differed in nothing else ran reverse4d at 256 KiB at
	// 0.23/0.31/0.35 (uint8/bfloat16/float32) and at 0.27/0.36/0.42 of
	// the ceiling, the second as every build does now.
	lp := unsafe.Pointer(&local[0])
	lp = unsafe.Add(lp, -int(uintptr(lp))&(cacheLine-1))
	tileJ := generated.Transposes[dt].TileJ

	var table [rowChunk]int
	var rowIdx, outIdx, chIdx [stackRank]int
	o := 0 // source offset of the next row, in elements
	// Chunks of rows that leave room in the buffer for a cache line of
	// every source row (or a tile, if wider).
	chunk := min(rowChunk, max(generated.Transposes[dt].TileI, stageBytes/max(tileJ*size, cacheLine)))
	for i0 := 0; i0 < ni; i0 += chunk {
		rows := table[:min(chunk, ni-i0)]
		fillRows(rows, cshape[p.last+1:], cstrides[p.last+1:], rowIdx[p.last+1:r], &o, size)
		m := len(rows)
		rowBytes, dRowBytes := m*size, m*dsize
		cols := max(tileJ, stageBytes/rowBytes/tileJ*tileJ)
		so, do := 0, i0 // offsets in src and dst of the current index of the other axes
		for {
			dj := 0 // offset in dst of chain element j, from do
			for j0 := 0; j0 < nj; j0 += cols {
				mj := min(cols, nj-j0)
				s := unsafe.Add(src, (so+j0)*size)
				if cp != nil {
					generated.TransposeRows(dt, cp, s, rows, mj, m, false, nil)
					for j := range mj {
						op.conv.run.convert(unsafe.Add(dst, (do+dj)*dsize), unsafe.Add(cp, j*rowBytes), 1, 0, 1, 0, m, size)
						step(chIdx[:p.n], chShape[:p.n], chDst[:p.n], &dj)
					}
					continue
				}
				generated.TransposeRows(dt, lp, s, rows, mj, m, false, nil)
				for j := range mj {
					copy(unsafe.Slice((*byte)(unsafe.Add(dst, (do+dj)*dsize)), dRowBytes), unsafe.Slice((*byte)(unsafe.Add(lp, j*rowBytes)), rowBytes))
					step(chIdx[:p.n], chShape[:p.n], chDst[:p.n], &dj)
				}
			}
			if !step2(outIdx[:no], outShape[:no], outSrc[:no], outDst[:no], &so, &do) {
				break
			}
		}
	}
}

// chunksRepeat reports whether the rows of the axes shape (a transpose's
// row axes, row-major), taken rowChunk at a time from a multiple of
// rowChunk, have in every chunk the offsets of the first moved by one
// distance, whatever the strides: where the trailing axes whose extents
// multiply to less than a chunk (inner rows) divide it, and the next axis
// makes a whole number of chunks of them (one axis a multiple of rowChunk
// long, or [32, 16]). A chunk then spans whole runs of those axes, at the
// same places in each. The table of one chunk then serves them all
// (transposeAxesWith), as fillRows repeats a group within a table:
// filling it took a tenth of a transpose's time where the source rows are
// a line or two long (transpose-4k at 256 KiB).
func chunksRepeat(shape []int) bool {
	inner := 1 // below rowChunk: the products cannot overflow, even in 32 bits
	for a := len(shape) - 1; a >= 0; a-- {
		e := shape[a]
		switch {
		case e == 0:
			return false // no rows
		case e >= (rowChunk+inner-1)/inner: // inner*e >= rowChunk
			return rowChunk%inner == 0 && e%(rowChunk/inner) == 0
		}
		inner *= e
	}
	return false // less than a chunk: one table
}

// fillRows writes the byte offsets of the next len(rows) rows of a row
// table (see transposeAxes): rows are the indices of the axes shape, in
// row-major order, with source strides strides; idx and *o (in elements)
// are where the table left off, and are advanced past the rows written.
//
// Where the innermost axis is short (fewer than groupRows rows), the
// table repeats itself (as whole tables do, see chunksRepeat): each index
// of the axes before a group of trailing axes of at least groupRows rows
// starts the same pattern of offsets, moved. So the first whole group of the call is filled axis by axis
// (fillRuns) and every later one is that group plus the distance between
// their starts: a load, an add and a store a row, where the runs of a few
// rows cost an odometer step each (a fifth of mixed6d-t's time at
// 256 KiB, whose runs are 8 rows long).
func fillRows(rows []int, shape, strides, idx []int, o *int, size int) {
	r := len(shape)
	g, rowsPer := r-1, shape[r-1] // the group: axes g.., rowsPer rows
	for g > 0 && rowsPer < groupRows {
		g--
		rowsPer *= shape[g]
	}
	if g == r-1 { // runs of groupRows or more: nothing to repeat
		fillRuns(rows, shape, strides, idx, o, size)
		return
	}
	k := 0
	if at := flatIndex(idx[g:], shape[g:]); at > 0 { // finish the group begun before
		k = min(rowsPer-at, len(rows))
		fillRuns(rows[:k], shape, strides, idx, o, size)
	}
	if k+2*rowsPer > len(rows) { // no group to repeat after the first
		fillRuns(rows[k:], shape, strides, idx, o, size)
		return
	}
	first, o0 := rows[k:k+rowsPer:k+rowsPer], *o
	fillRuns(first, shape, strides, idx, o, size)
	k += rowsPer
	for ; k+rowsPer <= len(rows); k += rowsPer {
		delta := (*o - o0) * size
		next := rows[k : k+rowsPer : k+rowsPer]
		for q, v := range first {
			next[q] = v + delta
		}
		step(idx[:g], shape[:g], strides[:g], o) // past the group, as fillRuns leaves it
	}
	fillRuns(rows[k:], shape, strides, idx, o, size)
}

// groupRows is the fewest rows of a group that fillRows repeats: shorter
// runs of the innermost axis are filled as groups of its trailing axes.
const groupRows = 32

// flatIndex is the row-major position of idx in shape.
func flatIndex(idx, shape []int) int {
	at := 0
	for a, i := range idx {
		at = at*shape[a] + i
	}
	return at
}

// fillRuns is fillRows axis by axis: the innermost axis runs in a loop of
// eight independent stores per step (tables of short rows cost as much as
// the tiles: a store per row, each after the add before it, took a fifth
// of transpose-4k's time at 256 KiB).
func fillRuns(rows []int, shape, strides, idx []int, o *int, size int) {
	r := len(shape)
	n, st := shape[r-1], strides[r-1]
	s1 := st * size
	s2, s3, s4 := 2*s1, 3*s1, 4*s1
	for k := 0; k < len(rows); {
		run := rows[k:min(k+n-idx[r-1], len(rows))]
		ob := *o * size
		q := 0
		for ; q+8 <= len(run); q += 8 {
			e := run[q : q+8 : q+8]
			e[0], e[1], e[2], e[3] = ob, ob+s1, ob+s2, ob+s3
			ob += s4
			e[4], e[5], e[6], e[7] = ob, ob+s1, ob+s2, ob+s3
			ob += s4
		}
		for ; q < len(run); q++ {
			run[q] = ob
			ob += s1
		}
		k += len(run)
		idx[r-1] += len(run)
		*o += len(run) * st
		if idx[r-1] < n {
			continue
		}
		idx[r-1] = 0
		*o -= n * st
		step(idx[:r-1], shape[:r-1], strides[:r-1], o)
	}
}

// step2 is step moving two offsets, by two sets of strides.
func step2(idx, shape, strides1, strides2 []int, off1, off2 *int) bool {
	for a := len(idx) - 1; a >= 0; a-- {
		idx[a]++
		*off1 += strides1[a]
		*off2 += strides2[a]
		if idx[a] < shape[a] {
			return true
		}
		*off1 -= strides1[a] * shape[a]
		*off2 -= strides2[a] * shape[a]
		idx[a] = 0
	}
	return false
}
