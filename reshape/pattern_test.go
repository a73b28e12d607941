package reshape

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// chain is a sequence of view operations that a pattern should equal.
type chain func(Tensor[int32]) (Tensor[int32], error)

func must(t Tensor[int32], err error) Tensor[int32] {
	if err != nil {
		panic(err)
	}
	return t
}

// TestPatterns applies patterns to tensors, the einops documentation's own
// examples among them, and checks the result against the equivalent chain
// of Split, Permute, Squeeze and Unsqueeze (the view before the groups are
// merged): its elements in row-major order, grouped to the expected shape,
// are the contiguous result (Apply, Into, Matrix), and where the groups are
// a view of the row-major input, View gives that shape over the same
// elements.
func TestPatterns(t *testing.T) {
	cases := []struct {
		pattern string
		sizes   []Size
		shape   []int
		elem    chain // the view before the groups of the right side
		out     []int // the groups' extents
		view    bool  // the groups are a view of the row-major input
	}{
		{"b h w c -> b h w c", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x, nil }, []int{2, 3, 4, 5}, true},
		{"b h w c -> b c h w", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Permute(0, 3, 1, 2) }, []int{2, 5, 3, 4}, true},
		{"b h w c -> (b h) w c", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x, nil }, []int{6, 4, 5}, true},
		{"b h w c -> h (b w) c", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Permute(1, 0, 2, 3) }, []int{3, 8, 5}, false},
		{"b h w c -> b (c h w)", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Permute(0, 3, 1, 2) }, []int{2, 60}, false},
		{"b h w c -> b (h w) c", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x, nil }, []int{2, 12, 5}, true},
		{"b (h h1) (w w1) c -> (b h1 w1) h w c", []Size{{"h1", 2}, {"w1", 2}}, []int{2, 4, 6, 3}, func(x Tensor[int32]) (Tensor[int32], error) {
			return must(must(x.Split(1, -1, 2)).Split(3, -1, 2)).Permute(0, 2, 4, 1, 3, 5)
		}, []int{8, 2, 3, 3}, false},
		{"b (h h1) (w w1) c -> b h w (c h1 w1)", []Size{{"h1", 2}, {"w1", 2}}, []int{2, 4, 6, 3}, func(x Tensor[int32]) (Tensor[int32], error) {
			return must(must(x.Split(1, -1, 2)).Split(3, -1, 2)).Permute(0, 1, 3, 5, 2, 4)
		}, []int{2, 2, 3, 12}, false},
		{"(b1 b2) h w c -> (b1 h) (b2 w) c", []Size{{"b1", 2}}, []int{6, 3, 4, 2}, func(x Tensor[int32]) (Tensor[int32], error) {
			return must(x.Split(0, 2, -1)).Permute(0, 2, 1, 3, 4)
		}, []int{6, 12, 2}, false},
		{"b h p d -> (b p) (h d)", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Permute(0, 2, 1, 3) }, []int{8, 15}, false},
		{"batch head pos d_head -> (batch pos) (head d_head)", nil, []int{1, 2, 3, 4}, func(x Tensor[int32]) (Tensor[int32], error) {
			return x.Permute(0, 2, 1, 3)
		}, []int{3, 8}, false},
		{"... f -> (...) f", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x, nil }, []int{24, 5}, true},
		{"... f -> (...) f", nil, []int{7}, func(x Tensor[int32]) (Tensor[int32], error) { return x, nil }, []int{1, 7}, true},
		{"b ... -> b (...)", nil, []int{2, 3, 4}, func(x Tensor[int32]) (Tensor[int32], error) { return x, nil }, []int{2, 12}, true},
		{"... c -> c ...", nil, []int{2, 3, 4}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Permute(2, 0, 1) }, []int{4, 2, 3}, true},
		{"b ... c -> (... b) c", nil, []int{2, 3, 4, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Permute(1, 2, 0, 3) }, []int{24, 5}, false},
		{"b 1 c -> b c", nil, []int{3, 1, 4}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Squeeze(1) }, []int{3, 4}, true},
		{"b c -> b 1 c", nil, []int{3, 4}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Unsqueeze(1) }, []int{3, 1, 4}, true},
		{"b c -> b () c", nil, []int{3, 4}, func(x Tensor[int32]) (Tensor[int32], error) { return x.Unsqueeze(1) }, []int{3, 1, 4}, true},
		{"(h d) p -> p h d", []Size{{"h", 3}}, []int{12, 5}, func(x Tensor[int32]) (Tensor[int32], error) { return must(x.Split(0, 3, 4)).Permute(2, 0, 1) }, []int{5, 3, 4}, true},
		{"l b p d -> (l b p) d", nil, []int{2, 2, 3, 4}, func(x Tensor[int32]) (Tensor[int32], error) { return x, nil }, []int{12, 4}, true},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s %v on %v", c.pattern, c.sizes, c.shape)
		data := make([]int32, product(c.shape))
		for i := range data {
			data[i] = int32(i)
		}
		x := must(New(data, c.shape...))
		elem, err := c.elem(x)
		require.NoError(t, err, name)
		want := make([]int32, elem.Len())
		require.NoError(t, Contiguous(want, elem), name)

		p, err := Compile[int32](c.pattern, c.sizes...)
		require.NoError(t, err, name)
		v, err := p.View(x)
		if c.view {
			require.NoError(t, err, name)
			require.Equal(t, c.out, v.Shape, name)
			got := make([]int32, v.Len())
			require.NoError(t, Contiguous(got, v), name)
			require.Equal(t, want, got, name)
		} else {
			require.ErrorIs(t, err, ErrPattern, name)
			require.ErrorIs(t, err, ErrStrides, name)
		}
		got, err := p.Apply(x)
		require.NoError(t, err, name)
		require.Equal(t, c.out, got.Shape, name)
		require.Equal(t, want, got.Data, name)
		into := make([]int32, len(data)+4)
		g2, err := p.Into(into, x)
		require.NoError(t, err, name)
		require.Equal(t, want, g2.Data, name)
		require.Equal(t, c.out, g2.Shape, name)
		require.Equal(t, make([]int32, 4), into[len(data):], name+": wrote past the result")
		if len(c.out) == 2 {
			m, err := p.Matrix(x)
			require.NoError(t, err, name)
			require.Equal(t, c.out, []int{m.Rows, m.Cols}, name)
			require.Equal(t, want, m.Data, name)
		}
		r, err := Rearrange(x, c.pattern, c.sizes...)
		if c.view {
			require.NoError(t, err, name)
			require.Equal(t, v, r, name)
		}
	}
}

