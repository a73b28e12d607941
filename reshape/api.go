package reshape

import "unsafe"

// Matrix is a dense row-major [Rows, Cols] result; len(Data) == Rows*Cols.
// Row i, one item's feature vector, is Data[i*Cols : (i+1)*Cols].
type Matrix[T Element] struct {
	Data       []T
	Rows, Cols int
}

// Func is the Go form of ReshapeActivationsFunction: it turns a captured
// activation view into the [items, features] matrix an activation store
// appends. ToLastDimension[T] is one; ConcatLastDimensionsFunc makes others.
type Func[T Element] func(Tensor[T]) (Matrix[T], error)

// ToLastDimension reshapes a view of shape [..., f] to [prod(...), f], like
// reshape_to_last_dimension: [3,100] → [3,100], [3,3,100] → [9,100],
// [3,3,3,100] → [27,100]. A rank-1 view [f] gives [1, f].
//
// If the view's elements already lie row-major and contiguous in t.Data
// (size-1 axes aside; see Tensor.IsContiguous), the result aliases t.Data:
// no copy, no allocation, and writes through either show in the other.
// Otherwise it allocates the result, all t.Len() elements even for a
// broadcast view whose elements repeat, and copies the view into it; use
// ToLastDimensionInto to reuse a buffer instead. A result above the
// allocation cap (SetMaxAlloc; by default the machine's memory) is refused
// with ErrShape: write a huge broadcast with an Into form.
func ToLastDimension[T Element](t Tensor[T]) (Matrix[T], error) {
	return reshape(nil, false, t, 1)
}

// ConcatLastDimensions reshapes a view so that its last concatDims axes become
// the feature axis, like reshape_concat_last_dimensions: [3,4,5] with 2 →
// [3,20], [2,3,4,5] with 3 → [2,60]. concatDims must lie in [1, rank]
// (ErrConcatDims otherwise); concatDims == rank gives a single row, and
// ConcatLastDimensions(t, 1) is ToLastDimension(t). Aliasing and allocation
// are as for ToLastDimension.
func ConcatLastDimensions[T Element](t Tensor[T], concatDims int) (Matrix[T], error) {
	return reshape(nil, false, t, concatDims)
}

// ConcatLastDimensionsFunc returns the Func that applies ConcatLastDimensions
// with concatDims, for a capture hook. concatDims is checked against each
// view's rank when the Func runs.
func ConcatLastDimensionsFunc[T Element](concatDims int) Func[T] {
	return func(t Tensor[T]) (Matrix[T], error) {
		return reshape(nil, false, t, concatDims)
	}
}

// ToLastDimensionInto is ToLastDimension writing into dst[:n], n the number
// of elements, always copying, never allocating. The result's Data is
// dst[:n]. dst must hold n elements and must not overlap the span of t.Data
// between the lowest and highest index the view reads (ErrDst); on any error
// dst is untouched.
func ToLastDimensionInto[T Element](dst []T, t Tensor[T]) (Matrix[T], error) {
	return reshape(dst, true, t, 1)
}

// ConcatLastDimensionsInto is ConcatLastDimensions writing into dst, with the
// guarantees of ToLastDimensionInto.
func ConcatLastDimensionsInto[T Element](dst []T, t Tensor[T], concatDims int) (Matrix[T], error) {
	return reshape(dst, true, t, concatDims)
}

// Contiguous writes the view row-major into dst[:n], n = t.Len(), like
// numpy.ascontiguousarray or torch's contiguous(), without allocating. dst
// must hold n elements and must not overlap the span of t.Data between the
// lowest and highest index the view reads (ErrDst); on any error dst is
// untouched.
func Contiguous[T Element](dst []T, t Tensor[T]) error {
	_, err := reshape(dst, true, t, 1)
	return err
}

// MatrixShape returns the [rows, cols] that ConcatLastDimensions gives a
// view of this shape: cols is the product of the last concatDims extents,
// rows the product of the others (1 when there are none). It needs no data,
// so a caller can size a destination, or reject concatDims (ErrConcatDims)
// and a bad shape (ErrShape), before reading anything.
func MatrixShape(shape []int, concatDims int) (rows, cols int, err error) {
	if _, err := count(shape); err != nil {
		return 0, 0, err
	}
	return matrixShape(shape, concatDims)
}

