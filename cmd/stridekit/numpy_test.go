package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// python is Debian's interpreter, which has python3-numpy; another python3
// may come first on PATH.
const python = "/usr/bin/python3"

// needNumPy skips the test when NumPy cannot be imported, or fails it when
// CI=true: CI installs python3-numpy, so its absence there is a broken setup
// that must not pass as a skip.
func needNumPy(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import numpy; print(numpy.__version__)").CombinedOutput()
	if err == nil {
		t.Logf("NumPy %s", strings.TrimSpace(string(out)))
		return
	}
	msg := fmt.Sprintf("NumPy interop needs %s with numpy (Debian: apt-get install python3-numpy): %v: %s", python, err, strings.TrimSpace(string(out)))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// interopMake writes, with NumPy, one array of every dtype stridekit reads
// in C and in Fortran order, and two .safetensors files written by hand
// from NumPy bytes with one tensor of every safetensors dtype and
// __metadata__: "tensors.safetensors", whose header has an odd length so
// that no tensor's data is aligned, and "aligned.safetensors", padded as
// the reference implementation pads it. BF16, which NumPy lacks, is the top
// 16 bits of float32 values, saved for the checker as uint16 bit patterns.
// It prints the list of .npy files and the tensors' names and dtypes as
// JSON.
const interopMake = `
import json, struct, sys
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(20261127)
shape = (3, 4, 5, 6)

def random(dt):
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)

files = []
for code in ["f2", "f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8"]:
    x = random(np.dtype("<" + code))
    for order in ["C", "F"]:
        path = f"{out}/{code}_{order}.npy"
        y = np.asfortranarray(x) if order == "F" else np.ascontiguousarray(x)
        assert y.flags[order + "_CONTIGUOUS"]
        np.save(path, y)
        files.append(path)

# One tensor of every safetensors dtype; x is what the checker reads as the
# source (for BF16, the uint16 bit patterns).
tensors = {}
for st, code in [("F64", "f8"), ("I64", "i8"), ("U64", "u8"), ("F32", "f4"), ("I32", "i4"), ("U32", "u4"),
                 ("BF16", None), ("F16", "f2"), ("I16", "i2"), ("U16", "u2"), ("I8", "i1"), ("U8", "u1")]:
    if st == "BF16":
        f = (rng.standard_normal(shape) * 100).astype("<f4")
        x = (f.view("<u4") >> 16).astype("<u2")
    else:
        x = random(np.dtype("<" + code) if code[1] != "1" else np.dtype("|" + code))
    name = st.lower()
    np.save(f"{out}/st_{name}.npy", x)
    tensors[name] = (st, x)

def write(path, odd):
    header, blobs, off = {"__metadata__": {"source": "numpy"}}, [], 0
    for name, (st, x) in tensors.items():  # larger elements first: all aligned
        b = x.tobytes(order="C")
        header[name] = {"dtype": st, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    if odd:
        if len(h) % 2 == 0:
            h += b" "  # an odd header length: no tensor's data is aligned
    else:
        h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

write(f"{out}/tensors.safetensors", True)
write(f"{out}/aligned.safetensors", False)
print(json.dumps({"npy": files, "tensors": {name: st for name, (st, x) in tensors.items()}}))
`

// interopCheck reads the cases stridekit ran and checks each output equals
// np.ascontiguousarray(x.transpose(perm)).reshape(rows, cols) exactly, bit
// for bit, with the same dtype (BF16 as its uint16 bit patterns). A
// .safetensors output is read with the json module and numpy.frombuffer:
// its __metadata__ must be the input's, its dtypes the input's, and the
// data of its tensors must tile the file after the header. An "all" case
// converted every tensor of a .safetensors file into one output, which
// must hold each of them and nothing else.
const interopCheck = `
import json, struct, sys
import numpy as np

NP = {"F16": "<f2", "BF16": "<u2", "F32": "<f4", "F64": "<f8", "I8": "i1", "U8": "u1",
      "I16": "<i2", "U16": "<u2", "I32": "<i4", "U32": "<u4", "I64": "<i8", "U64": "<u8"}

def read_safetensors(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    data = b[8 + n:]
    meta = h.pop("__metadata__", None)
    spans = sorted(tuple(e["data_offsets"]) for e in h.values())
    at = 0
    for lo, hi in spans:
        assert lo == at, f"{path}: data gap or overlap at {lo}"
        at = hi
    assert at == len(data), f"{path}: tensors end at {at}, data is {len(data)} bytes"
    arrays = {}
    for name, e in h.items():
        lo, hi = e["data_offsets"]
        arrays[name] = (e["dtype"], np.frombuffer(data[lo:hi], dtype=NP[e["dtype"]]).reshape(e["shape"]))
    return arrays, meta

def convert(x, src, dt):
    # NumPy's own conversion; BF16, which NumPy lacks, widened from its
    # uint16 bit patterns (the top half of a float32).
    if dt is None:
        return x
    if src == "BF16":
        x = (x.astype(np.uint32) << 16).view(np.float32)
    return x.astype(dt)

def expected(source, perm, k, src=None, dt=None):
    x = convert(np.load(source), src, dt)
    perm = perm if perm is not None else list(range(x.ndim))
    v = x.transpose(perm)
    rows = int(np.prod(v.shape[:v.ndim - k], dtype=np.int64))
    cols = int(np.prod(v.shape[v.ndim - k:], dtype=np.int64))
    return np.ascontiguousarray(v).reshape(rows, cols)

def same(got, want):
    return (got.dtype == want.dtype and got.shape == want.shape and got.flags["C_CONTIGUOUS"]
            and got.tobytes() == want.tobytes())

bad = 0
cases = json.load(open(sys.argv[1]))
checked = 0
for c in cases:
    try:
        if c.get("np"):  # a pattern or selection, as NumPy writes it
            x = np.load(c["source"])
            want = np.ascontiguousarray(eval(c["np"], {"np": np, "x": x}))
            got = np.load(c["out"])
            assert same(got, want), f"got {got.dtype} {got.shape}, want {want.dtype} {want.shape}"
            checked += 1
            continue
        if c["out"].endswith(".npy"):
            want = expected(c["source"], c["perm"], c["concat"], c.get("src"), c.get("dtype"))
            got = np.load(c["out"])
            assert same(got, want), f"got {got.dtype} {got.shape}, want {want.dtype} {want.shape}"
            checked += 1
            continue
        arrays, meta = read_safetensors(c["out"])
        assert meta == {"source": "numpy"}, f"metadata {meta}"
        want_names = sorted(c["sources"])
        assert sorted(arrays) == want_names, f"tensors {sorted(arrays)}, want {want_names}"
        for name, source in c["sources"].items():
            st, got = arrays[name]
            assert st == c["dtypes"][name], f"{name}: dtype {st}, want {c['dtypes'][name]}"
            want = expected(source, c["perm"], c["concat"], c.get("src"), c.get("dtype"))
            assert same(got, want), f"{name}: got {got.dtype} {got.shape}, want {want.dtype} {want.shape}"
            checked += 1
    except Exception as e:  # a mismatch, or an output that cannot be read
        bad += 1
        print("MISMATCH", c["out"], type(e).__name__, e)
print(f"{len(cases) - bad} passed, {bad} failed ({checked} tensors checked)")
sys.exit(1 if bad else 0)
`

// interopCase is one run of the command that NumPy checks.
type interopCase struct {
	In     string `json:"in"`     // the file stridekit reads
	Tensor string `json:"tensor"` // -tensor, for one tensor of a .safetensors input
	Out    string `json:"out"`
	Perm   []int  `json:"perm"`
	Concat int    `json:"concat"`
	// Source is the .npy NumPy reads as x, for a .npy output.
	Source string `json:"source,omitempty"`
	// Sources and DTypes give, for a .safetensors output, the .npy NumPy
	// reads as x and the safetensors dtype of each tensor it must hold.
	Sources map[string]string `json:"sources,omitempty"`
	DTypes  map[string]string `json:"dtypes,omitempty"`
	// DType is -dtype, which NumPy's astype must match; Src is the
	// source's safetensors dtype (BF16 is widened from its bits).
	DType string `json:"dtype,omitempty"`
	Src   string `json:"src,omitempty"`
	// Args are more flags (-pattern, -select, -slice) and NP the NumPy
	// expression of x that the output must equal.
	Args []string `json:"args,omitempty"`
	NP   string   `json:"np,omitempty"`
}

// TestNumPyInterop has NumPy write arrays of every dtype in both orders and
// .safetensors files of every dtype, runs stridekit reshape on them with
// several -permute and -concat-dims (one tensor, and every tensor at once),
// and has NumPy check every output.
func TestNumPyInterop(t *testing.T) {
	needNumPy(t)
	dir := t.TempDir()
	out, err := exec.Command(python, "-c", interopMake, dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var made struct {
		NPY     []string          `json:"npy"`
		Tensors map[string]string `json:"tensors"` // name: safetensors dtype
	}
	require.NoError(t, json.Unmarshal(out, &made), "%s", out)
	require.Len(t, made.NPY, 22)
	require.Len(t, made.Tensors, 12)

	choices := []struct {
		perm   []int
		concat int
	}{
		{nil, 1}, {nil, 3}, {[]int{0, 2, 1, 3}, 2}, {[]int{3, 2, 1, 0}, 1},
		{[]int{1, 3, 0, 2}, 4}, {[]int{2, 0, 3, 1}, 2}, {[]int{-1, 0, 1, 2}, 3},
	}
	source := func(name string) string { return filepath.Join(dir, "st_"+name+".npy") }
	var cases []interopCase
	for _, src := range made.NPY {
		for i, ch := range choices {
			cases = append(cases, interopCase{Source: src, In: src, Perm: ch.perm, Concat: ch.concat,
				Out: filepath.Join(dir, fmt.Sprintf("out_%s_%d.npy", strings.TrimSuffix(filepath.Base(src), ".npy"), i))})
		}
	}
	for _, in := range []string{"tensors", "aligned"} {
		inPath := filepath.Join(dir, in+".safetensors")
		for i, ch := range choices {
			for name, dt := range made.Tensors {
				for _, ext := range []string{".npy", ".safetensors"} {
					c := interopCase{In: inPath, Tensor: name, Perm: ch.perm, Concat: ch.concat,
						Out: filepath.Join(dir, fmt.Sprintf("out_%s_%s_%d%s", in, name, i, ext))}
					if ext == ".npy" {
						if dt == "BF16" {
							continue // .npy has no bfloat16: an error, tested elsewhere
						}
						c.Source = source(name)
					} else {
						c.Sources, c.DTypes = map[string]string{name: source(name)}, map[string]string{name: dt}
					}
					cases = append(cases, c)
				}
			}
			all := interopCase{In: inPath, Perm: ch.perm, Concat: ch.concat, Sources: map[string]string{}, DTypes: made.Tensors,
				Out: filepath.Join(dir, fmt.Sprintf("out_%s_all_%d.safetensors", in, i))}
			for name := range made.Tensors {
				all.Sources[name] = source(name)
			}
			cases = append(cases, all)
		}
	}
	// Converting while reshaping: bfloat16 and float16 captures to float32
	// .npy, and the other specialised pairs and a generic one, against
	// NumPy's astype (no float to integer: NumPy leaves overflow undefined).
	conversions := []struct{ name, dtype, st string }{
		{"bf16", "float32", "F32"}, {"bf16", "float16", "F16"}, {"f16", "float32", "F32"}, {"f32", "float16", "F16"},
		{"f32", "float64", "F64"}, {"f64", "float32", "F32"}, {"i8", "float32", "F32"}, {"u8", "float32", "F32"},
		{"i16", "float32", "F32"}, {"i32", "float64", "F64"}, {"u16", "float16", "F16"},
	}
	for i, ch := range choices {
		for _, cv := range conversions {
			in := filepath.Join(dir, "tensors.safetensors")
			src := made.Tensors[cv.name]
			cases = append(cases,
				interopCase{In: in, Tensor: cv.name, Perm: ch.perm, Concat: ch.concat, DType: cv.dtype, Src: src,
					Source: source(cv.name), Out: filepath.Join(dir, fmt.Sprintf("conv_%s_%s_%d.npy", cv.name, cv.dtype, i))},
				interopCase{In: in, Tensor: cv.name, Perm: ch.perm, Concat: ch.concat, DType: cv.dtype, Src: src,
					Sources: map[string]string{cv.name: source(cv.name)}, DTypes: map[string]string{cv.name: cv.st},
					Out: filepath.Join(dir, fmt.Sprintf("conv_%s_%s_%d.safetensors", cv.name, cv.dtype, i))})
		}
	}
	// Patterns, selections and slices, on a .npy of shape (3, 4, 5, 6).
	views := []struct {
		args []string
		np   string
	}{
		{[]string{"-pattern", "a b c d -> (a c) (b d)"}, "x.transpose(0, 2, 1, 3).reshape(15, 24)"},
		{[]string{"-pattern", "a b c d -> d (a b c)"}, "x.transpose(3, 0, 1, 2).reshape(6, 60)"},
		{[]string{"-pattern", "a b c (d1 d2) -> d2 (a b) c d1", "-size", "d1=2"}, "x.reshape(3, 4, 5, 2, 3).transpose(4, 0, 1, 2, 3).reshape(3, 12, 5, 2)"},
		{[]string{"-pattern", "... d -> (...) d"}, "x.reshape(60, 6)"},
		{[]string{"-pattern", "a ... d -> d ... a"}, "x.transpose(3, 1, 2, 0)"},
		{[]string{"-select", "1=-1", "-concat-dims", "2"}, "x[:, -1].reshape(3, 30)"},
		{[]string{"-slice", "2=-2:", "-slice", "3=::-2", "-permute", "3,0,1,2"}, "x[:, :, -2:, ::-2].transpose(3, 0, 1, 2).reshape(36, 2)"},
		{[]string{"-slice", "0=-100:100:2", "-select", "2=0", "-pattern", "a b d -> (d b) a"}, "x[-100:100:2, :, 0].transpose(2, 1, 0).reshape(24, 2)"},
	}
	for i, v := range views {
		src := made.NPY[2] // f4 in C order
		cases = append(cases, interopCase{In: src, Source: src, Args: v.args, NP: v.np,
			Out: filepath.Join(dir, fmt.Sprintf("view_%d.npy", i))})
	}
	for _, c := range cases {
		args := []string{"reshape", "-in", c.In, "-out", c.Out}
		if c.Args != nil {
			args = append(args, c.Args...)
		} else {
			args = append(args, "-concat-dims", fmt.Sprint(c.Concat))
		}
		if c.DType != "" {
			args = append(args, "-dtype", c.DType)
		}
		if c.Perm != nil {
			args = append(args, "-permute", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(c.Perm)), ","), "[]"))
		}
		if c.Tensor != "" {
			args = append(args, "-tensor", c.Tensor)
		}
		r := runCmd(args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		require.Empty(t, r.stderr, "%v", args)
	}
	manifest := filepath.Join(dir, "cases.json")
	b, err := json.Marshal(cases)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(manifest, b, 0o644))
	out, err = exec.Command(python, "-c", interopCheck, manifest).CombinedOutput()
	require.NoError(t, err, "NumPy disagrees:\n%s", out)
	t.Logf("NumPy: %s", strings.TrimSpace(string(out)))
}

