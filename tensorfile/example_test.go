package tensorfile_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/stridekit/stridekit/reshape"
	"github.com/stridekit/stridekit/tensorfile"
)

// Open a capture, reshape it and write the result: an attention output
// [batch, head, pos, d_head] saved by NumPy becomes one row per token with
// the heads concatenated, as
// np.save("items.npy", x.transpose(0, 2, 1, 3).reshape(-1, head*d_head)).
func Example() {
	dir, err := os.MkdirTemp("", "stridekit-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "attn.npy"), filepath.Join(dir, "items.npy")

	// The capture: [batch=1, head=2, pos=3, d_head=2] float32, its bytes in
	// the host's order as Go holds them (Save writes them little-endian, as
	// np.save does).
	var raw []byte
	for i := range 12 {
		raw = binary.NativeEndian.AppendUint32(raw, math.Float32bits(float32(i)))
	}
	capture, err := tensorfile.NewArray("", tensorfile.Float32, []int{1, 2, 3, 2}, false, raw)
	if err != nil {
		panic(err)
	}
	if err := tensorfile.Save(in, nil, capture); err != nil {
		panic(err)
	}

	// Open maps the file; its array is a view, nothing is read yet.
	f, err := tensorfile.Open(in)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	a := f.Arrays[0]
	fmt.Println("read:", a.DType, a.Shape)

	// Permute to [batch, pos, head, d_head] and concatenate the last two
	// axes; the result is copied block by block as Save writes it.
	items, err := tensorfile.ReshapeLazy(a, tensorfile.ReshapeOptions{Permute: []int{0, 2, 1, 3}, ConcatDims: 2})
	if err != nil {
		panic(err)
	}
	if err := tensorfile.Save(out, nil, items); err != nil {
		panic(err)
	}

	g, err := tensorfile.Open(out)
	if err != nil {
		panic(err)
	}
	defer g.Close()
	t, err := tensorfile.Tensor[float32](g.Arrays[0])
	if err != nil {
		panic(err)
	}
	fmt.Println("wrote:", g.Arrays[0].Shape)
	for r := range t.Shape[0] {
		fmt.Println(t.Data[r*4 : r*4+4])
	}
	// Output:
	// read: float32 [1 2 3 2]
	// wrote: [3 4]
	// [0 1 6 7]
	// [2 3 8 9]
	// [4 5 10 11]
}

// A capture hook's batches gathered into one training set on disk: each
// batch's rows are appended as they come, and Close writes the header,
// whose row count only it knows. With MatrixOptions.ShardSize the rows go
// to .safetensors shards with a Hugging Face index instead.
func ExampleMatrixWriter() {
	dir, err := os.MkdirTemp("", "stridekit-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dataset.npy")

	w, err := tensorfile.NewMatrixWriter(path, tensorfile.Float32, 4, nil)
	if err != nil {
		panic(err)
	}
	for batch := range 3 {
		// [batch=1, head=2, pos=2, d_head=2] → 2 rows of 4 features.
		data := make([]float32, 8)
		for i := range data {
			data[i] = float32(10*batch + i)
		}
		x, _ := reshape.New(data, 1, 2, 2, 2)
		x, _ = x.Permute(0, 2, 1, 3)
		rows, err := reshape.ConcatLastDimensions(x, 2)
		if err != nil {
			panic(err)
		}
		if err := tensorfile.AppendMatrix(w, rows); err != nil {
			w.Abort()
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	f, err := tensorfile.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Println(f.Arrays[0].DType, f.Arrays[0].Shape)
	// Output:
	// float32 [6 4]
}
