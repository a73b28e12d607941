package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/tensorfile"
)

// captures writes n .npy inputs cap00.npy... of shape [2+k%3, 3, 4] float32
// (so their row counts differ) and returns their paths in order.
func captures(t *testing.T, dir string, n int) []string {
	t.Helper()
	var paths []string
	for k := range n {
		shape := []int{2 + k%3, 3, 4}
		count := shape[0] * 12
		data := make([]byte, 0, 4*count)
		for i := range count {
			data = append(data, f32(float32(1000*k+i))...)
		}
		a, err := tensorfile.NewArray("", tensorfile.Float32, shape, false, data)
		require.NoError(t, err)
		path := filepath.Join(dir, fmt.Sprintf("cap%02d.npy", k))
		require.NoError(t, tensorfile.Save(path, nil, a))
		paths = append(paths, path)
	}
	return paths
}

// singleResults reshapes each input alone, with the one-file command, and
// returns the concatenation of the results' bytes: what gathering them must
// give.
func singleResults(t *testing.T, dir string, inputs []string, flags ...string) []byte {
	t.Helper()
	var all []byte
	for k, in := range inputs {
		out := filepath.Join(dir, fmt.Sprintf("single%02d.npy", k))
		r := runCmd(append([]string{"reshape", "-in", in, "-out", out}, flags...)...)
		require.Equal(t, 0, r.code, r.stderr)
		f, err := tensorfile.Open(out)
		require.NoError(t, err)
		all = append(all, f.Arrays[0].Bytes()...)
		require.NoError(t, f.Close())
		require.NoError(t, os.Remove(out))
	}
	return all
}

// readMatrix returns the bytes of the one tensor of a file, or of every
// shard of an index in order, and the shape they make together.
func readMatrix(t *testing.T, path string) ([]byte, []int) {
	t.Helper()
	paths := []string{path}
	if strings.HasSuffix(path, ".index.json") {
		idx, err := tensorfile.ReadIndex(path)
		require.NoError(t, err)
		paths = nil
		for _, rel := range idx.Files() {
			paths = append(paths, filepath.Join(filepath.Dir(path), rel))
		}
	}
	var all []byte
	shape := []int{0, 0}
	for _, p := range paths {
		f, err := tensorfile.Open(p)
		require.NoError(t, err)
		require.Len(t, f.Arrays, 1, p)
		a := f.Arrays[0]
		require.Len(t, a.Shape, 2, p)
		shape[0] += a.Shape[0]
		shape[1] = a.Shape[1]
		all = append(all, a.Bytes()...)
		require.NoError(t, f.Close())
	}
	return all, shape
}

// TestGather gathers 20 inputs, named one by one and by a glob, into one
// .npy, one .safetensors and shards, and checks each equals the
// concatenation of the inputs reshaped one at a time.
func TestGather(t *testing.T) {
	dir := t.TempDir()
	in := captures(t, dir, 20)
	flags := []string{"-permute", "0,2,1", "-concat-dims", "2"}
	want := singleResults(t, dir, in, flags...)
	byName := []string{}
	for _, p := range in {
		byName = append(byName, "-in", p)
	}
	glob := []string{"-in", filepath.Join(dir, "cap1*.npy"), "-in", filepath.Join(dir, "cap0?.npy")} // order: the -in order, each glob sorted
	globWant := append(append([]byte{}, want[len(singleResults(t, dir, in[:10], flags...)):]...), singleResults(t, dir, in[:10], flags...)...)
	out := filepath.Join(dir, "out")
	require.NoError(t, os.Mkdir(out, 0o755))
	for _, c := range []struct {
		name string
		in   []string
		more []string
		read string
		want []byte
	}{
		{"names.npy", byName, nil, "names.npy", want},
		{"glob.npy", glob, nil, "glob.npy", globWant},
		{"one.safetensors", byName, nil, "one.safetensors", want},
		{"sh.safetensors", byName, []string{"-shard-size", "600"}, "sh.safetensors.index.json", want},
	} {
		args := append(append([]string{"reshape", "-out", filepath.Join(out, c.name)}, c.in...), append(flags, c.more...)...)
		r := runCmd(args...)
		require.Equal(t, 0, r.code, "%s: %s", c.name, r.stderr)
		assert.Empty(t, r.stderr)
		assert.Contains(t, r.stdout, "from 20 files", c.name)
		got, shape := readMatrix(t, filepath.Join(out, c.read))
		assert.Equal(t, c.want, got, c.name)
		assert.Equal(t, []int{len(c.want) / 4 / 12, 12}, shape, c.name)
	}
	idx, err := tensorfile.ReadIndex(filepath.Join(out, "sh.safetensors.index.json"))
	require.NoError(t, err)
	assert.Greater(t, len(idx.Files()), 3, "600-byte shards of %d bytes", len(want))
	for _, e := range files(t, out) {
		assert.False(t, strings.HasPrefix(e, "."), "temporary file %s", e)
	}
}

