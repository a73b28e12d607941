package main

import (
	"fmt"
	"math/bits"
	"strings"
)

// The arm64 kernels: Go's arm64 assembly, written by a small emitter of
// its own, since avo writes amd64 only. As on amd64 the assembly is only
// the innermost piece, whole register tiles and whole rows; blocking,
// edges and dispatch are the generated Go every architecture shares.
// Every instruction used is in Go's arm64 assembler
// (cmd/internal/obj/arm64): VTRN1/VTRN2 for the register transposes,
// FLDPQ/FSTPQ (LDP/STP of Q registers) and FMOVQ for 32- and 16-byte
// moves, FMOVD and VST1 of one D lane for the 8-byte rows of byte tiles.
//
// Above each emitting function, the assembly it emits (for 4-byte
// elements where it matters).

// neonSuffix ends the name of every NEON kernel.
const neonSuffix = "NEON"

// armAsm collects the text of Go arm64 assembly functions.
type armAsm struct{ b strings.Builder }

// op emits one instruction: op(a, b, c) is "\tOP a, b, c".
func (a *armAsm) op(name string, args ...string) {
	fmt.Fprintf(&a.b, "\t%s\t%s\n", name, strings.Join(args, ", "))
}

// label emits a label.
func (a *armAsm) label(l string) { fmt.Fprintf(&a.b, "\n%s:\n", l) }

// comment emits a // comment line.
func (a *armAsm) comment(format string, args ...any) {
	fmt.Fprintf(&a.b, "\t// "+format+"\n", args...)
}

// text starts a function without a frame whose parameters are the given
// 8-byte words (pointers and ints) and loads each into its register.
func (a *armAsm) text(name string, params []asmParam, regs []string) {
	fmt.Fprintf(&a.b, "\n// func %s(%s)\nTEXT ·%s(SB), NOSPLIT, $0-%d\n", name, goParams(params), name, 8*len(params))
	for k, p := range params {
		a.op("MOVD", fmt.Sprintf("%s+%d(FP)", p.Name, 8*k), regs[k])
	}
}

// goParams is the parameter list of an assembly function's Go stub.
func goParams(params []asmParam) string {
	var out []string
	for _, p := range params {
		t := "int"
		if p.Pointer {
			t = "unsafe.Pointer"
		}
		out = append(out, p.Name+" "+t)
	}
	return strings.Join(out, ", ")
}

// v is vector register n with an arrangement: v(3, "S4") is V3.S4.
func v(n int, arr string) string { return fmt.Sprintf("V%d.%s", n, arr) }

// f is the floating-point name of vector register n, as FMOVQ, FLDPQ and
// FSTPQ take it.
func f(n int) string { return fmt.Sprintf("F%d", n) }

// arrangement is the arrangement of 16 bytes in elements of size bytes.
func arrangement(size int) string {
	return map[int]string{1: "B16", 2: "H8", 4: "S4", 8: "D2"}[size]
}

// neonFuncs lists the NEON assembly functions: one tile transpose per
// width, then the row copy.
func neonFuncs() []asmFunc {
	var fs []asmFunc
	for _, w := range widths {
		fs = append(fs, asmFunc{
			Name:   tilesName(w) + neonSuffix,
			Params: tileParams,
			Doc:    tilesDoc(w, tilesName(w)+neonSuffix, "with NEON register transposes (VTRN1, VTRN2)"),
		})
	}
	return append(fs, asmFunc{
		Name:   "copyRows" + neonSuffix,
		Params: rowParams,
		Doc: append([]string{
			"copyRowsNEON copies planes × rows rows of rowBytes bytes each, rowBytes >= 16,",
			"the source planes planeStride bytes apart and their rows srcStride bytes",
			"apart, the destination rows back to back, with 32-byte moves (LDP and STP",
			"of two Q registers; for rows under 32 bytes, two 16-byte moves) whose last",
			"move overlaps the one before it instead of a byte tail. It is the plain loop",
			"",
		}, rowsLoopDoc...),
	})
}

