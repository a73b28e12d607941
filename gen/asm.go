package main

import (
	"bytes"
	"fmt"
	"go/types"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
	"github.com/mmcloughlin/avo/reg"
)

// The amd64 kernels, written with github.com/mmcloughlin/avo. Pure Go cannot
// reach the transpose targets: with scalar loads and stores a transpose moves
// one element per store, while an AVX2 register transpose moves a whole
// vector per store (measured in benchmarks/README.md, and the purego build
// keeps the scalar path to compare). The assembly is only the innermost
// piece: whole register tiles and whole rows. Blocking, edges and dispatch
// stay in generated Go.
//
// Above each emitting function, the assembly it emits (for 4-byte elements
// where it matters).

// asmParams are the parameters of an assembly function, all pointers or ints.
type asmParam struct {
	Name    string
	Pointer bool
}

// asmFunc describes one assembly function: its name, parameters and doc, and
// the emitter of its body.
type asmFunc struct {
	Name   string
	Params []asmParam
	Doc    []string
	Body   func(c *build.Context)
	// Frame marks a function with a stack frame: it cannot be NOSPLIT.
	Frame bool
}

// tileParams are the parameters of every tilesAVX2 function.
var tileParams = []asmParam{{"dst", true}, {"src", true}, {"off", true}, {"col", false}, {"ti", false}, {"tj", false}, {"dj", false}}

// runParams are the parameters of the run copies: n bytes from src to dst.
var runParams = []asmParam{{"dst", true}, {"src", true}, {"n", false}}

// rowStreamParams are the parameters of copyRowsStreamAVX2.
var rowStreamParams = []asmParam{{"dst", true}, {"src", true}, {"outer", false}, {"outerSrc", false}, {"outerDst", false}, {"inner", false}, {"innerSrc", false}, {"innerDst", false}, {"rowBytes", false}}

// rowParams are the parameters of copyRowsAVX2.
var rowParams = []asmParam{{"dst", true}, {"src", true}, {"planes", false}, {"planeStride", false}, {"rows", false}, {"rowBytes", false}, {"srcStride", false}}

// asmFuncs lists the assembly functions in a fixed order: one tile transpose
// per width, then the row copy.
func asmFuncs() []asmFunc {
	var fs []asmFunc
	for _, w := range widths {
		w := w
		fs = append(fs, formFuncs(tilesName(w), "AVX2", w.Stage, formSet{},
			func(name string) []string { return tilesDoc(w, name, "with AVX2 register shuffles") },
			"It needs AVX2 (see Accelerated).",
			func(c *build.Context, f tileForm) {
				tl := tileOf(w)
				tl.form(f)
				emitTilesAVX2(c, tl)
			})...)
	}
	fs = append(fs, asmFunc{
		Name:   "copyRowsAVX2",
		Params: rowParams,
		Doc: append([]string{
			"copyRowsAVX2 copies planes × rows rows of rowBytes bytes each, rowBytes >= 16,",
			"the source planes planeStride bytes apart and their rows srcStride bytes",
			"apart, the destination rows back to back, with 32-byte (or, for rows under",
			"32 bytes, 16-byte) moves whose last move overlaps the one before it instead",
			"of a byte tail. It is the plain loop",
			"",
		}, append(rowsLoopDoc, "", "It needs AVX2 (see Accelerated).")...),
		Body: emitCopyRowsAVX2,
	}, asmFunc{
		Name:   "copyRowsStreamAVX2",
		Params: rowStreamParams,
		Doc: []string{
			"copyRowsStreamAVX2 copies outer × inner rows of rowBytes bytes with",
			"non-temporal stores (VMOVNTDQ), which write the destination to memory",
			"without reading its lines into the cache first, for results larger than",
			"the cache. Both loops have a source and a destination stride, so that the",
			"caller can walk the rows in either order (see copyRows). It needs rowBytes",
			"to be a multiple of 32 and every destination row 32-byte aligned, so that",
			"every store is a whole aligned 32 bytes. It is the plain loop",
			"",
			"\tfor a := 0; a < outer; a++ {",
			"\t\tfor b := 0; b < inner; b++ {",
			"\t\t\tcopy(dst[a*outerDst+b*innerDst:][:rowBytes], src[a*outerSrc+b*innerSrc:][:rowBytes])",
			"\t\t}",
			"\t}",
			"",
			"It needs AVX2 (see Accelerated). It leaves its non-temporal stores",
			"unfenced: the kernels that call it fence once when they return",
			"(StreamFence).",
		},
		Body: emitCopyRowsStreamAVX2,
	}, asmFunc{
		Name:   "copyRunERMS",
		Params: runParams,
		Doc: []string{
			"copyRunERMS copies n bytes from src to dst with REP MOVSB, which CPUs with",
			"ERMS and FSRM (see FastStrings) run as their fastest cached copy of long runs.",
			"dst and src must not overlap.",
		},
		Body: emitCopyRunERMS,
	}, asmFunc{
		Name:   "copyRunStreamAVX2",
		Params: runParams,
		Doc: []string{
			"copyRunStreamAVX2 copies n >= 64 bytes from src to dst with non-temporal",
			"stores of whole lines: ordinary stores up to the first 64-byte boundary of",
			"dst, aligned VMOVNTDQ stores of each whole line from there, and ordinary",
			"stores of the bytes after the last whole line, so that no line is written",
			"partly non-temporally: runs that start and end inside lines, as the",
			"buffered transposes' rows do, ran 2-2.5x slower with non-temporal half",
			"lines at their ends than with ordinary stores throughout, and 1.6-2x",
			"faster with whole lines alone (transpose2d-odd at 64 MiB on the Xeon",
			"VM). dst and src must not overlap. It needs AVX2 (see Accelerated).",
			"It leaves its non-temporal stores unfenced: the kernels that call it",
			"fence once when they return (StreamFence).",
		},
		Body: emitCopyRunStreamAVX2,
	}, asmFunc{
		Name: "fenceStores",
		Doc: []string{
			"fenceStores orders every store before it, non-temporal ones included,",
			"before every store after it (SFENCE).",
		},
		Body: emitFenceStores,
	}, asmFunc{
		Name:   "cpuid",
		Params: []asmParam{{"leaf", false}, {"sub", false}, {"out", true}},
		Doc: []string{
			"cpuid runs CPUID with EAX = leaf and ECX = sub and stores EAX, EBX, ECX",
			"and EDX in the four uint32 at out.",
		},
		Body: emitCPUID,
	})
	fs = append(fs, convAsmFuncs()...)
	return append(append(append(fs, avx512Funcs()...), avx512TailFuncs()...), avx512AlignedFuncs()...)
}

