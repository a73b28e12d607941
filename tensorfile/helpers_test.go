package tensorfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/reshape"
)

// ramp returns n elements of dt in the host's byte order, as NewArray takes
// them (fileOrder makes the little-endian bytes of a file): element k holds k - n/2
// (halved for floats), so signed types see negative values and floats
// fractions, and every element differs from its neighbours.
func ramp(dt DType, n int) []byte {
	out := make([]byte, 0, n*dt.Size())
	for k := range n {
		v := k - n/2
		f := float64(v) / 2
		switch dt {
		case Float16:
			out = binary.NativeEndian.AppendUint16(out, float16.Fromfloat32(float32(f)).Bits())
		case BFloat16:
			out = binary.NativeEndian.AppendUint16(out, uint16(reshape.BFloat16FromFloat32(float32(f))))
		case Float32:
			out = binary.NativeEndian.AppendUint32(out, math.Float32bits(float32(f)))
		case Float64:
			out = binary.NativeEndian.AppendUint64(out, math.Float64bits(f))
		case Int8, Uint8:
			out = append(out, byte(v))
		case Int16, Uint16:
			out = binary.NativeEndian.AppendUint16(out, uint16(v))
		case Int32, Uint32:
			out = binary.NativeEndian.AppendUint32(out, uint32(v))
		case Int64, Uint64:
			out = binary.NativeEndian.AppendUint64(out, uint64(v))
		default:
			panic(fmt.Sprintf("ramp of %v", dt))
		}
	}
	return out
}

// fileOrder returns the little-endian bytes, as files hold them, of b,
// elements of dt in the host's byte order.
func fileOrder(dt DType, b []byte) []byte {
	if !hostBigEndian || dt.Size() == 1 {
		return b
	}
	return swapped(b, dt.Size())
}

// random returns n random elements of dt as bytes.
func random(rng *rand.Rand, dt DType, n int) []byte {
	b := make([]byte, n*dt.Size())
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// cOrder returns the bytes of an array laid out in Fortran order (when
// fortran) rearranged into C order, computed index by index from the
// definition: element [i0, i1, ...] of a Fortran array is at
// i0 + s0*(i1 + s1*(i2 + ...)).
func cOrder(data []byte, size int, shape []int, fortran bool) []byte {
	if !fortran {
		return data
	}
	n := 1
	for _, e := range shape {
		n *= e
	}
	out := make([]byte, 0, len(data))
	idx := make([]int, len(shape))
	for range n {
		pos, mul := 0, 1
		for a, i := range idx {
			pos += i * mul
			mul *= shape[a]
		}
		out = append(out, data[pos*size:(pos+1)*size]...)
		for a := len(idx) - 1; a >= 0; a-- { // C-order odometer
			idx[a]++
			if idx[a] < shape[a] {
				break
			}
			idx[a] = 0
		}
	}
	return out
}

// fortranOrder is the inverse of cOrder: it lays the C-order bytes of an
// array out in Fortran order.
func fortranOrder(data []byte, size int, shape []int) []byte {
	out := make([]byte, len(data))
	idx := make([]int, len(shape))
	for c := range count(shape) {
		pos, mul := 0, 1
		for a, i := range idx {
			pos += i * mul
			mul *= shape[a]
		}
		copy(out[pos*size:(pos+1)*size], data[c*size:(c+1)*size])
		for a := len(idx) - 1; a >= 0; a-- {
			idx[a]++
			if idx[a] < shape[a] {
				break
			}
			idx[a] = 0
		}
	}
	return out
}

// permuteC returns the C-order bytes of the permuted view of a C-order
// array, from the definition: element [j...] of the view is element [i...]
// of the array with i[perm[k]] = j[k].
func permuteC(data []byte, size int, shape, perm []int) []byte {
	r := len(shape)
	pshape := make([]int, r)
	for k, p := range perm {
		pshape[k] = shape[p]
	}
	n := 1
	for _, e := range shape {
		n *= e
	}
	out := make([]byte, 0, len(data))
	j := make([]int, r)
	i := make([]int, r)
	for range n {
		for k, p := range perm {
			i[p] = j[k]
		}
		pos := 0
		for a := range r {
			pos = pos*shape[a] + i[a]
		}
		out = append(out, data[pos*size:(pos+1)*size]...)
		for a := r - 1; a >= 0; a-- {
			j[a]++
			if j[a] < pshape[a] {
				break
			}
			j[a] = 0
		}
	}
	return out
}

// encodeNPY returns a as .npy bytes of the given major version.
func encodeNPY(a *Array, major byte) []byte {
	var buf bytes.Buffer
	if err := writeNPY(&buf, a, major); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// encodeST returns arrays as .safetensors bytes.
func encodeST(meta map[string]string, arrays ...*Array) []byte {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, meta, arrays...); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// mustArray is NewArray that panics.
func mustArray(name string, dt DType, shape []int, fortran bool, data []byte) *Array {
	a, err := NewArray(name, dt, shape, fortran, data)
	if err != nil {
		panic(err)
	}
	return a
}

// count returns the number of elements of shape.
func count(shape []int) int {
	n := 1
	for _, e := range shape {
		n *= e
	}
	return n
}
