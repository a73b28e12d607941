package tensorfile

import (
	"io"
	"slices"
	"unsafe"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/reshape"
)

// ReshapeOptions says what Reshape does to an array: first the selections
// and slices, then a pattern, or a permutation and the concatenation of the
// last axes, all as views, then one copy, converting if DType says so.
type ReshapeOptions struct {
	// Select keeps one index of an axis and drops the axis
	// (reshape.Tensor.Select); Slice keeps a range of one
	// (reshape.Tensor.Slice, strict: its bounds must lie in the axis). Both
	// name the array's own axes, whatever their order; an axis takes at most
	// one of them.
	Select []Selection
	Slice  []Range
	// Pattern, if not empty, is an einops rearrangement (reshape.Compile,
	// with Sizes) that makes the result, of as many axes as its right side
	// has groups; Permute and ConcatDims must then be unset.
	Pattern string
	Sizes   []reshape.Size
	// Permute, if not nil, reorders the axes first, as a view
	// (reshape.Tensor.Permute: axis i of the view is axis Permute[i]).
	Permute []int
	// ConcatDims is the number of trailing axes that become the feature
	// axis (reshape.ConcatLastDimensions); 0 means 1, ToLastDimension.
	ConcatDims int
	// DType, unless Invalid (the zero value) or the array's own, converts
	// every element to it as it is copied, by the rules of
	// reshape.ContiguousAs: a bfloat16 capture becomes a float32 .npy file
	// in one pass. A converted result is always a copy.
	DType DType
}

// Selection is one index of one axis (ReshapeOptions.Select).
type Selection struct{ Axis, Index int }

// Range is a slice of one axis (ReshapeOptions.Slice), with the meaning of
// reshape.Tensor.Slice.
type Range struct{ Axis, Start, Stop, Step int }

// typed reports whether the options need the elements as their own type:
// what the bytes of unaligned data cannot do.
func (opt ReshapeOptions) typed(a *Array) bool {
	return opt.DType != Invalid && opt.DType != a.DType || opt.Pattern != "" || len(opt.Select) > 0 || len(opt.Slice) > 0
}

// copyBlock is the size of the blocks in which ReshapeLazy copies its
// result as it is written: large enough that a block costs one call of the
// copy kernels and one write, small enough to stay in the caches' reach and
// let a progress bar move. Its footprint (the block and the source it reads,
// 4 MiB) is below reshape's streaming threshold on the machines measured
// (24 MiB on the 2-vCPU EPYC VM), so a block is written into the cache,
// where the write that follows reads it.
const copyBlock = 2 << 20

// Reshape is reshape.ConcatLastDimensions for an Array of any dtype: it
// returns the C-order [rows, cols] Array of a's view, permuted by
// opt.Permute, with its last opt.ConcatDims axes concatenated. When that
// view is already row-major contiguous, the result shares a's bytes (no
// copy, aligned or not); otherwise it is copied into new, 8-aligned memory.
// Errors wrap reshape's sentinels (ErrPermutation, ErrConcatDims, ...) or
// this package's.
//
// Data that does not start on a multiple of its element's alignment (a
// safetensors tensor may lie anywhere) is not copied first, as Tensor
// copies it: the copy reads it as bytes.
func Reshape(a *Array, opt ReshapeOptions) (*Array, error) {
	return byDType(a, opt, false)
}

// ReshapeLazy is Reshape without the result in memory. It checks what
// Reshape checks and returns the result's Array at once, but unless the view
// is already contiguous (then the result shares a's bytes, as with Reshape)
// the bytes are made only when WriteNPY, WriteSafetensors or Save writes
// the Array: the view is copied a block of about 2 MiB at a time into one
// reused buffer, and each block written before the next is copied. This
// holds for unaligned data too, which is read as bytes, never copied whole.
// So converting a file takes little memory beyond its map, and no large
// fresh allocation (whose first touch is slow on some machines). The Array
// reads a when written: keep a's File open until then. Its Bytes method
// computes all the bytes, into new memory.
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
	case Float8E4M3, Float8E5M2, Bool:
		// Opaque: the bytes move as uint8, and the result keeps the dtype.
		if opt.DType != Invalid && opt.DType != a.DType {
			return nil, errorf(ErrDType, "tensor %q is %v, whose bits stridekit does not interpret: it is moved as it is and converts to no other dtype (%v asked)", a.Name, a.DType, opt.DType)
		}
		return reshapeAs[uint8](a, opt, lazy)
	}
	return nil, a.Unsupported()
}