// tileForm is one of the forms of the tile transposes of the assembly,
// for where its result lies: the walks of TransposeRows pick one from
// their stream flag, the destination's alignment and span, and the
// source rows (the Packed, PackedStream and Ahead forms only some kernels
// have, see formSet):
//   - the plain form, for results that fit the cache;
//   - Prefetch, for results beyond it: each source row's load is
//     accompanied by a prefetch of the row's next line, which the next
//     block reads (a block reads one line from each of its 64-512 rows,
//     more streams than the hardware prefetchers follow);
//   - Stream, Prefetch with non-temporal stores (VMOVNTDQ) of the whole
//     destination lines, which go to memory without first being read into
//     the cache, for destinations whose rows are whole aligned lines;
//   - Packed, the plain form that first copies the source line of each row
//     of a whole band to a buffer on the stack, for source rows that crowd
//     the L1 cache's sets (only the AVX-512 kernels of avx512Packs);
//   - PackedStream, Stream that packs as Packed does, for results beyond
//     the cache whose source rows crowd the L1 cache's sets (only the
//     AVX-512 kernels of avx512StreamPacks);
//   - Ahead, the plain form that prefetches, with each whole band, the
//     destination lines of the next tile column's band, for destinations
//     beyond the L1 cache (only the kernels with bands of avx512Ahead).
//     A band stores one line to each of TileJ destination rows, lines
//     that no hardware prefetcher foresees, and each store that misses
//     the L1 cache must first fetch its line; ahead, those fetches overlap
//     the bands before.
//
// Measured on the 2-vCPU EPYC VM (transpose2d, one worker, ratios to the
// ceiling, medians of 2 interleaved rounds, 64 MiB): the non-temporal
// stores took uint8 0.14 to 0.31, bfloat16 0.37 to 0.43-0.50, float32 0.44
// to 0.50, float64 0.47 to 0.53; adding the prefetch to them took float32
// 0.44 to 0.58-0.64, float64 0.35 to 0.60-0.67, bfloat16 0.37 to 0.48,
// uint8 0.29 to 0.32-0.38. At 256 KiB the prefetch cost 5-15% (its lines
// are already in L2), hence a form apart; which widths prefetch where the
// destination rows are not whole lines, emitTranspose says.
type tileForm struct {
	Suffix   string   // in the kernel's name, before the ISA
	Const    string   // its tileStores constant in the generated Go
	ConstDoc []string // and that constant's doc
	Prefetch bool     // prefetch the next line of every source row
	Stream   bool     // non-temporal stores of whole bands
	Pack     bool     // copy each whole band's source lines to the stack first
	Ahead    bool     // prefetch the destination lines of the next tile column's band
	Doc      []string
}

// tileForms are the forms of every assembly tile transpose.
var tileForms = []tileForm{
	{Const: "cachedTiles", ConstDoc: []string{"cachedTiles is for results that fit the cache: plain loads and stores."}},
	{Suffix: "Prefetch", Const: "prefetchTiles", Prefetch: true, ConstDoc: []string{
		"prefetchTiles is for results beyond the cache: each source row's next",
		"line is prefetched, for the next block.",
	}, Doc: []string{
		"With every source row it loads, it prefetches the row's next line (the",
		"line the next block reads), for results larger than the cache.",
	}},
	{Suffix: "Stream", Const: "streamTiles", Prefetch: true, Stream: true, ConstDoc: []string{
		"streamTiles is prefetchTiles with non-temporal stores of whole",
		"destination lines: dst and dj must be multiples of 64.",
	}, Doc: []string{
		"With every source row it loads, it prefetches the row's next line (the",
		"line the next block reads), and whole bands of tiles, which write one",
		"or two whole 64-byte lines of each destination row they touch, write",
		"them with non-temporal stores (VMOVNTDQ), for results larger than the",
		"cache: dst and dj must be multiples of 64 (a ZMM one faults on any other",
		"address). The tile rows after the last whole band keep ordinary stores.",
		"It leaves its non-temporal stores unfenced: the caller fences them once,",
		"after its last streamed call (StreamFence).",
	}},
	{Suffix: "Packed", Const: "packedTiles", Pack: true, ConstDoc: []string{
		"packedTiles is cachedTiles for source rows that crowd the L1 cache's",
		"sets, where the kernel has that form (see packs): tj tile columns",
		"must span one whole line of each row, 64 bytes.",
	}, Doc: []string{
		"Before the tile columns of each whole band, it copies the 64 bytes from",
		"col of each of the band's source rows, one line each, to a buffer on",
		"its stack, from which the columns then read: tj*TileJ elements must be",
		"those 64 bytes. Rows that fall into a few of the L1 cache's sets are",
		"then each read from the next level once, not once per tile column. The",
		"tile rows after the last whole band read the rows in place.",
	}},
	{Suffix: "Ahead", Const: "aheadTiles", Ahead: true, ConstDoc: []string{
		"aheadTiles is cachedTiles for destinations beyond the L1 cache, where",
		"the kernel has that form (see aheadBands): each whole band prefetches",
		"the destination lines that the band of the next tile column writes.",
	}, Doc: []string{
		"With each whole band it prefetches the destination lines of the band",
		"of the next tile column (dj*TileJ bytes on; past the last one, the",
		"lines of the walk's next block, or of none: a prefetch never faults),",
		"so that they are in the L1 cache when that band stores to them, for",
		"destinations that the L1 cache does not hold.",
	}},
	{Suffix: "PackedStream", Const: "packedStreamTiles", Pack: true, Prefetch: true, Stream: true, ConstDoc: []string{
		"packedStreamTiles is streamTiles for source rows that crowd the L1",
		"cache's sets, where the kernel has that form (see streamPacks): the",
		"Packed form's packing, prefetching each row's next line as it packs,",
		"and non-temporal stores; tj tile columns must span one whole line of",
		"each row, 64 bytes, and dst and dj must be multiples of 64.",
	}, Doc: []string{
		"Before the tile columns of each whole band, it copies the 64 bytes from",
		"col of each of the band's source rows to a buffer on its stack, as the",
		"Packed form does, and prefetches each row's next line (the line the next",
		"block reads); the whole bands then write whole destination lines with",
		"non-temporal stores (VMOVNTDQ), as the Stream form does: tj*TileJ",
		"elements must be those 64 bytes, and dst and dj multiples of 64. It",
		"leaves its non-temporal stores unfenced (StreamFence).",
	}},
}

// formSet says which of the forms that not every kernel has (Packed,
// PackedStream, Ahead) a kernel has: the others it has all.
type formSet struct{ pack, streamPack, ahead bool }

// has reports whether a kernel with the forms of s has form f.
func (s formSet) has(f tileForm) bool {
	switch {
	case f.Pack && f.Stream:
		return s.streamPack
	case f.Pack:
		return s.pack
	case f.Ahead:
		return s.ahead
	}
	return true
}

