package reshape

import (
	"fmt"
	"strings"
	"unicode"
)

// Size gives the extent of a named axis of a pattern: the sizes of an axis
// split on the left ("(h d)" needs h or d), or a check of any other.
type Size struct {
	Name  string
	Value int
}

// Pattern is a compiled einops rearrangement, such as
// "b h p d -> (b p) (h d)", for views of element type T. Compile parses and
// checks it once; a capture hook keeps it and applies it to every batch.
// A Pattern is immutable and safe for concurrent use.
//
// The pattern follows einops' rearrange: named axes, "..." for any number
// of axes, "( )" for groups on either side, and "1" (or "()") for an axis
// of extent 1. On the left a group splits an axis, and every name of the
// left must appear once on the right, where a group merges axes. Anonymous
// axes (a number other than 1) are refused, as einops refuses them, and so
// is anything einops' rearrange does not do (reductions, repeats).
//
// Everything up to the final grouping is a view: the splits (Split), the
// reorder (Permute), the units (Squeeze, Unsqueeze). The groups on the
// right are a view when the strides allow it (View), and are made by the
// one copy of the contiguous forms otherwise (Apply, Into, Matrix,
// MatrixInto): "b h p d -> (b p) (h d)" is Permute(0, 2, 1, 3) and
// ConcatLastDimensions(2), at the same speed, and "... f -> (...) f" is
// ToLastDimension.
type Pattern[T Element] struct {
	text     string
	lhs, rhs []patternItem
	names    []string // the named axes, in their order on the left
	sizes    []int    // their given sizes, -1 where none was given
	ellipsis bool     // "..." on both sides
	minRank  int      // the axes the left side names, "..." aside
}

// patternItem is one axis of a side as written: a name, "...", "1", or a
// group of those in parentheses.
type patternItem struct {
	text     string // as written, for errors
	group    bool   // in parentheses
	names    []int  // the named axes in it, by index in Pattern.names
	ellipsis bool   // "..." is in it (at its place among names: ellipsisAt)
	at       int    // with ellipsis, how many of names come before it
}

// Compile parses pattern and the sizes it needs into a Pattern, or returns
// an error wrapping ErrPattern that names the offending part: a token that
// is not a name, "...", "1" or a parenthesis; unbalanced or nested
// parentheses; an anonymous axis; a name twice on a side, or on one side
// only; "..." on one side only, twice, or inside a group on the left; a size
// for a name the pattern lacks, or not positive; a group on the left with
// more than one axis of unknown size.
func Compile[T Element](pattern string, sizes ...Size) (*Pattern[T], error) {
	left, right, ok := strings.Cut(pattern, "->")
	if !ok {
		return nil, errorf(ErrPattern, "%q has no \"->\"", pattern)
	}
	if strings.Contains(right, "->") {
		return nil, errorf(ErrPattern, "%q has more than one \"->\"", pattern)
	}
	p := &Pattern[T]{text: pattern}
	ids := map[string]int{}
	var err error
	if p.lhs, err = parseSide(left, "left", ids, &p.names, true); err != nil {
		return nil, errorf(ErrPattern, "%q: %v", pattern, err)
	}
	leftCount := len(p.names)
	if p.rhs, err = parseSide(right, "right", ids, &p.names, false); err != nil {
		return nil, errorf(ErrPattern, "%q: %v", pattern, err)
	}
	if len(p.names) > leftCount {
		return nil, errorf(ErrPattern, "%q: axis %q is on the right only", pattern, p.names[leftCount])
	}
	seen := make([]bool, len(p.names))
	for _, it := range p.rhs {
		for _, id := range it.names {
			seen[id] = true
		}
	}
	for id, name := range p.names {
		if !seen[id] {
			return nil, errorf(ErrPattern, "%q: axis %q is on the left only (rearrange keeps every axis; einops reduce is not supported)", pattern, name)
		}
	}
	le, re := sideHasEllipsis(p.lhs), sideHasEllipsis(p.rhs)
	if le != re {
		return nil, errorf(ErrPattern, "%q: \"...\" is on one side only", pattern)
	}
	p.ellipsis = le
	p.sizes = make([]int, len(p.names))
	for i := range p.sizes {
		p.sizes[i] = -1
	}
	for _, s := range sizes {
		id, ok := ids[s.Name]
		switch {
		case !ok:
			return nil, errorf(ErrPattern, "%q: a size is given for %q, which the pattern does not name", pattern, s.Name)
		case s.Value < 1:
			return nil, errorf(ErrPattern, "%q: size %s=%d is not positive", pattern, s.Name, s.Value)
		case p.sizes[id] >= 0 && p.sizes[id] != s.Value:
			return nil, errorf(ErrPattern, "%q: two sizes for %q: %d and %d", pattern, s.Name, p.sizes[id], s.Value)
		}
		p.sizes[id] = s.Value
	}
	for _, it := range p.lhs {
		if !it.group {
			continue
		}
		var unknown []string
		for _, id := range it.names {
			if p.sizes[id] < 0 {
				unknown = append(unknown, p.names[id])
			}
		}
		if len(unknown) > 1 {
			return nil, errorf(ErrPattern, "%q: group %s needs the sizes of all but one of its axes; %s have none (pass reshape.Size{%q, n})", pattern, it.text, strings.Join(unknown, ", "), unknown[0])
		}
	}
	for _, it := range p.lhs {
		if !it.ellipsis {
			p.minRank++
		}
	}
	return p, nil
}

