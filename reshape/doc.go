// Package reshape turns N-dimensional activation views into contiguous
// [items, features] matrices. It is the Go form of the Python module
// reshape_activations:
//
//	reshape_to_last_dimension(x)         ToLastDimension(t)
//	reshape_concat_last_dimensions(x, k) ConcatLastDimensions(t, k)
//	ReshapeActivationsFunction           Func[T]
//
// A Tensor is a strided view over a flat slice, as PyTorch and NumPy have
// them: New makes a row-major one, and Permute, Slice and Expand make
// permuted, sliced and broadcast views of it without copying. The functions
// here make such a view contiguous:
//
//   - ToLastDimension and ConcatLastDimensions return a view that is already
//     row-major contiguous as is (no copy, no allocation) and copy any other
//     into a new Matrix.
//   - ToLastDimensionInto, ConcatLastDimensionsInto and Contiguous always copy,
//     into a buffer the caller provides, and never allocate.
//   - AppendToLastDimension and AppendConcatLastDimensions always copy, onto
//     the end of a store that grows as append grows a slice: the form for a
//     capture hook that gathers many batches into one training set.
//
// # How a copy runs
//
// Every call validates the view (Tensor.Validate), then canonicalises it:
// size-1 axes are dropped and neighbouring axes that walk memory as one are
// fused, so a [8,16,8,16,64] view permuted (0,3,1,2,4) becomes a rank-4
// copy of rows of 64 elements, and a contiguous view of any shape becomes a
// single copy(). The dispatcher then picks one of two paths:
//
//   - A transpose, a view whose innermost axis is strided in the source while
//     another axis has source stride 1, runs as blocked 2-D transposes
//     (generated.TransposeRows): the stride-1 axis against all the axes after
//     it, which are contiguous in the result, their source rows listed in a
//     table. On amd64 with AVX2 whole tiles move through register shuffles,
//     with AVX-512 whole bands of them through ZMM permutes.
//     When the stride-1 axis spans less than a cache line (a batch of 8
//     reversed to the front), it is chained with the axes that continue it
//     in the source into one long source row; the tiles then go through a
//     buffer in the L1 cache, whose rows are copied to their places.
//   - Every other view runs the generated kernel for (dtype, rank, kind) from
//     package generated, where kind is read off the innermost source stride:
//     1 (row copies), 0 (broadcast fill) or anything else (gather). Ranks
//     above generated.MaxRank run as loops over their leading axes around the
//     largest kernel.
//
// A result of at least the parallel threshold (SetParallelThreshold, 3 MiB
// by default) is split along its leading axes across up to SetMaxWorkers
// goroutines (GOMAXPROCS by default), in chunks that do not share a cache
// line of the destination: the caller copies one part and helper goroutines,
// started once and kept, the others. A helper polls for its next part for a
// short while (200 µs) after its last, so that a burst of calls finds it
// ready, and then blocks, so that an idle program uses no CPU. Below the
// threshold, with SetMaxWorkers(1), or while another copy is using the
// helpers, the copy runs on the caller's goroutine alone. The Into forms and
// Contiguous never allocate.
//
// A copy whose footprint, its result and the source it reads, reaches the
// streaming threshold (SetStreamingThreshold, three quarters of the
// last-level cache) writes with non-temporal stores where the kernel has
// them, which bypass the cache: faster far beyond the cache, slower within
// it. Below it a contiguous run is copied with REP
// MOVSB where the CPU does that fast, where the runtime's copy() would
// switch to non-temporal stores from 1 MiB.
//
// Build with -tags purego to leave out the assembly: every kernel then runs
// its Go form, as on architectures other than amd64.
//
// # Errors
//
// Bad input never panics: every error wraps one of ErrShape, ErrStrides,
// ErrConcatDims, ErrPermutation and ErrDst (use errors.Is), and a function
// that returns an error has not written to its destination. A destination
// that overlaps the span of Data a view reads is refused with ErrDst.
//
// The allocating forms refuse, with ErrShape, a result above a cap
// (SetMaxAlloc; by default the machine's memory, within what one
// allocation can hold on the platform), which a broadcast view can reach
// while valid, since its elements repeat: such a result could only end the
// process. The Into forms have no cap.
//
// # Element types
//
// Any Element: the fixed-size integers, float32, float64, float16.Float16
// (github.com/x448/float16) and BFloat16, and types defined on them.
package reshape
