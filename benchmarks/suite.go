// Package benchmarks is the benchmark suite of stridekit: the standard set of
// views (Cases), how to build each one (Build) and make it contiguous the way
// an activation store would (Run), and a naive N-d loop (NaiveCopy) to
// compare against. The same cases run under go test and, through this
// package's exported API, from any command-line tool.
//
// Run the benchmarks, which time stridekit against a plain copy() of the same
// bytes (the ceiling) and against NaiveCopy, and summarise them with benchstat:
//
//	go test -run '^$' -bench . -count 10 ./benchmarks > new.txt
//	benchstat new.txt
//
// go test ./benchmarks without -bench runs the tests instead: every case, in
// float32 and bfloat16, gives the same elements through stridekit and
// through NaiveCopy, copies without allocating, and "small" is zero-copy.
//
// Bytes are counted as STREAM counts them: every element of the result is
// read once and written once, so a case moves 2 × elements × element size.
package benchmarks

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/stridekit/stridekit/reshape"
)

// SliceOp is one Tensor.Slice call: along Axis (negative counts from the
// end) keep the indices Start, Start+Step, ... strictly before Stop.
type SliceOp struct {
	Axis, Start, Stop, Step int
}

// Case is one benchmark case: a row-major source of shape Shape, turned into
// a view by Permute(Permutation...), then Slice, then Expand(Expand...) (each
// step skipped when its field is nil), and made contiguous with ConcatDims
// trailing axes as the feature axis.
type Case struct {
	Name        string   // short, stable name used in benchmark names, such as "heads"
	Description string   // one line: what the view is and where it comes from
	Rank        int      // rank of the view handed to reshape
	Shape       []int    // shape of the row-major source
	Permutation []int    // axes for Tensor.Permute; nil for none
	Slice       *SliceOp // the Tensor.Slice applied after Permute; nil for none
	Expand      []int    // target shape for Tensor.Expand, applied last; nil for none
	ConcatDims  int      // trailing axes that form the feature axis: 1 is ToLastDimension, k is ConcatLastDimensions(t, k)

	// ZeroCopy marks a view that is already contiguous: Run makes it with the
	// allocating ToLastDimension or ConcatLastDimensions, which must return
	// it aliased, without copying, instead of the Into form.
	ZeroCopy bool
}

// Cases returns the standard cases, in a fixed order. Each call returns new
// slices, so callers may modify what they get.
func Cases() []Case {
	return []Case{
		{
			Name:        "heads",
			Description: "attention output [batch=32, heads=12, seq=256, dhead=64] permuted (0,2,1,3) and its heads concatenated: [8192, 768]",
			Rank:        4,
			Shape:       []int{32, 12, 256, 64},
			Permutation: []int{0, 2, 1, 3},
			ConcatDims:  2,
		},
		{
			Name:        "transpose2d",
			Description: "[4096, 4096] transposed: the innermost source stride is 4096 elements",
			Rank:        2,
			Shape:       []int{4096, 4096},
			Permutation: []int{1, 0},
			ConcatDims:  1,
		},
		{
			Name:        "reverse4d",
			Description: "[16, 32, 64, 128] with all axes reversed (3,2,1,0): [128, 64, 32, 16] → [262144, 16]",
			Rank:        4,
			Shape:       []int{16, 32, 64, 128},
			Permutation: []int{3, 2, 1, 0},
			ConcatDims:  1,
		},
		{
			Name:        "mixed5d",
			Description: "[8, 16, 8, 16, 64] permuted (0,3,1,2,4): a rank-5 permutation that keeps rows of 64",
			Rank:        5,
			Shape:       []int{8, 16, 8, 16, 64},
			Permutation: []int{0, 3, 1, 2, 4},
			ConcatDims:  1,
		},
		{
			Name:        "mixed6d",
			Description: "[4, 8, 8, 16, 8, 32] permuted (0,2,4,1,3,5): a rank-6 permutation that keeps rows of 32",
			Rank:        6,
			Shape:       []int{4, 8, 8, 16, 8, 32},
			Permutation: []int{0, 2, 4, 1, 3, 5},
			ConcatDims:  1,
		},
		{
			Name:        "slice",
			Description: "[32, 256, 12, 128] sliced to [..., :64]: half of every row",
			Rank:        4,
			Shape:       []int{32, 256, 12, 128},
			Slice:       &SliceOp{Axis: -1, Start: 0, Stop: 64, Step: 1},
			ConcatDims:  1,
		},
		{
			Name:        "broadcast",
			Description: "[1, 256, 768] expanded to [32, 256, 768] (stride 0 on the batch axis)",
			Rank:        3,
			Shape:       []int{1, 256, 768},
			Expand:      []int{32, 256, 768},
			ConcatDims:  1,
		},
		{
			Name:        "small",
			Description: "contiguous [3, 3, 100] through ToLastDimension: zero-copy, no allocation",
			Rank:        3,
			Shape:       []int{3, 3, 100},
			ConcatDims:  1,
			ZeroCopy:    true,
		},
	}
}

