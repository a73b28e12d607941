package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/reshape"
	"github.com/stridekit/stridekit/tensorfile"
)

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// runWith runs the command line with c's seams.
func runWith(c *cli, args ...string) result {
	var out, errb bytes.Buffer
	c.stdout, c.stderr = &out, &errb
	if c.ctx == nil {
		c.ctx = context.Background()
	}
	if c.progressMin == 0 {
		c.progressMin = progressMin
	}
	code := c.run(args)
	return result{code, out.String(), errb.String()}
}

// runCmd runs the command line as a real run from a non-terminal would.
func runCmd(args ...string) result {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// ramp returns n little-endian elements of dt counting from 0.
func ramp(dt tensorfile.DType, n int) []byte {
	b := make([]byte, 0, n*dt.Size())
	for i := range n {
		switch dt {
		case tensorfile.Float32:
			b = append(b, f32(float32(i))...)
		case tensorfile.Int16:
			b = append(b, byte(i), byte(i>>8))
		case tensorfile.BFloat16:
			f := f32(float32(i))
			b = append(b, f[2], f[3])
		default:
			panic(dt)
		}
	}
	return b
}

func f32(f float32) []byte {
	return binary.LittleEndian.AppendUint32(nil, math.Float32bits(f))
}

// writeNPY saves a .npy input file in dir.
func writeNPY(t *testing.T, dir, name string, dt tensorfile.DType, shape []int, fortran bool) string {
	t.Helper()
	n := 1
	for _, e := range shape {
		n *= e
	}
	a, err := tensorfile.NewArray("", dt, shape, fortran, ramp(dt, n))
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, tensorfile.Save(path, nil, a))
	return path
}

// writeST saves a .safetensors input with tensors "a" [2,3,4] float32,
// "b" [4,5] int16 and "c" [3,2] bfloat16, and metadata.
func writeST(t *testing.T, dir, name string) string {
	t.Helper()
	var arrays []*tensorfile.Array
	for _, x := range []struct {
		name  string
		dt    tensorfile.DType
		shape []int
	}{{"a", tensorfile.Float32, []int{2, 3, 4}}, {"b", tensorfile.Int16, []int{4, 5}}, {"c", tensorfile.BFloat16, []int{3, 2}}} {
		n := 1
		for _, e := range x.shape {
			n *= e
		}
		a, err := tensorfile.NewArray(x.name, x.dt, x.shape, false, ramp(x.dt, n))
		require.NoError(t, err)
		arrays = append(arrays, a)
	}
	path := filepath.Join(dir, name)
	require.NoError(t, tensorfile.Save(path, map[string]string{"format": "pt", "layer": "7"}, arrays...))
	return path
}

// files returns the names in dir, to show nothing partial was left.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func digest(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