// TestGatherMismatch checks that the first input whose features or dtype
// differ fails the run, named, before anything is written; -dtype makes
// every input one dtype.
func TestGatherMismatch(t *testing.T) {
	dir := t.TempDir()
	a := writeNPY(t, dir, "a.npy", tensorfile.Float32, []int{2, 3, 4}, false)
	b := writeNPY(t, dir, "b.npy", tensorfile.Float32, []int{5, 4}, false)
	c := writeNPY(t, dir, "c.npy", tensorfile.Float32, []int{2, 5}, false)
	d := writeNPY(t, dir, "d.npy", tensorfile.Int16, []int{3, 4}, false)
	out := filepath.Join(dir, "out.npy")

	r := runCmd("reshape", "-in", a, "-in", b, "-in", c, "-in", d, "-out", out)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, fmt.Sprintf("stridekit reshape: %s: 5 features, where %s has 4: every input must give the same features\n", c, a), r.stderr)
	assert.NoFileExists(t, out)

	r = runCmd("reshape", "-in", a, "-in", b, "-in", d, "-out", out)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, d+": int16, where "+a+" is float32: give -dtype")
	assert.NoFileExists(t, out)

	r = runCmd("reshape", "-in", a, "-in", b, "-in", d, "-out", out, "-dtype", "float64")
	require.Equal(t, 0, r.code, r.stderr)
	f, err := tensorfile.Open(out)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, tensorfile.Float64, f.Arrays[0].DType)
	assert.Equal(t, []int{6 + 5 + 3, 4}, f.Arrays[0].Shape)

	// A safetensors input of several tensors needs -tensor; -tensor picks
	// the same name in every input.
	st := writeST(t, dir, "s.safetensors")
	r = runCmd("reshape", "-in", st, "-in", st, "-out", filepath.Join(dir, "s.npy"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, st+" holds 3 tensors: pick one with -tensor NAME")
	r = runCmd("reshape", "-in", st, "-in", a, "-out", filepath.Join(dir, "s.npy"), "-tensor", "a")
	require.Equal(t, 0, r.code, r.stderr)
	r = runCmd("reshape", "-in", filepath.Join(dir, "none*.npy"), "-out", filepath.Join(dir, "n.npy"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "matches no file")
	r = runCmd("reshape", "-in", a, "-in", out, "-out", out)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "is one of the inputs")

	// A write that fails names the output, not the input being appended.
	missing := filepath.Join(dir, "no", "such", "dir", "o.npy")
	r = runCmd("reshape", "-in", a, "-in", b, "-out", missing)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, fmt.Sprintf("stridekit reshape: create %s: no such file or directory (%s was not written)\n", missing, missing), r.stderr)
}

// TestGatherUsage checks the flags of gathering that are refused.
func TestGatherUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-in", "a.npy", "-in", "b.npy", "-out", "x.npy", "-shard-size", "1GiB"}, "-shard-size: shards are .safetensors files"},
		{[]string{"-in", "a.npy", "-out", "x.safetensors", "-shard-size", "big"}, `want a size such as 2GiB, 500MB or 1048576, got "big"`},
		{[]string{"-in", "a.npy", "-out", "x.safetensors", "-shard-size", "0"}, "want a size"},
		{[]string{"-in", "a.npy", "-out", "x.npy", "-part", "3/3"}, `"3/3": I counts from 0 and must be below N (0..2)`},
		{[]string{"-in", "a.npy", "-out", "x.npy", "-part", "1/0"}, "N must be at least 1"},
		{[]string{"-in", "a.npy", "-out", "x.npy", "-part", "-1/4"}, "I counts from 0"},
		{[]string{"-in", "a.npy", "-out", "x.npy", "-part", "2"}, `want I/N, such as 3/8, got "2"`},
	} {
		r := runCmd(append([]string{"reshape"}, c.args...)...)
		assert.Equal(t, 2, r.code, "%v", c.args)
		assert.Contains(t, r.stderr, c.msg, "%v", c.args)
	}
	for v, want := range map[string]int64{"2GiB": 2 << 30, "500MB": 500e6, "1048576": 1 << 20, "1.5KiB": 1536, "5GB": 5e9, "3 MiB": 3 << 20, "10kB": 1e4} {
		got, err := parseByteSize(v)
		require.NoError(t, err, v)
		assert.Equal(t, want, got, v)
	}
}