// TestPatternErrors checks every refusal names the offending part.
func TestPatternErrors(t *testing.T) {
	for _, c := range []struct {
		pattern string
		sizes   []Size
		msg     string
	}{
		{"b h p d", nil, `has no "->"`},
		{"a -> b -> c", nil, `more than one "->"`},
		{"b h -> b b", nil, `axis "b" twice on the right`},
		{"b b -> b", nil, `axis "b" twice on the left`},
		{"b (h d -> b h d", nil, `"(" without ")" on the left`},
		{"b h) d -> b h d", nil, `")" without "(" on the left`},
		{"b ((h d)) -> b h d", nil, "nested parentheses"},
		{"b h -> b h x", nil, `axis "x" is on the right only`},
		{"b h x -> b h", nil, `axis "x" is on the left only`},
		{"b ... -> b", nil, `"..." is on one side only`},
		{"b ... ... -> b ...", nil, `"..." twice on the left`},
		{"b (h ...) -> b h ...", nil, `"..." inside a group on the left`},
		{"b 2 -> b", nil, "anonymous axis 2 on the left"},
		{"b h -> b (h 3)", nil, "anonymous axis 3 on the right"},
		{"b (h d) -> b h d", nil, "group (h d) needs the sizes of all but one of its axes; h, d have none"},
		{"b (h d) -> b h d", []Size{{"x", 2}}, `a size is given for "x", which the pattern does not name`},
		{"b (h d) -> b h d", []Size{{"h", 0}}, "size h=0 is not positive"},
		{"b (h d) -> b h d", []Size{{"h", 2}, {"h", 3}}, `two sizes for "h": 2 and 3`},
		{"b h + d -> b h d", nil, `unexpected "+" on the left`},
	} {
		_, err := Compile[float32](c.pattern, c.sizes...)
		require.ErrorIs(t, err, ErrPattern, c.pattern)
		require.ErrorContains(t, err, c.msg, c.pattern)
		require.ErrorContains(t, err, fmt.Sprintf("%q", c.pattern), "the error quotes the pattern")
	}

	// Errors of a pattern that does not fit the tensor.
	x := must(New(make([]int32, 2*12*5), 2, 12, 5))
	for _, c := range []struct {
		pattern string
		sizes   []Size
		msg     string
	}{
		{"b h p d -> b p h d", nil, "has 4 axes on the left, the tensor has rank 3"},
		{"b c d e ... -> b c d e ...", nil, `names 4 axes besides "...", the tensor has rank 3`},
		{"b (h d) p -> b h d p", []Size{{"h", 5}}, "group (h d): axis 1 has extent 12, which 5 (the sizes given) does not divide"},
		{"b (h d) p -> b h d p", []Size{{"h", 5}, {"d", 3}}, "group (h d): axis 1 has extent 12, the sizes given multiply to 15"},
		{"b h p -> b p h", []Size{{"p", 4}}, "axis p has extent 5, the size given is 4"},
		{"b 1 p -> b p", nil, `axis 1, "1" on the left, has extent 12`},
	} {
		p, err := Compile[int32](c.pattern, c.sizes...)
		require.NoError(t, err, c.pattern)
		_, err = p.View(x)
		require.ErrorIs(t, err, ErrPattern, c.pattern)
		require.ErrorContains(t, err, c.msg, c.pattern)
		_, err = p.MatrixInto(make([]int32, 120), x)
		require.ErrorIs(t, err, ErrPattern, c.pattern)
	}
	p, err := Compile[int32]("b h p -> b p h")
	require.NoError(t, err)
	_, err = p.Matrix(x)
	require.ErrorIs(t, err, ErrPattern)
	require.ErrorContains(t, err, "gives 3 axes, a matrix needs 2")
	_, err = p.MatrixInto(make([]int32, 119), must(New(make([]int32, 120), 2, 60)))
	require.ErrorIs(t, err, ErrPattern)
}

