package tensorfile

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpaqueDTypes reshapes F8_E4M3, F8_E5M2 and BOOL tensors: the bytes
// move as uint8 would, the result keeps the dtype through Reshape,
// ReshapeLazy and the writers, and no conversion is made.
func TestOpaqueDTypes(t *testing.T) {
	shape := []int{2, 3, 4}
	data := make([]byte, 24)
	for i := range data {
		data[i] = byte(7*i + 1)
	}
	want := permuteC(data, 1, shape, []int{2, 0, 1})
	for _, dt := range OpaqueDTypes() {
		t.Run(dt.String(), func(t *testing.T) {
			assert.True(t, dt.Opaque())
			assert.Equal(t, 1, dt.Size())
			st := encodeST(nil, mustArray("x", dt, shape, false, data))
			f, err := decode(st, false)
			require.NoError(t, err)
			a := f.Arrays[0]
			require.Equal(t, dt, a.DType)
			assert.Equal(t, dt.Safetensors(), a.Descr)

			for _, lazy := range []bool{false, true} {
				opt := ReshapeOptions{Permute: []int{2, 0, 1}, ConcatDims: 2}
				m, err := byDType(a, opt, lazy)
				require.NoError(t, err)
				assert.Equal(t, dt, m.DType)
				assert.Equal(t, []int{4, 6}, m.Shape)
				back, err := decode(encodeST(nil, m), false)
				require.NoError(t, err)
				assert.Equal(t, dt, back.Arrays[0].DType, "lazy=%v", lazy)
				assert.Equal(t, want, back.Arrays[0].Bytes(), "lazy=%v", lazy)
			}
			// Selections and slices run on the bytes as uint8 too.
			m, err := Reshape(a, ReshapeOptions{Select: []Selection{{Axis: 0, Index: 1}}})
			require.NoError(t, err)
			assert.Equal(t, data[12:], m.Bytes())
			assert.Equal(t, dt, m.DType)

			_, err = Reshape(a, ReshapeOptions{DType: Float32})
			assert.ErrorIs(t, err, ErrDType)
			assert.ErrorContains(t, err, "converts to no other dtype")
			u, err := Tensor[uint8](a)
			require.NoError(t, err, "opaque bytes read as uint8")
			assert.Equal(t, data, u.Data)
			_, err = Tensor[int8](a)
			assert.ErrorIs(t, err, ErrDType)

			var npy bytes.Buffer
			err = WriteNPY(&npy, a)
			if dt != Bool {
				assert.ErrorIs(t, err, ErrDType, "NumPy has no 8-bit floats")
				return
			}
			require.NoError(t, err)
			back, err := decode(npy.Bytes(), true)
			require.NoError(t, err)
			assert.Equal(t, Bool, back.Arrays[0].DType)
			assert.Equal(t, "|b1", back.Arrays[0].Descr)
			assert.Equal(t, data, back.Arrays[0].Bytes())
		})
	}
	assert.NotContains(t, DTypes(), Bool, "DTypes lists the numeric dtypes")
	for _, dt := range DTypes() {
		assert.False(t, dt.Opaque(), dt.String())
	}
}

