package tensorfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostByteOrder checks the build-constraint constant against the
// machine.
func TestHostByteOrder(t *testing.T) {
	x := uint32(0x01020304)
	assert.Equal(t, *(*byte)(unsafe.Pointer(&x)) == 1, hostBigEndian)
}

// TestBigEndianNPY reads a '>' .npy file of every dtype, C and Fortran
// order, as NumPy does: the same values as the '<' file, swapped into a
// copy; and writes it back as the '<' file, byte for byte.
func TestBigEndianNPY(t *testing.T) {
	shape := []int{2, 3, 4}
	for _, dt := range DTypes() {
		descr, ok := dt.NPY()
		if !ok {
			continue
		}
		for _, fortran := range []bool{false, true} {
			name := fmt.Sprintf("%v fortran=%v", dt, fortran)
			little := encodeNPY(mustArray("", dt, shape, fortran, ramp(dt, count(shape))), 1)
			start := headerLen(little)
			bigDescr := descr
			if dt.Size() > 1 {
				bigDescr = ">" + descr[1:]
			}
			big := bytes.Replace(little[:start], []byte("'"+descr+"'"), []byte("'"+bigDescr+"'"), 1)
			big = append(big, swapBytesOf(dt, little[start:])...)

			f, err := decode(big, true)
			require.NoError(t, err, name)
			a := f.Arrays[0]
			assert.Equal(t, bigDescr, a.Descr, name)
			assert.Equal(t, dt, a.DType, name)
			var out bytes.Buffer
			require.NoError(t, WriteNPY(&out, a), name)
			assert.Equal(t, little, out.Bytes(), name+": written back little-endian")
			assert.Equal(t, ramp(dt, count(shape)), a.Bytes(), name+": the values, in the host's order")
			if dt.Size() > 1 && !hostBigEndian {
				assert.NotSame(t, &big[start], &a.Bytes()[0], name+": a copy, not a view")
			}
			m, err := Reshape(a, ReshapeOptions{})
			require.NoError(t, err, name)
			assert.Equal(t, cOrder(ramp(dt, count(shape)), dt.Size(), shape, fortran), m.Bytes(), name)
			out.Reset()
			require.NoError(t, WriteNPY(&out, a), name)
			assert.Equal(t, little, out.Bytes(), name+": written back after Bytes")
		}
	}
}

// swapBytesOf reverses the bytes of every element of dt in b.
func swapBytesOf(dt DType, b []byte) []byte {
	if dt.Size() == 1 {
		return append([]byte{}, b...)
	}
	return swapped(b, dt.Size())
}

// TestSwapWriter writes elements through a swapWriter in pieces that split
// elements anywhere, and expects every element reversed; an element left
// incomplete is an error.
func TestSwapWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{2, 4, 8} {
		data := make([]byte, size*(swapChunk/size+37))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		var want []byte
		for i := 0; i < len(data); i += size {
			for k := size - 1; k >= 0; k-- {
				want = append(want, data[i+k])
			}
		}
		for trial := range 20 {
			var out bytes.Buffer
			s := &swapWriter{w: &out, size: size}
			for p := data; len(p) > 0; {
				n := min(len(p), rng.IntN(3*size+trial*1000)+1)
				m, err := s.Write(p[:n])
				require.NoError(t, err)
				require.Equal(t, n, m)
				p = p[n:]
			}
			require.NoError(t, s.finish())
			require.True(t, bytes.Equal(want, out.Bytes()), "size %d, trial %d", size, trial)
		}
		s := &swapWriter{w: &bytes.Buffer{}, size: size}
		_, err := s.Write(data[:size+1])
		require.NoError(t, err)
		assert.ErrorIs(t, s.finish(), ErrInvalid, "size %d: an incomplete element", size)
	}
}

// TestWriteLittleEndian checks the writers' helper: the bytes of host-order
// elements come out little-endian.
func TestWriteLittleEndian(t *testing.T) {
	for _, dt := range DTypes() {
		var out bytes.Buffer
		data := ramp(dt, 5)
		require.NoError(t, writeLittleEndian(&out, data, dt.Size()))
		assert.Equal(t, fileOrder(dt, data), out.Bytes(), "%v", dt)
		// fileOrder itself, from the values: ramp's element 0 is -2 (or -1.0).
		le := out.Bytes()
		switch dt {
		case Int16, Int32, Int64:
			assert.Equal(t, byte(0xfe), le[0], "%v: least significant byte first", dt)
		}
	}
}
