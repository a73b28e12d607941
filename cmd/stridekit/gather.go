package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stridekit/stridekit/reshape"
	"github.com/stridekit/stridekit/tensorfile"
)

// Gathering many inputs into one output: reshape with more than one -in, a
// glob, -shard-size, -part or -resume. Every input gives one tensor, made
// an [items, features] matrix by the same flags, and the matrices are
// appended in input order by a tensorfile.MatrixWriter.

// jobPart is -part I/N: the I-th (from 0) of N contiguous slices of the
// inputs. n is 0 without -part.
type jobPart struct{ i, n int }

// parsePart parses I/N with 0 <= I < N.
func parsePart(v string) (jobPart, error) {
	is, ns, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return jobPart{}, fmt.Errorf("want I/N, such as 3/8, got %q", v)
	case n < 1:
		return jobPart{}, fmt.Errorf("%q: N must be at least 1", v)
	case i < 0 || i >= n:
		return jobPart{}, fmt.Errorf("%q: I counts from 0 and must be below N (%d..%d)", v, 0, n-1)
	}
	return jobPart{i, n}, nil
}

// span returns the inputs [lo, hi) of the part among count: the parts are
// contiguous, in order, disjoint and cover all; their sizes differ by at
// most one.
func (p jobPart) span(count int) (lo, hi int) {
	if p.n == 0 {
		return 0, count
	}
	return p.i * count / p.n, (p.i + 1) * count / p.n
}

