package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stridekit/stridekit/reshape"
	"github.com/stridekit/stridekit/tensorfile"
)

const reshapeHelp = `usage: stridekit reshape -in FILE [-in FILE|GLOB ...] -out FILE [-tensor NAME] [-select AXIS=INDEX] [-slice AXIS=START:STOP[:STEP]]
                         [-permute AXES] [-concat-dims K] | [-pattern P [-size NAME=N]] [-dtype NAME]
                         [-shard-size SIZE] [-part I/N] [-resume]

Reads a tensor of a .npy, .npz or .safetensors file, selects and slices its axes
(-select, -slice), permutes them (-permute) and makes its last K axes the
feature axis (-concat-dims; 1, the default, keeps only the last), or
rearranges them by an einops pattern (-pattern), all as views, converts its
elements (-dtype) and writes the contiguous result to -out, a .npy or
.safetensors file (by its extension): the [items, features] matrix, or the
shape of the pattern's right side.

  -in FILE        the input .npy, .npz or .safetensors file (read-only);
                  repeatable, and a glob such as 'caps/*.npy' (quoted) takes
                  every match, sorted: see "Many inputs" below
  -out FILE       the output .npy or .safetensors file; never the input
  -tensor NAME    the tensor of a .safetensors input, or the array of an
                  .npz archive, to convert; without it every tensor is
                  converted (into a .safetensors output) except those of an
                  unsupported dtype (complex, 4-bit, ...) and scalars, each
                  skipped with a line on stderr. F8_E4M3, F8_E5M2 and BOOL
                  tensors move as they are, bits untouched, and keep their
                  dtype (-dtype does not convert them)
  -select AXIS=INDEX  keep one index of an axis and drop the axis (a layer,
                  the BOS position); repeatable
  -slice AXIS=START:STOP[:STEP]  keep a range of an axis, with Python's
                  meaning: parts may be left out, negative numbers count from
                  the end and bounds past the axis are clamped, as NumPy
                  clamps them (the library's Tensor.Slice refuses them);
                  repeatable. -select and -slice name the tensor's own axes
                  and apply first; an axis takes one of them
  -permute AXES   comma-separated axis order, e.g. 0,2,1,3 (negative counts
                  from the end); applied before -concat-dims
  -pattern P      an einops pattern instead of -permute and -concat-dims,
                  e.g. "b h p d -> (b p) (h d)"
  -size NAME=N    the size of an axis the pattern splits, e.g. h=12;
                  repeatable
  -concat-dims K  how many trailing axes become the features (default 1)
  -dtype NAME     convert every element to NAME in the same pass: float32,
                  float64, float16, bfloat16, int8, uint8, int16, uint16,
                  int32, uint32, int64 or uint64 (rounding to nearest even,
                  saturating float to integer); a bfloat16 capture becomes a
                  NumPy-readable .npy with -dtype float32

Many inputs. With more than one -in, a glob, -shard-size, -part or
-resume, every input's tensor (-tensor NAME, or the one tensor of each
file) is reshaped by the same flags into [items, features] and appended,
in input order, to one output matrix; the features (and the dtype, unless
-dtype converts them) must agree, and the first input that differs is an
error that names it, before anything is written. The output is streamed:
memory holds a few MiB beyond the input being read. A progress bar over
the whole job shows the bytes, the rate and the time left.

  -shard-size SIZE  write .safetensors shards of at most SIZE bytes each
                  (2GiB, 500MB, 1048576), OUT-00001.safetensors and so on,
                  with a Hugging Face index OUT.index.json written last
  -part I/N       take only the I-th (from 0) of N contiguous slices of the
                  input list, as one task of a job array on N machines; the
                  tensor is named activations.part-IIIII so that
                  "stridekit index" can index the parts together
  -resume         do nothing if the output (or the index of its shards) is
                  already there and complete: a failed part can simply be
                  run again

Converting every tensor of a .safetensors file skips, with a line on
stderr, the tensors whose rank or extents do not fit -select, -slice,
-permute, -concat-dims or -pattern, as it skips unsupported dtypes. The
output is written to a temporary file beside it and renamed into place
when complete, so a failure leaves no partial file and does not touch an
existing one; Ctrl-C at any point stops the command and removes the
temporary file. A .safetensors output keeps the input's __metadata__. Exit
status: 0 done (tensors skipped or not), 1 failed (one line on stderr; also
when no tensor could be converted), 2 usage error, 130 interrupted by
Ctrl-C (SIGINT; 143 for SIGTERM).
`