// matrixShape is MatrixShape for a shape already counted without error.
func matrixShape(shape []int, concatDims int) (rows, cols int, err error) {
	r := len(shape)
	if concatDims < 1 || concatDims > r {
		return 0, 0, errorf(ErrConcatDims, "%d axes to concatenate of a tensor of rank %d (want 1..%d)", concatDims, r, r)
	}
	rows, cols = 1, 1 // both divide the checked product, or it is 0 and neither grows past the checked product of the non-zero extents
	for a, e := range shape {
		if a < r-concatDims {
			rows *= e
		} else {
			cols *= e
		}
	}
	return rows, cols, nil
}

// reshape is the one path of every public function: validate, size the
// result, canonicalise, then alias, or check the destination and dispatch.
// into selects the Into contract: write to dst, never alias, never allocate.
func reshape[T Element](dst []T, into bool, t Tensor[T], concatDims int) (Matrix[T], error) {
	return reshapeParts(dst, into, t.Data, t.Offset, t.Shape, t.Strides, concatDims)
}

// reshapeParts is reshape with the view in parts: Data escapes to the
// kernels, shape and strides are only read, so that a caller may keep them
// on its stack (a compiled Pattern does).
func reshapeParts[T Element](dst []T, into bool, data []T, offset int, shape, strides []int, concatDims int) (Matrix[T], error) {
	v, m, done, err := prepare(dst, into, shape, strides, offset, len(data), concatDims)
	if done || err != nil {
		return m, err
	}
	var buf canonBuf
	cshape, cstrides := canonicalise(&buf, shape, strides)
	if !into && contiguous(cshape, cstrides) {
		m.Data = data[offset : offset+v.n : offset+v.n]
		return m, nil
	}
	if dst, err = destination(dst, into, data, v); err != nil {
		return Matrix[T]{}, err
	}
	if err := dispatch(dtypeOf[T](), unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(&data[offset]), v, cshape, cstrides); err != nil {
		return Matrix[T]{}, err
	}
	m.Data = dst[:v.n]
	return m, nil
}

// prepare is the start of every copy, converting or not: validate the view,
// size the result, check dst's length. It reports done, with the empty
// result, for a view of no elements; otherwise m holds the result's rows
// and columns.
func prepare[D Element](dst []D, into bool, shape, strides []int, offset, dataLen, concatDims int) (v inspected, m Matrix[D], done bool, err error) {
	if v, err = inspect(shape, strides, offset, dataLen); err != nil {
		return v, m, false, err
	}
	if m.Rows, m.Cols, err = matrixShape(shape, concatDims); err != nil {
		return v, Matrix[D]{}, false, err
	}
	if into && len(dst) < v.n {
		return v, Matrix[D]{}, false, errorf(ErrDst, "destination holds %d elements, the view has %d", len(dst), v.n)
	}
	if v.n == 0 {
		m.Data = []D{}
		if into {
			m.Data = dst[:0]
		}
		return v, m, true, nil
	}
	return v, m, false, nil
}

// destination returns where a copy of the view v of data goes: a new slice
// of v.n elements, or dst when the caller gave one (into), refused with
// ErrDst if its first v.n elements share a byte with the span of data that
// v reads, whatever the two element types.
func destination[D, S Element](dst []D, into bool, data []S, v inspected) ([]D, error) {
	if !into {
		if err := checkAlloc[D](0, v.n); err != nil {
			return nil, err
		}
		return make([]D, v.n), nil
	}
	if overlaps(dst[:v.n], data[v.lo:v.hi+1]) {
		return nil, errorf(ErrDst, "destination overlaps the bytes of Data[%d:%d], the span the view reads", v.lo, v.hi+1)
	}
	return dst, nil
}

// overlaps reports whether two non-empty slices share memory.
func overlaps[A, B Element](a []A, b []B) bool {
	a0, b0 := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	a1, b1 := a0+uintptr(len(a))*unsafe.Sizeof(a[0]), b0+uintptr(len(b))*unsafe.Sizeof(b[0])
	return a0 < b1 && b0 < a1
}
