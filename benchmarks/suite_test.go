package benchmarks

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/reshape"
)

// guard is the number of elements past the result that a destination carries
// to catch writes beyond it.
const guard = 16

// dtypes is every element width the suite covers, one row per dtype with
// the instantiations of the generic functions that run it: a new dtype is
// one line here.
var dtypes = []struct {
	name    string
	size    int
	test    func(t *testing.T, c Case, workers int)
	reshape func(b *testing.B, c Case) // BenchmarkReshape of a sized case
	loop    func(b *testing.B, c Case) // BenchmarkLoop of a sized case
}{
	{"uint8", 1, testCase[uint8], benchReshape[uint8], benchLoop[uint8]},
	{"bfloat16", 2, testCase[reshape.BFloat16], benchReshape[reshape.BFloat16], benchLoop[reshape.BFloat16]},
	{"float32", 4, testCase[float32], benchReshape[float32], benchLoop[float32]},
	{"float64", 8, testCase[float64], benchReshape[float64], benchLoop[float64]},
}

func TestCasesOrder(t *testing.T) {
	var names []string
	for _, c := range Cases() {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{"heads", "shortrows", "slice", "mixed5d", "mixed6d", "mixed5d-t", "mixed6d-t",
		"transpose2d", "transpose2d-odd", "transpose-4k", "reverse4d", "broadcast", "contiguous", "small", "small-permuted"}, names)
}

func TestCasesFreshSlices(t *testing.T) {
	a := Cases()
	a[0].Shape[0] = -1
	require.Equal(t, 1365, Cases()[0].Shape[0], "Cases shares its slices between calls")
}

// TestViewShape checks the views at the standard size, 64 MiB of float32.
func TestViewShape(t *testing.T) {
	want := map[string][]int{
		"heads":           {1365, 16, 12, 64},
		"shortrows":       {2048, 64, 8, 16},
		"slice":           {1365, 16, 12, 64},
		"mixed5d":         {256, 16, 8, 8, 64},
		"mixed6d":         {256, 8, 8, 4, 8, 32},
		"mixed5d-t":       {256, 64, 16, 8, 8},
		"mixed6d-t":       {256, 32, 8, 4, 8, 8},
		"transpose2d":     {4096, 4096},
		"transpose2d-odd": {4097, 4095},
		"transpose-4k":    {4096, 4096},
		"reverse4d":       {512, 64, 32, 16},
		"broadcast":       {1024, 32, 512},
		"contiguous":      {1365, 16, 768},
		"small":           {3, 3, 100},
		"small-permuted":  {3, 3, 100},
	}
	require.Len(t, want, len(Cases()))
	for _, c := range Cases() {
		require.Equal(t, want[c.Name], c.ViewShape(), "case %s", c.Name)
		require.Len(t, c.ViewShape(), c.Rank, "case %s: Rank", c.Name)
	}
}

// TestFusedViews checks what the kernels see once size-1 axes are dropped and
// axes that stay adjacent in source and result are fused: the rank, and the
// stride of the innermost axis, 1 for row copies. It checks every width at
// 1 MiB, where the batch axes are smallest (every case keeps a batch of 2 or
// more, so the rank 5 and 6 cases stay rank 5 and 6), and the strides in
// uint8, where the transposes are [1024, 1024] and [1023, 1025].
func TestFusedViews(t *testing.T) {
	want := map[string]struct {
		rank      int
		innermost int // stride of the fused innermost axis, in uint8 at 1 MiB
	}{
		"heads":           {4, 1},
		"shortrows":       {4, 1},
		"slice":           {2, 1},
		"mixed5d":         {4, 1},
		"mixed6d":         {6, 1},
		"mixed5d-t":       {5, 8192},
		"mixed6d-t":       {6, 2048},
		"transpose2d":     {2, 1024},
		"transpose2d-odd": {2, 1025},
		"transpose-4k":    {2, 256},
		"reverse4d":       {4, 65536},
		"broadcast":       {2, 1},
		"contiguous":      {1, 1},
		"small":           {1, 1},
		"small-permuted":  {3, 1},
	}
	for _, c := range Cases() {
		for _, dt := range dtypes {
			sized := c.Sized(Small.Bytes, dt.size)
			src, err := Build[uint8](sized) // the strides in elements do not depend on the width
			require.NoError(t, err)
			shape, strides := fuse(src)
			w := want[c.Name]
			msg := fmt.Sprintf("case %s at 1 MiB of %s: fused to %v strides %v", c.Name, dt.name, shape, strides)
			require.Len(t, shape, w.rank, msg)
			inner := strides[len(strides)-1]
			if dt.size == 1 {
				require.Equal(t, w.innermost, inner, msg)
			}
			require.Equal(t, w.innermost == 1, inner == 1, msg)
		}
	}
}

