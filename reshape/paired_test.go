package reshape

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// chainOf canonicalises a view and returns its chain plan, if any.
func chainOf[T Element](t Tensor[T]) (chainPlan, bool, []int) {
	var buf canonBuf
	cshape, cstrides := canonicalise(&buf, t.Shape, t.Strides)
	p, ok := planChain(dtypeOf[T](), cshape, cstrides)
	return p, ok, cshape
}

// TestChainPlan checks which views planChain chains: the reversal of
// [16, 32, 64, batch] at the batches whose stride-1 axis spans less than a
// line chains the batch axis with the axis of 64 (its continuation in the
// source), in every width; views whose stride-1 axis spans a line, or that
// have no continuation, or whose rows would be too short, are not chained.
func TestChainPlan(t *testing.T) {
	t.Run("uint8", testChainPlan[uint8])
	t.Run("bfloat16", testChainPlan[BFloat16])
	t.Run("float32", testChainPlan[float32])
	t.Run("float64", testChainPlan[float64])
}

func testChainPlan[T Element](t *testing.T) {
	size := int(unsafe.Sizeof(*new(T)))
	view := func(shape []int, perm ...int) Tensor[T] {
		v, err := New(make([]T, product(shape)), shape...)
		require.NoError(t, err)
		v, err = v.Permute(perm...)
		require.NoError(t, err)
		return v
	}
	for _, batch := range []int{2, 3, 4, 8, 16, 32, 64} {
		p, ok, cshape := chainOf(view([]int{16, 32, 64, batch}, 3, 2, 1, 0))
		if batch*size >= chainBytes || batch < 2 {
			require.False(t, ok, "batch %d spans a line: no chain", batch)
			continue
		}
		require.True(t, ok, "reverse of [16 32 64 %d]: canonical %v", batch, cshape)
		require.Equal(t, []int{0, 1}, p.axes[:p.n], "batch %d: the batch axis, then the axis of 64", batch)
		require.Equal(t, 1, p.last)
	}
	// A stride-1 axis of a line or more: the plain transposes.
	_, ok, _ := chainOf(view([]int{64, 64 / size}, 1, 0))
	require.False(t, ok, "a stride-1 axis of a whole line")
	// No continuation: every other axis has a stride of several extents.
	big, err := New(make([]T, 8*40*3), 8, 40, 3)
	require.NoError(t, err)
	sliced, err := big.Slice(1, 0, 40, 2) // the axis of 40, every other index: stride 6
	require.NoError(t, err)
	sliced, err = sliced.Permute(2, 1, 0) // [3, 20, 8]: stride-1 axis of 3 first
	require.NoError(t, err)
	_, ok, _ = chainOf(sliced)
	require.False(t, ok, "no axis continues the stride-1 axis")
	// Rows shorter than a line: chaining would leave 2 rows.
	_, ok, _ = chainOf(view([]int{2, 64, 2}, 2, 0, 1))
	require.False(t, ok, "rows of 2 elements")
}

// TestChainTransposes copies views whose stride-1 source axis is short
// (1 to a little over a line) and moves away from the end, of rank 3 to 7,
// with axes reversed and sliced, through Contiguous and through
// ContiguousAs (a conversion with kernels of its own and one without), on
// one worker and split across two, with the assembly and the Go tiles, and
// compares them with referenceCopy and refConvert. It asserts that most of
// the views were chained, so that it tests transposeChain.
func TestChainTransposes(t *testing.T) {
	defer SetMaxWorkers(SetMaxWorkers(1))
	defer SetParallelThreshold(SetParallelThreshold(0))
	forEachMode(t, func(t *testing.T) {
		for _, workers := range []int{1, 2} {
			SetMaxWorkers(workers)
			SetParallelThreshold(1)
			t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
				t.Run("uint8", testChainTransposes[uint8])
				t.Run("bfloat16", testChainTransposes[BFloat16])
				t.Run("float32", testChainTransposes[float32])
				t.Run("float64", testChainTransposes[float64])
			})
		}
	})
}

