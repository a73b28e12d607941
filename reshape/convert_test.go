package reshape

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/generated"
	"github.com/stridekit/stridekit/internal/convert"
)

// refConvert is the reference of one element conversion, on bit patterns:
// the value of bits as a from, converted to a to by the documented rules,
// written with Go's conversions and the scalar conversions of package
// convert (tested against x448, PyTorch's formula and math/big there).
func refConvert(from, to generated.DType, bits uint64) uint64 {
	if from == to { // a copy
		return bits
	}
	var (
		isInt, isUint bool
		i             int64
		u             uint64
		f             float64
	)
	switch from {
	case generated.Int8:
		isInt, i = true, int64(int8(bits))
	case generated.Int16:
		isInt, i = true, int64(int16(bits))
	case generated.Int32:
		isInt, i = true, int64(int32(bits))
	case generated.Int64:
		isInt, i = true, int64(bits)
	case generated.Uint8, generated.Uint16, generated.Uint32, generated.Uint64:
		isUint, u = true, bits
	case generated.Float16:
		f = float64(convert.F16ToF32(uint16(bits)))
	case generated.BFloat16:
		if to == generated.Float32 { // exact: a shift, which keeps every bit pattern
			return bits << 16
		}
		f = float64(convert.BF16ToF32(uint16(bits)))
	case generated.Float32:
		f = float64(math.Float32frombits(uint32(bits)))
	case generated.Float64:
		f = math.Float64frombits(bits)
	}
	switch to {
	case generated.Float16:
		switch {
		case isInt:
			return uint64(convert.I64ToF16(i))
		case isUint:
			return uint64(convert.U64ToF16(u))
		}
		return uint64(convert.F64ToF16(f))
	case generated.BFloat16:
		switch {
		case isInt:
			return uint64(convert.I64ToBF16(i))
		case isUint:
			return uint64(convert.U64ToBF16(u))
		}
		return uint64(convert.F64ToBF16(f))
	case generated.Float32:
		switch {
		case isInt:
			return uint64(math.Float32bits(float32(i)))
		case isUint:
			return uint64(math.Float32bits(float32(u)))
		}
		return uint64(math.Float32bits(float32(f)))
	case generated.Float64:
		switch {
		case isInt:
			return math.Float64bits(float64(i))
		case isUint:
			return math.Float64bits(float64(u))
		}
		return math.Float64bits(f)
	}
	// An integer: wrap from integers, saturate from floats.
	size := to.Size() * 8
	signedTo := to == generated.Int8 || to == generated.Int16 || to == generated.Int32 || to == generated.Int64
	mask := uint64(1)<<size - 1
	if size == 64 {
		mask = math.MaxUint64
	}
	switch {
	case isInt:
		return uint64(i) & mask
	case isUint:
		return u & mask
	case f != f:
		return 0
	case signedTo:
		lo, hi := -math.Ldexp(1, size-1), math.Ldexp(1, size-1)
		switch {
		case f <= lo:
			return uint64(int64(-1)<<(size-1)) & mask
		case f >= hi:
			return uint64(1)<<(size-1) - 1
		}
		return uint64(int64(f)) & mask
	}
	switch {
	case f <= 0:
		return 0
	case f >= math.Ldexp(1, size):
		return mask
	}
	return uint64(f)
}

// nanPayloadsKept reports whether this platform's float conversions keep
// the payload of a NaN, as amd64, arm64, s390x and others do; MIPS with the
// legacy NaN encoding (and Go's soft float there) returns a default NaN
// instead, so refConvert's float arithmetic cannot predict NaN bits there.
var nanPayloadsKept = math.Float64bits(float64(math.Float32frombits(0x7fc00001))) == 0x7ff8000020000000

// isNaNBits reports whether b is a NaN of the float dtype dt.
func isNaNBits(dt generated.DType, b uint64) bool {
	switch dt {
	case generated.Float16:
		return b&0x7c00 == 0x7c00 && b&0x3ff != 0
	case generated.BFloat16:
		return b&0x7f80 == 0x7f80 && b&0x7f != 0
	case generated.Float32:
		return b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0
	case generated.Float64:
		return b&0x7ff0000000000000 == 0x7ff0000000000000 && b&0xfffffffffffff != 0
	}
	return false
}

