// Package stridekit turns N-dimensional activation tensors, often permuted,
// sliced or broadcast views, into contiguous [items, features] matrices. It
// is the Go counterpart of the Python module reshape_activations, built for
// memory-bandwidth speed: views are canonicalised, then copied by generated
// kernels specialised by rank, element size and innermost loop, with a
// plain copy() wherever the memory is contiguous.
//
// Where things live:
//
//   - reshape: the public API (Tensor views, ToLastDimension,
//     ConcatLastDimensions, Contiguous, the converting As forms, einops
//     patterns), canonicalisation, the dispatcher and its worker pool.
//   - internal/convert: the scalar conversions between dtypes (float16,
//     bfloat16, saturating float to integer), the reference of every
//     converting kernel.
//   - generated: the rank- and dtype-specialised copy kernels and their
//     registry, written by go generate; never edited by hand.
//   - gen: the generator that writes generated: Go with
//     github.com/dave/jennifer, amd64 assembly with github.com/mmcloughlin/avo.
//   - benchmarks: the benchmark suite, read against the ceiling (the faster
//     of copy() and a cached copy of the same bytes), and benchmarks/peers,
//     which times NumPy and PyTorch beside it.
//   - tensorfile: .npy and .safetensors files as reshape.Tensor views over a
//     memory map, and atomic writers.
//   - cmd/stridekit: the command (reshape, inspect, bench).
//
// Data flows one way: reshape's API validates and canonicalises a view,
// looks up generated.Registry (or generated.Transposes) and calls the
// kernel, on one goroutine or split across several.
//
// Regenerate the kernels (for example after raising -max-rank) with
//
//	go generate ./...
package stridekit

//go:generate go run ./gen -max-rank 6