// TestUsageErrors checks every mistake in the command line exits 2 with
// a message and the short usage on stderr, and nothing on stdout.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeNPY(t, dir, "in.npy", tensorfile.Float32, []int{2, 3, 4}, false)
	link := filepath.Join(dir, "link.npy")
	require.NoError(t, os.Symlink(in, link))
	out := filepath.Join(dir, "out.npy")
	cases := []struct {
		args []string
		msg  string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"reshape"}, "-in is required"},
		{[]string{"reshape", "-in", in}, "-out is required"},
		{[]string{"reshape", "-in", in, "-out", filepath.Join(dir, "o.csv")}, "the extension must be .npy or .safetensors"},
		{[]string{"reshape", "-in", in, "-out", out, "-concat-dims", "0"}, "-concat-dims 0: must be at least 1"},
		{[]string{"reshape", "-in", in, "-out", out, "-concat-dims", "x"}, "invalid value"},
		{[]string{"reshape", "-in", in, "-out", out, "-dtype", "float8"}, `-dtype "float8": want one of float16, bfloat16, float32`},
		{[]string{"reshape", "-in", in, "-out", out, "-pattern", "a b -> b a", "-permute", "1,0"}, "-pattern replaces -permute and -concat-dims"},
		{[]string{"reshape", "-in", in, "-out", out, "-pattern", "a b -> b a", "-concat-dims", "1"}, "-pattern replaces -permute and -concat-dims"},
		{[]string{"reshape", "-in", in, "-out", out, "-pattern", "a b -> b c"}, `-pattern: reshape: invalid pattern: "a b -> b c": axis "c" is on the right only`},
		{[]string{"reshape", "-in", in, "-out", out, "-size", "h=2"}, "-size gives the sizes of a -pattern"},
		{[]string{"reshape", "-in", in, "-out", out, "-size", "h"}, "want NAME=N"},
		{[]string{"reshape", "-in", in, "-out", out, "-select", "x=1"}, `axis "x" is not a number`},
		{[]string{"reshape", "-in", in, "-out", out, "-slice", "0=1"}, "want START:STOP or START:STOP:STEP"},
		{[]string{"reshape", "-in", in, "-out", out, "-slice", "0=1:2:0"}, "step 0"},
		{[]string{"reshape", "-in", in, "-out", out, "-dtype", "bfloat16"}, "-dtype bfloat16: .npy cannot hold it (NumPy has no bfloat16)"},
		{[]string{"reshape", "-in", in, "-out", out, "-permute", "0,a,1"}, `"a" is not an axis number`},
		{[]string{"reshape", "-in", in, "-out", out, "-permute", "0,0,1"}, "axis 0 appears twice"},
		{[]string{"reshape", "-in", in, "-out", out, "-permute", ""}, ""},
		{[]string{"reshape", "-in", in, "-out", out, "extra"}, `unexpected argument "extra"`},
		{[]string{"reshape", "-in", in, "-out", out, "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"reshape", "-in", in, "-out", in}, "is the input file"},
		{[]string{"reshape", "-in", in, "-out", filepath.Join(dir, ".", "in.npy")}, "is the input file"},
		{[]string{"reshape", "-in", link, "-out", in}, "is the input file"},
		{[]string{"inspect"}, "want one FILE, got 0 arguments"},
		{[]string{"inspect", in, in}, "want one FILE, got 2 arguments"},
	}
	for _, c := range cases {
		r := runCmd(c.args...)
		if c.msg == "" { // an empty -permute means none: not an error
			assert.Equal(t, 0, r.code, "%v: %s", c.args, r.stderr)
			continue
		}
		assert.Equal(t, 2, r.code, "%v", c.args)
		assert.Contains(t, r.stderr, c.msg, "%v", c.args)
		assert.Contains(t, r.stderr, "usage: stridekit", "%v", c.args)
		assert.Less(t, strings.Count(r.stderr, "\n"), 12, "%v: the usage of an error is short", c.args)
		assert.Empty(t, r.stdout, "%v", c.args)
	}
	assert.Equal(t, digest(t, in), digest(t, link))
}

// TestHelp checks -h prints the full help on stdout and exits 0.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"reshape", "-h"}, {"inspect", "-h"}, {"bench", "-h"}} {
		r := runCmd(args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Contains(t, r.stdout, "usage: stridekit", "%v", args)
		assert.Empty(t, r.stderr, "%v", args)
	}
	assert.Contains(t, runCmd("reshape", "-h").stdout, "-concat-dims K")
}