// byteUnits are the suffixes -shard-size takes, as Hugging Face's
// max_shard_size reads them: kB, MB, GB, TB in powers of 1000, KiB, MiB,
// GiB, TiB in powers of 1024.
var byteUnits = []struct {
	suffix string
	n      int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseByteSize parses a positive size such as 2GiB, 500MB or 1048576.
func parseByteSize(v string) (int64, error) {
	s, mult := strings.TrimSpace(v), int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.n
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f*float64(mult) >= 1<<62 {
		return 0, fmt.Errorf("want a size such as 2GiB, 500MB or 1048576, got %q", v)
	}
	return int64(f * float64(mult)), nil
}

// gather reports whether the flags ask for many inputs gathered into one
// output.
func (r reshapeFlags) gather() bool {
	return len(r.ins) > 1 || hasGlob(r.ins[0]) || r.shardSize > 0 || r.part.n > 0 || r.resume
}

// hasGlob reports whether path is a pattern of filepath.Match.
func hasGlob(path string) bool { return strings.ContainsAny(path, "*?[") }

// expandInputs returns the input files: each -in in order, a glob replaced
// by its matches, sorted (so every machine of a job sees one list).
func expandInputs(ins []string) ([]string, error) {
	var files []string
	for _, in := range ins {
		if !hasGlob(in) {
			files = append(files, in)
			continue
		}
		m, err := filepath.Glob(in)
		if err != nil {
			return nil, &usageError{msg: fmt.Sprintf("-in %q: %v", in, err)}
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("-in %q matches no file", in)
		}
		files = append(files, m...)
	}
	return files, nil
}

// gatherPlan is what the first pass over the inputs learns.
type gatherPlan struct {
	dt    tensorfile.DType
	cols  int
	rows  int64
	bytes int64
}

// gatherInputs runs reshape over many inputs into one output, or shards.
func (c *cli) gatherInputs(r reshapeFlags) error {
	all, err := expandInputs(r.ins)
	if err != nil {
		return err
	}
	for _, in := range all {
		if samePath(in, r.out) {
			return &usageError{msg: fmt.Sprintf("-out %s is one of the inputs; write to another path (the inputs are never modified)", r.out)}
		}
	}
	lo, hi := r.part.span(len(all))
	files := all[lo:hi]
	what := fmt.Sprintf("%d files", len(files))
	if r.part.n > 0 {
		what = fmt.Sprintf("%d files (part %d/%d: inputs %d to %d of %d)", len(files), r.part.i, r.part.n, lo, hi-1, len(all))
	}
	if r.resume {
		if done, desc := complete(r); done {
			fmt.Fprintf(c.stdout, "%s: complete (%s), skipped (-resume)\n", r.out, desc)
			return nil
		}
	}
	if len(files) == 0 {
		fmt.Fprintf(c.stdout, "%s: part %d/%d has no inputs (%d in all); nothing written\n", r.out, r.part.i, r.part.n, len(all))
		return nil
	}

	// First pass: every input's result shape, before anything is written,
	// so that a mismatch fails at once and the bar knows the total.
	var plan gatherPlan
	first := ""
	for _, in := range files {
		if err := c.ctx.Err(); err != nil {
			return errInterrupted
		}
		err := withInput(r, in, func(m *tensorfile.Array) error {
			cols := m.Shape[1]
			switch {
			case first == "":
				first, plan.dt, plan.cols = in, m.DType, cols
			case cols != plan.cols:
				return fmt.Errorf("%s: %d features, where %s has %d: every input must give the same features", in, cols, first, plan.cols)
			case m.DType != plan.dt:
				return fmt.Errorf("%s: %v, where %s is %v: give -dtype to convert every input to one", in, m.DType, first, plan.dt)
			}
			plan.rows += int64(m.Shape[0])
			plan.bytes += int64(m.Shape[0]) * int64(cols) * int64(m.DType.Size())
			return nil
		})
		if err != nil {
			return err
		}
	}

	// Second pass: append each in turn.
	name := tensorfile.DefaultMatrixName
	if r.part.n > 0 {
		name = fmt.Sprintf("%s.part-%05d", name, r.part.i)
	}
	if err := c.beginWrite(); err != nil {
		return err
	}
	bar := c.newProgress(plan.bytes)
	w, err := tensorfile.NewMatrixWriter(r.out, plan.dt, plan.cols, &tensorfile.MatrixOptions{
		Name: name, ShardSize: r.shardSize, Context: c.ctx,
		OnWrite: bar.wrote,
	})
	if err != nil {
		return err
	}
	for k, in := range files {
		err := withInput(r, in, func(m *tensorfile.Array) error { return w.Append(m) })
		if err != nil {
			w.Abort()
			bar.abort()
			if c.ctx.Err() != nil {
				return fmt.Errorf("interrupted; %s was not written", r.out)
			}
			if errors.Is(err, reshape.ErrFault) || errors.Is(err, tensorfile.ErrChanged) {
				err = fmt.Errorf("%s: %w", in, err) // the input failed under the copy
			}
			return fmt.Errorf("%w (%s was not written)", err, r.out)
		}
		if c.afterInput != nil {
			c.afterInput(k)
		}
	}
	if err := w.Close(); err != nil {
		bar.abort()
		if c.ctx.Err() != nil {
			return fmt.Errorf("interrupted; %s was not written", r.out)
		}
		return fmt.Errorf("%w (%s was not written)", err, r.out)
	}
	bar.finish()
	shape := fmt.Sprintf("%v [%d %d]", plan.dt, plan.rows, plan.cols)
	if r.shardSize > 0 {
		idx, err := tensorfile.ReadIndex(tensorfile.IndexName(r.out))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: %s in %d shards of at most %s, from %s\n", tensorfile.IndexName(r.out), shape, len(idx.Files()), mib(r.shardSize), what)
		return nil
	}
	if r.outFormat == tensorfile.Safetensors {
		fmt.Fprintf(c.stdout, "%s %q: %s, from %s\n", r.out, name, shape, what)
		return nil
	}
	fmt.Fprintf(c.stdout, "%s: %s, from %s\n", r.out, shape, what)
	return nil
}

// withInput opens the input in, makes its tensor the [items, features]
// matrix of the flags (lazily: its bytes are copied as they are written),
// runs f on it and closes the input. An input whose tensor is not a matrix
// once reshaped, or cannot be converted, is an error naming it.
func withInput(r reshapeFlags, in string, f func(m *tensorfile.Array) error) error {
	file, err := tensorfile.Open(in)
	if err != nil {
		return err
	}
	defer file.Close()
	a, err := gatherArray(file, r, in)
	if err != nil {
		return err
	}
	m, err := tensorfile.ReshapeLazy(a, r.options(a))
	if err != nil {
		return fmt.Errorf("%s: shape %v: %w", in, a.Shape, err)
	}
	if len(m.Shape) != 2 {
		return fmt.Errorf("%s: the result has shape %v; gathering inputs needs [items, features] (a -pattern with two groups on the right)", in, m.Shape)
	}
	return f(m)
}

// gatherArray is the tensor of one input: the array of a .npy file, the
// tensor -tensor names, or the one tensor of a .safetensors file.
func gatherArray(f *tensorfile.File, r reshapeFlags, in string) (*tensorfile.Array, error) {
	var a *tensorfile.Array
	switch {
	case f.Format == tensorfile.NPY:
		a = f.Arrays[0]
	case r.tensor != "":
		var err error
		if a, err = f.Array(r.tensor); err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
	case len(f.Arrays) == 1:
		a = f.Arrays[0]
	default:
		return nil, fmt.Errorf("%s holds %d tensors: pick one with -tensor NAME (stridekit inspect lists them)", in, len(f.Arrays))
	}
	if why := unconvertible(a); why != "" {
		return nil, fmt.Errorf("%s: tensor %s", in, why)
	}
	return a, nil
}

// complete reports whether the output of r exists and is complete, and
// what it holds: the one file (written atomically, so complete if it is
// there and reads as a tensor file), or the index of shards and every
// shard it names.
func complete(r reshapeFlags) (bool, string) {
	if r.shardSize == 0 {
		f, err := tensorfile.Open(r.out)
		if err != nil {
			return false, ""
		}
		defer f.Close()
		if len(f.Arrays) != 1 {
			return false, ""
		}
		return true, fmt.Sprintf("%v %v", f.Arrays[0].DType, f.Arrays[0].Shape)
	}
	index := tensorfile.IndexName(r.out)
	idx, err := tensorfile.ReadIndex(index)
	if err != nil {
		return false, ""
	}
	files := idx.Files()
	for _, rel := range files {
		f, err := tensorfile.Open(filepath.Join(filepath.Dir(index), filepath.FromSlash(rel)))
		if err != nil {
			return false, ""
		}
		_ = f.Close()
	}
	return true, fmt.Sprintf("%d shards", len(files))
}

// indexHelp is the help of the index command.
const indexHelp = `usage: stridekit index -out FILE.index.json FILE.safetensors|FILE.index.json ...

Writes one Hugging Face sharded index (a weight_map from every tensor's
name to its file, and metadata.total_size, the bytes of all the tensors)
over .safetensors files written apart: the parts that "stridekit reshape
-part I/N" wrote on many machines, for example:

  stridekit index -out dataset.safetensors.index.json part-*.safetensors

An argument that is itself an index (a sharded part) stands for the files
it lists. Paths in the index are relative to its folder. Every tensor name
must be unique across the files (reshape -part names its tensor after the
part); the first repeated name is an error naming both files. The index is
written atomically.

  -out FILE   the index to write
`

// index runs the index subcommand.
func (c *cli) index(args []string) error {
	fs := flag.NewFlagSet("index", flag.ContinueOnError)
	out := fs.String("out", "", "index file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *out == "":
		return &usageError{msg: "-out is required"}
	case fs.NArg() == 0:
		return &usageError{msg: "no .safetensors files to index"}
	}
	var files []string
	for _, arg := range fs.Args() {
		if !strings.HasSuffix(arg, ".index.json") {
			files = append(files, arg)
			continue
		}
		idx, err := tensorfile.ReadIndex(arg)
		if err != nil {
			return err
		}
		for _, rel := range idx.Files() {
			files = append(files, filepath.Join(filepath.Dir(arg), filepath.FromSlash(rel)))
		}
	}
	for _, f := range files {
		if samePath(f, *out) {
			return &usageError{msg: fmt.Sprintf("-out %s is one of the files to index", *out)}
		}
	}
	if err := c.beginWrite(); err != nil {
		return err
	}
	if err := tensorfile.WriteIndex(*out, files...); err != nil {
		return err
	}
	idx, err := tensorfile.ReadIndex(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s: %d tensors in %d files, %s\n", *out, len(idx.WeightMap), len(idx.Files()), mib(idx.Metadata.TotalSize))
	return nil
}