// TestPartSpan checks the -part slices for n = 1..7 over 0..50 inputs:
// disjoint, in order, covering every input, of sizes differing by at most
// one.
func TestPartSpan(t *testing.T) {
	for n := 1; n <= 7; n++ {
		for count := 0; count <= 50; count++ {
			next, smallest, largest := 0, count, 0
			for i := range n {
				lo, hi := jobPart{i, n}.span(count)
				require.Equal(t, next, lo, "n=%d count=%d part %d starts where the last ended", n, count, i)
				require.LessOrEqual(t, lo, hi, "n=%d count=%d part %d", n, count, i)
				next = hi
				smallest, largest = min(smallest, hi-lo), max(largest, hi-lo)
			}
			require.Equal(t, count, next, "n=%d count=%d: the parts cover every input", n, count)
			require.LessOrEqual(t, largest-smallest, 1, "n=%d count=%d: balanced", n, count)
		}
	}
	lo, hi := jobPart{}.span(9)
	assert.Equal(t, [2]int{0, 9}, [2]int{lo, hi}, "no -part: everything")
}

// TestParts runs a job as n machines would, for several n, over 11
// inputs: each part alone, then one index over the parts; the rows of the
// parts in index order are those of one run over all inputs, and no part
// is written twice.
func TestParts(t *testing.T) {
	dir := t.TempDir()
	in := captures(t, dir, 11)
	glob := filepath.Join(dir, "cap*.npy")
	want := singleResults(t, dir, in)
	for _, n := range []int{1, 2, 3, 7, 13} {
		sub := filepath.Join(dir, fmt.Sprint(n))
		require.NoError(t, os.Mkdir(sub, 0o755))
		var parts []string
		for i := range n {
			out := filepath.Join(sub, fmt.Sprintf("part-%02d.safetensors", i))
			r := runCmd("reshape", "-in", glob, "-out", out, "-part", fmt.Sprintf("%d/%d", i, n))
			require.Equal(t, 0, r.code, r.stderr)
			if lo, hi := (jobPart{i, n}).span(11); lo == hi {
				assert.Contains(t, r.stdout, "has no inputs")
				continue
			}
			parts = append(parts, out)
		}
		index := filepath.Join(sub, "all.safetensors.index.json")
		r := runCmd(append([]string{"index", "-out", index}, parts...)...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, fmt.Sprintf("%s: %d tensors in %d files, %s\n", index, len(parts), len(parts), mib(int64(len(want)))), r.stdout)
		got, shape := readMatrix(t, index)
		assert.Equal(t, want, got, "n=%d", n)
		assert.Equal(t, 4, shape[1])
	}
}

// TestIndexCommand checks that index takes a sharded part by its own
// index, and refuses repeated tensor names and bad arguments.
func TestIndexCommand(t *testing.T) {
	dir := t.TempDir()
	in := captures(t, dir, 4)
	glob := filepath.Join(dir, "cap*.npy")
	p0 := filepath.Join(dir, "p0.safetensors")
	p1 := filepath.Join(dir, "p1.safetensors")
	require.Equal(t, 0, runCmd("reshape", "-in", glob, "-out", p0, "-part", "0/2", "-shard-size", "300").code)
	require.Equal(t, 0, runCmd("reshape", "-in", glob, "-out", p1, "-part", "1/2").code)
	index := filepath.Join(dir, "all.index.json")
	r := runCmd("index", "-out", index, tensorfile.IndexName(p0), p1)
	require.Equal(t, 0, r.code, r.stderr)
	got, _ := readMatrix(t, index)
	assert.Equal(t, singleResults(t, dir, in), got)

	r = runCmd("index", "-out", filepath.Join(dir, "dup.json"), p1, p1)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `tensor "activations.part-00001" is in both`)
	assert.NoFileExists(t, filepath.Join(dir, "dup.json"))
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{p1}, "-out is required"},
		{[]string{"-out", index}, "no .safetensors files to index"},
		{[]string{"-out", p1, p1}, "is one of the files to index"},
	} {
		r := runCmd(append([]string{"index"}, c.args...)...)
		assert.Equal(t, 2, r.code, "%v", c.args)
		assert.Contains(t, r.stderr, c.msg, "%v", c.args)
		assert.Contains(t, r.stderr, "usage: stridekit index", "%v", c.args)
	}
}

