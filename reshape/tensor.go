package reshape

import (
	"math"

	"github.com/stridekit/stridekit/internal/shapefmt"
)

// Element is the set of element types a Tensor can hold: every fixed-size
// integer and float type, and any type defined on one of them, such as
// float16.Float16 and BFloat16 (both uint16 underneath).
type Element interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

// Tensor is an N-d strided view over a flat slice: the element at index
// [i0, i1, ...] is Data[Offset + i0*Strides[0] + i1*Strides[1] + ...].
// Views share Data; making one never copies elements.
type Tensor[T Element] struct {
	Data    []T
	Shape   []int
	Strides []int // in elements, one per axis; nil means row-major contiguous; may be 0 or negative
	Offset  int   // index in Data of the element at [0, 0, ...]
}

// New returns the row-major view of data with the given shape, like
// torch.tensor(data).reshape(shape). len(data) must equal the product of the
// extents (ErrShape otherwise).
func New[T Element](data []T, shape ...int) (Tensor[T], error) {
	n, err := count(shape)
	if err != nil {
		return Tensor[T]{}, err
	}
	if n != len(data) {
		return Tensor[T]{}, errorf(ErrShape, "shape %s holds %d elements, data has %d", shapefmt.List(shape), n, len(data))
	}
	return Tensor[T]{Data: data, Shape: append([]int(nil), shape...)}, nil
}

// Rank returns the number of axes.
func (t Tensor[T]) Rank() int { return len(t.Shape) }

// Len returns the number of elements of a valid view: the product of the
// extents.
func (t Tensor[T]) Len() int {
	n := 1
	for _, e := range t.Shape {
		n *= e
	}
	return n
}

// Validate reports whether the view is usable: rank at least 1, extents
// non-negative with a product that fits in an int (ErrShape), one stride per
// axis and every index the view reaches inside Data (ErrStrides). Every
// function of the package validates its input; call Validate to check a view
// built by hand early.
func (t Tensor[T]) Validate() error {
	_, err := inspect(t.Shape, t.Strides, t.Offset, len(t.Data))
	return err
}

// IsContiguous reports whether the elements of the valid view t lie
// row-major and contiguous in Data once size-1 axes are ignored, so that
// ToLastDimension and ConcatLastDimensions return it without copying.
func (t Tensor[T]) IsContiguous() bool {
	v, err := inspect(t.Shape, t.Strides, t.Offset, len(t.Data))
	if err != nil {
		return false
	}
	if v.n == 0 {
		return true
	}
	var buf canonBuf
	return contiguous(canonicalise(&buf, t.Shape, t.Strides))
}

// strides returns t.Strides, or the row-major strides when they are nil, in a
// new slice.
func (t Tensor[T]) strides() []int {
	if t.Strides != nil {
		return append([]int(nil), t.Strides...)
	}
	st := make([]int, len(t.Shape))
	acc := 1
	for a := len(t.Shape) - 1; a >= 0; a-- {
		st[a] = acc
		acc *= t.Shape[a]
	}
	return st
}

// Permute returns the view with its axes reordered, like torch.permute: axis
// a of the result is axis axes[a] of t. Negative entries count from the end
// (-1 is the last axis). It fails with ErrPermutation unless axes names every
// axis exactly once.
func (t Tensor[T]) Permute(axes ...int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	r := len(t.Shape)
	if len(axes) != r {
		return Tensor[T]{}, errorf(ErrPermutation, "%d axes %s for a tensor of rank %d", len(axes), shapefmt.List(axes), r)
	}
	st := t.strides()
	shape, strides := make([]int, r), make([]int, r)
	seen := make([]bool, r)
	for a, from := range axes {
		if from < 0 {
			from += r
		}
		if from < 0 || from >= r {
			return Tensor[T]{}, errorf(ErrPermutation, "axis %d of %s is outside a tensor of rank %d", axes[a], shapefmt.List(axes), r)
		}
		if seen[from] {
			return Tensor[T]{}, errorf(ErrPermutation, "axis %d appears twice in %s", from, shapefmt.List(axes))
		}
		seen[from] = true
		shape[a], strides[a] = t.Shape[from], st[from]
	}
	return Tensor[T]{Data: t.Data, Shape: shape, Strides: strides, Offset: t.Offset}, nil
}

// Slice returns the view that keeps, along axis, the indices start,
// start+step, start+2*step, ... strictly before stop, like Python's
// x[..., start:stop:step, ...]. step may be negative (then the indices
// decrease, and stop may be -1 to reach index 0) but not 0. A negative axis
// counts from the end. With a positive step start and stop must lie in
// [0, extent], with a negative step in [-1, extent-1]: they are never clamped
// or wrapped, and anything else is ErrShape. start == stop gives an empty
// axis.
func (t Tensor[T]) Slice(axis, start, stop, step int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	r := len(t.Shape)
	a := axis
	if a < 0 {
		a += r
	}
	if a < 0 || a >= r {
		return Tensor[T]{}, errorf(ErrShape, "slice axis %d is outside a tensor of rank %d", axis, r)
	}
	e := t.Shape[a]
	var n int
	switch {
	case step > 0:
		if start < 0 || start > e || stop < 0 || stop > e {
			return Tensor[T]{}, errorf(ErrShape, "slice %d:%d:%d is outside axis %d of extent %d", start, stop, step, axis, e)
		}
		if stop > start {
			n = (stop-start-1)/step + 1 // cannot overflow, unlike ceil by adding step-1
		}
	case step < 0:
		if start < -1 || start >= e || stop < -1 || stop >= e {
			return Tensor[T]{}, errorf(ErrShape, "slice %d:%d:%d is outside axis %d of extent %d", start, stop, step, axis, e)
		}
		if start > stop {
			n = (start-stop-1)/-step + 1 // step == MinInt gives -step == MinInt < 0: n is 1, right
		}
	default:
		return Tensor[T]{}, errorf(ErrShape, "slice step of axis %d is 0", axis)
	}
	st := t.strides()
	offset := t.Offset
	if n > 0 && t.Len() > 0 {
		// start is inside the axis and the view has elements, so the new
		// element [0, ...] is one the view reaches. An empty view keeps its
		// offset, which may not move past the end of Data.
		offset += start * st[a]
	}
	if n > 1 { // the stride of an axis of extent 0 or 1 never moves
		stride, ok := mul(st[a], step)
		if !ok {
			return Tensor[T]{}, errorf(ErrStrides, "stride %d times step %d overflows int", st[a], step)
		}
		st[a] = stride
	}
	shape := append([]int(nil), t.Shape...)
	shape[a] = n
	return Tensor[T]{Data: t.Data, Shape: shape, Strides: st, Offset: offset}, nil
}

