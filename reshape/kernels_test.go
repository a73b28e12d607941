package reshape

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"

	"github.com/stridekit/stridekit/generated"
)

// TestRegistryCoversPromise asserts the registry has a kernel for every dtype,
// every kind and every rank from 1 (2..6 are promised; 1 is used for strided
// and broadcast vectors) to generated.MaxRank, and that MaxRank is at least 6.
func TestRegistryCoversPromise(t *testing.T) {
	require.GreaterOrEqual(t, generated.MaxRank, 6, "ranks 2..6 must be generated")
	for dt := range generated.DType(generated.NumDTypes) {
		assert.NotZero(t, dt.Size(), "dtype %v has no size", dt)
		for rank := 1; rank <= generated.MaxRank; rank++ {
			for kind := range generated.Kind(generated.NumKinds) {
				assert.NotNil(t, generated.Registry[dt][rank][kind], "no kernel for dtype=%v rank=%d kind=%v", dt, rank, kind)
			}
		}
	}
}

// TestDTypeOf checks every Element type of the library reaches its own row of
// the registry, and a user-defined type the unsigned row of its size.
func TestDTypeOf(t *testing.T) {
	type logit float32
	type token uint16
	cases := []struct {
		got  generated.DType
		want generated.DType
	}{
		{dtypeOf[float32](), generated.Float32}, {dtypeOf[float64](), generated.Float64},
		{dtypeOf[f16](), generated.Float16}, {dtypeOf[BFloat16](), generated.BFloat16},
		{dtypeOf[int8](), generated.Int8}, {dtypeOf[uint8](), generated.Uint8},
		{dtypeOf[int16](), generated.Int16}, {dtypeOf[uint16](), generated.Uint16},
		{dtypeOf[int32](), generated.Int32}, {dtypeOf[uint32](), generated.Uint32},
		{dtypeOf[int64](), generated.Int64}, {dtypeOf[uint64](), generated.Uint64},
		{dtypeOf[logit](), generated.Uint32}, {dtypeOf[token](), generated.Uint16},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.got)
	}
}

// TestKernels runs every kernel of the registry, for every dtype, rank and
// kind, on random views against referenceCopy, with guard elements around
// the destination and the source checked unchanged.
func TestKernels(t *testing.T) {
	forEachMode(t, testKernels)
}

// TestAVX512Chosen asserts that the AVX-512 tiles run wherever the CPU
// has what they need and the assembly runs at all, so that a wrong CPU
// check cannot leave them silently unused (and untested by forEachMode).
func TestAVX512Chosen(t *testing.T) {
	x := cpu.X86
	want := generated.Accelerated && runtime.GOARCH == "amd64" &&
		x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512VBMI && x.HasBMI2
	require.Equal(t, want, generated.AVX512, "AVX-512 F %v BW %v VL %v VBMI %v, BMI2 %v", x.HasAVX512F, x.HasAVX512BW, x.HasAVX512VL, x.HasAVX512VBMI, x.HasBMI2)
}

// forEachMode runs test once per kernel implementation this machine has:
// with the AVX-512 tiles (where generated.AVX512 is true) and with the AVX2
// assembly (where generated.Accelerated is true), each twice, tuned as for
// AMD's CPUs and as for others (generated.AMDTuned: the AVX2 one as on an
// Intel CPU without AVX-512), and with the Go fallback, as the purego build
// and other architectures run it.
func forEachMode(t *testing.T, test func(t *testing.T)) {
	type mode struct{ accel, avx512, amdTuned bool }
	modes := []mode{{false, false, true}}
	if generated.Accelerated {
		modes = append(modes, mode{true, false, true}, mode{true, false, false})
		if generated.AVX512 {
			modes = append(modes, mode{true, true, generated.AMDTuned}, mode{true, true, !generated.AMDTuned})
		}
	}
	for _, m := range modes {
		name := "accelerated=false"
		if m.accel {
			name = fmt.Sprintf("accelerated=%s/amdtuned=%v", map[bool]string{false: "true", true: "avx512"}[m.avx512], m.amdTuned)
		}
		t.Run(name, func(t *testing.T) {
			defer func(accel, avx512, amdTuned bool) {
				generated.Accelerated, generated.AVX512, generated.AMDTuned = accel, avx512, amdTuned
			}(generated.Accelerated, generated.AVX512, generated.AMDTuned)
			generated.Accelerated, generated.AVX512, generated.AMDTuned = m.accel, m.avx512, m.amdTuned
			test(t)
		})
	}
}

