package main

import "strings"

// backend is the assembly of one architecture: the kernels of its vector
// unit for the transposes' register tiles and the row copies, beside the Go
// that every architecture shares. Each backend renders accel_<Arch>.go
// (the stubs and the choice between assembly and Go fallback, renderAccel)
// and accel_<Arch>.s; every other build gets accel_other.go.
type backend struct {
	Arch string // GOARCH of the assembly
	ISA  string // the vector instructions, and the suffix of the kernels' names: "AVX2"
	// CacheLine is the cache line of the CPUs the backend is for, in
	// bytes. The transposes' blocks take one source line of columns
	// (BlockJ = CacheLine/Size elements), and on amd64 the tile bands and
	// staging fill one destination line per row.
	CacheLine int
	// Asm renders accel_<Arch>.s.
	Asm func(maxRank int) ([]byte, error)
	// Funcs lists its assembly functions, for the Go stubs.
	Funcs func() []asmFunc
	// HasTile reports whether it has a register transpose for a width.
	HasTile func(w width) bool
}

// constraint is the build constraint of a backend's files.
func (b backend) constraint() string { return b.Arch + " && !purego" }

// The backends. amd64: AVX2 through avo (asm.go). arm64: NEON through
// gen/neon.go; NEON (Advanced SIMD) is part of every arm64 CPU Go runs on.
// Apple's M-series cores have 128-byte lines, Graviton and the other
// Neoverse and Cortex cores 64: the arm64 blocks take 128 bytes of source
// columns, a whole line on the first, two on the others.
var (
	amd64Backend = backend{Arch: "amd64", ISA: "AVX2", CacheLine: cacheLineBytes, Asm: renderAsm, Funcs: asmFuncs,
		HasTile: func(w width) bool { return avx2Shuffles[w.Size] != nil }}
	arm64Backend = backend{Arch: "arm64", ISA: neonSuffix, CacheLine: 128, Asm: renderNEON, Funcs: neonFuncs,
		HasTile: func(w width) bool { v := w.TileJ * w.Size; return v == 16 || v == 32 }}
	backends = []backend{amd64Backend, arm64Backend}
)

// otherCacheLine is the cache line the Go fallback's blocks assume on
// every other architecture.
const otherCacheLine = 64

// otherConstraint is the build constraint of accel_other.go: no backend.
func otherConstraint() string {
	var parts []string
	for _, b := range backends {
		parts = append(parts, "!("+b.constraint()+")")
	}
	return strings.Join(parts, " && ")
}

// blockJ is the columns of a width's transpose block on a cache line.
func blockJ(w width, cacheLine int) int { return cacheLine / w.Size }
