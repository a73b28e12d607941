package main

import (
	"fmt"
	"math/bits"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The Aligned AVX-512 tiles: the bands of the plain AVX-512 tiles
// (emitBandAVX512, emitBandLanesAVX512) for destination rows that do not
// start on a line boundary (rows off line boundaries, as in a transpose of
// [4095, 4097]), in the cache. There each of a band's 64-byte stores
// straddles two lines, and on the Intel Xeon VM that alone made the float32
// tiles 1.3-1.5x slower than the same tiles into rows padded to whole
// lines, the bfloat16 ones 1.1-1.7x, the float64 ones (AVX2 4×4 tiles
// there, as avx512Straight says) 1.2-1.4x (BenchmarkLimitAlignment in
// benchmarks/).
//
// The Aligned form walks the bands of a group of tile columns
// (alignedGroup) down its source rows (the plain tiles walk the tile
// columns of one band), so that destination row r gets its consecutive
// lines from consecutive bands. Each band's line of row r is joined with
// the one before it by a two-source permute (VPERMT2W, VPERMT2D,
// VPERMT2Q) whose index vector shifts them by the row's distance from its
// line boundary, s_r elements, and stored whole and aligned: with L
// elements a line, the line that holds elements [Lb-s_r, Lb+L-s_r) after
// band b. The first and last lines of each row, which hold elements of
// other calls' rows too, go out through a mask (VMOVDQU16, VMOVDQU32,
// VMOVDQU64). The index vector and both masks of each row are worked out
// once per group, on the stack.

// avx512Aligned are the element sizes that get an Aligned AVX-512 tile
// kernel: 2, 4 and 8 bytes, whose bands store a line of each of 8 (2 and
// 4 bytes) or 4 (8 bytes) destination rows. transpose2d-odd, x-ceiling,
// one worker, 2-3 interleaved rounds, at 256 KiB/1/4 MiB: bfloat16
// 0.31/0.41/0.50 -> 0.35/0.45/0.53, float32 0.41/0.46/0.57 ->
// 0.51/0.58/0.59, float64 0.42/0.46 -> 0.44/0.51 (at 4 MiB it is
// buffered). float64 rows off line boundaries from 1310720 bytes take the
// buffer (unalignedSpans) as before: unbuffered with these tiles they ran
// 0.81-0.87x at 4 MiB. Not 1 byte: a band of 16 destination rows, 16
// carried lines and its 16 loaded registers do not fit the 32 ZMM
// registers.
var avx512Aligned = map[int]bool{2: true, 4: true, 8: true}

// alignedName is the name of the Aligned AVX-512 tiles of w.
func alignedName(w width) string { return tilesName(w) + "AlignedAVX512" }

// avx512AlignedFuncs lists the Aligned tile kernels, one per width of
// avx512Aligned.
func avx512AlignedFuncs() []asmFunc {
	var fs []asmFunc
	for _, w := range widthsIn(avx512Aligned) {
		doc := tilesDoc(w, alignedName(w), "with AVX-512 unpacks (and lane shuffles), joined by permutes into whole aligned destination lines")
		doc = append(doc, "",
			fmt.Sprintf("for destination rows that do not start on a line boundary: dst and dj must be multiples of %d,", w.Size),
			fmt.Sprintf("and ti a multiple of %d (whole bands of %d source rows). Each destination row's first", w.Bands(), w.Bands()*w.TileI),
			"and last lines are written through a mask, the lines between whole and",
			"aligned, with the elements of two bands each. It is for results in the",
			"cache: plain stores, no prefetch.",
			"",
			"It needs what AVX512 asks for.")
		fs = append(fs, asmFunc{
			Name:   alignedName(w),
			Params: tileParams,
			Doc:    doc,
			Body:   func(c *build.Context) { emitTilesAlignedAVX512(c, w) },
			Frame:  true, // each row's index vector, line and masks
		})
	}
	return fs
}

// alignedShifts writes the index vectors of the Aligned tiles of w into the
// active global: vector s (64 bytes at s*64) takes lane k from lane
// k+lanes-s of the two sources (the one before, then the band's own), so
// that after band b it holds the elements [lanes*b-s, lanes*b+lanes-s) of
// a row whose start is s elements past a line boundary.
func alignedShifts(c *build.Context, w width) {
	lanes := cacheLineBytes / w.Size
	for s := range lanes {
		for k := range lanes {
			addLane(c, w, s*cacheLineBytes+k*w.Size, k+lanes-s)
		}
	}
}

// alignedGroup is how many tile columns the Aligned tiles of w walk down
// their bands together: as many as make a source line (16 columns of 4
// bytes, 8 of 8), so that the band of the second reads the other half of
// the lines the first has just read (rows about 4 KiB apart would
// otherwise evict them before a second walk came back for them), but at
// most 16 destination rows, whose lines (one ZMM register each) carry from
// band to band: two tile columns of 2 bytes, one of 1.
func alignedGroup(w width) int {
	return min(16/w.TileJ, cacheLineBytes/(w.TileJ*w.Size))
}

// emitTilesAlignedAVX512 emits the Aligned tiles of w, alignedGroup tile
// columns at a time, then one; for 4-byte elements (bands of 16 source rows
// by 8 columns):
//
//	loop_pairs:                      // while tj >= 2
//		for each of the 16 destination rows r, at a = d + r*dj:
//			line[r] = a &^ 63; idx[r] = shifts + (a&63)*16
//			head[r] = 0xFFFF << ((a&63)/4); tail[r] = ^head[r]
//		band 0 of both columns (loadBand, splitBand) -> cur[r]
//		VPERMT2D cur[r], idx[r], Zx; VMOVDQU32 Zx, K(head[r]), (line[r])
//	loop_pairs_b:                    // the other ti/2-1 bands
//		band b -> next[r]; VPERMT2D next[r], idx[r], cur[r]
//		VMOVDQA64 cur[r], 64*b(line[r]); cur[r] = next[r]
//		VPERMT2D cur[r], idx[r], cur[r]; VMOVDQU32 cur[r], K(tail[r]), 64*(b+1)(line[r])
//	one: the same for a last single tile column
func emitTilesAlignedAVX512(c *build.Context, w width) {
	name := alignedName(w)
	// One lane per element: the join, the masked store and the mask's load.
	permute := map[int]func(...Op){1: c.VPERMT2B, 2: c.VPERMT2W, 4: c.VPERMT2D, 8: c.VPERMT2Q}[w.Size]
	store := map[int]func(...Op){1: c.VMOVDQU8, 2: c.VMOVDQU16, 4: c.VMOVDQU32, 8: c.VMOVDQU64}[w.Size]
	kmov := map[int]func(Op, Op){1: c.KMOVQ, 2: c.KMOVD, 4: c.KMOVW, 8: c.KMOVW}[w.Size]
	bandRows := w.Bands() * w.TileI // source rows of a band
	// band0 loads and transposes a band at s, its rows at off, and returns
	// its destination lines: the bands of the plain AVX-512 tiles.
	var band0 func(s, off, t reg.GPVirtual) []reg.VecVirtual
	if avx512Lanes[w.Size] {
		band0 = func(s, off, t reg.GPVirtual) []reg.VecVirtual {
			return laneBand(c, w, bandRegs{s: s, off: off, t: t}, false)
		}
	} else {
		band0 = func(s, off, t reg.GPVirtual) []reg.VecVirtual {
			return splitBand(c, w, loadBand(c, w, bandRegs{s: s, off: off, t: t}, false))
		}
	}
	shifts := c.StaticGlobal(name + "Shifts")
	c.DataAttributes(attr.RODATA | attr.NOPTR)
	alignedShifts(c, w)

	most := alignedGroup(w) * w.TileJ // destination rows at a time
	// The frame: each row's index vector, then its line, head and tail mask.
	frame := c.AllocLocal(most*cacheLineBytes + most*3*8)
	idxAt := func(r int) Mem { return frame.Offset(r * cacheLineBytes) }
	lineAt := func(r int) Mem { return frame.Offset(most*cacheLineBytes + r*24) }
	headAt := func(r int) Mem { return lineAt(r).Offset(8) }
	tailAt := func(r int) Mem { return lineAt(r).Offset(16) }

	// Registers held across the loops: the source column s, the
	// destination d, the tile columns left kk; the parameters are read
	// again from the frame where needed.
	s, d, kk := c.GP64(), c.GP64(), c.GP64()
	c.MOVQ(paramAddr(c, "src"), s)
	c.ADDQ(paramAddr(c, "col"), s)
	c.MOVQ(paramAddr(c, "dst"), d)
	c.MOVQ(paramAddr(c, "tj"), kk)
	t := c.GP64()
	c.MOVQ(paramAddr(c, "ti"), t)
	c.SHRQ(U8(bits.TrailingZeros(uint(w.Bands()))), t) // bands
	c.JZ(LabelRef(name + "_done"))

	group := func(cols int, label string) {
		rows := cols * w.TileJ
		c.Label(label)
		a, tmp, dj := c.GP64(), c.GP64(), c.GP64()
		c.MOVQ(paramAddr(c, "dj"), dj)
		c.MOVQ(d, a)
		for r := range rows {
			c.MOVQ(a, t)
			c.ANDQ(U32(cacheLineBytes-1), t) // bytes past the line boundary
			c.MOVQ(a, tmp)
			c.SUBQ(t, tmp)
			c.MOVQ(tmp, lineAt(r))
			c.LEAQ(shifts, tmp)
			c.SHLQ(U8(6-bits.TrailingZeros(uint(w.Size))), t) // (bytes/size)*64: that row's index vector
			z := c.ZMM()
			c.VMOVDQU64(Mem{Base: tmp, Index: t, Scale: 1}, z)
			c.VMOVDQU64(z, idxAt(r))
			c.SHRQ(U8(6), t)     // elements past the line boundary
			c.MOVQ(I32(-1), tmp) // every lane (the mask has a bit a lane): the shift clears those before the row
			c.SHLXQ(t, tmp, tmp)
			c.MOVQ(tmp, headAt(r))
			c.NOTQ(tmp)
			c.MOVQ(tmp, tailAt(r))
			c.ADDQ(dj, a)
		}
		c.MOVQ(a, d) // the next group's first row
		p, o, nb := c.GP64(), c.GP64(), c.GP64()
		c.MOVQ(paramAddr(c, "off"), p)
		c.XORQ(o, o)
		c.MOVQ(paramAddr(c, "ti"), nb)
		c.SHRQ(U8(bits.TrailingZeros(uint(w.Bands()))), nb)
		// band returns the destination lines of the band at p of tile
		// column g of the group, its rows in order. Each column's lines
		// are joined and stored before the next column's band loads, so
		// that only the carried lines and one band are in registers.
		band := func(g int) []reg.VecVirtual {
			if g > 0 {
				c.ADDQ(U32(w.TileJ*w.Size), s)
			}
			return band0(s, p, t)
		}
		back := func() { // s to the group's first column again
			if cols > 1 {
				c.SUBQ(U32((cols-1)*w.TileJ*w.Size), s)
			}
		}
		k := c.K()
		cur := make([]reg.VecVirtual, rows)
		for g := range cols {
			lines := band(g)
			for q, l := range lines {
				r := g*w.TileJ + q
				x := c.ZMM()
				c.VMOVDQU64(idxAt(r), x)
				permute(l, x, x) // the lanes before the row's start are masked off
				kmov(headAt(r), k)
				c.MOVQ(lineAt(r), t)
				store(x, k, Mem{Base: t})
				cur[r] = l
			}
		}
		back()
		c.DECQ(nb)
		c.JZ(LabelRef(label + "_last"))

		c.Label(label + "_b")
		c.ADDQ(U32(8*bandRows), p)
		c.ADDQ(U32(cacheLineBytes), o)
		for g := range cols {
			next := band(g)
			for q := range next {
				r := g*w.TileJ + q
				x := c.ZMM()
				c.VMOVDQU64(idxAt(r), x)
				permute(next[q], x, cur[r])
				c.MOVQ(lineAt(r), t)
				c.VMOVDQA64(cur[r], Mem{Base: t, Index: o, Scale: 1})
				c.VMOVDQA64(next[q], cur[r])
			}
		}
		back()
		c.DECQ(nb)
		c.JNZ(LabelRef(label + "_b"))

		c.Label(label + "_last")
		c.ADDQ(U32(cacheLineBytes), o)
		for r := range rows {
			x := c.ZMM()
			c.VMOVDQU64(idxAt(r), x)
			permute(cur[r], x, cur[r]) // the lanes after the row's last element are masked off
			kmov(tailAt(r), k)
			c.MOVQ(lineAt(r), t)
			store(cur[r], k, Mem{Base: t, Index: o, Scale: 1})
		}
		c.ADDQ(U32(cols*w.TileJ*w.Size), s)
	}

	emitGroups(c, kk, alignedGroup(w), name+"_pairs", name+"_one", name+"_single", name+"_done", group)

	c.Label(name + "_done")
	c.VZEROUPPER()
	c.RET()
}