func testKernels(t *testing.T) {
	for dt := range generated.DType(generated.NumDTypes) {
		for rank := 1; rank <= generated.MaxRank; rank++ {
			for kind := range generated.Kind(generated.NumKinds) {
				name := fmt.Sprintf("dtype=%v/rank=%d/kind=%v", dt, rank, kind)
				t.Run(name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(dt), uint64(rank*16)+uint64(kind)))
					trials := 60
					if testing.Short() {
						trials = 15
					}
					for trial := range trials {
						switch dt.Size() {
						case 1:
							checkKernel[uint8](t, rng, dt, rank, kind, trial)
						case 2:
							checkKernel[uint16](t, rng, dt, rank, kind, trial)
						case 4:
							checkKernel[uint32](t, rng, dt, rank, kind, trial)
						case 8:
							checkKernel[uint64](t, rng, dt, rank, kind, trial)
						default:
							t.Fatalf("dtype %v: no carrier of size %d", dt, dt.Size())
						}
					}
				})
			}
		}
	}
}

// kernelCase draws a random view for a kernel of one rank and kind: extents
// 0..9 (one trial in eight has a large innermost or outer extent), outer
// strides in -12..12, the innermost stride fixed by the kind (1 for Rows, 0
// for Broadcast, anything else for Gather, negative included).
func kernelCase(rng *rand.Rand, rank int, kind generated.Kind, trial int) (shape, strides []int) {
	shape, strides = make([]int, rank), make([]int, rank)
	for a := range shape {
		shape[a] = rng.IntN(10)
		if trial%4 != 3 && shape[a] == 0 { // keep most trials non-empty
			shape[a] = 1 + rng.IntN(9)
		}
		strides[a] = rng.IntN(25) - 12
	}
	if trial%8 == 5 {
		shape[rank-1] = 100 + rng.IntN(300)
	}
	if trial%8 == 7 { // rows of 1..40 and of about 2 KiB, around copyRows's size classes
		shape[rank-1] = 1 + rng.IntN(40)
		if rng.IntN(2) == 0 {
			shape[rank-1] = 2048/8 - 2 + rng.IntN(2048/4)
		}
	}
	if trial%8 == 6 && rank > 1 {
		shape[0] = 50 + rng.IntN(100)
	}
	switch kind {
	case generated.Rows:
		strides[rank-1] = 1
	case generated.Broadcast:
		strides[rank-1] = 0
	default:
		for strides[rank-1] == 0 || strides[rank-1] == 1 {
			strides[rank-1] = rng.IntN(17) - 8
		}
	}
	// Keep the elements few enough for the reference to be quick.
	for n := product(shape); n > 200_000; n = product(shape) {
		for a := range shape {
			shape[a] = (shape[a] + 1) / 2
		}
	}
	return shape, strides
}

// product returns the number of elements of shape, math.MaxInt if it
// overflows int.
func product(shape []int) int {
	n := 1
	for _, e := range shape {
		if e != 0 && n > math.MaxInt/e { // a test's random shape may pass int on 32-bit
			return math.MaxInt
		}
		n *= e
	}
	return n
}

// checkKernel runs one random case of one kernel on elements carried as C.
func checkKernel[C uint8 | uint16 | uint32 | uint64](t *testing.T, rng *rand.Rand, dt generated.DType, rank int, kind generated.Kind, trial int) {
	shape, strides := kernelCase(rng, rank, kind, trial)
	lo, hi := span(shape, strides)
	pad := rng.IntN(5)
	src := make([]C, hi-lo+1+2*pad)
	randomFill(rng, src)
	offset := pad - lo
	before := bytes.Clone(asBytes(src))

	n := product(shape)
	all, dst := guarded[C](n)
	var sh, st [generated.MaxRank]int
	copy(sh[:], shape)
	copy(st[:], strides)
	generated.Registry[dt][rank][kind](unsafe.Pointer(&all[guard]), unsafe.Pointer(&src[offset]), sh, st, trial%2 == 1)

	want := make([]C, n)
	referenceCopy(want, src, shape, strides, offset)
	name := fmt.Sprintf("trial %d: shape %v strides %v offset %d", trial, shape, strides, offset)
	require.Equal(t, want, dst, name)
	require.True(t, guardsIntact(all), "%s: write outside the destination", name)
	require.Equal(t, before, asBytes(src), "%s: source modified", name)
}

// TestTransposes runs the blocked transpose of every dtype, with the
// assembly tiles and with the Go fallback, against the plain loop: extents
// from 0 to a few blocks (whole tiles, partial tiles, edges only), source
// rows at strides positive and negative, wider and narrower than a row, or
// in random order, and destination rows with gaps between them that must
// stay untouched.
func TestTransposes(t *testing.T) { testTransposes(t, false) }

