package tensorfile

import (
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"unsafe"

	"github.com/stridekit/stridekit/reshape"

	"github.com/stridekit/stridekit/internal/shapefmt"
)

// Array is one tensor of a file, or one to be written: a dtype, a shape, an
// order and the bytes of its elements. It is the run-time typed handle over
// data whose element type the file decides; Tensor turns it into a
// reshape.Tensor[T] of the matching T.
//
// The bytes of an Array are its elements in the host's byte order, as Go
// values hold them. Those of an Array from Open view the file's read-only
// memory map: do not write through them (it faults), and do not use them
// after File.Close. That holds wherever the file's byte order is the
// host's, as for every little-endian file on a little-endian host; where
// they differ (any file on a big-endian host such as s390x, or a '>' .npy
// file on a little-endian one) the bytes are swapped into new memory the
// first time they are read (Bytes, Tensor, Reshape), so they are a copy,
// not a view. The writers write little-endian files whatever the host.
type Array struct {
	// Name is the tensor's name in a .safetensors file, "" for a .npy file.
	Name string
	// Descr is the dtype as the file spells it: "<f4", "|u1", "F32",
	// "F8_E4M3"; for an Array made here, the DType's name. Writers ignore
	// it.
	Descr string
	// Shape holds the extents, outermost first. It may be empty (a scalar,
	// which reshape does not take) and may hold zeros.
	Shape []int
	// DType is the element type; Invalid when the file names one this
	// package does not support (such a tensor is listed but not readable).
	DType DType
	// Fortran reports column-major (Fortran) order: the first index varies
	// fastest, so the strides are the C strides of the reversed shape,
	// reversed. Only .npy has this order.
	Fortran bool
	// Compressed reports an .npz member stored compressed: its bytes were
	// read into memory, where a stored member's view the file's map.
	Compressed bool

	// swap marks data as the file's bytes in the byte order opposite the
	// host's: Bytes swaps them into new memory at its first call. (The
	// flags sit together, and the Array is 136 bytes: a safetensors header
	// may list millions.)
	swap bool

	data       []byte
	begin, end int // data offsets in a safetensors file, for sorting

	// gen, for an Array from ReshapeLazy, writes its size bytes to w when
	// a writer needs them; data stays nil until Bytes asks for them.
	gen  func(w io.Writer) error
	size int

	// why, for a .npy array of DType Invalid, says why its dtype is not
	// supported (ErrDType); nil for the generic message.
	why error
}

// Unsupported returns why the array cannot be read, wrapping ErrDType, for
// an array of DType Invalid (that of a .npy says what its dtype is), and
// nil for any other.
func (a *Array) Unsupported() error {
	switch {
	case a.DType != Invalid && a.DType < numDTypes:
		return nil
	case a.why != nil:
		return a.why
	}
	return errorf(ErrDType, "tensor %q has dtype %q, which this package does not support", a.Name, a.Descr)
}

// NewArray returns an Array over data, which must hold exactly the elements
// of shape in the given order, in the host's byte order (ErrInvalid
// otherwise). data is not copied.
func NewArray(name string, dt DType, shape []int, fortran bool, data []byte) (*Array, error) {
	a := &Array{Name: name, DType: dt, Shape: append([]int{}, shape...), Fortran: fortran, data: data}
	a.Descr = dt.String()
	if err := a.check(); err != nil {
		return nil, err
	}
	return a, nil
}

// FromMatrix returns a C-order [Rows, Cols] Array over the bytes of m.Data,
// without copying, ready for WriteNPY or WriteSafetensors.
func FromMatrix[T reshape.Element](name string, m reshape.Matrix[T]) (*Array, error) {
	if m.Rows < 0 || m.Cols < 0 || m.Rows*m.Cols != len(m.Data) {
		return nil, errorf(ErrInvalid, "matrix of %d×%d holds %d elements", m.Rows, m.Cols, len(m.Data))
	}
	return NewArray(name, DTypeOf[T](), []int{m.Rows, m.Cols}, false, asBytes(m.Data))
}