// formFuncs lists the assembly functions of one tile transpose, base+ISA,
// one per form of set: contract gives the doc of each name, needs says
// what the kernel needs, and emit writes its body in a form.
func formFuncs(base, isa string, frame bool, set formSet, contract func(name string) []string, needs string, emit func(c *build.Context, f tileForm)) []asmFunc {
	var fs []asmFunc
	for _, f := range tileForms {
		if !set.has(f) {
			continue
		}
		f := f
		name := base + f.Suffix + isa
		fs = append(fs, asmFunc{
			Name:   name,
			Params: tileParams,
			Doc:    f.doc(contract(name), needs),
			Body:   func(c *build.Context) { emit(c, f) },
			Frame:  frame || f.Pack, // the packed rows are on its stack
		})
	}
	return fs
}

// doc appends the form's paragraph and the kernel's needs to its contract.
func (f tileForm) doc(contract []string, needs string) []string {
	out := append(contract, "")
	if f.Doc != nil {
		out = append(append(out, f.Doc...), "")
	}
	return append(out, needs)
}

// form sets the tile's prefetch, stores, packing and destination
// prefetch to those of f, and its name.
func (t *tile) form(f tileForm) {
	t.name += f.Suffix
	t.prefetch, t.stream, t.pack, t.ahead = f.Prefetch, f.Stream, f.Pack, f.Ahead
}

// rowsLoopDoc is the plain loop that states the contract of the row copies.
var rowsLoopDoc = []string{
	"\tfor p := 0; p < planes; p++ {",
	"\t\tfor r := 0; r < rows; r++ {",
	"\t\t\tk := p*rows + r",
	"\t\t\tcopy(dst[k*rowBytes:(k+1)*rowBytes], src[p*planeStride+r*srcStride:][:rowBytes])",
	"\t\t}",
	"\t}",
}

// tilesName is the name of the tile transpose of a width: tilesUint32.
func tilesName(w width) string { return "tiles" + exported(w.Carrier) }

// tilesDoc states the contract of a tile transpose as its plain loop.
func tilesDoc(w width, name, how string) []string {
	return []string{
		fmt.Sprintf("%s transposes ti × tj whole tiles of %d×%d %d-byte elements %s.", name, w.TileI, w.TileJ, w.Size, how),
		"Source row i starts off[i]+col bytes from src, its elements j adjacent (the",
		"rows may come from several source axes: off is a table); destination row j",
		"starts j*dj bytes from dst, its elements i adjacent. It is the plain loop",
		"",
		fmt.Sprintf("\tfor i := 0; i < ti*%d; i++ {", w.TileI),
		fmt.Sprintf("\t\tfor j := 0; j < tj*%d; j++ {", w.TileJ),
		fmt.Sprintf("\t\t\t*(dst + j*dj + i*%d) = *(src + off[i] + col + j*%d) // byte addresses", w.Size, w.Size),
		"\t\t}",
		"\t}",
	}
}

// renderAsm renders the assembly of asmFuncs for amd64. Its stubs are
// rendered with jennifer (renderAsmStubs), since avo's stub printer does not
// import unsafe.
func renderAsm(maxRank int) ([]byte, error) {
	c := build.NewContext()
	c.ConstraintExpr("amd64,!purego") // avo takes the old "// +build" syntax of amd64Backend.constraint()
	for _, f := range asmFuncs() {
		c.Function(f.Name)
		if !f.Frame {
			c.Attributes(attr.NOSPLIT) // leaf functions without a frame
		}
		c.Signature(asmSignature(f.Params))
		f.Body(c)
	}
	file, err := c.Result()
	if err != nil {
		return nil, fmt.Errorf("avo: %w", err)
	}
	if err := pass.Compile.Execute(file); err != nil {
		return nil, fmt.Errorf("avo: %w", err)
	}
	src, err := printer.NewGoAsm(printer.Config{Pkg: pkgName}).Print(file)
	if err != nil {
		return nil, fmt.Errorf("avo: %w", err)
	}
	// The same header as every other generated file, in place of avo's.
	_, rest, ok := bytes.Cut(src, []byte("\n"))
	if !ok {
		return nil, fmt.Errorf("avo: no header line in %q", src)
	}
	header := fmt.Sprintf("%s-max-rank %d\"; DO NOT EDIT.\n//\n// The amd64 kernels, written with github.com/mmcloughlin/avo by gen/asm.go.\n", generatedPrefix, maxRank)
	return append([]byte(header), rest...), nil
}

// asmSignature is the Go signature of an assembly function.
func asmSignature(params []asmParam) *gotypes.Signature {
	var vars []*types.Var
	for _, p := range params {
		t := types.Typ[types.Int]
		if p.Pointer {
			t = types.Typ[types.UnsafePointer]
		}
		vars = append(vars, types.NewParam(0, nil, p.Name, t))
	}
	return gotypes.NewSignature(nil, types.NewSignatureType(nil, nil, nil, types.NewTuple(vars...), nil, false))
}

// param loads an int or pointer parameter into a new register. (avo's Load
// cannot deduce the move for unsafe.Pointer.)
func param(c *build.Context, name string) reg.GPVirtual {
	r := c.GP64()
	c.MOVQ(paramAddr(c, name), r)
	return r
}

// paramAddr is the stack slot of a parameter, for reading it again in a
// loop instead of holding a register.
func paramAddr(c *build.Context, name string) Mem {
	b, err := c.Param(name).Resolve()
	if err != nil {
		panic("unreachable: every asmFunc parameter is in its signature: " + err.Error())
	}
	return b.Addr
}

// eachRow calls use with the address of each of n consecutive rows, stride
// bytes apart, from base: (base), (base)(stride*1), (base)(stride*2),
// (base)(stride3*1), then the same from base+4*stride, and so on. Before
// each further group of four it emits a LEAQ into tmp, so use must emit its
// instruction when called.
func eachRow(c *build.Context, n int, base, stride, stride3, tmp reg.GPVirtual, disp int, use func(k int, m Mem)) {
	b := base
	for k := 0; k < n; k++ {
		if k > 0 && k%4 == 0 {
			c.LEAQ(Mem{Base: b, Index: stride, Scale: 4}, tmp)
			b = tmp
		}
		switch k % 4 {
		case 0:
			use(k, Mem{Base: b, Disp: disp})
		case 1:
			use(k, Mem{Base: b, Index: stride, Scale: 1, Disp: disp})
		case 2:
			use(k, Mem{Base: b, Index: stride, Scale: 2, Disp: disp})
		case 3:
			use(k, Mem{Base: b, Index: stride3, Scale: 1, Disp: disp})
		}
	}
}

