package tensorfile

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/reshape"
)

// ReshapeOptions says what Reshape does to an array.
type ReshapeOptions struct {
	// Permute, if not nil, reorders the axes first, as a view
	// (reshape.Tensor.Permute: axis i of the view is axis Permute[i]).
	Permute []int
	// ConcatDims is the number of trailing axes that become the feature
	// axis (reshape.ConcatLastDimensions); 0 means 1, ToLastDimension.
	ConcatDims int
	// Progress, if not nil, is called as the copy advances with the bytes
	// copied so far and the total; if it returns an error the copy stops
	// and Reshape returns that error. It is not called when no copy is
	// needed.
	Progress func(done, total int64) error
}

// copyBlock is the size of the pieces Reshape copies between calls of
// Progress: large enough that the calls cost nothing, small enough to update
// a progress bar several times a second.
const copyBlock = 8 << 20

// Reshape is reshape.ConcatLastDimensions for an Array of any dtype: it
// returns the C-order [rows, cols] Array of a's view, permuted by
// opt.Permute, with its last opt.ConcatDims axes concatenated. When that
// view is already row-major contiguous, the result shares a's bytes (no
// copy); otherwise it is copied into new memory, in blocks along the
// outermost axis so that opt.Progress can report and cancel. Errors wrap
// reshape's sentinels (ErrPermutation, ErrConcatDims, ...) or this
// package's.
func Reshape(a *Array, opt ReshapeOptions) (*Array, error) {
	return byDType(a, opt, false)
}

// ReshapeLazy is Reshape without the result in memory. It checks what
// Reshape checks and returns the result's Array at once, but unless the view
// is already contiguous (then the result shares a's bytes, as with Reshape)
// the bytes are made only when WriteNPY, WriteSafetensors or Save writes
// the Array: the view is copied a block of about 8 MiB at a time into one
// reused buffer, and each block written before the next is copied. So
// converting a file takes little memory beyond its map, and no large fresh
// allocation (whose first touch is slow on some machines). opt.Progress is
// not called; the writer sees the bytes as they come. The Array reads a
// when written: keep a's File open until then. Its Bytes method computes
// all the bytes, into new memory.
func ReshapeLazy(a *Array, opt ReshapeOptions) (*Array, error) {
	return byDType(a, opt, true)
}

// byDType runs reshapeAs for the element type of a's dtype.
func byDType(a *Array, opt ReshapeOptions, lazy bool) (*Array, error) {
	switch a.DType {
	case Float16:
		return reshapeAs[float16.Float16](a, opt, lazy)
	case BFloat16:
		return reshapeAs[reshape.BFloat16](a, opt, lazy)
	case Float32:
		return reshapeAs[float32](a, opt, lazy)
	case Float64:
		return reshapeAs[float64](a, opt, lazy)
	case Int8:
		return reshapeAs[int8](a, opt, lazy)
	case Uint8:
		return reshapeAs[uint8](a, opt, lazy)
	case Int16:
		return reshapeAs[int16](a, opt, lazy)
	case Uint16:
		return reshapeAs[uint16](a, opt, lazy)
	case Int32:
		return reshapeAs[int32](a, opt, lazy)
	case Uint32:
		return reshapeAs[uint32](a, opt, lazy)
	case Int64:
		return reshapeAs[int64](a, opt, lazy)
	case Uint64:
		return reshapeAs[uint64](a, opt, lazy)
	}
	return nil, errorf(ErrDType, "tensor %q has dtype %q, which this package does not support", a.Name, a.Descr)
}