// asBytes views the elements of s as bytes.
func asBytes[T reshape.Element](s []T) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// check reports whether a is well-formed for writing: a supported dtype and
// exactly the bytes its shape needs; a nil a is ErrInvalid.
func (a *Array) check() error {
	if a == nil {
		return errorf(ErrInvalid, "a nil *Array")
	}
	if a.DType == Invalid || a.DType >= numDTypes {
		return a.Unsupported()
	}
	n, err := elements(a.Shape)
	if err != nil {
		return errorf(ErrInvalid, "tensor %q: %v", a.Name, err)
	}
	if need, ok := mulOK(n, a.DType.Size()); !ok || need != a.byteLen() {
		return errorf(ErrInvalid, "tensor %q: shape %s of %v needs %s bytes, it has %d", a.Name, shapefmt.List(a.Shape), a.DType, bytesNeeded(need, ok), a.byteLen())
	}
	return nil
}

// Len returns the number of elements.
func (a *Array) Len() int {
	n, _ := elements(a.Shape)
	return n
}

// Bytes returns the bytes of the elements, in the array's order and the
// host's byte order. For an Array from Open they are the file's, read-only,
// where its byte order is the host's; otherwise the first call swaps them
// into new memory, a copy (see Array). For an Array from ReshapeLazy the
// first call computes them into new memory (which the writers avoid: they
// stream such an Array).
//
// Bytes does not fail. Computing a lazy Array copies a view that
// ReshapeLazy checked lies inside its input, block by block into a buffer
// of exactly the result's size, and the view is the Array's own copy,
// which no exported field reaches; so the panic below marks a bug of this
// package, not bad input. (Using the Array after its input's File is closed
// is a fault, as for every view of that File; so is swapping the bytes of a
// file truncated while open, which Tensor and Reshape report as ErrChanged
// instead.)
func (a *Array) Bytes() []byte {
	if a.swap {
		a.data, a.swap = swapped(a.data, a.DType.Size()), false
	}
	if a.data == nil && a.gen != nil {
		b := alignedBytes(a.size) // 8-aligned, like a mapping
		fw := &fixedWriter{b: b[:0]}
		if err := a.gen(fw); err != nil || len(fw.b) != a.size {
			panic(fmt.Sprintf("tensorfile: bug: computing tensor %q: %v (%d of %d bytes)", a.Name, err, len(fw.b), a.size))
		}
		a.data, a.gen = b, nil
	}
	return a.data
}

// native swaps the bytes of a into the host's order once, where they are
// in the other (see Array), as Bytes does, but returns an error wrapping
// ErrChanged, not a fault, if the file's map shrank under the swap.
func (a *Array) native() (err error) {
	if !a.swap {
		return nil
	}
	defer catchFault(&err, debug.SetPanicOnFault(true))
	b := swapped(a.data, a.DType.Size())
	a.data, a.swap = b, false
	return nil
}

// byteLen returns the number of bytes of the elements without computing
// them.
func (a *Array) byteLen() int {
	if a.data == nil && a.gen != nil {
		return a.size
	}
	return len(a.data)
}

// writeData writes the bytes of a to w in little-endian order, streaming
// them if a is lazy, swapping them on the way where a's bytes are
// big-endian (a big-endian host, or a '>' .npy file not yet read).
//
// A fault reading the map of a's file, which another process truncated, is
// an error wrapping ErrChanged.
func (a *Array) writeData(w io.Writer) (err error) {
	defer catchFault(&err, debug.SetPanicOnFault(true))
	size := a.DType.Size()
	if a.data == nil && a.gen != nil {
		lw, finish := littleEndianWriter(w, size)
		if err := a.gen(lw); err != nil {
			return changed(err)
		}
		return changed(finish())
	}
	if a.swap != hostBigEndian && size > 1 { // the bytes are big-endian
		s := &swapWriter{w: w, size: size}
		if _, err := s.Write(a.data); err != nil {
			return changed(err)
		}
		return changed(s.finish())
	}
	_, err = w.Write(a.data)
	return changed(err)
}

