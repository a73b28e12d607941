package reshape

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/generated"
)

// splitSetting runs f with the parallel path forced for every size.
func splitSetting(t *testing.T, workers int, f func()) {
	t.Helper()
	defer SetMaxWorkers(SetMaxWorkers(workers))
	defer SetParallelThreshold(SetParallelThreshold(1))
	f()
}

// TestSplitAllocations checks a split copy allocates nothing once the
// helpers exist, with two and three workers.
func TestSplitAllocations(t *testing.T) {
	data := make([]float32, 64*48*32)
	view, err := New(data, 64, 48, 32)
	require.NoError(t, err)
	view, err = view.Permute(1, 0, 2)
	require.NoError(t, err)
	dst := make([]float32, len(data))
	for _, workers := range []int{2, 3} {
		splitSetting(t, workers, func() {
			require.Zero(t, testing.AllocsPerRun(20, func() { _ = Contiguous(dst, view) }), "%d workers", workers)
		})
	}
}

// TestHelpersPark checks that helpers stop polling once copies stop: a
// program that no longer copies uses no CPU.
func TestHelpersPark(t *testing.T) {
	data := make([]float32, 1<<16)
	view, err := New(data, 256, 256)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	dst := make([]float32, len(data))
	splitSetting(t, 3, func() { require.NoError(t, Contiguous(dst, view)) })
	deadline := time.Now().Add(time.Second)
	for {
		crew.busy.Lock()
		parked := len(crew.helpers) >= 2
		for _, h := range crew.helpers {
			parked = parked && h.parked.Load()
		}
		crew.busy.Unlock()
		if parked {
			break
		}
		require.True(t, time.Now().Before(deadline), "helpers still polling a second after the last copy (%v spin)", helperSpin)
		time.Sleep(helperSpin)
	}
	// Parked helpers wake for the next copy.
	want := make([]float32, len(data))
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	splitSetting(t, 3, func() { require.NoError(t, Contiguous(dst, view)) })
	require.Equal(t, want, dst)
}

// TestHelperPanic checks a panic in a part reaches the caller, whether the
// caller or a helper copied it, once every part has finished, and that the
// helpers serve the next copy.
func TestHelperPanic(t *testing.T) {
	dst := make([]byte, 4096)
	src := make([]byte, 4096)
	crew.busy.Lock()
	crew.job = splitJob{op: copyOp{dt: generated.NumDTypes}, dst: unsafe.Pointer(&dst[0]), src: unsafe.Pointer(&src[0]), r: 1, p: 0, unitBytes: 1}
	crew.job.shape[0], crew.job.strides[0] = 4096, 1
	got := func() (v any) {
		defer func() { v = recover() }()
		runSplit([]int{0, 0, 0, 4096}) // the helpers' parts are empty, the caller's is bad
		return nil
	}()
	require.NotNil(t, got, "the caller's own panic was lost")
	require.Nil(t, crew.failure.Load(), "a helper with an empty part failed")
	got = func() (v any) {
		defer func() { v = recover() }()
		runSplit([]int{0, 2048, 4096, 4096}) // a helper's part of a bad dtype, the caller's empty
		return nil
	}()
	crew.busy.Unlock()
	require.NotNil(t, got, "the panic of a helper's part was lost")
	require.Nil(t, crew.failure.Load(), "the panic was not cleared")

	// The next copy runs on the same helpers.
	data := make([]float32, 1<<14)
	for i := range data {
		data[i] = float32(i)
	}
	view, err := New(data, 128, 128)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	out := make([]float32, len(data))
	splitSetting(t, 3, func() { require.NoError(t, Contiguous(out, view)) })
	want := make([]float32, len(data))
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	require.Equal(t, want, out)
}