// reshapeFlags are the parsed flags of reshape.
type reshapeFlags struct {
	in, out, tensor string
	ins             []string // every -in, in order; in is the first
	shardSize       int64    // -shard-size, 0 for none
	part            jobPart  // -part; n == 0 for none
	resume          bool
	permute         []int // nil: no permutation
	concatDims      int   // 0 with a pattern
	pattern         string
	sizes           []reshape.Size
	selects         []tensorfile.Selection
	slices          []pySlice
	dtype           tensorfile.DType // Invalid: keep each tensor's own
	outFormat       tensorfile.Format
}

// pySlice is a -slice, with Python's meaning: nil bounds are left out.
type pySlice struct {
	axis        int
	start, stop *int
	step        int
}

// parseReshape parses and checks the flags of reshape; every problem it
// finds is a usage error.
func parseReshape(args []string) (reshapeFlags, error) {
	var r reshapeFlags
	var permute, dtype string
	fs := flag.NewFlagSet("reshape", flag.ContinueOnError)
	fs.Func("in", "input file or glob; repeatable", func(v string) error {
		r.ins = append(r.ins, v)
		return nil
	})
	fs.Func("shard-size", "at most this many bytes per .safetensors shard", func(v string) error {
		n, err := parseByteSize(v)
		if err != nil {
			return err
		}
		r.shardSize = n
		return nil
	})
	fs.Func("part", "I/N: the I-th of N slices of the inputs, from 0", func(v string) error {
		p, err := parsePart(v)
		r.part = p
		return err
	})
	fs.BoolVar(&r.resume, "resume", false, "skip when the output is complete")
	fs.StringVar(&r.out, "out", "", "output file")
	fs.StringVar(&r.tensor, "tensor", "", "tensor name")
	fs.StringVar(&permute, "permute", "", "axis order")
	fs.IntVar(&r.concatDims, "concat-dims", 1, "trailing axes to concatenate")
	fs.StringVar(&dtype, "dtype", "", "element type of the output")
	fs.StringVar(&r.pattern, "pattern", "", "einops pattern")
	fs.Func("size", "NAME=N, a size of the pattern", func(v string) error {
		name, n, err := nameEqualsInt(v)
		if err != nil {
			return err
		}
		r.sizes = append(r.sizes, reshape.Size{Name: name, Value: n})
		return nil
	})
	fs.Func("select", "AXIS=INDEX", func(v string) error {
		axis, index, err := axisEquals(v, func(s string) (int, error) { return strconv.Atoi(s) })
		if err != nil {
			return err
		}
		r.selects = append(r.selects, tensorfile.Selection{Axis: axis, Index: index})
		return nil
	})
	fs.Func("slice", "AXIS=START:STOP[:STEP]", func(v string) error {
		var sl pySlice
		axis, _, err := axisEquals(v, func(s string) (int, error) {
			var err error
			sl, err = parsePySlice(s)
			return 0, err
		})
		if err != nil {
			return err
		}
		sl.axis = axis
		r.slices = append(r.slices, sl)
		return nil
	})
	if err := parseFlags(fs, args); err != nil {
		return r, err
	}
	bad := func(format string, a ...any) (reshapeFlags, error) {
		return r, &usageError{msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q (flags take their values as -in FILE)", fs.Arg(0))
	case len(r.ins) == 0:
		return bad("-in is required")
	case r.out == "":
		return bad("-out is required")
	case r.concatDims < 1:
		return bad("-concat-dims %d: must be at least 1", r.concatDims)
	}
	r.in = r.ins[0]
	var err error
	if r.outFormat, err = tensorfile.FormatOf(r.out); err != nil {
		return bad("-out %s: the extension must be .npy or .safetensors", r.out)
	}
	if permute != "" {
		if r.permute, err = parsePermute(permute); err != nil {
			return bad("-permute %q: %v", permute, err)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case r.pattern != "" && (set["permute"] || set["concat-dims"]):
		return bad("-pattern replaces -permute and -concat-dims: give one or the other")
	case r.pattern == "" && len(r.sizes) > 0:
		return bad("-size gives the sizes of a -pattern, and there is none")
	case r.pattern != "":
		r.concatDims = 0
		if _, err := reshape.Compile[uint8](r.pattern, r.sizes...); err != nil {
			return bad("-pattern: %v", err)
		}
	}
	if dtype != "" {
		if r.dtype = dtypeNamed(dtype); r.dtype == tensorfile.Invalid {
			return bad("-dtype %q: want one of %s", dtype, dtypeNames())
		}
	}
	if r.shardSize > 0 && r.outFormat != tensorfile.Safetensors {
		return bad("-shard-size: shards are .safetensors files; -out %s is not one", r.out)
	}
	if r.gather() {
		return r, nil // the inputs are checked once the globs are expanded
	}
	if samePath(r.in, r.out) {
		return bad("-out %s is the input file; write to another path (the input is never modified)", r.out)
	}
	return r, nil
}

// nameEqualsInt parses NAME=N.
func nameEqualsInt(v string) (string, int, error) {
	name, num, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return "", 0, fmt.Errorf("want NAME=N, got %q", v)
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return "", 0, fmt.Errorf("%q: %q is not a number", v, num)
	}
	return name, n, nil
}

// axisEquals parses AXIS=VALUE, VALUE by parse.
func axisEquals(v string, parse func(string) (int, error)) (int, int, error) {
	ax, val, ok := strings.Cut(v, "=")
	if !ok {
		return 0, 0, fmt.Errorf("want AXIS=..., got %q", v)
	}
	axis, err := strconv.Atoi(ax)
	if err != nil {
		return 0, 0, fmt.Errorf("%q: axis %q is not a number", v, ax)
	}
	n, err := parse(val)
	if err != nil {
		return 0, 0, fmt.Errorf("%q: %v", v, err)
	}
	return axis, n, nil
}

// parsePySlice parses START:STOP[:STEP], each part optional.
func parsePySlice(s string) (pySlice, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return pySlice{}, fmt.Errorf("want START:STOP or START:STOP:STEP, got %q", s)
	}
	num := func(p string) (*int, error) {
		if strings.TrimSpace(p) == "" {
			return nil, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", p)
		}
		return &n, nil
	}
	var sl pySlice
	var err error
	if sl.start, err = num(parts[0]); err != nil {
		return sl, err
	}
	if sl.stop, err = num(parts[1]); err != nil {
		return sl, err
	}
	sl.step = 1
	if len(parts) == 3 {
		step, err := num(parts[2])
		if err != nil {
			return sl, err
		}
		if step != nil {
			sl.step = *step
		}
	}
	if sl.step == 0 {
		return sl, fmt.Errorf("step 0")
	}
	return sl, nil
}

