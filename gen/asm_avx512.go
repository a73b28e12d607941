package main

import (
	"fmt"
	"math/bits"

	"github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The AVX-512 tile transposes (of the widths in avx512Widths): the loops
// of emitTilesAVX2, whose whole bands (Bands tile rows of one tile column:
// 64 bytes of every destination row) move through ZMM registers instead of
// tile by tile: within 16-byte lanes with the unpack ladder of the AVX2
// tiles (avx512Lanes, emitBandLanesAVX512), or with two such ladders and
// one lane shuffle per line (avx512Split, splitBand; the 2-byte elements
// two tile columns at a time). Each destination row comes out as one
// 64-byte store, a whole line, so no staging buffer is needed; the source
// rows go in 16- or 32-byte pieces (VINSERTI32X4, VINSERTI64X4). The tile
// rows left over after the whole bands take the AVX2 code, or a masked
// band (avx512Tails).

// avx512Needs are the CPU features the AVX-512 kernels run on, as avo's
// "Requires:" lines and golang.org/x/sys/cpu (X86.Has...) name them; the
// generated AVX512 asks for all of them, and TestAVX512Requires checks
// that the kernels need no other. Their instructions need AVX-512 F and BW
// and, in the tails and the Aligned tiles, BMI2 (SHLXQ). VL and VBMI, which
// no kernel uses, keep them to the cores they were measured on and their
// kin (Intel's from Ice Lake, AMD's from Zen 4): not to Skylake-era Xeons,
// where 512-bit instructions lower the clock and nothing was measured.
var avx512Needs = []string{"AVX512F", "AVX512BW", "AVX512VL", "AVX512VBMI", "BMI2"}

// avx512Widths are the element sizes that get AVX-512 tiles.
var avx512Widths = map[int]bool{1: true, 2: true, 4: true, 8: true}

// avx512Straight are the element sizes whose AVX-512 tiles run, where the
// CPU is not tuned as AMD's (AMDTuned false), only where the destination
// rows are whole aligned lines (dst and dj multiples of 64 bytes);
// there their AVX2 tiles take the others. On the 2-vCPU Intel Xeon VM
// (x-ceiling, one worker, 5 rounds at 256 KiB-4 MiB, 3 at 16-64 MiB) the
// 8-byte tiles, then the permute bands, ran faster where the rows are
// whole lines: mixed6d-t 0.45/0.52/0.76 -> 0.50/0.58/0.80 at 256 KiB/1/4
// MiB, transpose-4k 0.46/0.56/0.69 -> 0.52/0.58/0.81, and beyond the
// cache, where their bands stream whole lines, 64 MiB mixed5d-t 0.51 ->
// 0.72, transpose-4k 0.50 -> 0.70, reverse4d 0.46 -> 0.71; but
// transpose2d-odd (rows 8 bytes short of a whole number of lines, each
// 64-byte store across two) 0.51/0.63/0.35 -> 0.46/0.55/0.28 at 1/4/64
// MiB. On AMD's Zen 5 the permute bands ran 0-28% slower than the AVX2
// 4×4 tiles, which are 8 shuffles per 4 rows (session 16: 0.80-1.14×,
// median 1.00×), but the split bands (avx512Split: 1 unpack and 1 lane
// shuffle a line) run faster, rows whole lines or not: on the 2-vCPU EPYC
// VM, float64 transposes of benchmarks/ (x-ceiling, 3 interleaved rounds)
// at 256 KiB-4 MiB median 1.05×
// (0.88-1.14×; mixed6d-t 256 KiB 0.64 -> 0.73), at 16-64 MiB with one and
// two workers 1.02× (0.87-1.35×; transpose2d-odd 64 MiB 0.47 -> 0.53,
// reverse4d two workers 64 MiB 0.53 -> 0.72; mixed5d-t 16 MiB 0.89× and
// 0.97× in two runs of 5 and 3 rounds, 1.08× in a third of 5, float64 at
// 16 MiB 1.08× there). So there they run everywhere.
var avx512Straight = map[int]bool{8: true}

// widthsIn returns the widths whose element size set holds, in the order
// of widths.
func widthsIn(set map[int]bool) []width {
	var ws []width
	for _, w := range widths {
		if set[w.Size] {
			ws = append(ws, w)
		}
	}
	return ws
}

// avx512Funcs lists the AVX-512 tile transposes, one per width of
// avx512Widths.
func avx512Funcs() []asmFunc {
	var fs []asmFunc
	for _, w := range widthsIn(avx512Widths) {
		fs = append(fs, formFuncs(tilesName(w), "AVX512", false, avx512Forms(w),
			func(name string) []string {
				if avx512Split[w.Size] {
					return tilesDoc(w, name, "with AVX-512 unpacks within 16-byte lanes and lane shuffles")
				}
				return tilesDoc(w, name, "with AVX-512 unpacks within 16-byte lanes")
			},
			"It needs what AVX512 asks for.",
			func(c *build.Context, f tileForm) { emitTilesAVX512(c, w, f) })...)
	}
	return fs
}

// avx512Forms are the optional forms of the AVX-512 tiles of w (formSet).
func avx512Forms(w width) formSet {
	return formSet{pack: avx512Packs[w.Size], streamPack: avx512StreamPacks[w.Size], ahead: avx512Ahead[w.Size]}
}

// bandRegs are the registers of emitTilesAVX2's loops that a band step
// uses: the source column s, the row table off, a scratch t, the
// destination d, its row stride dj, 3*dj and TileJ*dj (djStep, from one
// tile column to the next), and a scratch tmp. Where packed, s is the
// column in the Packed form's buffer instead, whose rows are the band's
// rows in order, one line each. Where ahead, the band prefetches the
// destination lines of the next tile column's band (the Ahead form). Where
// mask is set, the stores write only the bytes it selects of each
// destination line (the tail kernels, emitTailAVX512).
type bandRegs struct {
	s, off, t, d, dj, dj3, djStep, tmp reg.GPVirtual
	packed, ahead                      bool
	mask                               reg.OpmaskVirtual
}

// emitTilesAVX512 emits the AVX-512 tile transpose of w: emitTilesAVX2's
// loops with emitBandLanesAVX512 (avx512Lanes) or emitBandAVX512 (split
// bands) for whole bands, and for 2-byte elements split bands of two tile
// columns (tile.pairBand) while two are left; no staging; in form f.
func emitTilesAVX512(c *build.Context, w width, f tileForm) {
	tl := tileOf(w)
	tl.stage = false
	tl.form(f)
	if avx512Lanes[w.Size] {
		tl.band = func(c *build.Context, r bandRegs, nt bool) { emitBandLanesAVX512(c, w, r, nt, f.Prefetch) }
		if avx512Split[w.Size] { // the pairs of tile columns; the lanes take an odd one
			tl.pairBand = func(c *build.Context, r bandRegs, nt bool) { emitBandAVX512(c, w, r, nt, f.Prefetch) }
		}
		emitTilesAVX2(c, tl)
		return
	}
	tl.band = func(c *build.Context, r bandRegs, nt bool) { emitBandAVX512(c, w, r, nt, f.Prefetch) }
	emitTilesAVX2(c, tl)
}

// addLane writes v as one lane of w's element size at byte at of the
// active global.
func addLane(c *build.Context, w width, at, v int) {
	switch w.Size {
	case 1:
		c.AddDatum(at, U8(v))
	case 2:
		c.AddDatum(at, U16(v))
	case 4:
		c.AddDatum(at, U32(v))
	default:
		c.AddDatum(at, U64(v))
	}
}

// emitBandAVX512 emits one split band of w (avx512Split: one tile column
// of 4- or 8-byte elements, two of 2-byte ones), for 4-byte elements (16
// source rows of 32 bytes, 8 destination rows of 64 bytes):
//
//	MOVQ (off), t; VBROADCASTI64X4 (s)(t*1), Z0      // source row 0 into Z0
//	MOVQ 32(off), t; VINSERTI64X4 $1, (s)(t*1), Z0, Z0 // and row 4 (bandRow)
//	... Z1..Z7 from rows 1, 5, 2, 6, ... 11, 15
//	... splitBand: the unpack ladders, a VSHUFI64X2 a line
//	VMOVDQU64 Z.., (d); VMOVDQU64 Z.., (d)(dj*1) ...    // 8 lines
func emitBandAVX512(c *build.Context, w width, r bandRegs, nt, prefetch bool) {
	regs := loadBand(c, w, r, prefetch)
	prefetchAhead(c, w, r)
	storeBand(c, splitBand(c, w, regs), r, nt)
}

// avx512Split are the element sizes whose AVX-512 bands transpose with
// in-lane unpacks and one lane shuffle per destination line (splitBand);
// the others take the lanes (avx512Lanes). The split bands replaced
// two-source permutes (VPERMT2D, VPERMT2Q: log2(TileJ) stages over pairs
// of registers, each stage's index vectors shared), which ran slower
// there. On the 2-vCPU EPYC VM (Zen 5), loops of 12 independent
// instructions of one kind (measured outside the project) issue the
// two-source permutes (VPERMT2D) and lane shuffles (VSHUFI64X2) 2 a
// cycle, the in-lane unpacks 4 and 64-byte stores about 1: a float32 band
// of the permutes takes 3 permutes a line, 1.5 cycles, above the store's;
// one of splitBand 1 lane shuffle and 2 unpacks, 1 cycle.
// BenchmarkLimitTiles' float32 tiles (in L1) went from 0.49 to 0.63 of
// copy. A float64 band takes 2 permutes a line, 1 cycle, against 1 unpack
// and 1 lane shuffle: float64's tiles there 0.32 -> 0.40 of copy (then
// with AMDTuned false, so that they ran; its AVX2 tiles 0.38). A bfloat16
// band of the lanes (avx512Lanes) loads 4 pieces of 16 bytes a line, with 4
// row-table loads, at 2 loads a cycle; the split bands, two tile columns
// at a time (tile.pairBand), 2 of 32 bytes: its tiles 0.44 -> 0.62 of
// copy, its transposes of benchmarks/ (3 interleaved rounds) at 256
// KiB-4 MiB median 1.05× (0.99-1.19×), at 16-64 MiB with one and two
// workers 1.13× (0.94-1.51×; mixed6d-t 64 MiB 0.31 -> 0.44). Not 1 byte:
// its 2n registers, 32, are all the ZMM registers there are.
var avx512Split = map[int]bool{2: true, 4: true, 8: true}

// bandRow returns the band's source row that loadBand puts in piece q (of
// 2) of register g, for splitBand: with n = 16/Size elements a 16-byte
// lane, register g of group g/n holds rows 2n*(g/n) + g%n (low half) and
// that + n (high half), so that each group's unpack ladder leaves n
// consecutive rows in a lane.
func bandRow(w width, g, q int) int {
	n := 16 / w.Size
	return 2*n*(g/n) + q*n + g%n
}

// splitBand transposes a band of w (avx512Split: 32-byte source pieces, two
// rows a register, 2n registers: one tile column of 4- or 8-byte elements,
// two of 2-byte ones) in two steps, for 4-byte elements:
//
//	VPUNPCKLDQ Z1, Z0, Z8; VPUNPCKHDQ Z1, Z0, Z9 ...     // the unpack ladder of
//	VPUNPCKLQDQ Z10, Z8, Z12 ...                         // registers 0-3, 4-7
//	VSHUFI64X2 $0x88, Z20, Z12, Z24                      // lanes 0, 2 of both: column 0
//	VSHUFI64X2 $0xdd, Z20, Z12, Z25                      // lanes 1, 3: column 4
//
// The ladder of group a (registers an..an+n-1, bandRow) transposes each
// 16-byte lane's n×n block, so that its register k holds column k of rows
// 2na..2na+n-1 in lane 0, column n+k in lane 1, and the same columns of
// rows 2na+n..2na+2n-1 in lanes 2 and 3. Lanes 0 and 2 (or 1 and 3) of
// both groups' register k are destination row k (or n+k): 4n rows, a line.
func splitBand(c *build.Context, w width, regs []reg.VecVirtual) []reg.VecVirtual {
	n := 16 / w.Size
	a := unpackLadder(c, regs[:n], w.Size, c.ZMM)
	b := unpackLadder(c, regs[n:], w.Size, c.ZMM)
	lines := make([]reg.VecVirtual, 2*n)
	for k := range n {
		for h, imm := range []uint64{0x88, 0xdd} {
			z := c.ZMM()
			c.VSHUFI64X2(Imm(imm), b[k], a[k], z)
			lines[h*n+k] = z
		}
	}
	return lines
}

// prefetchAhead emits, where r.ahead, the prefetches of the Ahead form
// (see tileForm): one PREFETCHT0 of each destination line that the band of
// the next tile column stores, TileJ rows of dj bytes from d+djStep.
// The band issues them between its loads and its shuffles, so that they
// do not wait behind its stores.
func prefetchAhead(c *build.Context, w width, r bandRegs) {
	if !r.ahead {
		return
	}
	next, tmp := c.GP64(), c.GP64()
	c.LEAQ(Mem{Base: r.d, Index: r.djStep, Scale: 1}, next)
	eachRow(c, w.TileJ, next, r.dj, r.dj3, tmp, 0, func(_ int, m Mem) { c.PREFETCHT0(m) })
}

// loadBand loads the source rows of a band of w for splitBand (one tile
// column of 4- or 8-byte elements, two of 2-byte ones: 32 bytes of each
// row) and returns its 2n registers (n = 16/Size), two rows to each, in
// the order of bandRow.
func loadBand(c *build.Context, w width, r bandRegs, prefetch bool) []reg.VecVirtual {
	regs := make([]reg.VecVirtual, 32/w.Size)
	for g := range regs {
		z := c.ZMM()
		for q := range 2 {
			row := bandRow(w, g, q)
			m := Mem{Base: r.s, Disp: cacheLineBytes * row}
			if !r.packed {
				c.MOVQ(Mem{Base: r.off, Disp: 8 * row}, r.t)
				m = Mem{Base: r.s, Index: r.t, Scale: 1}
			}
			if prefetch && !r.packed { // the packing prefetches
				c.PREFETCHT0(m.Offset(cacheLineBytes))
			}
			if q == 0 { // the whole register, for the register allocator
				c.VBROADCASTI64X4(m, z)
			} else {
				c.VINSERTI64X4(Imm(1), m, z, z)
			}
		}
		regs[g] = z
	}
	return regs
}

// storeBand stores cols[j], a line, as destination row j of a band: through
// r.mask where set (the tail kernels), non-temporally where nt.
func storeBand(c *build.Context, cols []reg.VecVirtual, r bandRegs, nt bool) {
	eachRow(c, len(cols), r.d, r.dj, r.dj3, r.tmp, 0, func(j int, m Mem) {
		switch {
		case r.mask != nil:
			c.VMOVDQU8(cols[j], r.mask, m)
		case nt:
			c.VMOVNTDQ(cols[j], m)
		default:
			c.VMOVDQU64(cols[j], m)
		}
	})
}

// avx512Ahead are the element sizes whose AVX-512 tiles have an Ahead
// form (see tileForm): the bands of one tile column of avx512Split (not
// avx512Lanes). On the 2-vCPU Intel Xeon VM the 1- and 2-byte lane bands
// ran 0.77-1.07× as fast with the prefetches (the loads of a band's 64 or
// 32 source rows and their table entries already keep the load ports
// busy), the 4- and 8-byte transposes of the suite, then with the permute
// bands, 0.94-1.21× (3 rounds; one cell at 0.89 ran 1.0× in 6 more; see
// benchmarks/README.md).
var avx512Ahead = map[int]bool{4: true, 8: true}

// avx512Packs are the element sizes whose AVX-512 tiles have a Packed
// form (tileForm), chosen by packs for source rows that crowd the L1
// cache's sets. Their bands read 16 bytes of each of 64 (uint8) or 32
// (bfloat16) rows per tile column, four columns to a line: rows in one or
// two sets miss L1 on every one of those reads. On the 2-vCPU EPYC VM
// (TransposeRows on its own, 2 interleaved rounds, µs per call, both
// through the buffer): reverse4d's 4 MiB source, uint8 582 -> 230,
// bfloat16 308 -> 206; rows 2 KiB apart ([2048, 2048] uint8) 326 -> 227.
// Not float32: its bands are 16 rows of 32 bytes, and packing them took
// [1024, 1024] (rows 4 KiB apart) from 254 to 277 and reverse4d from 195 to
// 180 (noise). Measured with the lane bands; with the bfloat16 pairs of
// split bands (avx512Split: 32 bytes of each row) the transposes of
// benchmarks/ at 256 KiB-4 MiB ran 0.72-1.09× (median 1.015×, 3 rounds)
// without it: transpose2d-odd 4 MiB 0.72×, reverse4d 0.95-0.98×, mixed5d-t
// 1.08-1.09×.
var avx512Packs = map[int]bool{1: true, 2: true}

// avx512StreamPacks are the element sizes whose AVX-512 tiles have a
// PackedStream form (tileForm), chosen by streamPacks beyond the cache for
// source rows in one or two of the L1 cache's sets, where the destination
// takes non-temporal stores. Streamed, a uint8 block was 32 columns wide
// (amd64StreamRows), so that each 64-byte source line was read by two
// blocks and, in each, by two tile columns: from rows that crowd a set,
// four reads from beyond L1. Packed, its blocks are a whole line wide
// again and each line is read once. On the 2-vCPU EPYC VM (x-ceiling, 5
// interleaved rounds) transpose2d, transpose-4k and reverse4d at 64 MiB
// ran 1.10-1.23× as fast with one worker (reverse4d 0.16 -> 0.20) and
// 1.06-1.42× with two (from 16 MiB, see streamPackSpan); bfloat16, whose
// streamed blocks were already a line wide, ran 0.67-1.08× (median 0.91×,
// 3 rounds), so not bfloat16.
var avx512StreamPacks = map[int]bool{1: true}

// avx512Lanes are the element sizes whose AVX-512 bands transpose within
// 16-byte lanes alone (emitBandLanesAVX512). On the 2-vCPU EPYC VM (Zen
// 5), against the two-source permutes all bands then took, 3-4 interleaved
// rounds: the tiles in L1 (BenchmarkLimitTiles) uint8 0.30 → 0.35 of
// copy(), bfloat16 0.31 → 0.37, but float32 0.41 → 0.35 (its lanes need 4
// inserts per register, not 2), so not float32; the transposes of
// benchmarks/ in uint8 5-18% faster at 256 KiB-4 MiB (transpose2d 256 KiB
// 0.32 → 0.37 of the ceiling), bfloat16 0-13% (one cell 8% slower),
// unchanged beyond the cache. For 2 bytes, where the tiles' pairs of tile
// columns take the split bands (avx512Split), the lanes take an odd tile
// column, and the Aligned and tail kernels' bands.
var avx512Lanes = map[int]bool{1: true, 2: true}

// emitBandLanesAVX512 emits one band that transposes within the four
// 16-byte lanes of ZMM registers: the loads put source row L*n+m (n rows of
// 16 bytes per lane: 16/Size elements) into lane L of register m, so that
// the unpack ladder of the AVX2 tiles (unpackLadder), run on whole ZMM
// registers, transposes four n×n blocks at once, and each output register
// holds one column of all 4n rows: a whole destination line. For 2-byte
// elements
// (32 source rows of 16 bytes, 8 destination rows of 64 bytes):
//
//	MOVQ (off), t; VBROADCASTI32X4 (s)(t*1), Z0      // row 0 into lane 0 of Z0
//	MOVQ 64(off), t; VINSERTI32X4 $1, (s)(t*1), Z0, Z0 // row 8 into lane 1 ...
//	... Z1..Z7 from rows 1, 9, 17, 25 and so on
//	VPUNPCKLWD Z1, Z0, Z8; VPUNPCKHWD Z1, Z0, Z9 ...   // the ladder, in every lane
//	VMOVDQU64 Z.., (d); VMOVDQU64 Z.., (d)(dj*1) ...   // 8 lines
//
// Its unpacks leave their sources intact.
func emitBandLanesAVX512(c *build.Context, w width, r bandRegs, nt, prefetch bool) {
	if r.ahead {
		panic("unreachable: avx512Ahead has no width of avx512Lanes")
	}
	storeBand(c, laneBand(c, w, r, prefetch), r, nt)
}

// laneBand loads and transposes a band for emitBandLanesAVX512 and
// returns its destination lines, one register each.
func laneBand(c *build.Context, w width, r bandRegs, prefetch bool) []reg.VecVirtual {
	n := 16 / w.Size      // rows (and columns) of a lane's block
	groups := w.TileJ / n // 16-byte column groups of a band's source rows
	lanes := cacheLineBytes / 16
	var out []reg.VecVirtual
	for g := range groups {
		regs := make([]reg.VecVirtual, n)
		for m := range regs {
			z := c.ZMM()
			for l := range lanes {
				src := Mem{Base: r.s, Disp: cacheLineBytes*(l*n+m) + 16*g}
				if !r.packed {
					c.MOVQ(Mem{Base: r.off, Disp: 8 * (l*n + m)}, r.t)
					src = Mem{Base: r.s, Index: r.t, Scale: 1, Disp: 16 * g}
				}
				if prefetch && g == 0 && !r.packed { // the packing prefetches
					c.PREFETCHT0(Mem{Base: r.s, Index: r.t, Scale: 1, Disp: cacheLineBytes})
				}
				if l == 0 {
					c.VBROADCASTI32X4(src, z)
				} else {
					c.VINSERTI32X4(Imm(uint64(l)), src, z, z)
				}
			}
			regs[m] = z
		}
		out = append(out, unpackLadder(c, regs, w.Size, c.ZMM)...)
	}
	return out
}

// avx512Tails are the element sizes whose AVX-512 tiles have a tail
// kernel (emitTailAVX512), for the source rows of a block after its whole
// bands: 64 rows of bytes, 32 of halfwords, 16 of words.
var avx512Tails = map[int]bool{1: true, 2: true, 4: true}

// tailName is the name of the AVX-512 tail kernel of a width.
func tailName(w width) string { return tilesName(w) + "TailAVX512" }

// avx512TailFuncs lists the tail kernels, one per width of avx512Tails.
func avx512TailFuncs() []asmFunc {
	var fs []asmFunc
	for _, w := range widthsIn(avx512Tails) {
		rows := cacheLineBytes / w.Size
		fs = append(fs, asmFunc{
			Name:   tailName(w),
			Params: tileParams,
			Doc: []string{
				fmt.Sprintf("%s transposes the first ti rows of a band of %d", tailName(w), rows),
				fmt.Sprintf("source rows, tj tiles of %d %d-byte elements wide: a whole band (see", w.TileJ, w.Size),
				fmt.Sprintf("%s) whose stores write only the first ti elements of each", tilesName(w)+"AVX512"),
				fmt.Sprintf("destination line, through a mask. off must hold %d rows, all readable:", rows),
				fmt.Sprintf("the caller repeats the last of its ti rows; 0 < ti < %d. It is the plain", rows),
				"loop",
				"",
				"\tfor i := 0; i < ti; i++ {",
				fmt.Sprintf("\t\tfor j := 0; j < tj*%d; j++ {", w.TileJ),
				fmt.Sprintf("\t\t\t*(dst + j*dj + i*%d) = *(src + off[i] + col + j*%d) // byte addresses", w.Size, w.Size),
				"\t\t}",
				"\t}",
				"",
				"It needs what AVX512 asks for.",
			},
			Body: func(c *build.Context) { emitTailAVX512(c, w) },
		})
	}
	return fs
}

// emitTailAVX512 emits the tail kernel of w: one band per tile column
// (emitBandLanesAVX512 or emitBandAVX512) with masked stores of ti*Size bytes per
// destination line:
//
//	MOVQ ti, t; SHLQ $1, t              // bytes per line (2-byte elements)
//	MOVQ $-1, m; BZHIQ t, m, m; KMOVQ m, K1
//	loop: the band, VMOVDQU8 Z.., K1, (d)(dj*1) ...; s += 16; d += TileJ*dj
func emitTailAVX512(c *build.Context, w width) {
	dst, src, off, ti, dj := param(c, "dst"), param(c, "src"), param(c, "off"), param(c, "ti"), param(c, "dj")
	s, d, kk, t, tmp := c.GP64(), c.GP64(), c.GP64(), c.GP64(), c.GP64()
	if sh := bits.TrailingZeros(uint(w.Size)); sh > 0 {
		c.SHLQ(U8(sh), ti)
	}
	m := c.GP64()
	c.MOVQ(I64(-1), m)
	c.BZHIQ(ti, m, m)
	k := c.K()
	c.KMOVQ(m, k)
	dj3 := c.GP64()
	c.LEAQ(Mem{Base: dj, Index: dj, Scale: 2}, dj3)
	djStep := c.GP64()
	c.IMUL3Q(Imm(uint64(w.TileJ)), dj, djStep)
	c.MOVQ(src, s)
	c.ADDQ(paramAddr(c, "col"), s)
	c.MOVQ(dst, d)
	c.MOVQ(paramAddr(c, "tj"), kk)
	c.TESTQ(kk, kk)
	c.JZ(LabelRef(tailName(w) + "_done"))
	c.Label(tailName(w) + "_j")
	r := bandRegs{s: s, off: off, t: t, d: d, dj: dj, dj3: dj3, tmp: tmp, mask: k}
	if avx512Lanes[w.Size] {
		emitBandLanesAVX512(c, w, r, false, false)
	} else {
		emitBandAVX512(c, w, r, false, false)
	}
	c.ADDQ(U32(w.TileJ*w.Size), s)
	c.ADDQ(djStep, d)
	c.DECQ(kk)
	c.JNZ(LabelRef(tailName(w) + "_j"))
	c.Label(tailName(w) + "_done")
	c.VZEROUPPER()
	c.RET()
}