// reshapeAs is Reshape (or ReshapeLazy) for the element type T of a's
// dtype. Aligned data is viewed as T; unaligned data as bytes, with one
// more, innermost axis over the bytes of each element, so that no T is
// loaded from an unaligned address and the copy still reads only the view.
func reshapeAs[T reshape.Element](a *Array, opt ReshapeOptions, lazy bool) (*Array, error) {
	if len(a.Shape) == 0 {
		return nil, errorf(ErrInvalid, "tensor %q is a scalar (shape ()); reshape needs at least one axis", a.Name)
	}
	k := opt.ConcatDims
	if k == 0 {
		k = 1
	}
	if err := a.native(); err != nil {
		return nil, err
	}
	if opt.typed(a) {
		return typedAs[T](a, opt, k, lazy)
	}
	raw := a.Bytes()
	var zero T
	if len(raw) == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%unsafe.Alignof(zero) == 0 {
		t, err := Tensor[T](a) // a view: aligned data is not copied
		if err != nil {
			return nil, err
		}
		if opt.Permute != nil {
			if t, err = t.Permute(opt.Permute...); err != nil {
				return nil, err
			}
		}
		return finish(a, t, t.Shape, k, lazy)
	}

	r, size := len(a.Shape), int(unsafe.Sizeof(zero))
	bt := reshape.Tensor[uint8]{Data: raw, Shape: append(slices.Clone(a.Shape), size), Strides: a.Strides()}
	for i := range bt.Strides {
		bt.Strides[i] *= size
	}
	bt.Strides = append(bt.Strides, 1)
	if opt.Permute != nil {
		axes, err := checkPermutation(a.Shape, opt.Permute)
		if err != nil {
			return nil, err
		}
		if bt, err = bt.Permute(append(axes, r)...); err != nil {
			return nil, err
		}
	}
	return finish(a, bt, bt.Shape[:r], k, lazy)
}

// typedAs is reshapeAs for options that need the elements, of type S, as
// their own type: selections, slices, a pattern, a conversion to
// opt.DType. Unaligned data is copied to aligned memory first.
func typedAs[S reshape.Element](a *Array, opt ReshapeOptions, k int, lazy bool) (*Array, error) {
	var zero S
	src := a
	if raw := a.Bytes(); len(raw) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%unsafe.Alignof(zero) != 0 {
		aligned := alignedBytes(len(raw))
		if err := copyMapped(aligned, raw); err != nil {
			return nil, err
		}
		var err error
		if src, err = NewArray(a.Name, a.DType, a.Shape, a.Fortran, aligned); err != nil {
			return nil, err
		}
	}
	t, err := Tensor[S](src)
	if err != nil {
		return nil, err
	}
	if t, err = pick(t, opt); err != nil {
		return nil, err
	}
	var shape []int
	switch {
	case opt.Pattern != "":
		if opt.Permute != nil || opt.ConcatDims != 0 {
			return nil, errorf(ErrInvalid, "a pattern replaces Permute and ConcatDims")
		}
		p, err := reshape.Compile[S](opt.Pattern, opt.Sizes...)
		if err != nil {
			return nil, err
		}
		if t, shape, err = p.Ungrouped(t); err != nil {
			return nil, err
		}
	default:
		if opt.Permute != nil {
			if t, err = t.Permute(opt.Permute...); err != nil {
				return nil, err
			}
		}
		rows, cols, err := reshape.MatrixShape(t.Shape, k)
		if err != nil {
			return nil, err
		}
		shape = []int{rows, cols}
	}
	dt := opt.DType
	if dt == Invalid || dt == a.DType {
		return finishShape(a, t, shape, lazy)
	}
	switch dt {
	case Float16:
		return finishAs[float16.Float16](a, t, dt, shape, lazy)
	case BFloat16:
		return finishAs[reshape.BFloat16](a, t, dt, shape, lazy)
	case Float32:
		return finishAs[float32](a, t, dt, shape, lazy)
	case Float64:
		return finishAs[float64](a, t, dt, shape, lazy)
	case Int8:
		return finishAs[int8](a, t, dt, shape, lazy)
	case Uint8:
		return finishAs[uint8](a, t, dt, shape, lazy)
	case Int16:
		return finishAs[int16](a, t, dt, shape, lazy)
	case Uint16:
		return finishAs[uint16](a, t, dt, shape, lazy)
	case Int32:
		return finishAs[int32](a, t, dt, shape, lazy)
	case Uint32:
		return finishAs[uint32](a, t, dt, shape, lazy)
	case Int64:
		return finishAs[int64](a, t, dt, shape, lazy)
	case Uint64:
		return finishAs[uint64](a, t, dt, shape, lazy)
	}
	return nil, errorf(ErrDType, "cannot convert tensor %q to dtype %v", a.Name, dt)
}