// strict turns a Python slice into the strict bounds of reshape.Tensor.Slice
// for an axis of extent n, as Python's slice.indices does: left-out bounds
// are the ends, negative ones count from the end, and the rest are clamped
// to the axis.
func (p pySlice) strict(n int) tensorfile.Range {
	lo, hi := 0, n // the clamp bounds, for a positive step
	if p.step < 0 {
		lo, hi = -1, n-1
	}
	bound := func(b *int, def int) int {
		if b == nil {
			return def
		}
		v := *b
		if v < 0 {
			v += n
		}
		return min(max(v, lo), hi)
	}
	if p.step > 0 {
		return tensorfile.Range{Axis: p.axis, Start: bound(p.start, 0), Stop: bound(p.stop, n), Step: p.step}
	}
	return tensorfile.Range{Axis: p.axis, Start: bound(p.start, n-1), Stop: bound(p.stop, -1), Step: p.step}
}

// options returns the tensorfile options of the flags for array a: the
// slices made strict for its extents.
func (r reshapeFlags) options(a *tensorfile.Array) tensorfile.ReshapeOptions {
	opt := tensorfile.ReshapeOptions{Select: r.selects, Pattern: r.pattern, Sizes: r.sizes,
		Permute: r.permute, ConcatDims: r.concatDims, DType: r.dtype}
	for _, sl := range r.slices {
		axis := sl.axis
		if axis < 0 {
			axis += len(a.Shape)
		}
		if axis < 0 || axis >= len(a.Shape) {
			opt.Slice = append(opt.Slice, tensorfile.Range{Axis: sl.axis, Step: 1}) // refused by Reshape, naming the axis
			continue
		}
		opt.Slice = append(opt.Slice, sl.strict(a.Shape[axis]))
	}
	return opt
}