// TestTransposesBuffered is TestTransposes with destinations whose rows
// crowd the L1 cache's sets, which generated.TransposeRows writes through
// the buffer it is given where the build says so (amd64: 1-, 2- and
// 4-byte elements; 2-byte ones in the builds without assembly): rows 4 KiB
// or 2 KiB apart, or within two elements of it, up to three blocks of them,
// not streamed.
func TestTransposesBuffered(t *testing.T) { testTransposes(t, true) }

func testTransposes(t *testing.T, crowd bool) {
	forEachMode(t, func(t *testing.T) {
		for dt := range generated.DType(generated.NumDTypes) {
			t.Run(fmt.Sprintf("dtype=%v", dt), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(dt), 99))
				trials := 150
				if testing.Short() {
					trials = 40
				}
				for trial := range trials {
					switch dt.Size() {
					case 1:
						checkTranspose[uint8](t, rng, dt, trial, crowd)
					case 2:
						checkTranspose[uint16](t, rng, dt, trial, crowd)
					case 4:
						checkTranspose[uint32](t, rng, dt, trial, crowd)
					case 8:
						checkTranspose[uint64](t, rng, dt, trial, crowd)
					}
				}
			})
		}
	})
}

// checkTranspose runs one random case of the transpose of dtype dt; with
// crowd, destination rows 4, 2 or 1 KiB apart or within two elements of
// it (and up to three blocks of source rows), not streamed.
func checkTranspose[C uint8 | uint16 | uint32 | uint64](t *testing.T, rng *rand.Rand, dt generated.DType, trial int, crowd bool) {
	tr := generated.Transposes[dt]
	extent := func(tile int) int {
		switch trial % 4 {
		case 0:
			return rng.IntN(3 * tile) // under a few tiles, zero included
		case 1:
			return tile * (1 + rng.IntN(4)) // whole tiles only
		default:
			return rng.IntN(300) // several blocks and their edges
		}
	}
	ni, nj := extent(tr.TileI), extent(tr.TileJ)
	size := int(unsafe.Sizeof(C(0)))
	if crowd {
		ni = rng.IntN(min(3*4096/size/8, (4096>>(trial%3))/size-2)) // up to three blocks (512 bytes of destination row each), within the row
	}
	// Source rows of nj elements: at a stride (which may be negative, or
	// narrower than a row: the source is only read), or shuffled.
	si := nj + rng.IntN(5) - 2
	if rng.IntN(3) == 0 {
		si = -si
	}
	rowAt := make([]int, ni) // in elements, from the lowest row
	for i := range rowAt {
		rowAt[i] = i * si
	}
	if trial%3 == 2 {
		rng.Shuffle(ni, func(a, b int) { rowAt[a], rowAt[b] = rowAt[b], rowAt[a] })
	}
	lo := 0
	for _, o := range rowAt {
		lo = min(lo, o)
	}
	pad := rng.IntN(4)
	src := make([]C, max(ni*abs(si)+nj, 1)+2*pad+abs(si))
	randomFill(rng, src)
	base := pad - lo // index in src of the element rows are relative to
	off := make([]int, ni)
	for i, o := range rowAt {
		off[i] = o * size
	}
	before := bytes.Clone(asBytes(src))

	dj := ni + rng.IntN(3)
	// Non-temporal stores, asked for in half the trials, take whole
	// destination lines: rows that are whole lines apart, from a line
	// boundary, in half of the trials that do not crowd (as the 8-byte
	// AVX-512 tiles need too); the others must fall back to ordinary
	// stores, or tiles.
	stream := rng.IntN(2) == 0 && !crowd
	align := 1
	if crowd { // a 4 KiB stride, or (a third of the trials each) 2 or 1 KiB, two elements either side
		dj = (4096>>(trial%3))/size + rng.IntN(5) - 2
	}
	if !crowd && rng.IntN(2) == 0 {
		align = 64
		dj = (dj*size + 63) / 64 * 64 / size
	}
	n := max(nj*dj, 1)
	all, dst := guardedAligned[C](n, align)
	at := int(uintptr(unsafe.Pointer(&dst[0])) - uintptr(unsafe.Pointer(&all[0]))) // bytes before dst
	want := bytes.Clone(asBytes(all))
	wantDst := unsafe.Slice((*C)(unsafe.Pointer(&want[at])), n)
	for i := range ni {
		for j := range nj {
			wantDst[j*dj+i] = src[base+rowAt[i]+j]
		}
	}
	// The buffer for crowded destinations, in most trials (with crowd, all
	// but one in four, so that the unbuffered path runs on them too).
	var buf *generated.CrowdBuffer
	if trial%4 != 3 {
		buf = new(generated.CrowdBuffer)
	}
	if ni > 0 && nj > 0 {
		generated.TransposeRows(dt, unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[base]), off, nj, dj, stream, buf)
		generated.StreamFence() // as a copy does after its streamed calls
	}
	name := fmt.Sprintf("trial %d: ni %d nj %d si %d dj %d stream %v align %d buffer %v", trial, ni, nj, si, dj, stream, align, buf != nil)
	require.True(t, bytes.Equal(want, asBytes(all)), "%s: destination (gaps and guards included) differs", name)
	require.True(t, bytes.Equal(before, asBytes(src)), "%s: source modified", name)
}