// sideHasEllipsis reports whether "..." is on a side.
func sideHasEllipsis(items []patternItem) bool {
	for _, it := range items {
		if it.ellipsis {
			return true
		}
	}
	return false
}

// parseSide parses one side of a pattern into items, giving new names the
// next index in names (ids maps them); a name already in ids on this side
// is an error.
func parseSide(side, which string, ids map[string]int, names *[]string, left bool) ([]patternItem, error) {
	var items []patternItem
	here := map[string]bool{}
	ellipses := 0
	var cur *patternItem // the open group
	start := 0
	for i := 0; i < len(side); {
		c := side[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(':
			if cur != nil {
				return nil, fmt.Errorf("nested parentheses at %q on the %s (groups do not nest)", side[i:], which)
			}
			cur, start = &patternItem{group: true}, i
			i++
		case c == ')':
			if cur == nil {
				return nil, fmt.Errorf("\")\" without \"(\" on the %s", which)
			}
			cur.text = strings.Join(strings.Fields(side[start:i+1]), " ")
			items = append(items, *cur)
			cur = nil
			i++
		case strings.HasPrefix(side[i:], "..."):
			ellipses++
			if ellipses > 1 {
				return nil, fmt.Errorf("\"...\" twice on the %s", which)
			}
			if cur != nil {
				if left {
					return nil, fmt.Errorf("\"...\" inside a group on the left (einops does not split an ellipsis)")
				}
				cur.ellipsis, cur.at = true, len(cur.names)
			} else {
				items = append(items, patternItem{text: "...", ellipsis: true})
			}
			i += 3
		default:
			j := i
			for j < len(side) && (side[j] == '_' || unicode.IsLetter(rune(side[j])) || unicode.IsDigit(rune(side[j]))) {
				j++
			}
			tok := side[i:j]
			switch {
			case tok == "":
				return nil, fmt.Errorf("unexpected %q on the %s", side[i:i+1], which)
			case tok == "1":
				if cur == nil {
					items = append(items, patternItem{text: "1"})
				} // inside a group, an axis of extent 1 changes nothing
			case unicode.IsDigit(rune(tok[0])):
				return nil, fmt.Errorf("anonymous axis %s on the %s: name it and give its size (einops refuses anonymous axes in rearrange)", tok, which)
			default:
				if here[tok] {
					return nil, fmt.Errorf("axis %q twice on the %s", tok, which)
				}
				here[tok] = true
				id, ok := ids[tok]
				if !ok {
					id = len(*names)
					ids[tok] = id
					*names = append(*names, tok)
				}
				if cur != nil {
					cur.names = append(cur.names, id)
				} else {
					items = append(items, patternItem{text: tok, names: []int{id}})
				}
			}
			i = j
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("\"(\" without \")\" on the %s", which)
	}
	return items, nil
}

// String returns the pattern as given to Compile.
func (p *Pattern[T]) String() string { return p.text }

// Rearrange applies an einops pattern to t and returns the view it makes:
// Compile(pattern, sizes...) then View. A hook that applies one pattern to
// every batch should Compile it once.
func Rearrange[T Element](t Tensor[T], pattern string, sizes ...Size) (Tensor[T], error) {
	p, err := Compile[T](pattern, sizes...)
	if err != nil {
		return Tensor[T]{}, err
	}
	return p.View(t)
}

// elementary is a view with one axis per named axis of a pattern (and per
// axis of its "..."), in the order of the right side, and where each group
// of the right side ends, in fixed arrays so that applying a pattern does
// not allocate.
type elementary struct {
	shape, strides [stackRank]int
	n              int            // axes
	ends           [stackRank]int // groups: group g is axes [ends[g-1], ends[g]) (ends[-1] = 0)
	groups         int
}

// lay lays out t as the elementary view of p, or returns an error wrapping
// ErrPattern that says where the tensor does not fit.
func (p *Pattern[T]) lay(t Tensor[T], e *elementary) error {
	if err := t.Validate(); err != nil {
		return err
	}
	r := len(t.Shape)
	ew := 0 // axes "..." stands for
	switch {
	case p.ellipsis && r < p.minRank:
		return errorf(ErrPattern, "%q names %d axes besides \"...\", the tensor has rank %d", p.text, p.minRank, r)
	case p.ellipsis:
		ew = r - p.minRank
	case r != p.minRank:
		return errorf(ErrPattern, "%q has %d axes on the left, the tensor has rank %d", p.text, p.minRank, r)
	}
	if len(p.names)+ew > stackRank {
		return errorf(ErrPattern, "%q: too many axes", p.text)
	}
	// The extent and stride of every named axis (by id) and of the axes of
	// "..." (after them), from the left side.
	var ext, str [stackRank]int
	ax := 0
	for _, it := range p.lhs {
		switch {
		case it.ellipsis:
			for k := range ew {
				ext[len(p.names)+k], str[len(p.names)+k] = t.Shape[ax], t.strideOf(ax)
				ax++
			}
		case !it.group && len(it.names) == 0: // "1"
			if t.Shape[ax] != 1 {
				return errorf(ErrPattern, "%q: axis %d, \"1\" on the left, has extent %d", p.text, ax, t.Shape[ax])
			}
			ax++
		case !it.group:
			id := it.names[0]
			if s := p.sizes[id]; s >= 0 && s != t.Shape[ax] {
				return errorf(ErrPattern, "%q: axis %s has extent %d, the size given is %d", p.text, p.names[id], t.Shape[ax], s)
			}
			ext[id], str[id] = t.Shape[ax], t.strideOf(ax)
			ax++
		default: // a group: split the axis
			extent, known, unknown := t.Shape[ax], 1, -1
			for _, id := range it.names {
				if s := p.sizes[id]; s >= 0 {
					known *= s
				} else {
					unknown = id
				}
			}
			switch {
			case unknown >= 0 && extent%known != 0:
				return errorf(ErrPattern, "%q: group %s: axis %d has extent %d, which %d (the sizes given) does not divide", p.text, it.text, ax, extent, known)
			case unknown < 0 && known != extent:
				return errorf(ErrPattern, "%q: group %s: axis %d has extent %d, the sizes given multiply to %d", p.text, it.text, ax, extent, known)
			}
			stride := t.strideOf(ax)
			for k := len(it.names) - 1; k >= 0; k-- {
				id := it.names[k]
				n := p.sizes[id]
				if id == unknown {
					n = extent / known
				}
				ext[id], str[id] = n, stride
				stride *= n
			}
			ax++
		}
	}
	// The right side's order, and where its groups end.
	e.n, e.groups = 0, 0
	put := func(extent, stride int) {
		e.shape[e.n], e.strides[e.n] = extent, stride
		e.n++
	}
	endGroup := func() {
		e.ends[e.groups] = e.n
		e.groups++
	}
	for _, it := range p.rhs {
		switch {
		case it.ellipsis && !it.group: // "...": its axes stay apart
			for j := range ew {
				put(ext[len(p.names)+j], str[len(p.names)+j])
				endGroup()
			}
			continue
		case len(it.names) == 0 && !it.ellipsis: // "1" or "()": a unit axis
			put(1, 0)
		}
		for k, id := range it.names {
			if it.ellipsis && k == it.at {
				for j := range ew {
					put(ext[len(p.names)+j], str[len(p.names)+j])
				}
			}
			put(ext[id], str[id])
		}
		if it.ellipsis && it.at == len(it.names) {
			for j := range ew {
				put(ext[len(p.names)+j], str[len(p.names)+j])
			}
		}
		if e.n == 0 || e.groups > 0 && e.ends[e.groups-1] == e.n { // "(...)" of no axes: a unit axis
			put(1, 0)
		}
		endGroup()
	}
	if e.n == 0 { // every axis was "..." of nothing: keep one unit axis
		put(1, 0)
		e.ends[0], e.groups = 1, 1
	}
	return nil
}

// strideOf returns the stride of axis a (row-major when Strides is nil).
func (t Tensor[T]) strideOf(a int) int {
	if t.Strides != nil {
		return t.Strides[a]
	}
	s := 1
	for _, e := range t.Shape[a+1:] {
		s *= e
	}
	return s
}

// groupShape returns the extents of the right side's groups.
func (e *elementary) groupShape() []int {
	out := make([]int, e.groups)
	lo := 0
	for g := range e.groups {
		n := 1
		for _, x := range e.shape[lo:e.ends[g]] {
			n *= x
		}
		out[g], lo = n, e.ends[g]
	}
	return out
}

// View returns the view p makes of t: its axes split, reordered and
// grouped as the right side says, nothing copied. A group whose axes do
// not merge as a view (ErrStrides, from Merge) needs the copy of Apply or
// Into. A tensor whose rank or extents do not fit the pattern is
// ErrPattern.
func (p *Pattern[T]) View(t Tensor[T]) (Tensor[T], error) {
	var e elementary
	if err := p.lay(t, &e); err != nil {
		return Tensor[T]{}, err
	}
	v := Tensor[T]{Data: t.Data, Shape: append([]int(nil), e.shape[:e.n]...), Strides: append([]int(nil), e.strides[:e.n]...), Offset: t.Offset}
	// Merge the groups, from the last, so that earlier axis numbers hold.
	for g := e.groups - 1; g >= 0; g-- {
		lo := 0
		if g > 0 {
			lo = e.ends[g-1]
		}
		if e.ends[g]-lo < 2 {
			continue
		}
		var err error
		if v, err = v.Merge(lo, e.ends[g]-1); err != nil {
			return Tensor[T]{}, fmt.Errorf("%w: %q: group %d of the right side is not a view of this tensor (use Apply or Into, which copy): %w", ErrPattern, p.text, g+1, err)
		}
	}
	return v, nil
}

// Apply returns the contiguous result of p on t, shaped as the right
// side's groups: the view itself when its elements already lie row-major
// in t.Data (aliasing it, as ToLastDimension does), a new copy otherwise.
func (p *Pattern[T]) Apply(t Tensor[T]) (Tensor[T], error) {
	return p.tensor(nil, false, t)
}

// Into writes the contiguous result of p on t into dst[:n], n = t.Len(),
// with the guarantees of Contiguous, and returns it shaped as the right
// side's groups. It allocates only the returned Shape; MatrixInto
// allocates nothing.
func (p *Pattern[T]) Into(dst []T, t Tensor[T]) (Tensor[T], error) {
	return p.tensor(dst, true, t)
}

// tensor copies the elementary view of p on t contiguously, as reshape does,
// and shapes the result as the right side's groups.
func (p *Pattern[T]) tensor(dst []T, into bool, t Tensor[T]) (Tensor[T], error) {
	var e elementary
	if err := p.lay(t, &e); err != nil {
		return Tensor[T]{}, err
	}
	m, err := reshapeParts(dst, into, t.Data, t.Offset, e.shape[:e.n], e.strides[:e.n], 1)
	if err != nil {
		return Tensor[T]{}, err
	}
	return Tensor[T]{Data: m.Data, Shape: e.groupShape()}, nil
}

// Ungrouped returns the view of t that p copies, with the right side's axes
// in order but its groups not merged, and the groups' extents: making the
// view contiguous and giving it that shape is Apply. A writer that copies
// in blocks uses it.
func (p *Pattern[T]) Ungrouped(t Tensor[T]) (Tensor[T], []int, error) {
	var e elementary
	if err := p.lay(t, &e); err != nil {
		return Tensor[T]{}, nil, err
	}
	v := Tensor[T]{Data: t.Data, Shape: append([]int(nil), e.shape[:e.n]...), Strides: append([]int(nil), e.strides[:e.n]...), Offset: t.Offset}
	return v, e.groupShape(), nil
}

// Matrix is Apply for a pattern with two groups on the right, as an
// [items, features] Matrix: "b h p d -> (b p) (h d)" is
// ConcatLastDimensions of the permuted view. Another number of groups is
// ErrPattern.
func (p *Pattern[T]) Matrix(t Tensor[T]) (Matrix[T], error) {
	return p.matrix(nil, false, t)
}

// MatrixInto is Matrix writing into dst, with the guarantees of
// ConcatLastDimensionsInto: it never allocates.
func (p *Pattern[T]) MatrixInto(dst []T, t Tensor[T]) (Matrix[T], error) {
	return p.matrix(dst, true, t)
}

// Func returns p.Matrix as the Func of a capture hook.
func (p *Pattern[T]) Func() Func[T] { return p.Matrix }

// matrix runs reshape on the elementary view with the right side's last
// group as the features.
func (p *Pattern[T]) matrix(dst []T, into bool, t Tensor[T]) (Matrix[T], error) {
	var e elementary
	if err := p.lay(t, &e); err != nil {
		return Matrix[T]{}, err
	}
	if e.groups != 2 {
		return Matrix[T]{}, errorf(ErrPattern, "%q gives %d axes, a matrix needs 2", p.text, e.groups)
	}
	return reshapeParts(dst, into, t.Data, t.Offset, e.shape[:e.n], e.strides[:e.n], e.n-e.ends[0])
}