// fuse returns the view's shape and strides without size-1 axes and with
// every pair of adjacent axes that walks the source in step merged into one.
func fuse[T reshape.Element](v reshape.Tensor[T]) (shape, strides []int) {
	st := v.Strides
	if st == nil { // row-major
		st = make([]int, len(v.Shape))
		acc := 1
		for a := len(v.Shape) - 1; a >= 0; a-- {
			st[a] = acc
			acc *= v.Shape[a]
		}
	}
	for a, e := range v.Shape {
		if e == 1 {
			continue
		}
		n := len(shape)
		if n > 0 && strides[n-1] == st[a]*e {
			shape[n-1] *= e
			strides[n-1] = st[a]
			continue
		}
		shape, strides = append(shape, e), append(strides, st[a])
	}
	return shape, strides
}

// TestSized checks that every sized case lands within 4% of every size in
// every width from 1 MiB up, and at 256 KiB within half a batch (a batch of
// a rank-5 case is 512 KiB of float64, so it runs one batch there), without
// changing its rank; that Cases gives the standard size, and that the
// transposes keep powers of two (or avoid them).
func TestSized(t *testing.T) {
	for _, c := range Cases() {
		require.Equal(t, c, c.Sized(Medium.Bytes, 4), "case %s is not at the standard size", c.Name)
		for _, dt := range dtypes {
			for _, s := range Sizes() {
				name := fmt.Sprintf("case %s, %s, %s", c.Name, dt.name, s.Name)
				got := c.Sized(s.Bytes, dt.size)
				require.Len(t, got.ViewShape(), c.Rank, name)
				if c.Scale == Fixed {
					require.Equal(t, c, got, name)
					continue
				}
				ratio := float64(got.Bytes(dt.size)/2) / float64(s.Bytes)
				tolerance := 0.04
				if c.Scale == Leading && s.Bytes < Small.Bytes {
					one := c.Sized(1, dt.size) // a single batch
					batch := float64(one.Bytes(dt.size)/2) / float64(s.Bytes)
					tolerance = max(tolerance, batch/2)
					if batch > 1 {
						require.Equal(t, one, got, "%s: a batch is larger than the size", name)
						continue
					}
				}
				require.InDelta(t, 1, ratio, tolerance, "%s: %v", name, got.ViewShape())
				switch c.Scale {
				case Square:
					r, cols := got.Shape[0], got.Shape[1]
					require.True(t, isPow2(r) && (cols == r || cols == 2*r), "%s: %v", name, got.Shape)
				case SquareOdd:
					r, cols := got.Shape[0]+1, got.Shape[1]-1
					require.True(t, isPow2(r) && (cols == r || cols == 2*r), "%s: %v", name, got.Shape)
				}
			}
		}
	}
	c := Cases()[0]
	got := c.Sized(Small.Bytes, 4)
	got.Shape[1] = -1
	require.Equal(t, 12, c.Shape[1], "Sized shares its slices with the case")
	require.Equal(t, []int{4096, 4096}, caseNamed(t, "transpose2d").Sized(Medium.Bytes, 4).Shape)
	require.Equal(t, []int{4096, 8192}, caseNamed(t, "transpose2d").Sized(Medium.Bytes, 2).Shape)
}

func isPow2(n int) bool { return n > 0 && n&(n-1) == 0 }