func abs(x int) int { return max(x, -x) }

// TestTransposesTall checks the buffered transposes whose blocks are
// taller where generated.AMDTuned is false (512 rows: gen's tallRows), and
// for 4 bytes not streamed with the AVX-512 tiles whatever AMDTuned (gen's
// tallCachedSizes), in every mode (forEachMode): more than one block of
// source rows with a ragged last one, source rows strided, reversed or
// shuffled, guard regions around the destination. 8-byte rows not whole
// lines apart, large enough to go through the buffer on such a CPU
// (crowding.Unaligned), streamed or not (StreamedTall); 4-byte rows 4 KiB
// and an element or two apart, crowded or streamed; and, whose blocks stay
// as they are, 2-byte rows off line boundaries, streamed.
func TestTransposesTall(t *testing.T) {
	amd64 := runtime.GOARCH == "amd64"
	forEachMode(t, func(t *testing.T) {
		accel := generated.Accelerated
		buffered := accel && !generated.AMDTuned && amd64
		rng := rand.New(rand.NewPCG(8, 512))
		for trial := range 4 {
			ni := 513 + rng.IntN(500) // two blocks of 512 rows, the second ragged
			dj := ni + 1 + rng.IntN(3)
			if dj%8 == 0 {
				dj++ // rows not whole lines apart
			}
			nj := (5<<18)/(dj*8) + 1 + rng.IntN(16) // a destination of more than 1.25 MiB
			require.Equal(t, buffered, generated.Crowds(8, nj, dj), "trial %d: ni %d nj %d dj %d: through the buffer", trial, ni, nj, dj)
			require.Equal(t, buffered, generated.StreamCrowds(8, 64, dj, nil), "trial %d: dj %d: streamed through the buffer", trial, dj)
			checkTallTranspose[uint64](t, rng, generated.Float64, trial, ni, nj, dj, trial%2 == 1)

			ni = 513 + rng.IntN(500)
			dj = 1024 + []int{-2, -1, 1, 2}[rng.IntN(4)]
			nj = 16 + rng.IntN(40)
			if accel && amd64 {
				require.True(t, generated.Crowds(4, nj, dj), "trial %d: nj %d dj %d: 4-byte rows crowd", trial, nj, dj)
			}
			if accel { // the Go fallback's spans differ by build (otherCrowd in gen; TestOtherCrowds)
				require.Equal(t, buffered, generated.Crowds(4, 2100, dj), "trial %d: dj %d: 4-byte rows crowding 8 MiB and more buffer only where AMDTuned is false", trial, dj)
			}
			require.Equal(t, buffered, generated.StreamCrowds(4, 64, dj, nil), "trial %d: dj %d: 4-byte rows streamed through the buffer", trial, dj)
			checkTallTranspose[uint32](t, rng, generated.Float32, trial, ni, nj, dj, trial%2 == 1)

			ni = 513 + rng.IntN(500)
			dj = ni + 1 + rng.IntN(3)
			if dj%32 == 0 {
				dj++
			}
			nj = 32 + rng.IntN(40)
			if amd64 {
				require.True(t, generated.StreamCrowds(2, 64, dj, nil), "trial %d: dj %d: 2-byte rows streamed through the buffer", trial, dj)
			}
			checkTallTranspose[uint16](t, rng, generated.BFloat16, trial, ni, nj, dj, true)
		}
	})
}