// sameConverted reports whether got, an element of dt, is want: the same
// bits, or both NaN where nanPayloadsKept is false.
func sameConverted(dt generated.DType, got, want uint64) bool {
	return got == want || !nanPayloadsKept && isNaNBits(dt, got) && isNaNBits(dt, want)
}

// requireConverted is require.Equal of a conversion's bits, by sameConverted.
func requireConverted(t *testing.T, dt generated.DType, want, got uint64, msgAndArgs ...any) {
	t.Helper()
	if !sameConverted(dt, got, want) {
		require.Equal(t, want, got, msgAndArgs...)
	}
}

// bitsOf returns the bit pattern of a T.
func bitsOf[T Element](v T) uint64 {
	p := unsafe.Pointer(&v)
	switch unsafe.Sizeof(v) { // by value, not by bytes: the same on either byte order
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

// convertCase draws a random view of elements of S for the conversion
// tests: permuted, reversed, sliced or broadcast, large enough now and then
// for the blocked transposes.
func convertCase[S Element](rng *rand.Rand, trial int) (Tensor[S], string) {
	rank := 1 + rng.IntN(5)
	shape := make([]int, rank)
	for a := range shape {
		shape[a] = 1 + rng.IntN(7)
	}
	if trial%4 == 0 && rank >= 2 { // a transpose of whole tiles
		shape[0], shape[rank-1] = 24+rng.IntN(40), 24+rng.IntN(40)
	}
	if trial%5 == 1 {
		shape[rank-1] = 9 + rng.IntN(40) // rows long enough for the vector loops, with tails
	}
	data := make([]S, product(shape))
	randomFill(rng, data)
	t, _ := New(data, shape...)
	ops := fmt.Sprintf("New(%v)", shape)
	if rank > 1 && trial%3 != 2 {
		perm := rng.Perm(rank)
		if trial%4 == 0 {
			perm[0], perm[rank-1] = rank-1, 0
			for a := 1; a < rank-1; a++ {
				perm[a] = a
			}
		}
		t, _ = t.Permute(perm...)
		ops += fmt.Sprintf(".Permute(%v)", perm)
	}
	if trial%6 == 3 && t.Shape[0] > 2 {
		t, _ = t.Slice(0, t.Shape[0]-1, -1, -2)
		ops += ".Slice(0, -1, -1, -2)"
	}
	if trial%7 == 5 {
		one, _ := t.Slice(-1, 0, 1, 1)
		shape := append([]int(nil), one.Shape...)
		shape[len(shape)-1] = 11
		t, _ = one.Expand(shape...)
		ops += ".Slice(-1, 0, 1, 1).Expand(..., 11)"
	}
	return t, ops
}

// checkConvert converts a random view of S to D with ContiguousAs and
// compares every element with refConvert, with guards around dst.
func checkConvert[D, S Element](t *testing.T, rng *rand.Rand, trial int) {
	view, ops := convertCase[S](rng, trial)
	from, to := valueDTypeOf[S](), valueDTypeOf[D]()
	n := view.Len()
	want := make([]S, n)
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	all, dst := guarded[D](n)
	before := bytes.Clone(asBytes(view.Data))
	require.NoError(t, ContiguousAs(dst, view), ops)
	for k := range n {
		got, exp := bitsOf(dst[k]), refConvert(from, to, bitsOf(want[k]))
		if !sameConverted(to, got, exp) {
			t.Fatalf("%v → %v, trial %d, %s: element %d of %d: %v (%#x) gives %#x, want %#x", from, to, trial, ops, k, n, want[k], bitsOf(want[k]), got, exp)
		}
	}
	require.True(t, guardsIntact(all), "%v → %v, %s: wrote outside dst", from, to, ops)
	require.Equal(t, before, asBytes(view.Data), "%v → %v, %s: source modified", from, to, ops)
}

// pairTests lists, for every source dtype, the conversion test to every
// destination dtype.
func pairTests[S Element]() []func(*testing.T, *rand.Rand, int) {
	return []func(*testing.T, *rand.Rand, int){
		checkConvert[float32, S], checkConvert[float64, S], checkConvert[f16, S], checkConvert[BFloat16, S],
		checkConvert[int8, S], checkConvert[uint8, S], checkConvert[int16, S], checkConvert[uint16, S],
		checkConvert[int32, S], checkConvert[uint32, S], checkConvert[int64, S], checkConvert[uint64, S],
	}
}

// TestConvertPairs converts random views between every pair of the 12
// dtypes (the same dtype included), with the assembly and with the Go
// forms, on one worker and split across three, and on one worker with the
// stores of results larger than the cache forced (a streaming threshold of
// one byte).
func TestConvertPairs(t *testing.T) {
	sources := [][]func(*testing.T, *rand.Rand, int){
		pairTests[float32](), pairTests[float64](), pairTests[f16](), pairTests[BFloat16](),
		pairTests[int8](), pairTests[uint8](), pairTests[int16](), pairTests[uint16](),
		pairTests[int32](), pairTests[uint32](), pairTests[int64](), pairTests[uint64](),
	}
	trials := 24
	if testing.Short() {
		trials = 8
	}
	forEachMode(t, func(t *testing.T) {
		for _, run := range []struct {
			workers int
			stream  bool
		}{{1, false}, {3, false}, {1, true}} {
			name := fmt.Sprintf("workers=%d", run.workers)
			if run.stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				defer SetMaxWorkers(SetMaxWorkers(run.workers))
				defer SetParallelThreshold(SetParallelThreshold(1))
				if run.stream {
					defer SetStreamingThreshold(SetStreamingThreshold(1))
				}
				for si, tests := range sources {
					for di, test := range tests {
						rng := rand.New(rand.NewPCG(uint64(si), uint64(di)))
						for trial := range trials {
							test(t, rng, trial)
						}
					}
				}
			})
		}
	})
}

