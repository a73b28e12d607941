package reshape

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// logit is a user's own element type: it must work like its underlying type.
type logit float32

// TestAPI drives every public function on random views of every dtype, built
// with the public view methods (New, Permute, Slice with positive and
// negative steps, Expand) from rank 1 to 8, and compares each result with
// referenceCopy: values bit for bit, Rows and Cols, guard elements around
// every destination, the source unchanged, and aliasing exactly when the view
// is contiguous.
func TestAPI(t *testing.T) {
	t.Run("float32", testAPI[float32])
	t.Run("float64", testAPI[float64])
	t.Run("float16", testAPI[f16])
	t.Run("bfloat16", testAPI[BFloat16])
	t.Run("int8", testAPI[int8])
	t.Run("uint8", testAPI[uint8])
	t.Run("int16", testAPI[int16])
	t.Run("uint16", testAPI[uint16])
	t.Run("int32", testAPI[int32])
	t.Run("uint32", testAPI[uint32])
	t.Run("int64", testAPI[int64])
	t.Run("uint64", testAPI[uint64])
	t.Run("logit", testAPI[logit])
}

func testAPI[T Element](t *testing.T) {
	var zero T
	rng := rand.New(rand.NewPCG(uint64(unsafe.Sizeof(zero)), 7))
	trials := 400
	if testing.Short() {
		trials = 100
	}
	for trial := range trials {
		view, ops := randomView[T](t, rng, trial)
		checkView(t, rng, view, fmt.Sprintf("trial %d: %s", trial, ops))
	}
}

// randomView builds a random view and returns it with the operations that
// made it, for failure messages. Base extents are 0..9 (a few larger), the
// base rank 1..8; then up to three of Permute, Slice and Expand.
func randomView[T Element](t *testing.T, rng *rand.Rand, trial int) (Tensor[T], string) {
	rank := 1 + rng.IntN(8)
	shape := make([]int, rank)
	for a := range shape {
		shape[a] = 1 + rng.IntN(9)
		if trial%10 == 9 && rng.IntN(rank) == 0 {
			shape[a] = 0
		}
	}
	if trial%10 == 4 {
		shape[rng.IntN(rank)] = 64 + rng.IntN(200)
	}
	for product(shape) > 40_000 {
		a := rng.IntN(rank)
		shape[a] = (shape[a] + 1) / 2
	}
	data := make([]T, product(shape))
	randomFill(rng, data)
	view, err := New(data, shape...)
	require.NoError(t, err)
	ops := fmt.Sprintf("New(%v)", shape)

	for range rng.IntN(4) {
		r := view.Rank()
		switch rng.IntN(3) {
		case 0:
			perm := rng.Perm(r)
			view, err = view.Permute(perm...)
			ops += fmt.Sprintf(".Permute(%v)", perm)
		case 1:
			axis := rng.IntN(r)
			e := view.Shape[axis]
			step := 1 + rng.IntN(3)
			var start, stop int
			if rng.IntN(2) == 0 {
				start, stop = rng.IntN(e+1), rng.IntN(e+1)
				if start > stop {
					start, stop = stop, start
				}
			} else {
				step = -step
				start, stop = rng.IntN(e+1)-1, rng.IntN(e+1)-1
				if start < stop {
					start, stop = stop, start
				}
			}
			view, err = view.Slice(axis, start, stop, step)
			ops += fmt.Sprintf(".Slice(%d, %d, %d, %d)", axis, start, stop, step)
		case 2:
			lead := rng.IntN(2)
			if r+lead > 8 {
				lead = 0
			}
			shape := make([]int, lead+r)
			for a := range shape {
				switch {
				case a < lead:
					shape[a] = 1 + rng.IntN(4)
				case view.Shape[a-lead] == 1:
					shape[a] = 1 + rng.IntN(5)
				default:
					shape[a] = -1
				}
			}
			if product(absAll(shape))*product(absAll(view.Shape)) > 1<<22 {
				continue
			}
			view, err = view.Expand(shape...)
			ops += fmt.Sprintf(".Expand(%v)", shape)
		}
		require.NoError(t, err, ops)
	}
	return view, ops
}

func absAll(s []int) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = max(v, 1)
	}
	return out
}

