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
// Broadcast). Transposes[dtype] is the blocked 2-D transpose of a dtype, for
// views whose innermost axis is strided while another has stride 1. Dtypes
// of the same size share kernel bodies. The kernels check nothing; package
// reshape validates views, canonicalises them and dispatches here.
//
// The register tiles of the transposes and the row copies of the Rows
// kernels have two forms: AVX2 assembly (accel_amd64.s and its stubs in
// accel_amd64.go, built on amd64 without the purego tag) and Go (the
// *Go functions of kernels_*.go, the only form elsewhere, accel_other.go).
// Accelerated says which runs; tests clear it to run the Go form. On CPUs
// with AVX-512 (F, BW, VL, VBMI) the tiles of whole bands move through ZMM
// permutes instead (the *AVX512 functions); AVX512 says whether, and tests
// clear it to run the AVX2 tiles.
package generated
