package reshape

import "github.com/stridekit/stridekit/internal/shapefmt"

// The views of everyday activation work beyond Permute, Slice and Expand:
// splitting and merging axes, dropping and adding axes of extent 1,
// selecting one index (a layer, the BOS position) and reversing an axis.
// Each returns a view over the same Data, nothing copied, or an error
// wrapping a sentinel.

// axisIndex returns axis counted from the end when negative, or an error
// naming what and the rank.
func axisIndex(axis, rank int, what string) (int, error) {
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, errorf(ErrShape, "%s axis %d is outside a tensor of rank %d", what, axis, rank)
	}
	return a, nil
}

// Split returns the view with axis replaced by len(sizes) axes of those
// extents, like torch.unflatten: the element at index i of the old axis is
// at the row-major multi-index of i in the new ones. One size may be -1, to
// be inferred from the others. The sizes must multiply to the axis' extent
// (ErrShape otherwise); a negative axis counts from the end.
func (t Tensor[T]) Split(axis int, sizes ...int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	a, err := axisIndex(axis, len(t.Shape), "split")
	if err != nil {
		return Tensor[T]{}, err
	}
	e := t.Shape[a]
	if len(sizes) == 0 {
		return Tensor[T]{}, errorf(ErrShape, "split of axis %d into no axes", axis)
	}
	out := append([]int(nil), sizes...)
	known, infer := 1, -1
	for i, s := range out {
		switch {
		case s == -1 && infer < 0:
			infer = i
		case s == -1:
			return Tensor[T]{}, errorf(ErrShape, "split %s of axis %d: more than one -1", shapefmt.List(sizes), axis)
		case s < 0:
			return Tensor[T]{}, errorf(ErrShape, "split %s of axis %d: negative size %d", shapefmt.List(sizes), axis, s)
		default:
			var ok bool
			if known, ok = mul(known, s); !ok {
				return Tensor[T]{}, errorf(ErrShape, "split %s of axis %d: the sizes multiply past the largest int", shapefmt.List(sizes), axis)
			}
		}
	}
	if infer >= 0 {
		if known == 0 || e%known != 0 {
			return Tensor[T]{}, errorf(ErrShape, "split %s of axis %d of extent %d: %d does not divide it", shapefmt.List(sizes), axis, e, known)
		}
		out[infer] = e / known
		known = e
	}
	if known != e {
		return Tensor[T]{}, errorf(ErrShape, "split %s of axis %d of extent %d: the sizes multiply to %d", shapefmt.List(sizes), axis, e, known)
	}
	st := t.strides()
	shape := make([]int, 0, len(t.Shape)+len(out)-1)
	strides := make([]int, 0, cap(shape))
	shape, strides = append(shape, t.Shape[:a]...), append(strides, st[:a]...)
	inner := st[a] // the stride of the last new axis; each one before steps over the ones after it
	newStrides := make([]int, len(out))
	for i := len(out) - 1; i >= 0; i-- {
		newStrides[i] = inner
		if out[i] > 0 {
			inner *= out[i] // cannot overflow: the extents multiply to e, and e*stride was checked by Validate
		}
	}
	shape, strides = append(shape, out...), append(strides, newStrides...)
	shape, strides = append(shape, t.Shape[a+1:]...), append(strides, st[a+1:]...)
	return Tensor[T]{Data: t.Data, Shape: shape, Strides: strides, Offset: t.Offset}, nil
}

// Merge returns the view with the adjacent axes from..to (inclusive) made
// one, like torch.flatten(from, to), when the strides allow it as a view:
// every merged axis must step, in memory, over the whole of the ones after
// it (axes of extent 1 aside). Otherwise merging them needs a copy, and it
// fails with ErrStrides: copy with Contiguous first, or leave the merge to
// ConcatLastDimensions, which copies once. Negative axes count from the
// end.
func (t Tensor[T]) Merge(from, to int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	r := len(t.Shape)
	a, err := axisIndex(from, r, "merge")
	if err != nil {
		return Tensor[T]{}, err
	}
	b, err := axisIndex(to, r, "merge")
	if err != nil {
		return Tensor[T]{}, err
	}
	if a > b {
		return Tensor[T]{}, errorf(ErrShape, "merge of axes %d..%d: the first comes after the last", from, to)
	}
	st := t.strides()
	n := 1
	for _, e := range t.Shape[a : b+1] {
		n *= e // cannot overflow: Validate counted the elements
	}
	stride := 0 // an empty merge reads nothing: any stride does
	if n > 0 {
		stride = 1            // all of extent 1: any stride does
		inner, last := -1, -1 // the innermost axis of extent > 1, and the last one seen, from the inside out
		for i := b; i >= a; i-- {
			if t.Shape[i] == 1 {
				continue
			}
			if last >= 0 && st[i] != st[last]*t.Shape[last] {
				return Tensor[T]{}, errorf(ErrStrides, "axes %d..%d do not merge as a view: axis %d (stride %d) does not step over axis %d (extent %d, stride %d); copy first", from, to, i, st[i], last, t.Shape[last], st[last])
			}
			if inner < 0 {
				inner = i
			}
			last = i
		}
		if inner >= 0 {
			stride = st[inner]
		}
	}
	shape := append(append(append([]int(nil), t.Shape[:a]...), n), t.Shape[b+1:]...)
	strides := append(append(append([]int(nil), st[:a]...), stride), st[b+1:]...)
	return Tensor[T]{Data: t.Data, Shape: shape, Strides: strides, Offset: t.Offset}, nil
}