// gatherMake has NumPy write 20 captures cap00.npy... of shape
// (rows, 4, 16) float32, rows from 3 to 8, and print the total rows.
const gatherMake = `
import sys
import numpy as np
rng = np.random.default_rng(20261202)
total = 0
for k in range(20):
    rows = 3 + (k * 7) % 6
    np.save(f"{sys.argv[1]}/cap{k:02d}.npy", rng.standard_normal((rows, 4, 16)).astype("<f4"))
    total += rows
print(total)
`

// gatherCheck checks the gathered outputs against np.concatenate of the
// per-file reshapes: the .npy byte for byte as np.save writes the expected
// array, and the shards, read through their index in the order of the
// tensor names, as exactly three files whose rows concatenate to it.
const gatherCheck = `
import glob, json, os, struct, sys, io
import numpy as np
d = sys.argv[1]
want = np.concatenate([np.ascontiguousarray(np.load(f).transpose(0, 2, 1)).reshape(-1, 64)
                       for f in sorted(glob.glob(f"{d}/cap*.npy"))])
got = np.load(f"{d}/all.npy")
assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.shape)
assert got.tobytes() == want.tobytes(), "all.npy differs"
b = io.BytesIO()
np.save(b, want)
assert open(f"{d}/all.npy", "rb").read() == b.getvalue(), "all.npy is not what np.save writes"

index = json.load(open(f"{d}/sh.safetensors.index.json"))
names = sorted(index["weight_map"])
files = [index["weight_map"][n] for n in names]
assert len(files) == 3 and len(set(files)) == 3, files
parts = []
for name, f in zip(names, files):
    raw = open(os.path.join(d, f), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    e = h[name]
    lo, hi = e["data_offsets"]
    assert e["dtype"] == "F32" and 8 + n + hi == len(raw), (f, e, len(raw))
    parts.append(np.frombuffer(raw[8 + n + lo:8 + n + hi], dtype="<f4").reshape(e["shape"]))
assert index["metadata"]["total_size"] == want.nbytes, index["metadata"]
sh = np.concatenate(parts)
assert sh.shape == want.shape and sh.tobytes() == want.tobytes(), "the shards differ"
print(f"{want.shape[0]} rows in 3 shards of {[p.shape[0] for p in parts]}")
`

