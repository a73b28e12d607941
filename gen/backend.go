package main

import (
	"fmt"
	"slices"
	"strings"
)

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
	// Crowd says which blocked transposes go through a buffer.
	Crowd crowding
	// StreamRows, where not 0, is the most destination rows a block of a
	// streamed transpose writes (a narrower block than a source line of
	// columns), for the blocks whose non-temporal stores go to more rows
	// than the memory takes at speed (amd64StreamRows).
	StreamRows int
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
	amd64Backend = backend{Arch: "amd64", ISA: "AVX2", CacheLine: cacheLineBytes, Crowd: amd64Crowd, StreamRows: amd64StreamRows, Asm: renderAsm, Funcs: asmFuncs,
		HasTile: func(w width) bool { return avx2Shuffles[w.Size] != nil }}
	arm64Backend = backend{Arch: "arm64", ISA: neonSuffix, CacheLine: 128, Asm: renderNEON, Funcs: neonFuncs,
		HasTile: func(w width) bool { v := w.TileJ * w.Size; return v == 16 || v == 32 }}
	backends = []backend{amd64Backend, arm64Backend}
)

// crowding sends a blocked transpose that is not streamed through a
// buffer (transposeBuffered<W>, emit_transpose.go) when the destination
// rows of one block, more than Ways (the L1 data cache's ways), fall into
// one or two of its sets (rows a multiple of 4 KiB apart, or an element or
// two more; or rows off line boundaries about an odd multiple of 2 KiB
// apart, half of them in each of two sets, still more than Ways; or, for a
// destination of at most two blocks of rows, rows whole lines apart that
// start in so few sets that one holds more than Ways: see crowded in
// emit_transpose.go), its elements are of a size that Sizes lists, and its
// destination spans less than that entry's bytes (0: any span). The zero
// value never buffers. Beyond the cache (streamed), a transpose whose
// destination rows are not whole aligned lines, which its tiles cannot
// write with non-temporal stores, goes through the buffer where Streamed
// lists its element size.
//
// Where the AVX-512 tiles run on a CPU that is not AMD's (generated's
// AMDTuned is false), rows whole lines apart never buffer: each band
// stores a whole line of every destination row at once, and such a CPU
// takes those stores into crowded sets in stride. Rows that are not whole
// lines apart, each store of which straddles two lines, buffer only for the
// sizes that Straddled lists, below that entry's bytes (0: any span); its
// sizes must be among those of Sizes. Nor do the AVX-512 tiles pack their
// source rows there (packs in emit_transpose.go, through the same buffer).
//
// Unaligned lists element sizes whose destination rows, where they are not
// whole lines apart, go through the buffer on such a CPU (the assembly
// running, AMDTuned false) however few rows a block has, from a
// destination of that entry's bytes up (0: any span), not streamed; and
// StreamedTall those that do so streamed, beyond the cache, where the rows
// are not whole aligned lines. On such a CPU the buffered blocks of
// tallSizes are tallRows source rows tall, so that each destination row
// gets a long run at a time.
//
// StreamedAligned lists the element sizes whose streamed transposes into
// rows of whole aligned lines go through the buffer too on such a CPU
// (AMDTuned false) where the AVX2 tiles run (no AVX-512), and
// StreamedAligned512 those that do so where the AVX-512 tiles run: the
// tiles' own non-temporal stores cover less than a line of each row at a
// time, and through the buffer each row's run goes out as whole lines.
//
// StreamedConv says that the converting transposes, with the assembly,
// go through the buffer beyond the cache whatever their rows: their AVX2
// tiles store a half line (8 float32) of each destination row at a time,
// and through the buffer each row's run goes out as whole lines with
// non-temporal stores (copyRun). The AVX-512 tiles of some pairs
// (avx512ConvBands) store whole lines, and those into whole aligned lines
// go straight to the destination (ConvStreamCrowds).
type crowding struct {
	Ways         int
	Sizes        map[int]int
	Straddled    map[int]int
	Streamed     map[int]bool
	Unaligned    map[int]int
	StreamedTall map[int]bool
	StreamedConv bool

	StreamedAligned    map[int]bool
	StreamedAligned512 map[int]bool
}

