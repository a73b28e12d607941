package reshape_test

import (
	"errors"
	"fmt"

	"github.com/stridekit/stridekit/reshape"
)

// The examples of reshape_to_last_dimension: [3,100] → [3,100],
// [3,3,100] → [9,100], [3,3,3,100] → [27,100].
func ExampleToLastDimension() {
	for _, shape := range [][]int{{3, 100}, {3, 3, 100}, {3, 3, 3, 100}} {
		n := 1
		for _, e := range shape {
			n *= e
		}
		t, err := reshape.New(make([]float32, n), shape...)
		if err != nil {
			panic(err)
		}
		m, err := reshape.ToLastDimension(t)
		if err != nil {
			panic(err)
		}
		fmt.Println(shape, "→", []int{m.Rows, m.Cols})
	}
	// Output:
	// [3 100] → [3 100]
	// [3 3 100] → [9 100]
	// [3 3 3 100] → [27 100]
}

// The examples of reshape_concat_last_dimensions: [3,4,5] with k=2 →
// [3,20], [2,3,4,5] with k=3 → [2,60].
func ExampleConcatLastDimensions() {
	for _, c := range []struct {
		shape []int
		k     int
	}{{[]int{3, 4, 5}, 2}, {[]int{2, 3, 4, 5}, 3}} {
		n := 1
		for _, e := range c.shape {
			n *= e
		}
		t, err := reshape.New(make([]float32, n), c.shape...)
		if err != nil {
			panic(err)
		}
		m, err := reshape.ConcatLastDimensions(t, c.k)
		if err != nil {
			panic(err)
		}
		fmt.Println(c.shape, "k =", c.k, "→", []int{m.Rows, m.Cols})
	}
	// Output:
	// [3 4 5] k = 2 → [3 20]
	// [2 3 4 5] k = 3 → [2 60]
}

// A capture hook gets attention outputs as [batch, head, pos, d_head] and
// stores one feature vector per (batch, pos) token: permute to
// [batch, pos, head, d_head] as a view, then concatenate the last two axes.
// The permuted view is not contiguous, so ConcatLastDimensions copies it,
// through the kernel for rows of d_head elements.
func ExampleConcatLastDimensionsFunc() {
	batch, heads, pos, dHead := 1, 2, 3, 2
	data := make([]int32, batch*heads*pos*dHead)
	for i := range data {
		data[i] = int32(i)
	}
	x, _ := reshape.New(data, batch, heads, pos, dHead)
	x, _ = x.Permute(0, 2, 1, 3)

	var hook reshape.Func[int32] = reshape.ConcatLastDimensionsFunc[int32](2)
	m, err := hook(x)
	if err != nil {
		panic(err)
	}
	for i := range m.Rows {
		fmt.Println(m.Data[i*m.Cols : (i+1)*m.Cols])
	}
	// Output:
	// [0 1 6 7]
	// [2 3 8 9]
	// [4 5 10 11]
}

// A capture hook that grows one activation store: each batch of attention
// outputs [batch, head, pos, d_head] is permuted to [batch, pos, head,
// d_head] and its last two axes appended as rows of features. The store
// grows as append grows a slice; each call returns the rows it added.
func ExampleAppendConcatLastDimensions() {
	var store []int32
	hook := func(x reshape.Tensor[int32]) error {
		x, err := x.Permute(0, 2, 1, 3)
		if err != nil {
			return err
		}
		var rows reshape.Matrix[int32]
		store, rows, err = reshape.AppendConcatLastDimensions(store, x, 2)
		if err != nil {
			return err
		}
		fmt.Println("added", rows.Rows, "rows of", rows.Cols, "features:", rows.Data)
		return nil
	}
	for b := range 2 { // two captured batches of [1, 2, 2, 2]
		data := make([]int32, 8)
		for i := range data {
			data[i] = int32(10*b + i)
		}
		x, _ := reshape.New(data, 1, 2, 2, 2)
		if err := hook(x); err != nil {
			panic(err)
		}
	}
	fmt.Println("store:", len(store)/4, "rows", store)
	// Output:
	// added 2 rows of 4 features: [0 1 4 5 2 3 6 7]
	// added 2 rows of 4 features: [10 11 14 15 12 13 16 17]
	// store: 4 rows [0 1 4 5 2 3 6 7 10 11 14 15 12 13 16 17]
}