// Expand returns the view broadcast to shape, like torch.expand: an axis of
// extent 1 may take any extent (its stride becomes 0, so every index reads
// the same elements), -1 keeps an axis as it is, and new axes of stride 0 may
// be added in front. Anything else is ErrShape.
func (t Tensor[T]) Expand(shape ...int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	r, lead := len(t.Shape), len(shape)-len(t.Shape)
	if lead < 0 {
		return Tensor[T]{}, errorf(ErrShape, "cannot expand rank %d to the %d axes %s", r, len(shape), shapefmt.List(shape))
	}
	st := t.strides()
	outShape, outStrides := make([]int, len(shape)), make([]int, len(shape))
	for a, e := range shape {
		if a < lead {
			if e < 0 {
				return Tensor[T]{}, errorf(ErrShape, "new axis %d of %s has extent %d", a, shapefmt.List(shape), e)
			}
			outShape[a] = e // stride 0
			continue
		}
		old := t.Shape[a-lead]
		switch {
		case e == -1 || e == old:
			outShape[a], outStrides[a] = old, st[a-lead]
		case old == 1 && e >= 0:
			outShape[a] = e // stride 0
		default:
			return Tensor[T]{}, errorf(ErrShape, "cannot expand axis %d of extent %d to %d (only extent-1 axes broadcast)", a-lead, old, e)
		}
	}
	if _, err := count(outShape); err != nil {
		return Tensor[T]{}, err
	}
	return Tensor[T]{Data: t.Data, Shape: outShape, Strides: outStrides, Offset: t.Offset}, nil
}

// count returns the number of elements of shape, or ErrShape for rank 0, a
// negative extent or a product that overflows int (zero extents do not hide
// an overflow of the others).
func count(shape []int) (int, error) {
	if len(shape) == 0 {
		return 0, errorf(ErrShape, "rank 0: a tensor needs at least one axis")
	}
	n, zero := 1, false
	for a, e := range shape {
		if e < 0 {
			return 0, errorf(ErrShape, "axis %d of %s has negative extent %d", a, shapefmt.List(shape), e)
		}
		if e == 0 {
			zero = true
			continue
		}
		var ok bool
		if n, ok = mul(n, e); !ok {
			return 0, errorf(ErrShape, "the extents %s multiply past the largest int", shapefmt.List(shape))
		}
	}
	if zero {
		return 0, nil
	}
	return n, nil
}

// inspected is what validation learns about a view.
type inspected struct {
	n      int // number of elements
	lo, hi int // lowest and highest index of Data the view reaches, when n > 0
	off    int // the view's Offset: its element [0, 0, ...] is Data[off]
}

// inspect validates a view and returns its element count and the span of
// Data it reads.
func inspect(shape, strides []int, offset, dataLen int) (inspected, error) {
	n, err := count(shape)
	if err != nil {
		return inspected{}, err
	}
	if strides != nil && len(strides) != len(shape) {
		return inspected{}, errorf(ErrStrides, "%d strides for %d axes", len(strides), len(shape))
	}
	if n == 0 {
		if offset < 0 || offset > dataLen {
			return inspected{}, errorf(ErrStrides, "offset %d is outside data of length %d", offset, dataLen)
		}
		return inspected{}, nil
	}
	lo, hi := offset, offset
	if strides == nil {
		hi = offset + n - 1 // n ≤ MaxInt and offset is checked below, but the sum may overflow
		if hi < offset {
			return inspected{}, errorf(ErrStrides, "offset %d plus %d elements overflows int", offset, n)
		}
	} else {
		for a, e := range shape {
			if e == 1 {
				continue // any stride is fine: the axis never moves
			}
			span, ok := mul(e-1, strides[a])
			if !ok {
				return inspected{}, errorf(ErrStrides, "axis %d: stride %d times extent %d overflows int", a, strides[a], e)
			}
			if span < 0 {
				lo, ok = add(lo, span)
			} else {
				hi, ok = add(hi, span)
			}
			if !ok {
				return inspected{}, errorf(ErrStrides, "the view's index range overflows int at axis %d", a)
			}
		}
	}
	if lo < 0 || hi >= dataLen {
		return inspected{}, errorf(ErrStrides, "the view reaches indices %d..%d of data of length %d", lo, hi, dataLen)
	}
	return inspected{n: n, lo: lo, hi: hi, off: offset}, nil
}

// mul returns a*b and whether it did not overflow.
func mul(a, b int) (int, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt) || (b == -1 && a == math.MinInt) {
		return 0, false
	}
	return c, true
}

// add returns a+b and whether it did not overflow.
func add(a, b int) (int, bool) {
	c := a + b
	if (b > 0 && c < a) || (b < 0 && c > a) {
		return 0, false
	}
	return c, true
}