func TestBytes(t *testing.T) {
	for _, c := range Cases() {
		n := int64(1)
		for _, e := range c.ViewShape() {
			n *= int64(e)
		}
		require.Equal(t, 2*n*4, c.Bytes(4), "case %s", c.Name)
		require.Equal(t, 2*n*2, c.Bytes(2), "case %s", c.Name)
	}
	// broadcast counts the output on both sides, not the 1×32×512 source
	require.Equal(t, int64(2*1024*32*512*4), caseNamed(t, "broadcast").Bytes(4))
}

// TestBuildValues checks the values Build fills a source with, past the
// first period of the pattern and in a type that wraps to 0.
func TestBuildValues(t *testing.T) {
	c := Case{Name: "ramp", Rank: 1, Shape: []int{3*65521 + 7}, ConcatDims: 1}
	src, err := Build[uint8](c)
	require.NoError(t, err)
	for i, v := range src.Data {
		want := uint8(i%65521 + 1)
		if want == 0 {
			want = 1
		}
		require.Equal(t, want, v, "index %d", i)
	}
}

// TestNaiveCopy checks the reference and the plain-loop baseline against
// results worked out by hand.
func TestNaiveCopy(t *testing.T) {
	data := []float32{0, 1, 2, 3, 4, 5}
	twelve := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	tests := []struct {
		name string
		t    reshape.Tensor[float32]
		want []float32
	}{
		{"row-major nil strides", reshape.Tensor[float32]{Data: data, Shape: []int{2, 3}}, []float32{0, 1, 2, 3, 4, 5}},
		{"transpose", reshape.Tensor[float32]{Data: data, Shape: []int{3, 2}, Strides: []int{1, 3}}, []float32{0, 3, 1, 4, 2, 5}},
		{"negative stride and offset", reshape.Tensor[float32]{Data: data, Shape: []int{2, 3}, Strides: []int{3, -1}, Offset: 2}, []float32{2, 1, 0, 5, 4, 3}},
		{"broadcast", reshape.Tensor[float32]{Data: data, Shape: []int{2, 3}, Strides: []int{0, 1}, Offset: 3}, []float32{3, 4, 5, 3, 4, 5}},
		{"offset nil strides", reshape.Tensor[float32]{Data: data, Shape: []int{2}, Offset: 4}, []float32{4, 5}},
		{"rows of a permuted 3-d view", reshape.Tensor[float32]{Data: twelve, Shape: []int{3, 2, 2}, Strides: []int{2, 6, 1}},
			[]float32{0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}},
		{"empty", reshape.Tensor[float32]{Data: data, Shape: []int{2, 0, 3}}, []float32{}},
	}
	for _, tt := range tests {
		dst := make([]float32, len(tt.want))
		NaiveCopy(dst, tt.t)
		require.Equal(t, tt.want, dst, tt.name)
		loop := make([]float32, len(tt.want)+guard)
		LoopCopy(loop, tt.t)
		require.Equal(t, tt.want, loop[:len(tt.want)], "LoopCopy: %s", tt.name)
		require.Equal(t, make([]float32, guard), loop[len(tt.want):], "LoopCopy wrote past the result: %s", tt.name)
	}
}

// TestCases runs every case at the smallest size in every width with one
// and two workers.
func TestCases(t *testing.T) {
	for _, c := range Cases() {
		for _, dt := range dtypes {
			for _, w := range []int{1, 2} {
				t.Run(fmt.Sprintf("case=%s/dtype=%s/workers=%d", c.Name, dt.name, w), func(t *testing.T) {
					dt.test(t, c.Sized(Small.Bytes, dt.size), w)
				})
			}
		}
	}
}