// TestConvertAllHalves converts all 65,536 float16 and bfloat16 values to
// float32 and back, through the specialised kernels (rows of every length
// around the vector widths, 8 and 16, so that tails are covered) and the
// transposes,
// with the stores of results in the cache and, forced by a streaming
// threshold of one byte, of results larger than it (the transposes'
// prefetching and non-temporal tiles).
func TestConvertAllHalves(t *testing.T) {
	forEachMode(t, func(t *testing.T) {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
				if stream {
					defer SetStreamingThreshold(SetStreamingThreshold(1))
				}
				testAllHalves[f16](t, generated.Float16)
				testAllHalves[BFloat16](t, generated.BFloat16)
			})
		}
	})
}

func testAllHalves[H Element](t *testing.T, dt generated.DType) {
	src := make([]H, 1<<16)
	for i := range src {
		src[i] = H(i)
	}
	for _, cols := range []int{1 << 16, 1 << 8, 33, 31, 23, 17, 16, 15, 9, 8, 7} {
		rows := len(src) / cols
		view, err := New(src[:rows*cols], rows, cols)
		require.NoError(t, err)
		wide := make([]float32, rows*cols)
		require.NoError(t, ContiguousAs(wide, view))
		for i, f := range wide {
			requireConverted(t, generated.Float32, refConvert(dt, generated.Float32, uint64(src[i])), uint64(math.Float32bits(f)), "%v %#04x in rows of %d", dt, i, cols)
		}
		wv, err := New(wide, rows, cols)
		require.NoError(t, err)
		back := make([]H, len(wide))
		require.NoError(t, ContiguousAs(back, wv))
		for i, h := range back {
			requireConverted(t, dt, refConvert(generated.Float32, dt, uint64(math.Float32bits(wide[i]))), uint64(h), "%v %#04x back, rows of %d", dt, i, cols)
		}
	}
	// Transposed: the staged tiles.
	view, err := New(src, 256, 256)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	wide := make([]float32, len(src))
	require.NoError(t, ContiguousAs(wide, view))
	for k, f := range wide {
		i := k%256*256 + k/256
		requireConverted(t, generated.Float32, refConvert(dt, generated.Float32, uint64(i)), uint64(math.Float32bits(f)), "%v transposed %#04x", dt, i)
	}
}

