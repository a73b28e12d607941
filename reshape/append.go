package reshape

import (
	"slices"
	"unsafe"
)

// AppendToLastDimension appends ToLastDimension(t) to store, as a capture
// hook that grows an activation store does: it returns the grown store and
// the Matrix of the rows just added, a view of store's new tail (its Data
// has no spare capacity, so appending to it cannot clobber the store).
//
// store grows as append grows a slice: in place when its capacity allows,
// otherwise into a new array whose capacity grows geometrically, so that n
// appends cost amortised O(1) allocations each. The view is copied by the
// usual kernels straight into the new tail, never through a temporary, and
// never aliased, even when it is contiguous. A tail that would overlap the
// span of t.Data the view reads (a view of store itself, say) goes to a new
// array instead, as append(s, s...) does.
//
// On error store is returned unchanged, with its contents untouched.
func AppendToLastDimension[T Element](store []T, t Tensor[T]) ([]T, Matrix[T], error) {
	return appendParts(store, t, 1)
}

// AppendConcatLastDimensions is AppendToLastDimension for
// ConcatLastDimensions(t, concatDims): the last concatDims axes of t become
// the feature axis of the rows appended.
func AppendConcatLastDimensions[T Element](store []T, t Tensor[T], concatDims int) ([]T, Matrix[T], error) {
	return appendParts(store, t, concatDims)
}

// appendParts is the one body of the Append forms: prepare as for a new
// result, grow store, then copy into its tail as the Into forms do.
func appendParts[T Element](store []T, t Tensor[T], concatDims int) ([]T, Matrix[T], error) {
	v, m, done, err := prepare[T](nil, false, t.Shape, t.Strides, t.Offset, len(t.Data), concatDims)
	if err != nil {
		return store, Matrix[T]{}, err
	}
	old := len(store)
	if done {
		m.Data = store[old:old:old]
		return store, m, nil
	}
	if err := checkAlloc[T](old, v.n); err != nil {
		return store, Matrix[T]{}, err
	}
	grown := slices.Grow(store, v.n)
	if unsafe.SliceData(grown) == unsafe.SliceData(store) && overlaps(grown[old:old+v.n], t.Data[v.lo:v.hi+1]) {
		// The tail is part of what the view reads: move to a new array,
		// sized as append would size it.
		grown = slices.Grow(store[:old:old], v.n)
	}
	grown = grown[:old+v.n]
	tail := grown[old:]
	var buf canonBuf
	cshape, cstrides := canonicalise(&buf, t.Shape, t.Strides)
	if err := dispatch(dtypeOf[T](), unsafe.Pointer(unsafe.SliceData(tail)), unsafe.Pointer(&t.Data[t.Offset]), v, cshape, cstrides); err != nil {
		return store, Matrix[T]{}, err
	}
	m.Data = tail[:v.n:v.n]
	return grown, m, nil
}
