package reshape

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzContiguous builds views straight from the fuzzer's bytes (element
// width, rank, extents, strides that may be negative or zero, offset,
// length of Data, a destination that may overlap the source, and whether
// the copy is split across the helpers) and checks Contiguous against the
// reference: a valid view is copied exactly with the guards intact, and an
// invalid one gives an error wrapping a sentinel with dst untouched. Nothing
// may panic.
//
// The first byte picks the width (1, 2, 4 or 8 bytes, low two bits), larger
// extents (bit 2: up to 39 rather than 7, with up to 4,335 elements of
// Data) and a forced parallel split (bit 3: every size splits, across 2 or
// 3 workers by bit 4), so that the fuzzer reaches every kernel width, the
// transposes' tiles and the helpers.
func FuzzContiguous(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 4, 1, 0, 50, 0, 0})             // 3x4 row-major
	f.Add([]byte{1, 2, 3, 4, 1, 3, 0, 50, 0, 0})             // transposed
	f.Add([]byte{1, 3, 2, 3, 4, 12, 1, 4, 0, 60, 0, 1})      // rows
	f.Add([]byte{1, 2, 5, 3, 0, 255, 4, 60, 0, 0})           // broadcast rows, reversed inner
	f.Add([]byte{1, 1, 7, 254, 9, 20, 2, 10})                // reversed with offset
	f.Add([]byte{1, 4, 2, 2, 2, 2, 8, 4, 2, 1, 0, 16, 1, 3}) // overlapping dst
	f.Add(splitSeeds[0])
	f.Add(splitSeeds[1])
	f.Add(splitSeeds[2])
	f.Fuzz(fuzzContiguousInput)
}

// splitSeeds are inputs of FuzzContiguous that split the copy across the
// helpers (TestFuzzSeedsSplit checks they do): a 4-byte transpose of 33x30
// in two parts, an 8-byte transpose of three axes in three, 8-byte
// broadcast rows in two.
var splitSeeds = [][]byte{
	{0x0e, 2, 33, 30, 1, 33, 1, 0, 255, 255, 62, 1},
	{0x1f, 3, 33, 5, 3, 1, 99, 33, 1, 0, 255, 255, 1, 1},
	{0x0f, 2, 39, 39, 0, 1, 1, 0, 40, 0, 0, 1},
}

// TestFuzzSeedsSplit checks that FuzzContiguous reaches the parallel path:
// each of splitSeeds posts parts to the helpers.
func TestFuzzSeedsSplit(t *testing.T) {
	for i, in := range splitSeeds {
		crew.busy.Lock()
		gen := crew.gen
		crew.busy.Unlock()
		fuzzContiguousInput(t, in)
		crew.busy.Lock()
		split := crew.gen != gen
		crew.busy.Unlock()
		if !split {
			t.Errorf("seed %d did not split the copy", i)
		}
	}
}

// fuzzContiguousInput is the body of FuzzContiguous.
func fuzzContiguousInput(t *testing.T, in []byte) {
	next := func() int {
		if len(in) == 0 {
			return 0
		}
		b := in[0]
		in = in[1:]
		return int(b)
	}
	mode := next()
	if mode&8 != 0 {
		defer SetMaxWorkers(SetMaxWorkers(2 + mode>>4&1))
		defer SetParallelThreshold(SetParallelThreshold(1))
	}
	switch mode & 3 {
	case 0:
		fuzzContiguous[uint8](t, next, mode&4 != 0)
	case 1:
		fuzzContiguous[int16](t, next, mode&4 != 0)
	case 2:
		fuzzContiguous[float32](t, next, mode&4 != 0)
	default:
		fuzzContiguous[uint64](t, next, mode&4 != 0)
	}
}