// renderNEON renders accel_arm64.s.
func renderNEON(maxRank int) ([]byte, error) {
	a := &armAsm{}
	fmt.Fprintf(&a.b, "%s-max-rank %d\"; DO NOT EDIT.\n//\n// The arm64 kernels, written by gen/neon.go.\n\n//go:build %s\n\n#include \"textflag.h\"\n", generatedPrefix, maxRank, backend{Arch: "arm64"}.constraint())
	for _, w := range widths {
		if err := emitTilesNEON(a, w); err != nil {
			return nil, err
		}
	}
	emitCopyRowsNEON(a)
	return []byte(a.b.String()), nil
}

// trnNetwork emits the register transpose of n rows (n a power of two) held
// in rows, one 16-byte vector each, of elements of size bytes, in log2(n)
// stages of VTRN1/VTRN2 whose element size doubles each stage; next hands
// out free registers. Out[k] holds column k; for 1-byte elements (n = 8
// rows of 16 bytes) it holds column k in its low 8 bytes and column k+8 in
// its high 8 bytes. Stage s pairs rows i and i+2^s (bit s of i clear):
//
//	VTRN1 V1.S4, V0.S4, V16.S4; VTRN2 V1.S4, V0.S4, V17.S4   // stage 0, pairs (0,1), (2,3)
//	VTRN1 V18.D2, V16.D2, V20.D2; VTRN2 V18.D2, V16.D2, V22.D2 // stage 1, pairs (0,2), (1,3)
func trnNetwork(a *armAsm, rows []int, size int, next func() int) []int {
	cur := rows
	for s := 0; 1<<s < len(rows); s++ {
		arr := arrangement(size << s)
		out := make([]int, len(cur))
		for i := range cur {
			if i&(1<<s) != 0 {
				continue
			}
			j := i + 1<<s
			out[i], out[j] = next(), next()
			// VTRN1 Vm, Vn, Vd is Vd = TRN1(Vn, Vm): the first row is Vn.
			a.op("VTRN1", v(cur[j], arr), v(cur[i], arr), v(out[i], arr))
			a.op("VTRN2", v(cur[j], arr), v(cur[i], arr), v(out[j], arr))
		}
		cur = out
	}
	return cur
}

// subtileRows is the number of rows of the register transposes of a
// width: as many as a 16-byte vector has elements, or 8 rows of bytes
// (two 8×8 transposes side by side).
func subtileRows(w width) int {
	if w.Size == 1 {
		return 8
	}
	return 16 / w.Size
}

// The registers of the tile kernels.
const (
	rDst, rSrc, rOff, rCol, rTI, rTJ, rDJ = "R0", "R1", "R2", "R3", "R4", "R5", "R6"
	rStepJ, rS, rD, rK, rRow, rOut, rOut8 = "R7", "R8", "R9", "R10", "R11", "R12", "R13"
)

