// Package benchmarks is the benchmark suite of stridekit: the standard set of
// views (Cases), how to size one (Case.Sized), build it (Build) and make it
// contiguous the way an activation store would (Run), the copy() baseline it
// is read against (CopyParallel, CopySource), the plain nested loops a
// careful Go programmer would write (LoopCopy) and a naive N-d loop
// (NaiveCopy, the reference of the tests). The same cases run under go test and, through this package's
// exported API, from the stridekit bench command.
//
// # Running
//
// Every sized case runs at the sizes Small (1 MiB of result, in the L2
// cache), Medium (64 MiB, in a large L3) and Large (1 GiB, in memory), in
// every element width (uint8, reshape.BFloat16, float32, float64) and with 1
// and 2 workers; Large is opt-in. The call-overhead cases ("small",
// "small-permuted") run once per width and worker count, as size=fixed.
//
//	go test -run '^$' -bench . -count 10 ./benchmarks > new.txt                     # 1 MiB and 64 MiB
//	go test -run '^$' -bench . -count 10 ./benchmarks -stridekit.large > new.txt    # also 1 GiB (about 3 GiB of memory)
//	go test -run '^$' -bench . -benchtime 1x -short ./benchmarks                    # 1 MiB only, once: a smoke run
//	benchstat -filter '.unit:x-copy' -row /case,/dtype,/size -col /workers new.txt  # the ratio table
//
// -short keeps only the 1 MiB size (and the fixed cases) and wins over
// -stridekit.large. The names are
//
//	BenchmarkReshape/rank=R/dtype=D/case=C/size=S/workers=W
//
// with the keys always in that order, so benchstat can split by any of them
// (-col /workers, -row /case,/dtype, -filter '/size:64MiB'). Each reports
// ns/op, MB/s (b.SetBytes), GB/s, x-copy (copy() time per op over
// stridekit's, measured in the same benchmark: 1 is as fast as copy(), and
// benchstat prints 0.81 as 810.0m), copy-GB/s (the baseline's own
// throughput, to spot a noisy baseline), B/op and allocs/op. BenchmarkLoop
// times LoopCopy under the same names, at 1 MiB and one worker only.
// README.md has the other benchstat tables and the targets.
//
// go test ./benchmarks without -bench runs the tests instead: every case at
// the 1 MiB size, in every width and with one and two workers, gives the
// same elements through stridekit and through NaiveCopy; the Into path
// allocates nothing with one worker; "small" is zero-copy.
//
// Bytes are counted as STREAM counts them: every element of the result is
// read once and written once, so a case moves 2 × elements × element size.
package benchmarks

import (
	"errors"
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/stridekit/stridekit/reshape"
)

// SliceOp is one Tensor.Slice call: along Axis (negative counts from the
// end) keep the indices Start, Start+Step, ... strictly before Stop.
type SliceOp struct {
	Axis, Start, Stop, Step int
}

// Scaling says how Case.Sized fits a case to a result size.
type Scaling int

const (
	// Fixed cases keep their shape at every size: they measure the cost of
	// one call in ns/op, not bandwidth.
	Fixed Scaling = iota
	// Leading scales the view's outermost (batch) axis: Expand[0] for a
	// broadcast, otherwise the source axis that Permutation puts first (axis
	// 0 without one). That axis must not be the sliced one.
	Leading
	// Square makes the source [R, C] with R and C powers of two: R = C when
	// the result has an even power of two of elements, C = 2R otherwise.
	Square
	// SquareOdd is Square with the source [R-1, C+1]: about the same bytes
	// with no power-of-two extent or stride.
	SquareOdd
)

// Case is one benchmark case: a row-major source of shape Shape, turned into
// a view by Permute(Permutation...), then Slice, then Expand(Expand...) (each
// step skipped when its field is nil), and made contiguous with ConcatDims
// trailing axes as the feature axis. Cases returns each at the standard size
// (Medium in float32); Sized fits it to another.
type Case struct {
	Name        string   // short, stable name used in benchmark names, such as "heads"
	Description string   // one line: what the view is and where it comes from
	Rank        int      // rank of the view handed to reshape
	Shape       []int    // shape of the row-major source
	Permutation []int    // axes for Tensor.Permute; nil for none
	Slice       *SliceOp // the Tensor.Slice applied after Permute; nil for none
	Expand      []int    // target shape for Tensor.Expand, applied last; nil for none
	ConcatDims  int      // trailing axes that form the feature axis: 1 is ToLastDimension, k is ConcatLastDimensions(t, k)
	Scale       Scaling  // how Sized changes the shape

	// ZeroCopy marks a view that is already contiguous: Run makes it with the
	// allocating ToLastDimension or ConcatLastDimensions, which must return
	// it aliased, without copying, instead of the Into form.
	ZeroCopy bool
}