// npzOf builds an .npz archive of the given .npy members, each stored or
// deflated, as numpy.savez and numpy.savez_compressed write them.
func npzOf(t *testing.T, members map[string][]byte, order []string, deflate map[string]bool) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range order {
		method := zip.Store
		if deflate[name] {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		require.NoError(t, err)
		_, err = w.Write(members[name])
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// TestNPZ reads archives of stored and deflated members: every array by
// name, a stored one a view into the archive's bytes, a deflated one in
// memory, and what is refused.
func TestNPZ(t *testing.T) {
	x := mustArray("", Float32, []int{2, 3}, false, ramp(Float32, 6))
	y := mustArray("", Int16, []int{4, 2}, true, ramp(Int16, 8))
	z := mustArray("", Uint8, []int{0, 5}, false, nil)
	members := map[string][]byte{"x.npy": encodeNPY(x, 0), "y.npy": encodeNPY(y, 0), "arr_0.npy": encodeNPY(z, 0)}
	order := []string{"x.npy", "y.npy", "arr_0.npy"}
	for _, deflated := range []map[string]bool{nil, {"x.npy": true, "y.npy": true, "arr_0.npy": true}, {"y.npy": true}} {
		t.Run(fmt.Sprint(len(deflated)), func(t *testing.T) {
			b := npzOf(t, members, order, deflated)
			f, err := decode(b, false)
			require.NoError(t, err)
			assert.Equal(t, NPZ, f.Format)
			require.Len(t, f.Arrays, 3)
			for i, want := range []*Array{x, y, z} {
				a := f.Arrays[i]
				name := order[i][:len(order[i])-4]
				assert.Equal(t, name, a.Name)
				assert.Equal(t, want.DType, a.DType, name)
				assert.Equal(t, want.Shape, a.Shape, name)
				assert.Equal(t, want.Fortran, a.Fortran, name)
				assert.True(t, bytes.Equal(want.Bytes(), a.Bytes()), name)
				assert.Equal(t, deflated[order[i]], a.Compressed, name)
				if !a.Compressed && !hostBigEndian && len(a.Bytes()) > 0 { // on a big-endian host, a swapped copy
					p := uintptr(unsafe.Pointer(&a.Bytes()[0]))
					lo := uintptr(unsafe.Pointer(&b[0]))
					assert.True(t, p >= lo && p < lo+uintptr(len(b)), "%s: a stored member is a view of the archive", name)
				}
			}
			got, err := f.Array("y")
			require.NoError(t, err)
			m, err := Reshape(got, ReshapeOptions{})
			require.NoError(t, err)
			assert.Equal(t, cOrder(y.Bytes(), 2, []int{4, 2}, true), m.Bytes())
			_, err = f.Array("w")
			assert.ErrorIs(t, err, ErrNotFound)
		})
	}

	good := npzOf(t, members, order, map[string]bool{"x.npy": true})
	for _, c := range []struct {
		name     string
		b        []byte
		sentinel error
		msg      string
	}{
		{"truncated", good[:len(good)-30], ErrTruncated, "npz"},
		{"a member not .npy", npzOf(t, map[string][]byte{"x.npy": []byte("hello")}, []string{"x.npy"}, nil), ErrFormat, `member "x.npy"`},
		{"a bad member deflated", npzOf(t, map[string][]byte{"x.npy": append(encodeNPY(x, 0), 1)}, []string{"x.npy"}, map[string]bool{"x.npy": true}), ErrData, `member "x.npy"`},
		{"two members of one name", npzOf(t, map[string][]byte{"x.npy": encodeNPY(x, 0), "x": encodeNPY(x, 0)}, []string{"x.npy", "x"}, nil), ErrHeader, "two members"},
	} {
		_, err := decode(c.b, false)
		assert.ErrorIs(t, err, c.sentinel, c.name)
		assert.ErrorContains(t, err, c.msg, c.name)
		assert.Equal(t, 1, countSentinels(err), "%s: %v", c.name, err)
	}

	// Open, from a file, with a .npz name.
	path := filepath.Join(t.TempDir(), "a.npz")
	require.NoError(t, WriteFile(path, func(w io.Writer) error { _, err := w.Write(good); return err }))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, "npz", f.Format.String())
	assert.True(t, f.Arrays[0].Compressed)
	assert.False(t, f.Arrays[1].Compressed)
}

// rawDeflated is an archive of one deflated member whose header claims
// size bytes: the sizes are the test's to set, not the writer's.
func rawDeflated(t *testing.T, content []byte, size uint64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(content)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "x.npy", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: size})
	require.NoError(t, err)
	_, err = w.Write(comp.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// TestNPZLyingSizes checks that a compressed member's claimed size is not
// trusted: a size deflate cannot reach is refused before any allocation,
// and a stream shorter or longer than its claim is an error.
func TestNPZLyingSizes(t *testing.T) {
	content := encodeNPY(mustArray("", Float32, []int{64}, false, ramp(Float32, 64)), 0)
	n := uint64(len(content))
	good := rawDeflated(t, content, n)
	f, err := decode(good, false)
	require.NoError(t, err)
	assert.Equal(t, ramp(Float32, 64), f.Arrays[0].Bytes())
	for _, c := range []struct {
		name string
		size uint64
		msg  string
	}{
		{"a terabyte from a few bytes", 1 << 40, "claims 1099511627776 bytes"},
		{"more than the stream", n + 10, `member "x.npy"`}, // archive/zip's reader finds these itself
		{"less than the stream", n - 10, `member "x.npy"`},
	} {
		_, err := decode(rawDeflated(t, content, c.size), false)
		assert.ErrorIs(t, err, ErrData, c.name)
		assert.ErrorContains(t, err, c.msg, c.name)
	}
}

// FuzzNPZ fuzzes the .npz reader, from archives of stored and deflated
// members:
//
//	go test ./tensorfile -run '^$' -fuzz FuzzNPZ -fuzztime 30s
func FuzzNPZ(f *testing.F) {
	x := encodeNPY(mustArray("", Float32, []int{2, 3}, false, ramp(Float32, 6)), 0)
	y := encodeNPY(mustArray("", Uint8, []int{4}, false, ramp(Uint8, 4)), 0)
	for _, deflate := range []map[string]bool{nil, {"x.npy": true}, {"x.npy": true, "y.npy": true}} {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, m := range []struct {
			name string
			data []byte
		}{{"x.npy", x}, {"y.npy", y}} {
			method := zip.Store
			if deflate[m.name] {
				method = zip.Deflate
			}
			w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
			if err != nil {
				f.Fatal(err)
			}
			if _, err := w.Write(m.data); err != nil {
				f.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecoded(t, b, false)
	})
}