func testChainTransposes[T Element](t *testing.T) {
	size := int(unsafe.Sizeof(*new(T)))
	rng := rand.New(rand.NewPCG(uint64(size), 13))
	trials := 80
	if testing.Short() {
		trials = 30
	}
	chained := 0
	for trial := range trials {
		rank := 3 + rng.IntN(5)
		shape := make([]int, rank)
		for a := range shape {
			shape[a] = 1 + rng.IntN(40)
		}
		shape[rank-1] = 2 + rng.IntN(chainBytes/size-2) // the short stride-1 axis
		if trial%4 == 3 {                               // or about a line
			shape[rank-1] = chainBytes/size - 2 + rng.IntN(5)
		}
		shape[rank-2] = 2 + rng.IntN(24)    // its continuation
		for product(shape[:rank-2]) < 128 { // rows of a line or more
			shape[rng.IntN(rank-2)] *= 2
		}
		for product(shape) > 60_000 {
			a := rng.IntN(rank - 2)
			shape[a] = (shape[a] + 1) / 2
		}
		data := make([]T, product(shape))
		randomFill(rng, data)
		view, err := New(data, shape...)
		require.NoError(t, err)
		perm := rng.Perm(rank)
		if trial%2 == 0 { // all axes reversed, as reverse4d
			for a := range perm {
				perm[a] = rank - 1 - a
			}
		}
		if perm[rank-1] == rank-1 {
			perm[rank-1], perm[0] = perm[0], perm[rank-1]
		}
		view, err = view.Permute(perm...)
		require.NoError(t, err)
		ops := fmt.Sprintf("New(%v).Permute(%v)", shape, perm)
		if trial%3 == 0 { // reverse an axis that is not in the chain
			axis := rng.IntN(rank)
			if s := view.Strides[axis]; s != 1 && s != shape[rank-1] {
				view, err = view.Slice(axis, view.Shape[axis]-1, -1, -1)
				require.NoError(t, err)
				ops += fmt.Sprintf(".Slice(%d, -1)", axis)
			}
		}
		if trial%5 == 1 { // every other index of the first axis
			view, err = view.Slice(0, 0, view.Shape[0], 2)
			require.NoError(t, err)
			ops += ".Slice(0, 0, end, 2)"
		}
		if _, ok, _ := chainOf(view); ok {
			chained++
		}
		checkChainView(t, view, fmt.Sprintf("trial %d: %s", trial, ops))
	}
	require.Greater(t, chained, trials/4, "too few views were chained to test transposeChain")

	// A long chain (4 × 300 elements) with a last chunk of 5 rows (261 =
	// 256 + 5), whose passes take many more columns than a whole chunk's.
	shape := []int{261, 300, 4}
	data := make([]T, product(shape))
	randomFill(rng, data)
	view, err := New(data, shape...)
	require.NoError(t, err)
	view, err = view.Permute(2, 1, 0)
	require.NoError(t, err)
	p, ok, cshape := chainOf(view)
	require.True(t, ok, "the long chain is not chained")
	nj := 1
	for _, a := range p.axes[:p.n] {
		nj *= cshape[a]
	}
	require.Equal(t, 1200, nj, "the chain's elements")
	checkChainView(t, view, "New([261 300 4]).Permute(2, 1, 0)")

	// reverse4d's shape with short destination rows, of whole lines and
	// not: the fewest bytes a chain's rows may have (chainRowBytes) and
	// up to five times that.
	for _, rowBytes := range []int{64, 96, 128, 192, 256, 320} {
		rows := rowBytes / size
		if rows%4 != 0 || rows*size != rowBytes {
			continue
		}
		shape := []int{rows / 4, 4, 64, 2} // the chain [2, 64], rows [4, rows/4]
		data := make([]T, product(shape))
		randomFill(rng, data)
		view, err := New(data, shape...)
		require.NoError(t, err)
		view, err = view.Permute(3, 2, 1, 0)
		require.NoError(t, err)
		_, ok, _ := chainOf(view)
		require.True(t, ok, "New(%v).Permute(3, 2, 1, 0) is not chained", shape)
		checkChainView(t, view, fmt.Sprintf("New(%v).Permute(3, 2, 1, 0), rows of %d bytes", shape, rowBytes))
	}
}

// checkChainView copies view, and converts it to float32 and float64, and
// compares the results with the reference copy, guards and source
// included.
func checkChainView[T Element](t *testing.T, view Tensor[T], ops string) {
	n := view.Len()
	want := make([]T, n)
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	all, dst := guarded[T](n)
	before := bytes.Clone(asBytes(view.Data))
	require.NoError(t, Contiguous(dst, view), ops)
	require.True(t, bytes.Equal(asBytes(want), asBytes(dst)), "%s: values differ", ops)
	require.True(t, guardsIntact(all), "%s: wrote outside dst", ops)
	require.Equal(t, before, asBytes(view.Data), "%s: source modified", ops)

	// Conversions: to float32 (specialised for bfloat16 and uint8
	// sources) and to float64 (the generic converter for most).
	checkChainConvert[float32](t, view, want, ops)
	checkChainConvert[float64](t, view, want, ops)
}

// checkChainConvert converts view to D and compares each element with
// refConvert of the copied elements want.
func checkChainConvert[D, S Element](t *testing.T, view Tensor[S], want []S, ops string) {
	from, to := valueDTypeOf[S](), valueDTypeOf[D]()
	all, dst := guarded[D](len(want))
	require.NoError(t, ContiguousAs(dst, view), ops)
	for k := range want {
		got, exp := bitsOf(dst[k]), refConvert(from, to, bitsOf(want[k]))
		if !sameConverted(to, got, exp) {
			t.Fatalf("%v → %v, %s: element %d of %d: %v (%#x) gives %#x, want %#x", from, to, ops, k, len(want), want[k], bitsOf(want[k]), got, exp)
		}
	}
	require.True(t, guardsIntact(all), "%v → %v, %s: wrote outside dst", from, to, ops)
}

