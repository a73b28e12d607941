package tensorfile

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/reshape"
)

// shapes are the shapes every round trip runs: rank 1 to 5, size-1 and
// empty axes.
var shapes = [][]int{{0}, {5}, {2, 3}, {1, 0, 3}, {2, 3, 4}, {3, 1, 2, 5}, {2, 2, 1, 3, 2}}

// TestRoundTripNPY writes every dtype in both orders and every format
// version, decodes it and checks the header, the bytes, and that the
// Tensor view reads the elements in the right places (a Fortran array
// made contiguous equals the C order computed from the definition).
func TestRoundTripNPY(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dt := range DTypes() {
		for _, fortran := range []bool{false, true} {
			for _, major := range []byte{0, 1, 2, 3} {
				for _, shape := range shapes {
					name := fmt.Sprintf("dtype=%v/fortran=%v/version=%d/shape=%v", dt, fortran, major, shape)
					data := random(rng, dt, count(shape))
					a := mustArray("", dt, shape, fortran, data)
					if _, ok := dt.NPY(); !ok {
						assert.ErrorIs(t, writeNPY(&discard{}, a, major), ErrDType, name)
						continue
					}
					b := encodeNPY(a, major)
					require.Zero(t, headerLen(b)%npyAlign, "%s: data not 64-aligned", name)
					f, err := decode(b, false)
					require.NoError(t, err, name)
					require.Equal(t, NPY, f.Format, name)
					wantVersion := fmt.Sprintf("%d.0", max(major, 1))
					require.Equal(t, wantVersion, f.Version, name)
					got := f.Arrays[0]
					require.Equal(t, dt, got.DType, name)
					require.Equal(t, shape, got.Shape, name)
					require.Equal(t, fortran, got.Fortran, name)
					require.Equal(t, data, got.Bytes(), name)

					m, err := Reshape(got, ReshapeOptions{})
					require.NoError(t, err, name)
					assert.Equal(t, cOrder(data, dt.Size(), shape, fortran), m.Bytes(), name)
					assert.Equal(t, []int{count(shape[:len(shape)-1]), shape[len(shape)-1]}, m.Shape, name)
				}
			}
		}
	}
}

// TestRoundTripSafetensors writes one tensor of every dtype and shape with
// metadata into one file and reads it back.
func TestRoundTripSafetensors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var arrays []*Array
	want := map[string]*Array{}
	for _, dt := range DTypes() {
		for i, shape := range shapes {
			a := mustArray(fmt.Sprintf("%v.%d", dt, i), dt, shape, false, random(rng, dt, count(shape)))
			arrays = append(arrays, a)
			want[a.Name] = a
		}
	}
	meta := map[string]string{"format": "pt", "note": "ünïcode ok"}
	b := encodeST(meta, arrays...)
	f, err := decode(b, false)
	require.NoError(t, err)
	require.Equal(t, Safetensors, f.Format)
	assert.Equal(t, meta, f.Metadata)
	require.Len(t, f.Arrays, len(arrays))
	for _, got := range f.Arrays {
		w := want[got.Name]
		require.NotNil(t, w, got.Name)
		assert.Equal(t, w.DType, got.DType, got.Name)
		assert.Equal(t, w.DType.Safetensors(), got.Descr, got.Name)
		assert.Equal(t, w.Shape, got.Shape, got.Name)
		assert.False(t, got.Fortran)
		assert.Equal(t, w.Bytes(), got.Bytes(), got.Name)
		if len(got.Bytes()) > 0 { // the writer aligns every tensor
			assert.Zero(t, uintptr(unsafe.Pointer(&got.Bytes()[0]))%uintptr(got.DType.Size()), got.Name)
		}
	}
	// One tensor by name.
	a, err := f.Array("float32.4")
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3, 4}, a.Shape)
	_, err = f.Array("nope")
	assert.ErrorIs(t, err, ErrNotFound)
}