// TestFailures checks every bad input and every flag that does not fit the
// file exits 1 with one line naming the problem, writes no output and
// leaves an existing output file as it was.
func TestFailures(t *testing.T) {
	dir := t.TempDir()
	npy := writeNPY(t, dir, "in.npy", tensorfile.Float32, []int{2, 3, 4}, true)
	st := writeST(t, dir, "in.safetensors")
	good, err := os.ReadFile(npy)
	require.NoError(t, err)
	bad := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	header := func(h string) []byte {
		b := make([]byte, 8)
		b[0] = byte(len(h))
		return append(b, h...)
	}
	truncated := bad("truncated.npy", good[:len(good)-5])
	longer := bad("longer.npy", append(append([]byte{}, good...), 0, 0, 0, 0))
	malformed := bad("malformed.npy", bytes.Replace(good, []byte("'shape'"), []byte("'shapx'"), 1))
	complexNPY := bad("complex.npy", bytes.Replace(good, []byte("'<f4'"), []byte("'<c8'"), 1))
	badJSON := bad("json.safetensors", header(`{"a": {"dtype": `))
	outside := bad("outside.safetensors", append(header(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`), 1, 2, 3, 4))
	mismatch := bad("mismatch.safetensors", append(header(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}`), 1, 2, 3, 4))
	f8 := bad("f8.safetensors", append(header(`{"a":{"dtype":"C64","shape":[4],"data_offsets":[0,4]}}`), 1, 2, 3, 4))
	unconvertible := bad("none.safetensors", append(header(`{"f8":{"dtype":"C64","shape":[4],"data_offsets":[0,4]},"s":{"dtype":"I16","shape":[],"data_offsets":[4,6]}}`), 1, 2, 3, 4, 5, 6))
	scalarNPY := writeNPY(t, dir, "scalar.npy", tensorfile.Float32, []int{}, false)

	out := filepath.Join(dir, "out.npy")
	outST := filepath.Join(dir, "out.safetensors")
	require.NoError(t, os.WriteFile(out, []byte("keep me"), 0o644))
	require.NoError(t, os.WriteFile(outST, []byte("keep me too"), 0o644))
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"-in", filepath.Join(dir, "missing.npy"), "-out", out}, "no such file or directory"},
		{[]string{"-in", truncated, "-out", out}, "truncated file: shape [2 3 4] of float32 needs 96 bytes of data, the file holds 91"},
		{[]string{"-in", longer, "-out", out}, "header and data disagree: shape [2 3 4] of float32 needs 96 bytes of data, the file holds 100"},
		{[]string{"-in", malformed, "-out", out}, `unknown key "shapx"`},
		{[]string{"-in", complexNPY, "-out", out}, "complex numbers are not supported"},
		{[]string{"-in", badJSON, "-out", outST}, "malformed header: safetensors header JSON"},
		{[]string{"-in", outside, "-out", outST}, `tensor "a": data_offsets [0, 16] reach past the 4 bytes of data`},
		{[]string{"-in", mismatch, "-out", outST}, `tensor "a": shape [3] of F32 needs 12 bytes, data_offsets [0, 4] hold 4`},
		{[]string{"-in", f8, "-out", outST}, `f8.safetensors: no tensor can be converted: tensor "a" has dtype C64, which stridekit does not convert`},
		{[]string{"-in", f8, "-out", outST, "-tensor", "a"}, `f8.safetensors: tensor "a" has dtype C64, which stridekit does not convert`},
		{[]string{"-in", unconvertible, "-out", outST}, `: no tensor can be converted: tensor "f8" has dtype C64, which stridekit does not convert (and 1 more like it)`},
		{[]string{"-in", unconvertible, "-out", outST, "-tensor", "s"}, `: tensor "s" is a scalar (shape []), which has no axis to reshape`},
		{[]string{"-in", scalarNPY, "-out", out}, `scalar.npy: its array is a scalar (shape []), which has no axis to reshape`},
		{[]string{"-in", npy, "-out", out, "-concat-dims", "4"}, "4 axes to concatenate of a tensor of rank 3 (want 1..3)"},
		{[]string{"-in", npy, "-out", out, "-permute", "0,1"}, "2 axes [0 1] for a tensor of rank 3"},
		{[]string{"-in", npy, "-out", out, "-permute", "0,1,3"}, "axis 3 of [0 1 3] is outside a tensor of rank 3"},
		{[]string{"-in", npy, "-out", out, "-permute", "0,2,-1"}, "axis 2 appears twice in [0 2 -1]"},
		{[]string{"-in", npy, "-out", out, "-tensor", "a"}, "holds one unnamed array; drop -tensor"},
		{[]string{"-in", st, "-out", outST, "-tensor", "zz"}, `no such tensor: no tensor "zz" (the file has "a", "c", "b")`},
		{[]string{"-in", st, "-out", out}, "holds 3 tensors and a .npy file one: pick one with -tensor NAME"},
		{[]string{"-in", st, "-out", out, "-tensor", "c"}, "which .npy cannot hold (NumPy has no bfloat16); convert it with -dtype float32, or write a .safetensors output"},
		{[]string{"-in", st, "-out", outST, "-concat-dims", "4"}, `no tensor fits the flags: tensor "a" of shape [2 3 4]: reshape: concat dims out of range`},
		{[]string{"-in", st, "-out", out, "-tensor", "b", "-select", "0=9"}, "select index 9 is outside axis 0 of extent 4"},
		{[]string{"-in", st, "-out", out, "-tensor", "b", "-pattern", "x y z -> (x y) z"}, `has 3 axes on the left, the tensor has rank 2`},
		{[]string{"-in", st, "-out", out, "-tensor", "b", "-slice", "5=1:2"}, "axis 5 is outside a tensor of rank 2"},
		{[]string{"-in", filepath.Join(dir, "out.npy"), "-out", outST}, "no .npy magic"},
		{[]string{"-in", npy, "-out", filepath.Join(dir, "no", "out.npy")}, "create " + filepath.Join(dir, "no", "out.npy") + ": no such file or directory (" + filepath.Join(dir, "no", "out.npy") + " was not written)"},
	}
	before := files(t, dir)
	for _, c := range cases {
		r := runCmd(append([]string{"reshape"}, c.args...)...)
		assert.Equal(t, 1, r.code, "%v: %s", c.args, r.stderr)
		assert.True(t, strings.HasPrefix(r.stderr, "stridekit reshape: "), "%v: %s", c.args, r.stderr)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "%v: one line: %s", c.args, r.stderr)
		assert.Contains(t, r.stderr, c.msg, "%v", c.args)
		assert.Empty(t, r.stdout, "%v", c.args)
		assert.Equal(t, before, files(t, dir), "%v: no file appears", c.args)
	}
	b, _ := os.ReadFile(out)
	assert.Equal(t, "keep me", string(b))
	b, _ = os.ReadFile(outST)
	assert.Equal(t, "keep me too", string(b))

	r := runCmd("inspect", truncated)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	assert.Contains(t, r.stderr, "truncated file")
}