// TestConvertFloat32Rounding converts float32 bit patterns around every
// rounding point of float16 and bfloat16, NaN, Inf, subnormals and ±0
// included, and random ones, through the specialised kernels.
func TestConvertFloat32Rounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var bitsList []uint32
	for e := uint32(0); e < 256; e++ {
		for _, sign := range []uint32{0, 1 << 31} {
			for _, m := range []uint32{0, 1, 0x0fff, 0x1000, 0x1001, 0x2000, 0x3000, 0x7fff, 0x8000, 0x8001, 0x18000, 0x7fffff, 0x400000, 0x400001, 0x7fe000} {
				bitsList = append(bitsList, sign|e<<23|m)
			}
		}
	}
	n := 1 << 20
	if testing.Short() {
		n = 1 << 16
	}
	for range n {
		bitsList = append(bitsList, rng.Uint32())
	}
	src := make([]float32, len(bitsList))
	for i, b := range bitsList {
		src[i] = math.Float32frombits(b)
	}
	view, err := New(src, len(src))
	require.NoError(t, err)
	forEachMode(t, func(t *testing.T) {
		h := make([]f16, len(src))
		b := make([]BFloat16, len(src))
		d := make([]float64, len(src))
		require.NoError(t, ContiguousAs(h, view))
		require.NoError(t, ContiguousAs(b, view))
		require.NoError(t, ContiguousAs(d, view))
		for i, x := range bitsList {
			requireConverted(t, generated.Float16, refConvert(generated.Float32, generated.Float16, uint64(x)), uint64(h[i]), "float16 of %#08x", x)
			requireConverted(t, generated.BFloat16, refConvert(generated.Float32, generated.BFloat16, uint64(x)), uint64(b[i]), "bfloat16 of %#08x", x)
			requireConverted(t, generated.Float64, refConvert(generated.Float32, generated.Float64, uint64(x)), math.Float64bits(d[i]), "float64 of %#08x", x)
		}
	})
}

// TestConvertSameType checks the As functions with one type are the
// functions without As: the zero-copy result, the copy, the errors.
func TestConvertSameType(t *testing.T) {
	data := make([]float32, 2*3*4)
	for i := range data {
		data[i] = float32(i)
	}
	view, err := New(data, 2, 3, 4)
	require.NoError(t, err)
	m, err := ToLastDimensionAs[float32](view)
	require.NoError(t, err)
	require.Same(t, &data[0], &m.Data[0], "the same type stays zero-copy")
	perm, err := view.Permute(1, 0, 2)
	require.NoError(t, err)
	a, err := ConcatLastDimensionsAs[float32](perm, 2)
	require.NoError(t, err)
	b, err := ConcatLastDimensions(perm, 2)
	require.NoError(t, err)
	require.Equal(t, b, a)
	_, err = ConcatLastDimensionsAs[float32](perm, 4)
	require.ErrorIs(t, err, ErrConcatDims)

	// Two types of one representation copy, and never alias.
	type logit float32
	l, err := ToLastDimensionAs[logit](view)
	require.NoError(t, err)
	require.NotEqual(t, uintptr(unsafe.Pointer(&data[0])), uintptr(unsafe.Pointer(&l.Data[0])), "two types alias")
	for i, v := range l.Data {
		require.Equal(t, logit(data[i]), v)
	}
	require.Equal(t, 4, l.Cols)
}

// TestConvertUserTypes checks types defined on Go's number types convert by
// their values, not by the unsigned integer of their size that copies use.
func TestConvertUserTypes(t *testing.T) {
	type logit float32
	type count int16
	src := []logit{-1.5, 2.7, 1e10, logit(float32NaN())}
	view, err := New(src, 4)
	require.NoError(t, err)
	ints := make([]count, 4)
	require.NoError(t, ContiguousAs(ints, view))
	require.Equal(t, []count{-1, 2, math.MaxInt16, 0}, ints)
	halves := make([]BFloat16, 4)
	require.NoError(t, ContiguousAs(halves, view))
	require.Equal(t, BFloat16FromFloat32(-1.5), halves[0])
	back := make([]logit, 2)
	cv, err := New([]count{-3, 7}, 2)
	require.NoError(t, err)
	require.NoError(t, ContiguousAs(back, cv))
	require.Equal(t, []logit{-3, 7}, back)
}