// tile describes a register tile transpose for emitTiles: its shape, the
// element sizes on either side (they differ when it converts), how a source
// row of the tile is loaded, the shuffle, and how a destination row is
// stored.
type tile struct {
	name             string // the function's name, without AVX2
	tileI, tileJ     int    // TileI source rows of TileJ elements become TileJ destination rows of TileI
	srcSize, dstSize int
	stage            bool // through a buffer of one line per destination row (see width.Stage)
	// prefetch adds a prefetch of each source row's next line (at
	// +cacheLineBytes) to its load (see tileForm).
	prefetch bool
	// stream makes the whole bands' stores non-temporal (VMOVNTDQ): each
	// band writes a whole 64-byte line of every destination row it
	// touches, which then goes to memory without being read into the
	// cache first. It needs every destination line of a band 64-byte
	// aligned; the single tile rows after the bands keep ordinary stores.
	stream bool
	// pack copies the source line of each row of a whole band (bands()
	// tile rows, 64 bytes from col of each) to a buffer on the stack, with
	// ZMM moves, before the band's tile columns read them from there (see
	// tileForm); it needs band, which reads them (bandRegs.packed).
	pack bool
	// ahead prefetches, with each whole band, the destination lines of the
	// band of the next tile column (see tileForm); it needs band, which
	// prefetches them (bandRegs.ahead).
	ahead bool
	// pairBand, when set with band, moves a whole band of two tile columns
	// at a time (2*tileJ destination lines) while two are left; band takes
	// an odd one.
	pairBand func(c *build.Context, r bandRegs, nt bool)
	// setup, when set, loads constants that load and store use, once.
	setup func(c *build.Context) []reg.VecVirtual
	// load returns source row r of a tile, read at m.
	load func(c *build.Context, m Mem, k []reg.VecVirtual) reg.VecVirtual
	// shuffle transposes the loaded rows (see avx2Shuffles).
	shuffle func(c *build.Context, rows []reg.VecVirtual) []reg.VecVirtual
	// store writes destination row r of a tile from the shuffled vectors,
	// with a non-temporal store where nt.
	store func(c *build.Context, out []reg.VecVirtual, r int, m Mem, k []reg.VecVirtual, nt bool)
	// band, when set, moves a whole band (bands() tile rows of one tile
	// column) in place of the tile-by-tile load, shuffle and store (see
	// asm_avx512.go), with non-temporal stores where nt.
	band func(c *build.Context, r bandRegs, nt bool)
	// bandTiles, when set, is the tile rows of a band, in place of those
	// of one destination line (the converting AVX-512 bands,
	// emitConvBandAVX512, which read 32 source rows whatever the widths).
	bandTiles int
}

// bands is how many tile rows the assembly transposes per step along a
// tile column: enough for one destination line, 64 bytes, per destination
// row, or bandTiles.
func (t tile) bands() int {
	if t.bandTiles > 0 {
		return t.bandTiles
	}
	return max(1, cacheLineBytes/(t.tileI*t.dstSize))
}

// tileOf is the plain transpose tile of a width: rows loaded whole, stored
// whole, or two 8-byte rows per vector for 1-byte elements.
func tileOf(w width) tile {
	return tile{
		name: tilesName(w), tileI: w.TileI, tileJ: w.TileJ, srcSize: w.Size, dstSize: w.Size, stage: w.Stage,
		load: func(c *build.Context, m Mem, _ []reg.VecVirtual) reg.VecVirtual {
			v := w.vec(c)
			c.VMOVDQU(m, v)
			return v
		},
		shuffle: avx2Shuffles[w.Size],
		store: func(c *build.Context, out []reg.VecVirtual, r int, m Mem, _ []reg.VecVirtual, nt bool) {
			switch {
			case len(out) == w.TileJ && nt:
				c.VMOVNTDQ(out[r], m)
			case len(out) == w.TileJ:
				c.VMOVDQU(out[r], m)
			case nt:
				panic("unreachable: tiles of half-vector destination rows are staged (width.Stage)")
			case r%2 == 0: // two destination rows of 8 bytes per 16-byte vector
				c.VMOVQ(out[r/2], m)
			default:
				c.VMOVHPS(out[r/2], m)
			}
		},
	}
}

