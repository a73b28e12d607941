package reshape

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// elementsOf returns the view's elements in row-major order.
func elementsOf(t *testing.T, v Tensor[int32]) []int32 {
	t.Helper()
	out := make([]int32, v.Len())
	require.NoError(t, Contiguous(out, v))
	return out
}

// iota32 returns 0, 1, ..., n-1.
func iota32(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// TestViews checks each view operation on a permuted, sliced source
// against the elements worked out by hand, and its refusals.
func TestViews(t *testing.T) {
	x := must(New(iota32(24), 2, 3, 4)) // x[i][j][k] = 12i + 4j + k

	s := must(x.Split(2, 2, -1))
	require.Equal(t, []int{2, 3, 2, 2}, s.Shape)
	require.Equal(t, iota32(24), elementsOf(t, s))
	s = must(must(x.Permute(2, 0, 1)).Split(0, -1, 2)) // axis of 4 (stride 1) into 2×2
	require.Equal(t, []int{2, 2, 2, 3}, s.Shape)
	require.Equal(t, []int{2, 1, 12, 4}, s.Strides)
	_, err := x.Split(2, 3, -1)
	require.ErrorIs(t, err, ErrShape)
	require.ErrorContains(t, err, "3 does not divide it")
	_, err = x.Split(2, 2, 3)
	require.ErrorContains(t, err, "the sizes multiply to 6")
	_, err = x.Split(2, -1, -1)
	require.ErrorContains(t, err, "more than one -1")
	_, err = x.Split(5, 2)
	require.ErrorContains(t, err, "split axis 5 is outside a tensor of rank 3")

	m := must(x.Merge(0, 1))
	require.Equal(t, []int{6, 4}, m.Shape)
	require.Equal(t, iota32(24), elementsOf(t, m))
	_, err = must(x.Permute(0, 2, 1)).Merge(1, 2) // [4,3] strides [1,4]: not a view
	require.ErrorIs(t, err, ErrStrides)
	require.ErrorContains(t, err, "do not merge as a view")
	rev := must(x.Flip(0))
	m = must(rev.Merge(1, 2)) // merging inside a reversed axis' neighbours is still a view
	require.Equal(t, []int32{12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, elementsOf(t, m))
	_, err = x.Merge(2, 1)
	require.ErrorContains(t, err, "the first comes after the last")
	empty := Tensor[int32]{Data: nil, Shape: []int{2, 0, 3}, Strides: []int{7, 100, 1}}
	me := must(empty.Merge(0, 2))
	require.Equal(t, []int{0}, me.Shape)

	one := must(New(iota32(6), 1, 2, 1, 3))
	sq := must(one.Squeeze())
	require.Equal(t, []int{2, 3}, sq.Shape)
	require.Equal(t, []int{2, 1, 3}, must(one.Squeeze(0)).Shape)
	require.Equal(t, []int{1, 2, 3}, must(one.Squeeze(-2)).Shape)
	_, err = one.Squeeze(1)
	require.ErrorContains(t, err, "squeeze of axis 1 of extent 2")
	_, err = must(New(iota32(1), 1, 1)).Squeeze()
	require.ErrorContains(t, err, "leaves no axis")

	u := must(x.Unsqueeze(1))
	require.Equal(t, []int{2, 1, 3, 4}, u.Shape)
	require.True(t, u.IsContiguous())
	require.Equal(t, []int{2, 3, 4, 1}, must(x.Unsqueeze(-1)).Shape)
	_, err = x.Unsqueeze(5)
	require.ErrorContains(t, err, "unsqueeze axis 5 is outside a tensor of rank 4")

	sel := must(x.Select(1, -1)) // x[:, 2, :]
	require.Equal(t, []int{2, 4}, sel.Shape)
	require.Equal(t, []int32{8, 9, 10, 11, 20, 21, 22, 23}, elementsOf(t, sel))
	require.Equal(t, []int32{13, 17, 21}, elementsOf(t, must(must(x.Select(0, 1)).Select(1, 1))))
	_, err = x.Select(1, 3)
	require.ErrorContains(t, err, "select index 3 is outside axis 1 of extent 3")
	_, err = must(New(iota32(3), 3)).Select(0, 1)
	require.ErrorContains(t, err, "leaves no axis")

	f := must(x.Flip(-1))
	require.Equal(t, []int32{3, 2, 1, 0}, elementsOf(t, must(must(f.Select(0, 0)).Select(0, 0))))
	require.Equal(t, x.Shape, must(must(New(iota32(24), 2, 3, 4)).Flip(1)).Shape)
	_, err = x.Flip(3)
	require.ErrorIs(t, err, ErrShape)

	bad := Tensor[int32]{Data: iota32(3), Shape: []int{4}}
	for _, op := range []func() error{
		func() error { _, err := bad.Split(0, 2, 2); return err },
		func() error { _, err := bad.Merge(0, 0); return err },
		func() error { _, err := bad.Squeeze(); return err },
		func() error { _, err := bad.Unsqueeze(0); return err },
		func() error { _, err := bad.Select(0, 0); return err },
		func() error { _, err := bad.Flip(0); return err },
	} {
		require.ErrorIs(t, op(), ErrStrides, "an invalid view is refused first")
	}
}