// TestOpenFile runs Open and Close on real files, through the memory map.
func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	a := mustArray("", Float32, []int{2, 3, 4}, true, ramp(Float32, 24))
	path := filepath.Join(dir, "a.npy")
	require.NoError(t, Save(path, nil, a))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())

	f, err := Open(path)
	require.NoError(t, err)
	assert.Equal(t, info.Size(), f.Size)
	assert.Equal(t, runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1", f.Mapped)
	v, err := Tensor[float32](f.Arrays[0])
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 6}, v.Strides, "Fortran strides are the reversed C strides")
	// Element [1, 2, 3] of a Fortran [2,3,4] array is at 1 + 2*2 + 3*6 = 23.
	assert.Equal(t, float32(23-12)/2, v.Data[v.Offset+1*v.Strides[0]+2*v.Strides[1]+3*v.Strides[2]])
	require.NoError(t, f.Close())
	assert.Error(t, f.Close(), "second Close")

	_, err = Open(filepath.Join(dir, "missing.npy"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = Open(dir)
	assert.ErrorIs(t, err, ErrFormat)
	empty := filepath.Join(dir, "empty.safetensors")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = Open(empty)
	assert.ErrorIs(t, err, ErrTruncated)
}

// TestTensorTypes checks Tensor's dtype check and its use of user types.
func TestTensorTypes(t *testing.T) {
	type logit float32
	a := mustArray("x", Float32, []int{2, 2}, false, ramp(Float32, 4))
	_, err := Tensor[float64](a)
	assert.ErrorIs(t, err, ErrDType)
	_, err = Tensor[uint32](a)
	assert.ErrorIs(t, err, ErrDType)
	v, err := Tensor[logit](a)
	require.NoError(t, err)
	assert.Equal(t, []logit{-1, -0.5, 0, 0.5}, v.Data)

	scalar := mustArray("s", Int8, []int{}, false, []byte{7})
	_, err = Tensor[int8](scalar)
	assert.ErrorIs(t, err, ErrInvalid)

	bad := &Array{Name: "f8", Descr: "F8_E4M3", Shape: []int{1}, data: []byte{1}}
	_, err = Tensor[uint8](bad)
	assert.ErrorIs(t, err, ErrDType)
	_, err = Reshape(bad, ReshapeOptions{})
	assert.ErrorIs(t, err, ErrDType)

	assert.Equal(t, Uint16, DTypeOf[uint16]())
	assert.Equal(t, BFloat16, DTypeOf[reshape.BFloat16]())
}

// TestMisaligned reads a safetensors file whose float32 tensor starts at an
// odd data offset: Tensor must copy it to aligned memory, never load a
// float32 from an unaligned address (go test -race and -d=checkptr run this).
func TestMisaligned(t *testing.T) {
	header := `{"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"f":{"dtype":"F32","shape":[2],"data_offsets":[3,11]}}`
	for pad := range 8 { // every alignment of the data start
		h := header
		for range pad {
			h += " "
		}
		b := append(le64(uint64(len(h))), h...)
		b = append(b, 1, 2, 3)
		b = append(b, fileOrder(Float32, ramp(Float32, 2))...)
		// Copy into 8-aligned memory so the offsets are what this test says.
		words := make([]uint64, (len(b)+7)/8)
		buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(b))
		copy(buf, b)
		f, err := decode(buf, false)
		require.NoError(t, err, "pad %d", pad)
		fa, err := f.Array("f")
		require.NoError(t, err)
		v, err := Tensor[float32](fa)
		require.NoError(t, err)
		assert.Equal(t, []float32{-0.5, 0}, v.Data, "pad %d", pad)
		aligned := uintptr(unsafe.Pointer(&fa.Bytes()[0]))%4 == 0
		shared := &v.Data[0] == (*float32)(unsafe.Pointer(&fa.Bytes()[0]))
		assert.Equal(t, aligned, shared, "pad %d: a view exactly when aligned", pad)
		m, err := Reshape(fa, ReshapeOptions{})
		require.NoError(t, err)
		mv, err := Tensor[float32](m)
		require.NoError(t, err)
		assert.Equal(t, []float32{-0.5, 0}, mv.Data, "pad %d", pad)
	}
}

func le64(v uint64) []byte {
	return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), byte(v >> 32), byte(v >> 40), byte(v >> 48), byte(v >> 56)}
}

// headerLen returns where the data of a .npy file starts.
func headerLen(b []byte) int {
	h, err := parseNPYHeader(b, DefaultNPYHeader)
	if err != nil {
		panic(err)
	}
	return h.dataOffset
}

// discard is an io.Writer that keeps nothing.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