// emitTilesNEON emits the tile transpose of a width: for each of ti tile
// rows, for each of tj tile columns, TileI source rows loaded (one or two
// Q registers each), transposed 16 bytes by 16 bytes (trnNetwork), and
// stored as TileJ destination rows:
//
//		ADD col, src; dj*TileJ -> step
//	tiles_i:                              // ti tile rows
//		MOVD src, s; MOVD dst, d; MOVD tj, k
//	tiles_j:                              // tj tile columns
//		MOVD 0(off), t; ADD s, t; FLDPQ (t), (F0, F1)   ... one per source row
//		VTRN1 ...; VTRN2 ...                            ... trnNetwork per 4×4 block
//		MOVD d, o; FSTPQ (F24, F28), (o); ADD dj, o      ... one per destination row
//		ADD $32, s; ADD step, d; SUB $1, k; CBNZ k, tiles_j
//		ADD $64, off; ADD $32, dst; SUB $1, ti; CBNZ ti, tiles_i
func emitTilesNEON(a *armAsm, w width) error {
	name := tilesName(w) + neonSuffix
	n := subtileRows(w)         // rows of one register transpose
	nq := w.TileJ * w.Size / 16 // Q registers per source row of a tile
	groups := w.TileI / n       // row groups of a tile
	if n*groups != w.TileI || nq < 1 || nq > 2 || (w.Size == 1 && (nq != 1 || groups != 1)) {
		return fmt.Errorf("width %s: tile %d×%d does not split into %d-row register transposes of 16 bytes", w.Carrier, w.TileI, w.TileJ, n)
	}
	nsrc := w.TileI * nq
	a.text(name, tileParams, []string{rDst, rSrc, rOff, rCol, rTI, rTJ, rDJ})
	a.op("CBZ", rTI, name+"_done")
	a.op("CBZ", rTJ, name+"_done")
	a.op("ADD", rCol, rSrc)
	a.op("LSL", fmt.Sprintf("$%d", bits.TrailingZeros(uint(w.TileJ))), rDJ, rStepJ)
	if w.Size == 1 {
		a.op("LSL", "$3", rDJ, "R14") // 8 destination rows further: the high halves
	}
	a.label(name + "_i")
	a.op("MOVD", rSrc, rS)
	a.op("MOVD", rDst, rD)
	a.op("MOVD", rTJ, rK)
	a.label(name + "_j")
	a.comment("%d source rows of %d bytes", w.TileI, w.TileJ*w.Size)
	for r := 0; r < w.TileI; r++ {
		a.op("MOVD", fmt.Sprintf("%d(%s)", 8*r, rOff), rRow)
		a.op("ADD", rS, rRow)
		if nq == 2 {
			a.op("FLDPQ", "("+rRow+")", fmt.Sprintf("(%s, %s)", f(r*nq), f(r*nq+1)))
		} else {
			a.op("FMOVQ", "("+rRow+")", f(r))
		}
	}
	// outs[b][g][k]: column k of the 16-byte column group b, rows of group g.
	outs := make([][][]int, nq)
	for b := 0; b < nq; b++ {
		free := nsrc
		next := func() int { free++; return free - 1 }
		outs[b] = make([][]int, groups)
		for g := 0; g < groups; g++ {
			rows := make([]int, n)
			for k := range rows {
				rows[k] = (g*n+k)*nq + b
			}
			a.comment("rows %d-%d, bytes %d-%d", g*n, g*n+n-1, 16*b, 16*b+15)
			outs[b][g] = trnNetwork(a, rows, w.Size, next)
		}
		if free > 32 {
			return fmt.Errorf("width %s: the register transpose needs %d vector registers", w.Carrier, free)
		}
		a.comment("destination rows %d-%d", b*n, b*n+n-1)
		if w.Size == 1 {
			a.op("MOVD", rD, rOut)
			a.op("ADD", rD, "R14", rOut8)
			for k := 0; k < n; k++ {
				o := outs[b][0][k]
				a.op("FMOVD", f(o), "("+rOut+")")
				a.op("VST1", v(o, "D")+"[1]", "("+rOut8+")")
				a.op("ADD", rDJ, rOut)
				a.op("ADD", rDJ, rOut8)
			}
			continue
		}
		if b == 0 {
			a.op("MOVD", rD, rOut)
		}
		for k := 0; k < n; k++ {
			switch groups {
			case 1:
				a.op("FMOVQ", f(outs[b][0][k]), "("+rOut+")")
			case 2:
				a.op("FSTPQ", fmt.Sprintf("(%s, %s)", f(outs[b][0][k]), f(outs[b][1][k])), "("+rOut+")")
			default:
				return fmt.Errorf("width %s: %d row groups", w.Carrier, groups)
			}
			a.op("ADD", rDJ, rOut)
		}
	}
	a.op("ADD", fmt.Sprintf("$%d", w.TileJ*w.Size), rS)
	a.op("ADD", rStepJ, rD)
	a.op("SUB", "$1", rK)
	a.op("CBNZ", rK, name+"_j")
	a.op("ADD", fmt.Sprintf("$%d", 8*w.TileI), rOff)
	a.op("ADD", fmt.Sprintf("$%d", w.TileI*w.Size), rDst)
	a.op("SUB", "$1", rTI)
	a.op("CBNZ", rTI, name+"_i")
	a.label(name + "_done")
	a.op("RET")
	return nil
}