// dtypeNamed returns the dtype called name ("float32"), or Invalid.
func dtypeNamed(name string) tensorfile.DType {
	for _, d := range tensorfile.DTypes() {
		if d.String() == name {
			return d
		}
	}
	return tensorfile.Invalid
}

// dtypeNames lists the names -dtype takes.
func dtypeNames() string {
	var names []string
	for _, d := range tensorfile.DTypes() {
		names = append(names, d.String())
	}
	return strings.Join(names, ", ")
}

// parsePermute parses "0,2,1,3". Whether the axes fit the tensor's rank is
// checked once the file is open; repeated axes are refused here.
func parsePermute(s string) ([]int, error) {
	parts := strings.Split(s, ",")
	axes := make([]int, len(parts))
	seen := map[int]bool{}
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%q is not an axis number", strings.TrimSpace(p))
		}
		if v >= 0 && seen[v] {
			return nil, fmt.Errorf("axis %d appears twice", v)
		}
		seen[v] = true
		axes[i] = v
	}
	return axes, nil
}

// samePath reports whether out names the file in names: the same path once
// made absolute, or the same file reached another way (a link). A path
// that cannot be stat-ed is not the input: Open reports a missing input,
// and a missing output is about to be created.
func samePath(in, out string) bool {
	ai, err1 := filepath.Abs(in)
	ao, err2 := filepath.Abs(out)
	if err1 == nil && err2 == nil && ai == ao {
		return true
	}
	si, err := os.Stat(in)
	if err != nil {
		return false
	}
	so, err := os.Stat(out)
	return err == nil && os.SameFile(si, so)
}