// TestSplitRows checks the split of a transpose's source rows (rowSplit):
// views whose stride-1 source axis is short enough, with two and three
// workers, destinations on and off a line boundary, a transpose behind a
// few outer indices, a converting transpose, and a view the rule leaves to
// the column split (destination rows not whole lines), against the
// reference, with guards around the destination. It also checks which
// split ran.
func TestSplitRows(t *testing.T) {
	views := []struct {
		shape, perm []int
		rows        bool // whether two workers split its rows
	}{
		{[]int{16, 16, 32, 128}, []int{3, 2, 1, 0}, true}, // reverse4d's kind: 128 columns, 8192 rows
		{[]int{8320, 64}, []int{1, 0}, true},              // a [r, c] view transposed, r a multiple of a line
		{[]int{3, 8256, 48}, []int{0, 2, 1}, true},        // three outer indices, fewer than a split needs
		{[]int{4608, 2, 64}, []int{2, 1, 0}, true},        // row axes [2, 4608] that repeat every 512 rows (chunksRepeat); three workers start a part inside the first index of 2
		{[]int{4097, 128}, []int{1, 0}, false},            // destination rows not whole lines
	}
	same := func(v uint8) uint8 { return v }
	for _, v := range views {
		for _, workers := range []int{2, 3} {
			for _, shift := range []int{0, 3} {
				name := fmt.Sprintf("%v/%v/workers=%d/shift=%d", v.shape, v.perm, workers, shift)
				t.Run(name+"/uint8", func(t *testing.T) {
					checkSplitRows(t, v.shape, v.perm, workers, shift, v.rows, func(k int) uint8 { return uint8(k) }, same)
				})
				t.Run(name+"/float64", func(t *testing.T) {
					checkSplitRows(t, v.shape, v.perm, workers, shift, v.rows, func(k int) float64 { return float64(k) }, func(f float64) float64 { return f })
				})
				t.Run(name+"/bfloat16-float32", func(t *testing.T) {
					checkSplitRows(t, v.shape, v.perm, workers, shift, v.rows, func(k int) BFloat16 { return BFloat16FromFloat32(float32(k)) }, BFloat16.Float32)
				})
			}
		}
	}
}

// checkSplitRows copies data of this shape (element k made by mk(k%251)),
// permuted, into a D destination shift elements past a line boundary with
// guards around it, with the split forced, and compares it with the
// reference converted by conv. The split must cut the rows exactly where
// rowSplit says (a copy the column split declines runs on one goroutine),
// and with two workers rowSplit must say what wantRows says.
func checkSplitRows[D, S Element](t *testing.T, shape, perm []int, workers, shift int, wantRows bool, mk func(int) S, conv func(S) D) {
	n := 1
	for _, e := range shape {
		n *= e
	}
	data := make([]S, n)
	for i := range data {
		data[i] = mk(i % 251)
	}
	view, err := New(data, shape...)
	require.NoError(t, err)
	view, err = view.Permute(perm...)
	require.NoError(t, err)
	all, window := guardedAligned[D](n+shift, 64)
	dst := window[shift:]
	before := bytes.Clone(asBytes(all))

	crew.busy.Lock()
	gen := crew.gen
	crew.busy.Unlock()
	splitSetting(t, workers, func() { require.NoError(t, ContiguousAs(dst, view)) })
	crew.busy.Lock()
	split, rows := crew.gen != gen, crew.job.rows
	crew.busy.Unlock()

	want := make([]S, n)
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	for i, w := range want {
		if dst[i] != conv(w) {
			t.Fatalf("element %d: got %v, want %v", i, dst[i], conv(w))
		}
	}
	size := int(unsafe.Sizeof(dst[0]))
	lo := int(uintptr(unsafe.Pointer(&dst[0])) - uintptr(unsafe.Pointer(&all[0])))
	after := asBytes(all)
	for i := range after {
		if (i < lo || i >= lo+n*size) && after[i] != before[i] {
			t.Fatalf("byte %d outside the destination written", i-lo)
		}
	}

	b := 0 // the view's stride-1 axis
	for view.Strides[b] != 1 {
		b++
	}
	dj := 1
	for _, e := range view.Shape[b+1:] {
		dj *= e
	}
	expect := rowSplit(int(unsafe.Sizeof(data[0])), size, view.Shape[b], dj, workers)
	if workers == 2 {
		require.Equal(t, wantRows, expect, "rowSplit disagrees with the test's view")
	}
	if expect {
		require.True(t, split && rows, "split %v, rows %v: the rows were not split", split, rows)
	} else {
		require.False(t, split && rows, "the rows were split")
	}
}