// testCase checks case c in element type T with reshape set to the given
// workers (SetWorkers): the view has the promised shape and non-zero
// source; stridekit's result equals NaiveCopy's element for element without
// writing past it; the copying cases write into dst and, with one worker,
// allocate nothing; "small" aliases its source.
func testCase[T reshape.Element](t *testing.T, c Case, workers int) {
	defer SetWorkers(c, workers, 1)() // split whatever the size: the tests run the parallel path
	src, err := Build[T](c)
	require.NoError(t, err)
	require.Equal(t, c.ViewShape(), src.Shape)
	require.False(t, slices.Contains(src.Data, 0), "Build left a zero in the source")
	n := c.Elements()
	require.Equal(t, n, src.Len())

	want := make([]T, n)
	NaiveCopy(want, src)
	srcCopy := append([]T(nil), src.Data...)
	loop := make([]T, n+guard)
	LoopCopy(loop, src) // the bench's plain-loop baseline gives the same elements
	requireSameElements(t, want, loop[:n])
	require.Equal(t, make([]T, guard), loop[n:], "LoopCopy wrote past the result")

	dst := make([]T, n+guard)
	m, err := Run(c, dst, src)
	require.NoError(t, err)
	require.Len(t, m.Data, n)
	require.Equal(t, n/m.Cols, m.Rows)
	require.Equal(t, lastDims(c), m.Cols)
	if c.ZeroCopy {
		require.Same(t, &src.Data[src.Offset], unsafe.SliceData(m.Data), "zero-copy case did not alias its source")
		require.True(t, src.IsContiguous())
	} else {
		require.Same(t, &dst[0], unsafe.SliceData(m.Data), "result is not in dst")
		require.Equal(t, make([]T, guard), dst[n:], "wrote past the result")
	}
	requireSameElements(t, want, m.Data)
	requireSameElements(t, srcCopy, src.Data) // the source is unchanged

	if workers == 1 {
		allocs := testing.AllocsPerRun(2, func() {
			if _, err := Run(c, dst, src); err != nil {
				panic(err)
			}
		})
		require.Zero(t, allocs, "allocations per Run")
	}
}

// lastDims returns the product of the case's last ConcatDims extents: the
// number of columns of its result.
func lastDims(c Case) int {
	shape := c.ViewShape()
	n := 1
	for _, e := range shape[len(shape)-c.ConcatDims:] {
		n *= e
	}
	return n
}

// requireSameElements fails at the first index where got differs from want,
// naming it, instead of printing two slices of millions of elements.
func requireSameElements[T reshape.Element](t *testing.T, want, got []T) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		if want[i] != got[i] {
			require.Failf(t, "elements differ", "first at index %d of %d: want %v, got %v", i, len(want), want[i], got[i])
		}
	}
}

func TestRunRefusesCopiedZeroCopyCase(t *testing.T) {
	c := caseNamed(t, "small")
	require.True(t, c.ZeroCopy)
	src, err := Build[float32](c)
	require.NoError(t, err)
	// The same case over a transposed view cannot alias: Run must say so.
	src, err = src.Permute(2, 1, 0)
	require.NoError(t, err)
	_, err = Run(c, nil, src)
	require.ErrorIs(t, err, ErrNotZeroCopy)
}

// TestBaselines checks both baselines copy every element exactly once for
// lengths around the part and piece boundaries and any worker count,
// through one crew whose helpers park and wake between copies, without
// writing past len(src).
func TestBaselines(t *testing.T) {
	var crew Crew
	defer crew.Stop()
	for _, workers := range []int{-1, 0, 1, 2, 3, 7, 2} {
		for _, n := range []int{0, 1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000, 4099, CachedPiece + 3, 3*CachedPiece + 1} {
			for name, baseline := range map[string]func(*Crew, []uint8, []uint8, int){"copy": CopyParallel[uint8], "cached": CopyCached[uint8]} {
				src := make([]uint8, n)
				fill(src)
				dst := make([]uint8, n+guard)
				baseline(&crew, dst, src, workers)
				require.Equal(t, src, dst[:n], "%s, workers %d, n %d", name, workers, n)
				require.Equal(t, make([]uint8, guard), dst[n:], "%s, workers %d, n %d: wrote past len(src)", name, workers, n)
			}
			if n%2 == 1 {
				crew.Park()
			}
		}
	}
}