// emitTilesAVX2 emits the loops of a tile transpose around the register
// tile: bands of t.bands() tile rows at a time, so that each destination
// row of a tile column gets a whole 64-byte line from consecutive tiles,
// then single tile rows for the rest:
//
//	loop_bands:              // while ti >= 2: two tile rows, 16 source rows
//		MOVQ src, s; ADDQ col, s; MOVQ dst, d; MOVQ tj+40(FP), k
//	loop_bands_j:            // tj tile columns along them
//		MOVQ (off), t; VMOVDQU (s)(t*1), Y0 ... (8 source rows of band 0)
//		... shuffles (avx2Shuffles) ...
//		VMOVDQU Y0, (d) ... (8 destination rows, columns 0-7)
//		MOVQ 64(off), t; VMOVDQU (s)(t*1), Y0 ... (band 1)
//		VMOVDQU Y0, 32(d) ... (the same 8 destination rows, columns 8-15)
//		ADDQ $32, s; ADDQ dj8, d; DECQ k; JNZ loop_bands_j
//		ADDQ $128, off; ADDQ $64, dst; SUBQ $2, ti; ...
//	loop_single: ...         // the same, one tile row at a time
//
// A source row of a tile is one vector load (t.load); a destination row is
// one vector store, or half of one (t.store). With t.band a whole band
// moves in one step instead (loop_bands_j's body); with t.pairBand too,
// loop_bands_j2 first moves two tile columns' bands at a time while two
// are left (SUBQ $2, k), and loop_bands_j takes an odd last one.
func emitTilesAVX2(c *build.Context, tl tile) {
	dst, src, off, ti, dj := param(c, "dst"), param(c, "src"), param(c, "off"), param(c, "ti"), param(c, "dj")
	name := tl.name
	col, tj := paramAddr(c, "col"), paramAddr(c, "tj")
	var k []reg.VecVirtual
	if tl.setup != nil {
		k = tl.setup(c)
	}

	dj3 := c.GP64()
	c.LEAQ(Mem{Base: dj, Index: dj, Scale: 2}, dj3)
	djStep := c.GP64() // bytes from one tile column to the next in dst: TileJ rows
	c.IMUL3Q(Imm(uint64(tl.tileJ)), dj, djStep)
	s, d, kk, t, tmp := c.GP64(), c.GP64(), c.GP64(), c.GP64(), c.GP64()

	// With stage, whole bands go through a buffer of one line per
	// destination row, then out a line at a time.
	var buf, pbuf Mem
	if tl.stage {
		buf = c.AllocLocal(tl.tileJ * cacheLineBytes)
	}
	if tl.pack {
		if tl.band == nil {
			panic("unreachable: formSet gives the Packed form only to kernels with bands")
		}
		pbuf = c.AllocLocal(tl.bands()*tl.tileI*cacheLineBytes + cacheLineBytes)
	}
	if tl.ahead && tl.band == nil {
		panic("unreachable: formSet gives the Ahead form only to kernels with bands")
	}
	bandLoop := func(bands int, label string) {
		staged := tl.stage && bands == tl.bands()
		nt := tl.stream && bands == tl.bands()
		c.Label(label)
		c.MOVQ(src, s)
		c.ADDQ(col, s)
		c.MOVQ(dst, d)
		c.MOVQ(tj, kk)
		c.TESTQ(kk, kk)
		c.JZ(LabelRef(name + "_done"))
		packed := tl.pack && bands == tl.bands()
		if packed { // to the buffer, from its first line boundary; s then points there
			c.LEAQ(pbuf.Offset(cacheLineBytes-1), tmp)
			c.ANDQ(I32(-cacheLineBytes), tmp)
			for r := 0; r < bands*tl.tileI; r++ {
				c.MOVQ(Mem{Base: off, Disp: 8 * r}, t)
				if tl.prefetch {
					c.PREFETCHT0(Mem{Base: s, Index: t, Scale: 1, Disp: cacheLineBytes})
				}
				z := c.ZMM()
				c.VMOVDQU64(Mem{Base: s, Index: t, Scale: 1}, z)
				c.VMOVDQA64(z, Mem{Base: tmp, Disp: r * cacheLineBytes})
			}
			c.MOVQ(tmp, s)
		}
		br := bandRegs{s: s, off: off, t: t, d: d, dj: dj, dj3: dj3, djStep: djStep, tmp: tmp, packed: packed, ahead: tl.ahead}
		pairs := tl.pairBand != nil && bands == tl.bands()
		if pairs {
			if tl.ahead || tl.stage {
				panic("unreachable: the kernels with pairs of bands neither stage nor prefetch ahead (validate)")
			}
			c.Label(label + "_j2")
			c.CMPQ(kk, U8(2))
			c.JB(LabelRef(label + "_j"))
			tl.pairBand(c, br, nt)
			c.ADDQ(U32(2*tl.tileJ*tl.srcSize), s)
			c.LEAQ(Mem{Base: d, Index: djStep, Scale: 2}, d)
			c.SUBQ(U8(2), kk)
			c.JNZ(LabelRef(label + "_j2"))
			c.JMP(LabelRef(label + "_jdone"))
		}
		c.Label(label + "_j")
		if tl.band != nil && bands == tl.bands() {
			tl.band(c, br, nt)
		} else {
			for b := 0; b < bands; b++ {
				rows := make([]reg.VecVirtual, tl.tileI)
				for r := range rows {
					c.MOVQ(Mem{Base: off, Disp: 8 * (b*tl.tileI + r)}, t)
					if tl.prefetch {
						c.PREFETCHT0(Mem{Base: s, Index: t, Scale: 1, Disp: cacheLineBytes})
					}
					rows[r] = tl.load(c, Mem{Base: s, Index: t, Scale: 1}, k)
				}
				out := tl.shuffle(c, rows)
				if staged {
					for r := 0; r < tl.tileJ; r++ {
						tl.store(c, out, r, buf.Offset(r*cacheLineBytes+b*tl.tileI*tl.dstSize), k, false)
					}
				} else {
					eachRow(c, tl.tileJ, d, dj, dj3, tmp, b*tl.tileI*tl.dstSize, func(r int, m Mem) { tl.store(c, out, r, m, k, nt) })
				}
			}
		}
		if staged { // flush: one whole line per destination row
			for half := 0; half < cacheLineBytes/32; half++ {
				eachRow(c, tl.tileJ, d, dj, dj3, tmp, 32*half, func(r int, m Mem) {
					v := c.YMM()
					c.VMOVDQU(buf.Offset(r*cacheLineBytes+32*half), v)
					if nt {
						c.VMOVNTDQ(v, m)
					} else {
						c.VMOVDQU(v, m)
					}
				})
			}
		}
		c.ADDQ(U32(tl.tileJ*tl.srcSize), s)
		c.ADDQ(djStep, d)
		c.DECQ(kk)
		c.JNZ(LabelRef(label + "_j"))
		if pairs {
			c.Label(label + "_jdone")
		}
		c.ADDQ(U32(8*bands*tl.tileI), off)
		c.ADDQ(U32(bands*tl.tileI*tl.dstSize), dst)
	}

	emitGroups(c, ti, tl.bands(), name+"_bands", name+"_single", name+"_one", name+"_done", bandLoop)

	c.Label(name + "_done")
	// No SFENCE when tl.stream: the caller fences once (StreamFence). One
	// per call, each a block of 8-32 KiB, drained the write-combining
	// buffers every few microseconds: at 16 MiB (in L3) the streamed
	// transposes ran 1.15-1.6x as fast without it.
	c.VZEROUPPER()
	c.RET()
}

// Bands is how many tile rows the assembly transposes per step along a
// tile column: enough for one destination line, 64 bytes, per destination
// row (a destination row of a tile is TileI*Size bytes).
func (w width) Bands() int { return max(1, cacheLineBytes/(w.TileI*w.Size)) }

// cacheLineBytes is the cache line of the CPUs the AVX2 assembly is for.
const cacheLineBytes = 64

// avx2Shuffles holds the AVX2 register transpose of one tile of each
// element size: it takes the TileI source rows and returns the
// destination rows, one per vector, or two per vector for 1-byte
// elements.
var avx2Shuffles = map[int]func(c *build.Context, rows []reg.VecVirtual) []reg.VecVirtual{
	1: shuffle8x16x8, // 8 rows of 16 bytes (XMM) become 16 rows of 8 bytes
	2: shuffle8x8x16, // 8×8 in XMM
	4: shuffle8x8x32, // 8×8 in YMM, as HPTT's micro-kernel
	8: shuffle4x4x64, // 4×4 in YMM
}

// vec allocates a vector register of the width's tile row: a source row of
// a tile is 32 bytes (YMM) for 4- and 8-byte elements, 16 bytes (XMM) for 1-
// and 2-byte ones.
func (w width) vec(c *build.Context) reg.VecVirtual {
	if w.TileJ*w.Size == 32 {
		return c.YMM()
	}
	return c.XMM()
}

