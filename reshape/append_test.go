package reshape

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestAppend appends random views of every kind (see randomView) one after
// another to one store, each with a random concatDims, and checks after each
// the whole store against the reference: the rows appended before are
// untouched, the new tail equals referenceCopy, the returned Matrix is a view
// of exactly that tail, a contiguous view is copied rather than aliased, and
// the source is unchanged.
func TestAppend(t *testing.T) {
	t.Run("float32", testAppend[float32])
	t.Run("bfloat16", testAppend[BFloat16])
	t.Run("uint8", testAppend[uint8])
	t.Run("float64", testAppend[float64])
	t.Run("logit", testAppend[logit])
}

func testAppend[T Element](t *testing.T) {
	var zero T
	rng := rand.New(rand.NewPCG(uint64(unsafe.Sizeof(zero)), 12))
	trials := 200
	if testing.Short() {
		trials = 60
	}
	var store, want []T
	for trial := range trials {
		view, ops := randomView[T](t, rng, trial)
		name := fmt.Sprintf("trial %d: %s", trial, ops)
		n := view.Len()
		part := make([]T, n)
		referenceCopy(part, view.Data, view.Shape, view.Strides, view.Offset)
		before := bytes.Clone(asBytes(view.Data))
		k := 1 + rng.IntN(view.Rank())
		rows, cols, err := MatrixShape(view.Shape, k)
		require.NoError(t, err, name)

		var m Matrix[T]
		if k == 1 && rng.IntN(2) == 0 {
			store, m, err = AppendToLastDimension(store, view)
		} else {
			store, m, err = AppendConcatLastDimensions(store, view, k)
		}
		require.NoError(t, err, name)
		want = append(want, part...)
		require.Equal(t, asBytes(want), asBytes(store), "%s: store after append", name)
		require.Equal(t, [2]int{rows, cols}, [2]int{m.Rows, m.Cols}, "%s: shape of the rows added", name)
		require.Len(t, m.Data, n, name)
		require.Equal(t, n, cap(m.Data), "%s: the Matrix must not reach into the store's spare capacity", name)
		if n > 0 {
			require.Same(t, &store[len(store)-n], &m.Data[0], "%s: the Matrix is the store's tail", name)
			require.NotSame(t, &view.Data[view.Offset], &m.Data[0], "%s: copied, not aliased", name)
		}
		require.Equal(t, before, asBytes(view.Data), "%s: source modified", name)
	}
}

// TestAppendGrowth checks that a store grows as append grows a slice: the
// same capacities after each step as append(s, make([]T, n)...) gives, so
// allocations are amortised, and none at all while the capacity suffices.
func TestAppendGrowth(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var store, ref []float32
	grows := 0
	for step := range 300 {
		rows := 1 + rng.IntN(20)
		view, err := New(make([]float32, rows*3*8), rows, 3, 8)
		require.NoError(t, err)
		view, err = view.Permute(1, 0, 2) // a real copy: [3, rows, 8]
		require.NoError(t, err)
		prevCap := cap(store)
		store, _, err = AppendConcatLastDimensions(store, view, 2)
		require.NoError(t, err)
		ref = append(ref, make([]float32, view.Len())...)
		require.Equal(t, len(ref), len(store), "step %d", step)
		require.Equal(t, cap(ref), cap(store), "step %d: capacity differs from append's", step)
		if cap(store) != prevCap {
			grows++
		}
	}
	// 300 appends of 24..480 elements, about 75,000 in all: append's
	// growth (doubling, then 1.25×) reallocates a few dozen times at most.
	require.Less(t, grows, 40, "reallocations")

	view, err := New(make([]float32, 4*16), 4, 16)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	store = make([]float32, 0, 64*1000)
	allocs := testing.AllocsPerRun(100, func() {
		store, _, _ = AppendToLastDimension(store[:0], view)
	})
	require.Zero(t, allocs, "an append that fits the capacity allocates")
}