// ViewShape returns the shape of the case's view, computed from the case's
// fields alone (nothing is allocated), as Build would make it.
func (c Case) ViewShape() []int {
	shape := append([]int(nil), c.Shape...)
	if c.Permutation != nil {
		for a, from := range c.Permutation {
			if from < 0 {
				from += len(c.Shape)
			}
			shape[a] = c.Shape[from]
		}
	}
	if s := c.Slice; s != nil {
		a := s.Axis
		if a < 0 {
			a += len(shape)
		}
		n := 0
		switch {
		case s.Step > 0 && s.Stop > s.Start:
			n = (s.Stop-s.Start-1)/s.Step + 1
		case s.Step < 0 && s.Start > s.Stop:
			n = (s.Start-s.Stop-1)/-s.Step + 1
		}
		shape[a] = n
	}
	if c.Expand != nil {
		lead := len(c.Expand) - len(shape)
		out := make([]int, len(c.Expand))
		for a, e := range c.Expand {
			if e == -1 && a >= lead {
				e = shape[a-lead]
			}
			out[a] = e
		}
		shape = out
	}
	return shape
}

// Elements returns the number of elements of the case's view, which is the
// number of elements of the contiguous result.
func (c Case) Elements() int {
	n := 1
	for _, e := range c.ViewShape() {
		n *= e
	}
	return n
}

// Bytes returns the bytes one run of the case moves with elements of
// elemSize bytes: every element of the result read once and written once,
// 2 × Elements × elemSize. For "broadcast" the read side counts the elements
// of the output too (as a copy of that size would read), not the smaller
// source. For a ZeroCopy case it is the bytes a copy would have moved; the
// library moves none.
func (c Case) Bytes(elemSize int) int64 {
	return 2 * int64(c.Elements()) * int64(elemSize)
}

// Build allocates the case's source, fills it with non-zero values (1, 2,
// 3, ... cycling below 65522, converted to T; a narrower T that wraps to 0
// gets 1) and returns the case's view of it, made through the public API
// (reshape.New, Permute, Slice, Expand).
func Build[T reshape.Element](c Case) (reshape.Tensor[T], error) {
	n := 1
	for _, e := range c.Shape {
		n *= e
	}
	data := make([]T, n)
	for i := range data {
		v := T(i%65521 + 1)
		if v == 0 {
			v = 1
		}
		data[i] = v
	}
	t, err := reshape.New(data, c.Shape...)
	if err != nil {
		return reshape.Tensor[T]{}, fmt.Errorf("case %s: %w", c.Name, err)
	}
	if c.Permutation != nil {
		if t, err = t.Permute(c.Permutation...); err != nil {
			return reshape.Tensor[T]{}, fmt.Errorf("case %s: %w", c.Name, err)
		}
	}
	if s := c.Slice; s != nil {
		if t, err = t.Slice(s.Axis, s.Start, s.Stop, s.Step); err != nil {
			return reshape.Tensor[T]{}, fmt.Errorf("case %s: %w", c.Name, err)
		}
	}
	if c.Expand != nil {
		if t, err = t.Expand(c.Expand...); err != nil {
			return reshape.Tensor[T]{}, fmt.Errorf("case %s: %w", c.Name, err)
		}
	}
	return t, nil
}

// ErrNotZeroCopy is returned by Run when a ZeroCopy case came back copied
// rather than aliasing its source.
var ErrNotZeroCopy = errors.New("benchmarks: zero-copy case did not alias its source")

// Run makes the view src of case c contiguous as an activation store would,
// and returns the result. A copying case writes into dst with
// reshape.ToLastDimensionInto (ConcatDims 1) or
// reshape.ConcatLastDimensionsInto, so dst must hold c.Elements() elements
// and nothing is allocated. A ZeroCopy case ignores dst and calls
// reshape.ToLastDimension or reshape.ConcatLastDimensions, and returns
// ErrNotZeroCopy unless the result aliases src.Data.
func Run[T reshape.Element](c Case, dst []T, src reshape.Tensor[T]) (reshape.Matrix[T], error) {
	if !c.ZeroCopy {
		if c.ConcatDims == 1 {
			return reshape.ToLastDimensionInto(dst, src)
		}
		return reshape.ConcatLastDimensionsInto(dst, src, c.ConcatDims)
	}
	var m reshape.Matrix[T]
	var err error
	if c.ConcatDims == 1 {
		m, err = reshape.ToLastDimension(src)
	} else {
		m, err = reshape.ConcatLastDimensions(src, c.ConcatDims)
	}
	if err != nil {
		return m, err
	}
	if len(m.Data) > 0 && unsafe.SliceData(m.Data) != &src.Data[src.Offset] {
		return m, fmt.Errorf("case %s: %w", c.Name, ErrNotZeroCopy)
	}
	return m, nil
}

// NaiveCopy writes the view t row-major into dst[:t.Len()] the way a Go
// programmer would without this library: for each output element, split its
// linear index into a multi-index by div and mod over the shape, and sum
// index × stride (nil Strides means row-major). It is the slow baseline of
// the benchmarks and the reference of the tests, not for use: it validates
// nothing and panics if dst is short or the view reaches outside t.Data.
func NaiveCopy[T reshape.Element](dst []T, t reshape.Tensor[T]) {
	var buf [16]int
	strides := t.Strides
	if strides == nil {
		strides = buf[:0]
		if len(t.Shape) > len(buf) {
			strides = make([]int, 0, len(t.Shape))
		}
		strides = strides[:len(t.Shape)]
		acc := 1
		for a := len(t.Shape) - 1; a >= 0; a-- {
			strides[a] = acc
			acc *= t.Shape[a]
		}
	}
	n := t.Len()
	for k := range n {
		rem, off := k, t.Offset
		for a := len(t.Shape) - 1; a >= 0; a-- {
			off += rem % t.Shape[a] * strides[a]
			rem /= t.Shape[a]
		}
		dst[k] = t.Data[off]
	}
}
