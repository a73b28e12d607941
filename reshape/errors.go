package reshape

import (
	"errors"
	"fmt"
)

// The sentinel errors. Every error of this package wraps exactly one of them;
// test with errors.Is. When a function returns an error other than ErrFault
// it has written nothing to its destination.
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
	// ErrFault: reading the view, or writing the destination, faulted:
	// memory that was valid when the copy began went away under it, as
	// the pages of a memory-mapped file do when another process truncates
	// the file (SIGBUS). The copy stopped part-way: unlike every other
	// error, the destination of an Into form may have been written in
	// part. A mapped file must not be truncated while views of it are in
	// use; this error only keeps the process alive when it is.
	ErrFault = errors.New("reshape: memory fault during the copy")
)

// errorf wraps sentinel with a message that says what was wrong.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