// TestNumPyGather gathers 20 NumPy captures into one .npy and into three
// shards with an index, and has NumPy check both against np.concatenate of
// the per-file reshapes.
func TestNumPyGather(t *testing.T) {
	needNumPy(t)
	dir := t.TempDir()
	out, err := exec.Command(python, "-c", gatherMake, dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var rows int
	_, err = fmt.Sscan(string(out), &rows)
	require.NoError(t, err, "%s", out)
	in := filepath.Join(dir, "cap*.npy")
	flags := []string{"-permute", "0,2,1", "-concat-dims", "2"}
	r := runCmd(append([]string{"reshape", "-in", in, "-out", filepath.Join(dir, "all.npy")}, flags...)...)
	require.Equal(t, 0, r.code, r.stderr)
	// Three shards: room for a third of the rows (of 256 bytes), and up to
	// 256 bytes of header.
	shard := 8 + 256 + (rows+2)/3*256
	r = runCmd(append([]string{"reshape", "-in", in, "-out", filepath.Join(dir, "sh.safetensors"), "-shard-size", fmt.Sprint(shard)}, flags...)...)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "in 3 shards")
	out, err = exec.Command(python, "-c", gatherCheck, dir).CombinedOutput()
	require.NoError(t, err, "NumPy disagrees:\n%s", out)
	t.Logf("NumPy: %s", strings.TrimSpace(string(out)))
}

