package reshape

import (
	"errors"
	"fmt"
)

// The sentinel errors. Every error of this package wraps exactly one of them;
// test with errors.Is. When a function returns an error it has written
// nothing to its destination.
var (
	// ErrShape: rank 0, a negative extent, extents whose product overflows
	// int, data whose length disagrees with the shape, a Slice or Expand
	// argument outside the axis, or a result above the allocation cap
	// (SetMaxAlloc) of the allocating forms.
	ErrShape = errors.New("reshape: invalid shape")
	// ErrStrides: len(Strides) differs from the rank, or the view reaches an
	// index outside Data (negative strides and Offset included).
	ErrStrides = errors.New("reshape: invalid strides")
	// ErrConcatDims: the number of axes to concatenate is outside [1, rank].
	ErrConcatDims = errors.New("reshape: concat dims out of range")
	// ErrPermutation: the axes given to Permute are not a permutation of the
	// tensor's axes.
	ErrPermutation = errors.New("reshape: invalid permutation")
	// ErrDst: the destination is shorter than the view, or overlaps the span
	// of Data between the lowest and highest index the view reads (a copy
	// must never corrupt its own source).
	ErrDst = errors.New("reshape: invalid destination")
	// ErrPattern: an einops-style pattern that does not parse, that names
	// an axis twice, on one side only or without a size it needs, or that
	// does not fit the tensor it is applied to (Compile, Rearrange). The
	// message names the offending part of the pattern.
	ErrPattern = errors.New("reshape: invalid pattern")
)

// errorf wraps sentinel with a message that says what was wrong.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
