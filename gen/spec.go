package main

import (
	"fmt"
	"regexp"

	"github.com/dave/jennifer/jen"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// width is an element size that has its own kernel bodies. A copy moves bits,
// so every dtype of the same size shares the bodies of its width; what differs
// between widths is the carrier type that one load and one store move.
type width struct {
	Carrier string // Go type that holds one element: "uint32" moves a float32 as well
	Size    int    // bytes per element

	// TileI × TileJ is the register tile of the transposes: TileI source
	// rows of TileJ elements, one vector each, become TileJ destination rows
	// of TileI elements. TileJ*Size is the vector, 16 or 32 bytes.
	TileI, TileJ int
	// BlockI × BlockJ is the cache block, in elements, that the transpose
	// hands to the tiles at a time: BlockI source rows (512 bytes of each
	// destination row) by one source cache line of columns (BlockJ =
	// CacheLine/Size, the line of each backend, see backend.go). Tall
	// blocks measured best on [4096,4096] float32 (about 1.5-2× square
	// 32×32 ones, out of cache): each destination row gets 512 contiguous
	// bytes per visit, and each source line is used whole at once.
	BlockI int
	// Stage routes the AVX2 assembly's destination rows through a buffer
	// of one 64-byte line per row, written out whole: TileJ destination
	// rows at a power-of-two stride share one L1 set, and 16 of them
	// (1-byte elements) filled 8 bytes at a time thrash its 12 ways.
	// Measured on the transposes of benchmarks/, staging took 1-byte
	// reverse4d from 0.05 to 0.16 of copy() and 2-byte transpose2d at 64
	// MiB from 0.16 to 0.31, but cost 4- and 8-byte elements 10-30%, whose
	// tiles already write 32-byte halves of a line back to back.
	Stage bool
}

// dtype is one element type the library accepts. Each dtype gets a constant of
// the generated DType enum and a row of the registry that points at the
// kernels of its width.
type dtype struct {
	Const string // name of the DType constant, e.g. "Float32"
	Name  string // DType.String(), the NumPy/PyTorch spelling, e.g. "float32"
	Size  int    // bytes per element; picks the width
	Doc   string // one line for the constant's comment
}

// kind is one shape of innermost loop. The dispatcher picks it from the
// innermost source stride of the canonicalised view.
type kind struct {
	Name string // suffix of the kernel names and name of the Kind constant
	Doc  string // what the kind's innermost loop does, for comments
	// Stride is the innermost source stride the kind implies (the kernel
	// then never reads strides[rank-1]), or anyStride.
	Stride int
	// Emit emits the innermost loop over axis (see emit.go).
	Emit func(axis int, w width) []jen.Code
	// Planes, when set, emits the loops over the last three axes (the last
	// two in a rank-2 kernel) as one call (see emit.go); Emit then covers
	// rank 1.
	Planes func(axis int, w width, rank int) []jen.Code
}

// anyStride marks a kind whose innermost source stride is read, not implied.
const anyStride = -1

// widths lists the element sizes, in increasing order.
var widths = []width{
	// int8, uint8: 8 rows of 16 bytes become 16 rows of 8 bytes (AVX2: XMM; NEON: two 8×8 byte transposes in Q registers).
	{Carrier: "uint8", Size: 1, TileI: 8, TileJ: 16, BlockI: 512, Stage: true},
	// int16, uint16, float16, bfloat16: 8×8 (XMM; Q registers).
	{Carrier: "uint16", Size: 2, TileI: 8, TileJ: 8, BlockI: 256, Stage: true},
	// int32, uint32, float32: 8×8 (YMM, as HPTT's micro-kernel; four 4×4 in Q registers).
	{Carrier: "uint32", Size: 4, TileI: 8, TileJ: 8, BlockI: 128},
	// int64, uint64, float64: 4×4 (YMM; four 2×2 in Q registers).
	{Carrier: "uint64", Size: 8, TileI: 4, TileJ: 4, BlockI: 64},
}

// dtypes lists every element type of the library; the order fixes the values
// of the DType constants.
var dtypes = []dtype{
	{Const: "Float32", Name: "float32", Size: 4, Doc: "IEEE 754 binary32, Go float32"},
	{Const: "Float64", Name: "float64", Size: 8, Doc: "IEEE 754 binary64, Go float64"},
	{Const: "Float16", Name: "float16", Size: 2, Doc: "IEEE 754 binary16, github.com/x448/float16.Float16"},
	{Const: "BFloat16", Name: "bfloat16", Size: 2, Doc: "bfloat16 (the top half of a float32), reshape.BFloat16"},
	{Const: "Int8", Name: "int8", Size: 1, Doc: "Go int8"},
	{Const: "Uint8", Name: "uint8", Size: 1, Doc: "Go uint8"},
	{Const: "Int16", Name: "int16", Size: 2, Doc: "Go int16"},
	{Const: "Uint16", Name: "uint16", Size: 2, Doc: "Go uint16"},
	{Const: "Int32", Name: "int32", Size: 4, Doc: "Go int32"},
	{Const: "Uint32", Name: "uint32", Size: 4, Doc: "Go uint32"},
	{Const: "Int64", Name: "int64", Size: 8, Doc: "Go int64"},
	{Const: "Uint64", Name: "uint64", Size: 8, Doc: "Go uint64"},
}

// kinds lists the innermost loops; the order fixes the values of the Kind
// constants.
var kinds = []kind{
	// Innermost source stride 1: every output row is one contiguous run of
	// the source. The last three axes go to copyRows, which moves rows of
	// 16 bytes to 2 KiB with inline vector moves (a memmove call per row of
	// 64-256 B cost up to half the bandwidth, and a call per plane of 8 rows
	// of 16 bytes most of it) and longer rows with copy().
	{Name: "Rows", Doc: "innermost source stride is 1: each output row is one copy() of a contiguous source run",
		Stride: 1, Emit: emitRows, Planes: emitRowsPlanes},
	// Innermost source stride neither 0 nor 1 (negative included): an
	// element-by-element gather, unrolled four times.
	{Name: "Gather", Doc: "innermost source stride is neither 0 nor 1: elements are gathered one by one, four per iteration",
		Stride: anyStride, Emit: emitGather},
	// Innermost source stride 0: one source element fills a whole output row.
	{Name: "Broadcast", Doc: "innermost source stride is 0: one source element is loaded and stored across the whole output row",
		Stride: 0, Emit: emitBroadcast},
}

// unroll is how many elements one iteration of the Gather and Broadcast inner
// loops moves before the scalar tail.
const unroll = 4

// promisedRank is the lowest -max-rank: the library promises kernels for
// ranks 2 to 6 (README, reshape's TestRegistryCoversPromise), so a smaller
// one is refused rather than generating a registry the tests reject.
const promisedRank = 6

// maxMaxRank is the highest -max-rank.
const maxMaxRank = 16

// minRank is the lowest rank that gets kernels. Rank 1 has kernels too: a
// strided or broadcast vector (a column of a matrix, say) needs one.
const minRank = 1

var identifier = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// validate checks the tables and the requested maximum rank before anything is
// rendered, so a bad edit stops the generator instead of producing code that
// fails to compile or, worse, dispatches to the wrong width.
func validate(maxRank int) error {
	if maxRank < promisedRank {
		return fmt.Errorf("-max-rank %d: must be at least %d, the ranks the library promises kernels for (reshape's TestRegistryCoversPromise)", maxRank, promisedRank)
	}
	if maxRank > maxMaxRank {
		return fmt.Errorf("-max-rank %d: above 16 the kernels grow without measurable gain; ranks above the maximum already run through the dispatcher's outer loop", maxRank)
	}
	sizes := map[int]bool{}
	for i, w := range widths {
		if w.Size <= 0 || w.Size&(w.Size-1) != 0 {
			return fmt.Errorf("width %s: size %d is not a power of two", w.Carrier, w.Size)
		}
		if err := checkGoTile(w); err != nil {
			return err
		}
		if v := w.TileJ * w.Size; v != 16 && v != 32 {
			return fmt.Errorf("width %s: a tile row of %d bytes is not one XMM or YMM vector (one or two Q registers)", w.Carrier, v)
		}
		if row := w.TileJ * w.Size; avx512Split[w.Size] && (row == 32) == avx512Lanes[w.Size] {
			return fmt.Errorf("width %s: avx512Split needs tile rows of 32 bytes, or of 16 with avx512Lanes for an odd tile column; a tile row is %d bytes", w.Carrier, row)
		}
		if avx512Lanes[w.Size] && avx512Ahead[w.Size] {
			return fmt.Errorf("width %s: avx512Ahead has no form for the lane bands or the pairs of tile columns of avx512Split", w.Carrier)
		}
		if avx512Split[w.Size] && 32/w.Size > 16 {
			return fmt.Errorf("width %s: a split band would hold %d source registers, more than half the 32 ZMM registers", w.Carrier, 32/w.Size)
		}
		if tallCachedSizes[w.Size] && !tallSizes[w.Size] {
			return fmt.Errorf("width %s: tallCachedSizes has %d bytes, which tallSizes does not", w.Carrier, w.Size)
		}
		if tallSizes[w.Size] && w.BlockI < tallRows && tallRows%(w.TileI*w.Bands()) != 0 {
			return fmt.Errorf("width %s: a buffered block of %d rows (tallRows) is not made of whole bands of %d×%d tiles", w.Carrier, tallRows, w.TileI, w.TileJ)
		}
		if w.BlockI <= 0 || w.BlockI%(w.TileI*w.Bands()) != 0 {
			return fmt.Errorf("width %s: block of %d rows is not made of whole bands of %d×%d tiles", w.Carrier, w.BlockI, w.TileI, w.TileJ)
		}
		for _, line := range append([]int{otherCacheLine}, backendLines()...) {
			if bj := blockJ(w, line); bj <= 0 || bj%w.TileJ != 0 {
				return fmt.Errorf("width %s: a block of one %d-byte line, %d columns, is not made of whole %d×%d tiles", w.Carrier, line, bj, w.TileI, w.TileJ)
			}
		}
		for _, b := range backends {
			if !b.HasTile(w) {
				return fmt.Errorf("width %s: no %s register transpose", w.Carrier, b.ISA)
			}
		}
		if avx512Widths[w.Size] && !avx512Lanes[w.Size] && !avx512Split[w.Size] {
			return fmt.Errorf("width %s: AVX-512 tiles with neither avx512Lanes nor avx512Split bands", w.Carrier)
		}
		if i > 0 && widths[i-1].Size >= w.Size {
			return fmt.Errorf("width %s: widths must be listed in increasing size", w.Carrier)
		}
		sizes[w.Size] = true
	}
	for _, b := range builds() {
		if err := b.Crowd.check(sizes); err != nil {
			return fmt.Errorf("%s crowding: %w", b.Arch, err)
		}
	}
	seen := map[string]bool{}
	for _, d := range dtypes {
		if !identifier.MatchString(d.Const) {
			return fmt.Errorf("dtype %q: constant name is not an exported identifier", d.Const)
		}
		if seen[d.Const] || seen[d.Name] {
			return fmt.Errorf("dtype %s: listed twice", d.Const)
		}
		seen[d.Const], seen[d.Name] = true, true
		if !sizes[d.Size] {
			return fmt.Errorf("dtype %s: no width of %d bytes", d.Const, d.Size)
		}
	}
	seenPair := map[string]bool{}
	for _, cv := range conversions {
		from, okFrom := dtypeByConst(cv.From)
		to, okTo := dtypeByConst(cv.To)
		switch {
		case !okFrom || !okTo:
			return fmt.Errorf("conversion %s → %s: not a dtype", cv.From, cv.To)
		case from.Const == to.Const:
			return fmt.Errorf("conversion %s → %s: a dtype to itself is a copy", cv.From, cv.To)
		case seenPair[cv.From+" "+cv.To]:
			return fmt.Errorf("conversion %s → %s: listed twice", cv.From, cv.To)
		case cv.Scalar == nil || cv.Load == nil || cv.Store == nil:
			return fmt.Errorf("conversion %s → %s: no Go or no vector form", cv.From, cv.To)
		case cv.Lanes != 4 && cv.Lanes != 8:
			return fmt.Errorf("conversion %s → %s: %d lanes, want the 4 or 8 of a YMM register", cv.From, cv.To, cv.Lanes)
		}
		seenPair[cv.From+" "+cv.To] = true
	}
	seenKind, seenStride := map[string]bool{}, map[int]bool{}
	for _, k := range kinds {
		if !identifier.MatchString(k.Name) {
			return fmt.Errorf("kind %q: name is not an exported identifier", k.Name)
		}
		if seenKind[k.Name] {
			return fmt.Errorf("kind %s: listed twice", k.Name)
		}
		seenKind[k.Name] = true
		if k.Emit == nil {
			return fmt.Errorf("kind %s: no emitter for its innermost loop", k.Name)
		}
		if k.Stride < anyStride {
			return fmt.Errorf("kind %s: implied stride %d is neither anyStride nor a stride", k.Name, k.Stride)
		}
		if seenStride[k.Stride] {
			return fmt.Errorf("kind %s: another kind covers innermost stride %d", k.Name, k.Stride)
		}
		seenStride[k.Stride] = true
	}
	return nil
}

// backendLines returns the cache line of every backend.
func backendLines() []int {
	var out []int
	for _, b := range backends {
		out = append(out, b.CacheLine)
	}
	return out
}

// widthOf returns the width that carries elements of d.
func widthOf(d dtype) width {
	for _, w := range widths {
		if w.Size == d.Size {
			return w
		}
	}
	panic("unreachable: validate checked every dtype has a width")
}

// conversion is a pair of dtypes whose conversion has kernels of its own: a
// Go form, and on amd64 AVX2 loops over rows of whole vectors and a
// register tile transpose that converts as it loads or stores. Every other
// pair converts through reshape's generic fallback. The pairs are those of
// models that run in bfloat16 or float16 and of sparse autoencoders that
// train in float32, and of quantised activations.
//
// The vector forms compute in one YMM register of Lanes elements of the
// wider of the two types: Load reads Lanes source elements into it,
// converting if the source is the narrower, Store writes it as Lanes
// destination elements, converting if the destination is the narrower.
// The transpose's tile is Lanes × Lanes.
type conversion struct {
	From, To string // dtype constants
	// Scalar is the Go expression that converts one element: x is the
	// source element as its width's carrier, the result is the
	// destination's carrier.
	Scalar func(x *jen.Statement) *jen.Statement
	Lanes  int // 8 (float32 and narrower) or 4 (float64)
	Load   func(c *build.Context, m operand.Mem, k []reg.VecVirtual) reg.VecVirtual
	// Store's nt makes the store non-temporal (m then 16- or 32-byte
	// aligned, as the vector it stores).
	Store func(c *build.Context, v reg.VecVirtual, m operand.Mem, k []reg.VecVirtual, nt bool)
	// Setup, when set, loads the constants Load and Store use, once per call.
	Setup func(c *build.Context) []reg.VecVirtual
	// F16C marks a vector form that needs F16C besides AVX2.
	F16C bool
}

// conversions lists the specialised pairs, in the order of the generated
// functions.
var conversions = []conversion{
	// bfloat16 is the top half of a float32: widen and shift.
	{From: "BFloat16", To: "Float32", Scalar: func(x *jen.Statement) *jen.Statement { return jen.Uint32().Call(x).Op("<<").Lit(16) },
		Lanes: 8, Load: loadWiden(wideZX16, 16, false), Store: storeY},
	{From: "Float16", To: "Float32", Scalar: f16ToF32Scalar, Lanes: 8, Load: loadF16, Store: storeY, F16C: true},
	{From: "Float64", To: "Float32", Scalar: func(x *jen.Statement) *jen.Statement { return f32bits(jen.Float32().Call(f64from(x))) },
		Lanes: 8, Load: loadF64AsF32, Store: storeY},
	// Rounds with integer operations: AVX-512 BF16 (VCVTNEPS2BF16) flushes
	// subnormals, which the rules keep.
	{From: "Float32", To: "BFloat16", Scalar: func(x *jen.Statement) *jen.Statement { return jen.Id("f32ToBF16").Call(x) },
		Lanes: 8, Load: loadY, Store: storeBF16, Setup: setupBF16},
	{From: "Float32", To: "Float16", Scalar: f32ToF16Scalar, Lanes: 8, Load: loadY, Store: storeF16, F16C: true},
	{From: "Float32", To: "Float64", Scalar: func(x *jen.Statement) *jen.Statement { return f64bits(jen.Float64().Call(f32from(x))) },
		Lanes: 4, Load: loadF32AsF64, Store: storeY},
	{From: "Int8", To: "Float32", Scalar: func(x *jen.Statement) *jen.Statement { return f32bits(jen.Float32().Call(jen.Int8().Call(x))) },
		Lanes: 8, Load: loadWiden(wideSX8, 0, true), Store: storeY},
	{From: "Uint8", To: "Float32", Scalar: func(x *jen.Statement) *jen.Statement { return f32bits(jen.Float32().Call(x)) },
		Lanes: 8, Load: loadWiden(wideZX8, 0, true), Store: storeY},
	{From: "Int16", To: "Float32", Scalar: func(x *jen.Statement) *jen.Statement { return f32bits(jen.Float32().Call(jen.Int16().Call(x))) },
		Lanes: 8, Load: loadWiden(wideSX16, 0, true), Store: storeY},
}

// dtypeByConst returns the dtype with constant name c.
func dtypeByConst(c string) (dtype, bool) {
	for _, d := range dtypes {
		if d.Const == c {
			return d, true
		}
	}
	return dtype{}, false
}