// Cases returns the standard cases, in a fixed order: row copies, then
// permutations that move the innermost axis, then broadcast and the
// call-overhead cases. Every sized case is given at the standard size, about
// 64 MiB of float32 result (c.Sized(Medium.Bytes, 4) returns it unchanged).
// Each call returns new slices, so callers may modify what they get.
func Cases() []Case {
	return []Case{
		{
			Name:        "heads",
			Description: "attention output [batch, heads=12, seq=16, dhead=64] permuted (0,2,1,3), heads concatenated: rows of 64 elements",
			Rank:        4,
			Shape:       []int{1365, 12, 16, 64},
			Permutation: []int{0, 2, 1, 3},
			ConcatDims:  2,
			Scale:       Leading,
		},
		{
			Name:        "shortrows",
			Description: "[batch, heads=8, seq=64, 16] permuted (0,2,1,3), heads concatenated: rows of 16 elements",
			Rank:        4,
			Shape:       []int{2048, 8, 64, 16},
			Permutation: []int{0, 2, 1, 3},
			ConcatDims:  2,
			Scale:       Leading,
		},
		{
			Name:        "slice",
			Description: "[batch, 16, 12, 128] sliced to [..., :64]: the first half of every row",
			Rank:        4,
			Shape:       []int{1365, 16, 12, 128},
			Slice:       &SliceOp{Axis: -1, Start: 0, Stop: 64, Step: 1},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "mixed5d",
			Description: "[batch, 8, 8, 16, 64] permuted (0,3,1,2,4): a rank-5 permutation that keeps rows of 64",
			Rank:        5,
			Shape:       []int{256, 8, 8, 16, 64},
			Permutation: []int{0, 3, 1, 2, 4},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "mixed6d",
			Description: "[batch, 4, 8, 8, 8, 32] permuted (0,2,4,1,3,5): a rank-6 permutation that keeps rows of 32",
			Rank:        6,
			Shape:       []int{256, 4, 8, 8, 8, 32},
			Permutation: []int{0, 2, 4, 1, 3, 5},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "mixed5d-t",
			Description: "[batch, 8, 8, 16, 64] permuted (0,4,3,2,1): rank 5, the innermost axis moves (source stride 8192)",
			Rank:        5,
			Shape:       []int{256, 8, 8, 16, 64},
			Permutation: []int{0, 4, 3, 2, 1},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "mixed6d-t",
			Description: "[batch, 4, 8, 8, 8, 32] permuted (0,5,3,1,4,2): rank 6, the innermost axis moves (source stride 2048)",
			Rank:        6,
			Shape:       []int{256, 4, 8, 8, 8, 32},
			Permutation: []int{0, 5, 3, 1, 4, 2},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "transpose2d",
			Description: "[N, N] transposed, N a power of two: the innermost source stride is N elements",
			Rank:        2,
			Shape:       []int{4096, 4096},
			Permutation: []int{1, 0},
			ConcatDims:  1,
			Scale:       Square,
		},
		{
			Name:        "transpose2d-odd",
			Description: "[N-1, N+1] transposed: transpose2d's bytes without power-of-two strides",
			Rank:        2,
			Shape:       []int{4095, 4097},
			Permutation: []int{1, 0},
			ConcatDims:  1,
			Scale:       SquareOdd,
		},
		{
			Name:        "transpose-4k",
			Description: "[4096, N] transposed: destination rows of 4096 elements, a multiple of 4 KiB apart in every width, so that the rows of a block share one L1 set",
			Rank:        2,
			Shape:       []int{4096, 4096},
			Permutation: []int{1, 0},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "reverse4d",
			Description: "[16, 32, 64, batch] with all axes reversed (3,2,1,0): rows of 16 gathered at a stride of 32768×batch",
			Rank:        4,
			Shape:       []int{16, 32, 64, 512},
			Permutation: []int{3, 2, 1, 0},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "broadcast",
			Description: "[1, 32, 512] expanded to [batch, 32, 512] (stride 0 on the batch axis): the source stays in cache",
			Rank:        3,
			Shape:       []int{1, 32, 512},
			Expand:      []int{1024, 32, 512},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "contiguous",
			Description: "a row-major [batch, 16, 768] view through ToLastDimensionInto: one contiguous run, as Contiguous copies a view that needs no reordering",
			Rank:        3,
			Shape:       []int{1365, 16, 768},
			ConcatDims:  1,
			Scale:       Leading,
		},
		{
			Name:        "small",
			Description: "contiguous [3, 3, 100] through ToLastDimension: zero-copy, no allocation, the cost of a call",
			Rank:        3,
			Shape:       []int{3, 3, 100},
			ConcatDims:  1,
			ZeroCopy:    true,
		},
		{
			Name:        "small-permuted",
			Description: "[3, 3, 100] permuted (1,0,2) through ToLastDimensionInto: a 900-element copy, the cost of a call",
			Rank:        3,
			Shape:       []int{3, 3, 100},
			Permutation: []int{1, 0, 2},
			ConcatDims:  1,
		},
	}
}

