package tensorfile

import (
	"fmt"
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
	switch a.DType {
	case Float16:
		return reshapeAs[float16.Float16](a, opt)
	case BFloat16:
		return reshapeAs[reshape.BFloat16](a, opt)
	case Float32:
		return reshapeAs[float32](a, opt)
	case Float64:
		return reshapeAs[float64](a, opt)
	case Int8:
		return reshapeAs[int8](a, opt)
	case Uint8:
		return reshapeAs[uint8](a, opt)
	case Int16:
		return reshapeAs[int16](a, opt)
	case Uint16:
		return reshapeAs[uint16](a, opt)
	case Int32:
		return reshapeAs[int32](a, opt)
	case Uint32:
		return reshapeAs[uint32](a, opt)
	case Int64:
		return reshapeAs[int64](a, opt)
	case Uint64:
		return reshapeAs[uint64](a, opt)
	}
	return nil, errorf(ErrDType, "tensor %q has dtype %q, which this package does not support", a.Name, a.Descr)
}

// reshapeAs is Reshape for the element type T of a's dtype.
func reshapeAs[T reshape.Element](a *Array, opt ReshapeOptions) (*Array, error) {
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
	if t.IsContiguous() || opt.Progress == nil {
		m, err := reshape.ConcatLastDimensions(t, k)
		if err != nil {
			return nil, err
		}
		return FromMatrix(a.Name, m)
	}
	// Check k before the copy, as ConcatLastDimensions would.
	if r := t.Rank(); k < 1 || k > r {
		return nil, fmt.Errorf("%w: %d axes to concatenate of a tensor of rank %d (want 1..%d)", reshape.ErrConcatDims, k, r, r)
	}
	dst := make([]T, t.Len())
	if err := copyInBlocks(dst, t, opt.Progress); err != nil {
		return nil, err
	}
	c, err := reshape.New(dst, t.Shape...)
	if err != nil {
		return nil, err
	}
	m, err := reshape.ConcatLastDimensions(c, k) // contiguous: aliases dst
	if err != nil {
		return nil, err
	}
	return FromMatrix(a.Name, m)
}

// copyInBlocks writes t row-major into dst with reshape.Contiguous, one
// block of the outermost axis of extent above 1 at a time, calling progress
// after each. The axes before that one have extent 1, so each block's
// elements are one contiguous run of dst.
func copyInBlocks[T reshape.Element](dst []T, t reshape.Tensor[T], progress func(done, total int64) error) error {
	n := len(dst)
	var zero T
	size := int64(unsafe.Sizeof(zero))
	total := int64(n) * size
	axis := 0
	for axis < len(t.Shape)-1 && t.Shape[axis] == 1 {
		axis++
	}
	extent := t.Shape[axis]
	if n == 0 || extent == 0 {
		return progress(0, 0)
	}
	inner := n / extent // elements per index of the axis
	step := max(1, copyBlock/(inner*int(size)))
	for i := 0; i < extent; i += step {
		j := min(i+step, extent)
		block, err := t.Slice(axis, i, j, 1)
		if err != nil {
			return err
		}
		if err := reshape.Contiguous(dst[i*inner:j*inner], block); err != nil {
			return err
		}
		if err := progress(int64(j*inner)*size, total); err != nil {
			return fmt.Errorf("copy stopped at %d of %d bytes: %w", int64(j*inner)*size, total, err)
		}
	}
	return nil
}