// TestResumeAfterKill runs a sharded gather in a child process, kills it
// (SIGKILL: nothing is cleaned up) part-way, after some shards are
// complete, then reruns with -resume: the run completes the output, and a
// third run finds it complete and skips it without touching it.
func TestResumeAfterKill(t *testing.T) {
	if os.Getenv("STRIDEKIT_KILL_CHILD") == "1" {
		c := newCLI(signalContext(), os.Stdout, os.Stderr)
		c.afterInput = func(k int) {
			if k == 12 {
				fmt.Println("ready")
				select {} // wait to be killed
			}
		}
		os.Exit(c.run(strings.Fields(os.Getenv("STRIDEKIT_KILL_ARGS"))))
	}
	dir := t.TempDir()
	in := captures(t, dir, 20)
	out := filepath.Join(dir, "out", "sh.safetensors")
	require.NoError(t, os.Mkdir(filepath.Dir(out), 0o755))
	args := []string{"reshape", "-in", filepath.Join(dir, "cap*.npy"), "-out", out, "-shard-size", "1000", "-resume"}

	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeAfterKill$")
	cmd.Env = append(os.Environ(), "STRIDEKIT_KILL_CHILD=1", "STRIDEKIT_KILL_ARGS="+strings.Join(args, " "))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait() // stderr is the child's until it has ended
	require.Equal(t, "ready\n", line, stderr.String())

	left := files(t, filepath.Dir(out))
	assert.NotEmpty(t, left, "some shards were complete when killed")
	assert.NotContains(t, left, "sh.safetensors.index.json", "no index: the output is incomplete")
	for _, name := range left {
		assert.False(t, strings.HasPrefix(name, "."), "a named temporary file %s survived kill -9", name)
	}

	r := runCmd(args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "from 20 files")
	got, _ := readMatrix(t, tensorfile.IndexName(out))
	assert.Equal(t, singleResults(t, dir, in), got)

	before := map[string][32]byte{}
	for _, name := range files(t, filepath.Dir(out)) {
		before[name] = digest(t, filepath.Join(filepath.Dir(out), name))
	}
	r = runCmd(args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "complete (")
	assert.Contains(t, r.stdout, "skipped (-resume)")
	for name, d := range before {
		assert.Equal(t, d, digest(t, filepath.Join(filepath.Dir(out), name)), name)
	}
	assert.Len(t, files(t, filepath.Dir(out)), len(before))
}

// TestGatherProgress checks the bar of a gathering run counts the whole
// job, and that the bar shows the rate and the time left once it has them.
func TestGatherProgress(t *testing.T) {
	dir := t.TempDir()
	captures(t, dir, 5)
	r := runWith(&cli{terminal: true, progressMin: 1}, "reshape", "-in", filepath.Join(dir, "cap*.npy"), "-out", filepath.Join(dir, "o.npy"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("] 100%% of %d bytes", (2+3+4+2+3)*12*4))

	var b bytes.Buffer
	p := &progress{c: &cli{stderr: &b}, show: true, total: 300 << 20, done: 100 << 20, start: time.Now().Add(-2 * time.Second)}
	p.draw()
	assert.Regexp(t, `\] +33% of 300\.0 MiB, 100\.0 MiB done, 5\d\.\d MiB/s, ETA [34]s`, b.String())
}

// TestOpaqueCommand reshapes F8_E4M3, F8_E5M2 and BOOL tensors: the output
// keeps each dtype and the bytes move as they are; an 8-bit float has no
// .npy form, and -dtype does not convert it.
func TestOpaqueCommand(t *testing.T) {
	dir := t.TempDir()
	var arrays []*tensorfile.Array
	data := make([]byte, 24)
	for i := range data {
		data[i] = byte(11 * i)
	}
	for _, dt := range tensorfile.OpaqueDTypes() {
		a, err := tensorfile.NewArray(dt.Safetensors(), dt, []int{2, 3, 4}, false, data)
		require.NoError(t, err)
		arrays = append(arrays, a)
	}
	in := filepath.Join(dir, "q.safetensors")
	require.NoError(t, tensorfile.Save(in, nil, arrays...))
	out := filepath.Join(dir, "o.safetensors")
	r := runCmd("reshape", "-in", in, "-out", out, "-permute", "1,0,2")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	f, err := tensorfile.Open(out)
	require.NoError(t, err)
	defer f.Close()
	require.Len(t, f.Arrays, 3)
	var want []byte
	for j := range 3 {
		for i := range 2 {
			want = append(want, data[i*12+j*4:i*12+j*4+4]...)
		}
	}
	for _, a := range f.Arrays {
		assert.Equal(t, a.Name, a.DType.Safetensors(), "the dtype is kept")
		assert.Equal(t, []int{6, 4}, a.Shape)
		assert.Equal(t, want, a.Bytes(), a.Name)
	}
	r = runCmd("reshape", "-in", in, "-tensor", "F8_E4M3", "-out", filepath.Join(dir, "o.npy"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "NumPy has no float8_e4m3fn")
	r = runCmd("reshape", "-in", in, "-tensor", "F8_E5M2", "-out", filepath.Join(dir, "o2.safetensors"), "-dtype", "float32")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "converts to no other dtype")
	r = runCmd("reshape", "-in", in, "-tensor", "BOOL", "-out", filepath.Join(dir, "b.npy"))
	require.Equal(t, 0, r.code, r.stderr)
}