// checkView runs every public function on view and compares with the
// reference.
func checkView[T Element](t *testing.T, rng *rand.Rand, view Tensor[T], name string) {
	t.Helper()
	require.NoError(t, view.Validate(), name)
	n := view.Len()
	want := make([]T, n)
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	before := bytes.Clone(asBytes(view.Data))
	r := view.Rank()
	k := 1 + rng.IntN(r)
	rows, cols := product(view.Shape[:r-k]), product(view.Shape[r-k:])
	gotRows, gotCols, err := MatrixShape(view.Shape, k)
	require.NoError(t, err, name)
	require.Equal(t, [2]int{rows, cols}, [2]int{gotRows, gotCols}, "%s: MatrixShape(%d)", name, k)

	all, dst := guarded[T](n)
	require.NoError(t, Contiguous(dst, view), name)
	require.Equal(t, asBytes(want), asBytes(dst), "%s: Contiguous", name)
	require.True(t, guardsIntact(all), "%s: Contiguous wrote outside dst", name)

	all, dst = guarded[T](n)
	m, err := ConcatLastDimensionsInto(dst, view, k)
	require.NoError(t, err, name)
	require.Equal(t, [2]int{rows, cols}, [2]int{m.Rows, m.Cols}, "%s: ConcatLastDimensionsInto(%d) shape", name, k)
	require.Equal(t, asBytes(want), asBytes(m.Data), "%s: ConcatLastDimensionsInto(%d)", name, k)
	require.True(t, guardsIntact(all), "%s: ConcatLastDimensionsInto wrote outside dst", name)
	if n > 0 {
		require.Same(t, &dst[0], &m.Data[0], "%s: Into result must be dst", name)
	}

	m, err = ConcatLastDimensions(view, k)
	require.NoError(t, err, name)
	require.Equal(t, [2]int{rows, cols}, [2]int{m.Rows, m.Cols}, "%s: ConcatLastDimensions(%d) shape", name, k)
	require.Equal(t, asBytes(want), asBytes(m.Data), "%s: ConcatLastDimensions(%d)", name, k)
	require.Len(t, m.Data, n, name)
	if n > 0 {
		aliased := &m.Data[0] == &view.Data[view.Offset]
		require.Equal(t, view.IsContiguous(), aliased, "%s: aliases the source exactly when contiguous", name)
	}

	m, err = ToLastDimension(view)
	require.NoError(t, err, name)
	require.Equal(t, [2]int{product(view.Shape[:r-1]), view.Shape[r-1]}, [2]int{m.Rows, m.Cols}, "%s: ToLastDimension shape", name)
	require.Equal(t, asBytes(want), asBytes(m.Data), "%s: ToLastDimension", name)

	require.Equal(t, before, asBytes(view.Data), "%s: source modified", name)
}

// TestHighRank runs views of rank above generated.MaxRank, none of whose
// axes fuse, through the dispatcher's outer loop: rank 9, and rank 23 (more
// leading axes than canonicalisation keeps on the stack).
func TestHighRank(t *testing.T) {
	for _, rank := range []int{7, 9, 12, 23} {
		if rank == 23 && testing.Short() {
			continue
		}
		t.Run(fmt.Sprintf("rank=%d", rank), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(rank), 1))
			shape := make([]int, rank)
			for a := range shape {
				shape[a] = 2
			}
			data := make([]uint8, product(shape))
			randomFill(rng, data)
			base, err := New(data, shape...)
			require.NoError(t, err)
			reversed := make([]int, rank)
			for a := range reversed {
				reversed[a] = rank - 1 - a
			}
			shuffled := rng.Perm(rank)
			for _, perm := range [][]int{reversed, shuffled} {
				view, err := base.Permute(perm...)
				require.NoError(t, err)
				checkView(t, rng, view, fmt.Sprintf("rank %d permuted %v", rank, perm))
			}
			// Innermost axis kept (rows) and broadcast innermost.
			view, err := base.Slice(0, 1, -1, -1)
			require.NoError(t, err)
			checkView(t, rng, view, fmt.Sprintf("rank %d reversed axis 0", rank))
			view, err = base.Slice(rank-1, 0, 1, 1)
			require.NoError(t, err)
			expand := make([]int, rank)
			for a := range expand {
				expand[a] = -1
			}
			expand[rank-1] = 3
			view, err = view.Expand(expand...)
			require.NoError(t, err)
			checkView(t, rng, view, fmt.Sprintf("rank %d broadcast innermost", rank))
		})
	}
}