// check reports whether the crowding can be generated: sizes of widths
// (sizes), at least one L1 way, and spans that are not negative.
func (c crowding) check(sizes map[int]bool) error {
	for sz, span := range c.Sizes {
		if !sizes[sz] {
			return fmt.Errorf("no width of %d bytes", sz)
		}
		if span < 0 {
			return fmt.Errorf("%d-byte elements: a negative span", sz)
		}
	}
	for sz, span := range c.Straddled {
		if _, ok := c.Sizes[sz]; !ok {
			return fmt.Errorf("straddled: %d-byte elements do not buffer at all", sz)
		}
		if span < 0 {
			return fmt.Errorf("straddled %d-byte elements: a negative span", sz)
		}
	}
	for name, set := range map[string]map[int]bool{"streamed": c.Streamed, "streamed tall": c.StreamedTall, "streamed aligned": c.StreamedAligned, "streamed aligned (AVX-512)": c.StreamedAligned512} {
		for sz := range set {
			if !sizes[sz] {
				return fmt.Errorf("%s: no width of %d bytes", name, sz)
			}
		}
	}
	for sz, span := range c.Unaligned {
		if !sizes[sz] {
			return fmt.Errorf("unaligned: no width of %d bytes", sz)
		}
		if span < 0 {
			return fmt.Errorf("unaligned %d-byte elements: a negative span", sz)
		}
	}
	if len(c.Sizes) > 0 && c.Ways <= 0 {
		return fmt.Errorf("%d ways: want at least one", c.Ways)
	}
	return nil
}

