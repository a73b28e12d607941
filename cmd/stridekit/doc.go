// Command stridekit runs stridekit's main job on files: it turns activation
// tensors saved by Python, NumPy .npy and Hugging Face .safetensors, into
// contiguous [items, features] matrices, and measures the copy kernels.
//
// Usage:
//
//	stridekit reshape -in FILE [-in FILE|GLOB ...] -out FILE [-tensor NAME] [-select AXIS=INDEX] [-slice AXIS=START:STOP[:STEP]]
//	                  [-permute AXES] [-concat-dims K] | [-pattern P [-size NAME=N]] [-dtype NAME]
//	                  [-shard-size SIZE] [-part I/N] [-resume]
//	stridekit index -out FILE.index.json FILE.safetensors ...
//	stridekit inspect FILE
//	stridekit bench [-size tiny|small|cached|edge|medium|large] [-workers N] [-json FILE] [-plot FILE.png]
//
// # reshape
//
// Reads a tensor of a .npy or .safetensors file as a view over a read-only
// memory map (package tensorfile), permutes its axes as a view (-permute
// 0,2,1,3; negative axes count from the end), makes its last K axes the
// feature axis (reshape.ConcatLastDimensions; -concat-dims 1, the default,
// is reshape.ToLastDimension) and writes the result to -out, whose
// extension (.npy or .safetensors) picks the format. A .safetensors input
// converts the tensor -tensor names, or every tensor into a .safetensors
// output; its __metadata__ is carried over. Converting every tensor skips
// those stridekit cannot convert (a dtype such as F8_E4M3, a scalar) with a
// line each on stderr, and fails only if none is left; a tensor named by
// -tensor that cannot be converted is an error. A .npy input written to a
// .safetensors file becomes a tensor named after the input file. A view that
// is already contiguous is written straight from the input's memory map.
//
// Convert a [batch, heads, seq, d_head] attention output to one row per
// token with the heads concatenated:
//
//	stridekit reshape -in attn.npy -out items.npy -permute 0,2,1,3 -concat-dims 2
//
// -pattern rearranges the axes by an einops pattern (reshape.Compile)
// instead of -permute and -concat-dims, with -size NAME=N for the axes it
// splits; the output has the shape of its right side:
//
//	stridekit reshape -in attn.npy -out items.npy -pattern "b h p d -> (b p) (h d)"
//
// -select AXIS=INDEX keeps one index of an axis and drops the axis, and
// -slice AXIS=START:STOP[:STEP] keeps a range of one, with Python's meaning:
// parts may be left out, negative numbers count from the end, and bounds
// past the axis are clamped as NumPy clamps them (reshape.Tensor.Slice, in
// the library, refuses them instead). Both name the tensor's own axes and
// apply before the rest; both repeat. Converting every tensor of a
// .safetensors file skips, with a line on stderr, the tensors whose rank or
// extents do not fit the flags.
//
// -dtype converts every element while it is copied, in the same pass, by
// the rules of reshape.ContiguousAs (rounding to nearest even, saturating
// float to integer): a bfloat16 capture, which .npy cannot hold, becomes a
// NumPy-readable float32 matrix with
//
//	stridekit reshape -in acts.safetensors -tensor blocks.3.attn.hook_z -out z.npy -concat-dims 2 -dtype float32
//
// The output is written to a temporary file in its directory, synced and
// renamed into place only when complete: a failure or Ctrl-C never leaves a
// partial file and never touches an existing file of that name. Ctrl-C is
// honoured at every step: before the output is begun the command ends at
// once; while it is written, the temporary file is removed first (Ctrl-C
// during the final sync still leaves the old file). Ctrl-C exits 130 and
// SIGTERM 143 (128 plus the signal's number, as shells expect). A second
// Ctrl-C (or SIGTERM) ends the process at once; on Linux the temporary file
// is unnamed (O_TMPFILE) until complete, so that even then, or after kill
// -9, nothing is left behind (elsewhere the hidden temporary file may be).
// An -out that is a symbolic link is replaced by the output (its target is
// left alone), with the mode of a new file. The input is read through a
// memory map: it must not be rewritten in place while the command runs; if
// it shrinks, the command fails with one line (exit 1) and writes nothing.
// The input is opened read-only and
// must be a regular file (a named pipe is refused, not waited on); -out
// naming the input is an error. Conversions over
// 256 MiB draw a progress bar on stderr when stderr is a terminal.
//
// # Many inputs, shards and jobs on many machines
//
// Given more than one -in, or a glob (-in 'caps/*.npy', each glob's
// matches sorted), reshape appends every input's tensor, reshaped by the
// same flags, in input order into one [items, features] output, streamed
// through tensorfile.MatrixWriter. The features, and the dtype unless
// -dtype converts, must agree: the first input that differs is an error
// naming it, found before anything is written. -shard-size 2GiB writes
// .safetensors shards OUT-00001.safetensors... of at most that size and a
// Hugging Face index OUT.index.json. A progress bar over the whole job
// shows the bytes, the rate and the time left.
//
// -part I/N takes the I-th (from 0) of N contiguous, disjoint slices of the
// input list, so that the N tasks of a Slurm job array or a Kubernetes
// Indexed Job convert the dataset together; -resume makes a task whose
// output is already complete a no-op, so that a failed task can be run
// again. The index command then writes one index over the parts:
//
//	stridekit reshape -in 'caps/*.safetensors' -tensor z -out part-3.safetensors -part 3/8 -resume
//	stridekit index -out dataset.safetensors.index.json part-*.safetensors
//
// # index
//
// Writes one Hugging Face index (weight_map, metadata.total_size) over
// .safetensors files written apart; an argument that is an index stands
// for the files it lists. A tensor name found in two files is an error.
//
// # inspect
//
// Prints the format, then each tensor's name, dtype, shape, strides (in
// elements) and order, C or Fortran, then a .safetensors file's metadata.
//
// # bench
//
// Runs the standard cases of package benchmarks, in float32 and bfloat16,
// and prints stridekit's GB/s with its ratios to the ceiling (the faster of
// copy() and a cached copy of the same bytes: copy() sends copies from 1 MiB
// to memory with non-temporal stores, so alone it understates what the cache
// allows), with the spread of that ratio, to copy() alone, and how many times
// faster it is than a plain loop (benchmarks.LoopCopy: nested loops with
// copy() of each contiguous innermost run). Each case runs in rounds (-rounds,
// 5 or more): in every round stridekit and each baseline take a turn, so a
// ratio compares two timings of the same moment; every figure is the median
// over the rounds and the spread the range of the ratio to the ceiling.
// -size fits every case to a result of 256 KiB (tiny), 1 MiB (small),
// 4 MiB (cached), 16 MiB (edge), 64 MiB (medium, the default) or 1 GiB
// (large, about 3 GiB of memory, without the plain loop); -workers N sets
// reshape.SetMaxWorkers(N) for the run, restored afterwards, and splits the
// copy baselines across N goroutines too, N-1 of them ready helpers; -json
// writes the results, every round's times and the machine as JSON, -plot
// draws the ratios to the ceiling, one panel per dtype on a log axis, as a
// PNG. The cases "small" and "small-permuted" keep one shape at every size:
// they measure a call; "small" is zero-copy and prints its time per call.
//
// # Exit status
//
// 0 on success; 2 for a usage error (a bad or missing flag, an -out that
// names the input), after the message and a short usage on stderr; 1 for
// any other failure (unreadable or malformed input, a -permute or
// -concat-dims that does not fit the tensor, a failed write), after one line
// on stderr.
package main