// npzMake has NumPy write an archive with numpy.savez (stored members), one
// with numpy.savez_compressed, a bool array and two arrays of dtypes
// stridekit does not convert.
const npzMake = `
import sys
import numpy as np
d = sys.argv[1]
x = np.arange(2 * 3 * 4, dtype="<f4").reshape(2, 3, 4) * 0.5
y = np.arange(6, dtype="<i2").reshape(3, 2)
np.savez(f"{d}/stored.npz", x=x, y=np.asfortranarray(y))
np.savez_compressed(f"{d}/packed.npz", x=x, y=y)
np.save(f"{d}/mask.npy", np.arange(12).reshape(3, 4) % 3 == 0)
np.save(f"{d}/complex.npy", x.astype("<c8"))
np.save(f"{d}/text.npy", np.array(["ab", "cd"], dtype="<U10"))
`

// npzCheck checks the outputs against NumPy's own reshapes of the arrays.
const npzCheck = `
import sys
import numpy as np
d = sys.argv[1]
for name in ["stored", "packed"]:
    z = np.load(f"{d}/{name}.npz")
    want = np.ascontiguousarray(z["x"].transpose(1, 0, 2)).reshape(3, 8)
    got = np.load(f"{d}/{name}_x.npy")
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), name
    want = np.ascontiguousarray(z["y"].T)
    got = np.load(f"{d}/{name}_y.npy")
    assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes(), name + " y"
m = np.load(f"{d}/mask.npy")
got = np.load(f"{d}/mask_t.npy")
assert got.dtype == np.bool_ and got.tobytes() == np.ascontiguousarray(m.T).tobytes()
print("npz and bool agree")
`