// emitCopyRowsNEON emits the row copy:
//
//		CBZ planes, done; CBZ rows, done
//		CMP $32, n; BLT short; SUB $32, n, last
//	long_plane:
//		MOVD src, s; MOVD rows, k
//	long:                       // per row: 32-byte moves, the last one ending the row
//		MOVD ZR, i
//	move:
//		CMP last, i; BGE tail
//		ADD s, i, t; FLDPQ (t), (F0, F1); ADD d, i, t; FSTPQ (F0, F1), (t); ADD $32, i; B move
//	tail:
//		ADD s, last, t; FLDPQ (t), (F0, F1); ADD d, last, t; FSTPQ (F0, F1), (t)
//		ADD stride, s; ADD n, d; SUB $1, k; CBNZ k, long
//		ADD planeStride, src; SUB $1, planes; CBNZ planes, long_plane
//	short:                      // 16..31 bytes: two overlapping 16-byte moves
func emitCopyRowsNEON(a *armAsm) {
	const (
		d, src, planes, planeStride, rows, n, stride = "R0", "R1", "R2", "R3", "R4", "R5", "R6"
		s, k, last, i, t                             = "R7", "R8", "R9", "R10", "R11"
	)
	name := "copyRows" + neonSuffix
	a.text(name, rowParams, []string{d, src, planes, planeStride, rows, n, stride})
	a.op("CBZ", planes, "rows_done")
	a.op("CBZ", rows, "rows_done")
	planeLoop := func(label string, row func()) {
		a.label(label + "_plane")
		a.op("MOVD", src, s)
		a.op("MOVD", rows, k)
		a.label(label)
		row()
		a.op("ADD", stride, s)
		a.op("ADD", n, d)
		a.op("SUB", "$1", k)
		a.op("CBNZ", k, label)
		a.op("ADD", planeStride, src)
		a.op("SUB", "$1", planes)
		a.op("CBNZ", planes, label+"_plane")
		a.op("B", "rows_done")
	}
	a.op("CMP", "$32", n)
	a.op("BLT", "rows_short_plane")
	a.op("SUB", "$32", n, last)
	planeLoop("rows_long", func() {
		a.op("MOVD", "ZR", i)
		a.label("rows_move")
		a.op("CMP", last, i)
		a.op("BGE", "rows_tail")
		a.op("ADD", s, i, t)
		a.op("FLDPQ", "("+t+")", "(F0, F1)")
		a.op("ADD", d, i, t)
		a.op("FSTPQ", "(F0, F1)", "("+t+")")
		a.op("ADD", "$32", i)
		a.op("B", "rows_move")
		a.label("rows_tail")
		a.op("ADD", s, last, t)
		a.op("FLDPQ", "("+t+")", "(F0, F1)")
		a.op("ADD", d, last, t)
		a.op("FSTPQ", "(F0, F1)", "("+t+")")
	})
	planeLoop("rows_short", func() {
		a.op("SUB", "$16", n, last)
		a.op("FMOVQ", "("+s+")", "F0")
		a.op("ADD", s, last, t)
		a.op("FMOVQ", "("+t+")", "F1")
		a.op("FMOVQ", "F0", "("+d+")")
		a.op("ADD", d, last, t)
		a.op("FMOVQ", "F1", "("+t+")")
	})
	a.label("rows_done")
	a.op("RET")
}