// amd64Crowd is measured on the 2-vCPU EPYC VM (Zen 5: a 12-way L1, a 1 MiB
// L2). In benchmarks/, against a build that never buffers, 5 interleaved
// rounds: transpose-4k (destination rows of 4096 elements) at 1 and 4 MiB,
// uint8 1.85-1.96× as fast, bfloat16 1.69-1.73×, float32 1.14-1.22×;
// transpose2d-odd float32 at 4 MiB (rows 4092 bytes apart) 1.35×,
// reverse4d bfloat16 at 4 MiB 1.32×, bfloat16 and float16 to float32
// conversion transposes at 4 MiB 1.51-1.53×; the rest within 7%. On its own
// harness (11 interleaved pairs, medians; rows 4 KiB apart, 4 KiB and an
// element, 8 KiB): 64 KiB-512 KiB 1.05-4.2× in every width, 8-12 MiB
// uint8 1.15-1.7×, bfloat16 1.0-1.8×, float32 0.7-1.2× (so float32 stops
// at 8 MiB); with rows on line boundaries 2 KiB apart 0.85-1.0×, so those
// do not buffer (unless the destination is one or two blocks of rows, as
// for mixed5d-t in bfloat16: see crowded), but rows 2 KiB and an element or two apart (2046-2050
// bytes), whose every 64-byte store straddles two lines, 1.1-3× for 1- and
// 2-byte elements (transpose2d-odd uint8 at 4 MiB, rows 2047 bytes apart,
// 1.20× in benchmarks/, 4 rounds); 4-byte blocks have too few rows for
// that (8 per set). float64 blocks have 8 rows: never.
//
// Streamed, against the tiles' ordinary stores straight to rows that are
// not whole lines (transpose2d-odd at 64 MiB, x-ceiling, medians of 3
// interleaved rounds, three runs): uint8 0.18-0.19 to 0.22-0.23, bfloat16
// 0.23 to 0.28-0.30; float32 0.39-0.42 to 0.31-0.34, so not float32; the
// suite's other transposes, whose rows are whole lines, 0.96-1.05. Copying the
// buffer's rows out with non-temporal stores of their whole lines (masked
// ordinary stores at either end) ran slower than the ordinary copy: uint8
// 0.22, bfloat16 0.25, float32 0.28.
//
// Straddled is measured on the 2-vCPU Intel Xeon VM (48 KiB 12-way L1, 2
// MiB L2), where buffering the AVX-512 tiles cost more than it saved. In
// benchmarks/, x-ceiling, one worker, medians of 4 interleaved rounds,
// buffered -> not at 256 KiB/1/4/16 MiB: transpose-4k uint8
// 0.32/0.35/0.45/0.37 -> 0.39/0.42/0.54/0.44, bfloat16 0.37/0.41/0.55/0.45
// -> 0.44/0.49/0.65/0.57, float32 0.43/0.49/0.65 -> 0.46/0.53/0.67;
// mixed5d-t uint8 0.27/0.35/0.52/0.51 -> 0.40/0.46/0.62/0.62, bfloat16
// 0.34/0.40/0.60/0.56 -> 0.48/0.54/0.68/0.67; mixed6d-t uint8
// 0.33/0.38/0.49/0.45 -> 0.47/0.55/0.64/0.58; reverse4d bfloat16 16 MiB
// 0.40 -> 0.56; bfloat16 and float16 to float32 transpose2d at 4 MiB
// 0.38 -> 0.46-0.48. Of the rows off line boundaries (transpose2d-odd at
// 4 MiB), uint8 0.40 -> 0.54 and bfloat16 0.45 -> 0.54, but float32 (rows
// 4092 bytes apart) 0.63 -> 0.52: so float32 alone, as on the EPYC. It
// stopped at 8 MiB there too until its blocks grew to tallRows: through
// them transpose2d-odd at 16 MiB ran 0.47 -> 0.64 (two workers 0.44 ->
// 0.56, 5 interleaved rounds), so on this CPU it buffers at any span. With
// the AVX2 tiles (-stridekit.kernels=avx2), where rows whole lines apart
// keep Sizes, rows that are not take the larger of the two spans: float32
// transpose2d-odd at 16 MiB 0.41 -> 0.60 (two workers 0.37 -> 0.54, 3
// rounds), while buffering the crowded rows whole lines apart at any span
// too cost transpose-4k 10-17%.
// Packing the source rows (with that rule in place) cost as much:
// transpose2d at 4 MiB uint8 0.42 packed, 0.59 not, bfloat16 0.45 and 0.58,
// reverse4d uint8 0.37 and 0.46, bfloat16 0.40 and 0.53. With
// the AVX2 tiles the buffer still won there (transpose-4k uint8
// 0.21/0.24/0.40 buffered, 0.15/0.19/0.33 not), and AMDTuned matters only
// with the AVX-512 tiles.
//
// Unaligned is measured on the same Xeon VM, float64 [N-1, N+1] and
// [N, N] transposed (destination rows N-1 or N elements apart, not whole
// lines), against the transposes straight to dst, through TransposeRows
// into an aligned buffer of 512-row blocks and copy() out (5 interleaved
// rounds of 200ms, medians, as a fraction of copy()): 1.25 MiB 0.45 ->
// 0.55, 1.5 MiB 0.47 -> 0.61, 2 MiB 0.37 -> 0.66, 4 MiB 0.45-0.50 ->
// 0.65-0.72, 16 MiB 0.36-0.42 -> 0.66, 64 MiB (streamed: StreamedTall)
// 0.15-0.34 -> 0.37-0.47 ([2047, 4097], bimodal from run to run); float32
// streamed, in the suite, transpose2d-odd 64 MiB 0.21 -> 0.43 (two
// workers 0.22 -> 0.41, 4 interleaved rounds); [1001, 1001] (rows 8008 bytes
// apart, crowding no set) 0.38-0.49 -> 0.50-0.63; the same with the
// AVX-512 tiles off (so the AVX2 ones in both) 0.50 -> 0.65. The long runs
// are what gains: 64-row blocks took 4 MiB only to 0.48-0.51. In the cache
// it lost (1 MiB 0.58 -> 0.44, 256 KiB 0.49 -> 0.40), and rows whole lines
// apart, which the AVX-512 tiles write straight, lost too (0.54-0.57 ->
// 0.48-0.51). float32 gained nothing where its rows crowd no set ([1001,
// 1001] 0.58 -> 0.51-0.60), and buffers where they do (Straddled).
//
// StreamedConv is measured on the same Xeon VM, the suite's conversions at
// 64 MiB, 3 interleaved rounds, before -> after: transpose2d bfloat16 ->
// float32 0.29 -> 0.80 (two workers 0.29 -> 0.72), float16 -> float32
// 0.25 -> 0.83 (0.29 -> 0.69), float32 -> bfloat16 0.41 -> 0.50 (0.46 ->
// 0.49); and [4095, 4097] transposed (ContiguousAs, medians of 5 rounds
// of 200ms) bfloat16 -> float32 33-34 -> 12 ms, float32 -> float64 68-77
// -> 26-27, uint8 -> float32 19-21 -> 8-10, float64 -> float32 34-36 either
// way. Not measured on AMD's CPUs.
//
// StreamedAligned and StreamedAligned512 are measured on the same Xeon VM,
// transpose2d, transpose-4k, mixed5d-t and reverse4d at 64 MiB (rows of
// whole aligned lines), one worker, 2 interleaved rounds, the tiles' own
// non-temporal stores against the buffer: with the AVX2 tiles
// (-stridekit.kernels=avx2) uint8 0.15-0.18 -> 0.46-0.69, bfloat16
// 0.23-0.31 -> 0.63-0.77, float32 0.30-0.36 -> 0.65-0.76, float64
// 0.96-1.10 -> 0.66-0.80 (so not float64); with the AVX-512 tiles, whose
// stores are whole lines for 4 and 8 bytes, uint8 0.42-0.73 ->
// 0.50-0.80, bfloat16 0.94-1.17x by case (so not), float32 and float64
// 0.65-0.72x.
var amd64Crowd = crowding{Ways: 12, Sizes: map[int]int{1: 0, 2: 0, 4: 8 << 20}, Straddled: map[int]int{4: 0}, Streamed: map[int]bool{1: true, 2: true},
	Unaligned: map[int]int{8: 5 << 18}, StreamedTall: map[int]bool{4: true, 8: true}, StreamedConv: true,
	StreamedAligned: map[int]bool{1: true, 2: true, 4: true}, StreamedAligned512: map[int]bool{1: true}}