// TestNumPyNPZ has NumPy write .npz archives, stored and compressed, a
// bool array and arrays of unsupported dtypes; stridekit inspects them
// (saying which members are views and which were read into memory, and
// listing the unsupported dtypes) and reshapes them, and NumPy checks the
// results.
func TestNumPyNPZ(t *testing.T) {
	needNumPy(t)
	dir := t.TempDir()
	out, err := exec.Command(python, "-c", npzMake, dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	p := func(name string) string { return filepath.Join(dir, name) }

	r := runCmd("inspect", p("stored.npz"))
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^x +float32 +\[2 3 4\] +\[12 4 1\] +C +view$`, r.stdout)
	require.Regexp(t, `(?m)^y +int16 +\[3 2\] +\[1 3\] +Fortran +view$`, r.stdout)
	r = runCmd("inspect", p("packed.npz"))
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^x +float32 +\[2 3 4\] .* in memory \(compressed\)$`, r.stdout)
	for name, descr := range map[string]string{"complex.npy": "<c8", "text.npy": "<U10"} {
		r = runCmd("inspect", p(name))
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, descr+" (unsupported)", name)
	}

	for _, name := range []string{"stored", "packed"} {
		r = runCmd("reshape", "-in", p(name+".npz"), "-tensor", "x", "-out", p(name+"_x.npy"), "-permute", "1,0,2", "-concat-dims", "2")
		require.Equal(t, 0, r.code, r.stderr)
		r = runCmd("reshape", "-in", p(name+".npz"), "-tensor", "y", "-out", p(name+"_y.npy"), "-permute", "1,0")
		require.Equal(t, 0, r.code, r.stderr)
	}
	r = runCmd("reshape", "-in", p("mask.npy"), "-out", p("mask_t.npy"), "-permute", "1,0")
	require.Equal(t, 0, r.code, r.stderr)
	out, err = exec.Command(python, "-c", npzCheck, dir).CombinedOutput()
	require.NoError(t, err, "NumPy disagrees:\n%s", out)
}