// checkTallTranspose runs generated.TransposeRows of dtype dt, ni source
// rows of nj elements into rows dj apart, against the plain loop: in trial
// 2 the source rows are reversed, in trial 3 shuffled.
func checkTallTranspose[C uint16 | uint32 | uint64](t *testing.T, rng *rand.Rand, dt generated.DType, trial, ni, nj, dj int, stream bool) {
	size := int(unsafe.Sizeof(C(0)))
	si := nj + rng.IntN(5) - 2
	if trial == 2 {
		si = -si
	}
	rowAt := make([]int, ni)
	for i := range rowAt {
		rowAt[i] = i * si
	}
	if trial == 3 {
		rng.Shuffle(ni, func(a, b int) { rowAt[a], rowAt[b] = rowAt[b], rowAt[a] })
	}
	src := make([]C, ni*abs(si)+nj+abs(si))
	randomFill(rng, src)
	base := -min(0, (ni-1)*si)
	off := make([]int, ni)
	for i, o := range rowAt {
		off[i] = o * size
	}
	n := nj * dj
	all, dst := guardedAligned[C](n, 1)
	at := int(uintptr(unsafe.Pointer(&dst[0])) - uintptr(unsafe.Pointer(&all[0])))
	want := bytes.Clone(asBytes(all))
	wantDst := unsafe.Slice((*C)(unsafe.Pointer(&want[at])), n)
	for i := range ni {
		for j := range nj {
			wantDst[j*dj+i] = src[base+rowAt[i]+j]
		}
	}
	generated.TransposeRows(dt, unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[base]), off, nj, dj, stream, new(generated.CrowdBuffer))
	generated.StreamFence()
	require.True(t, bytes.Equal(want, asBytes(all)), "%v trial %d: ni %d nj %d si %d dj %d stream %v: destination (gaps and guards included) differs", dt, trial, ni, nj, si, dj, stream)
}

// TestRowStores runs the row copies and whole-run copies that pick their
// stores by size (generated.Kernel's stream) through the Rows kernels of
// ranks 1 and 3 in bytes: every store path (non-temporal rows and runs,
// REP MOVSB, the AVX2 rows, the Go form) with ordinary and non-temporal
// stores asked for, at run lengths around each path's size classes and at
// every destination alignment in a 64-byte line, against the plain loop.
func TestRowStores(t *testing.T) {
	lengths := []int{1, 2, 7, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 63, 64, 65, 80, 96, 112, 113, 127, 128, 129, 160, 255, 256, 257,
		2047, 2048, 2049, 4096 + 7, 16383, 16384, 16385, 70001}
	forEachMode(t, func(t *testing.T) {
		defer func(was bool) { generated.FastStrings = was }(generated.FastStrings)
		for _, fast := range []bool{false, generated.FastStrings} {
			generated.FastStrings = fast
			for _, stream := range []bool{false, true} {
				t.Run(fmt.Sprintf("fastStrings=%v/stream=%v", fast, stream), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(7, 7))
					for _, n := range lengths {
						for mis := 0; mis < 64; mis += 1 + rng.IntN(9) {
							checkRowStores(t, rng, n, mis, stream)
						}
					}
				})
			}
		}
	})
}

// checkRowStores copies one run of n bytes with rank 1, and 3 planes of 2
// rows of n bytes with rank 3, the rows closer together in the source than
// the planes and the other way round (the non-temporal copy walks both
// orders), into a destination mis bytes past a 64-byte boundary, with
// guards on both sides.
func checkRowStores(t *testing.T, rng *rand.Rand, n, mis int, stream bool) {
	planes, rows := 3, 2
	near, far := n+5, 3*(n+5)+3 // source rows and planes apart, not adjacent
	src := make([]byte, planes*far+rows*far+64)
	randomFill(rng, src)
	before := bytes.Clone(src)
	for _, layout := range []struct{ rank, rowStride, planeStride int }{{1, 0, 0}, {3, near, far}, {3, far, near}} {
		rank, rowStride, planeStride := layout.rank, layout.rowStride, layout.planeStride
		var shape, strides [generated.MaxRank]int
		count := n
		if rank == 1 {
			shape[0], strides[0] = n, 1
		} else {
			shape[0], shape[1], shape[2] = planes, rows, n
			strides[0], strides[1], strides[2] = planeStride, rowStride, 1
			count = planes * rows * n
		}
		buf := make([]byte, count+2*64+64)
		start := 64 - int(uintptr(unsafe.Pointer(&buf[0]))%64) + 64 + mis // mis past a line, a line of guard before
		for i := range buf {
			buf[i] = guardByte
		}
		dst := buf[start : start+count]
		generated.Registry[generated.Uint8][rank][generated.Rows](unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), shape, strides, stream)

		want := make([]byte, count)
		referenceCopy(want, src, shape[:rank], strides[:rank], 0)
		name := fmt.Sprintf("rank %d, %d bytes, rows %d and planes %d apart, %d past a line, stream %v", rank, n, rowStride, planeStride, mis, stream)
		require.True(t, bytes.Equal(want, dst), "%s: values differ", name)
		for i, v := range buf {
			if (i < start || i >= start+count) && v != guardByte {
				t.Fatalf("%s: byte %d outside the destination written", name, i-start)
			}
		}
		require.True(t, bytes.Equal(before, src), "%s: source modified", name)
	}
}

