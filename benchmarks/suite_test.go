package benchmarks

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/reshape"
)

// guard is the number of elements past the result that a destination carries
// to catch writes beyond it.
const guard = 16

func TestCasesOrder(t *testing.T) {
	var names []string
	for _, c := range Cases() {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{"heads", "transpose2d", "reverse4d", "mixed5d", "mixed6d", "slice", "broadcast", "small"}, names)
}

func TestCasesFreshSlices(t *testing.T) {
	a := Cases()
	a[0].Shape[0] = -1
	require.Equal(t, 32, Cases()[0].Shape[0], "Cases shares its slices between calls")
}

func TestViewShape(t *testing.T) {
	want := map[string][]int{
		"heads":       {32, 256, 12, 64},
		"transpose2d": {4096, 4096},
		"reverse4d":   {128, 64, 32, 16},
		"mixed5d":     {8, 16, 16, 8, 64},
		"mixed6d":     {4, 8, 8, 8, 16, 32},
		"slice":       {32, 256, 12, 64},
		"broadcast":   {32, 256, 768},
		"small":       {3, 3, 100},
	}
	for _, c := range Cases() {
		require.Equal(t, want[c.Name], c.ViewShape(), "case %s", c.Name)
		require.Len(t, c.ViewShape(), c.Rank, "case %s: Rank", c.Name)
	}
}

func TestBytes(t *testing.T) {
	for _, c := range Cases() {
		n := int64(1)
		for _, e := range c.ViewShape() {
			n *= int64(e)
		}
		require.Equal(t, 2*n*4, c.Bytes(4), "case %s", c.Name)
		require.Equal(t, 2*n*2, c.Bytes(2), "case %s", c.Name)
	}
	// broadcast counts the output on both sides, not the 1×256×768 source
	require.Equal(t, int64(2*32*256*768*4), Cases()[6].Bytes(4))
}

// TestNaiveCopy checks the baseline itself against results worked out by hand.
func TestNaiveCopy(t *testing.T) {
	data := []float32{0, 1, 2, 3, 4, 5}
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
	}
	for _, tt := range tests {
		dst := make([]float32, len(tt.want))
		NaiveCopy(dst, tt.t)
		require.Equal(t, tt.want, dst, tt.name)
	}
}

func TestCasesFloat32(t *testing.T)  { testCases[float32](t) }
func TestCasesBFloat16(t *testing.T) { testCases[reshape.BFloat16](t) }

// testCases checks every case in element type T: the view has the promised
// shape and non-zero source; stridekit's result equals NaiveCopy's element
// for element without writing past it; the copying cases write into dst and
// allocate nothing; "small" aliases its source.
func testCases[T reshape.Element](t *testing.T) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			src, err := Build[T](c)
			require.NoError(t, err)
			require.Equal(t, c.ViewShape(), src.Shape)
			require.False(t, slices.Contains(src.Data, 0), "Build left a zero in the source")
			n := c.Elements()
			require.Equal(t, n, src.Len())

			want := make([]T, n)
			NaiveCopy(want, src)
			srcCopy := append([]T(nil), src.Data...)

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

			allocs := testing.AllocsPerRun(2, func() {
				if _, err := Run(c, dst, src); err != nil {
					panic(err)
				}
			})
			require.Zero(t, allocs, "allocations per Run")
		})
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
	c := Cases()[7] // small
	src, err := Build[float32](c)
	require.NoError(t, err)
	// The same case over a transposed view cannot alias: Run must say so.
	src, err = src.Permute(2, 1, 0)
	require.NoError(t, err)
	_, err = Run(c, nil, src)
	require.ErrorIs(t, err, ErrNotZeroCopy)
}