// copyMapped copies src, which may lie in a file's memory map, into dst: a
// fault because the file shrank is an error wrapping ErrChanged.
func copyMapped(dst, src []byte) (err error) {
	defer catchFault(&err, debug.SetPanicOnFault(true))
	copy(dst, src)
	return nil
}

// fixedWriter appends to a slice with room for everything written.
type fixedWriter struct{ b []byte }

func (f *fixedWriter) Write(p []byte) (int, error) {
	if len(p) > cap(f.b)-len(f.b) {
		return 0, errorf(ErrInvalid, "more bytes than the array holds")
	}
	f.b = append(f.b, p...)
	return len(p), nil
}

// Strides returns the strides in elements: row-major for C order, the
// reversed ones for Fortran order ([2,3,4] has C strides [12,4,1] and
// Fortran strides [1,2,6]).
func (a *Array) Strides() []int {
	r := len(a.Shape)
	st := make([]int, r)
	acc := 1
	for i := range r {
		ax := r - 1 - i // C: last axis fastest
		if a.Fortran {
			ax = i
		}
		st[ax] = acc
		acc *= max(a.Shape[ax], 1)
	}
	return st
}

// Tensor returns the array as a reshape.Tensor[T] view: Shape a.Shape,
// Strides a.Strides() (so a Fortran-order array is the strided view it is,
// not a transposed copy). T must be of the array's dtype (see DTypeOf;
// ErrDType otherwise); an opaque dtype (Bool, the 8-bit floats) is read as
// uint8 (or a type defined on it), its bits as they are.
//
// The view shares the array's bytes (see Bytes) without copying, unless
// they must be swapped into the host's byte order (see Array), or they do
// not start on a multiple of T's alignment (safetensors does not require the
// data offsets to be aligned); then they are copied into a new, aligned
// slice first, since Go must not load a T from an unaligned address.
func Tensor[T reshape.Element](a *Array) (reshape.Tensor[T], error) {
	if a.DType == Invalid {
		return reshape.Tensor[T]{}, a.Unsupported()
	}
	if want := DTypeOf[T](); want != a.DType && !(a.DType.Opaque() && want == Uint8) {
		return reshape.Tensor[T]{}, errorf(ErrDType, "tensor %q is %v, not %v", a.Name, a.DType, want)
	}
	if len(a.Shape) == 0 {
		return reshape.Tensor[T]{}, errorf(ErrInvalid, "tensor %q is a scalar (shape ()); reshape needs at least one axis", a.Name)
	}
	if err := a.native(); err != nil {
		return reshape.Tensor[T]{}, err
	}
	raw := a.Bytes()
	n := len(raw) / a.DType.Size()
	var data []T
	var zero T
	switch {
	case n == 0:
		data = []T{}
	case uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%unsafe.Alignof(zero) != 0:
		data = make([]T, n)
		if err := copyMapped(asBytes(data), raw); err != nil {
			return reshape.Tensor[T]{}, err
		}
	default:
		data = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(raw))), n)
	}
	t := reshape.Tensor[T]{Data: data, Shape: append([]int{}, a.Shape...), Strides: a.Strides()}
	if err := t.Validate(); err != nil {
		return reshape.Tensor[T]{}, err
	}
	return t, nil
}

// elements returns the number of elements of shape (1 for a scalar), or an
// error for a negative extent or a product past the largest int. A zero
// extent does not hide an overflow of the others. The error wraps no
// sentinel: the caller wraps the one that fits (ErrHeader for a file,
// ErrInvalid for an argument).
func elements(shape []int) (int, error) {
	n, zero := 1, false
	for _, e := range shape {
		switch {
		case e < 0:
			return 0, fmt.Errorf("negative extent in shape %s", shapefmt.List(shape))
		case e == 0:
			zero = true
			continue
		}
		var ok bool
		if n, ok = mulOK(n, e); !ok {
			return 0, fmt.Errorf("the extents %s multiply past the largest int", shapefmt.List(shape))
		}
	}
	if zero {
		return 0, nil
	}
	return n, nil
}

// mulOK returns a*b for non-negative a, b and whether it fits an int.
func mulOK(a, b int) (int, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if a > math.MaxInt/b {
		return 0, false
	}
	return a * b, true
}