// TestSkipUnconvertible checks converting every tensor of a .safetensors
// file skips the tensors stridekit cannot convert (a complex number, a
// scalar) with one line each on stderr, converts the others and carries the
// metadata over.
func TestSkipUnconvertible(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "mixed.safetensors")
	h := `{"__metadata__":{"format":"pt"},` +
		`"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},` +
		`"f8":{"dtype":"C64","shape":[4],"data_offsets":[24,28]},` +
		`"s":{"dtype":"F32","shape":[],"data_offsets":[28,32]},` +
		`"b":{"dtype":"I16","shape":[2,2],"data_offsets":[32,40]}}`
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(append(b, h...), ramp(tensorfile.Float32, 6)...)
	b = append(b, 1, 2, 3, 4)
	b = append(b, f32(42)...)
	b = append(b, ramp(tensorfile.Int16, 4)...)
	require.NoError(t, os.WriteFile(in, b, 0o644))

	out := filepath.Join(dir, "out.safetensors")
	r := runCmd("reshape", "-in", in, "-out", out, "-concat-dims", "2")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, `stridekit reshape: skipped tensor "f8": it has dtype C64, which stridekit does not convert
stridekit reshape: skipped tensor "s": it is a scalar (shape []), which has no axis to reshape
`, r.stderr)
	assert.Equal(t, out+` "a": float32 [1 6]`+"\n"+out+` "b": int16 [1 4]`+"\n", r.stdout)
	f, err := tensorfile.Open(out)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, map[string]string{"format": "pt"}, f.Metadata)
	require.Len(t, f.Arrays, 2)
	got := map[string][]byte{}
	for _, a := range f.Arrays {
		got[a.Name] = a.Bytes()
	}
	assert.Equal(t, map[string][]byte{"a": ramp(tensorfile.Float32, 6), "b": ramp(tensorfile.Int16, 4)}, got)
}

// failAfter is a writer that fails once n bytes have passed: the injected
// failure in the middle of writing the output.
type failAfter struct {
	w io.Writer
	n int
}

var errInjected = errors.New("injected write failure")

func (f *failAfter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		n, _ := f.w.Write(b[:f.n])
		f.n = 0
		return n, errInjected
	}
	f.n -= len(b)
	return f.w.Write(b)
}

// TestNoPartialOutput injects a write failure part-way through the output,
// for each format and at several points, and checks the command fails with
// one line, no partial or temporary file is left and an existing output is
// untouched.
func TestNoPartialOutput(t *testing.T) {
	dir := t.TempDir()
	npy := writeNPY(t, dir, "in.npy", tensorfile.Float32, []int{64, 32, 16}, false)
	st := writeST(t, dir, "in.safetensors")
	for _, out := range []string{"out.npy", "out.safetensors"} {
		for _, at := range []int{0, 1, 100, 300} { // the safetensors output is 380 bytes
			outPath := filepath.Join(dir, out)
			args := []string{"reshape", "-in", npy, "-out", outPath, "-permute", "1,0,2"}
			if strings.HasSuffix(out, ".safetensors") {
				args = []string{"reshape", "-in", st, "-out", outPath}
			}
			for _, existing := range []bool{false, true} {
				if existing {
					require.NoError(t, os.WriteFile(outPath, []byte("old contents"), 0o644))
				}
				before := files(t, dir)
				c := &cli{wrapOutput: func(w io.Writer) io.Writer { return &failAfter{w: w, n: at} }}
				r := runWith(c, args...)
				name := fmt.Sprintf("%s failing after %d bytes, existing=%v", out, at, existing)
				assert.Equal(t, 1, r.code, name)
				assert.Contains(t, r.stderr, "injected write failure", name)
				assert.Contains(t, r.stderr, "was not written", name)
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), name)
				assert.Equal(t, before, files(t, dir), "%s: no partial or temporary file", name)
				if existing {
					b, err := os.ReadFile(outPath)
					require.NoError(t, err)
					assert.Equal(t, "old contents", string(b), name)
					require.NoError(t, os.Remove(outPath))
				}
			}
		}
	}
}