// Contiguous writes a transposed view into a reused buffer, without
// allocating. A buffer that overlaps the source is refused.
func ExampleContiguous() {
	x, _ := reshape.New([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	xt, _ := x.Permute(1, 0)
	buf := make([]float64, 6)
	if err := reshape.Contiguous(buf, xt); err != nil {
		panic(err)
	}
	fmt.Println(buf)

	err := reshape.Contiguous(x.Data, xt)
	fmt.Println(errors.Is(err, reshape.ErrDst))
	// Output:
	// [1 4 2 5 3 6]
	// true
}

// Slice and Expand make views like Python's x[:, ::-1] and torch.expand.
func ExampleTensor_Slice() {
	x, _ := reshape.New([]int8{1, 2, 3, 4, 5, 6}, 2, 3)
	rev, _ := x.Slice(1, 2, -1, -1) // x[:, ::-1]
	m, _ := reshape.ToLastDimension(rev)
	fmt.Println(m.Data)

	row, _ := x.Slice(0, 0, 1, 1)   // x[:1], shape [1, 3]
	wide, _ := row.Expand(3, 2, -1) // [3, 2, 3], stride 0 on the first two axes
	m, _ = reshape.ToLastDimension(wide)
	fmt.Println(m.Rows, m.Cols, m.Data)
	// Output:
	// [3 2 1 6 5 4]
	// 6 3 [1 2 3 1 2 3 1 2 3 1 2 3 1 2 3 1 2 3]
}

// MatrixShape sizes a destination before any data exists, for example to
// preallocate an activation store.
func ExampleMatrixShape() {
	rows, cols, err := reshape.MatrixShape([]int{32, 256, 12, 64}, 2)
	fmt.Println(rows, cols, err)
	_, _, err = reshape.MatrixShape([]int{32, 256}, 3)
	fmt.Println(errors.Is(err, reshape.ErrConcatDims))
	// Output:
	// 8192 768 <nil>
	// true
}

// The heads of an attention output [batch, head, pos, d_head], one row per
// token, as einops writes it: the same copy as Permute(0, 2, 1, 3) with
// ConcatLastDimensions(2). A hook compiles the pattern once and applies it
// to every batch, into a reused buffer, without allocating.
func ExampleCompile() {
	z, err := reshape.New(make([]float32, 2*12*128*64), 2, 12, 128, 64)
	if err != nil {
		panic(err)
	}
	heads, err := reshape.Compile[float32]("batch head pos d_head -> (batch pos) (head d_head)")
	if err != nil {
		panic(err)
	}
	buf := make([]float32, z.Len())
	m, err := heads.MatrixInto(buf, z)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Rows, m.Cols)
	// Output:
	// 256 768
}

// Tokens × features of a residual stream [batch, pos, d_model]: "... f ->
// (...) f" is ToLastDimension, without a copy when the capture is
// contiguous.
func ExampleRearrange() {
	resid, err := reshape.New(make([]float32, 4*128*768), 4, 128, 768)
	if err != nil {
		panic(err)
	}
	flat, err := reshape.Rearrange(resid, "... f -> (...) f")
	if err != nil {
		panic(err)
	}
	fmt.Println(flat.Shape)
	// Output:
	// [512 768]
}

// One layer of a stacked capture [layer, batch, pos, d_model], and a split
// of the fused heads of [batch, pos, (head d_head)] back into heads: views,
// nothing copied.
func ExampleTensor_Select() {
	stack, err := reshape.New(make([]float32, 12*2*16*768), 12, 2, 16, 768)
	if err != nil {
		panic(err)
	}
	layer6, err := stack.Select(0, 6)
	if err != nil {
		panic(err)
	}
	bos, err := layer6.Select(1, 0) // position 0 of every sequence
	if err != nil {
		panic(err)
	}
	split, err := reshape.Rearrange(layer6, "b p (h d) -> b h p d", reshape.Size{Name: "h", Value: 12})
	if err != nil {
		panic(err)
	}
	fmt.Println(layer6.Shape, bos.Shape, split.Shape)
	// Output:
	// [2 16 768] [2 768] [2 12 16 64]
}