// TestCanonicalise pins the canonical forms the dispatcher relies on.
func TestCanonicalise(t *testing.T) {
	cases := []struct {
		name                  string
		shape, strides        []int
		wantShape, wantStride []int
	}{
		{"row-major nil strides", []int{3, 4, 5}, nil, []int{60}, []int{1}},
		{"row-major explicit", []int{3, 4, 5}, []int{20, 5, 1}, []int{60}, []int{1}},
		{"size-1 axes dropped", []int{1, 3, 1, 4}, []int{99, 4, -7, 1}, []int{12}, []int{1}},
		{"heads permute (0,2,1,3)", []int{32, 256, 12, 64}, []int{196608, 64, 16384, 1}, []int{32, 256, 12, 64}, []int{196608, 64, 16384, 1}},
		{"mixed (0,3,1,2,4) fuses 1,2", []int{8, 16, 16, 8, 64}, []int{131072, 64, 8192, 1024, 1}, []int{8, 16, 128, 64}, []int{131072, 64, 1024, 1}},
		{"transpose", []int{5, 7}, []int{1, 5}, []int{5, 7}, []int{1, 5}},
		{"broadcast axes fuse", []int{4, 3, 6}, []int{0, 0, 1}, []int{12, 6}, []int{0, 1}},
		{"slice keeps rows", []int{4, 6, 3}, []int{36, 6, 1}, []int{24, 3}, []int{6, 1}},
		{"single element", []int{1, 1}, []int{5, 9}, []int{1}, []int{1}},
		{"reversed vector", []int{9}, []int{-1}, []int{9}, []int{-1}},
	}
	for _, c := range cases {
		var buf canonBuf
		gotShape, gotStrides := canonicalise(&buf, c.shape, c.strides)
		require.Equal(t, c.wantShape, gotShape, c.name)
		require.Equal(t, c.wantStride, gotStrides, c.name)
	}
}

// TestSliceExtents compares Slice with the indices Python's range would
// give, for every start, stop and small step of a short axis, and checks
// steps near the limits of int give one element, not an overflowed extent.
func TestSliceExtents(t *testing.T) {
	const e = 7
	data := make([]int64, e)
	for i := range data {
		data[i] = int64(i)
	}
	base, err := New(data, e)
	require.NoError(t, err)
	for step := -9; step <= 9; step++ {
		if step == 0 {
			continue
		}
		lo, hi := 0, e // start and stop range for a positive step
		if step < 0 {
			lo, hi = -1, e-1
		}
		for start := lo; start <= hi; start++ {
			for stop := lo; stop <= hi; stop++ {
				var want []int64
				for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
					want = append(want, int64(i))
				}
				view, err := base.Slice(0, start, stop, step)
				require.NoError(t, err, "%d:%d:%d", start, stop, step)
				m, err := ToLastDimension(view)
				require.NoError(t, err)
				require.Equal(t, len(want), m.Cols, "%d:%d:%d", start, stop, step)
				if len(want) > 0 {
					require.Equal(t, want, m.Data, "%d:%d:%d", start, stop, step)
				}
			}
		}
	}
	for _, c := range []struct{ start, stop, step int }{
		{0, 5, math.MaxInt - 3}, {0, 5, math.MaxInt}, {4, -1, -math.MaxInt}, {4, -1, math.MinInt}, {6, 0, math.MinInt},
	} {
		view, err := base.Slice(0, c.start, c.stop, c.step)
		require.NoError(t, err, "%+v", c)
		require.Equal(t, []int{1}, view.Shape, "%+v", c)
		m, err := ToLastDimension(view)
		require.NoError(t, err)
		require.Equal(t, []int64{int64(c.start)}, m.Data, "%+v", c)
	}
	strided, err := New(make([]int64, 20), 10, 2)
	require.NoError(t, err)
	one, err := strided.Slice(0, 3, 5, math.MaxInt/2+1)
	require.NoError(t, err, "a one-element slice has no stride to overflow")
	require.Equal(t, []int{1, 2}, one.Shape)
	require.Equal(t, 6, one.Offset)
}

