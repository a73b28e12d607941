package main

import (
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The AVX-512 tiles of the converting transposes between float32 and the
// 16-bit floats, and from float64 to float32 (emitConvBand32AVX512).
// Widening: the loops of the pair's AVX2 tiles (convTile,
// emitTilesAVX2), whose whole bands of four 8×8 tiles (32 source rows of
// one tile column) move as a bfloat16 band of the plain AVX-512 tiles does
// (emitBandLanesAVX512): a source row's 16 bytes into each 16-byte lane of
// eight ZMM registers, the 16-bit unpack ladder within the lanes, then each
// column, 32 16-bit elements, widened into two float32 registers, two whole
// lines of its destination row. The AVX2 tiles widen each source row as it
// loads (VPMOVZXWD or VCVTPH2PS) and transpose 32-bit elements: 16 shuffles
// of one port per 8×8 tile besides 8 widenings, for half a line of 8
// destination rows. The bands take 3 unpacks per register for 32 rows, and
// 2 more (bfloat16) or 3 (float16) per column to widen it.
//
// Narrowing (float32 to bfloat16 or float16) converts first: two source
// rows of 8 float32 per ZMM register, converted into a YMM of 16-bit
// elements, two of those joined into the four lanes of a ladder register;
// after the ladder each column is 32 16-bit elements, one whole
// destination line. The AVX2 tiles transpose 32-bit elements and convert
// each destination row's 8 as they store them: a 16-byte store, a quarter
// of a line.

// convBand says how a pair's AVX-512 band loads its source rows and widens
// the transposed columns.
type convBand struct {
	// row is the band's source row (of 32) whose 8 elements (16 bytes
	// where it widens, 32 of float32 where it narrows) go into lane lane of
	// register m (of 8), as 16-bit elements: after the ladder, element
	// 8*lane+m of each column register holds it.
	row func(lane, m int) int
	// widen converts col, one transposed column, into the float32 of the
	// band's rows 0-15 (lo) and 16-31 (hi); zero is a zeroed register.
	widen func(c *build.Context, col, zero reg.VecVirtual) (lo, hi reg.VecVirtual)
	// narrow, set in place of widen for the narrowing pairs, converts z,
	// two source rows of 8 float32 (one per 32-byte half), into a YMM of
	// their 16 16-bit elements, in order; k holds setup's constants.
	narrow func(c *build.Context, z reg.VecVirtual, k []reg.VecVirtual) reg.VecVirtual
	// setup, when set, loads narrow's constants, once per call of the
	// tiles (passed to emitConvBandAVX512 as k).
	setup func(c *build.Context) []reg.VecVirtual
	// words, set in place of all the above, converts each source row of 8
	// elements into 8 float32 as it loads (VCVTPD2PS), two rows per
	// register, and transposes them as the plain float32 AVX-512 tiles do
	// (splitBand; emitConvBand32AVX512).
	words bool
	// straight keeps the tiles to destinations of whole aligned lines (dst
	// and dj multiples of 64 bytes), as avx512Straight does the plain
	// float64 ones where AMDTuned is false (here on every CPU); the AVX2
	// tiles take the others.
	straight bool
}

// avx512ConvBands are the pairs (convName) with AVX-512 tiles.
//
// bfloat16 is the top half of a float32, so an unpack with zero widens
// it, but within 16-byte lanes: VPUNPCKLWD takes the low four elements of
// each lane into that lane, VPUNPCKHWD the high four. So row puts rows
// 4L..4L+3 in the low half of lane L and 16+4L..16+4L+3 in its high half,
// and the two unpacks come out as rows 0-15 and 16-31 in order. float16
// keeps the rows in order and converts each half of the register with
// VCVTPH2PS, the high one after VEXTRACTI64X4.
var avx512ConvBands = map[string]convBand{
	"BFloat16Float32": {
		row: func(lane, m int) int {
			if m < 4 {
				return 4*lane + m
			}
			return 16 + 4*lane + m - 4
		},
		widen: func(c *build.Context, col, zero reg.VecVirtual) (lo, hi reg.VecVirtual) {
			lo, hi = c.ZMM(), c.ZMM()
			c.VPUNPCKLWD(col, zero, lo)
			c.VPUNPCKHWD(col, zero, hi)
			return lo, hi
		},
	},
	"Float16Float32": {
		row: func(lane, m int) int { return 8*lane + m },
		widen: func(c *build.Context, col, _ reg.VecVirtual) (lo, hi reg.VecVirtual) {
			lo, hi, top := c.ZMM(), c.ZMM(), c.YMM()
			c.VCVTPH2PS(col.AsY(), lo)
			c.VEXTRACTI64X4(Imm(1), col, top)
			c.VCVTPH2PS(top, hi)
			return lo, hi
		},
	},
	"Float32BFloat16": {
		row:    func(lane, m int) int { return 8*lane + m },
		narrow: narrowBF16,
		setup:  setupBF16x16,
	},
	// float64: into rows off line boundaries (each 64-byte store across two
	// lines) [2047, 2049] ran 1.7-2.0 ms with the AVX2 tiles against 1.9-2.2
	// (ContiguousAs, one worker, 3 alternations), hence straight; [4096,
	// 4096] streamed 8.4-8.8 → 5.1-5.5, [1024, 1024] 0.41-0.43 either way
	// (with the permute bands, before the split ones: not measured since).
	"Float64Float32": {words: true, straight: true},
	"Float32Float16": {
		row: func(lane, m int) int { return 8*lane + m },
		narrow: func(c *build.Context, z reg.VecVirtual, _ []reg.VecVirtual) reg.VecVirtual {
			y := c.YMM()
			c.VCVTPS2PH(Imm(0), z, y) // to nearest, ties to even, as storeF16
			return y
		},
	},
}

// setupBF16x16 broadcasts bf16Consts into ZMM registers, for narrowBF16.
func setupBF16x16(c *build.Context) []reg.VecVirtual {
	var k []reg.VecVirtual
	for _, v := range bf16Consts {
		t, z := c.GP32(), c.ZMM()
		c.MOVL(U32(v), t)
		c.VPBROADCASTD(t, z)
		k = append(k, z)
	}
	return k
}

// narrowBF16 rounds the 16 float32 of z to bfloat16 as storeBF16 does 8
// (k: its constants 0x7fff, 1 and 0x40), the NaN lanes through a mask:
//
//	VPSRLD $16, Z, H; VPANDD one, H, T
//	VPADDD bias, Z, R; VPADDD T, R, R; VPSRLD $16, R, R
//	VCMPPS $3, Z, Z, K1                       // NaN lanes (unordered)
//	VPORD quiet, H, K1, R                     // their quiet NaN
//	VPMOVDW R, Y                              // 16 dwords to 16 words
func narrowBF16(c *build.Context, z reg.VecVirtual, k []reg.VecVirtual) reg.VecVirtual {
	bias, one, quiet := k[0], k[1], k[2]
	h, t, r, y, nan := c.ZMM(), c.ZMM(), c.ZMM(), c.YMM(), c.K()
	c.VPSRLD(Imm(16), z, h)
	c.VPANDD(one, h, t)
	c.VPADDD(bias, z, r)
	c.VPADDD(t, r, r)
	c.VPSRLD(Imm(16), r, r)
	c.VCMPPS(Imm(3), z, z, nan)
	c.VPORD(quiet, h, nan, r)
	c.VPMOVDW(r, y)
	return y
}

// avx512ConvFuncs lists the AVX-512 tiles of the pairs of avx512ConvBands.
func avx512ConvFuncs() []asmFunc {
	var fs []asmFunc
	for _, cv := range conversions {
		cb, ok := avx512ConvBands[convName(cv)]
		if !ok {
			continue
		}
		tl := convTile(cv)
		needs := "It needs AVX-512 F and BW (see AVX512)."
		if cv.F16C {
			needs = "It needs AVX-512 F and BW (see AVX512), and F16C for the tile rows after the bands."
		}
		fs = append(fs, formFuncs(tl.name, "AVX512", false, formSet{}, convTilesContract(cv), needs,
			func(c *build.Context, f tileForm) {
				tl := tl
				tl.form(f)
				if !cb.words { // the ladder's 32 rows; words keeps a line of float32 per row
					tl.bandTiles = convBandRows / tl.tileI
				}
				var k []reg.VecVirtual // the bands' constants, loaded once with the AVX2 code's
				if cb.setup != nil {
					avx2 := tl.setup
					tl.setup = func(c *build.Context) []reg.VecVirtual {
						k = cb.setup(c)
						if avx2 == nil {
							return nil
						}
						return avx2(c)
					}
				}
				_, to := convDTypes(cv)
				tl.band = func(c *build.Context, r bandRegs, nt bool) {
					if r.packed || r.mask != nil {
						panic("unreachable: the converting tiles have no packed or tail forms")
					}
					if cb.words {
						emitConvBand32AVX512(c, widthOf(to), r, nt, f.Prefetch)
						return
					}
					emitConvBandAVX512(c, cb, k, r, nt, f.Prefetch)
				}
				emitTilesAVX2(c, tl)
			})...)
	}
	return fs
}

// convBandRows is the source rows of a converting AVX-512 band: 8 rows of
// 16-bit elements in each of the four 16-byte lanes of a ZMM register.
const convBandRows = 32

// emitConvBandAVX512 emits one band of a pair of avx512ConvBands: 32 source
// rows of 8 elements become 8 destination rows of 32, two lines each
// where it widens (16 bytes of each source row), one where it narrows (32
// bytes). Widening:
//
//	MOVQ (off), t; VBROADCASTI32X4 (s)(t*1), Z0         // row cb.row(0, 0) into lane 0
//	MOVQ 32(off), t; VINSERTI32X4 $1, (s)(t*1), Z0, Z0  // row cb.row(1, 0) into lane 1 ...
//	... Z1..Z7
//	VPUNPCKLWD Z1, Z0, Z8; VPUNPCKHWD Z1, Z0, Z9 ...    // the ladder, in every lane
//	VPXORD Z16, Z16, Z16
//	VPUNPCKLWD Z8, Z16, Z17; VPUNPCKHWD Z8, Z16, Z18    // column 0 widened (bfloat16)
//	VMOVDQU64 Z17, (d); VMOVDQU64 Z18, 64(d) ...         // two lines of each row
//
// Narrowing, each ladder register from four rows:
//
//	MOVQ (off), t; VBROADCASTI64X4 (s)(t*1), Z20          // row 0 (cb.row(0, 0))
//	MOVQ 64(off), t; VINSERTI64X4 $1, (s)(t*1), Z20, Z20  // and row 8
//	<cb.narrow: Z20 into Y21>; ... rows 16 and 24 into Y22
//	VINSERTI64X4 $1, Y22, Z21, Z0                          // lanes: rows 0, 8, 16, 24
//	... Z1..Z7, the ladder, then one line of each destination row per column
func emitConvBandAVX512(c *build.Context, cb convBand, k []reg.VecVirtual, r bandRegs, nt, prefetch bool) {
	const n = 8 // rows and columns of a lane's block of 16-bit elements
	lanes := cacheLineBytes / 16
	// row returns the source of the band's row for lane l of register m.
	row := func(l, m int) Mem {
		c.MOVQ(Mem{Base: r.off, Disp: 8 * cb.row(l, m)}, r.t)
		src := Mem{Base: r.s, Index: r.t, Scale: 1}
		if prefetch {
			c.PREFETCHT0(src.Offset(cacheLineBytes))
		}
		return src
	}
	regs := make([]reg.VecVirtual, n)
	for m := range regs {
		z := c.ZMM()
		if cb.narrow != nil { // lanes 0-1 and 2-3 from two rows of float32 each
			var half [2]reg.VecVirtual
			for h := range half {
				w := c.ZMM()
				c.VBROADCASTI64X4(row(2*h, m), w)
				c.VINSERTI64X4(Imm(1), row(2*h+1, m), w, w)
				half[h] = cb.narrow(c, w, k)
			}
			c.VINSERTI64X4(Imm(1), half[1], half[0].AsZ(), z)
			regs[m] = z
			continue
		}
		for l := range lanes {
			if l == 0 {
				c.VBROADCASTI32X4(row(l, m), z)
			} else {
				c.VINSERTI32X4(Imm(uint64(l)), row(l, m), z, z)
			}
		}
		regs[m] = z
	}
	cols := unpackLadder(c, regs, 2, c.ZMM)
	if cb.narrow != nil {
		storeBand(c, cols, r, nt)
		return
	}
	zero := c.ZMM()
	c.VPXORD(zero, zero, zero)
	eachRow(c, n, r.d, r.dj, r.dj3, r.tmp, 0, func(j int, m Mem) {
		lo, hi := cb.widen(c, cols[j], zero)
		for h, v := range []reg.VecVirtual{lo, hi} {
			if nt {
				c.VMOVNTDQ(v, m.Offset(h*cacheLineBytes))
			} else {
				c.VMOVDQU64(v, m.Offset(h*cacheLineBytes))
			}
		}
	})
}

// convBandsCond is the Go condition that a pair, from and to, has AVX-512
// tiles (avx512ConvBands).
func convBandsCond() *jen.Statement {
	var cond *jen.Statement
	for _, cv := range conversions {
		if _, ok := avx512ConvBands[convName(cv)]; !ok {
			continue
		}
		is := jen.Id("from").Op("==").Id(cv.From).Op("&&").Id("to").Op("==").Id(cv.To)
		if cond == nil {
			cond = is
		} else {
			cond = cond.Op("||").Add(is)
		}
	}
	return cond
}

// convVector512 is how many elements one step of the AVX-512 row loops
// converts; a row needs at least that many (shorter ones take the AVX2
// loop).
const convVector512 = 16

// rowStep512 is a pair's step of the AVX-512 row loop: step converts 16
// elements from src to dst with ZMM registers, where the AVX2 loop takes
// two steps of 8 (convStep), with k the constants that setup (if set)
// loads once per call.
type rowStep512 struct {
	step  func(c *build.Context, dst, src Mem, k []reg.VecVirtual)
	setup func(c *build.Context) []reg.VecVirtual
}

// avx512RowSteps are the AVX-512 row steps, by convName. Only the
// narrowing pairs, whose conversions cost more than their memory traffic
// in the cache: rows of 256 elements 512 apart ([256, 256], one worker, a
// scratch program, µs, AVX2 → AVX-512, 2 alternations) float32 → bfloat16
// 11.1-13.8 → 6.5-6.6, float32 → float16 5.5-5.7 → 3.8-3.9, float64 →
// float32 9.2-9.9 → 8.0-8.1; [4096, 256] 408-452 → 281-312, 259-268 →
// 248-259 and 283-294 either way; bfloat16 → float32 alike at every size
// (5.5-5.6, 31-38, 137-162), and the suite's widening heads 0.91-1.01×
// in the cache, so the widening pairs keep the AVX2 loop.
var avx512RowSteps = map[string]rowStep512{
	"Float64Float32": {step: func(c *build.Context, dst, src Mem, _ []reg.VecVirtual) {
		for h := range 2 {
			y := c.YMM()
			c.VCVTPD2PS(src.Offset(64*h), y)
			c.VMOVDQU(y, dst.Offset(32*h))
		}
	}},
	"Float32BFloat16": {step: func(c *build.Context, dst, src Mem, k []reg.VecVirtual) {
		z := c.ZMM()
		c.VMOVDQU64(src, z)
		c.VMOVDQU(narrowBF16(c, z, k), dst)
	}, setup: setupBF16x16},
	"Float32Float16": {step: func(c *build.Context, dst, src Mem, _ []reg.VecVirtual) {
		z := c.ZMM()
		c.VMOVDQU64(src, z)
		c.VCVTPS2PH(Imm(0), z, dst) // to nearest, ties to even, as storeF16
	}},
}

// avx512ConvRowFuncs lists the AVX-512 row loops, one per pair of
// avx512RowSteps: the loop of the AVX2 ones (emitConvRowsLoop) around the
// step.
func avx512ConvRowFuncs() []asmFunc {
	var fs []asmFunc
	for _, cv := range conversions {
		rs, ok := avx512RowSteps[convName(cv)]
		if !ok {
			continue
		}
		from, to := convDTypes(cv)
		name := "convRows" + convName(cv) + "AVX512"
		fs = append(fs, asmFunc{
			Name:   name,
			Params: convRowParams,
			Doc: []string{
				fmt.Sprintf("%s converts planes × rows rows of n >= %d adjacent %s", name, convVector512, from.Name),
				fmt.Sprintf("elements to %s, %d at a time, the last %d of a row again instead of a", to.Name, convVector512, convVector512),
				"scalar tail (they convert to the same values). It is the loop of Convert",
				fmt.Sprintf("with stride %d; it needs AVX-512 F and BW (see AVX512).", from.Size),
			},
			Body: func(c *build.Context) {
				emitConvRowsLoop(c, cv, convVector512, rs.setup, func(dst, src Mem, k []reg.VecVirtual) { rs.step(c, dst, src, k) })
			},
		})
	}
	return fs
}

// emitConvBand32AVX512 emits one band of float64 to float32 (the
// convBand with words; w is float32's width): 16 source rows of 8 float64 (one line each) become
// 8 destination rows of 16 float32, one line each, through the plain
// float32 band's transpose (splitBand), its rows in the same order
// (bandRow):
//
//	MOVQ (off), t; VCVTPD2PS (s)(t*1), Y16           // row 0 as float32
//	MOVQ 32(off), t; VCVTPD2PS (s)(t*1), Y17         // row 4
//	VINSERTF64X4 $1, Y17, Z16, Z0                    // rows 0 and 4
//	... Z1..Z7; splitBand; one line of each destination row
//
// The AVX2 tiles convert each row the same way, two 16-byte halves joined
// into a YMM register, then shuffle 8×8 tiles that store half a line of
// each destination row.
func emitConvBand32AVX512(c *build.Context, w width, r bandRegs, nt, prefetch bool) {
	per := cacheLineBytes / (w.TileJ * w.Size) // source rows per register: 2
	regs := make([]reg.VecVirtual, w.TileJ)
	for g := range regs {
		var half [2]reg.VecVirtual
		for q := range per {
			c.MOVQ(Mem{Base: r.off, Disp: 8 * bandRow(w, g, q)}, r.t)
			src := Mem{Base: r.s, Index: r.t, Scale: 1}
			if prefetch {
				c.PREFETCHT0(src.Offset(cacheLineBytes))
			}
			half[q] = c.YMM()
			c.VCVTPD2PS(src, half[q])
		}
		z := c.ZMM()
		c.VINSERTF64X4(Imm(1), half[1], half[0].AsZ(), z)
		regs[g] = z
	}
	storeBand(c, splitBand(c, w, regs), r, nt)
}