// pick applies the selections and slices of opt to t, each to the axis of
// t that it names: the slices first, then the selections from the last
// axis back, so that the numbers of the axes not yet dropped hold.
func pick[S reshape.Element](t reshape.Tensor[S], opt ReshapeOptions) (reshape.Tensor[S], error) {
	r := t.Rank()
	used := make([]bool, r)
	claim := func(axis int) (int, error) {
		a := axis
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return 0, errorf(ErrInvalid, "axis %d is outside a tensor of rank %d", axis, r)
		}
		if used[a] {
			return 0, errorf(ErrInvalid, "axis %d is selected or sliced twice", axis)
		}
		used[a] = true
		return a, nil
	}
	var err error
	for _, s := range opt.Slice {
		a, err := claim(s.Axis)
		if err != nil {
			return t, err
		}
		if t, err = t.Slice(a, s.Start, s.Stop, s.Step); err != nil {
			return t, err
		}
	}
	sel := make([]Selection, 0, len(opt.Select))
	for _, s := range opt.Select {
		a, err := claim(s.Axis)
		if err != nil {
			return t, err
		}
		sel = append(sel, Selection{a, s.Index})
	}
	slices.SortFunc(sel, func(x, y Selection) int { return y.Axis - x.Axis })
	for _, s := range sel {
		if t, err = t.Select(s.Axis, s.Index); err != nil {
			return t, err
		}
	}
	return t, nil
}

// finishAs is finishShape converting the view v, of elements S, to D, of
// dtype dt: always a copy, whole or block by block as it is written.
func finishAs[D, S reshape.Element](a *Array, v reshape.Tensor[S], dt DType, shape []int, lazy bool) (*Array, error) {
	n := v.Len()
	size := dt.Size()
	if !lazy {
		dst := alignedBytes(n * size)
		if err := reshape.ContiguousAs(unsafe.Slice((*D)(unsafe.Pointer(unsafe.SliceData(dst))), n), v); err != nil {
			return nil, changed(err)
		}
		return NewArray(a.Name, dt, shape, false, dst)
	}
	out := &Array{Name: a.Name, DType: dt, Descr: dt.String(), Shape: shape, size: n * size}
	per := copyBlock / max(size, int(unsafe.Sizeof(*new(S))))
	out.gen = func(w io.Writer) error {
		buf := make([]D, min(n, per))
		return eachBlock(v, per, func(_, length int, block reshape.Tensor[S]) error {
			if err := reshape.ContiguousAs(buf[:length], block); err != nil {
				return err
			}
			_, err := w.Write(asBytes(buf[:length]))
			return err
		})
	}
	return out, nil
}

// checkPermutation returns perm with its negative axes counted from the
// end, after checking it is a permutation of the axes of shape as
// reshape.Tensor.Permute checks it, and with its errors: it permutes a
// one-element stand-in of that shape (zero strides) rather than the data.
func checkPermutation(shape, perm []int) ([]int, error) {
	stand := reshape.Tensor[uint8]{Data: []uint8{0}, Shape: shape, Strides: make([]int, len(shape))}
	if _, err := stand.Permute(perm...); err != nil {
		return nil, err
	}
	axes := make([]int, len(perm))
	for i, p := range perm {
		if p < 0 {
			p += len(shape)
		}
		axes[i] = p
	}
	return axes, nil
}

// finish makes the result of Reshape or ReshapeLazy from v, the permuted
// view of a's elements (of type T, or of bytes with an innermost axis of
// each element's bytes), whose element shape is shape: the [rows, cols]
// matrix of its last k axes.
func finish[E reshape.Element](a *Array, v reshape.Tensor[E], shape []int, k int, lazy bool) (*Array, error) {
	rows, cols, err := reshape.MatrixShape(shape, k)
	if err != nil {
		return nil, err
	}
	return finishShape(a, v, []int{rows, cols}, lazy)
}

// finishShape makes the result, of shape out, from the view v whose
// row-major elements it holds: a's bytes when v is already contiguous, a
// copy otherwise, whole or block by block as it is written.
func finishShape[E reshape.Element](a *Array, v reshape.Tensor[E], out []int, lazy bool) (*Array, error) {
	if v.IsContiguous() {
		// v holds its elements row-major and contiguous in its data (a's
		// bytes, or their aligned copy): the result is those bytes.
		return NewArray(a.Name, a.DType, out, false, asBytes(v.Data[v.Offset:v.Offset+v.Len()]))
	}
	n := v.Len() // elements of E
	esize := int(unsafe.Sizeof(*new(E)))
	if !lazy {
		dst := alignedBytes(n * esize)
		if err := reshape.Contiguous(unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(dst))), n), v); err != nil {
			return nil, changed(err)
		}
		return NewArray(a.Name, a.DType, out, false, dst)
	}
	res := &Array{Name: a.Name, DType: a.DType, Descr: a.DType.String(), Shape: out, size: n * esize}
	res.gen = func(w io.Writer) error {
		buf := make([]E, min(n, copyBlock/esize))
		return eachBlock(v, copyBlock/esize, func(_, length int, block reshape.Tensor[E]) error {
			if err := reshape.Contiguous(buf[:length], block); err != nil {
				return err
			}
			_, err := w.Write(asBytes(buf[:length]))
			return err
		})
	}
	return res, nil
}

// alignedBytes returns n zero bytes starting on a multiple of 8, like a
// mapping's, so that a Tensor of them needs no copy.
func alignedBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n)
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