// TestZeroSize checks views with a zero extent give empty matrices of the
// right shape and no error, on every path.
func TestZeroSize(t *testing.T) {
	view, err := New([]float32{}, 3, 0, 5)
	require.NoError(t, err)
	m, err := ToLastDimension(view)
	require.NoError(t, err)
	require.Equal(t, Matrix[float32]{Data: []float32{}, Rows: 0, Cols: 5}, m)
	m, err = ConcatLastDimensions(view, 2)
	require.NoError(t, err)
	require.Equal(t, 3, m.Rows)
	require.Equal(t, 0, m.Cols)
	require.Empty(t, m.Data)
	m, err = ConcatLastDimensionsInto(nil, view, 3)
	require.NoError(t, err)
	require.Equal(t, [2]int{1, 0}, [2]int{m.Rows, m.Cols})
	require.NoError(t, Contiguous(nil, view))

	// A slice that empties an axis of a non-empty tensor.
	full, err := New(make([]int16, 24), 2, 3, 4)
	require.NoError(t, err)
	empty, err := full.Slice(1, 2, 2, 1)
	require.NoError(t, err)
	require.Equal(t, []int{2, 0, 4}, empty.Shape)
	m16, err := ToLastDimension(empty)
	require.NoError(t, err)
	require.Equal(t, [2]int{0, 4}, [2]int{m16.Rows, m16.Cols})
}

// TestAllocations pins the allocation contract: the Into forms and
// Contiguous never allocate, and the zero-copy path neither.
func TestAllocations(t *testing.T) {
	data := make([]float32, 2*3*4*5)
	base, err := New(data, 2, 3, 4, 5)
	require.NoError(t, err)
	permuted, err := base.Permute(0, 2, 1, 3)
	require.NoError(t, err)
	transposed, err := base.Permute(3, 2, 1, 0)
	require.NoError(t, err)
	big := make([]float32, 64*64*8)
	tiled, err := New(big, 64, 64, 8) // large enough for the blocked transposes
	require.NoError(t, err)
	tiled, err = tiled.Permute(2, 1, 0)
	require.NoError(t, err)
	// [16, 1024] transposed: destination rows of 1024 float32, 4 KiB apart,
	// which amd64 writes through a buffer on the copy's stack.
	crowdedData := make([]float32, 16*1024)
	crowded, err := New(crowdedData, 1024, 16)
	require.NoError(t, err)
	crowded, err = crowded.Permute(1, 0)
	require.NoError(t, err)
	dst := make([]float32, len(data))
	bigDst := make([]float32, len(big))
	crowdedDst := make([]float32, len(crowdedData))
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"ToLastDimensionInto", func() { _, _ = ToLastDimensionInto(dst, permuted) }},
		{"ConcatLastDimensionsInto", func() { _, _ = ConcatLastDimensionsInto(dst, transposed, 2) }},
		{"Contiguous", func() { _ = Contiguous(dst, transposed) }},
		{"Contiguous blocked transpose", func() { _ = Contiguous(bigDst, tiled) }},
		{"Contiguous crowded transpose", func() { _ = Contiguous(crowdedDst, crowded) }},
		{"ToLastDimension zero-copy", func() { _, _ = ToLastDimension(base) }},
		{"ConcatLastDimensions zero-copy", func() { _, _ = ConcatLastDimensions(base, 3) }},
	} {
		require.Zero(t, testing.AllocsPerRun(50, c.f), c.name)
	}
	require.Equal(t, 1.0, testing.AllocsPerRun(50, func() { _, _ = ToLastDimension(permuted) }), "a copying call allocates its result only")

	// Many axes: size-1 axes that canonicalisation drops, and 20 axes that
	// stay (above MaxRank, through the dispatcher's outer loop).
	ones := []int{1, 2, 1, 1, 3, 1, 1, 1, 4, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1}
	wide, err := New(data, ones...)
	require.NoError(t, err)
	perm := make([]int, len(ones))
	for a := range perm {
		perm[a] = len(ones) - 1 - a
	}
	wide, err = wide.Permute(perm...)
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(50, func() { _ = Contiguous(dst, wide) }), "rank 21 with size-1 axes")
	twos := make([]int, 20)
	for a := range twos {
		twos[a] = 2
	}
	deep, err := New(make([]float32, 1<<20), twos...)
	require.NoError(t, err)
	deep, err = deep.Permute(perm[1:]...)
	require.NoError(t, err)
	deepDst := make([]float32, 1<<20)
	require.Zero(t, testing.AllocsPerRun(5, func() { _ = Contiguous(deepDst, deep) }), "rank 20")
}