// shuffle8x8x32 transposes 8 YMM rows of 8 4-byte elements:
//
//	VUNPCKLPS r1, r0, t0; VUNPCKHPS r1, r0, t1   // pairs of rows interleaved
//	VSHUFPS $0x44, t2, t0, u0; VSHUFPS $0xee, t2, t0, u1
//	VPERM2F128 $0x20, u4, u0, o0; VPERM2F128 $0x31, u4, u0, o4
//
// and so on: o[j] holds column j.
func shuffle8x8x32(c *build.Context, r []reg.VecVirtual) []reg.VecVirtual {
	t := make([]reg.VecVirtual, 8)
	for p := 0; p < 4; p++ {
		t[2*p], t[2*p+1] = c.YMM(), c.YMM()
		c.VUNPCKLPS(r[2*p+1], r[2*p], t[2*p])   // lo(r0, r1) = a00 a10 a01 a11 | a04 a14 a05 a15
		c.VUNPCKHPS(r[2*p+1], r[2*p], t[2*p+1]) // hi(r0, r1) = a02 a12 a03 a13 | a06 a16 a07 a17
	}
	u := make([]reg.VecVirtual, 8)
	for h := 0; h < 2; h++ { // rows 0-3, rows 4-7
		a, b, x, y := t[4*h], t[4*h+2], t[4*h+1], t[4*h+3]
		for q, v := range [][2]reg.VecVirtual{{a, b}, {x, y}} {
			u[4*h+2*q], u[4*h+2*q+1] = c.YMM(), c.YMM()
			c.VSHUFPS(Imm(0x44), v[1], v[0], u[4*h+2*q])   // a00 a10 a20 a30 | a04 a14 a24 a34
			c.VSHUFPS(Imm(0xee), v[1], v[0], u[4*h+2*q+1]) // a01 a11 a21 a31 | a05 a15 a25 a35
		}
	}
	o := make([]reg.VecVirtual, 8)
	for j := 0; j < 4; j++ {
		o[j], o[j+4] = c.YMM(), c.YMM()
		c.VPERM2F128(Imm(0x20), u[4+j], u[j], o[j])   // low lanes: column j
		c.VPERM2F128(Imm(0x31), u[4+j], u[j], o[j+4]) // high lanes: column j+4
	}
	return o
}

// shuffle4x4x64 transposes 4 YMM rows of 4 8-byte elements:
//
//	VUNPCKLPD r1, r0, t0; VUNPCKHPD r1, r0, t1; (and r2, r3)
//	VPERM2F128 $0x20, t2, t0, o0; VPERM2F128 $0x31, t2, t0, o2; (and t1, t3)
func shuffle4x4x64(c *build.Context, r []reg.VecVirtual) []reg.VecVirtual {
	t := make([]reg.VecVirtual, 4)
	for p := 0; p < 2; p++ {
		t[2*p], t[2*p+1] = c.YMM(), c.YMM()
		c.VUNPCKLPD(r[2*p+1], r[2*p], t[2*p])   // a00 a10 | a02 a12
		c.VUNPCKHPD(r[2*p+1], r[2*p], t[2*p+1]) // a01 a11 | a03 a13
	}
	o := make([]reg.VecVirtual, 4)
	for j := 0; j < 2; j++ {
		o[j], o[j+2] = c.YMM(), c.YMM()
		c.VPERM2F128(Imm(0x20), t[2+j], t[j], o[j])   // column j
		c.VPERM2F128(Imm(0x31), t[2+j], t[j], o[j+2]) // column j+2
	}
	return o
}

// shuffle8x8x16 transposes 8 XMM rows of 8 2-byte elements in three unpack
// stages (unpackLadder), words, double words, quad words:
//
//	VPUNPCKLWD r1, r0, t0; VPUNPCKHWD r1, r0, t1 ...  // t0 = columns 0-3 of rows 0,1; t1 = 4-7 ...
//	VPUNPCKLDQ t2, t0, u0; VPUNPCKHDQ t2, t0, u1 ...  // u0 = columns 0,1 of rows 0-3; u1 = 2,3 ...
//	VPUNPCKLQDQ u4, u0, o0; VPUNPCKHQDQ u4, u0, o1 ... // o[j] = column j, rows 0-7
func shuffle8x8x16(c *build.Context, r []reg.VecVirtual) []reg.VecVirtual {
	return unpackLadder(c, r, 2, c.XMM)
}

// shuffle8x16x8 transposes 8 XMM rows of 16 bytes into 8 vectors that each
// hold two destination rows of 8 bytes, in three unpack stages
// (unpackLadder), bytes, words, double words:
//
//	VPUNPCKLBW r1, r0, t0; VPUNPCKHBW r1, r0, t1 ...  // t0 = columns 0-7 of rows 0,1; t1 = 8-15 ...
//	VPUNPCKLWD t2, t0, u0; VPUNPCKHWD t2, t0, u1 ...  // u0 = columns 0-3 of rows 0-3; u1 = 4-7 ...
//	VPUNPCKLDQ u4, u0, o0; VPUNPCKHDQ u4, u0, o1 ...  // o0 = columns 0,1 (8 bytes each); o1 = 2,3 ...
func shuffle8x16x8(c *build.Context, r []reg.VecVirtual) []reg.VecVirtual {
	return unpackLadder(c, r, 1, c.XMM)
}

// unpackLadder transposes len(rows) vectors, each a row of 16/size
// elements per 16-byte lane, in log2(len(rows)) unpack stages: stage k
// interleaves, in groups of 2<<k vectors, each of the first half with its
// partner in the second, at size<<k bytes. Out[j] holds column j of every
// row (in each lane). vec allocates the registers of the results.
func unpackLadder(c *build.Context, rows []reg.VecVirtual, size int, vec func() reg.VecVirtual) []reg.VecVirtual {
	unpacks := map[int][2]func(...Op){
		1: {c.VPUNPCKLBW, c.VPUNPCKHBW},
		2: {c.VPUNPCKLWD, c.VPUNPCKHWD},
		4: {c.VPUNPCKLDQ, c.VPUNPCKHDQ},
		8: {c.VPUNPCKLQDQ, c.VPUNPCKHQDQ},
	}
	in := rows
	for k, half := 0, 1; half < len(rows); k, half = k+1, half*2 {
		op := unpacks[size<<k]
		out := make([]reg.VecVirtual, 0, len(in))
		for g := 0; g < len(in); g += 2 * half {
			for i := range half {
				a, b := in[g+i], in[g+i+half]
				lo, hi := vec(), vec()
				op[0](b, a, lo)
				op[1](b, a, hi)
				out = append(out, lo, hi)
			}
		}
		in = out
	}
	return in
}

// pcAlign emits PCALIGN $n, which pads with NOPs to the next multiple of
// n bytes: put before a loop's label, it keeps the loop off the function's
// place in the binary, which moves as other functions grow (the row loops
// below ran 10-20% slower or faster from one build to the next without it).
func pcAlign(c *build.Context, n int) {
	c.Instruction(&ir.Instruction{Opcode: "PCALIGN", Operands: []Op{Imm(uint64(n))}})
}