// Squeeze returns the view without the given axes, which must have extent
// 1 (ErrShape otherwise), or, with no axes, without every axis of extent 1.
// A view keeps at least one axis: squeezing them all is ErrShape. Negative
// axes count from the end.
func (t Tensor[T]) Squeeze(axes ...int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	r := len(t.Shape)
	drop := make([]bool, r)
	if len(axes) == 0 {
		for a, e := range t.Shape {
			drop[a] = e == 1
		}
	}
	for _, axis := range axes {
		a, err := axisIndex(axis, r, "squeeze")
		if err != nil {
			return Tensor[T]{}, err
		}
		if t.Shape[a] != 1 {
			return Tensor[T]{}, errorf(ErrShape, "squeeze of axis %d of extent %d (only extent-1 axes go)", axis, t.Shape[a])
		}
		drop[a] = true
	}
	st := t.strides()
	var shape, strides []int
	for a := range t.Shape {
		if !drop[a] {
			shape, strides = append(shape, t.Shape[a]), append(strides, st[a])
		}
	}
	if len(shape) == 0 {
		return Tensor[T]{}, errorf(ErrShape, "squeezing every axis of %v leaves no axis; a tensor keeps at least one", t.Shape)
	}
	return Tensor[T]{Data: t.Data, Shape: shape, Strides: strides, Offset: t.Offset}, nil
}

// Unsqueeze returns the view with a new axis of extent 1 at position axis
// (0..rank; negative counts from the end of the result, -1 appends), like
// torch.unsqueeze.
func (t Tensor[T]) Unsqueeze(axis int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	r := len(t.Shape)
	a, err := axisIndex(axis, r+1, "unsqueeze")
	if err != nil {
		return Tensor[T]{}, err
	}
	st := t.strides()
	stride := 1 // any stride does for an axis of extent 1; this one keeps the view row-major
	if a < r {
		stride = st[a] * max(t.Shape[a], 1)
	}
	shape := append(append(append([]int(nil), t.Shape[:a]...), 1), t.Shape[a:]...)
	strides := append(append(append([]int(nil), st[:a]...), stride), st[a:]...)
	return Tensor[T]{Data: t.Data, Shape: shape, Strides: strides, Offset: t.Offset}, nil
}

// Select returns the view at index of axis, without that axis, like
// x[..., index, ...] in Python: a layer of a stacked capture, the BOS
// position. A negative index counts from the end; an index outside the axis
// is ErrShape, and so is selecting from a rank-1 view, which would leave no
// axis. A negative axis counts from the end.
func (t Tensor[T]) Select(axis, index int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	r := len(t.Shape)
	a, err := axisIndex(axis, r, "select")
	if err != nil {
		return Tensor[T]{}, err
	}
	if r == 1 {
		return Tensor[T]{}, errorf(ErrShape, "select from a rank-1 tensor leaves no axis; slice it instead")
	}
	e := t.Shape[a]
	i := index
	if i < 0 {
		i += e
	}
	if i < 0 || i >= e {
		return Tensor[T]{}, errorf(ErrShape, "select index %d is outside axis %d of extent %d", index, axis, e)
	}
	st := t.strides()
	offset := t.Offset
	if t.Len() > 0 {
		offset += i * st[a]
	}
	shape := append(append([]int(nil), t.Shape[:a]...), t.Shape[a+1:]...)
	strides := append(append([]int(nil), st[:a]...), st[a+1:]...)
	return Tensor[T]{Data: t.Data, Shape: shape, Strides: strides, Offset: offset}, nil
}

// Flip returns the view with axis reversed, like torch.flip or
// x[..., ::-1, ...]. A negative axis counts from the end.
func (t Tensor[T]) Flip(axis int) (Tensor[T], error) {
	if err := t.Validate(); err != nil {
		return Tensor[T]{}, err
	}
	a, err := axisIndex(axis, len(t.Shape), "flip")
	if err != nil {
		return Tensor[T]{}, err
	}
	e := t.Shape[a]
	if e < 2 {
		return t.withStrides(), nil
	}
	return t.Slice(a, e-1, -1, -1)
}

// withStrides returns t with its strides spelled out.
func (t Tensor[T]) withStrides() Tensor[T] {
	return Tensor[T]{Data: t.Data, Shape: append([]int(nil), t.Shape...), Strides: t.strides(), Offset: t.Offset}
}