// TestBFloat16 checks the conversions of BFloat16.
func TestBFloat16(t *testing.T) {
	for _, f := range []float32{0, 1, -2.5, 3.140625, 65280, -1e-3} {
		b := BFloat16FromFloat32(f)
		require.InDelta(t, f, b.Float32(), float64(abs32(f))/128+1e-45, "%v", f)
	}
	require.Equal(t, float32(1), BFloat16FromFloat32(1+1.0/256).Float32(), "ties round to even (down)")
	require.Equal(t, float32(1+2.0/128), BFloat16FromFloat32(1+3.0/256).Float32(), "ties round to even (up)")
	nan := BFloat16FromFloat32(float32NaN())
	require.NotEqual(t, nan.Float32(), nan.Float32(), "NaN stays NaN")
}

func abs32(f float32) float32 {
	if f < 0 {
		return -f
	}
	return f
}

func float32NaN() float32 {
	var zero float32
	return zero / zero
}

// TestTransposeViews drives Contiguous on permuted and sliced views large
// enough for the blocked transposes (extents up to 80, ranks 2..8, negative
// steps included), and on row copies, of every element width, with one
// worker and with the parallel path forced by a threshold of one byte and 2
// or 3 workers, and compares each with referenceCopy; with one and two
// workers also with the stores of results larger than the cache forced by a
// streaming threshold of one byte (prefetching and non-temporal tiles, rows
// and runs).
func TestTransposeViews(t *testing.T) {
	defer SetMaxWorkers(SetMaxWorkers(1))
	defer SetParallelThreshold(SetParallelThreshold(0))
	defer SetStreamingThreshold(SetStreamingThreshold(0))
	forEachMode(t, func(t *testing.T) {
		for _, run := range []struct {
			workers int
			stream  bool
		}{{1, false}, {2, false}, {3, false}, {1, true}, {2, true}} {
			SetMaxWorkers(run.workers)
			SetParallelThreshold(1)
			SetStreamingThreshold(0)
			name := fmt.Sprintf("workers=%d", run.workers)
			if run.stream {
				SetStreamingThreshold(1)
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				t.Run("uint8", testTransposeViews[uint8])
				t.Run("bfloat16", testTransposeViews[BFloat16])
				t.Run("float32", testTransposeViews[float32])
				t.Run("float64", testTransposeViews[float64])
			})
		}
	})
}

func testTransposeViews[T Element](t *testing.T) {
	var zero T
	rng := rand.New(rand.NewPCG(uint64(unsafe.Sizeof(zero)), 11))
	trials := 60
	if testing.Short() {
		trials = 20
	}
	for trial := range trials {
		rank := 2 + rng.IntN(7) // up to 8, above generated.MaxRank
		shape := make([]int, rank)
		for a := range shape {
			shape[a] = 1 + rng.IntN(80)
		}
		rows := trial%4 == 3 // keep the innermost axis: row copies, through the parallel path too
		if rows {
			shape[rank-1] = 32 * (1 + rng.IntN(4))
		}
		for product(shape) > 60_000 {
			a := rng.IntN(rank - 1)
			shape[a] = (shape[a] + 1) / 2
		}
		data := make([]T, product(shape))
		randomFill(rng, data)
		view, err := New(data, shape...)
		require.NoError(t, err)
		perm := rng.Perm(rank)
		if !rows && perm[rank-1] == rank-1 { // move the innermost axis: a transpose
			perm[rank-1], perm[0] = perm[0], perm[rank-1]
		}
		if rows {
			perm = append(rng.Perm(rank-1), rank-1)
		}
		view, err = view.Permute(perm...)
		require.NoError(t, err)
		ops := fmt.Sprintf("New(%v).Permute(%v)", shape, perm)
		if trial%3 == 0 { // a reversed axis other than the stride-1 one: negative strides
			axis := rng.IntN(rank - 1)
			if view.Strides[axis] != 1 {
				view, err = view.Slice(axis, view.Shape[axis]-1, -1, -1)
				require.NoError(t, err)
				ops += fmt.Sprintf(".Slice(%d, -1)", axis)
			}
		}
		n := view.Len()
		want := make([]T, n)
		referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
		all, dst := guarded[T](n)
		require.NoError(t, Contiguous(dst, view), ops)
		require.True(t, bytes.Equal(asBytes(want), asBytes(dst)), "trial %d: %s: values differ", trial, ops)
		require.True(t, guardsIntact(all), "trial %d: %s: wrote outside dst", trial, ops)
	}
}