// TestCrowdsShortAxes checks the count of sets in generated.Crowds for
// destinations of at most two blocks of rows (a short stride-1 source
// axis), in the builds that buffer 1- and 2-byte transposes: rows 1 KiB
// apart start in 4 of the 64 sets, 2 KiB apart in 2, 17 lines apart in all.
// With the assembly that holds for at most two blocks; with the Go tiles
// (Accelerated false) at any span.
func TestCrowdsShortAxes(t *testing.T) {
	defer func(l, a bool) { generated.AMDTuned, generated.Accelerated = l, a }(generated.AMDTuned, generated.Accelerated)
	generated.AMDTuned = true // where it is false, rows whole lines apart never buffer with AVX-512 (TestAMDTuned)
	accels := []bool{false}
	if generated.Accelerated {
		accels = append(accels, true)
	}
	for _, accel := range accels {
		generated.Accelerated = accel
		for _, size := range []int{1, 2} {
			line := 64 / size // elements in a line: one block of destination rows
			if !generated.Crowds(size, line, 4096/size) {
				t.Logf("accelerated %v: this build buffers no %d-byte transposes", accel, size)
				continue
			}
			require.True(t, generated.Crowds(size, line, 2048/size), "accelerated %v, %d bytes: one block, rows 2 KiB apart", accel, size)
			require.True(t, generated.Crowds(size, 2*line, 2048/size), "accelerated %v, %d bytes: two blocks, rows 2 KiB apart", accel, size)
			require.Equal(t, !accel, generated.Crowds(size, 2*line+1, 2048/size), "accelerated %v, %d bytes: over two blocks, rows 2 KiB apart", accel, size)
			require.False(t, generated.Crowds(size, line, 17*64/size), "accelerated %v, %d bytes: rows 17 lines apart", accel, size)
			require.False(t, generated.Crowds(size, line, 1024/size+1), "accelerated %v, %d bytes: rows 1 KiB and an element apart", accel, size)
			if size == 1 {
				require.True(t, generated.Crowds(size, line, 1024), "accelerated %v: one block of bytes, rows 1 KiB apart", accel)
				require.Equal(t, !accel, generated.Crowds(size, 1024, 1024), "accelerated %v: 16 blocks of bytes, rows 1 KiB apart (transpose2d)", accel)
			} else {
				require.False(t, generated.Crowds(size, line, 1024/size), "accelerated %v, %d bytes: %d rows in 4 sets", accel, size, line)
			}
		}
	}
}

// TestAMDTuned checks the buffering that generated.AMDTuned picks: where
// it is false, the AVX-512 tiles never buffer crowded rows whole lines
// apart, buffer rows off line boundaries only for 4-byte elements into less
// than 8 MiB, and never pack, while the AVX2 tiles buffer as before; where
// it is true, the AVX-512 tiles buffer as the AVX2 ones do, and pack. (The
// 8-byte tiles it picks run in forEachMode's tests both ways.)
func TestAMDTuned(t *testing.T) {
	if !generated.Accelerated || !generated.AVX512 {
		t.Skip("no AVX-512 tiles here: AMDTuned takes no effect")
	}
	defer func(a, l bool) { generated.AVX512, generated.AMDTuned = a, l }(generated.AVX512, generated.AMDTuned)
	for _, avx512 := range []bool{false, true} {
		for _, amd := range []bool{false, true} {
			generated.AVX512, generated.AMDTuned = avx512, amd
			buffers := !avx512 || amd // rows whole lines apart
			name := fmt.Sprintf("avx512 %v AMDTuned %v", avx512, amd)
			require.Equal(t, buffers, generated.Crowds(1, 4096, 4096), "%s: uint8 rows 4 KiB apart", name)
			require.Equal(t, buffers, generated.Crowds(2, 2048, 2048), "%s: bfloat16 rows 4 KiB apart", name)
			require.Equal(t, buffers, generated.Crowds(4, 1024, 1024), "%s: float32 rows 4 KiB apart, 4 MiB", name)
			require.False(t, generated.Crowds(4, 4096, 4096), "%s: float32 rows 16 KiB apart, 64 MiB", name)
			require.True(t, generated.Crowds(4, 1025, 1023), "%s: float32 rows 4092 bytes apart, 4 MiB", name)
			require.Equal(t, buffers, generated.Crowds(1, 2049, 2047), "%s: uint8 rows 2047 bytes apart", name)
			require.Equal(t, buffers, generated.Crowds(2, 2049, 2047), "%s: bfloat16 rows 4094 bytes apart", name)
			require.False(t, generated.Crowds(4, 1024, 1000), "%s: float32 rows 4000 bytes apart", name)
			require.Equal(t, avx512 && amd, generated.PackRows(1, 2048, 2048) > 0, "%s: uint8 [2048, 2048] packs", name)
		}
	}
}