// reshapeAs is Reshape (or ReshapeLazy) for the element type T of a's
// dtype.
func reshapeAs[T reshape.Element](a *Array, opt ReshapeOptions, lazy bool) (*Array, error) {
	t, err := Tensor[T](a)
	if err != nil {
		return nil, err
	}
	if opt.Permute != nil {
		if t, err = t.Permute(opt.Permute...); err != nil {
			return nil, err
		}
	}
	k := opt.ConcatDims
	if k == 0 {
		k = 1
	}
	if t.IsContiguous() || (opt.Progress == nil && !lazy) {
		m, err := reshape.ConcatLastDimensions(t, k)
		if err != nil {
			return nil, err
		}
		return FromMatrix(a.Name, m)
	}
	// Check k before any copy, as ConcatLastDimensions would.
	r := t.Rank()
	if k < 1 || k > r {
		return nil, fmt.Errorf("%w: %d axes to concatenate of a tensor of rank %d (want 1..%d)", reshape.ErrConcatDims, k, r, r)
	}
	rows, cols := 1, 1
	for i, e := range t.Shape {
		if i < r-k {
			rows *= e
		} else {
			cols *= e
		}
	}
	n := t.Len()
	var zero T
	size := int(unsafe.Sizeof(zero))
	if lazy {
		out := &Array{Name: a.Name, DType: a.DType, Descr: a.DType.String(), Shape: []int{rows, cols}, size: n * size}
		out.gen = func(w io.Writer) error {
			buf := make([]T, min(n, max(1, copyBlock/size)))
			return eachBlock(t, copyBlock/size, func(_, length int, block reshape.Tensor[T]) error {
				if err := reshape.Contiguous(buf[:length], block); err != nil {
					return err
				}
				_, err := w.Write(asBytes(buf[:length]))
				return err
			})
		}
		return out, nil
	}
	dst := make([]T, n)
	total := int64(n * size)
	err = eachBlock(t, copyBlock/size, func(off, length int, block reshape.Tensor[T]) error {
		if err := reshape.Contiguous(dst[off:off+length], block); err != nil {
			return err
		}
		done := int64((off + length) * size)
		if err := opt.Progress(done, total); err != nil {
			return fmt.Errorf("copy stopped at %d of %d bytes: %w", done, total, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return FromMatrix(a.Name, reshape.Matrix[T]{Data: dst, Rows: rows, Cols: cols})
}

// eachBlock splits the valid view t into blocks of at most maxElems
// (at least 1) elements whose row-major
// elements are consecutive in t's row-major order, and calls f for each in
// order with the block's offset in that order, its length and its view.
//
// With inner(L) the number of elements of the axes L.. , it takes the
// smallest L whose inner(L) fits maxElems: the axes before L-1 are walked
// one index at a time, axis L-1 in runs of as many indices as fit.
func eachBlock[T reshape.Element](t reshape.Tensor[T], maxElems int, f func(off, length int, block reshape.Tensor[T]) error) error {
	r := t.Rank()
	n := t.Len()
	if n == 0 {
		return nil
	}
	if n <= maxElems {
		return f(0, n, t)
	}
	inner := make([]int, r+1) // inner[L] = product of Shape[L:]
	inner[r] = 1
	for a := r - 1; a >= 0; a-- {
		inner[a] = inner[a+1] * t.Shape[a]
	}
	L := 1
	for L < r && inner[L] > maxElems {
		L++
	}
	axis := L - 1
	step := max(1, maxElems/inner[L])
	idx := make([]int, axis) // the index of the axes before axis
	off := 0
	for {
		outer := t
		for a, i := range idx {
			var err error
			if outer, err = outer.Slice(a, i, i+1, 1); err != nil {
				return err
			}
		}
		for i := 0; i < t.Shape[axis]; i += step {
			j := min(i+step, t.Shape[axis])
			block, err := outer.Slice(axis, i, j, 1)
			if err != nil {
				return err
			}
			length := (j - i) * inner[L]
			if err := f(off, length, block); err != nil {
				return err
			}
			off += length
		}
		a := axis - 1
		for ; a >= 0; a-- { // odometer over the axes before axis
			idx[a]++
			if idx[a] < t.Shape[a] {
				break
			}
			idx[a] = 0
		}
		if a < 0 {
			return nil
		}
	}
}