// TestInterrupted checks a run cancelled (Ctrl-C) before it starts writes
// nothing and exits 130, as shells expect of a process that SIGINT ended.
func TestInterrupted(t *testing.T) {
	dir := t.TempDir()
	in := writeNPY(t, dir, "in.npy", tensorfile.Float32, []int{64, 32, 16}, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, perm := range []string{"0,1,2", "2,1,0"} { // aliased, then copied
		r := runWith(&cli{ctx: ctx}, "reshape", "-in", in, "-out", filepath.Join(dir, "out.npy"), "-permute", perm)
		assert.Equal(t, 130, r.code)
		assert.Equal(t, "stridekit reshape: interrupted\n", r.stderr)
		assert.Equal(t, []string{"in.npy"}, files(t, dir))
	}
}

// TestInterruptedWhileWriting cancels the run part-way through writing the
// output, and once every byte of it is written (while it is synced, as a
// Ctrl-C during a slow fsync does): either way the existing output stays
// as it was, no temporary file is left, and the run exits 130.
func TestInterruptedWhileWriting(t *testing.T) {
	dir := t.TempDir()
	in := writeNPY(t, dir, "in.npy", tensorfile.Float32, []int{64, 32, 16}, false)
	out := filepath.Join(dir, "out.npy")
	r := runCmd("reshape", "-in", in, "-out", out, "-permute", "2,1,0")
	require.Equal(t, 0, r.code, r.stderr)
	fi, err := os.Stat(out)
	require.NoError(t, err)
	size := fi.Size()
	for _, at := range []int64{size / 2, size} {
		require.NoError(t, os.WriteFile(out, []byte("old contents"), 0o644))
		ctx, cancel := context.WithCancel(context.Background())
		c := &cli{ctx: ctx, wrapOutput: func(w io.Writer) io.Writer {
			return &cancelAt{w: w, at: at, cancel: cancel}
		}}
		r := runWith(c, "reshape", "-in", in, "-out", out, "-permute", "2,1,0")
		cancel()
		assert.Equal(t, 130, r.code, "cancelled at byte %d of %d", at, size)
		assert.Equal(t, "stridekit reshape: interrupted; "+out+" was not written\n", r.stderr)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.True(t, string(b) == "old contents", "cancelled at byte %d of %d: the output was replaced", at, size)
		assert.Equal(t, []string{"in.npy", "out.npy"}, files(t, dir))
	}
}

// TestOutIsDirectory checks that an -out that is a directory fails with one
// line that names it, not a temporary file, and creates nothing.
func TestOutIsDirectory(t *testing.T) {
	dir := t.TempDir()
	in := writeNPY(t, dir, "in.npy", tensorfile.Float32, []int{4, 3}, false)
	out := filepath.Join(dir, "out.npy")
	require.NoError(t, os.Mkdir(out, 0o755))
	r := runCmd("reshape", "-in", in, "-out", out)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "stridekit reshape: create "+out+": is a directory ("+out+" was not written)\n", r.stderr)
	assert.Equal(t, []string{"in.npy", "out.npy"}, files(t, dir))
}

// cancelAt passes writes on and calls cancel once at bytes have gone
// through.
type cancelAt struct {
	w      io.Writer
	n, at  int64
	cancel context.CancelFunc
}

func (c *cancelAt) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	if c.n >= c.at {
		c.cancel()
	}
	return n, err
}