// tallRows is the source rows of the buffered transposes' blocks where
// AMDTuned is false (and see tallCachedSizes), for the widths of tallSizes
// (their BlockI is less): a line of columns by 512 rows fills the 32 KiB
// buffer in every width, and each destination row gets a run of 512
// elements at a time (4 KiB of float64). On the Xeon VM, x-ceiling, one worker, medians of 3
// interleaved rounds, float32 transpose2d-odd at 4 MiB (buffered as
// Straddled) 0.62 -> 0.65-0.66 against 128-row blocks, and at 16 MiB,
// where it did not buffer, 0.46 unbuffered, 0.51 through 128-row blocks,
// 0.63 through 512-row ones (two workers 0.42, 0.50, 0.59); float64 see
// Unaligned.
const tallRows = 512

// tallSizes are the element sizes whose buffered blocks take tallRows. Not
// bfloat16, which this CPU buffers only beyond the cache (Streamed):
// transpose2d-odd at 64 MiB ran 0.93-1.10× through 512-row blocks in three
// runs, so its 256 rows stay. uint8 blocks are 512 rows already.
var tallSizes = map[int]bool{4: true, 8: true}

// tallCachedSizes are the sizes of tallSizes whose buffered blocks take
// tallRows with the AVX-512 tiles whatever AMDTuned, unless streamed. On
// the 2-vCPU EPYC VM (Zen 5), x-ceiling, one worker, medians of 3-5
// interleaved rounds, 128-row blocks against 512: float32 mixed6d-t
// 0.26/0.52/0.57 -> 0.30/0.56/0.63 at 256 KiB/1/4 MiB (4 rounds),
// transpose2d at 4 MiB 0.37 -> 0.43 (5 rounds), transpose-4k at 256 KiB
// 0.27 -> 0.30 (4 rounds); all six float32 transposes, 3 rounds: median
// 1.01x, lowest 0.96x. Streamed (16 MiB) 0.95-0.96x, so those keep 128
// rows; float64 0.94-1.01x, so not float64.
var tallCachedSizes = map[int]bool{4: true}

