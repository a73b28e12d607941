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
// in C and in Fortran order, and a .safetensors file written by hand from
// NumPy bytes (its header deliberately not padded, so the data is not
// aligned), and prints the list of files as JSON.
const interopMake = `
import json, struct, sys
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(20261127)
shape = (3, 4, 5, 6)
files = []
for code in ["f2", "f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8"]:
    dt = np.dtype("<" + code)
    if dt.kind == "f":
        x = rng.standard_normal(shape).astype(dt)
    else:
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
    for order in ["C", "F"]:
        path = f"{out}/{code}_{order}.npy"
        y = np.asfortranarray(x) if order == "F" else np.ascontiguousarray(x)
        assert y.flags[order + "_CONTIGUOUS"]
        np.save(path, y)
        files.append(path)

header, blobs, off = {"__metadata__": {"source": "numpy"}}, [], 0
for name, dt, st in [("odd", "u1", "U8"), ("h", "f4", "F32"), ("w", "i2", "I16"), ("z", "f8", "F64")]:
    x = (rng.standard_normal(shape) * 100).astype("<" + dt)
    b = x.tobytes(order="C")
    header[name] = {"dtype": st, "shape": list(shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
    np.save(f"{out}/st_{name}.npy", x)
h = json.dumps(header).encode()
if len(h) % 2 == 0:
    h += b" "  # an odd header length: no tensor's data is aligned
with open(f"{out}/tensors.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print(json.dumps(files))
`

// interopCheck reads the cases stridekit ran and checks each output equals
// np.ascontiguousarray(x.transpose(perm)).reshape(rows, cols) exactly, bit
// for bit, with the same dtype.
const interopCheck = `
import json, struct, sys
import numpy as np

def load_safetensors(path, name):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    e = h[name]
    dt = {"U8": "u1", "F32": "<f4", "I16": "<i2", "F64": "<f8"}[e["dtype"]]
    lo, hi = e["data_offsets"]
    return np.frombuffer(b[8 + n + lo:8 + n + hi], dtype=dt).reshape(e["shape"]), h.get("__metadata__")

bad = 0
cases = json.load(open(sys.argv[1]))
for c in cases:
    x = np.load(c["source"])
    perm = c["perm"] if c["perm"] is not None else list(range(x.ndim))
    v = x.transpose(perm)
    k = c["concat"]
    rows = int(np.prod(v.shape[:v.ndim - k], dtype=np.int64))
    cols = int(np.prod(v.shape[v.ndim - k:], dtype=np.int64))
    want = np.ascontiguousarray(v).reshape(rows, cols)
    if c["out"].endswith(".npy"):
        got = np.load(c["out"])
        meta = None
    else:
        got, meta = load_safetensors(c["out"], c["tensor"])
        if meta != {"source": "numpy"}:
            print("metadata lost:", c, meta); bad += 1
    ok = (got.dtype == want.dtype and got.shape == want.shape and got.flags["C_CONTIGUOUS"]
          and got.tobytes() == want.tobytes())
    if not ok:
        bad += 1
        print("MISMATCH", c, "got", got.dtype, got.shape, "want", want.dtype, want.shape)
print(f"{len(cases) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
`

// interopCase is one run of the command that NumPy checks.
type interopCase struct {
	Source string `json:"source"` // the .npy NumPy reads as x
	In     string `json:"in"`     // the file stridekit reads
	Tensor string `json:"tensor"` // -tensor, for a .safetensors input
	Out    string `json:"out"`
	Perm   []int  `json:"perm"`
	Concat int    `json:"concat"`
}

// TestNumPyInterop has NumPy write arrays of every dtype in both orders,
// runs stridekit reshape on them with several -permute and -concat-dims, and
// has NumPy check every output.
func TestNumPyInterop(t *testing.T) {
	needNumPy(t)
	dir := t.TempDir()
	out, err := exec.Command(python, "-c", interopMake, dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var sources []string
	require.NoError(t, json.Unmarshal(out, &sources), "%s", out)
	require.Len(t, sources, 22)

	choices := []struct {
		perm   []int
		concat int
	}{
		{nil, 1}, {nil, 3}, {[]int{0, 2, 1, 3}, 2}, {[]int{3, 2, 1, 0}, 1},
		{[]int{1, 3, 0, 2}, 4}, {[]int{2, 0, 3, 1}, 2}, {[]int{-1, 0, 1, 2}, 3},
	}
	var cases []interopCase
	for _, src := range sources {
		for i, ch := range choices {
			cases = append(cases, interopCase{Source: src, In: src, Perm: ch.perm, Concat: ch.concat,
				Out: filepath.Join(dir, fmt.Sprintf("out_%s_%d.npy", strings.TrimSuffix(filepath.Base(src), ".npy"), i))})
		}
	}
	for _, name := range []string{"odd", "h", "w", "z"} {
		for i, ch := range choices {
			for _, ext := range []string{".npy", ".safetensors"} {
				cases = append(cases, interopCase{Source: filepath.Join(dir, "st_"+name+".npy"),
					In: filepath.Join(dir, "tensors.safetensors"), Tensor: name, Perm: ch.perm, Concat: ch.concat,
					Out: filepath.Join(dir, fmt.Sprintf("out_st_%s_%d%s", name, i, ext))})
			}
		}
	}
	for _, c := range cases {
		args := []string{"reshape", "-in", c.In, "-out", c.Out, "-concat-dims", fmt.Sprint(c.Concat)}
		if c.Perm != nil {
			args = append(args, "-permute", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(c.Perm)), ","), "[]"))
		}
		if c.Tensor != "" {
			args = append(args, "-tensor", c.Tensor)
		}
		r := runCmd(args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
	}
	manifest := filepath.Join(dir, "cases.json")
	b, err := json.Marshal(cases)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(manifest, b, 0o644))
	out, err = exec.Command(python, "-c", interopCheck, manifest).CombinedOutput()
	require.NoError(t, err, "NumPy disagrees:\n%s", out)
	t.Logf("NumPy: %s", strings.TrimSpace(string(out)))
}