// reshape runs the reshape subcommand.
func (c *cli) reshape(args []string) error {
	r, err := parseReshape(args)
	if err != nil {
		return err
	}
	if r.gather() {
		return c.gatherInputs(r)
	}
	f, err := tensorfile.Open(r.in)
	if err != nil {
		return err
	}
	defer f.Close()

	arrays, skipped, err := pickArrays(f, r)
	if err != nil {
		return err
	}
	var metadata map[string]string
	if r.outFormat == tensorfile.Safetensors {
		metadata = f.Metadata
	}
	var total int64
	for _, a := range arrays {
		dt := a.DType
		if r.dtype != tensorfile.Invalid {
			dt = r.dtype
		}
		if _, ok := dt.NPY(); !ok && r.outFormat == tensorfile.NPY {
			if r.dtype != tensorfile.Invalid {
				return &usageError{msg: fmt.Sprintf("-dtype %v: .npy cannot hold it (NumPy has no %v); write a .safetensors output", dt, dt)}
			}
			if dt.Opaque() {
				return fmt.Errorf("%s: tensor %q is %v, which .npy cannot hold (NumPy has no %v); write a .safetensors output", r.in, a.Name, a.DType, a.DType)
			}
			return fmt.Errorf("%s: tensor %q is %v, which .npy cannot hold (NumPy has no %v); convert it with -dtype float32, or write a .safetensors output", r.in, a.Name, a.DType, a.DType)
		}
		total += int64(len(a.Bytes()))
	}

	// Lazy results: each is copied block by block as it is written, so the
	// conversion needs a few MiB beyond the input's map (and, converting the
	// dtype of unaligned data, an aligned copy of it). Converting every
	// tensor, one that does not fit the flags is skipped with a note.
	var outs []*tensorfile.Array
	var misfits []string
	for _, a := range arrays {
		m, err := tensorfile.ReshapeLazy(a, r.options(a))
		if err != nil && r.allTensors(f) && doesNotFit(err) {
			misfits = append(misfits, fmt.Sprintf("stridekit reshape: skipped tensor %q of shape %s: %v", a.Name, shapeString(a.Shape), err))
			total -= int64(len(a.Bytes()))
			continue
		}
		if err != nil {
			return describe(c, r, a, err)
		}
		outs = append(outs, m)
	}
	if len(outs) == 0 {
		return fmt.Errorf("%s: no tensor fits the flags: %s", r.in, strings.TrimPrefix(misfits[0], "stridekit reshape: skipped "))
	}
	if err := c.beginWrite(); err != nil {
		return err
	}
	bar := c.newProgress(total)
	err = tensorfile.WriteFileContext(c.ctx, r.out, func(w io.Writer) error {
		if c.wrapOutput != nil {
			w = c.wrapOutput(w)
		}
		w = &chunkWriter{w: w, bar: bar}
		if r.outFormat == tensorfile.NPY {
			return tensorfile.WriteNPY(w, outs[0])
		}
		return tensorfile.WriteSafetensors(w, metadata, outs...)
	})
	if err != nil {
		bar.abort()
		return describe(c, r, nil, err)
	}
	bar.finish()
	for _, a := range skipped {
		fmt.Fprintf(c.stderr, "stridekit reshape: skipped tensor %q: it %s\n", a.Name, unconvertible(a))
	}
	for _, line := range misfits {
		fmt.Fprintln(c.stderr, line)
	}
	for _, m := range outs {
		name := ""
		if m.Name != "" {
			name = fmt.Sprintf(" %q", m.Name)
		}
		fmt.Fprintf(c.stdout, "%s%s: %v %v\n", r.out, name, m.DType, m.Shape)
	}
	return nil
}

// allTensors reports whether every tensor of f is converted: a .safetensors
// or .npz input without -tensor.
func (r reshapeFlags) allTensors(f *tensorfile.File) bool {
	return f.Format != tensorfile.NPY && r.tensor == ""
}