// emitCopyRowsAVX2 emits the row copy, planes of rows (the last three axes
// of a Rows kernel in one call, so that short rows do not pay a call each
// plane):
//
//		CMPQ rowBytes, $32; JB short
//		last = rowBytes-32
//		CMPQ rowBytes, $64; JA long
//	mid:                     // 32..64 bytes: two overlapping 32-byte moves
//		VMOVDQU (s), Y0; VMOVDQU (s)(last*1), Y1; VMOVDQU Y0, (d); VMOVDQU Y1, (d)(last*1)
//		ADDQ srcStride, s; ADDQ rowBytes, d; DECQ rows; JNZ mid
//		ADDQ planeStride, src; DECQ planes; JNZ mid_plane
//	long:                    // per row: 32-byte moves, the last one ending the row
//		XORQ i, i; JMP check
//	move:
//		VMOVDQU (s)(i*1), Y0; VMOVDQU Y0, (d)(i*1); ADDQ $32, i
//	check:
//		CMPQ i, last; JB move
//		VMOVDQU (s)(last*1), Y0; VMOVDQU Y0, (d)(last*1)
//		ADDQ srcStride, s; ADDQ rowBytes, d; DECQ rows; JNZ long
//		ADDQ planeStride, src; DECQ planes; JNZ long_plane
//	short:                   // 16..31 bytes: two overlapping 16-byte moves
func emitCopyRowsAVX2(c *build.Context) {
	d, src := param(c, "dst"), param(c, "src")
	planes, planeStride := param(c, "planes"), param(c, "planeStride")
	n, stride := param(c, "rowBytes"), param(c, "srcStride")
	rowsParam := paramAddr(c, "rows")
	s, rows, last, i := c.GP64(), c.GP64(), c.GP64(), c.GP64()
	c.TESTQ(planes, planes)
	c.JZ(LabelRef("rows_done"))
	c.CMPQ(rowsParam, Imm(0))
	c.JE(LabelRef("rows_done"))

	// planeLoop wraps the row loop of one size class in the loop over
	// planes: the source restarts planeStride further on, the destination
	// runs on.
	planeLoop := func(label string, row func()) {
		c.Label(label + "_plane")
		c.MOVQ(src, s)
		c.MOVQ(rowsParam, rows)
		pcAlign(c, 64)
		c.Label(label)
		row()
		c.ADDQ(stride, s)
		c.ADDQ(n, d)
		c.DECQ(rows)
		c.JNZ(LabelRef(label))
		c.ADDQ(planeStride, src)
		c.DECQ(planes)
		c.JNZ(LabelRef(label + "_plane"))
		c.JMP(LabelRef("rows_done"))
	}

	c.CMPQ(n, Imm(32))
	c.JB(LabelRef("rows_short"))
	c.LEAQ(Mem{Base: n, Disp: -32}, last)
	c.CMPQ(n, Imm(64))
	c.JA(LabelRef("rows_long_plane"))
	// overlapping moves a row of two vectors' bytes or fewer: one vector
	// from its start, one ending at its end (at last).
	overlapping := func(vec func() reg.VecVirtual) func() {
		return func() {
			a, b := vec(), vec()
			c.VMOVDQU(Mem{Base: s}, a)
			c.VMOVDQU(Mem{Base: s, Index: last, Scale: 1}, b)
			c.VMOVDQU(a, Mem{Base: d})
			c.VMOVDQU(b, Mem{Base: d, Index: last, Scale: 1})
		}
	}
	planeLoop("rows_mid", overlapping(c.YMM))
	planeLoop("rows_long", func() {
		c.XORQ(i, i)
		c.JMP(LabelRef("rows_check"))
		c.Label("rows_move")
		v := c.YMM()
		c.VMOVDQU(Mem{Base: s, Index: i, Scale: 1}, v)
		c.VMOVDQU(v, Mem{Base: d, Index: i, Scale: 1})
		c.ADDQ(Imm(32), i)
		c.Label("rows_check")
		c.CMPQ(i, last)
		c.JB(LabelRef("rows_move"))
		v2 := c.YMM()
		c.VMOVDQU(Mem{Base: s, Index: last, Scale: 1}, v2)
		c.VMOVDQU(v2, Mem{Base: d, Index: last, Scale: 1})
	})

	c.Label("rows_short")
	c.LEAQ(Mem{Base: n, Disp: -16}, last)
	planeLoop("rows_short_loop", overlapping(c.XMM))

	c.Label("rows_done")
	c.VZEROUPPER()
	c.RET()
}

// emitCopyRowsStreamAVX2 emits the non-temporal row copy: whole aligned
// 32-byte stores, with no overlapping last move, which would store twice
// into a line the write-combining buffers are filling:
//
//	outer_loop:
//		MOVQ src, s; MOVQ dst, d; MOVQ inner, k
//	inner_loop:
//		XORQ i, i
//	move:
//		VMOVDQU (s)(i*1), Y0; VMOVNTDQ Y0, (d)(i*1); ADDQ $32, i
//		CMPQ i, rowBytes; JB move
//		ADDQ innerSrc, s; ADDQ innerDst, d; DECQ k; JNZ inner_loop
//		ADDQ outerSrc, src; ADDQ outerDst, dst; DECQ outer; JNZ outer_loop
//
// and no SFENCE: its callers fence once (StreamFence; see emitTilesAVX2).
func emitCopyRowsStreamAVX2(c *build.Context) {
	dst, src, outer := param(c, "dst"), param(c, "src"), param(c, "outer")
	n := param(c, "rowBytes")
	innerSrc, innerDst := param(c, "innerSrc"), param(c, "innerDst")
	inner, outerSrc, outerDst := paramAddr(c, "inner"), paramAddr(c, "outerSrc"), paramAddr(c, "outerDst")
	s, d, k, i := c.GP64(), c.GP64(), c.GP64(), c.GP64()
	c.TESTQ(outer, outer)
	c.JZ(LabelRef("stream_done"))
	c.CMPQ(inner, Imm(0))
	c.JE(LabelRef("stream_done"))
	c.Label("stream_outer")
	c.MOVQ(src, s)
	c.MOVQ(dst, d)
	c.MOVQ(inner, k)
	c.Label("stream_inner")
	c.XORQ(i, i)
	c.Label("stream_move")
	v := c.YMM()
	c.VMOVDQU(Mem{Base: s, Index: i, Scale: 1}, v)
	c.VMOVNTDQ(v, Mem{Base: d, Index: i, Scale: 1})
	c.ADDQ(Imm(32), i)
	c.CMPQ(i, n)
	c.JB(LabelRef("stream_move"))
	c.ADDQ(innerSrc, s)
	c.ADDQ(innerDst, d)
	c.DECQ(k)
	c.JNZ(LabelRef("stream_inner"))
	c.ADDQ(outerSrc, src)
	c.ADDQ(outerDst, dst)
	c.DECQ(outer)
	c.JNZ(LabelRef("stream_outer"))
	c.Label("stream_done")
	c.VZEROUPPER()
	c.RET()
}

// emitCopyRunERMS emits the string copy:
//
//	MOVQ dst+0(FP), DI; MOVQ src+8(FP), SI; MOVQ n+16(FP), CX
//	REP; MOVSB
func emitCopyRunERMS(c *build.Context) {
	c.MOVQ(paramAddr(c, "dst"), reg.RDI)
	c.MOVQ(paramAddr(c, "src"), reg.RSI)
	c.MOVQ(paramAddr(c, "n"), reg.RCX)
	// avo has no string instructions: the prefixed one goes in by hand,
	// with the registers it reads and writes.
	regs := []Op{reg.RDI, reg.RSI, reg.RCX}
	c.Instruction(&ir.Instruction{Opcode: "REP; MOVSB", Inputs: regs, Outputs: regs})
	c.RET()
}