// TestInterruptDeafStep interrupts a command in a step that never checks
// the context (as parsing a huge header or listing a million tensors
// does): the run must end at once with 130, and nothing the command prints
// afterwards may reach the output.
func TestInterruptDeafStep(t *testing.T) {
	started, release := hangCommand(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	done := make(chan result, 1)
	c := &cli{ctx: ctx}
	go func() { done <- runWith(c, "hang") }()
	select {
	case r := <-done:
		close(release)
		assert.Equal(t, 130, r.code)
		assert.Equal(t, "stridekit hang: interrupted\n", r.stderr)
		assert.Equal(t, "started\n", r.stdout)
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("an interrupted command must end the run at once")
	}
}

// hangCommand adds, for the test, a command "hang" that prints "started",
// signals started and then waits for release, deaf to the context, before
// it prints "late".
func hangCommand(t *testing.T) (started, release chan struct{}) {
	started, release = make(chan struct{}), make(chan struct{})
	old := commands
	commands = append(commands[:len(commands):len(commands)], command{
		name: "hang", summary: "wait", help: "usage: stridekit hang\n",
		run: func(c *cli, args []string) error {
			fmt.Fprintln(c.stdout, "started")
			close(started)
			<-release
			fmt.Fprintln(c.stdout, "late")
			return nil
		},
	})
	t.Cleanup(func() { commands = old })
	return started, release
}

// TestReshapeCommand converts .npy and .safetensors inputs and checks the
// outputs hold what the library computes, the input is unchanged and
// metadata is carried over.
func TestReshapeCommand(t *testing.T) {
	dir := t.TempDir()
	npy := writeNPY(t, dir, "acts.npy", tensorfile.Float32, []int{2, 3, 4}, false)
	st := writeST(t, dir, "acts.safetensors")
	sums := map[string][32]byte{npy: digest(t, npy), st: digest(t, st)}

	// [2,3,4] permuted (2,0,1) is [4,2,3]; its element [i,j,k] is input
	// [j,k,i] = 12j + 4k + i. With -concat-dims 2: 4 rows of 6.
	out := filepath.Join(dir, "items.npy")
	r := runCmd("reshape", "-in", npy, "-out", out, "-permute", "2,0,1", "-concat-dims", "2")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, out+` "acts": float32 [4 6]`+"\n", r.stdout)
	assert.Empty(t, r.stderr)
	f, err := tensorfile.Open(out)
	require.NoError(t, err)
	v, err := tensorfile.Tensor[float32](f.Arrays[0])
	require.NoError(t, err)
	assert.Equal(t, []int{4, 6}, v.Shape)
	var want []float32
	for i := range 4 {
		for j := range 2 {
			for k := range 3 {
				want = append(want, float32(12*j+4*k+i))
			}
		}
	}
	assert.Equal(t, want, v.Data)
	require.NoError(t, f.Close())

	// Every tensor of a .safetensors file, metadata carried over.
	outST := filepath.Join(dir, "items.safetensors")
	r = runCmd("reshape", "-in", st, "-out", outST)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, 3, strings.Count(r.stdout, "\n"))
	f, err = tensorfile.Open(outST)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"format": "pt", "layer": "7"}, f.Metadata)
	shapes := map[string][]int{}
	for _, a := range f.Arrays {
		shapes[a.Name] = a.Shape
	}
	assert.Equal(t, map[string][]int{"a": {6, 4}, "b": {4, 5}, "c": {3, 2}}, shapes)
	require.NoError(t, f.Close())

	// One tensor of it, to .npy and to .safetensors; a .npy to .safetensors.
	for _, c := range [][]string{
		{"-in", st, "-tensor", "b", "-out", filepath.Join(dir, "b.npy"), "-permute", "1,0"},
		{"-in", st, "-tensor", "a", "-out", filepath.Join(dir, "a.safetensors"), "-concat-dims", "3"},
		{"-in", npy, "-out", filepath.Join(dir, "n.safetensors"), "-permute", "-1,0,1"},
	} {
		r = runCmd(append([]string{"reshape"}, c...)...)
		assert.Equal(t, 0, r.code, "%v: %s", c, r.stderr)
	}
	f, err = tensorfile.Open(filepath.Join(dir, "b.npy"))
	require.NoError(t, err)
	assert.Equal(t, []int{5, 4}, f.Arrays[0].Shape)
	b, err := tensorfile.Tensor[int16](f.Arrays[0])
	require.NoError(t, err)
	assert.Equal(t, []int16{0, 5, 10, 15, 1, 6}, b.Data[:6])
	require.NoError(t, f.Close())
	f, err = tensorfile.Open(filepath.Join(dir, "a.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 24}, f.Arrays[0].Shape)
	assert.Equal(t, map[string]string{"format": "pt", "layer": "7"}, f.Metadata)
	require.NoError(t, f.Close())
	f, err = tensorfile.Open(filepath.Join(dir, "n.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, "acts", f.Arrays[0].Name)
	assert.Equal(t, []int{8, 3}, f.Arrays[0].Shape)
	require.NoError(t, f.Close())

	for p, sum := range sums {
		assert.Equal(t, sum, digest(t, p), "%s is unchanged", p)
	}
}

// TestProgressBar checks the bar is drawn on a terminal for a large
// conversion and never otherwise.
func TestProgressBar(t *testing.T) {
	dir := t.TempDir()
	in := writeNPY(t, dir, "in.npy", tensorfile.Float32, []int{64, 32, 16}, false)
	out := filepath.Join(dir, "out.npy")
	for _, c := range []struct {
		terminal bool
		min      int64
		bar      bool
	}{{true, 1, true}, {true, 1 << 30, false}, {false, 1, false}} {
		r := runWith(&cli{terminal: c.terminal, progressMin: c.min}, "reshape", "-in", in, "-out", out, "-permute", "2,1,0")
		require.Equal(t, 0, r.code, r.stderr)
		if c.bar {
			assert.Contains(t, r.stderr, "\r[")
			assert.Contains(t, r.stderr, "] 100% of 131072 bytes")
			assert.True(t, strings.HasSuffix(r.stderr, "\n"))
		} else {
			assert.Empty(t, r.stderr)
		}
	}
}

// TestInspect checks the listing of both formats.
func TestInspect(t *testing.T) {
	dir := t.TempDir()
	npy := writeNPY(t, dir, "f.npy", tensorfile.Int16, []int{2, 3, 4}, true)
	r := runCmd("inspect", npy)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, npy+`: npy 1.0, 1 tensor, 176 bytes
NAME  DTYPE  SHAPE    STRIDES  ORDER
-     int16  [2 3 4]  [1 2 6]  Fortran
`, r.stdout)

	st := writeST(t, dir, "s.safetensors")
	r = runCmd("inspect", st)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "safetensors, 3 tensors")
	assert.Contains(t, r.stdout, "a     float32   [2 3 4]  [12 4 1]  C")
	assert.Contains(t, r.stdout, "c     bfloat16  [3 2]    [2 1]     C")
	assert.Contains(t, r.stdout, "metadata:\n  format: pt\n  layer: 7\n")

	// Names that would break the table are quoted.
	var arrays []*tensorfile.Array
	for _, name := range []string{"a\nb", "tab\there", "", "plain name", `"q"`} {
		a, err := tensorfile.NewArray(name, tensorfile.Int16, []int{2}, false, ramp(tensorfile.Int16, 2))
		require.NoError(t, err)
		arrays = append(arrays, a)
	}
	odd := filepath.Join(dir, "odd.safetensors")
	require.NoError(t, tensorfile.Save(odd, map[string]string{"k\x1b": "v\x00w", "e": ""}, arrays...))
	r = runCmd("inspect", odd)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, odd+`: safetensors, 5 tensors, 372 bytes
NAME         DTYPE  SHAPE  STRIDES  ORDER
""           int16  [2]    [1]      C
"\"q\""      int16  [2]    [1]      C
"a\nb"       int16  [2]    [1]      C
plain name   int16  [2]    [1]      C
"tab\there"  int16  [2]    [1]      C
metadata:
  e: ""
  "k\x1b": "v\x00w"
`, r.stdout)
}