// doesNotFit reports whether err says a tensor's rank or extents do not fit
// the flags, rather than that the file or the run went wrong.
func doesNotFit(err error) bool {
	for _, s := range []error{reshape.ErrPattern, reshape.ErrPermutation, reshape.ErrConcatDims, reshape.ErrShape, tensorfile.ErrInvalid} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// pickArrays returns the arrays to convert: the one of a .npy file, the one
// -tensor names, or all of a .safetensors file. A .npy input converted into
// a .safetensors output is named after the input file. Converting all
// tensors skips those stridekit cannot convert (an unsupported dtype, a
// scalar) and returns them apart, unless none is left; an array asked for
// by name, or the one of a .npy file, that cannot be converted is an error.
func pickArrays(f *tensorfile.File, r reshapeFlags) (arrays, skipped []*tensorfile.Array, err error) {
	if f.Format == tensorfile.NPY {
		if r.tensor != "" {
			return nil, nil, fmt.Errorf("-tensor %q: %s is a .npy file, which holds one unnamed array; drop -tensor", r.tensor, r.in)
		}
		a := *f.Arrays[0]
		if why := unconvertible(&a); why != "" {
			return nil, nil, fmt.Errorf("%s: its array %s", r.in, why)
		}
		a.Name = strings.TrimSuffix(filepath.Base(r.in), filepath.Ext(r.in))
		if r.outFormat == tensorfile.Safetensors {
			why := ""
			switch {
			case a.Name == "__metadata__":
				why = "safetensors keeps that key for the file's metadata"
			case !utf8.ValidString(a.Name):
				why = "safetensors names are UTF-8 text"
			}
			if why != "" {
				return nil, nil, fmt.Errorf("%s: the tensor of a .npy input is named after its file, and %s cannot name a .safetensors tensor (%s): rename the input, or write a .npy output", r.in, display(a.Name), why)
			}
		}
		return []*tensorfile.Array{&a}, nil, nil
	}
	if r.tensor != "" {
		a, err := f.Array(r.tensor)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", r.in, err)
		}
		if why := unconvertible(a); why != "" {
			return nil, nil, fmt.Errorf("%s: tensor %q %s", r.in, a.Name, why)
		}
		return []*tensorfile.Array{a}, nil, nil
	}
	if len(f.Arrays) == 0 {
		return nil, nil, fmt.Errorf("%s holds no tensors", r.in)
	}
	if r.outFormat == tensorfile.NPY && len(f.Arrays) > 1 {
		return nil, nil, fmt.Errorf("%s holds %d tensors and a .npy file one: pick one with -tensor NAME (stridekit inspect lists them) or write a .safetensors output", r.in, len(f.Arrays))
	}
	for _, a := range f.Arrays {
		if unconvertible(a) != "" {
			skipped = append(skipped, a)
		} else {
			arrays = append(arrays, a)
		}
	}
	if len(arrays) == 0 {
		more := ""
		if len(skipped) > 1 {
			more = fmt.Sprintf(" (and %d more like it)", len(skipped)-1)
		}
		return nil, nil, fmt.Errorf("%s: no tensor can be converted: tensor %q %s%s", r.in, skipped[0].Name, unconvertible(skipped[0]), more)
	}
	return arrays, skipped, nil
}

// unconvertible says why stridekit cannot convert a, as a phrase that
// follows the tensor's name, or "" if it can.
func unconvertible(a *tensorfile.Array) string {
	switch {
	case a.DType == tensorfile.Invalid:
		why := ""
		if err := a.Unsupported(); err != nil && strings.HasPrefix(err.Error(), tensorfile.ErrDType.Error()+": dtype ") {
			why = strings.TrimPrefix(err.Error(), tensorfile.ErrDType.Error()) // the reader says why: ": dtype "<U10": strings are not supported"
		}
		return fmt.Sprintf("has dtype %s, which stridekit does not convert%s", display(a.Descr), why)
	case len(a.Shape) == 0:
		return "is a scalar (shape []), which has no axis to reshape"
	}
	return ""
}

// describe turns an error of the conversion into the one line the user
// reads: which tensor, which flag, and that nothing was written.
func describe(c *cli, r reshapeFlags, a *tensorfile.Array, err error) error {
	if c.ctx.Err() != nil {
		return fmt.Errorf("interrupted; %s was not written", r.out)
	}
	what := ""
	switch {
	case a != nil && a.Name != "":
		what = fmt.Sprintf("tensor %q of shape %s: ", a.Name, shapeString(a.Shape))
	case a != nil:
		what = fmt.Sprintf("shape %s: ", shapeString(a.Shape))
	}
	return fmt.Errorf("%s%w (%s was not written)", what, err, r.out)
}

// errInterrupted is what a copy or write stopped by a signal returns.
var errInterrupted = errors.New("interrupted")