// amd64StreamRows: a streamed uint8 block (512 source rows by a line, 64
// columns) wrote a line to each of 64 destination rows in turn, and the
// non-temporal stores alone (BenchmarkLimitKernelSides, side=write, source
// rows in L1) ran at 0.37 of the ceiling at 64 MiB; 32 rows a block, 1.03,
// as bfloat16 (32 rows) and float32 (16) already were. In the suite (2-vCPU
// EPYC VM, x-ceiling, one worker, 3-5 interleaved rounds): mixed5d-t
// 16 MiB 0.23-0.27 -> 0.48-0.53, 64 MiB 0.38-0.39 -> 0.48-0.50, reverse4d
// 16 MiB 1.11-1.21x but 64 MiB 0.81-0.87x (its 512 rows, all 128 KiB apart,
// share one set of every cache level, and each line is now read by two
// blocks), transpose2d and transpose-4k 0.94-1.04x; with the AVX2 tiles
// (no AVX-512) transpose2d, mixed5d-t and reverse4d at 16 MiB 1.5-1.6x,
// transpose2d at 64 MiB 1.36x, reverse4d 0.90x. Source rows that crowd
// the L1 cache's sets, as reverse4d's, take blocks a whole line wide again
// with the AVX-512 tiles where AMDTuned, into whole aligned lines of
// destinations from 32 MiB: their PackedStream form reads each line once
// (avx512StreamPacks, streamPacks).
const amd64StreamRows = 32

// otherCrowd is the crowding of the Go fallback everywhere else, measured
// as the purego build on the same VM: 2-byte Go tiles, which write 8 bytes
// of a destination row at a time, ran 1.3-3.3× as fast through the buffer
// from 64 KiB to 12 MiB (bfloat16 transpose-4k at 1 and 4 MiB 2.4-2.9×,
// reverse4d at 4 MiB 2.0×); 1- and 4-byte ones within 5% (transpose-4k),
// and 0.84-0.92× on the harness: so only 2 bytes there. Streamed, to rows that
// are not whole lines (transpose2d-odd, 64 MiB, 2 and 3 rounds): bfloat16
// 0.146-0.148 to 0.177-0.211, uint8 0.146-0.148 to 0.142-0.157 (even, and
// buffered alike on amd64), float32 0.284 to 0.264.
// On the 2-vCPU Xeon VM (48 KiB 12-way L1, purego, x-ceiling, one worker,
// 3 interleaved rounds, 256 KiB/1/4 MiB) 1- and 4-byte tiles gained where
// rows crowd: transpose-4k uint8 0.067/0.088/0.187 -> 0.093/0.126/0.250,
// float32 0.142/0.191/0.405 -> 0.191/0.246/0.385; mixed5d-t and mixed6d-t
// float32 1.11-1.42×, uint8 1.02-1.14×; transpose2d-odd and reverse4d at
// 4 MiB uint8 1.25-1.36×, float32 1.03-1.19×; the rest 0.96-1.03×. So
// every size that has more rows a block than ways buffers (float64's 8
// do not).
var otherCrowd = crowding{Ways: 12, Sizes: map[int]int{1: 0, 2: 0, 4: 0}, Streamed: map[int]bool{1: true, 2: true}}

// otherCacheLine is the cache line the Go fallback's blocks assume on
// every other architecture.
const otherCacheLine = 64

// otherBuild is the builds without a backend (the Go fallback,
// accel_other.go) as a backend of its cache line and crowding only.
func otherBuild() backend {
	return backend{Arch: "other", CacheLine: otherCacheLine, Crowd: otherCrowd}
}

// builds are the backends and, last, otherBuild: what every table that
// differs by build is checked against.
func builds() []backend {
	return append(slices.Clip(backends), otherBuild())
}

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