// TestReshapeViews runs -select, -slice and -pattern on the .safetensors
// input of writeST and checks the output against the same views made with
// the library, and that converting every tensor skips those that do not
// fit, with a note.
func TestReshapeViews(t *testing.T) {
	dir := t.TempDir()
	st := writeST(t, dir, "in.safetensors")
	f, err := tensorfile.Open(st)
	require.NoError(t, err)
	defer f.Close()
	a, err := f.Array("a") // [2,3,4] float32
	require.NoError(t, err)
	x, err := tensorfile.Tensor[float32](a)
	require.NoError(t, err)
	want := func(v reshape.Tensor[float32]) []float32 {
		out := make([]float32, v.Len())
		require.NoError(t, reshape.Contiguous(out, v))
		return out
	}
	read := func(path string) (*tensorfile.Array, []float32) {
		g, err := tensorfile.Open(path)
		require.NoError(t, err)
		t.Cleanup(func() { g.Close() })
		arr := g.Arrays[0]
		v, err := tensorfile.Tensor[float32](arr)
		require.NoError(t, err)
		return arr, want(v)
	}
	sel, _ := x.Select(1, 2)
	sl, _ := x.Slice(2, 3, -1, -2)
	pat, _ := reshape.Rearrange(x, "b p d -> d (b p)")
	perm, _ := x.Permute(2, 0, 1)
	for _, c := range []struct {
		args  []string
		shape []int
		data  []float32
	}{
		{[]string{"-select", "1=-1"}, []int{2, 4}, want(sel)},
		{[]string{"-slice", "2=::-2", "-concat-dims", "3"}, []int{1, 12}, want(sl)},
		{[]string{"-slice", "-1=10:-99:-2", "-concat-dims", "3"}, []int{1, 12}, want(sl)}, // clamped as NumPy clamps
		{[]string{"-pattern", "b p d -> d (b p)"}, []int{4, 6}, want(pat)},
		{[]string{"-pattern", "b p (d1 d2) -> d1 d2 b p", "-size", "d1=2"}, []int{2, 2, 2, 3}, want(perm)},
	} {
		out := filepath.Join(dir, "out.npy")
		r := runCmd(append([]string{"reshape", "-in", st, "-tensor", "a", "-out", out}, c.args...)...)
		require.Equal(t, 0, r.code, "%v: %s", c.args, r.stderr)
		arr, got := read(out)
		require.Equal(t, c.shape, arr.Shape, "%v", c.args)
		require.Equal(t, c.data, got, "%v", c.args)
	}

	// Every tensor: "a" fits "x y z -> (x y) z", "b" and "c" (rank 2) do not.
	out := filepath.Join(dir, "all.safetensors")
	r := runCmd("reshape", "-in", st, "-out", out, "-pattern", "x y z -> (x y) z")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, `skipped tensor "b" of shape [4 5]: reshape: invalid pattern: "x y z -> (x y) z" has 3 axes on the left, the tensor has rank 2`)
	assert.Contains(t, r.stderr, `skipped tensor "c" of shape [3 2]`)
	assert.Equal(t, out+` "a": float32 [6 4]`+"\n", r.stdout)
}