// TestCrewForgetsBuffers checks that a Crew keeps no reference to the
// buffers of a split copy once it returns: its helpers outlive the copy,
// so a reference would keep the copy's source and destination alive until
// the Crew is stopped or copies again.
func TestCrewForgetsBuffers(t *testing.T) {
	collected := make(chan string, 2)
	var crew Crew
	func() {
		src := make([]uint8, 1<<16)
		dst := make([]uint8, len(src))
		runtime.AddCleanup(&src[0], func(s string) { collected <- s }, "source")
		runtime.AddCleanup(&dst[0], func(s string) { collected <- s }, "destination")
		CopyParallel(&crew, dst, src, 2)
		CopyCached(&crew, dst, src, 2)
	}()
	// Parked, as between a benchmark's turns: a helper still spinning may
	// hold a stale pointer in a frame the collector scans conservatively.
	crew.Park()
	defer crew.Stop()
	seen := map[string]bool{}
	for i := 0; i < 100 && len(seen) < 2; i++ {
		runtime.GC()
		select {
		case s := <-collected:
			seen[s] = true
		case <-time.After(10 * time.Millisecond):
		}
	}
	require.Equal(t, map[string]bool{"source": true, "destination": true}, seen, "buffers still reachable after the copies")
}

// TestCrewStop checks that Stop ends a Crew's helpers, which otherwise
// outlive it, and that the Crew copies correctly with new helpers after.
func TestCrewStop(t *testing.T) {
	before := runtime.NumGoroutine()
	var crew Crew
	src := make([]uint8, 1<<12+5)
	fill(src)
	for round := range 2 {
		dst := make([]uint8, len(src))
		CopyParallel(&crew, dst, src, 4)
		require.Equal(t, src, dst, "round %d", round)
		require.GreaterOrEqual(t, runtime.NumGoroutine(), before+3, "round %d: the helpers of four workers", round)
		crew.Stop()
		// Stop returns once each helper has run its last statement; the
		// goroutines themselves end a moment later (up to 5 s on a busy
		// machine).
		for i := 0; i < 500 && runtime.NumGoroutine() > before; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		require.LessOrEqual(t, runtime.NumGoroutine(), before, "round %d: helpers left after Stop", round)
	}
	crew.Stop() // again: nothing left to end
	var idle Crew
	idle.Stop() // never ready: no helpers
}

// TestCopySource checks the baseline reads the view's own buffer when it is
// large enough, and a filled one of its own otherwise (broadcast).
func TestCopySource(t *testing.T) {
	for _, c := range Cases() {
		c = c.Sized(Small.Bytes, 4)
		src, err := Build[float32](c)
		require.NoError(t, err)
		from := CopySource(src, c.Elements())
		require.Len(t, from, c.Elements(), "case %s", c.Name)
		require.False(t, slices.Contains(from, 0), "case %s", c.Name)
		if c.Expand == nil {
			require.Same(t, &src.Data[0], &from[0], "case %s", c.Name)
		}
	}
}

// TestSetWorkers checks the settings are changed as documented and restored.
func TestSetWorkers(t *testing.T) {
	sized, fixed := Cases()[0], caseNamed(t, "small")
	prevW, prevT := reshape.SetMaxWorkers(3), reshape.SetParallelThreshold(12345)
	defer func() {
		reshape.SetMaxWorkers(prevW)
		reshape.SetParallelThreshold(prevT)
	}()
	for _, tc := range []struct {
		c         Case
		n, set    int
		threshold int
	}{
		{sized, 1, 1, 12345},
		{sized, 2, 1, 1},
		{sized, 2, 0, 12345},
		{fixed, 2, 1, 12345},
	} {
		restore := SetWorkers(tc.c, tc.n, tc.set)
		require.Equal(t, tc.n, reshape.SetMaxWorkers(tc.n), "case %s, %d workers", tc.c.Name, tc.n)
		require.Equal(t, tc.threshold, reshape.SetParallelThreshold(tc.threshold), "case %s, %d workers", tc.c.Name, tc.n)
		restore()
		require.Equal(t, 3, reshape.SetMaxWorkers(3), "case %s, %d workers: not restored", tc.c.Name, tc.n)
		require.Equal(t, 12345, reshape.SetParallelThreshold(12345), "case %s, %d workers: not restored", tc.c.Name, tc.n)
	}
}

// caseNamed returns the standard case of that name.
func caseNamed(t *testing.T, name string) Case {
	t.Helper()
	for _, c := range Cases() {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "no such case", "%s", name)
	return Case{}
}
