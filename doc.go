// Package stridekit turns N-dimensional activation tensors, often permuted,
// sliced or broadcast views, into contiguous [items, features] matrices at
// memory-bandwidth speed. It is the Go counterpart of the Python module
// reshape_activations.
//
// Where things live:
//
//   - reshape: the public API (Tensor views, ToLastDimension,
//     ConcatLastDimensions, Contiguous), canonicalisation and the dispatcher.
//   - generated: the rank- and dtype-specialised copy kernels and their
//     registry, written by go generate; never edited by hand.
//   - gen: the generator (github.com/dave/jennifer) that writes generated.
//   - benchmarks: the benchmark suite, with copy() and a naive loop as
//     baselines.
//
// Data flows one way: reshape's API validates and canonicalises a view,
// looks up generated.Registry and calls the kernel.
//
// Regenerate the kernels (for example after raising -max-rank) with
//
//	go generate ./...
package stridekit

//go:generate go run ./gen -max-rank 6
