// Package generated holds the copy kernels of stridekit and the table that
// indexes them. Everything here but this file is written by the generator in
// ../gen; never edit it by hand, regenerate it from the module root:
//
//	go generate ./...
//
// or, for kernels of higher rank, go run ./gen -max-rank 8.
//
// Registry[dtype][rank][kind] is a Kernel: a loop nest unrolled for one rank,
// specialised for one element size and one innermost loop (Rows, Gather or
// Broadcast). Dtypes of the same size share kernel bodies. The kernels check
// nothing; package reshape validates views, canonicalises them and dispatches
// here.
package generated
