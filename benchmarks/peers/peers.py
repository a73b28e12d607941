"""Times NumPy and PyTorch on the views of stridekit's benchmark suite.

The Go driver (main.go in this folder) starts this script once per thread
count, as "peers.py THREADS", and talks to it over stdin and stdout, one JSON
object per line, so that every figure of a case, Go's and Python's, is
measured in the same rounds, close in time. PyTorch's thread count is set
once, at start: switching it between calls left torch's second OpenMP thread
running at a fraction of its speed for tens of milliseconds.

    {"op": "build", "shape": [...], "perm": [...] or null,
     "slice": [axis, start, stop, step] or null, "expand": [...] or null,
     "dtype": "float32", "to": "float32" or null}
        -> {"ok": true, "view": [...]}  builds the view and its destinations
                                        (of dtype "to" when given: a copy
                                        that converts)
    {"op": "time", "impl": "numpy" | "torch" | "torch-float", "budget_ms": b}
        -> {"ok": true, "ns": t}        mean time of one copy into the
                                        preallocated destination, or
                                        {"ok": false, "why": "..."}
    {"op": "versions"} -> {"ok": true, "numpy": "...", "torch": "...", ...}

NumPy is np.copyto(dst, view), on one thread (NumPy does not split a copy).
PyTorch is dst.copy_(view) with torch.set_num_threads(THREADS). Debian's
python3-numpy and python3-torch are enough:

    apt-get install -y python3-numpy python3-torch

NumPy has no bfloat16: that dtype is timed with PyTorch only. "torch-float"
is view.float().contiguous(), the allocating widening of a bfloat16 or
float16 capture that users write as x.permute(...).float().
"""

import json
import platform
import sys
import time

import numpy as np
import torch

TORCH_DTYPES = {
    "uint8": torch.uint8,
    "int8": torch.int8,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}
NUMPY_DTYPES = {"uint8": np.uint8, "int8": np.int8, "float16": np.float16, "float32": np.float32, "float64": np.float64}

state = {}


def view_of(base, perm, slc, expand, torch_side):
    """Applies the case's permutation, slice and broadcast, as the Go suite
    does (Permute, then Slice, then Expand)."""
    v = base
    if perm is not None:
        v = v.permute(*perm) if torch_side else v.transpose(perm)
    if slc is not None:
        axis, start, stop, step = slc
        axis %= v.ndim
        if step < 0 and stop == -1:
            stop = None  # Python's -1 would mean the last index
        index = [slice(None)] * v.ndim
        if torch_side and step < 0:
            # torch has no negative steps: flip, then slice forward.
            v = v.flip(axis)
            n = v.shape[axis]
            lo = n - 1 - start
            hi = n if stop is None else n - 1 - stop
            index[axis] = slice(lo, hi, -step)
        else:
            index[axis] = slice(start, stop, step)
        v = v[tuple(index)]
    if expand is not None:
        v = v.expand(*expand) if torch_side else np.broadcast_to(v, expand)
    return v


def build(req):
    state.clear()
    shape, dtype = req["shape"], req["dtype"]
    n = 1
    for e in shape:
        n *= e
    values = torch.arange(n, dtype=torch.float64).remainder_(65521).add_(1)
    tbase = values.to(TORCH_DTYPES[dtype]).reshape(shape)
    tview = view_of(tbase, req["perm"], req["slice"], req["expand"], True)
    to = req.get("to") or dtype
    state["torch"] = (tview, torch.empty(tuple(tview.shape), dtype=TORCH_DTYPES[to]))
    if to == "float32" and to != dtype:
        state["torch-float"] = (tview, None)
    if dtype in NUMPY_DTYPES and to in NUMPY_DTYPES:
        nbase = tbase.numpy()  # the same source memory: it is only read
        nview = view_of(nbase, req["perm"], req["slice"], req["expand"], False)
        state["numpy"] = (nview, np.empty(nview.shape, dtype=NUMPY_DTYPES[to]))
    return {"ok": True, "view": list(tview.shape)}


def time_impl(req):
    impl = req["impl"]
    if impl not in state:
        return {"ok": False, "why": "no %s view of this dtype" % impl}
    view, dst = state[impl]
    if impl == "torch":
        op = lambda: dst.copy_(view)
    elif impl == "torch-float":
        op = lambda: view.float().contiguous()
    else:
        op = lambda: np.copyto(dst, view)
    # Warm up for half the budget: map the pages, fill the caches, and let
    # OpenMP settle on its thread count (right after set_num_threads, torch
    # ran at half speed for tens of milliseconds).
    budget = req["budget_ms"] * 1e6
    start = time.perf_counter_ns()
    op()
    while time.perf_counter_ns() - start < budget / 2:
        op()
    calls, start = 0, time.perf_counter_ns()
    while True:
        op()
        calls += 1
        elapsed = time.perf_counter_ns() - start
        if elapsed >= budget:
            return {"ok": True, "ns": elapsed / calls}


def versions(_req):
    return {
        "ok": True,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_parallel": torch.__config__.parallel_info().splitlines()[-1].strip(),
        "torch_threads": torch.get_num_threads(),
    }


OPS = {"build": build, "time": time_impl, "versions": versions}


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            resp = OPS[req["op"]](req)
        except Exception as e:  # report, keep serving
            resp = {"ok": False, "why": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(resp) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