// Size is a result size of the sized cases.
type Size struct {
	Name  string // as in benchmark names: "1MiB"
	Bytes int64  // bytes of the contiguous result
}

// The sizes, from a result that lives in the L2 cache to one far beyond
// every cache. Activation batches are mostly 0.5-32 MiB ([4,128,768]
// float32 is 1.5 MiB, [32,128,12,64] is 12.6 MiB), the range the cached
// sizes cover. On the 2-vCPU EPYC VM (1 MiB of L2 per core, 32 MiB of L3):
// Tiny and its source fit in L2, Small and Cached in L3, Edge is where
// source and result fill L3, Medium and Large are in memory.
var (
	Tiny   = Size{"256KiB", 256 << 10}
	Small  = Size{"1MiB", 1 << 20}
	Cached = Size{"4MiB", 4 << 20}
	Edge   = Size{"16MiB", 16 << 20}
	Medium = Size{"64MiB", 64 << 20}
	Large  = Size{"1GiB", 1 << 30}
)

// Sizes returns every size, smallest first.
func Sizes() []Size { return []Size{Tiny, Small, Cached, Edge, Medium, Large} }

// FixedSize is the size name of the Fixed cases, which have one size.
const FixedSize = "fixed"

// Sized returns the case fitted by its Scale to a result of about
// resultBytes bytes of elements of elemSize bytes: rounded to the nearest
// whole batch for Leading (the standard cases land within 4% of every Size
// in every width), the nearest power of two of elements for Square and
// SquareOdd. A Fixed case comes back as it is. The result has its own
// slices.
func (c Case) Sized(resultBytes int64, elemSize int) Case {
	c.Shape = append([]int(nil), c.Shape...)
	if c.Permutation != nil {
		c.Permutation = append([]int(nil), c.Permutation...)
	}
	if c.Expand != nil {
		c.Expand = append([]int(nil), c.Expand...)
	}
	if c.Slice != nil {
		s := *c.Slice
		c.Slice = &s
	}
	elems := max(1, resultBytes/int64(elemSize))
	switch c.Scale {
	case Leading:
		lead := c.leading()
		unit := int64(c.Elements() / *lead)
		*lead = int(max(1, (elems+unit/2)/unit))
	case Square, SquareOdd:
		e := bits.Len64(uint64(elems)) - 1
		if e > 0 && elems >= 3<<(e-1) { // nearer 2^(e+1) than 2^e
			e++
		}
		r, cols := 1<<(e/2), 1<<(e-e/2)
		if c.Scale == SquareOdd {
			r, cols = max(1, r-1), cols+1
		}
		c.Shape = []int{r, cols}
	}
	return c
}