// fuzzContiguous is the body of FuzzContiguous for elements of type T.
func fuzzContiguous[T uint8 | int16 | float32 | uint64](t *testing.T, next func() int, large bool) {
	rank := next() % 9 // 0 is a valid (rejected) input
	shape, strides := make([]int, rank), make([]int, rank)
	extents := 8
	if large {
		extents = 40
	}
	for a := range shape {
		shape[a] = next() % extents
	}
	for a := range strides {
		strides[a] = int(int8(next())) // -128..127
	}
	if next()%5 == 0 {
		strides = nil
	}
	offset := int(int8(next()))
	length := next() + next()
	if large {
		length += next() << 4
	}
	data := make([]T, length)
	for i := range data {
		data[i] = T(i + 1) // distinct bytes: uint8 wraps only past 255
	}
	view := Tensor[T]{Data: data, Shape: shape, Strides: strides, Offset: offset}
	if n, err := count(shape); err == nil && n > 1<<16 {
		return // a valid broadcast of that many elements is slow to check, not new
	}
	at := next()
	overlapping := at%4 == 0 && at < len(data) // dst is data[at:]

	n := view.Len()
	validErr := view.Validate()
	var all, dst []T
	if overlapping {
		all, dst = nil, data[at:]
	} else {
		all, dst = guarded[T](max(n, 0))
	}
	before := slices.Clone(data)
	dstBefore := bytes.Clone(asBytes(dst))

	err := Contiguous(dst, view)
	if validErr != nil {
		if err == nil {
			t.Fatalf("invalid view %+v accepted: %v", view, validErr)
		}
	}
	// A valid view must be refused with ErrDst exactly when dst is
	// short or overlaps the span of data it reads, computed here from
	// the shape and strides.
	wantDstErr := false
	if validErr == nil {
		lo, hi := 0, n-1 // nil strides: row-major
		if strides != nil {
			lo, hi = span(shape, strides)
		}
		lo, hi = lo+offset, hi+offset
		if len(dst) < n {
			wantDstErr = true
		} else if overlapping && n > 0 {
			wantDstErr = at < hi+1 && lo < at+n
		}
	}
	if err != nil {
		if !errors.Is(err, ErrShape) && !errors.Is(err, ErrStrides) && !errors.Is(err, ErrDst) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if !bytes.Equal(dstBefore, asBytes(dst)) || !bytes.Equal(asBytes(before), asBytes(data)) {
			t.Fatalf("dst or source written on error %v", err)
		}
		if validErr == nil && !(wantDstErr && errors.Is(err, ErrDst)) {
			t.Fatalf("valid view %+v with dst at %d (overlapping %v) rejected: %v", view, at, overlapping, err)
		}
		return
	}
	if wantDstErr {
		t.Fatalf("view %+v: dst at %d overlaps the span it reads, but was accepted", view, at)
	}
	want := make([]T, n)
	referenceCopy(want, before, shape, strides, offset)
	if !bytes.Equal(asBytes(want), asBytes(dst[:n])) {
		t.Fatalf("view %+v: got %v want %v", view, dst[:n], want)
	}
	if all != nil && !guardsIntact(all) {
		t.Fatalf("view %+v: write outside dst", view)
	}
	if !overlapping && !bytes.Equal(asBytes(before), asBytes(data)) {
		t.Fatalf("view %+v: source modified", view)
	}
}

// FuzzPattern compiles arbitrary patterns and sizes and applies the ones it
// accepts to a tensor of a rank and extents from the input: it must never
// panic, every error must wrap a sentinel, and an accepted pattern must give
// a valid view (or ErrStrides for groups that need a copy) and a contiguous
// result with the elements of that view.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{
		"b h p d -> (b p) (h d)", "... f -> (...) f", "b (h d) -> b h d", "(b1 b2) h w c -> (b1 h) (b2 w) c",
		"b 1 c -> b c", "b c -> b () c", "a b -> b a", "b ... -> b (...)", "x -> x", "(a b c) -> c b a",
	} {
		f.Add(s, uint8(3), uint8(4), uint8(2))
	}
	f.Fuzz(func(t *testing.T, pattern string, a, b, c uint8) {
		sizes := []Size{{"h", int(a%5) + 1}, {"b1", int(b%4) + 1}, {"d", int(c%6) + 1}}
		var p *Pattern[int32]
		var err error
		for k := 0; k <= len(sizes); k++ { // the sizes the pattern names, as many as it takes
			if p, err = Compile[int32](pattern, sizes[:len(sizes)-k]...); err == nil {
				break
			}
		}
		if err != nil {
			require.ErrorIs(t, err, ErrPattern, pattern)
			return
		}
		rank := 1 + int(a%4)
		shape := make([]int, rank)
		for i := range shape {
			shape[i] = 1 + int((uint(b)+uint(c)*uint(i))%6)
		}
		x := must(New(iota32(product(shape)), shape...))
		v, err := p.View(x)
		if err != nil {
			require.True(t, errors.Is(err, ErrPattern) || errors.Is(err, ErrStrides), "%s on %v: %v", pattern, shape, err)
		} else {
			require.NoError(t, v.Validate(), "%s on %v", pattern, shape)
			require.Equal(t, x.Len(), v.Len())
		}
		got, err := p.Apply(x)
		if err != nil {
			require.ErrorIs(t, err, ErrPattern, "%s on %v", pattern, shape)
			return
		}
		n := 1
		for _, e := range got.Shape {
			n *= e
		}
		require.Equal(t, x.Len(), n, "%s on %v: %v", pattern, shape, got.Shape)
		if v.Shape != nil {
			want := make([]int32, v.Len())
			require.NoError(t, Contiguous(want, v))
			require.Equal(t, want, got.Data, "%s on %v", pattern, shape)
		}
	})
}