// TestTransposesPacked runs the blocked transposes whose source rows start
// in one or two of the L1 cache's sets (rows 2, 4 or 8 KiB apart, 4 KiB
// less a byte, negative, or shuffled), which the AVX-512 1- and 2-byte
// tiles read through their Packed form (generated.Packs), against the plain
// loop: one to three blocks of rows and their edges, column counts from
// one block a line wide to several and a partial one, destinations whose
// rows crowd the cache (buffered anyway) and, in a few trials, large ones
// whose rows do not (buffered for the packing), with gaps and guards that
// must stay untouched; and the same streamed, into rows of whole aligned
// lines, which the AVX-512 1-byte tiles read through their PackedStream
// form (generated.StreamPacks).
func TestTransposesPacked(t *testing.T) {
	forEachMode(t, func(t *testing.T) {
		for dt := range generated.DType(generated.NumDTypes) {
			t.Run(fmt.Sprintf("dtype=%v", dt), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(dt), 7))
				trials := 24
				if testing.Short() {
					trials = 8
				}
				for trial := range trials {
					for _, stream := range []bool{false, true} {
						if stream && (dt.Size() > 2 || testing.Short() && trial%2 == 1) { // only the 1- and 2-byte tiles pack
							continue
						}
						switch dt.Size() {
						case 1:
							checkPacked[uint8](t, rng, dt, trial, stream)
						case 2:
							checkPacked[uint16](t, rng, dt, trial, stream)
						case 4:
							checkPacked[uint32](t, rng, dt, trial, stream)
						case 8:
							checkPacked[uint64](t, rng, dt, trial, stream)
						}
					}
				}
			})
		}
	})
}

// checkPacked runs one random case of TestTransposesPacked, streamed into
// rows of whole aligned lines where stream is set.
func checkPacked[C uint8 | uint16 | uint32 | uint64](t *testing.T, rng *rand.Rand, dt generated.DType, trial int, stream bool) {
	size := int(unsafe.Sizeof(C(0)))
	line := 64 / size
	tr := generated.Transposes[dt]
	// Streamed, a destination large enough to pack (32 MiB), where it can:
	// with -short in one trial (the race detector's run slows its guard
	// fill).
	streamPack := stream && size == 1 && generated.AVX512 && (trial%2 == 0 && !testing.Short() || trial == 0)
	nj := line * (1 + rng.IntN(3))
	if trial%2 == 1 || streamPack && rng.IntN(2) == 0 {
		nj += 1 + rng.IntN(line-1) // a partial block of columns: it reads its rows in place
	}
	ni := 64 + rng.IntN(2*512/size) + tr.TileI*rng.IntN(2) // up to three blocks of rows
	// A destination of over 4 MiB, rows not crowding; with -short only for
	// the sizes that pack (the race detector's CI run slows its reference
	// loop tenfold).
	big := trial%4 == 3 && (size <= 2 || !testing.Short()) && !stream
	if big {
		ni = 512 + rng.IntN(64)
	}
	strides := []int{2048, 4096, 8192, -4096, 4095}
	if streamPack { // rows that crowd, so that it packs
		strides = strides[:4]
	}
	si := strides[rng.IntN(len(strides))] / size * size // bytes
	rowAt := make([]int, ni)                            // bytes from the lowest row
	for i := range rowAt {
		rowAt[i] = i * si
	}
	if trial%3 == 2 {
		rng.Shuffle(ni, func(a, b int) { rowAt[a], rowAt[b] = rowAt[b], rowAt[a] })
	}
	lo := min(0, (ni-1)*si)
	src := make([]C, ((ni-1)*abs(si)+nj*size)/size+2*line)
	randomFill(rng, src)
	base := line - lo/size // index of the element the rows are relative to
	off := make([]int, ni)
	copy(off, rowAt)
	before := bytes.Clone(asBytes(src))

	dj := 4096/size + rng.IntN(5) - 2 // crowded: buffered anyway
	if big {
		dj = (4<<20)/size/nj + ni + rng.IntN(3)
	}
	align := 1
	if stream { // whole aligned lines, so that the tiles store non-temporally
		dj = (ni+line-1)/line*line + line*rng.IntN(2)
		if streamPack {
			dj = ((32<<20)/size/nj+line-1)/line*line + line*rng.IntN(2)
		}
		align = 64
	}
	n := nj * dj
	all, dst := guardedAligned[C](n, align)
	want := bytes.Clone(asBytes(all))
	at := int(uintptr(unsafe.Pointer(&dst[0])) - uintptr(unsafe.Pointer(&all[0])))
	wantDst := unsafe.Slice((*C)(unsafe.Pointer(&want[at])), n)
	for i := range ni {
		for j := range nj {
			wantDst[j*dj+i] = src[base+rowAt[i]/size+j]
		}
	}
	s := unsafe.Pointer(&src[base])
	if big && si%2048 == 0 { // rows in one or two sets, however shuffled
		packs := generated.Packs(size, nj, dj, s, off[:64])
		require.Equal(t, generated.Accelerated && generated.AVX512 && generated.AMDTuned && size <= 2, packs, "trial %d: Packs, rows %d bytes apart", trial, si)
	}
	if stream && si%2048 == 0 {
		packs := generated.StreamPacks(size, nj, dj, unsafe.Pointer(&dst[0]), s, off[:64])
		require.Equal(t, generated.Accelerated && generated.AVX512 && generated.AMDTuned && streamPack, packs, "trial %d: StreamPacks, rows %d bytes apart", trial, si)
	}
	if stream {
		generated.TransposeRows(dt, unsafe.Pointer(&dst[0]), s, off, nj, dj, true, nil)
		generated.StreamFence()
	} else {
		generated.TransposeRows(dt, unsafe.Pointer(&dst[0]), s, off, nj, dj, false, new(generated.CrowdBuffer))
	}
	name := fmt.Sprintf("trial %d: stream %v ni %d nj %d si %d dj %d", trial, stream, ni, nj, si, dj)
	require.True(t, bytes.Equal(want, asBytes(all)), "%s: destination (gaps and guards included) differs", name)
	require.True(t, bytes.Equal(before, asBytes(src)), "%s: source modified", name)
}