// leading returns where the extent of the view's outermost axis is stored.
func (c *Case) leading() *int {
	if c.Expand != nil {
		return &c.Expand[0]
	}
	a := 0
	if c.Permutation != nil {
		if a = c.Permutation[0]; a < 0 {
			a += len(c.Shape)
		}
	}
	return &c.Shape[a]
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
	fill(data)
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

// LoopCopy writes the view t row-major into dst[:t.Len()] as a careful Go
// programmer would without this library, and is the plain-loop baseline of
// the bench: nested loops over the axes (an odometer that moves the source
// offset by one stride per step, never a div or mod per element) and, when
// the innermost axis is contiguous in the source (stride 1), one copy() of
// each whole innermost run; otherwise an element loop along it. Like
// NaiveCopy it validates nothing and panics if dst is short or the view
// reaches outside t.Data.
func LoopCopy[T reshape.Element](dst []T, t reshape.Tensor[T]) {
	r := len(t.Shape)
	n := t.Len()
	if n == 0 {
		return
	}
	var sbuf, ibuf [16]int
	strides, idx := sbuf[:0], ibuf[:0]
	if r > len(sbuf) {
		strides, idx = make([]int, 0, r), make([]int, 0, r)
	}
	strides, idx = strides[:r], idx[:r]
	if t.Strides != nil {
		copy(strides, t.Strides)
	} else {
		acc := 1
		for a := r - 1; a >= 0; a-- {
			strides[a] = acc
			acc *= t.Shape[a]
		}
	}
	inner, step := t.Shape[r-1], strides[r-1]
	off := t.Offset
	for d := 0; d < n; d += inner {
		if step == 1 {
			copy(dst[d:d+inner], t.Data[off:off+inner])
		} else {
			o := off
			for k := range dst[d : d+inner] {
				dst[d+k] = t.Data[o]
				o += step
			}
		}
		// The odometer over the outer axes.
		for a := r - 2; a >= 0; a-- {
			idx[a]++
			off += strides[a]
			if idx[a] < t.Shape[a] {
				break
			}
			off -= strides[a] * t.Shape[a]
			idx[a] = 0
		}
	}
}

// fill sets data[i] to T(i%65521 + 1), or 1 where that converts to 0 in a
// narrow T. It writes the first period element by element and then doubles
// it with copy(), so filling the 1 GiB sources takes a fraction of a second.
func fill[T reshape.Element](data []T) {
	const period = 65521 // prime: no power-of-two pattern in the values
	for i := range min(len(data), period) {
		v := T(i + 1)
		if v == 0 {
			v = 1
		}
		data[i] = v
	}
	for done := period; done < len(data); {
		done += copy(data[done:], data[:done]) // done stays a multiple of period until the last copy
	}
}

// CopySource returns the n contiguous elements the copy() baseline of a view
// src reads: src.Data[:n] when it holds that many, the very buffer stridekit
// reads, so that at the 1 MiB size both find it in the same cache and at 1
// GiB no second buffer is needed; otherwise (a broadcast source, smaller
// than its result) a new slice filled as Build fills a source.
func CopySource[T reshape.Element](src reshape.Tensor[T], n int) []T {
	if len(src.Data) >= n {
		return src.Data[:n]
	}
	from := make([]T, n)
	fill(from)
	return from
}

// SetWorkers sets reshape to copy case c with n goroutines
// (reshape.SetMaxWorkers) and returns the function that restores the
// previous settings. With threshold > 0 and n > 1 it also sets the parallel
// threshold (reshape.SetParallelThreshold) of a sized case, so that, with 1,
// n workers run at every size and show where a split pays, which is where
// reshape.DefaultParallelThreshold belongs; with 0 the default stays, as
// users get it. A Fixed case always keeps the default threshold: it
// measures a call as users make it, whatever the worker setting.
func SetWorkers(c Case, n, threshold int) (restore func()) {
	prevWorkers := reshape.SetMaxWorkers(n)
	if c.Scale == Fixed || n <= 1 || threshold <= 0 {
		return func() { reshape.SetMaxWorkers(prevWorkers) }
	}
	prevThreshold := reshape.SetParallelThreshold(threshold)
	return func() {
		reshape.SetMaxWorkers(prevWorkers)
		reshape.SetParallelThreshold(prevThreshold)
	}
}

// Conversion is a case made contiguous while its elements are converted
// from one dtype to another (reshape.ContiguousAs), as a capture hook that
// stores bfloat16 activations as float32 does.
type Conversion struct {
	Case     string // the name of a case of Cases
	From, To string // dtype names: "bfloat16", "float16", "float32", "int8"
}

// Conversions returns the conversion cases: row copies and transposes of
// the pairs that have kernels of their own, widening and narrowing.
func Conversions() []Conversion {
	return []Conversion{
		{"heads", "bfloat16", "float32"},
		{"transpose2d", "bfloat16", "float32"},
		{"heads", "float16", "float32"},
		{"transpose2d", "float16", "float32"},
		{"heads", "float32", "bfloat16"},
		{"transpose2d", "float32", "bfloat16"},
		{"heads", "int8", "float32"},
	}
}

// CaseNamed returns the case of Cases called name.
func CaseNamed(name string) (Case, bool) {
	for _, c := range Cases() {
		if c.Name == name {
			return c, true
		}
	}
	return Case{}, false
}

// ConvertBytes returns the STREAM bytes of one conversion of case c with
// elements of from and to bytes: every element read once as from and
// written once as to. Its ceiling is a copy of half that many bytes, which
// reads and writes as much.
func (c Case) ConvertBytes(from, to int) int64 {
	return int64(c.Elements()) * int64(from+to)
}