// TestRowSplitRule checks each condition of rowSplit.
func TestRowSplitRule(t *testing.T) {
	require.True(t, rowSplit(4, 4, 16, 32768, 2), "reverse4d float32")
	require.True(t, rowSplit(1, 1, 2048, 8192, 2), "1 KiB of each source row per worker")
	require.False(t, rowSplit(1, 1, 2049, 8192, 2), "over 1 KiB of each source row per worker")
	require.True(t, rowSplit(1, 1, 3072, 12288, 3), "1 KiB of each source row per worker of three")
	require.False(t, rowSplit(1, 1, 2048, 8128, 2), "under 4 KiB of each destination row per worker")
	require.True(t, rowSplit(1, 4, 2048, 2048, 2), "4 KiB of each converted destination row per worker")
	require.False(t, rowSplit(8, 8, 16, 2047, 2), "fewer than two chunks of rows per worker")
	require.False(t, rowSplit(4, 4, 16, 32768+1, 2), "destination rows not whole lines")
	require.True(t, rowSplit(2, 4, 16, 32768+16, 2), "destination rows whole lines of the converted type")
}

// TestPacksRows checks which transposes take the buffer for their source
// rows alone (packsRows): with the AVX-512 tiles, 1- and 2-byte ones whose
// rows lie 2 KiB and a byte or 4 KiB apart (in one or two of the L1's sets)
// into 4 MiB or more, under 16 MiB; not rows 1 KiB apart (four sets), not
// smaller or larger results, not 4-byte elements, not conversions.
func TestPacksRows(t *testing.T) {
	src := make([]byte, 128)
	s := unsafe.Pointer(&src[0]) // only its address counts, on a line boundary: nothing is read
	s = unsafe.Add(s, -int(uintptr(s))&63)
	defer func(b bool) { generated.AMDTuned = b }(generated.AMDTuned)
	generated.AMDTuned = true // where it is false, nothing packs (TestAMDTuned)
	avx512 := generated.Accelerated && generated.AVX512
	packs := func(dt generated.DType, cols, rowStride int) bool {
		// The transposed [rows, cols] view: cshape [cols, rows], strides
		// [1, rowStride], its stride-1 axis first.
		rows := (4<<20)/dt.Size()/cols + 1 // 4 MiB or a little more
		cshape, cstrides := []int{cols, rows}, []int{1, rowStride}
		return packsRows(copyOp{dt: dt}, s, cshape, cstrides, 0, rows, 0, rows)
	}
	require.Equal(t, avx512, packs(generated.Uint8, 2048, 2048), "uint8 [2048, 2048]")
	require.Equal(t, avx512, packs(generated.Uint8, 2049, 2049), "uint8 [2047, 2049]: rows 2 KiB and a byte apart")
	require.Equal(t, avx512, packs(generated.BFloat16, 2048, 2048), "bfloat16 rows 4 KiB apart")
	require.False(t, packs(generated.Uint8, 1024, 1024), "uint8 rows 1 KiB apart: four sets")
	require.False(t, packs(generated.Float32, 1024, 1024), "float32")
	small := packsRows(copyOp{dt: generated.Uint8}, s, []int{1024, 1024}, []int{1, 2048}, 0, 1024, 0, 1024)
	require.False(t, small, "uint8 into 1 MiB")
	for _, size := range []int{1, 2, 4, 8} { // the rows packsRows lists fit its table
		require.LessOrEqual(t, generated.PackRows(size, 4096/size, 2048), packSample, "%d bytes", size)
	}
	require.Equal(t, map[bool]int{true: 32}[avx512], generated.PackRows(2, 2048, 1024), "bfloat16 into 4 MiB: a band of 32 rows")
	require.Zero(t, generated.PackRows(1, 1024, 1024), "uint8 into 1 MiB: no rows to list")
	large := packsRows(copyOp{dt: generated.Uint8}, s, []int{4096, 4096}, []int{1, 4096}, 0, 4096, 0, 4096)
	require.False(t, large, "uint8 into 16 MiB")
	bf := conversion{from: generated.BFloat16, to: generated.Float32, run: converterOf[float32, BFloat16](generated.BFloat16, generated.Float32)}
	conv := packsRows(copyOp{dt: generated.BFloat16, conv: bf}, s, []int{2048, 1024}, []int{1, 2048}, 0, 1024, 0, 1024)
	require.False(t, conv, "a conversion")
}

