package reshape

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sentinels lists every exported sentinel error.
var sentinels = []error{ErrShape, ErrStrides, ErrConcatDims, ErrPermutation, ErrDst}

// TestErrors triggers every sentinel through the public API and checks the
// error wraps exactly that sentinel, says something beyond it, and leaves the
// destination untouched.
func TestErrors(t *testing.T) {
	data := make([]float32, 24)
	for i := range data {
		data[i] = float32(i)
	}
	base, err := New(data, 2, 3, 4)
	require.NoError(t, err)
	transposed, err := base.Permute(2, 1, 0)
	require.NoError(t, err)
	raw := func(shape, strides []int, offset int) Tensor[float32] {
		return Tensor[float32]{Data: data, Shape: shape, Strides: strides, Offset: offset}
	}
	huge := math.MaxInt/2 + 1

	cases := []struct {
		name string
		want error
		call func(dst []float32) error
	}{
		{"rank 0", ErrShape, func(dst []float32) error { return Contiguous(dst, raw([]int{}, nil, 0)) }},
		{"nil shape", ErrShape, func(dst []float32) error { return Contiguous(dst, raw(nil, nil, 0)) }},
		{"negative extent", ErrShape, func(dst []float32) error { return Contiguous(dst, raw([]int{2, -1}, nil, 0)) }},
		{"extents overflow", ErrShape, func(dst []float32) error { return Contiguous(dst, raw([]int{huge, 4}, []int{0, 0}, 0)) }},
		{"zero extent hides no overflow", ErrShape, func(dst []float32) error { return Contiguous(dst, raw([]int{0, huge, huge}, nil, 0)) }},
		{"New length mismatch", ErrShape, func([]float32) error { _, err := New(data, 5, 5); return err }},
		{"New rank 0", ErrShape, func([]float32) error { _, err := New(data); return err }},
		{"Slice step 0", ErrShape, func([]float32) error { _, err := base.Slice(1, 0, 2, 0); return err }},
		{"Slice stop past extent", ErrShape, func([]float32) error { _, err := base.Slice(1, 0, 4, 1); return err }},
		{"Slice negative start", ErrShape, func([]float32) error { _, err := base.Slice(1, -1, 2, 1); return err }},
		{"Slice negative step start past end", ErrShape, func([]float32) error { _, err := base.Slice(1, 3, -1, -1); return err }},
		{"Slice stop below -1", ErrShape, func([]float32) error { _, err := base.Slice(1, 2, -2, -1); return err }},
		{"Slice axis out of range", ErrShape, func([]float32) error { _, err := base.Slice(3, 0, 1, 1); return err }},
		{"Expand non-1 axis", ErrShape, func([]float32) error { _, err := base.Expand(2, 5, 4); return err }},
		{"Expand fewer axes", ErrShape, func([]float32) error { _, err := base.Expand(3, 4); return err }},
		{"Expand negative new axis", ErrShape, func([]float32) error { _, err := base.Expand(-1, 2, 3, 4); return err }},
		{"Expand overflow", ErrShape, func([]float32) error {
			one, err := New(data[:1], 1, 1)
			require.NoError(t, err)
			_, err = one.Expand(huge, huge)
			return err
		}},

		{"broadcast result too large to allocate", ErrShape, func([]float32) error {
			one, err := New(data[:1], 1)
			require.NoError(t, err)
			big, err := one.Expand(math.MaxInt / 2)
			require.NoError(t, err, "a valid view: every element is data[0]")
			_, err = ToLastDimension(big)
			return err
		}},

		{"too few strides", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{2, 3, 4}, []int{12, 4}, 0)) }},
		{"too many strides", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{24}, []int{1, 1}, 0)) }},
		{"stride past end", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{2, 3, 4}, []int{13, 4, 1}, 0)) }},
		{"negative stride before start", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{4}, []int{-1}, 2)) }},
		{"negative offset", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{4}, []int{1}, -1)) }},
		{"offset past end", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{1}, nil, 24)) }},
		{"nil strides past end", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{24}, nil, 1)) }},
		{"empty view offset past end", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{0}, nil, 25)) }},
		{"stride overflow", ErrStrides, func(dst []float32) error { return Contiguous(dst, raw([]int{3}, []int{huge}, 0)) }},
		{"offset plus span overflow", ErrStrides, func(dst []float32) error {
			return Contiguous(dst, raw([]int{2, 2}, []int{math.MaxInt - 2, 1}, 3))
		}},

		{"concat 0", ErrConcatDims, func(dst []float32) error { _, err := ConcatLastDimensionsInto(dst, base, 0); return err }},
		{"concat rank+1", ErrConcatDims, func(dst []float32) error { _, err := ConcatLastDimensionsInto(dst, base, 4); return err }},
		{"concat negative", ErrConcatDims, func([]float32) error { _, err := ConcatLastDimensions(base, -1); return err }},
		{"concat Func", ErrConcatDims, func([]float32) error { _, err := ConcatLastDimensionsFunc[float32](5)(base); return err }},

		{"MatrixShape concat 0", ErrConcatDims, func([]float32) error { _, _, err := MatrixShape([]int{2, 3}, 0); return err }},
		{"MatrixShape rank 0", ErrShape, func([]float32) error { _, _, err := MatrixShape(nil, 1); return err }},
		{"MatrixShape overflow", ErrShape, func([]float32) error { _, _, err := MatrixShape([]int{huge, huge}, 1); return err }},

		{"Permute short", ErrPermutation, func([]float32) error { _, err := base.Permute(1, 0); return err }},
		{"Permute duplicate", ErrPermutation, func([]float32) error { _, err := base.Permute(0, 1, 1); return err }},
		{"Permute out of range", ErrPermutation, func([]float32) error { _, err := base.Permute(0, 1, 3); return err }},
		{"Permute negative out of range", ErrPermutation, func([]float32) error { _, err := base.Permute(0, 1, -4); return err }},
		{"Permute negative duplicate", ErrPermutation, func([]float32) error { _, err := base.Permute(2, 1, -1); return err }},

		{"dst too short", ErrDst, func(dst []float32) error { return Contiguous(dst[:23], transposed) }},
		{"dst too short Into", ErrDst, func(dst []float32) error { _, err := ToLastDimensionInto(dst[:5], transposed); return err }},
		{"dst is the source", ErrDst, func([]float32) error { return Contiguous(data, transposed) }},
		{"dst overlaps the source's tail", ErrDst, func([]float32) error {
			view, err := New(data[:12], 3, 4)
			require.NoError(t, err)
			view, err = view.Permute(1, 0)
			require.NoError(t, err)
			return Contiguous(data[11:], view)
		}},
		{"dst overlaps a contiguous source", ErrDst, func([]float32) error {
			_, err := ConcatLastDimensionsInto(data[3:], Tensor[float32]{Data: data[:4], Shape: []int{4}}, 1)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all, dst := guarded[float32](24)
			snapshot := append([]float32(nil), data...)
			err := c.call(dst)
			require.Error(t, err)
			require.ErrorIs(t, err, c.want)
			for _, other := range sentinels {
				if other != c.want {
					assert.NotErrorIs(t, err, other, "wraps one sentinel only")
				}
			}
			assert.Greater(t, len(err.Error()), len(c.want.Error())+2, "the message says what was wrong")
			assert.True(t, guardsIntact(all), "dst written")
			for _, v := range asBytes(dst) {
				require.Equal(t, byte(guardByte), v, "dst written on error")
			}
			require.Equal(t, snapshot, data, "source modified")
		})
	}
}