// emitCopyRunStreamAVX2 emits the non-temporal run copy:
//
//		VMOVDQU (s), Y0; VMOVDQU Y0, (d)        // the head, ordinary stores
//		t = 32 - d%32; ADDQ t, s; ADDQ t, d; SUBQ t, k
//	big:                                         // 128 bytes a step
//		CMPQ k, $128; JB small
//		VMOVDQU (s), Y0 ... VMOVDQU 96(s), Y3
//		VMOVNTDQ Y0, (d) ... VMOVNTDQ Y3, 96(d)
//		ADDQ $128, s; ADDQ $128, d; SUBQ $128, k; JMP big
//	small:                                       // 32 bytes a step
//		...
//	tail:
//		VMOVDQU -32(src)(n*1), Y0; VMOVDQU Y0, -32(dst)(n*1)
//
// and no SFENCE: its callers fence once (StreamFence; see emitTilesAVX2).
func emitCopyRunStreamAVX2(c *build.Context) {
	dst, src, n := param(c, "dst"), param(c, "src"), param(c, "n")
	d, s, k, h := c.GP64(), c.GP64(), c.GP64(), c.GP64()
	c.MOVQ(dst, d)
	c.MOVQ(src, s)
	c.MOVQ(n, k)
	c.MOVQ(d, h)
	c.NEGQ(h)
	c.ANDQ(Imm(63), h) // 0..63: the bytes up to dst's first line boundary, fewer than n
	c.SUBQ(h, k)
	emitPieces(c, "head", d, s, h)

	c.Label("run_big")
	c.CMPQ(k, Imm(128))
	c.JB(LabelRef("run_line"))
	vs := []reg.VecVirtual{c.YMM(), c.YMM(), c.YMM(), c.YMM()}
	for j, v := range vs {
		c.VMOVDQU(Mem{Base: s, Disp: 32 * j}, v)
	}
	for j, v := range vs {
		c.VMOVNTDQ(v, Mem{Base: d, Disp: 32 * j})
	}
	c.ADDQ(Imm(128), s)
	c.ADDQ(Imm(128), d)
	c.SUBQ(Imm(128), k)
	c.JMP(LabelRef("run_big"))

	c.Label("run_line")
	c.CMPQ(k, Imm(64))
	c.JB(LabelRef("run_tail"))
	for j, v := range vs[:2] {
		c.VMOVDQU(Mem{Base: s, Disp: 32 * j}, v)
	}
	for j, v := range vs[:2] {
		c.VMOVNTDQ(v, Mem{Base: d, Disp: 32 * j})
	}
	c.ADDQ(Imm(64), s)
	c.ADDQ(Imm(64), d)
	c.SUBQ(Imm(64), k)

	c.Label("run_tail")
	emitPieces(c, "tail", d, s, k)
	c.VZEROUPPER()
	c.RET()
}

// emitPieces moves the k < 64 bytes at s to d with ordinary stores, in
// pieces of 32, 16, 8, 4, 2 and 1 bytes as the bits of k say, advancing d
// and s past them (labels name_past32 and so on):
//
//	if k&32 != 0 { move 32 bytes; d += 32; s += 32 }
//	...
//	if k&1 != 0 { move 1 byte; d++; s++ }
func emitPieces(c *build.Context, name string, d, s, k reg.GPVirtual) {
	x, y := c.XMM(), c.YMM()
	r := c.GP64()
	for _, p := range []int{32, 16, 8, 4, 2, 1} {
		skip := fmt.Sprintf("%s_past%d", name, p)
		c.TESTQ(U32(p), k)
		c.JZ(LabelRef(skip))
		switch p {
		case 32:
			c.VMOVDQU(Mem{Base: s}, y)
			c.VMOVDQU(y, Mem{Base: d})
		case 16:
			c.VMOVDQU(Mem{Base: s}, x)
			c.VMOVDQU(x, Mem{Base: d})
		case 8:
			c.MOVQ(Mem{Base: s}, r)
			c.MOVQ(r, Mem{Base: d})
		case 4:
			c.MOVL(Mem{Base: s}, r.As32())
			c.MOVL(r.As32(), Mem{Base: d})
		case 2:
			c.MOVW(Mem{Base: s}, r.As16())
			c.MOVW(r.As16(), Mem{Base: d})
		case 1:
			c.MOVB(Mem{Base: s}, r.As8())
			c.MOVB(r.As8(), Mem{Base: d})
		}
		c.ADDQ(Imm(uint64(p)), s)
		c.ADDQ(Imm(uint64(p)), d)
		c.Label(skip)
	}
}

// emitFenceStores emits
//
//	SFENCE
//	RET
func emitFenceStores(c *build.Context) {
	c.SFENCE()
	c.RET()
}

// emitCPUID emits
//
//	MOVQ leaf+0(FP), AX; MOVQ sub+8(FP), CX
//	CPUID
//	MOVQ out+16(FP), DI
//	MOVL AX, (DI); MOVL BX, 4(DI); MOVL CX, 8(DI); MOVL DX, 12(DI)
func emitCPUID(c *build.Context) {
	c.MOVQ(paramAddr(c, "leaf"), reg.RAX)
	c.MOVQ(paramAddr(c, "sub"), reg.RCX)
	c.CPUID()
	c.MOVQ(paramAddr(c, "out"), reg.RDI)
	for j, r := range []reg.Register{reg.EAX, reg.EBX, reg.ECX, reg.EDX} {
		c.MOVL(r, Mem{Base: reg.RDI, Disp: 4 * j})
	}
	c.RET()
}

// emitGroups emits the loops that run body on count items n at a time
// while n remain, then one at a time, each at a label of its own (many and
// single), and jump to done when none remain; body emits the loop's label
// and body for k items, which the loops subtract from count:
//
//	CMPQ count, $n; JB one
//	many:   body(n); SUBQ $n, count; CMPQ count, $n; JAE many
//	one:    TESTQ count, count; JZ done
//	single: body(1); DECQ count; JNZ single
//
// With n = 1 only the last loop is emitted, after a test of count.
func emitGroups(c *build.Context, count reg.GPVirtual, n int, many, one, single, done string, body func(k int, label string)) {
	if n > 1 {
		c.CMPQ(count, Imm(uint64(n)))
		c.JB(LabelRef(one))
		body(n, many)
		c.SUBQ(Imm(uint64(n)), count)
		c.CMPQ(count, Imm(uint64(n)))
		c.JAE(LabelRef(many))
	}
	c.Label(one)
	c.TESTQ(count, count)
	c.JZ(LabelRef(done))
	body(1, single)
	c.DECQ(count)
	c.JNZ(LabelRef(single))
}