// TestLongShapeCut gives the command a tensor of 100000 axes that the flags
// do not fit: its one-line error must list a few extents and the count, not
// all of them.
func TestLongShapeCut(t *testing.T) {
	dir := t.TempDir()
	shape := strings.TrimSuffix(strings.Repeat("1,", 100000), ",")
	header := `{"t":{"dtype":"F32","shape":[` + shape + `],"data_offsets":[0,4]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	in := filepath.Join(dir, "in.safetensors")
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(append(b, header...), 0, 0, 128, 63)
	require.NoError(t, os.WriteFile(in, b, 0o644))
	r := runCmd("reshape", "-in", in, "-out", filepath.Join(dir, "out.npy"), "-tensor", "t", "-permute", "1,0")
	assert.Equal(t, 1, r.code)
	assert.Less(t, len(r.stderr), 500, "the error is one short line")
	assert.Contains(t, r.stderr, "(100000 axes)")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"))

	long := strings.Repeat("x ", 10000)
	line := oneLine(long)
	assert.Less(t, len(line), maxLine+100)
	assert.True(t, strings.HasSuffix(line, "more bytes)"), line[len(line)-40:])
	assert.Equal(t, "[1 2 3]", shapeString([]int{1, 2, 3}))
}

// TestMetadataNamedInput converts a .npy input named __metadata__.npy, and
// one whose name is not UTF-8, to .safetensors: the tensor is named after
// the file, which safetensors cannot hold; the command must say so and
// what to do, and write nothing.
func TestMetadataNamedInput(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"__metadata__.npy", "\xff.npy"} {
		in := writeNPY(t, dir, name, tensorfile.Float32, []int{2, 3}, false)
		r := runCmd("reshape", "-in", in, "-out", filepath.Join(dir, "out.safetensors"))
		assert.Equal(t, 1, r.code, name)
		assert.Contains(t, r.stderr, "cannot name a .safetensors tensor", name)
		assert.Contains(t, r.stderr, "rename the input, or write a .npy output", name)
		assert.NotContains(t, files(t, dir), "out.safetensors")
		require.NoError(t, os.Remove(in))
	}
	// A .npy output needs no name.
	in := writeNPY(t, dir, "__metadata__.npy", tensorfile.Float32, []int{2, 3}, false)
	r := runCmd("reshape", "-in", in, "-out", filepath.Join(dir, "out.npy"))
	assert.Equal(t, 0, r.code, r.stderr)
}