// TestPatternMatchesHandWritten checks the contiguous forms equal the
// hand-written Permute + ConcatLastDimensionsInto, and allocate nothing on
// the Into path.
func TestPatternMatchesHandWritten(t *testing.T) {
	data := make([]float32, 2*3*4*5)
	for i := range data {
		data[i] = float32(i)
	}
	x := must2(New(data, 2, 3, 4, 5))
	p, err := Compile[float32]("b h p d -> (b p) (h d)")
	require.NoError(t, err)
	want, err := ConcatLastDimensions(must2(x.Permute(0, 2, 1, 3)), 2)
	require.NoError(t, err)
	dst := make([]float32, len(data))
	got, err := p.MatrixInto(dst, x)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Zero(t, testing.AllocsPerRun(50, func() { _, _ = p.MatrixInto(dst, x) }), "MatrixInto allocates")
	f := p.Func()
	m, err := f(x)
	require.NoError(t, err)
	require.Equal(t, want, m)

	flat, err := Compile[float32]("... f -> (...) f")
	require.NoError(t, err)
	m, err = flat.Matrix(x)
	require.NoError(t, err)
	require.Same(t, &data[0], &m.Data[0], `"... f -> (...) f" is ToLastDimension: zero-copy`)
	require.Equal(t, []int{24, 5}, []int{m.Rows, m.Cols})
}

func must2(t Tensor[float32], err error) Tensor[float32] {
	if err != nil {
		panic(err)
	}
	return t
}