// TestAppendOverlap appends views of the store itself, as append(s, s...)
// does: when the tail would overwrite what the view reads, the store moves to
// a new array and the result is still exact; the old array is not written.
func TestAppendOverlap(t *testing.T) {
	store := make([]int32, 12, 40)
	for i := range store {
		store[i] = int32(i)
	}
	old := store
	spare := old[:cap(old)]
	for i := 12; i < len(spare); i++ {
		spare[i] = -1
	}
	// A view of the store's whole backing array, transposed: it reads
	// indices up to 39, so the tail 12..23 overlaps it.
	view, err := New(spare, 5, 8)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	want := make([]int32, 40)
	referenceCopy(want, spare, view.Shape, view.Strides, view.Offset)
	got, m, err := AppendToLastDimension(store, view)
	require.NoError(t, err)
	require.Equal(t, want, got[12:])
	require.Equal(t, old[:12], got[:12])
	require.Equal(t, [2]int{8, 5}, [2]int{m.Rows, m.Cols})
	require.NotSame(t, &old[0], &got[0], "must have moved to a new array")
	for i := 12; i < len(spare); i++ {
		require.Equal(t, int32(-1), spare[i], "old array written at %d", i)
	}

	// A view that reads only rows already in the store, the tail after
	// them: no overlap, so it grows in place.
	view, err = New(store, 3, 4)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	got, _, err = AppendToLastDimension(store, view)
	require.NoError(t, err)
	require.Same(t, &old[0], &got[0], "fits the capacity and does not overlap: in place")
	require.Equal(t, []int32{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, got[12:])
}

// TestAppendErrors checks that every error leaves the store as it was:
// the same slice back (length, capacity, array) and not a byte of its array
// written, spare capacity included.
func TestAppendErrors(t *testing.T) {
	data := make([]float32, 24)
	good, err := New(data, 2, 3, 4)
	require.NoError(t, err)
	for _, c := range []struct {
		name       string
		t          Tensor[float32]
		concatDims int
		sentinel   error
	}{
		{"concatDims 0", good, 0, ErrConcatDims},
		{"concatDims past the rank", good, 4, ErrConcatDims},
		{"rank 0", Tensor[float32]{Data: data}, 1, ErrShape},
		{"negative extent", Tensor[float32]{Data: data, Shape: []int{2, -3}}, 1, ErrShape},
		{"strides past the data", Tensor[float32]{Data: data, Shape: []int{2, 3}, Strides: []int{100, 1}}, 1, ErrStrides},
		{"strides for the wrong rank", Tensor[float32]{Data: data, Shape: []int{2, 3}, Strides: []int{1}}, 1, ErrStrides},
		{"too large to allocate", Tensor[float32]{Data: data[:1], Shape: []int{1 << 30, 1 << 30}, Strides: []int{0, 0}}, 1, ErrShape},
	} {
		all, _ := guarded[float32](8)
		store := all[:5]
		got, m, err := AppendConcatLastDimensions(store, c.t, c.concatDims)
		require.Error(t, err, c.name)
		require.True(t, errors.Is(err, c.sentinel), "%s: %v", c.name, err)
		require.Equal(t, len(store), len(got), c.name)
		require.Equal(t, cap(store), cap(got), c.name)
		require.Same(t, &store[0], &got[0], c.name)
		require.Zero(t, m.Rows+m.Cols+len(m.Data), c.name)
		for i, b := range asBytes(all) {
			require.Equal(t, byte(guardByte), b, "%s: byte %d of the store's array written", c.name, i)
		}
	}
}

// TestAppendEmpty checks that a view of no elements adds no rows and
// leaves the store where it is.
func TestAppendEmpty(t *testing.T) {
	store := make([]uint16, 3, 10)
	view, err := New([]uint16{}, 0, 4)
	require.NoError(t, err)
	got, m, err := AppendToLastDimension(store, view)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Same(t, &store[0], &got[0])
	require.Equal(t, [2]int{0, 4}, [2]int{m.Rows, m.Cols})
	require.Empty(t, m.Data)
	require.NotNil(t, m.Data)
}