// TestValidOddViews checks views that look odd but are valid are accepted:
// a disjoint dst right after the source, any stride on a size-1 axis, an
// empty view at the end of Data, and a reversed whole axis.
func TestValidOddViews(t *testing.T) {
	data := make([]int32, 32)
	for i := range data {
		data[i] = int32(i)
	}
	view := Tensor[int32]{Data: data[:8], Shape: []int{2, 4}, Strides: []int{1, 2}}
	m, err := ToLastDimensionInto(data[8:], view)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 2, 4, 6, 1, 3, 5, 7}, m.Data)

	require.NoError(t, Tensor[int32]{Data: data, Shape: []int{1, 4}, Strides: []int{math.MaxInt, 1}}.Validate())
	require.NoError(t, Tensor[int32]{Data: data, Shape: []int{0}, Offset: 32}.Validate())

	base, err := New(data[:6], 2, 3)
	require.NoError(t, err)
	rev, err := base.Slice(1, 2, -1, -1)
	require.NoError(t, err)
	m, err = ToLastDimension(rev)
	require.NoError(t, err)
	require.Equal(t, []int32{2, 1, 0, 5, 4, 3}, m.Data)
	neg, err := base.Permute(-1, -2)
	require.NoError(t, err)
	m, err = ToLastDimension(neg)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 3, 1, 4, 2, 5}, m.Data)
}

// TestErrorsAreSentinels checks each sentinel is distinct and errors.Is
// finds it through further wrapping.
func TestErrorsAreSentinels(t *testing.T) {
	for i, a := range sentinels {
		for j, b := range sentinels {
			assert.Equal(t, i == j, errors.Is(a, b))
		}
	}
	_, err := New([]int8{1, 2, 3}, 2, 2)
	wrapped := errors.Join(errors.New("loading layer 3"), err)
	assert.ErrorIs(t, wrapped, ErrShape)
}

// TestLongShapeErrors checks that errors about a view of very many axes
// list a few extents and the count, not all of them.
func TestLongShapeErrors(t *testing.T) {
	shape := make([]int, 100000)
	for i := range shape {
		shape[i] = 1
	}
	_, err := New(make([]float32, 2), shape...)
	require.ErrorIs(t, err, ErrShape)
	assert.Less(t, len(err.Error()), 200)
	assert.Contains(t, err.Error(), "(100000 values)")
	v := Tensor[float32]{Data: []float32{1}, Shape: shape}
	_, err = v.Permute(shape...)
	require.ErrorIs(t, err, ErrPermutation)
	assert.Less(t, len(err.Error()), 200)
}