// TestConvertErrors checks the As functions refuse what Contiguous refuses,
// with the same sentinels, leaving dst untouched, and refuse a destination
// that overlaps the source's bytes whatever the two types.
func TestConvertErrors(t *testing.T) {
	data := make([]BFloat16, 64)
	view, err := New(data, 8, 8)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	all, dst := guarded[float32](63)
	err = ContiguousAs(dst, view)
	require.ErrorIs(t, err, ErrDst)
	require.True(t, guardsIntact(all))
	require.True(t, bytes.Equal(asBytes(all[guard:guard+63]), bytes.Repeat([]byte{guardByte}, 63*4)), "dst touched")

	// A float32 destination over the bytes of the bfloat16 source.
	buf := make([]float32, 64)
	src := unsafe.Slice((*BFloat16)(unsafe.Pointer(&buf[16])), 64) // bytes 64..191 of buf
	sv, err := New(src, 64)
	require.NoError(t, err)
	err = ContiguousAs(buf, sv)
	require.ErrorIs(t, err, ErrDst)
	err = ContiguousAs(buf[48:], sv) // bytes 192..: after the source, but too short
	require.ErrorIs(t, err, ErrDst)
	require.NoError(t, ContiguousAs(make([]float32, 64), sv))

	bad := Tensor[BFloat16]{Data: data, Shape: []int{8, 9}}
	_, err = ToLastDimensionAs[float32](bad)
	require.ErrorIs(t, err, ErrStrides)
	_, err = ConcatLastDimensionsAsInto(make([]float32, 64), view, 3)
	require.ErrorIs(t, err, ErrConcatDims)
	require.True(t, errors.Is(err, ErrConcatDims))
}

// TestConvertAllocations pins the allocation contract of the converting
// Into forms: nothing, for a specialised pair's rows, a generic pair, and a
// transpose, with one worker and with three.
func TestConvertAllocations(t *testing.T) {
	src := make([]BFloat16, 64*64*8)
	rows, err := New(src, 64, 64, 8)
	require.NoError(t, err)
	rows, err = rows.Permute(1, 0, 2)
	require.NoError(t, err)
	tr, err := New(src, 64, 64, 8)
	require.NoError(t, err)
	tr, err = tr.Permute(2, 1, 0)
	require.NoError(t, err)
	ints := make([]int32, len(src))
	iv, err := New(ints, 64, 64, 8)
	require.NoError(t, err)
	iv, err = iv.Permute(1, 0, 2)
	require.NoError(t, err)
	f := make([]float32, len(src))
	h := make([]f16, len(src))
	for _, workers := range []int{1, 3} {
		func() {
			defer SetMaxWorkers(SetMaxWorkers(workers))
			defer SetParallelThreshold(SetParallelThreshold(1))
			require.Zero(t, testing.AllocsPerRun(20, func() { _ = ContiguousAs(f, rows) }), "bfloat16 rows, %d workers", workers)
			if !raceEnabled { // its staging buffer comes from a sync.Pool
				require.Zero(t, testing.AllocsPerRun(20, func() { _ = ContiguousAs(f, tr) }), "bfloat16 transpose, %d workers", workers)
			}
			require.Zero(t, testing.AllocsPerRun(20, func() { _ = ContiguousAs(h, iv) }), "int32 → float16, %d workers", workers)
			require.Zero(t, testing.AllocsPerRun(20, func() { _, _ = ToLastDimensionAsInto(f, rows) }), "ToLastDimensionAsInto, %d workers", workers)
		}()
	}
}

// TestConvTransposesBuffered runs every converting transpose
// (generated.ConvTransposeRows) on destinations whose rows crowd the L1
// cache's sets, 4 KiB apart or within two elements of it, which the
// builds that buffer them (amd64: float32 destinations; bfloat16 and
// float16 ones without assembly) write through the buffer given: up to three
// blocks of source rows, at a random stride, with guards around the
// destination, against refConvert.
func TestConvTransposesBuffered(t *testing.T) { testConvTransposes(t, false) }