// TestStreamCrowds checks which streamed transposes go through the buffer
// (generated.StreamCrowds, copyOp.buffers): those of the sizes the build
// lists into rows that are not whole aligned lines, 4- and 8-byte elements
// only where the amd64 assembly runs tuned for CPUs other than AMD's
// (generated.AMDTuned false); rows of whole aligned lines, which the tiles
// write with non-temporal stores, only there too, for 1-, 2- and 4-byte
// elements with the AVX2 tiles and 1-byte ones with the AVX-512 tiles
// (where the source has a line of columns), whose stores are less than a
// line of each row at a time. Conversions
// (generated.ConvStreamCrowds) go through it whatever their rows where the
// amd64 assembly runs, and nowhere else, but for those between float32
// and bfloat16 or float16, and float64 to float32, into whole aligned
// lines with the AVX-512 tiles, which store whole lines themselves.
func TestStreamCrowds(t *testing.T) {
	raw := make([]byte, 256)
	line := unsafe.Add(unsafe.Pointer(&raw[0]), -int(uintptr(unsafe.Pointer(&raw[0])))&63)
	for _, size := range []int{1, 2} {
		odd := generated.StreamCrowds(size, 64, 4095, line)
		require.Equal(t, !(runtime.GOARCH == "arm64" && generated.Accelerated), odd, "%d bytes: rows 4095 elements apart (every build but arm64's NEON lists 1 and 2 bytes)", size)
		require.Equal(t, odd, generated.StreamCrowds(size, 64, 4096/size, unsafe.Add(line, 1)), "%d bytes: dst off a line", size)
		op := copyOp{dt: map[int]generated.DType{1: generated.Uint8, 2: generated.BFloat16}[size], stream: true}
		require.Equal(t, odd, op.buffers(line, line, []int{64, 4095}, []int{1, 64}, 0, 4095, 0, 4095), "%d bytes: buffers", size)
	}
	defer func(amdTuned, avx512 bool) { generated.AMDTuned, generated.AVX512 = amdTuned, avx512 }(generated.AMDTuned, generated.AVX512)
	for _, avx512 := range []bool{false, generated.AVX512} {
		for _, amdTuned := range []bool{true, false} {
			generated.AMDTuned, generated.AVX512 = amdTuned, avx512
			tuned := runtime.GOARCH == "amd64" && generated.Accelerated && !amdTuned
			for _, size := range []int{1, 2, 4, 8} {
				if size >= 4 {
					require.Equal(t, tuned, generated.StreamCrowds(size, 64, 4095, line), "%d bytes, AMDTuned %v", size, amdTuned)
				}
				aligned := tuned && (size == 1 || !avx512 && size <= 4)
				require.Equal(t, aligned, generated.StreamCrowds(size, 64, 4096/size, line), "%d bytes, AMDTuned %v, AVX512 %v: whole aligned lines", size, amdTuned, avx512)
				narrow := tuned && !avx512 && size <= 4 // the AVX-512 tiles' blocks must be a line wide
				require.Equal(t, narrow, generated.StreamCrowds(size, 32/size, 4096/size, line), "%d bytes, AMDTuned %v, AVX512 %v: whole aligned lines, half a line of columns", size, amdTuned, avx512)
			}
		}
	}
	bf := conversion{from: generated.BFloat16, to: generated.Float32, run: converterOf[float32, BFloat16](generated.BFloat16, generated.Float32)}
	narrow := conversion{from: generated.Float32, to: generated.BFloat16, run: converterOf[BFloat16, float32](generated.Float32, generated.BFloat16)}
	for _, avx512 := range []bool{false, generated.AVX512} {
		generated.AVX512 = avx512
		want := runtime.GOARCH == "amd64" && generated.Accelerated
		for _, pair := range [][2]generated.DType{
			{generated.BFloat16, generated.Float32}, {generated.Float16, generated.Float32},
			{generated.Float32, generated.BFloat16}, {generated.Float32, generated.Float16},
			{generated.Float64, generated.Float32},
		} {
			from, to := pair[0], pair[1]
			require.Equal(t, want, generated.ConvStreamCrowds(from, to, 4095, line), "%v → %v, rows 4095 elements apart, AVX512 %v", from, to, avx512)
			require.Equal(t, want, generated.ConvStreamCrowds(from, to, 4096, unsafe.Add(line, 4)), "%v → %v, dst off a line, AVX512 %v", from, to, avx512)
			require.Equal(t, want && !avx512, generated.ConvStreamCrowds(from, to, 4096, line), "%v → %v, whole aligned lines, AVX512 %v", from, to, avx512)
		}
		require.Equal(t, want, generated.ConvStreamCrowds(generated.Float32, generated.Float64, 4096, line), "float32 → float64 (no AVX-512 tiles), whole aligned lines, AVX512 %v", avx512)
		conv := copyOp{dt: generated.BFloat16, stream: true, conv: bf}
		require.Equal(t, want, conv.buffers(line, line, []int{64, 4095}, []int{1, 64}, 0, 4095, 0, 4095), "a conversion into rows 4095 elements apart, AVX512 %v", avx512)
		require.Equal(t, want && !avx512, conv.buffers(line, line, []int{64, 4096}, []int{1, 64}, 0, 4096, 0, 4096), "a conversion into whole aligned lines, AVX512 %v", avx512)
		conv = copyOp{dt: generated.Float32, stream: true, conv: narrow}
		require.Equal(t, want && !avx512, conv.buffers(line, line, []int{64, 4096}, []int{1, 64}, 0, 4096, 0, 4096), "a narrowing conversion into whole aligned lines, AVX512 %v", avx512)
		conv.stream = false
		require.False(t, conv.buffers(line, line, []int{64, 1001}, []int{1, 64}, 0, 1001, 0, 1001), "a conversion in the cache, rows crowding no set")
	}
}

// TestSplitForgetsBuffers checks that a split copy keeps no reference to
// the caller's source or result once it returns: the helpers' shared job
// lives as long as the process, and a pointer left in it would keep a
// batch of activations alive until the next split copy.
func TestSplitForgetsBuffers(t *testing.T) {
	collected := make(chan string, 2)
	splitSetting(t, 2, func() {
		data := make([]float32, 256*256)
		dst := make([]float32, len(data))
		runtime.AddCleanup(&data[0], func(s string) { collected <- s }, "source")
		runtime.AddCleanup(&dst[0], func(s string) { collected <- s }, "result")
		view, err := New(data, 256, 256)
		require.NoError(t, err)
		view, err = view.Permute(1, 0)
		require.NoError(t, err)
		gen := crew.gen
		require.NoError(t, Contiguous(dst, view))
		require.NotEqual(t, gen, crew.gen, "the copy did not split")
	})
	seen := map[string]bool{}
	for i := 0; i < 100 && len(seen) < 2; i++ {
		runtime.GC()
		select {
		case s := <-collected:
			seen[s] = true
		case <-time.After(10 * time.Millisecond):
		}
	}
	require.Equal(t, map[string]bool{"source": true, "result": true}, seen, "buffers still reachable after the split copy")
}