// TestFillRows checks the row tables of the blocked transposes against the
// offsets computed from each row's indices, for random shapes, strides
// (negative and zero among them) and chunk sizes, so that every split of
// the innermost runs (whole, partial, longer and shorter than the eight
// stores of a step) is covered, and, with short innermost axes and chunks
// of up to 600 rows, the groups that fillRows repeats (whole, begun in the
// chunk before, cut short by the chunk's end). A whole table must leave
// the odometer where it started.
func TestFillRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 1000 {
		r := 1 + rng.IntN(5)
		shape, strides := make([]int, r), make([]int, r)
		total := 1
		for a := range shape {
			shape[a] = 1 + rng.IntN(20)
			if trial%2 == 1 && a == r-1 {
				shape[a] = 1 + rng.IntN(groupRows) // short runs: groups of axes
			}
			strides[a] = rng.IntN(2001) - 1000
			total *= shape[a]
		}
		size := []int{1, 2, 4, 8}[rng.IntN(4)]
		start := rng.IntN(50)
		want := make([]int, total)
		for i := range want {
			rest, off := i, start
			for a := r - 1; a >= 0; a-- {
				off += rest % shape[a] * strides[a]
				rest /= shape[a]
			}
			want[i] = off * size
		}
		got := make([]int, total+1)
		got[total] = -1 // a guard after the table
		idx := make([]int, r)
		o := start
		chunk := 40
		if trial%4 >= 2 {
			chunk = 600
		}
		for k := 0; k < total; {
			n := min(total-k, 1+rng.IntN(chunk))
			fillRows(got[k:k+n], shape, strides, idx, &o, size)
			k += n
		}
		if got[total] != -1 {
			t.Fatalf("trial %d: the guard after the table was overwritten", trial)
		}
		if o != start || slices.ContainsFunc(idx, func(i int) bool { return i != 0 }) {
			t.Fatalf("trial %d: shape %v: the whole table left the odometer at %v, offset %d, not where it started (%d)", trial, shape, idx, o, start)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("trial %d: shape %v strides %v size %d start %d: row %d at %d, want %d", trial, shape, strides, size, start, i, got[i], want[i])
			}
		}
	}
}

// TestChunksRepeat checks chunksRepeat's claim for random row axes, with
// extents that are and are not powers of two and strides of either sign:
// where it holds, every rowChunk rows from a multiple of rowChunk have the
// offsets of the first chunk moved by one distance; and it holds for the
// row axes of the suite's short-row transposes (one axis a multiple of a
// chunk, and axes that multiply to a chunk).
func TestChunksRepeat(t *testing.T) {
	require.True(t, chunksRepeat([]int{4096}))
	require.True(t, chunksRepeat([]int{32, 16}))
	require.True(t, chunksRepeat([]int{3, 64, 8, 2}))
	require.False(t, chunksRepeat([]int{256}), "one chunk")
	require.False(t, chunksRepeat([]int{1000}), "a chunk ends inside the axis' run")
	require.False(t, chunksRepeat([]int{64, 24}), "24 rows do not divide a chunk")
	require.False(t, chunksRepeat([]int{512, 0}), "no rows (and no division by zero)")
	require.True(t, chunksRepeat([]int{math.MaxInt / 2 &^ 511, 256}), "two indices of the outer axis a chunk, its extent times 256 past MaxInt")
	rng := rand.New(rand.NewPCG(3, 5))
	held := 0
	for trial := range 2000 {
		r := 1 + rng.IntN(4)
		shape, strides := make([]int, r), make([]int, r)
		total := 1
		for a := range shape {
			if rng.IntN(2) == 0 {
				shape[a] = 1 << rng.IntN(10)
			} else {
				shape[a] = 1 + rng.IntN(700)
			}
			strides[a] = rng.IntN(4001) - 2000
			total = min(total*shape[a], 1<<20) // no overflow where int is 32 bits
		}
		if total > 1<<16 || !chunksRepeat(shape) {
			continue
		}
		held++
		offsets := make([]int, total)
		for i := range offsets {
			rest := i
			for a := r - 1; a >= 0; a-- {
				offsets[i] += rest % shape[a] * strides[a]
				rest /= shape[a]
			}
		}
		for k := rowChunk; k < total; k += rowChunk {
			move := offsets[k] - offsets[0]
			for i := k; i < min(k+rowChunk, total); i++ {
				if offsets[i]-offsets[i-k] != move {
					t.Fatalf("trial %d: shape %v strides %v: row %d of the chunk at %d is %d from the first chunk's, not %d", trial, shape, strides, i-k, k, offsets[i]-offsets[i-k], move)
				}
			}
		}
	}
	require.Greater(t, held, 100, "too few shapes for which chunksRepeat holds")
}
