package tensorfile

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BenchmarkReadNPY measures what the comment at the top of npy.go cites:
// reading a 64 MiB float32 .npy file (4096×4096, in the page cache) and
// summing its elements, so that every implementation touches all the data
// once.
//
//   - impl=tensorfile: Open maps the file, Tensor views it, no copy.
//   - impl=npyio/into=slice: npy.Read into a []float32 through a 1 MiB
//     bufio.Reader (it makes one io.ReadFull call per element; from the bare
//     *os.File that is one read system call per element).
//   - impl=npyio/into=Array: npy.Read into an npy.Array, which reads all
//     the data with io.ReadAll and then decodes it.
//
// Run it with
//
//	go test -run '^$' -bench ReadNPY -count 3 ./tensorfile
func BenchmarkReadNPY(b *testing.B) {
	shape := []int{4096, 4096}
	data := make([]float32, count(shape))
	for i := range data {
		data[i] = float32(i % 1000)
	}
	a := mustArray("", Float32, shape, false, asBytes(data))
	path := filepath.Join(b.TempDir(), "x.npy")
	require.NoError(b, Save(path, nil, a))
	want := sum(data)
	size := int64(4 * len(data))

	b.Run("impl=tensorfile", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			t, err := Tensor[float32](f.Arrays[0])
			if err != nil {
				b.Fatal(err)
			}
			if got := sum(t.Data); got != want {
				b.Fatalf("sum %v, want %v", got, want)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=npyio/into=slice", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			var got []float32
			if err := npy.Read(bufio.NewReaderSize(f, 1<<20), &got); err != nil {
				b.Fatal(err)
			}
			f.Close()
			if s := sum(got); s != want {
				b.Fatalf("sum %v, want %v", s, want)
			}
		}
	})
	b.Run("impl=npyio/into=Array", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			var arr npy.Array
			if err := npy.Read(f, &arr); err != nil {
				b.Fatal(err)
			}
			f.Close()
			got, ok := arr.Data().([]float32)
			if !ok {
				b.Fatalf("npy.Array data is %T", arr.Data())
			}
			if s := sum(got); s != want {
				b.Fatalf("sum %v, want %v", s, want)
			}
		}
	})
}

// sum adds the elements up in float64, in order.
func sum(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s
}

// TestNPYIOLimits checks the reasons the comment at the top of npy.go gives
// for not reading .npy files with codeberg.org/sbinet/npyio (v0.14.0),
// besides speed: it refuses format version 3.0, its header parser panics
// on headers this package reads or refuses with an error, and its writer
// does not align the data as NumPy does.
func TestNPYIOLimits(t *testing.T) {
	a := mustArray("", Float32, []int{2}, false, ramp(Float32, 2))
	var got []float32
	v3 := encodeNPY(a, 3)
	assert.Error(t, npy.Read(bytes.NewReader(v3), &got), "npyio reads version 3.0")
	_, err := decode(v3, true)
	assert.NoError(t, err)

	for name, file := range map[string][]byte{
		// Keys in another order: valid Python, which NumPy reads.
		"keys reordered": npyWith(1, "{'shape': (2,), 'fortran_order': False, 'descr': '<f4', }", fileOrder(Float32, ramp(Float32, 2))),
		// A header without its final newline: an error here.
		"no newline": append(append([]byte(npyMagic), 1, 0, 8, 0), "{'a': 1}"...),
	} {
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			_ = npy.Read(bytes.NewReader(file), &got)
			return false
		}()
		assert.True(t, panicked, "%s: npyio no longer panics", name)
		f, err := decode(file, true)
		if name == "keys reordered" {
			if assert.NoError(t, err, name) {
				assert.Equal(t, a.Bytes(), f.Arrays[0].Bytes(), name)
			}
		} else {
			assert.ErrorIs(t, err, ErrHeader, name)
		}
	}

	// Its writer does not align the data to 64 bytes as NumPy does.
	var w bytes.Buffer
	require.NoError(t, npy.Write(&w, []float32{1, 2}))
	h, err := parseNPYHeader(w.Bytes(), DefaultNPYHeader)
	require.NoError(t, err)
	assert.NotZero(t, h.dataOffset%npyAlign, "npyio now aligns its data to %d bytes", npyAlign)
}