// TestConvTransposesStreamed runs every converting transpose streamed
// (beyond the cache), without a buffer, into whole aligned lines: the
// tiles' non-temporal form (with the AVX-512 tiles, whole bands of every
// pair between float32 and bfloat16 or float16; with the AVX2 ones, the
// widening pairs' and, where AMDTuned, the narrowing ones'), with part
// bands and tiles in the odd trials.
func TestConvTransposesStreamed(t *testing.T) { testConvTransposes(t, true) }

func testConvTransposes(t *testing.T, streamed bool) {
	forEachMode(t, func(t *testing.T) {
		for from := range generated.DType(generated.NumDTypes) {
			for to := range generated.DType(generated.NumDTypes) {
				if !generated.ConvTransposeRows(from, to, nil, nil, nil, 0, 0, false, nil) {
					continue
				}
				rng := rand.New(rand.NewPCG(uint64(from), uint64(to)))
				for trial := range 6 {
					checkConvTranspose(t, rng, from, to, trial, streamed)
				}
			}
		}
	})
}

// checkConvTranspose runs generated.ConvTransposeRows from from to to on a
// random block against refConvert: in the cache with a CrowdBuffer (rows
// about 4 KiB apart, which crowd the L1 cache's sets), or, where streamed,
// beyond the cache without one into whole aligned lines (dst a multiple of
// 64 bytes, rows a multiple of 64 bytes apart), where the tiles store
// non-temporally. Odd trials take row and column counts that leave part
// tiles and bands.
func checkConvTranspose(t *testing.T, rng *rand.Rand, from, to generated.DType, trial int, streamed bool) {
	fs, ts := from.Size(), to.Size()
	ni, nj := rng.IntN(3*512/ts), rng.IntN(100)
	if trial%2 == 0 {
		ni, nj = ni/8*8, nj/8*8 // whole tiles only
	}
	si := nj + rng.IntN(5) // source row stride, in elements
	src := make([]byte, max(1, ni*si*fs))
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	off := make([]int, ni)
	for i := range off {
		off[i] = i * si * fs
	}
	dj := 4096/ts + rng.IntN(5) - 2
	align := 1
	if streamed {
		line := 64 / ts // elements of a line
		dj = (ni + rng.IntN(3*line) + line) / line * line
		align = 64
	}
	all, dst := guardedAligned[byte](max(1, nj*dj*ts), align)
	want := bytes.Clone(asBytes(all))
	at := int(uintptr(unsafe.Pointer(&dst[0])) - uintptr(unsafe.Pointer(&all[0])))
	load := func(b []byte, size int) uint64 { // in the host's order, as the kernels read
		switch size {
		case 1:
			return uint64(b[0])
		case 2:
			return uint64(binary.NativeEndian.Uint16(b))
		case 4:
			return uint64(binary.NativeEndian.Uint32(b))
		}
		return binary.NativeEndian.Uint64(b)
	}
	store := func(b []byte, size int, v uint64) {
		switch size {
		case 1:
			b[0] = byte(v)
		case 2:
			binary.NativeEndian.PutUint16(b, uint16(v))
		case 4:
			binary.NativeEndian.PutUint32(b, uint32(v))
		default:
			binary.NativeEndian.PutUint64(b, v)
		}
	}
	for i := range ni {
		for j := range nj {
			p := at + (j*dj+i)*ts
			store(want[p:], ts, refConvert(from, to, load(src[off[i]+j*fs:], fs)))
		}
	}
	if ni > 0 && nj > 0 {
		buf := new(generated.CrowdBuffer)
		if streamed {
			buf = nil
		}
		require.True(t, generated.ConvTransposeRows(from, to, unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), off, nj, dj, streamed, buf))
		if streamed {
			generated.StreamFence()
		}
	}
	got := asBytes(all)
	for k := range got {
		if got[k] != want[k] {
			e := (k - at) / ts
			g, w := load(got[at+e*ts:], ts), load(want[at+e*ts:], ts)
			if e >= 0 && e*ts < len(dst) && sameConverted(to, g, w) {
				continue
			}
			require.Failf(t, "converted transpose differs", "%v → %v trial %d: ni %d nj %d dj %d: byte %d (element %d): got %#x, want %#x", from, to, trial, ni, nj, dj, k-at, e, g, w)
		}
	}
}