// TestTransposeTails runs the blocked transposes on every count of rows
// after a block's whole bands, 1 to 63, which the AVX-512 1- and 2-byte
// transposes write with their tail kernels (masked stores) where they are
// not whole tiles, against the plain loop: after no band and after one,
// two blocks of columns and a partial one, destination rows with a gap
// after them that must stay untouched, with and without the buffer.
func TestTransposeTails(t *testing.T) {
	forEachMode(t, func(t *testing.T) {
		for _, dt := range []generated.DType{generated.Uint8, generated.BFloat16, generated.Float32} {
			t.Run(fmt.Sprintf("dtype=%v", dt), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(dt), 63))
				for r := 1; r < 64; r++ {
					switch dt.Size() {
					case 1:
						checkTail[uint8](t, rng, dt, r)
					case 2:
						checkTail[uint16](t, rng, dt, r)
					case 4:
						checkTail[uint32](t, rng, dt, r)
					}
				}
			})
		}
	})
}

// checkTail runs one case of TestTransposeTails: r rows after none or one
// band of the width, crowded destination rows (4 KiB apart, buffered) in
// one case of three.
func checkTail[C uint8 | uint16 | uint32](t *testing.T, rng *rand.Rand, dt generated.DType, r int) {
	size := int(unsafe.Sizeof(C(0)))
	band := 64 / size
	ni := r + band*rng.IntN(2)
	nj := 2*band + 1 + rng.IntN(band-1)
	si := nj + rng.IntN(9) // elements between source rows
	src := make([]C, ni*si)
	randomFill(rng, src)
	off := make([]int, ni)
	for i := range off {
		off[i] = i * si * size
	}
	dj := ni + 1 + rng.IntN(3)
	var buf *generated.CrowdBuffer
	if rng.IntN(3) == 0 {
		dj, buf = 4096/size, new(generated.CrowdBuffer)
	}
	all, dst := guarded[C](nj * dj)
	want := bytes.Clone(asBytes(all))
	at := int(uintptr(unsafe.Pointer(&dst[0])) - uintptr(unsafe.Pointer(&all[0])))
	wantDst := unsafe.Slice((*C)(unsafe.Pointer(&want[at])), nj*dj)
	for i := range ni {
		for j := range nj {
			wantDst[j*dj+i] = src[i*si+j]
		}
	}
	generated.TransposeRows(dt, unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), off, nj, dj, false, buf)
	require.True(t, bytes.Equal(want, asBytes(all)), "ni %d nj %d dj %d buffer %v: destination (gaps and guards included) differs", ni, nj, dj, buf != nil)
}
