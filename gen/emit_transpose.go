package main

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dave/jennifer/jen"
)

// The transposes and the row copies: the Go around the assembly of asm.go,
// and the Go fallback that replaces the assembly off amd64, under the purego
// build tag, and on CPUs without AVX2. As in emit.go, the Go each function
// emits is shown above it, for 4-byte elements.

// ptr is unsafe.Pointer.
func ptr() *jen.Statement { return jen.Qual("unsafe", "Pointer") }

// add is unsafe.Add(base, off).
func add(base jen.Code, off jen.Code) *jen.Statement {
	return jen.Qual("unsafe", "Add").Call(base, off)
}

// deref is *(*uint32)(p).
func deref(w width, p jen.Code) *jen.Statement {
	return jen.Op("*").Parens(jen.Op("*").Id(w.Carrier)).Parens(p)
}

// times is e*k, or e for k == 1.
func times(e *jen.Statement, k int) *jen.Statement {
	if k == 1 {
		return e
	}
	return e.Op("*").Lit(k)
}

// tileParamsGo are the parameters of a tiles function, as in tileParams.
func tileParamsGo() []jen.Code {
	return []jen.Code{jen.List(jen.Id("dst"), jen.Id("src"), jen.Id("off")).Add(ptr()), jen.List(jen.Id("col"), jen.Id("ti"), jen.Id("tj"), jen.Id("dj")).Int()}
}

// tileArgs are the arguments that pass a tiles function's parameters on.
func tileArgs() []jen.Code {
	return []jen.Code{jen.Id("dst"), jen.Id("src"), jen.Id("off"), jen.Id("col"), jen.Id("ti"), jen.Id("tj"), jen.Id("dj")}
}

// goTile is the block a width's Go tile transpose moves at a time.
type goTile struct {
	Size int // the element size, in bytes, of the width it serves
	// Rows × Cols is the block of the element-at-a-time form (emitTilesGo):
	// Rows source rows of Cols elements loaded into locals, then stored to
	// Cols destination rows.
	Rows, Cols int
	// Groups, where not 0, gives the width a word-at-a-time form
	// (emitTilesSwar) where swarArchs allow it: Groups blocks of q×q
	// elements, q = 8/Size, from q*Groups source rows, each block q words
	// transposed in registers, stored as Groups words to each of q
	// destination rows.
	Groups int
	// FarGroups, where not 0, is the number of word blocks (as Groups) for
	// copies larger than the cache; Groups stays for the others.
	FarGroups int
	// Compose: on amd64, the word form builds each destination word from q
	// loads of one element each, shifted into their lanes and or-ed,
	// rather than loading a word a row and exchanging lanes (swarBody).
	// amd64 has 16 general registers, and the compiler spilled the
	// exchanged words; arm64 and ppc64le have 32 and keep the exchange
	// (on arm64 its step is 45 instructions, the composed one 55).
	Compose bool
	// TouchSource: beyond the cache, the walk reads a byte of each source
	// line of a block before its tiles, as it does of each destination
	// line (see emitTouch).
	TouchSource bool
}

// goTiles lists the Go tile blocks, one per width. Measured on the 2-vCPU
// EPYC VM with -tags purego, transpose2d, transpose2d-odd and mixed5d-t at
// 4 and 64 MiB against the same cases' assembly, median of 5 interleaved
// runs: blocks of more than 8 locals make the compiler spill them to the
// stack; fewer rows per step leave fewer cache misses in flight.
var goTiles = []goTile{
	// 1 byte: 8×8 blocks as eight words, three steps of masks and shifts
	// (3-4.5× the assembly's time at 64 MiB came down to 1.7-2.5×); two of
	// them from 16 rows, 16 bytes stored to each destination row, against
	// one: transpose2d uint8 4 MiB 2.5 to 0.94 ms, 64 MiB 63 to 24 ms
	// (assembly with non-temporal stores 10.6), transpose2d-odd 57 to 25 ms,
	// mixed5d-t 31 to 23 ms. The gain needs each row's two words stored
	// back to back: the first block's eight words, then the second's, ran
	// as slowly as one block (transpose2d 64 MiB 59 ms). In the cache it
	// costs some (1 MiB transpose2d-odd 0.20 to 0.25 ms: 16 words live,
	// some spilled on amd64). The element form keeps its 4×4 block.
	// So, on the Xeon VM, one block in the cache (8 words live) against two,
	// with crowded rows buffered as otherCrowd and crowded say (purego,
	// x-ceiling, one worker, 3 interleaved rounds, 256 KiB/1/4 MiB):
	// transpose2d 0.104/0.121/0.206 -> 0.132/0.141/0.262, transpose-4k
	// 0.091/0.121/0.228 -> 0.114/0.147/0.260, mixed5d-t, mixed6d-t and
	// reverse4d 1.11-1.28×, transpose2d-odd 0.99-1.32×. Without the buffer
	// for transpose2d's rows 1-2 KiB apart (16 or 32 of a block's 64 rows
	// in one L1 set) one block lost there, 0.73-0.79×. Beyond the cache
	// the two blocks stay (FarGroups).
	{Size: 1, Rows: 4, Cols: 4, Groups: 1, FarGroups: 2},
	// 2 bytes: two 4×4 blocks of words from 8 rows, 16 bytes stored to each
	// destination row: transpose2d bfloat16 64 MiB 50 to 31 ms (assembly
	// 11), mixed5d-t 49 to 30 (17); one 4×4 block of words (8 bytes a row)
	// measured slower than elements. The element form, 8×2: 50 to 31 ms.
	// Beyond the cache, four blocks from 16 rows, 32 bytes to each row:
	// transpose2d 64 MiB 30.5 to 18.5 ms (assembly 6.7), transpose2d-odd
	// 27 to 20 (14), mixed5d-t 28.6 to 25.4 (7.8); in the cache they cost
	// 20-45% (4 MiB transpose2d 0.70 to 1.01 ms), so two blocks stay there.
	// Four blocks of bytes (32 rows) were slower at every size.
	{Size: 2, Rows: 8, Cols: 2, Groups: 2, FarGroups: 4},
	// 4 bytes: 8×2 (16 locals, some spilled) against 4×4: mixed5d-t 29 to
	// 18 ms at 64 MiB (assembly 12.6), 1.26 to 0.71 ms at 4 MiB (0.46);
	// transpose2d 4 MiB 1.17 to 0.87 ms, 64 MiB 20 to 23 ms.
	// Reading 16 rows ahead beyond the cache won at 64 MiB (transpose2d
	// 15.6 to 14.1 ms, mixed6d-t 25 to 23) but lost transpose2d-odd (12.0
	// to 13.2) and, with one more register live, 10-30% at 4 MiB, where it
	// is off: not taken.
	// Word blocks (2×2 elements, one delta swap each), four from 8 rows, 32
	// bytes stored to each destination row, against the 8×2 element form
	// (purego, medians of 3-4 interleaved rounds, x-ceiling): transpose2d
	// 1-4 MiB 0.19-0.20 to 0.21-0.22, 16 MiB 0.21 to 0.31, 64 MiB 0.27 to
	// 0.32-0.33; mixed5d-t 1-4 MiB +10-15% but 16-64 MiB 6-13% slower;
	// transpose2d-odd, mixed6d-t and reverse4d within 5% beyond the cache.
	// Two blocks from 4 rows (16 bytes a row) lost 25-40% in the cache.
	// Each destination word built from two 4-byte loads (Compose) against
	// the delta swap of two words, on the Xeon VM, a scratch transpose
	// through the same 8-row steps, 5 rounds: [256, 256] 13.3 -> 16.2
	// GB/s, [512, 512] 11.0 -> 12.5, [1024, 1024] 7.6 -> 8.5, in L1 14.0
	// -> 18.3. The shifts and ors of loads need fewer registers than the
	// swaps of loaded words, whose live words the compiler spilled. In
	// benchmarks/ (purego, x-ceiling, one worker, 3 interleaved rounds),
	// with crowded rows buffered (otherCrowd), 256 KiB-4 MiB 1.06-1.28×
	// in all six transposes (transpose2d-odd 1 MiB 0.23 -> 0.28,
	// mixed6d-t 4 MiB 0.44 -> 0.50); 16-64 MiB 0.91-1.13× (2 rounds).
	// Before crowded float32 rows buffered there, they lost 6-13% of it
	// (transpose-4k, mixed5d-t, mixed6d-t); storing each destination row's
	// four words in a row, rather than a block's two rows in turn, lost
	// 5-33%.
	{Size: 4, Rows: 8, Cols: 2, Groups: 4, Compose: true},
	// 8 bytes: 4×2, 8 locals without spills, against 4×4, 16 locals of
	// which 9 spilled: transpose2d-odd float64 at 64 MiB 35 to 12 ms
	// (assembly 10.7), transpose2d 17 to 15 ms (11.4).
	// Beyond the cache the tiles used to read a byte of the rows 16 rows
	// ahead at each step (64 MiB: transpose2d 17.0 to 11.8 ms, assembly
	// 6.0). Reading every source line of a block before its tiles
	// (TouchSource, emitTouch) with the destination lines instead, on the
	// Xeon VM (x-ceiling, 3 interleaved rounds, the read-ahead alone ->
	// both -> the block's lines alone): 64 MiB transpose2d 0.24 -> 0.42 ->
	// 0.50, transpose-4k 0.23 -> 0.40 -> 0.49, reverse4d 0.28 -> 0.39 ->
	// 0.43, mixed5d-t 0.35 -> 0.52 -> 0.46; 16 MiB within 0.93-1.18 of
	// the read-ahead alone, both 0.81-1.07. Destination lines alone: 64 MiB
	// mixed5d-t 0.36, reverse4d 0.35.
	{Size: 8, Rows: 4, Cols: 2, TouchSource: true},
}

// goFar reports whether w's Go tiles take the far flag: whether the copy
// is larger than the cache (the tiles' stores not cachedTiles).
func goFar(w width) bool { return goTileOf(w).FarGroups > 0 }

// goTileOf is w's entry in goTiles; checkGoTile has made sure there is one.
func goTileOf(w width) goTile {
	for _, g := range goTiles {
		if g.Size == w.Size {
			return g
		}
	}
	panic(fmt.Sprintf("width %s: no entry in goTiles", w.Carrier))
}

// checkGoTile reports whether w has one goTiles entry whose blocks divide
// its register tile, so that the Go loops cover whole tiles.
func checkGoTile(w width) error {
	n := 0
	for _, g := range goTiles {
		if g.Size != w.Size {
			continue
		}
		n++
		if g.Rows <= 0 || g.Cols <= 0 || w.TileI%g.Rows != 0 || w.TileJ%g.Cols != 0 {
			return fmt.Errorf("width %s: the Go tile's %d×%d blocks do not divide the %d×%d tile", w.Carrier, g.Rows, g.Cols, w.TileI, w.TileJ)
		}
		for _, n := range []int{g.Groups, g.FarGroups} {
			if q := 8 / w.Size; n < 0 || n > 0 && (q < 2 || w.TileI%q != 0 || w.TileJ%q != 0 || w.TileI%(q*n) != 0 && (q*n)%w.TileI != 0) {
				return fmt.Errorf("width %s: the Go tile's %d word blocks of %d×%d do not divide the %d×%d tile", w.Carrier, n, q, q, w.TileI, w.TileJ)
			}
		}
		if g.FarGroups > 0 && g.Groups == 0 {
			return fmt.Errorf("width %s: FarGroups without Groups", w.Carrier)
		}
	}
	if n != 1 {
		return fmt.Errorf("width %s: %d entries in goTiles, want one", w.Carrier, n)
	}
	return nil
}

// emitTilesGo emits the element-at-a-time Go fallback of a tile transpose,
// Rows × Cols elements at a time (goTiles): Rows*Cols loads into locals,
// then as many stores. For 4-byte elements (8×2):
//
//	func tilesUint32Go(dst, src, off unsafe.Pointer, col, ti, tj, dj int) {
//		rows := unsafe.Slice((*int)(off), ti*8)
//		for i := 0; i < ti*8; i += 8 {
//			o0, o1, ..., o7 := rows[i]+col, rows[i+1]+col, ..., rows[i+7]+col
//			for j := 0; j < tj*8; j += 2 {
//				a00 := *(*uint32)(unsafe.Add(src, o0+j*4))
//				a01 := *(*uint32)(unsafe.Add(src, o0+j*4+4)) ...
//				d0 := unsafe.Add(dst, j*dj+i*4)
//				*(*uint32)(d0) = a00
//				*(*uint32)(unsafe.Add(d0, 4)) = a10 ...
//				d1 := unsafe.Add(d0, dj) ...
//			}
//		}
//	}
func emitTilesGo(w width) jen.Code {
	g := goTileOf(w)
	var body []jen.Code
	for r := 0; r < g.Rows; r++ {
		for c := 0; c < g.Cols; c++ {
			off := jen.Id(fmt.Sprintf("o%d", r)).Op("+").Add(times(jen.Id("j"), w.Size))
			if c > 0 {
				off = off.Op("+").Lit(c * w.Size)
			}
			body = append(body, jen.Id(fmt.Sprintf("a%d%d", r, c)).Op(":=").Add(deref(w, add(jen.Id("src"), off))))
		}
	}
	elem := func(p string, k int) jen.Code {
		if k == 0 {
			return jen.Id(p)
		}
		return add(jen.Id(p), jen.Lit(k*w.Size))
	}
	body = append(body, jen.Id("d0").Op(":=").Add(add(jen.Id("dst"), jen.Id("j").Op("*").Id("dj").Op("+").Add(times(jen.Id("i"), w.Size)))))
	for c := 0; c < g.Cols; c++ {
		if c > 0 {
			body = append(body, jen.Id(fmt.Sprintf("d%d", c)).Op(":=").Add(add(jen.Id(fmt.Sprintf("d%d", c-1)), jen.Id("dj"))))
		}
		for r := 0; r < g.Rows; r++ {
			body = append(body, deref(w, elem(fmt.Sprintf("d%d", c), r)).Op("=").Id(fmt.Sprintf("a%d%d", r, c)))
		}
	}
	pass := goPass{Rows: g.Rows, Cols: g.Cols, Body: body}
	return tilesFuncGo(w, fmt.Sprintf("in Go, %d×%d elements at a time", g.Rows, g.Cols), pass)
}

// goPass is one loop of a Go tile transpose over the rows of its tiles:
// Body moves the block of source rows o0..o(Rows-1) at elements
// j..j+Cols-1.
type goPass struct {
	Rows, Cols int
	Body       []jen.Code
}

// tilesFuncGo wraps passes in the function tilesName(w)+"Go": its loops
// over the blocks of ti × tj whole tiles, each pass taking the rows while
// its blocks fit (the last one all that are left), and its doc comment,
// which says how, as tilesDoc does.
func tilesFuncGo(w width, how string, passes ...goPass) jen.Code {
	return tilesFuncGoFar(w, how, nil, passes)
}

// tilesFuncGoFar is tilesFuncGo with other passes, far, for copies larger
// than the cache (the far flag), where far is not nil.
func tilesFuncGoFar(w width, how string, far, passes []goPass) jen.Code {
	n := jen.Id("ti").Op("*").Lit(w.TileI)
	body := []jen.Code{jen.Id("rows").Op(":=").Qual("unsafe", "Slice").Call(jen.Parens(jen.Op("*").Int()).Parens(jen.Id("off")), n)}
	switch last := len(far) - 1; {
	case far == nil:
		body = append(body, goLoops(w, passes)...)
	case last > 0 && len(passes) == 1 && far[last].Rows == passes[0].Rows && far[last].Cols == passes[0].Cols:
		// The far passes end with the cache's one pass (the same
		// blocks: emitTilesSwar builds both from swarBody with as many
		// groups): far runs its others first, and both share that loop.
		loops := goLoops(w, far)
		body = append(body, loops[0], jen.If(jen.Id("far")).Block(loops[1:len(loops)-1]...), loops[len(loops)-1])
	default:
		body = append(body, jen.If(jen.Id("far")).Block(append(goLoops(w, far), jen.Return())...))
		body = append(body, goLoops(w, passes)...)
	}
	name := tilesName(w) + "Go"
	lines := tilesDoc(w, name, how)
	params := tileParamsGo()
	if goFar(w) {
		params = append(params, jen.Id("far").Bool())
		if far == nil {
			lines = append(lines, "", "far (a copy larger than the cache) changes nothing in this form.")
		}
	}
	return jen.Add(doc(lines...)).Line().
		Func().Id(name).Params(params...).Block(body...)
}

// goLoops are the loops of passes over the rows of whole tiles (see
// tilesFuncGo).
func goLoops(w width, passes []goPass) []jen.Code {
	n := jen.Id("ti").Op("*").Lit(w.TileI)
	var body []jen.Code
	if len(passes) > 1 {
		body = append(body, jen.Id("i").Op(":=").Lit(0))
	}
	for k, p := range passes {
		var os, rows []jen.Code
		for r := range p.Rows {
			os = append(os, jen.Id(fmt.Sprintf("o%d", r)))
			idx := jen.Id("i")
			if r > 0 {
				idx = jen.Id("i").Op("+").Lit(r)
			}
			rows = append(rows, jen.Id("rows").Index(idx).Op("+").Id("col"))
		}
		init, cond := jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<").Add(n)
		if len(passes) > 1 {
			init = jen.Empty()
			if k < len(passes)-1 {
				cond = jen.Id("i").Op("+").Lit(p.Rows).Op("<=").Add(n)
			}
		}
		loop := []jen.Code{jen.List(os...).Op(":=").List(rows...)}
		loop = append(loop, jen.For(jen.Id("j").Op(":=").Lit(0), jen.Id("j").Op("<").Id("tj").Op("*").Lit(w.TileJ), jen.Id("j").Op("+=").Lit(p.Cols)).Block(p.Body...))
		body = append(body, jen.For(init, cond, jen.Id("i").Op("+=").Lit(p.Rows)).Block(loop...))
	}
	return body
}

// swarArchs are the architectures where the Go tile transposes of the
// widths with word blocks (goTile.Groups) move whole 8-byte words
// (tilesSwarFile): they are little-endian, so that lane c of a word loaded
// from a row is its element c, and their 8-byte loads may start at any
// address at full speed (see unalignedArchs). Everywhere else those widths'
// tiles move one element at a time (tilesPlainFile), as emitTilesGo writes
// them.
var swarArchs = []string{"amd64", "arm64", "ppc64le"}

// The files of the two forms of the Go tiles of the widths with word
// blocks, picked by build constraint; the tiles of the other widths live
// with their kernels.
const (
	tilesSwarFile  = "tiles_swar.go"
	tilesPlainFile = "tiles_plain.go"
)

// swarWidth reports whether w's Go tiles have a word-at-a-time form: a
// goTiles entry with Groups. For 4-byte elements (2×2 blocks of words)
// that measured slower than moving elements (transpose2d float32 at
// 64 MiB, 17 to 32 ms).
func swarWidth(w width) bool { return goTileOf(w).Groups > 0 }

// renderTilesGo renders the file of one form of the Go tiles of the widths
// swarWidth accepts: words at a time where swarArchs allow it (swar), one
// element at a time elsewhere.
func renderTilesGo(maxRank int, swar bool) *jen.File {
	constraint := strings.Join(swarArchs, " || ")
	var f *jen.File
	if swar {
		f = newFile(maxRank, "The Go tile transposes of 1- and 2-byte elements, 8-byte words at a time, where the CPU is little-endian and unaligned loads are fast.")
		f.HeaderComment("//go:build " + constraint)
	} else {
		f = newFile(maxRank, "The Go tile transposes of 1- and 2-byte elements, one element at a time, for the other architectures.")
		f.HeaderComment("//go:build !(" + constraint + ")")
	}
	for _, w := range widths {
		if !swarWidth(w) {
			continue
		}
		if swar {
			f.Add(emitTilesSwar(w))
		} else {
			f.Add(emitTilesGo(w))
		}
	}
	return f
}

// emitTilesSwar emits the word-at-a-time Go fallback of a tile transpose:
// Groups blocks of q×q elements, q = 8/Size, from q*Groups source rows
// (goTiles). Each block is q words loaded one from each of its source rows,
// transposed in log2(q) steps of masks and shifts (each step swaps the
// off-diagonal halves of 2×2 blocks of lanes twice the size of the last
// step's, between words d = 1, 2, 4 apart); then each of the q destination
// rows gets one word of each block: q*Groups loads and stores in place of
// q²*Groups of each. One block of 1-byte elements (q = 8):
//
//	func tilesUint8Go(dst, src, off unsafe.Pointer, col, ti, tj, dj int) {
//		rows := unsafe.Slice((*int)(off), ti*8)
//		for i := 0; i < ti*8; i += 8 {
//			o0, o1, ..., o7 := rows[i]+col, rows[i+1]+col, ..., rows[i+7]+col
//			for j := 0; j < tj*16; j += 8 {
//				w0 := *(*uint64)(unsafe.Add(src, o0+j)) ...
//				xv0 := (w0>>8 ^ w1) & 0xff00ff00ff00ff
//				v0, v1 := w0^xv0<<8, w1^xv0 ...
//				xu0 := (v0>>16 ^ v2) & 0xffff0000ffff ... // then t0, t4 from u0, u4 at 32 bits
//				d0 := unsafe.Add(dst, j*dj+i)
//				*(*uint64)(d0) = t0 ...
//			}
//		}
//	}
//
// With two blocks, the words of rows oq..o(2q-1) make the second, and
// destination row c gets the first block's word c and then the second's,
// 8 bytes on. Where whole tiles need not fill two blocks (1-byte elements:
// 8-row tiles, ti odd), a second loop moves the last q rows as one block.
func emitTilesSwar(w width) jen.Code {
	q := 8 / w.Size
	g := goTileOf(w)
	// swarPasses are the passes of groups blocks, and the tail that moves
	// the rows left over one block at a time, and say how.
	swarPasses := func(groups int) ([]goPass, string) {
		if groups == 1 {
			return []goPass{{Rows: q, Cols: q, Body: swarBody(w, 1)}}, fmt.Sprintf("%d×%d elements at a time, a word a row", q, q)
		}
		how := fmt.Sprintf("%d blocks of %d×%d elements at a time, a word a row each", groups, q, q)
		passes := []goPass{{Rows: q * groups, Cols: q, Body: swarBody(w, groups)}}
		if w.TileI%(q*groups) != 0 {
			passes = append(passes, goPass{Rows: q, Cols: q, Body: swarBody(w, 1)})
			how += fmt.Sprintf(" (the rows left over, %d at a time)", q)
		}
		return passes, how
	}
	passes, how := swarPasses(g.Groups)
	if g.Compose {
		how += fmt.Sprintf("; on amd64 each word built from %d element loads", q)
	}
	if g.FarGroups == 0 {
		return tilesFuncGo(w, "in Go, "+how, passes...)
	}
	far, farHow := swarPasses(g.FarGroups)
	return tilesFuncGoFar(w, "in Go, "+how+"; with far (a copy larger than the cache), "+farHow, far, passes)
}

// swarBody is the body of a word-at-a-time pass (emitTilesSwar) that
// moves groups blocks of q×q elements. Each step of a pair of words a, b
// is a delta swap, which exchanges the lanes of a that mask leaves out
// with the lanes of b it covers in 6 operations (the form with two masks
// each way took 8):
//
//	x := (a>>bits ^ b) & mask
//	a, b = a ^ x<<bits, b ^ x
//
// On the 2-vCPU EPYC VM (purego build, 4 interleaved rounds) it made the
// 1-byte transposes of benchmarks/ 11-25% faster at 1-4 MiB and the 2-byte
// ones 2-15%. Moving one block after the other (loads, steps and stores
// of a block before the next one's loads, to keep fewer words live) lost up
// to 35% where destination rows are 2-4 KiB apart: each row then gets its
// two words at different times.
//
// Where the width has Compose, the body is composeBody's on amd64 and
// exchangeBody's elsewhere, picked by runtime.GOARCH, a constant the
// compiler folds.
func swarBody(w width, groups int) []jen.Code {
	if goTileOf(w).Compose {
		return []jen.Code{jen.If(jen.Qual("runtime", "GOARCH").Op("==").Lit("amd64")).Block(composeBody(w, groups)...).Else().Block(exchangeBody(w, groups)...)}
	}
	return exchangeBody(w, groups)
}

// exchangeBody is swarBody's words loaded a row each and exchanged in
// registers by delta swaps.
func exchangeBody(w width, groups int) []jen.Code {
	q := 8 / w.Size
	word := func(p jen.Code) *jen.Statement { return jen.Op("*").Parens(jen.Op("*").Uint64()).Parens(p) }
	var body []jen.Code
	cur := make([]string, q*groups)
	for r := range q * groups {
		cur[r] = fmt.Sprintf("w%d", r)
		body = append(body, jen.Id(cur[r]).Op(":=").Add(word(add(jen.Id("src"), jen.Id(fmt.Sprintf("o%d", r)).Op("+").Add(times(jen.Id("j"), w.Size))))))
	}
	step := 0
	for d := 1; d < q; d *= 2 {
		bits := uint(8 * w.Size * d)
		var mask uint64
		for b := uint(0); b < 64; b += 2 * bits {
			mask |= (1<<bits - 1) << b
		}
		lit := jen.Id(fmt.Sprintf("%#x", mask))
		next := make([]string, q*groups)
		for r := range q * groups {
			next[r] = fmt.Sprintf("%c%d", "vuts"[step], r)
		}
		for r := range q * groups {
			if r%q&d != 0 {
				continue
			}
			lo, hi := jen.Id(cur[r]), jen.Id(cur[r+d])
			x := fmt.Sprintf("x%c%d", "vuts"[step], r)
			body = append(body,
				jen.Id(x).Op(":=").Parens(jen.Add(lo).Op(">>").Lit(int(bits)).Op("^").Add(hi)).Op("&").Add(lit),
				jen.List(jen.Id(next[r]), jen.Id(next[r+d])).Op(":=").List(
					jen.Add(lo).Op("^").Id(x).Op("<<").Lit(int(bits)),
					jen.Add(hi).Op("^").Id(x),
				))
		}
		cur = next
		step++
	}
	body = append(body, jen.Id("d0").Op(":=").Add(add(jen.Id("dst"), jen.Id("j").Op("*").Id("dj").Op("+").Add(times(jen.Id("i"), w.Size)))))
	for c := range q {
		if c > 0 {
			body = append(body, jen.Id(fmt.Sprintf("d%d", c)).Op(":=").Add(add(jen.Id(fmt.Sprintf("d%d", c-1)), jen.Id("dj"))))
		}
		for g := range groups {
			at := jen.Id(fmt.Sprintf("d%d", c))
			if g > 0 {
				at = add(at, jen.Lit(8*g))
			}
			body = append(body, word(at).Op("=").Id(cur[g*q+c]))
		}
	}
	return body
}

// composeBody is swarBody for the widths with Compose: destination row c
// of block g gets the word whose lane r is element j+c of source row
// g*q+r, loaded alone, shifted into its lane and or-ed with the others; a
// block's rows one after the other, so that its row offsets serve all its
// words. For 4-byte elements (q = 2), block 0:
//
//	d0 := unsafe.Add(dst, j*dj+i*4)
//	d1 := unsafe.Add(d0, dj)
//	*(*uint64)(d0) = uint64(*(*uint32)(unsafe.Add(src, o0+j*4))) | uint64(*(*uint32)(unsafe.Add(src, o1+j*4)))<<32
//	*(*uint64)(d1) = uint64(*(*uint32)(unsafe.Add(src, o0+j*4+4))) | uint64(*(*uint32)(unsafe.Add(src, o1+j*4+4)))<<32
func composeBody(w width, groups int) []jen.Code {
	q := 8 / w.Size
	body := []jen.Code{jen.Id("d0").Op(":=").Add(add(jen.Id("dst"), jen.Id("j").Op("*").Id("dj").Op("+").Add(times(jen.Id("i"), w.Size))))}
	for c := 1; c < q; c++ {
		body = append(body, jen.Id(fmt.Sprintf("d%d", c)).Op(":=").Add(add(jen.Id(fmt.Sprintf("d%d", c-1)), jen.Id("dj"))))
	}
	for g := range groups {
		for c := range q {
			var val *jen.Statement
			for r := range q {
				off := jen.Id(fmt.Sprintf("o%d", g*q+r)).Op("+").Add(times(jen.Id("j"), w.Size))
				if c > 0 {
					off = off.Op("+").Lit(c * w.Size)
				}
				lane := jen.Uint64().Call(deref(w, add(jen.Id("src"), off)))
				if r > 0 {
					lane = lane.Op("<<").Lit(8 * w.Size * r)
				}
				if val == nil {
					val = lane
				} else {
					val = val.Op("|").Add(lane)
				}
			}
			at := jen.Id(fmt.Sprintf("d%d", c))
			if g > 0 {
				at = add(at, jen.Lit(8*g))
			}
			body = append(body, jen.Op("*").Parens(jen.Op("*").Uint64()).Parens(at).Op("=").Add(val))
		}
	}
	return body
}

// emitTransposeRows emits the transpose entry point, a switch on the
// element size with a direct call in each case: a row table handed to a
// function value would escape to the heap (the compiler cannot see what the
// callee does with it), and the dispatcher keeps its table on the stack.
//
//	func TransposeRows(dt DType, dst, src unsafe.Pointer, off []int, nj, dj int, stream bool, buf *CrowdBuffer) {
//		switch dt.Size() {
//		case 1:
//			transposeUint8(dst, src, off, nj, dj, stream, buf)
//		...
//		}
//	}
func emitTransposeRows() jen.Code {
	var cases []jen.Code
	for _, w := range widths {
		cases = append(cases, jen.Case(jen.Lit(w.Size)).Block(
			jen.Id(transposeName(w)).Call(jen.Id("dst"), jen.Id("src"), jen.Id("off"), jen.Id("nj"), jen.Id("dj"), jen.Id("stream"), jen.Id("buf")),
		))
	}
	return jen.Add(doc(
		"TransposeRows is the blocked 2-D transpose of dtype dt: for i < len(off)",
		"and j < nj, it writes element j of the source row that starts off[i]",
		"bytes from src (its elements adjacent) to dst[j*dj+i] (dj in elements, at",
		"least len(off)). The rows may come from any number of source axes: off is",
		"a table. dst and src must not overlap, and the caller has checked every",
		"address. See Transposes for the sizes it is worth calling at. stream says",
		"that the result is larger than the cache (see Kernel): where dst and",
		"dj*dt.Size() are multiples of 64, the assembly tiles then prefetch each",
		"source row's next line and write whole destination lines with",
		"non-temporal stores (tileStores); 1-byte tiles prefetch in either case.",
		"Those stores are not fenced: after the last streamed call of a copy, and",
		"before its result is read elsewhere, the caller calls StreamFence.",
		"buf, where not nil, is the scratch through which a transpose that is not",
		"streamed writes destinations whose rows crowd the L1 cache (see Crowds).",
	)).Line().Func().Id("TransposeRows").Params(
		jen.Id("dt").Id("DType"),
		jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()),
		jen.Id("off").Index().Int(),
		jen.List(jen.Id("nj"), jen.Id("dj")).Int(),
		jen.Id("stream").Bool(),
		jen.Id("buf").Op("*").Id("CrowdBuffer"),
	).Block(jen.Switch(jen.Id("dt").Dot("Size").Call()).Block(cases...))
}

// emitCrowded emits the buffer of the buffered transposes and the tests of
// whether a transpose writes through it:
//
//	type CrowdBuffer [4104]uint64
//
//	func Crowds(size, nj, dj int) bool {
//		return crowded(size, min(cacheLine/size, nj), dj*size, nj*dj*size)
//	}
//
//	func crowded(size, rows, stride, span int) bool {
//		spans := &crowdSpans
//		if Accelerated && !AMDTuned {
//			if stride%cacheLine == 0 {
//				if AVX512 {
//					return false
//				}
//			} else if span >= unalignedSpans[size] {
//				return true
//			} else if AVX512 || straddledSpans[size] > crowdSpans[size] {
//				spans = &straddledSpans
//			}
//		}
//		if rows <= crowdWays || span >= spans[size] {
//			return false
//		}
//		if lines := stride / cacheLine; span <= 2*rows*stride && stride%cacheLine == 0 && rows > 64>>min(bits.TrailingZeros(uint(lines)), 6)*crowdWays {
//			return true
//		}
//		d := stride % (64 * cacheLine)
//		if rows*min(d, 64*cacheLine-d) <= 2*cacheLine {
//			return true
//		}
//		h := stride % (32 * cacheLine)
//		return stride%cacheLine != 0 && rows/2 > crowdWays && rows/2*min(h, 32*cacheLine-h) <= 2*cacheLine
//	}
//
// The second test, for a destination of one or two blocks of rows (a
// short stride-1 source axis, as in rank-5 and rank-6 permutations of small
// heads), counts the sets: rows a whole number of lines apart, l lines,
// start in 64/gcd(l, 64) of the 64 sets. On the 2-vCPU EPYC VM (x-ceiling,
// medians of 5 interleaved rounds of 100ms) it took mixed5d-t (destination
// rows 1024 elements apart, source axis 64) uint8 from 0.15/0.28/0.33 to
// 0.19/0.36/0.40 at 256 KiB/1/4 MiB (rows 1 KiB apart, four sets) and
// bfloat16 from 0.15/0.29/0.32 to 0.18/0.35/0.40 (2 KiB, two sets). The
// same count for every transpose also buffered transpose2d uint8 at 1 MiB
// ([1024, 1024], 16 blocks of rows), which lost 14% (0.43 to 0.37), so it
// stays with the short axes.
func emitCrowded() jen.Code {
	period := jen.Lit(64).Op("*").Id("cacheLine")
	return jen.Add(doc(
		"CrowdBuffer is the scratch through which the blocked transposes",
		"(TransposeRows, ConvTransposeRows) write destinations whose rows crowd",
		"the L1 cache (see Crowds), in rows of 512 bytes from its first 64-byte",
		"boundary: as large as the largest of them needs in the builds that",
		"buffer, and a line. A caller declares one on its stack for a copy that",
		"Crowds accepts and passes it to every call of the copy: clearing it once",
		"costs a few hundred nanoseconds, and nothing is allocated.",
	)).Line().Type().Id("CrowdBuffer").Index(jen.Lit(crowdBufferWords()+8)).Uint64().Line().Line().Add(doc(
		"Crowds reports whether the blocked transposes of a copy into nj",
		"destination rows of dj elements of size bytes may write through a",
		"CrowdBuffer (see crowded), so that the caller knows whether to declare",
		"one. It takes the rows of the plain transposes' blocks; a converting",
		"transpose decides with its own.",
	)).Line().Func().Id("Crowds").Params(jen.List(jen.Id("size"), jen.Id("nj"), jen.Id("dj")).Int()).Bool().Block(
		jen.Return(jen.Id("crowded").Call(jen.Id("size"), jen.Min(jen.Id("cacheLine").Op("/").Id("size"), jen.Id("nj")), jen.Id("dj").Op("*").Id("size"), jen.Id("nj").Op("*").Id("dj").Op("*").Id("size"))),
	).Line().Line().Add(doc(
		"crowded reports whether a blocked transpose of size-byte elements that",
		"is not streamed writes its whole tiles through a CrowdBuffer: whether",
		"its destination spans fewer bytes than crowdSpans has for the size,",
		"and the rows destination rows of a block, stride bytes apart, more of",
		"them than the L1 data cache has ways, fall into one or two of its 64",
		"sets: rows a multiple of 64 lines apart (4 KiB on 64-byte lines), or",
		"within an element or two of that; or, rows that do not start on a line",
		"boundary, an odd multiple of 32 lines apart (2 KiB) or within an element",
		"or two of it, half of them in each of two sets, still more than it has",
		"ways; or, where the destination is at most two blocks of rows (a short",
		"stride-1 source axis), or at any span with the Go tiles (Accelerated",
		"false), rows a whole number of lines apart that start in so few sets",
		"that some set has more of them than ways. Written a line at",
		"a time down a block, such rows miss the cache in one set at once (rows",
		"not on a line boundary, in two lines each); through the buffer each",
		"row's part of a block goes out as a run of consecutive lines instead.",
		"With the AVX-512 tiles on a CPU whose L1 takes their whole-line stores",
		"into crowded sets in stride (AMDTuned false), rows whole lines apart",
		"never buffer, and rows that are not take straddledSpans; with the AVX2",
		"tiles, rows that are not take the larger of the two spans. On such a CPU",
		"with the assembly, rows that are not whole lines apart of the sizes",
		"unalignedSpans lists buffer from its span up, however few rows a block",
		"has: their buffered blocks are tall, and each destination row gets a",
		"long run at a time.",
	)).Line().Func().Id("crowded").Params(jen.List(jen.Id("size"), jen.Id("rows"), jen.Id("stride"), jen.Id("span")).Int()).Bool().Block(
		jen.Id("spans").Op(":=").Op("&").Id("crowdSpans"),
		jen.If(jen.Id("Accelerated").Op("&&").Op("!").Id("AMDTuned")).Block(
			jen.If(jen.Id("stride").Op("%").Id("cacheLine").Op("==").Lit(0)).Block(
				jen.If(jen.Id("AVX512")).Block(jen.Return(jen.False())),
			).Else().If(jen.Id("span").Op(">=").Id("unalignedSpans").Index(jen.Id("size"))).Block(
				jen.Return(jen.True()),
			).Else().If(jen.Id("AVX512").Op("||").Id("straddledSpans").Index(jen.Id("size")).Op(">").Id("crowdSpans").Index(jen.Id("size"))).Block(
				jen.Id("spans").Op("=").Op("&").Id("straddledSpans"),
			),
		),
		jen.If(jen.Id("rows").Op("<=").Id("crowdWays").Op("||").Id("span").Op(">=").Id("spans").Index(jen.Id("size"))).Block(jen.Return(jen.False())),
		jen.If(
			jen.Id("lines").Op(":=").Id("stride").Op("/").Id("cacheLine"),
			jen.Parens(jen.Id("span").Op("<=").Lit(2).Op("*").Id("rows").Op("*").Id("stride").Op("||").Op("!").Id("Accelerated")).Op("&&").Id("stride").Op("%").Id("cacheLine").Op("==").Lit(0).Op("&&").
				Id("rows").Op(">").Lit(64).Op(">>").Min(jen.Qual("math/bits", "TrailingZeros").Call(jen.Uint().Call(jen.Id("lines"))), jen.Lit(6)).Op("*").Id("crowdWays"),
		).Block(jen.Return(jen.True())),
		jen.Id("d").Op(":=").Id("stride").Op("%").Parens(period.Clone()),
		jen.If(jen.Id("rows").Op("*").Min(jen.Id("d"), period.Clone().Op("-").Id("d")).Op("<=").Lit(2).Op("*").Id("cacheLine")).Block(jen.Return(jen.True())),
		jen.Id("h").Op(":=").Id("stride").Op("%").Parens(jen.Lit(32).Op("*").Id("cacheLine")),
		jen.Return(jen.Id("stride").Op("%").Id("cacheLine").Op("!=").Lit(0).Op("&&").Id("rows").Op("/").Lit(2).Op(">").Id("crowdWays").Op("&&").
			Id("rows").Op("/").Lit(2).Op("*").Min(jen.Id("h"), jen.Lit(32).Op("*").Id("cacheLine").Op("-").Id("h")).Op("<=").Lit(2).Op("*").Id("cacheLine")),
	)
}

// emitVendor emits the test of the CPU's maker from CPUID leaf 0:
//
//	func VendorAMD() bool {
//		_, ebx, ecx, edx, ok := CPUID(0, 0)
//		return ok && (ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163 || ebx == 0x6f677948 && edx == 0x6e65476e && ecx == 0x656e6975)
//	}
func emitVendor() jen.Code {
	is := func(name string) *jen.Statement {
		word := func(i int) jen.Code {
			return jen.Op(fmt.Sprintf("%#08x", binary.LittleEndian.Uint32([]byte(name[i:]))))
		}
		return jen.Id("ebx").Op("==").Add(word(0)).Op("&&").Id("edx").Op("==").Add(word(4)).Op("&&").Id("ecx").Op("==").Add(word(8))
	}
	return jen.Add(doc(
		"VendorAMD reports whether CPUID names AMD or Hygon as the CPU's maker",
		"(\"AuthenticAMD\", \"HygonGenuine\"): false where there is no CPUID (see",
		"CPUID).",
	)).Line().Func().Id("VendorAMD").Params().Bool().Block(
		jen.List(jen.Id("_"), jen.Id("ebx"), jen.Id("ecx"), jen.Id("edx"), jen.Id("ok")).Op(":=").Id("CPUID").Call(jen.Lit(0), jen.Lit(0)),
		jen.Return(jen.Id("ok").Op("&&").Parens(is("AuthenticAMD").Op("||").Add(is("HygonGenuine")))),
	)
}

// packSets is the most L1 sets the first band's source rows may start in
// for the buffered transpose to take the Packed tiles (packs). On the
// 2-vCPU EPYC VM (TransposeRows on its own, 2 interleaved rounds, µs per
// call, without -> with packing, both through the buffer): uint8 rows in
// one set (reverse4d's [16,32,64,128] source, 4 MiB) 582 -> 230, in two
// (rows 2 KiB apart, [2048, 2048]) 326 -> 227, but in four (1 KiB apart,
// [1024, 1024], in L2) 47 -> 58 (the unbuffered transpose); bfloat16 in one
// set 308 -> 206, in two (2 KiB apart, 2 MiB) 120 -> 109.
const packSets = 2

// packSpan is the smallest destination, in bytes, that the packed tiles
// send through the buffer for its source rows alone, its own rows not
// crowding the cache (crowded). Below it the buffer's extra copy costs more
// than the packing saves: transpose2d bfloat16 at 1 MiB ([512, 1024], rows
// 2 KiB apart, destination rows 1 KiB apart) ran at 0.75× through it, while
// at 4 MiB (uint8 [2048, 2048]) 1.41×; the EPYC VM's L2 is 1 MiB. At 2 MiB
// ([1024, 1024] bfloat16) it gained 1.07× alone, but two workers that each
// packed a 2 MiB half of a 4 MiB transpose2d took 1.5-1.9× as long as two
// that did not (8 interleaved rounds), so 4 MiB.
const packSpan = 4 << 20

// packMaxSpan is the destination, in bytes, from which the tiles no longer
// pack. Packing was measured on results of up to 4 MiB (1.2-2.3× there);
// results from 12 MiB are streamed under the default threshold (their
// footprint, source and result, passes 24 MiB on the EPYC VM), and
// streamed tiles do not pack with this form (at 64 MiB packing lost
// 13-21%, its stores not streamed; the streamed 1-byte tiles have their
// own, streamPacks and avx512StreamPacks). This bound
// keeps a raised streaming threshold (SetStreamingThreshold) from packing
// results four times the size of any measured, where the transposes wait on
// memory more than on L1 misses. (The suite's 16 MiB cells, which first
// seemed to call for it, are streamed: their 0.85-0.89× was noise.)
const packMaxSpan = 16 << 20

// streamPackSpan is the smallest destination, in bytes, whose streamed
// transpose reads crowded source rows through the PackedStream tiles
// (streamPacks). On the 2-vCPU EPYC VM they gained at 64 MiB (see
// avx512StreamPacks: transpose2d, transpose-4k and reverse4d 1.08-1.32×
// with one worker over six runs), while at 16 MiB, where a source read
// again and again stays in its L3 cache,
// reverse4d ran 0.87-0.95× in five runs (transpose2d and transpose-4k
// 0.87-1.19×, about 1.0): so from 32 MiB.
const streamPackSpan = 32 << 20

// emitStreamCrowded emits the test of whether a streamed transpose writes
// through the buffer, and its exported form for the dispatcher, and that
// of the converting transposes:
//
//	func ConvStreamCrowds(from, to DType, dj int, dst unsafe.Pointer) bool {
//		if AVX512 && (from == BFloat16 && to == Float32 || ... || from == Float32 && to == Float16) && uintptr(dst)%64 == 0 && dj*to.Size()%64 == 0 {
//			return false
//		}
//		return convStreamCrowd && Accelerated
//	}
//
//	func StreamCrowds(size, nj, dj int, dst unsafe.Pointer) bool {
//		return streamCrowded(size, nj, dj, dst)
//	}
//
//	func streamCrowded(size, nj, dj int, dst unsafe.Pointer) bool {
//		if uintptr(dst)%64 == 0 && dj*size%64 == 0 {
//			return Accelerated && !AMDTuned && (AVX512 && alignedStreamCrowd512[size] && nj*size >= 64 || !AVX512 && alignedStreamCrowd[size])
//		}
//		return streamCrowd[size] || Accelerated && !AMDTuned && tallStreamCrowd[size]
//	}
func emitStreamCrowded() jen.Code {
	sig := jen.Params(jen.List(jen.Id("size"), jen.Id("nj"), jen.Id("dj")).Int(), jen.Id("dst").Add(ptr())).Bool()
	return jen.Add(doc(
		"StreamCrowds reports whether the blocked transposes of a copy beyond the",
		"cache (streamed) of nj source columns into rows of dj elements of size",
		"bytes from dst write",
		"through a CrowdBuffer (see streamCrowded), so that the caller knows",
		"whether to declare one.",
	)).Line().Func().Id("StreamCrowds").Add(sig.Clone()).Block(
		jen.Return(jen.Id("streamCrowded").Call(jen.Id("size"), jen.Id("nj"), jen.Id("dj"), jen.Id("dst"))),
	).Line().Line().Add(doc(
		"streamCrowded reports whether a streamed blocked transpose of size-byte",
		"elements into rows dj elements apart from dst writes through a",
		"CrowdBuffer: where the rows are not whole aligned lines, which its tiles",
		"cannot write with non-temporal stores, for the sizes the build says",
		"(streamCrowd, or tallStreamCrowd where AMDTuned is false): written down",
		"a block a line's worth at a time, each line of such rows is written in",
		"two parts at two times; where they are, with the assembly and AMDTuned",
		"false, for the sizes whose tiles store less than a line of each row at",
		"a time (alignedStreamCrowd for the AVX2 tiles, alignedStreamCrowd512",
		"for the AVX-512 ones, whose buffered blocks must be a line of columns",
		"wide: nj source columns of half a line, uint8 mixed6d-t's, lost 0.88×",
		"through it). Through the buffer each row's part of a block",
		"goes out as one run, its whole lines with non-temporal stores where the",
		"build has them (copyRun).",
	)).Line().Func().Id("streamCrowded").Add(sig).Block(
		jen.If(jen.Uintptr().Call(jen.Id("dst")).Op("%").Lit(64).Op("==").Lit(0).Op("&&").Id("dj").Op("*").Id("size").Op("%").Lit(64).Op("==").Lit(0)).Block(
			jen.Return(jen.Id("Accelerated").Op("&&").Op("!").Id("AMDTuned").Op("&&").Parens(
				jen.Id("AVX512").Op("&&").Id("alignedStreamCrowd512").Index(jen.Id("size")).Op("&&").Id("nj").Op("*").Id("size").Op(">=").Lit(64).Op("||").
					Op("!").Id("AVX512").Op("&&").Id("alignedStreamCrowd").Index(jen.Id("size")))),
		),
		jen.Return(jen.Id("streamCrowd").Index(jen.Id("size")).Op("||").Id("Accelerated").Op("&&").Op("!").Id("AMDTuned").Op("&&").
			Id("tallStreamCrowd").Index(jen.Id("size"))),
	).Line().Line().Add(doc(
		"ConvStreamCrowds reports whether the converting transposes of a copy",
		"beyond the cache (streamed) from from to to, into rows of dj elements",
		"from dst, write through a CrowdBuffer (convStreamCrowd, with the",
		"assembly), so that the caller knows whether to declare one: the AVX2",
		"conversion tiles store half a line of each destination row at a time,",
		"and through the buffer each row's run goes out as whole lines with",
		"non-temporal stores (copyRun). The AVX-512 tiles of the pairs that have",
		"them store one or two whole lines of each row at a time, non-temporally",
		"where the rows are whole aligned lines, which then go straight to dst.",
	)).Line().Func().Id("ConvStreamCrowds").Params(jen.List(jen.Id("from"), jen.Id("to")).Id("DType"), jen.Id("dj").Int(), jen.Id("dst").Add(ptr())).Bool().Block(
		jen.If(jen.Id("AVX512").Op("&&").Parens(convBandsCond()).Op("&&").
			Uintptr().Call(jen.Id("dst")).Op("%").Lit(64).Op("==").Lit(0).Op("&&").Id("dj").Op("*").Id("to").Dot("Size").Call().Op("%").Lit(64).Op("==").Lit(0)).Block(
			jen.Return(jen.False()),
		),
		jen.Return(jen.Id("convStreamCrowd").Op("&&").Id("Accelerated")),
	)
}

// emitTouch emits the reading ahead of the blocked transposes that run
// the Go tiles beyond the cache (stream, Accelerated false: the purego
// build, the architectures without a backend, amd64 without AVX2). Go has
// neither prefetches nor non-temporal stores: each store of the tiles to
// a destination line not in the cache waited for that line to be read,
// one miss at a time, down the block's rows on as many pages. So each
// block first reads a byte of every destination line it is about to
// write (and, for the widths whose goTiles entry has TouchSource, of every
// source line it reads): those loads have no store before them to wait
// for, and their misses overlap. On the Xeon VM a scratch [4096, 4096]
// float32 transpose (rows padded by 16 elements) through the Go tiles ran
// 1.8 GB/s as it was, 1.75 reading the source lines first, 3.7 reading
// the destination lines, 3.75 both; [4096, 4097] 1.3 -> 2.4, [4096, 4096]
// 1.4 -> 2.9. Reading the next block's lines instead was no faster. In
// benchmarks/ (purego, x-ceiling, one worker, 3 interleaved rounds), at
// 64 MiB: transpose2d uint8/bfloat16/float32/float64 0.14/0.16/0.14/0.20
// -> 0.18/0.24/0.28/0.38, transpose-4k 0.15/0.17/0.16/0.13 ->
// 0.17/0.21/0.27/0.35, reverse4d 0.11/0.10/0.08/0.11 -> 0.14/0.15/0.18/0.27,
// transpose2d-odd and mixed5d-t 1.05-1.45×; at 16 MiB (streamed in the
// purego build, which knows no cache size, but in this VM's L3) 1.0-1.4×.
// mixed6d-t, whose 256 KiB calls write a compact destination, ran
// 0.84-1.09×. The converting transposes do not read ahead: bfloat16 and
// float32 to each other ran 0.78-0.92× with it.
//
//	func touchLines(dst unsafe.Pointer, rows, n, dj int) (x byte) {
//		for j := range rows {
//			p := unsafe.Add(dst, j*dj)
//			for k := 0; k < n; k += cacheLine {
//				x ^= *(*byte)(unsafe.Add(p, k))
//			}
//			x ^= *(*byte)(unsafe.Add(p, n-1))
//		}
//		return x
//	}
//
//	func touchRows(src unsafe.Pointer, rows []int, col, n int) (x byte) // likewise, n bytes from col of each row
func emitTouch() jen.Code {
	// lines is the loop over the lines of n bytes from p, and the last.
	lines := func(p jen.Code) []jen.Code {
		at := func(k jen.Code) jen.Code {
			return jen.Id("x").Op("^=").Op("*").Parens(jen.Op("*").Byte()).Parens(add(p, k))
		}
		return []jen.Code{
			jen.For(jen.Id("k").Op(":=").Lit(0), jen.Id("k").Op("<").Id("n"), jen.Id("k").Op("+=").Id("cacheLine")).Block(at(jen.Id("k"))),
			at(jen.Id("n").Op("-").Lit(1)),
		}
	}
	result := jen.Params(jen.Id("x").Byte())
	return jen.Add(doc(
		"touchLines reads a byte of each cache line of rows runs of n bytes, dj",
		"bytes apart from dst, and returns their xor, which callers ignore: the",
		"destination of a block of a transpose beyond the cache, read before the",
		"Go tiles write it, so that their stores find its lines in the cache",
		"(see emitTouch in gen). It is not inlined, so that the loads stay.",
	)).Line().Comment("//go:noinline").Line().Func().Id("touchLines").Params(jen.Id("dst").Add(ptr()), jen.List(jen.Id("rows"), jen.Id("n"), jen.Id("dj")).Int()).Add(result.Clone()).Block(
		jen.For(jen.Id("j").Op(":=").Range().Id("rows")).Block(append([]jen.Code{
			jen.Id("p").Op(":=").Add(add(jen.Id("dst"), jen.Id("j").Op("*").Id("dj"))),
		}, lines(jen.Id("p"))...)...),
		jen.Return(jen.Id("x")),
	).Line().Line().Add(doc(
		"touchRows reads a byte of each cache line of the n bytes from byte col of",
		"each source row (off as TransposeRows has it) and returns their xor, which",
		"callers ignore: the source of a block of a transpose beyond the cache,",
		"as touchLines reads its destination. It is not inlined, so that the",
		"loads stay.",
	)).Line().Comment("//go:noinline").Line().Func().Id("touchRows").Params(jen.Id("src").Add(ptr()), jen.Id("rows").Index().Int(), jen.List(jen.Id("col"), jen.Id("n")).Int()).Add(result).Block(
		jen.For(jen.List(jen.Id("_"), jen.Id("r")).Op(":=").Range().Id("rows")).Block(append([]jen.Code{
			jen.Id("p").Op(":=").Add(add(jen.Id("src"), jen.Id("r").Op("+").Id("col"))),
		}, lines(jen.Id("p"))...)...),
		jen.Return(jen.Id("x")),
	)
}

// emitPacks emits the test of whether a blocked transpose's source rows
// take the Packed tiles, and its exported form for the dispatcher:
//
//	func Packs(size, nj, dj int, src unsafe.Pointer, off []int) bool {
//		return nj*dj*size >= 4194304 && packs(size, nj, dj, src, off)
//	}
//
//	func PackRows(size, nj, dj int) int { ... } // packRows[size] where Packs may be true, else 0
//
//	func packs(size, nj, dj int, src unsafe.Pointer, off []int) bool {
//		return nj*dj*size < 16777216 && crowdedSources(size, nj, src, off)
//	}
//
// and the same for the streamed transposes' PackedStream tiles, from a
// smallest span instead of below a largest, and for the sizes that have
// them (StreamPacks, streamPacks), with the test both share:
//
//	func crowdedSources(size, nj int, src unsafe.Pointer, off []int) bool {
//		n := packRows[size]
//		if n == 0 || !Accelerated || !AVX512 || !AMDTuned || nj < cacheLine/size || len(off) < n {
//			return false
//		}
//		var sets uint64
//		for _, o := range off[:n] {
//			sets |= 1 << ((uintptr(src) + uintptr(o)) / cacheLine % 64)
//		}
//		return bits.OnesCount64(sets) <= 2
//	}
func emitPacks() jen.Code {
	sig := jen.Params(jen.List(jen.Id("size"), jen.Id("nj"), jen.Id("dj")).Int(), jen.Id("src").Add(ptr()), jen.Id("off").Index().Int()).Bool()
	args := []jen.Code{jen.Id("size"), jen.Id("nj"), jen.Id("dj"), jen.Id("src"), jen.Id("off")}
	return jen.Add(doc(
		"Packs reports whether the blocked transposes of a copy into nj",
		"destination rows of dj elements of size bytes, whose first source rows",
		"are off (byte offsets from src), write through a CrowdBuffer for their",
		"source rows alone, which they read through the Packed tiles (see packs),",
		fmt.Sprintf("where the destination spans at least %d bytes: so that the caller", packSpan),
		"knows whether to declare one where Crowds does not. Give it the first",
		"PackRows rows of the copy, or all of them if fewer.",
	)).Line().Func().Id("Packs").Add(sig.Clone()).Block(
		jen.Return(jen.Id("nj").Op("*").Id("dj").Op("*").Id("size").Op(">=").Lit(packSpan).Op("&&").Id("packs").Call(args...)),
	).Line().Line().Add(doc(
		"PackRows is how many of a copy's first source rows Packs looks at for",
		"a copy into nj destination rows of dj elements of size bytes: the rows",
		"of the Packed tiles' band, or 0 where Packs is false whatever the rows,",
		"so that the caller need not list them.",
	)).Line().Func().Id("PackRows").Params(jen.List(jen.Id("size"), jen.Id("nj"), jen.Id("dj")).Int()).Int().Block(
		jen.If(jen.Id("span").Op(":=").Id("nj").Op("*").Id("dj").Op("*").Id("size"), jen.Op("!").Id("Accelerated").Op("||").Op("!").Id("AVX512").Op("||").Op("!").Id("AMDTuned").Op("||").
			Id("nj").Op("<").Id("cacheLine").Op("/").Id("size").Op("||").Id("span").Op("<").Lit(packSpan).Op("||").Id("span").Op(">=").Lit(packMaxSpan)).Block(jen.Return(jen.Lit(0))),
		jen.Return(jen.Id("packRows").Index(jen.Id("size"))),
	).Line().Line().Add(doc(
		"packs reports whether a blocked transpose of size-byte elements, nj",
		"columns into rows of dj, source rows off (byte offsets from src), that",
		"is not streamed, reads the source rows of its whole bands through the",
		fmt.Sprintf("Packed tiles (packedTiles): where the destination spans less than %d", packMaxSpan),
		"bytes and the source rows crowd as crowdedSources says.",
	)).Line().Func().Id("packs").Add(sig.Clone()).Block(
		jen.Return(jen.Id("nj").Op("*").Id("dj").Op("*").Id("size").Op("<").Lit(packMaxSpan).Op("&&").Id("crowdedSources").Call(jen.Id("size"), jen.Id("nj"), jen.Id("src"), jen.Id("off"))),
	).Line().Line().Add(doc(
		"StreamPacks reports whether a blocked transpose of size-byte elements",
		"beyond the cache (streamed), nj columns into rows of dj from dst, source",
		"rows off (byte offsets from src), reads the source rows of its whole",
		"bands through the PackedStream tiles: where its tiles store whole aligned",
		"lines (dst and dj whole lines) and streamPacks says so. It looks at the",
		"first band's rows of off (64 of 1-byte elements); the dispatcher needs no",
		"buffer for it, so this is for tests and tools.",
	)).Line().Func().Id("StreamPacks").Params(jen.List(jen.Id("size"), jen.Id("nj"), jen.Id("dj")).Int(), jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()), jen.Id("off").Index().Int()).Bool().Block(
		jen.Return(jen.Uintptr().Call(jen.Id("dst")).Op("%").Lit(64).Op("==").Lit(0).Op("&&").Id("dj").Op("*").Id("size").Op("%").Lit(64).Op("==").Lit(0).Op("&&").
			Id("streamPacks").Call(jen.Id("size"), jen.Id("nj"), jen.Id("dj"), jen.Id("src"), jen.Id("off"))),
	).Line().Line().Add(doc(
		"streamPacks reports whether a streamed blocked transpose of size-byte",
		"elements whose tiles store whole aligned destination lines (streamTiles),",
		"nj columns into rows of dj, source rows off (byte offsets from src),",
		"reads the source rows of its whole bands through the PackedStream tiles",
		"(packedStreamTiles): for the sizes that have them (streamPackSizes), a",
		fmt.Sprintf("destination of at least %d bytes, and source rows that crowd as", streamPackSpan),
		"crowdedSources says. The walks of those sizes then take blocks a whole",
		"line wide, each source line read once.",
	)).Line().Func().Id("streamPacks").Add(sig.Clone()).Block(
		jen.Return(jen.Id("streamPackSizes").Index(jen.Id("size")).Op("&&").Id("nj").Op("*").Id("dj").Op("*").Id("size").Op(">=").Lit(streamPackSpan).Op("&&").Id("crowdedSources").Call(jen.Id("size"), jen.Id("nj"), jen.Id("src"), jen.Id("off"))),
	).Line().Line().Add(doc(
		"crowdedSources reports whether the source rows off (byte offsets from",
		"src) of a blocked transpose of size-byte elements, nj columns, can take",
		"the packing tiles and want them: where this build and CPU have Packed",
		"tiles for the size (packRows: the AVX-512 tiles) and AMDTuned, there is",
		fmt.Sprintf("a block a whole line wide, and the first band's rows start in at most %d", packSets),
		"of the L1 cache's 64 sets. Its tile columns would read such rows from",
		"the next level once per column; packed, each line is read once.",
	)).Line().Func().Id("crowdedSources").Params(jen.List(jen.Id("size"), jen.Id("nj")).Int(), jen.Id("src").Add(ptr()), jen.Id("off").Index().Int()).Bool().Block(
		jen.Id("n").Op(":=").Id("packRows").Index(jen.Id("size")),
		jen.If(jen.Id("n").Op("==").Lit(0).Op("||").Op("!").Id("Accelerated").Op("||").Op("!").Id("AVX512").Op("||").Op("!").Id("AMDTuned").Op("||").
			Id("nj").Op("<").Id("cacheLine").Op("/").Id("size").Op("||").Len(jen.Id("off")).Op("<").Id("n")).Block(jen.Return(jen.False())),
		jen.Var().Id("sets").Uint64(),
		jen.For(jen.List(jen.Id("_"), jen.Id("o")).Op(":=").Range().Id("off").Index(jen.Empty(), jen.Id("n"))).Block(
			jen.Id("sets").Op("|=").Lit(1).Op("<<").Parens(jen.Parens(jen.Uintptr().Call(jen.Id("src")).Op("+").Uintptr().Call(jen.Id("o"))).Op("/").Id("cacheLine").Op("%").Lit(64)),
		),
		jen.Return(jen.Qual("math/bits", "OnesCount64").Call(jen.Id("sets")).Op("<=").Lit(packSets)),
	).Line().Line().Add(doc(
		"streamPackSizes is, by element size, whether the blocked transposes have",
		"PackedStream tiles (see streamPacks).",
	)).Line().Var().Id("streamPackSizes").Op("=").Add(sizeTable(avx512StreamPacks))
}

// emitTileStores emits the enum of the tile transposes' forms (tileForms
// in asm.go), which transpose<W> picks from its stream and alignment:
//
//	type tileStores uint8
//
//	const (
//		cachedTiles tileStores = iota
//		prefetchTiles
//		streamTiles
//		packedTiles
//		aheadTiles
//		packedStreamTiles
//		alignedTiles
//	)
func emitTileStores() jen.Code {
	var defs []jen.Code
	for i, f := range tileForms {
		for _, l := range f.ConstDoc {
			defs = append(defs, jen.Comment(l))
		}
		def := jen.Id(f.Const)
		if i == 0 {
			def.Id("tileStores").Op("=").Iota()
		}
		defs = append(defs, def)
	}
	// Not a form of every kernel: the Aligned ones are kernels of their own
	// (avx512AlignedFuncs), for some widths.
	defs = append(defs,
		jen.Comment("alignedTiles is cachedTiles for destination rows off line boundaries,"),
		jen.Comment("which the walks choose where alignedBands says so: the whole bands go"),
		jen.Comment("to the Aligned AVX-512 tiles, which store whole aligned lines, the"),
		jen.Comment("rest to the cachedTiles form."),
		jen.Id("alignedTiles"))
	return jen.Add(doc(
		"tileStores is how a tile transpose meets the memory system: the form of",
		"the assembly kernel that the tiles functions pick (the Go fallback of",
		"some widths takes only whether it is cachedTiles).",
	)).Line().Type().Id("tileStores").Uint8().Line().Line().Const().Defs(defs...)
}

// emitStoresChoice emits the choice of a blocked transpose's tileStores
// from its stream flag: streamTiles for a result larger than the cache
// whose destination rows are whole lines (dst and dj*dstSize multiples of
// 64), and where onlyIf is not nil only where it holds; for one whose rows
// are not, prefetchTiles where prefetchUnaligned, else cachedTiles:
//
//	stores := cachedTiles
//	if stream {
//		stores = prefetchTiles
//		if uintptr(dst)%64 == 0 && dj*4%64 == 0 {
//			stores = streamTiles
//		}
//	}
func emitStoresChoice(dstSize int, prefetchUnaligned bool, onlyIf *jen.Statement) jen.Code {
	whole := jen.Uintptr().Call(jen.Id("dst")).Op("%").Lit(64).Op("==").Lit(0).Op("&&").Add(times(jen.Id("dj"), dstSize)).Op("%").Lit(64).Op("==").Lit(0)
	if onlyIf != nil {
		whole = onlyIf.Op("&&").Add(whole)
	}
	choice := jen.If(jen.Id("stream").Op("&&").Add(whole)).Block(jen.Id("stores").Op("=").Id("streamTiles"))
	if prefetchUnaligned {
		choice = jen.If(jen.Id("stream")).Block(
			jen.Id("stores").Op("=").Id("prefetchTiles"),
			jen.If(whole).Block(jen.Id("stores").Op("=").Id("streamTiles")),
		)
	}
	return jen.Id("stores").Op(":=").Id("cachedTiles").Line().Add(choice)
}

// spanTable is a [9]int of spans by element size: math.MaxInt for a size
// whose entry is 0 (any span), 0 for the sizes the map lacks.
func spanTable(spans map[int]int) *jen.Statement {
	return jen.Index(jen.Lit(9)).Int().ValuesFunc(func(g *jen.Group) {
		for _, w := range widths {
			span, ok := spans[w.Size]
			switch {
			case !ok:
				continue
			case span == 0:
				g.Lit(w.Size).Op(":").Qual("math", "MaxInt")
			default:
				g.Lit(w.Size).Op(":").Lit(span)
			}
		}
	})
}

// sizeTable is a [9]bool by element size: true for the sizes of widths
// that sizes lists.
func sizeTable(sizes map[int]bool) *jen.Statement {
	return jen.Index(jen.Lit(9)).Bool().ValuesFunc(func(g *jen.Group) {
		for _, w := range widths {
			if sizes[w.Size] {
				g.Lit(w.Size).Op(":").True()
			}
		}
	})
}

// fromTable is a [9]int of smallest spans by element size: the map's
// entry, math.MaxInt for the sizes of widths it lacks.
func fromTable(spans map[int]int) *jen.Statement {
	return jen.Index(jen.Lit(9)).Int().ValuesFunc(func(g *jen.Group) {
		for _, w := range widths {
			if span, ok := spans[w.Size]; ok {
				g.Lit(w.Size).Op(":").Lit(span)
			} else {
				g.Lit(w.Size).Op(":").Qual("math", "MaxInt")
			}
		}
	})
}

// formSwitch is the Go that calls the form of tile transpose base+ISA that
// the tileStores value stores names, with the tiles functions' arguments:
// the forms formFuncs gives it with set (any other value takes the
// first).
func formSwitch(base, isa string, set formSet) jen.Code {
	var cases []jen.Code
	for i, f := range tileForms {
		if !set.has(f) {
			continue
		}
		call := jen.Id(base + f.Suffix + isa).Call(tileArgs()...)
		if i == 0 {
			cases = append(cases, jen.Default().Block(call))
			continue
		}
		cases = append(cases, jen.Case(jen.Id(f.Const)).Block(call))
	}
	return jen.Switch(jen.Id("stores")).Block(cases...)
}

// transposeName is the name of the blocked transpose of a width.
func transposeName(w width) string { return "transpose" + exported(w.Carrier) }

// edgeName is the name of the scalar transpose of a width's tile edges.
func edgeName(w width) string { return "edge" + exported(w.Carrier) }

// blockJExpr is the columns of a width's transpose block: cacheLine/4,
// from the constant of the architecture's accel file.
func blockJExpr(w width) *jen.Statement {
	return times(jen.Id("cacheLine"), 1).Op("/").Lit(w.Size)
}

// emitTranspose emits the blocked transpose of a width, which the
// dispatcher calls through TransposeRows:
//
//	func transposeUint32(dst, src unsafe.Pointer, off []int, nj, dj int, stream bool, buf *CrowdBuffer) {
//		stores := cachedTiles
//		if stream && uintptr(dst)%64 == 0 && dj*4%64 == 0 {
//			stores = streamTiles // (1-byte elements: prefetchTiles for every stream, streamTiles where whole lines)
//		}
//		if buf != nil && !stream && crowded(4, min(cacheLine/4, nj), dj*4, nj*dj*4) { // widths with a buffered form
//			transposeBufferedUint32(dst, src, off, nj, dj, stream, buf) // the same loops, the whole tiles through buf (blockWalk)
//			return
//		}
//		if !stream && aheadBands(4, nj*dj*4) { // widths with Ahead tiles (aheadDecl)
//			stores = aheadTiles
//		}
//		ai := 128
//		if !stream && alignedBands(4, dst, dj*4) { // widths with Aligned tiles (alignedDecl)
//			stores, ai = alignedTiles, alignedRows
//		}
//		for i0 := 0; i0 < len(off); i0 += ai {
//			mi := min(ai, len(off)-i0)
//			rows := off[i0 : i0+mi]
//			for j0 := 0; j0 < nj; j0 += cacheLine/4 {
//				mj := min(cacheLine/4, nj-j0)
//				d := unsafe.Add(dst, (j0*dj+i0)*4)
//				fi, fj := mi/8, mj/8
//				if fi > 0 && fj > 0 {
//					tilesUint32(d, src, unsafe.Pointer(&rows[0]), j0*4, fi, fj, dj*4, stores)
//				}
//				edgeUint32(d, src, rows, j0, 0, mi, fj*8, mj, dj)
//				edgeUint32(d, src, rows, j0, fi*8, mi, 0, fj*8, dj)
//			}
//		}
//	}
func emitTranspose(w width) jen.Code {
	name := transposeName(w)
	// Where the destination rows are not whole lines, only 1-byte tiles
	// prefetch: on the 2-vCPU EPYC VM (transpose2d-odd, 3 interleaved
	// rounds) the prefetch took uint8 0.14-0.15 to 0.17 of the ceiling at
	// 16-64 MiB, cost bfloat16 10-30% at 16 MiB-1 GiB (1 GiB 0.26-0.28 to
	// 0.20-0.22) and left float32 and float64 where they were.
	stores := emitStoresChoice(w.Size, w.Size == 1, nil)
	walk := plainWalk(w)
	src := ""
	if walk.touchSrc {
		src = " and source lines (touchRows)"
	}
	more := ""
	if walk.narrows {
		more = " Streamed, its blocks are at most streamRows columns wide where the build sets it"
		if walk.streamPack {
			more += ", unless its source rows crowd the L1 cache's sets (streamPacks): then they are a line wide, and their tiles take the PackedStream form"
		}
		more += "."
	}
	if walk.hasBuffered() {
		more += fmt.Sprintf(" Destinations whose rows crowd the L1 cache (crowded) take %s, given buf.", bufferedName(w))
	}
	return jen.Add(doc(
		fmt.Sprintf("%s transposes len(off) × nj %d-byte elements: source row i starts", name, w.Size),
		"off[i] bytes from src with its elements j adjacent, destination row j",
		"starts j*dj elements from dst with its elements i adjacent. It walks",
		fmt.Sprintf("blocks of %d rows by one cache line of columns (cacheLine/%d; see BlockI in", w.BlockI, w.Size),
		fmt.Sprintf("gen/spec.go and the backends in gen/backend.go), hands their whole %d×%d tiles", w.TileI, w.TileJ),
		fmt.Sprintf("to %s and moves the rest one element at a time (%s).", tilesName(w), edgeName(w)),
		"It is the plain loop",
		"",
		"\tfor i := range off {",
		"\t\tfor j := 0; j < nj; j++ {",
		fmt.Sprintf("\t\t\tdst[j*dj+i] = *(src + off[i] + j*%d) // a byte address", w.Size),
		"\t\t}",
		"\t}",
		"",
		"With stream (a result larger than the cache), where dst and dj are whole",
		"lines, the tiles prefetch the source rows' next lines and write whole",
		"destination lines with non-temporal stores (the edges keep ordinary ones);",
		"where they are not, 1-byte tiles only prefetch and the others run as in",
		"the cache. With the Go tiles (Accelerated false) and stream, each block",
		"first reads a byte of each of its destination lines (touchLines)"+src+",",
		"so that the tiles' stores find them in the cache."+more,
	)).Line().Func().Id(name).Params(
		jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()),
		jen.Id("off").Index().Int(),
		jen.List(jen.Id("nj"), jen.Id("dj")).Int(),
		jen.Id("stream").Bool(),
		jen.Id("buf").Op("*").Id("CrowdBuffer"),
	).Block(walk.body(stores)...).Add(walk.bufferedFunc(name))
}

// plainWalk is the block walk of a width's transpose.
func plainWalk(w width) blockWalk {
	b := blockWalk{
		tiles: tilesName(w), edge: edgeName(w), buffered: bufferedName(w),
		tileI: w.TileI, tileJ: w.TileJ, blockI: w.BlockI, blockJ: blockJExpr(w), lineCols: func(line int) int { return blockJ(w, line) },
		srcSize: w.Size, dstSize: w.Size, pack: avx512Packs[w.Size], streamPack: avx512StreamPacks[w.Size], ahead: avx512Ahead[w.Size], tail: tailOf(w), streamOut: true,
	}
	b.narrows = slices.ContainsFunc(builds(), b.narrowsIn)
	b.unaligned = slices.ContainsFunc(builds(), func(be backend) bool { _, ok := be.Crowd.Unaligned[w.Size]; return ok })
	if tallSizes[w.Size] && w.BlockI < tallRows {
		b.tallI = tallRows
		b.tallCached = tallCachedSizes[w.Size] && b.streamOut // its condition reads stream
	}
	b.touch, b.touchSrc = true, goTileOf(w).TouchSource
	b.aligned = avx512Aligned[w.Size]
	return b
}

// tailOf is the tail function of a width's transpose, "" for none.
func tailOf(w width) string {
	if !avx512Tails[w.Size] {
		return ""
	}
	return tailFuncName(w)
}

// crowdBufferWords is the size, in 8-byte words, of the buffer that every
// buffered transpose uses (CrowdBuffer): the largest one needs in the
// builds that buffer it.
func crowdBufferWords() int {
	walks := []blockWalk{}
	for _, w := range widths {
		walks = append(walks, plainWalk(w))
	}
	for _, cv := range conversions {
		walks = append(walks, convWalk(cv))
	}
	words := 0
	for _, b := range walks {
		for _, be := range builds() {
			if b.buffersOn(be) {
				words = max(words, b.lineCols(be.CacheLine)*max(b.blockI, b.tallI)*b.dstSize/8)
			}
		}
	}
	return words
}

// blockWalk is a blocked transpose's walk over its blocks (the plain ones
// of emitTranspose, the converting ones of emitConvTranspose): blocks of
// blockI source rows by blockJ columns, whose whole tileI × tileJ tiles go
// to the function tiles and the rest to edge, elements of srcSize bytes in
// and dstSize out.
type blockWalk struct {
	tiles, edge, buffered string // the tiles, the edges, the buffered form
	tileI, tileJ, blockI  int
	blockJ                *jen.Statement // the columns of a block, as Go
	// lineCols is the columns of a block on a cache line of that many
	// bytes: the destination rows of a block.
	lineCols         func(line int) int
	srcSize, dstSize int
	// pack: some build has Packed tiles for the width (avx512Packs), which
	// the buffered form takes for source rows that crowd (packs).
	pack bool
	// streamPack: some build has PackedStream tiles for the width
	// (avx512StreamPacks), which the unbuffered blocks take beyond the
	// cache for source rows that crowd (streamPacks), a whole line wide.
	streamPack bool
	// tail, where set, is the function for the rows of each block after
	// its whole bands (emitTail, avx512Tails); else whole tiles and edges.
	tail string
	// streamOut: beyond the cache, destinations whose rows are not whole
	// aligned lines go through the buffer where the build says so
	// (crowding.Streamed, streamCrowded).
	streamOut bool
	// conv: the pair of a converting transpose's walk, which streams
	// through the buffer where ConvStreamCrowds says so
	// (crowding.StreamedConv), not streamCrowded; nil for a plain one.
	conv *conversion
	// narrows: the walk has a stream parameter, and its blocks are wider
	// than some build's backend.StreamRows: streamed, its unbuffered
	// blocks take at most streamRows columns (bj).
	narrows bool
	// unaligned: some build buffers the walk's destination rows that are
	// not whole lines apart (crowding.Unaligned).
	unaligned bool
	// tallI, where not 0, is the source rows of the buffered form's blocks
	// where AMDTuned is false (tallRows); blockI where it is true, and in
	// the walks without it. With tallCached (tallCachedSizes) the blocks
	// are tallI rows with the AVX-512 tiles too, unless streamed.
	tallI      int
	tallCached bool
	// touch: beyond the cache, with the Go tiles, the walk reads a byte of
	// each destination line of a block before its tiles (emitTouch); and
	// touchSrc, of each source line too.
	touch, touchSrc bool
	// ahead: some build has Ahead tiles for the width (avx512Ahead), which
	// the unbuffered blocks take where aheadBands says so.
	ahead bool
	// aligned: some build has Aligned tiles for the width (avx512Aligned),
	// whose unbuffered blocks are alignedRows tall where alignedBands says
	// so (ai).
	aligned bool
}

// buffersOn reports whether the walk writes through the buffer in build
// be: whether be buffers its destination size (crowding.Sizes) and a block
// has more destination rows there than the L1 cache's ways, or be buffers
// it beyond the cache (crowding.Streamed, StreamedTall) or where its rows
// are not whole lines apart (crowding.Unaligned).
func (b blockWalk) buffersOn(be backend) bool {
	_, ok := be.Crowd.Sizes[b.dstSize]
	_, unaligned := be.Crowd.Unaligned[b.dstSize]
	streamed := be.Crowd.Streamed[b.dstSize] || be.Crowd.StreamedTall[b.dstSize]
	if b.conv != nil {
		streamed = be.Crowd.StreamedConv
	}
	return ok && b.lineCols(be.CacheLine) > be.Crowd.Ways || b.streamOut && streamed || b.unaligned && unaligned
}

// rowsOf is the source rows of the walk's blocks, as Go: bi in the
// buffered form of a walk with tallI (bufferedFunc sets it), else blockI.
func (b blockWalk) rowsOf(buffered bool) jen.Code {
	if buffered && b.tallI > 0 {
		return jen.Id("bi")
	}
	if !buffered && b.aligned {
		return jen.Id("ai")
	}
	return jen.Lit(b.blockI)
}

// aheadDecl takes aheadTiles for the tiles of a walk with ahead that is
// not streamed where aheadBands says so, once per transpose (before
// alignedDecl, whose alignedTiles win where both would be chosen):
//
//	if !stream && aheadBands(4, nj*dj*4) {
//		stores = aheadTiles
//	}
func (b blockWalk) aheadDecl() jen.Code {
	if !b.ahead {
		return jen.Null()
	}
	return jen.If(jen.Op("!").Id("stream").Op("&&").Id("aheadBands").Call(jen.Lit(b.dstSize), jen.Id("nj").Op("*").Add(times(jen.Id("dj"), b.dstSize)))).Block(
		jen.Id("stores").Op("=").Id("aheadTiles"))
}

// alignedDecl declares ai, the source rows of the unbuffered blocks of a
// walk with aligned, and takes alignedTiles for its tiles where
// alignedBands says so, once per transpose:
//
//	ai := 128
//	if !stream && alignedBands(4, dst, dj*4) {
//		stores, ai = alignedTiles, alignedRows
//	}
func (b blockWalk) alignedDecl() jen.Code {
	if !b.aligned {
		return jen.Null()
	}
	return jen.Id("ai").Op(":=").Lit(b.blockI).Line().
		If(jen.Op("!").Id("stream").Op("&&").Id("alignedBands").Call(jen.Lit(b.dstSize), jen.Id("dst"), times(jen.Id("dj"), b.dstSize))).Block(
		jen.List(jen.Id("stores"), jen.Id("ai")).Op("=").List(jen.Id("alignedTiles"), jen.Lit(alignedRows)))
}

// bufLine is the bytes of a buffer row, as Go: line where the walk has
// tallI (bufferedFunc sets it), else the literal.
func (b blockWalk) bufLine() jen.Code {
	if b.tallI > 0 {
		return jen.Id("line")
	}
	return jen.Lit(b.blockI * b.dstSize)
}

// bufAt is the buffer as an unsafe.Pointer.
func (b blockWalk) bufAt() *jen.Statement {
	if b.tallI > 0 {
		return jen.Id("buf")
	}
	return ptr().Call(jen.Id("buf"))
}

// bufRow is row j of the buffer, as an unsafe.Pointer.
func (b blockWalk) bufRow() *jen.Statement {
	if b.tallI > 0 {
		return add(jen.Id("buf"), jen.Id("j").Op("*").Id("line"))
	}
	return ptr().Call(jen.Op("&").Id("buf").Index(jen.Id("j")))
}

// rowsOut is the copy of the fj tile columns' buffer rows, n bytes each
// (n the Go of their length), to the block at d: a buffer row of blockI
// (512 bytes) as one array move, other lengths through copy; in a walk
// with streamOut, when stream, each through copyRun with non-temporal
// stores (of the whole lines of the run, with copyRunStreamAVX2).
func (b blockWalk) rowsOut(n jen.Code) jen.Code {
	full := b.blockI * b.dstSize
	row := add(jen.Id("d"), jen.Id("j").Op("*").Add(times(jen.Id("dj"), b.dstSize)))
	each := func(move jen.Code) jen.Code {
		return jen.For(jen.Id("j").Op(":=").Range().Id("fj").Op("*").Lit(b.tileJ)).Block(move)
	}
	first := jen.If(jen.Id("n").Op(":=").Add(n), jen.Id("n").Op("==").Lit(full))
	if b.streamOut {
		first = jen.If(jen.Id("n").Op(":=").Add(n), jen.Id("stream")).Block(
			each(jen.Id("copyRun").Call(row.Clone(), b.bufRow(), jen.Id("n"), jen.True())),
		).Else().If(jen.Id("n").Op("==").Lit(full))
	}
	return first.Block(
		each(jen.Op("*").Parens(jen.Op("*").Index(jen.Lit(full)).Byte()).Parens(row).Op("=").Op("*").Parens(jen.Op("*").Index(jen.Lit(full)).Byte()).Parens(b.bufRow())),
	).Else().Block(
		each(jen.Copy(jen.Qual("unsafe", "Slice").Call(jen.Parens(jen.Op("*").Byte()).Parens(row.Clone()), jen.Id("n")), jen.Qual("unsafe", "Slice").Call(jen.Parens(jen.Op("*").Byte()).Parens(b.bufRow()), jen.Id("n")))),
	)
}

// hasBuffered reports whether the walk has a buffered form: whether it
// buffers in some build.
func (b blockWalk) hasBuffered() bool {
	return slices.ContainsFunc(builds(), b.buffersOn)
}

// narrowsIn reports whether a streamed block of the walk is narrower in
// build be than a line of columns (backend.StreamRows).
func (b blockWalk) narrowsIn(be backend) bool {
	return be.StreamRows > 0 && b.lineCols(be.CacheLine) > be.StreamRows
}

// blockCols is the columns of the walk's blocks: bj where narrowed
// (streamBlock), else the block's line of columns.
func (b blockWalk) blockCols(buffered bool) *jen.Statement {
	if b.narrows && !buffered {
		return jen.Id("bj")
	}
	return b.blockJ.Clone()
}

// streamBlock declares bj, the columns of the unbuffered blocks of a walk
// that narrows them when streamed, and in a walk with streamPack pack,
// whether its tiles take the PackedStream form (streamPacks), whose
// blocks stay a whole line wide (packedStores chooses the form by block):
//
//	bj := cacheLine / 1
//	pack := stores == streamTiles && streamPacks(1, nj, dj, src, off)
//	if stream && streamRows > 0 && !pack {
//		bj = min(bj, streamRows)
//	}
func (b blockWalk) streamBlock() jen.Code {
	code := jen.Null()
	narrow := jen.Id("stream").Op("&&").Id("streamRows").Op(">").Lit(0)
	if b.streamPack {
		code = jen.Id("pack").Op(":=").Id("stores").Op("==").Id("streamTiles").Op("&&").Add(b.packsCall("streamPacks")).Line()
		narrow = narrow.Op("&&").Op("!").Id("pack")
	}
	if !b.narrows {
		return code
	}
	return jen.Id("bj").Op(":=").Add(b.blockJ.Clone()).Line().Add(code).
		If(narrow).Block(jen.Id("bj").Op("=").Min(jen.Id("bj"), jen.Id("streamRows")))
}

// packedStores is the form of a block's tiles, as Go, and the Go that
// chooses it: base, or in a walk with a packing form for these tiles (has:
// the buffered ones' Packed, the unbuffered ones' PackedStream), st, which
// takes that form for blocks a whole source line wide, whose lines the
// packing reads whole, where pack (bufferedFunc, streamBlock) says so:
//
//	st := base
//	if pack && mj == cacheLine/1 {
//		st = packedTiles
//	}
func (b blockWalk) packedStores(has bool, base jen.Code, packed string) (stores jen.Code, choose []jen.Code) {
	if !has {
		return base, nil
	}
	return jen.Id("st"), []jen.Code{
		jen.Id("st").Op(":=").Add(base),
		jen.If(jen.Id("pack").Op("&&").Id("mj").Op("==").Add(b.blockJ.Clone())).Block(jen.Id("st").Op("=").Id(packed)),
	}
}

// body is the body of the transpose: the choice of stores, the branch to
// the buffered form where the walk has one, and the loops.
func (b blockWalk) body(stores jen.Code) []jen.Code {
	if !b.hasBuffered() {
		return []jen.Code{stores, b.streamBlock(), b.touchDecl(), b.aheadDecl(), b.alignedDecl(), b.loops(false)}
	}
	crowd := jen.Id("crowded").Call(
		jen.Lit(b.dstSize), jen.Min(b.blockJ.Clone(), jen.Id("nj")), times(jen.Id("dj"), b.dstSize), jen.Id("nj").Op("*").Add(times(jen.Id("dj"), b.dstSize)))
	if b.pack {
		crowd = jen.Parens(crowd.Op("||").Id("nj").Op("*").Add(times(jen.Id("dj"), b.dstSize)).Op(">=").Lit(packSpan).Op("&&").Add(b.packsCall("packs")))
	}
	cond := jen.Op("!").Id("stream").Op("&&").Add(crowd)
	if b.streamOut {
		streamed := jen.Id("streamCrowded").Call(jen.Lit(b.dstSize), jen.Id("nj"), jen.Id("dj"), jen.Id("dst"))
		if b.conv != nil {
			streamed = jen.Id("ConvStreamCrowds").Call(jen.Id(b.conv.From), jen.Id(b.conv.To), jen.Id("dj"), jen.Id("dst"))
		}
		cond = jen.Parens(cond.Op("||").Id("stream").Op("&&").Add(streamed))
	}
	args := []jen.Code{jen.Id("dst"), jen.Id("src"), jen.Id("off"), jen.Id("nj"), jen.Id("dj")}
	if b.streamOut {
		args = append(args, jen.Id("stream"))
	}
	branch := jen.If(jen.Id("buf").Op("!=").Nil().Op("&&").Add(cond)).Block(
		jen.Id(b.buffered).Call(append(args, jen.Id("buf"))...),
		jen.Return(),
	)
	return []jen.Code{stores, branch, b.streamBlock(), b.touchDecl(), b.aheadDecl(), b.alignedDecl(), b.loops(false)}
}

// baseStores is the form of the buffered tiles where nothing else
// decides: base (cachedTiles, or prefetchTiles with stream) where the walk
// has streamOut, else cachedTiles.
func (b blockWalk) baseStores() *jen.Statement {
	if b.streamOut {
		return jen.Id("base")
	}
	return jen.Id("cachedTiles")
}

// packsCall is the test of whether the walk's source rows take the Packed
// tiles, packs(1, nj, dj, src, off), or with name streamPacks the
// PackedStream ones.
func (b blockWalk) packsCall(name string) *jen.Statement {
	return jen.Id(name).Call(jen.Lit(b.srcSize), jen.Id("nj"), jen.Id("dj"), jen.Id("src"), jen.Id("off"))
}

// bufferedFunc is the buffered form of the transpose name, where the walk
// has one, with the blank lines before it.
func (b blockWalk) bufferedFunc(name string) jen.Code {
	if !b.hasBuffered() {
		return jen.Null()
	}
	text := []string{
		fmt.Sprintf("%s is %s for destinations whose rows crowd the sets", b.buffered, name),
		fmt.Sprintf("of the L1 cache (crowded): the whole tiles of each block of %d rows go", b.blockI),
		fmt.Sprintf("to a buffer of %d-byte rows, whose rows are then copied out whole, each", b.blockI*b.dstSize),
		"a run of consecutive lines, instead of a line per row at a time down",
		"the block. The edges go straight to dst. The buffer's rows start at its",
		"first line boundary, so that its stores and loads are whole lines.",
	}
	switch {
	case b.tallCached:
		text = append(text, fmt.Sprintf("Its blocks are %d rows tall where AMDTuned is false, and also,", b.tallI),
			"unless streamed, wherever the AVX-512 tiles run, so that each run is",
			"longer (see tallRows and tallCachedSizes in gen/backend.go).")
	case b.tallI > 0:
		text = append(text, fmt.Sprintf("Where AMDTuned is false its blocks are %d rows tall, so that each run", b.tallI),
			"is longer (see tallRows in gen/backend.go).")
	}
	if b.unaligned {
		text = append(text,
			"Rows that are not whole lines apart come here too where the build",
			"says so (unalignedSpans), whether they crowd or not.")
	}
	var pack jen.Code = jen.Null()
	if b.pack {
		text = append(text,
			"Where the source rows crowd the sets too (packs), the tiles of blocks",
			"a whole line wide take their Packed form (see packedTiles); the",
			"destination must then go through the buffer as well, or the packing",
			"gains nothing.")
		pack = jen.Id("pack").Op(":=").Op("!").Id("stream").Op("&&").Add(b.packsCall("packs"))
	}
	params := []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()), jen.Id("off").Index().Int(), jen.List(jen.Id("nj"), jen.Id("dj")).Int()}
	var base jen.Code = jen.Null()
	if b.streamOut {
		when := []string{"With stream (beyond the cache, destination rows that are not whole",
			"aligned lines: streamCrowded), the tiles prefetch as they do there,"}
		if b.conv != nil {
			when = []string{"With stream (beyond the cache, where ConvStreamCrowds says",
				"so), the tiles prefetch as they do there,"}
		}
		text = append(append(text, when...),
			"and each row goes out through copyRun, with non-temporal stores of the",
			"whole lines it covers.")
		params = append(params, jen.Id("stream").Bool())
		base = jen.Id("base").Op(":=").Id("cachedTiles").Line().If(jen.Id("stream")).Block(jen.Id("base").Op("=").Id("prefetchTiles")).Line().Add(b.touchDecl())
	}
	params = append(params, jen.Id("crowd").Op("*").Id("CrowdBuffer"))
	aligned := jen.Qual("unsafe", "Add").Call(jen.Id("p"), jen.Op("-").Int().Call(jen.Uintptr().Call(jen.Id("p"))).Op("&").Lit(63)) // from its first line boundary
	var height, buf jen.Code
	if b.tallI > 0 {
		tall := jen.Op("!").Id("AMDTuned")
		if b.tallCached {
			tall.Op("||").Id("Accelerated").Op("&&").Id("AVX512").Op("&&").Op("!").Id("stream")
		}
		height = jen.Id("bi").Op(":=").Lit(b.blockI).Line().
			If(tall).Block(jen.Id("bi").Op("=").Lit(b.tallI)).Line().
			Id("line").Op(":=").Add(times(jen.Id("bi"), b.dstSize))
		buf = jen.Id("buf").Op(":=").Add(aligned)
	} else {
		height = jen.Null()
		buf = jen.Id("buf").Op(":=").Parens(jen.Op("*").Index(b.blockJ.Clone()).Index(jen.Lit(b.blockI * b.dstSize / 8)).Uint64()).Call(aligned)
	}
	return jen.Line().Line().Add(doc(text...)).Line().Func().Id(b.buffered).Params(params...).Block(
		pack,
		base,
		height,
		jen.Id("p").Op(":=").Add(ptr()).Call(jen.Id("crowd")),
		buf,
		b.loops(true),
	)
}

// bufferedName is the name of the buffered form of a width's transpose.
func bufferedName(w width) string { return "transposeBuffered" + exported(w.Carrier) }

// loops are the loops over the blocks, whose whole tiles go straight to
// dst, or, where buffered, to buf and from there to dst a row at a time
// (a walk with tallI: buf an unsafe.Pointer, its rows line bytes apart):
//
//	tilesUint64(buf, src, unsafe.Pointer(&rows[0]), j0*8, fi, fj, line, base)
//	if n := fi * 32; n == 512 {
//		for j := range fj * 4 {
//			*(*[512]byte)(unsafe.Add(d, j*dj*8)) = *(*[512]byte)(unsafe.Add(buf, j*line))
//		}
//	} else {
//		for j := range fj * 4 {
//			copy(unsafe.Slice((*byte)(unsafe.Add(d, j*dj*8)), n), unsafe.Slice((*byte)(unsafe.Add(buf, j*line)), n))
//		}
//	}
func (b blockWalk) loops(buffered bool) jen.Code {
	tiles := func(to, dj, stores jen.Code) jen.Code {
		return jen.Id(b.tiles).Call(to, jen.Id("src"), ptr().Call(jen.Op("&").Id("rows").Index(jen.Lit(0))), times(jen.Id("j0"), b.srcSize), jen.Id("fi"), jen.Id("fj"), dj, stores)
	}
	if b.tail != "" {
		return b.tailLoops(buffered, tiles)
	}
	var whole []jen.Code
	if buffered {
		stores, choose := b.packedStores(b.pack, b.baseStores(), "packedTiles")
		whole = append(choose,
			tiles(b.bufAt(), b.bufLine(), stores),
			b.rowsOut(jen.Id("fi").Op("*").Lit(b.tileI*b.dstSize)),
		)
	} else {
		stores, choose := b.packedStores(b.streamPack, jen.Id("stores"), "packedStreamTiles")
		whole = append(choose, tiles(jen.Id("d"), times(jen.Id("dj"), b.dstSize), stores))
	}
	inner := []jen.Code{
		jen.Id("mj").Op(":=").Min(b.blockCols(buffered), jen.Id("nj").Op("-").Id("j0")),
		jen.Id("d").Op(":=").Add(add(jen.Id("dst"), times(jen.Parens(jen.Id("j0").Op("*").Id("dj").Op("+").Id("i0")), b.dstSize))),
		b.touches(buffered),
		jen.List(jen.Id("fi"), jen.Id("fj")).Op(":=").List(jen.Id("mi").Op("/").Lit(b.tileI), jen.Id("mj").Op("/").Lit(b.tileJ)),
		jen.If(jen.Id("fi").Op(">").Lit(0).Op("&&").Id("fj").Op(">").Lit(0)).Block(whole...),
		jen.Id(b.edge).Call(jen.Id("d"), jen.Id("src"), jen.Id("rows"), jen.Id("j0"), jen.Lit(0), jen.Id("mi"), jen.Id("fj").Op("*").Lit(b.tileJ), jen.Id("mj"), jen.Id("dj")),
		jen.Id(b.edge).Call(jen.Id("d"), jen.Id("src"), jen.Id("rows"), jen.Id("j0"), jen.Id("fi").Op("*").Lit(b.tileI), jen.Id("mi"), jen.Lit(0), jen.Id("fj").Op("*").Lit(b.tileJ), jen.Id("dj")),
	}
	return b.blocks(nil, inner, b.blockCols(buffered), b.rowsOf(buffered))
}

// blocks is the loop over the blocks of rows (rows at a time) and, in
// each, of columns (cols at a time), with before at the top of each block
// of rows and inner the body of each block.
func (b blockWalk) blocks(before, inner []jen.Code, cols *jen.Statement, rows jen.Code) jen.Code {
	return jen.For(jen.Id("i0").Op(":=").Lit(0), jen.Id("i0").Op("<").Len(jen.Id("off")), jen.Id("i0").Op("+=").Add(rows)).Block(append(append([]jen.Code{
		jen.Id("mi").Op(":=").Min(rows, jen.Len(jen.Id("off")).Op("-").Id("i0")),
		jen.Id("rows").Op(":=").Id("off").Index(jen.Id("i0").Op(":").Id("i0").Op("+").Id("mi")),
	}, before...),
		jen.For(jen.Id("j0").Op(":=").Lit(0), jen.Id("j0").Op("<").Id("nj"), jen.Id("j0").Op("+=").Add(cols)).Block(inner...),
	)...)
}

// touchDecl declares touch in a walk that reads ahead of its Go tiles
// beyond the cache (emitTouch): touch := stream && !Accelerated.
func (b blockWalk) touchDecl() jen.Code {
	if !b.touch {
		return jen.Null()
	}
	return jen.Id("touch").Op(":=").Id("stream").Op("&&").Op("!").Id("Accelerated")
}

// touches is the reading ahead of a block (emitTouch) at the top of its
// body in loops and tailLoops, in the forms that have touch: the plain
// form, and the buffered one of a walk with streamOut. For 8-byte
// elements:
//
//	if touch {
//		touchLines(d, mj, mi*8, dj*8)
//		touchRows(src, rows, j0*8, mj*8)
//	}
func (b blockWalk) touches(buffered bool) jen.Code {
	if !b.touch || buffered && !b.streamOut {
		return jen.Null()
	}
	calls := []jen.Code{jen.Id("touchLines").Call(jen.Id("d"), jen.Id("mj"), times(jen.Id("mi"), b.dstSize), times(jen.Id("dj"), b.dstSize))}
	if b.touchSrc {
		calls = append(calls, jen.Id("touchRows").Call(jen.Id("src"), jen.Id("rows"), times(jen.Id("j0"), b.srcSize), times(jen.Id("mj"), b.srcSize)))
	}
	return jen.If(jen.Id("touch")).Block(calls...)
}

// tailLoops are loops for a walk with a tail (emitTail): the rows of each
// block in whole bands (a destination line each: fb, cacheLine/dstSize
// rows at a time) go to the tiles, the rest to the tail, and the columns
// after the whole tiles one element at a time. Where buffered, the bands
// and the tail go to buf and out from there a row at a time:
//
//	fb := mi - mi%(cacheLine/1)
//	for j0 := ... {
//		mj := min(cacheLine/1, nj-j0)
//		d := unsafe.Add(dst, (j0*dj + i0))
//		fi, fj := fb/8, mj/16
//		if fi > 0 && fj > 0 {
//			tilesUint8(d, src, unsafe.Pointer(&rows[0]), j0, fi, fj, dj, stores)
//		}
//		if fb < mi && fj > 0 {
//			tailUint8(unsafe.Add(d, fb), src, rows[fb:], j0, fj, dj, stores)
//		}
//		edgeUint8(d, src, rows, j0, 0, mi, fj*16, mj, dj)
//	}
func (b blockWalk) tailLoops(buffered bool, tiles func(to, dj, stores jen.Code) jen.Code) jen.Code {
	fb := []jen.Code{jen.Id("fb").Op(":=").Id("mi").Op("-").Id("mi").Op("%").Parens(jen.Id("cacheLine").Op("/").Lit(b.dstSize))}
	tail := func(to jen.Code, dj, stores jen.Code) jen.Code {
		return jen.Id(b.tail).Call(add(to, times(jen.Id("fb"), b.dstSize)), jen.Id("src"), jen.Id("rows").Index(jen.Id("fb").Op(":")), jen.Id("j0"), jen.Id("fj"), dj, stores)
	}
	var body []jen.Code
	if !buffered {
		stores, choose := b.packedStores(b.streamPack, jen.Id("stores"), "packedStreamTiles")
		body = append(choose,
			jen.If(jen.Id("fi").Op(">").Lit(0).Op("&&").Id("fj").Op(">").Lit(0)).Block(tiles(jen.Id("d"), times(jen.Id("dj"), b.dstSize), stores)),
			jen.If(jen.Id("fb").Op("<").Id("mi").Op("&&").Id("fj").Op(">").Lit(0)).Block(tail(jen.Id("d"), jen.Id("dj"), stores)),
		)
	} else {
		stores, choose := b.packedStores(b.pack, b.baseStores(), "packedTiles")
		whole := append(choose,
			jen.If(jen.Id("fi").Op(">").Lit(0)).Block(tiles(b.bufAt(), b.bufLine(), stores)),
			jen.If(jen.Id("fb").Op("<").Id("mi")).Block(tail(b.bufAt(), b.rowsOf(true), b.baseStores())), // buffer rows bi elements apart
			b.rowsOut(jen.Id("mi").Op("*").Lit(b.dstSize)),
		)
		body = []jen.Code{jen.If(jen.Id("fj").Op(">").Lit(0)).Block(whole...)}
	}
	inner := append([]jen.Code{
		jen.Id("mj").Op(":=").Min(b.blockCols(buffered), jen.Id("nj").Op("-").Id("j0")),
		jen.Id("d").Op(":=").Add(add(jen.Id("dst"), times(jen.Parens(jen.Id("j0").Op("*").Id("dj").Op("+").Id("i0")), b.dstSize))),
		b.touches(buffered),
		jen.List(jen.Id("fi"), jen.Id("fj")).Op(":=").List(jen.Id("fb").Op("/").Lit(b.tileI), jen.Id("mj").Op("/").Lit(b.tileJ)),
	}, body...)
	inner = append(inner, jen.Id(b.edge).Call(jen.Id("d"), jen.Id("src"), jen.Id("rows"), jen.Id("j0"), jen.Lit(0), jen.Id("mi"), jen.Id("fj").Op("*").Lit(b.tileJ), jen.Id("mj"), jen.Id("dj")))
	return b.blocks(fb, inner, b.blockCols(buffered), b.rowsOf(buffered))
}

// emitTilesTail emits tiles<W>Tail of a build: with the assembly (asm),
// the AVX-512 tail kernel where the CPU runs it and the rows are not whole
// tiles, its table of a whole band's rows padded with the last; elsewhere
// a function that always declines. Rows of whole tiles go to the tiles'
// single tile rows instead, which were 5-9% faster for 8, 16 and 24 rows
// of uint8 after 256 ([256+r, 1024] transposed, 3 interleaved rounds on
// the 2-vCPU EPYC VM), while the tail kernel took 12, 40 and 63 rows
// 1.2-1.4× as fast as the single tile rows and edges, and 2-6 rows alike:
//
//	func tilesUint8Tail(dst, src unsafe.Pointer, rows []int, col, tj, dj int) bool {
//		if !Accelerated || !AVX512 || len(rows)%8 == 0 {
//			return false
//		}
//		var tab [64]int
//		n := copy(tab[:], rows)
//		for k := n; k < len(tab); k++ {
//			tab[k] = rows[n-1]
//		}
//		tilesUint8TailAVX512(dst, src, unsafe.Pointer(&tab[0]), col, n, tj, dj)
//		return true
//	}
func emitTilesTail(w width, asm bool) jen.Code {
	name := tilesName(w) + "Tail"
	text := []string{
		fmt.Sprintf("%s transposes rows, the source rows of a block after its whole", name),
		"bands (fewer than a band), and tj tile columns from byte col of each into",
		"dst, whose rows are dj bytes apart, and reports true; or reports false, and",
		"writes nothing, where it has no kernel for them.",
	}
	params := []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()), jen.Id("rows").Index().Int(), jen.List(jen.Id("col"), jen.Id("tj"), jen.Id("dj")).Int()}
	if !asm || !avx512Tails[w.Size] {
		text = append(text, "This build has none.")
		return jen.Add(doc(text...)).Line().Func().Id(name).Params(params...).Bool().Block(jen.Return(jen.False()))
	}
	band := cacheLineBytes / w.Size
	text = append(text, fmt.Sprintf("It runs %s where Accelerated and AVX512, on rows that", tailName(w)),
		fmt.Sprintf("are not whole tiles (of %d), its band's table filled with the last row.", w.TileI))
	return jen.Add(doc(text...)).Line().Func().Id(name).Params(params...).Bool().Block(
		jen.If(jen.Op("!").Id("Accelerated").Op("||").Op("!").Id("AVX512").Op("||").Len(jen.Id("rows")).Op("%").Lit(w.TileI).Op("==").Lit(0)).Block(jen.Return(jen.False())),
		jen.Var().Id("tab").Index(jen.Lit(band)).Int(),
		jen.Id("n").Op(":=").Copy(jen.Id("tab").Index(jen.Op(":")), jen.Id("rows")),
		jen.For(jen.Id("k").Op(":=").Id("n"), jen.Id("k").Op("<").Len(jen.Id("tab")), jen.Id("k").Op("++")).Block(
			jen.Id("tab").Index(jen.Id("k")).Op("=").Id("rows").Index(jen.Id("n").Op("-").Lit(1)),
		),
		jen.Id(tailName(w)).Call(jen.Id("dst"), jen.Id("src"), ptr().Call(jen.Op("&").Id("tab").Index(jen.Lit(0))), jen.Id("col"), jen.Id("n"), jen.Id("tj"), jen.Id("dj")),
		jen.Return(jen.True()),
	)
}

// tailFuncName is the name of the tail of a width's transpose (emitTail).
func tailFuncName(w width) string { return "tail" + exported(w.Carrier) }

// emitTail emits the tail of a width's transpose: the rows of a block
// after its whole bands, fewer than a band, through the tail kernel where
// the build and CPU have one (tiles<W>Tail), else whole tiles and edges:
//
//	func tailUint8(d, src unsafe.Pointer, rows []int, j0, fj, dj int, stores tileStores) {
//		if tilesUint8Tail(d, src, rows, j0, fj, dj) {
//			return
//		}
//		fi := len(rows) / 8
//		if fi > 0 {
//			tilesUint8(d, src, unsafe.Pointer(&rows[0]), j0, fi, fj, dj, stores)
//		}
//		edgeUint8(d, src, rows, j0, fi*8, len(rows), 0, fj*16, dj)
//	}
func emitTail(w width) jen.Code {
	name := tailFuncName(w)
	return jen.Add(doc(
		fmt.Sprintf("%s transposes rows, the source rows of a block after its whole", name),
		fmt.Sprintf("bands (fewer than cacheLine/%d), and fj tile columns from column j0 into the", w.Size),
		fmt.Sprintf("block at d, whose rows are dj elements apart: with %s where this", tilesName(w)+"Tail"),
		fmt.Sprintf("build and CPU have it, else with the whole tiles (%s) and the rest", tilesName(w)),
		fmt.Sprintf("one element at a time (%s).", edgeName(w)),
	)).Line().Func().Id(name).Params(
		jen.List(jen.Id("d"), jen.Id("src")).Add(ptr()),
		jen.Id("rows").Index().Int(),
		jen.List(jen.Id("j0"), jen.Id("fj"), jen.Id("dj")).Int(),
		jen.Id("stores").Id("tileStores"),
	).Block(
		jen.If(jen.Id(tilesName(w)+"Tail").Call(jen.Id("d"), jen.Id("src"), jen.Id("rows"), times(jen.Id("j0"), w.Size), jen.Id("fj"), times(jen.Id("dj"), w.Size))).Block(jen.Return()),
		jen.Id("fi").Op(":=").Len(jen.Id("rows")).Op("/").Lit(w.TileI),
		jen.If(jen.Id("fi").Op(">").Lit(0)).Block(
			jen.Id(tilesName(w)).Call(jen.Id("d"), jen.Id("src"), ptr().Call(jen.Op("&").Id("rows").Index(jen.Lit(0))), times(jen.Id("j0"), w.Size), jen.Id("fi"), jen.Id("fj"), times(jen.Id("dj"), w.Size), jen.Id("stores")),
		),
		jen.Id(edgeName(w)).Call(jen.Id("d"), jen.Id("src"), jen.Id("rows"), jen.Id("j0"), jen.Id("fi").Op("*").Lit(w.TileI), jen.Len(jen.Id("rows")), jen.Lit(0), jen.Id("fj").Op("*").Lit(w.TileJ), jen.Id("dj")),
	)
}

// emitEdge emits the scalar transpose of the part of a block outside whole
// tiles:
//
//	func edgeUint32(d, src unsafe.Pointer, rows []int, j0, i0, i1, j1, j2, dj int) {
//		for j := j1; j < j2; j++ {
//			for i := i0; i < i1; i++ {
//				*(*uint32)(unsafe.Add(d, (j*dj+i)*4)) = *(*uint32)(unsafe.Add(src, rows[i]+(j0+j)*4))
//			}
//		}
//	}
func emitEdge(w width) jen.Code {
	name := edgeName(w)
	return jen.Add(doc(
		fmt.Sprintf("%s transposes rows [i0, i1) and columns [j1, j2) of the block of", name),
		"rows (source rows, as byte offsets from src) and columns from j0 into the",
		"block at d, one element at a time (see "+transposeName(w)+").",
	)).Line().Func().Id(name).Params(
		jen.List(jen.Id("d"), jen.Id("src")).Add(ptr()),
		jen.Id("rows").Index().Int(),
		jen.List(jen.Id("j0"), jen.Id("i0"), jen.Id("i1"), jen.Id("j1"), jen.Id("j2"), jen.Id("dj")).Int(),
	).Block(
		jen.For(jen.Id("j").Op(":=").Id("j1"), jen.Id("j").Op("<").Id("j2"), jen.Id("j").Op("++")).Block(
			jen.For(jen.Id("i").Op(":=").Id("i0"), jen.Id("i").Op("<").Id("i1"), jen.Id("i").Op("++")).Block(
				deref(w, add(jen.Id("d"), times(jen.Parens(jen.Id("j").Op("*").Id("dj").Op("+").Id("i")), w.Size))).Op("=").
					Add(deref(w, add(jen.Id("src"), jen.Id("rows").Index(jen.Id("i")).Op("+").Add(times(jen.Parens(jen.Id("j0").Op("+").Id("j")), w.Size))))),
			),
		),
	)
}

// rowParamsGo are the parameters of a Go row copy: those of rowParams and
// stream.
func rowParamsGo() []jen.Code {
	return []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()), jen.List(jen.Id("planes"), jen.Id("planeStride"), jen.Id("rows"), jen.Id("rowBytes"), jen.Id("srcStride")).Int(), jen.Id("stream").Bool()}
}

// rowArgs pass a row copy's parameters on to the assembly, which has no
// stream parameter (its name says which stores it makes).
func rowArgs() []jen.Code {
	return []jen.Code{jen.Id("dst"), jen.Id("src"), jen.Id("planes"), jen.Id("planeStride"), jen.Id("rows"), jen.Id("rowBytes"), jen.Id("srcStride")}
}

// runParamsGo are the parameters of a Go run copy: those of runParams and
// stream.
func runParamsGo() []jen.Code {
	return []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()), jen.Id("n").Int(), jen.Id("stream").Bool()}
}

// runPiece is the largest copy() of a cached run in copyRunGo: below the 1 MiB
// at which the runtime's memmove switches to non-temporal stores on amd64
// (runtime/memmove_amd64.s), which would send a run that fits the cache to
// memory. copy() in 512 KiB pieces moved 4 MiB at 76-95 GB/s on the 2-vCPU
// EPYC VM where one copy() moved it at 66-72.
const runPiece = 512 << 10

// emitCopyRunGo emits the Go run copy:
//
//	func copyRunGo(dst, src unsafe.Pointer, n int, stream bool) {
//		piece := n
//		if !stream {
//			piece = 524288
//		}
//		for o := 0; o < n; o += piece {
//			m := min(piece, n-o)
//			copy(unsafe.Slice((*byte)(unsafe.Add(dst, o)), m), unsafe.Slice((*byte)(unsafe.Add(src, o)), m))
//		}
//	}
func emitCopyRunGo() jen.Code {
	slice := func(p string) jen.Code {
		return jen.Qual("unsafe", "Slice").Call(jen.Parens(jen.Op("*").Byte()).Parens(add(jen.Id(p), jen.Id("o"))), jen.Id("m"))
	}
	return jen.Add(doc(
		"copyRunGo copies n bytes from src to dst with copy(): in one call when",
		"stream, in pieces under the size at which the runtime's memmove switches",
		fmt.Sprintf("to non-temporal stores on amd64 (1 MiB) otherwise: %d KiB, which keep a", runPiece>>10),
		"run that fits the cache in the cache. dst and src must not overlap.",
	)).Line().Func().Id("copyRunGo").Params(runParamsGo()...).Block(
		jen.Id("piece").Op(":=").Id("n"),
		jen.If(jen.Op("!").Id("stream")).Block(jen.Id("piece").Op("=").Lit(runPiece)),
		jen.For(jen.Id("o").Op(":=").Lit(0), jen.Id("o").Op("<").Id("n"), jen.Id("o").Op("+=").Id("piece")).Block(
			jen.Id("m").Op(":=").Min(jen.Id("piece"), jen.Id("n").Op("-").Id("o")),
			jen.Copy(slice("dst"), slice("src")),
		),
	)
}

// unalignedArchs are the architectures whose loads and stores of 2, 4 and 8
// bytes may start at any address, at the speed of aligned ones: there the
// Go row copy moves short rows with such loads (rowsFastFile); everywhere
// else (mips, 32-bit arm, riscv64, wasm, ...), where an unaligned load
// faults or traps into a slow emulation, it moves them a byte at a time
// (rowsSafeFile).
var unalignedArchs = []string{"amd64", "arm64", "ppc64le", "s390x"}

// unalignedConstraint is the build constraint of rowsFastFile.
func unalignedConstraint() string { return strings.Join(unalignedArchs, " || ") }

// The files of the two forms of copyRowsGo, picked by build constraint.
const (
	rowsFastFile = "rows_unaligned.go"
	rowsSafeFile = "rows_aligned.go"
)

// renderRowsGo renders the file of one form of copyRowsGo: with unaligned
// loads of short rows where unalignedArchs allow them, byte by byte
// otherwise.
func renderRowsGo(maxRank int, unaligned bool) *jen.File {
	if unaligned {
		f := newFile(maxRank, "The Go row copy where unaligned loads are legal and fast.")
		f.HeaderComment("//go:build " + unalignedConstraint())
		f.Add(emitCopyRowsGo())
		f.Add(emitCopyRowsWalkGo(true))
		return f
	}
	f := newFile(maxRank, "The Go row copy for architectures that need aligned loads.")
	f.HeaderComment("//go:build !(" + unalignedConstraint() + ")")
	f.Add(emitCopyRowsGo())
	f.Add(emitCopyRowsWalkGo(false))
	return f
}

// shortRows lists the carriers of the Go row copy's short rows, where
// unaligned loads are allowed: a row of Size..2*Size-1 bytes moves as two
// loads and two stores of Carrier, the second pair ending the row
// (overlapping the first unless the row is exactly Size bytes).
var shortRows = []struct {
	Carrier string
	Size    int
}{{"uint64", 8}, {"uint32", 4}, {"uint16", 2}}

// emitCopyRowsGo emits the Go row copy, which picks the order of the rows
// and hands them to copyRowsWalkGo:
//
//	func copyRowsGo(dst, src unsafe.Pointer, planes, planeStride, rows, rowBytes, srcStride int, stream bool) {
//		if stream && rowBytes >= 16 && planes > 1 && max(planeStride, -planeStride) < max(srcStride, -srcStride) {
//			copyRowsWalkGo(dst, src, rows, srcStride, rowBytes, planes, planeStride, rows*rowBytes, rowBytes, stream)
//			return
//		}
//		copyRowsWalkGo(dst, src, planes, planeStride, rows*rowBytes, rows, srcStride, rowBytes, rowBytes, stream)
//	}
//
// Beyond the cache (stream), when the planes lie closer together in the
// source than the rows, it walks the planes inside the rows, as
// copyRowsStream does for the assembly: the reads then go through the
// source in order, which the CPU's prefetchers follow. On the 2-vCPU EPYC
// VM (-tags purego, 64 MiB, rows 1 KiB apart, planes 64 rows of 64 bytes
// apart: the heads case) that took uint8 from 14.3 to 11.6 ms and bfloat16
// from 9.1 to 7.9 ms; in the cache the two orders measured the same.
func emitCopyRowsGo() jen.Code {
	id := jen.Id
	abs := func(e string) *jen.Statement { return jen.Max(id(e), jen.Op("-").Id(e)) }
	walk := func(args ...jen.Code) *jen.Statement {
		return id("copyRowsWalkGo").Call(append(append([]jen.Code{id("dst"), id("src")}, args...), id("rowBytes"), id("stream"))...)
	}
	return jen.Add(doc(append([]string{
		"copyRowsGo is the Go form of the row copy, for rows of any length rowBytes >= 1.",
		"With stream, when the planes lie closer together in the source than the rows,",
		"it walks the planes inside the rows, so that the reads go through the source",
		"in order; otherwise it walks the destination in order. copyRowsWalkGo moves",
		"the rows. It is the plain loop",
		"",
	}, rowsLoopDoc...)...)).Line().Func().Id("copyRowsGo").Params(rowParamsGo()...).Block(
		jen.If(id("stream").Op("&&").Id("rowBytes").Op(">=").Lit(16).Op("&&").Id("planes").Op(">").Lit(1).Op("&&").Add(abs("planeStride")).Op("<").Add(abs("srcStride"))).Block(
			walk(id("rows"), id("srcStride"), id("rowBytes"), id("planes"), id("planeStride"), id("rows").Op("*").Id("rowBytes")),
			jen.Return(),
		),
		walk(id("planes"), id("planeStride"), id("rows").Op("*").Id("rowBytes"), id("rows"), id("srcStride"), id("rowBytes")),
	)
}

// emitCopyRowsWalkGo emits the loops of the Go row copy, in the order
// copyRowsGo picks:
//
//	func copyRowsWalkGo(dst, src unsafe.Pointer, outer, outerSrc, outerDst, inner, innerSrc, innerDst, rowBytes int, stream bool) {
//		for p := 0; p < outer; p++ {
//			d, o := p*outerDst, p*outerSrc
//			switch {
//			case rowBytes > 2048:
//				for r := 0; r < inner; r++ {
//					copyRun(unsafe.Add(dst, d), unsafe.Add(src, o), rowBytes, stream)
//					d, o = d+innerDst, o+innerSrc
//				}
//			case rowBytes >= 16:
//				for r := 0; r < inner; r++ {
//					copy(unsafe.Slice((*byte)(unsafe.Add(dst, d)), rowBytes), unsafe.Slice((*byte)(unsafe.Add(src, o)), rowBytes))
//					d, o = d+innerDst, o+innerSrc
//				}
//			case rowBytes >= 8:
//				for r := 0; r < inner; r++ {
//					a, b := *(*uint64)(unsafe.Add(src, o)), *(*uint64)(unsafe.Add(src, o+rowBytes-8))
//					*(*uint64)(unsafe.Add(dst, d)), *(*uint64)(unsafe.Add(dst, d+rowBytes-8)) = a, b
//					d, o = d+innerDst, o+innerSrc
//				}
//		...
//		}
//	}
//
// Without unaligned, rows under 16 bytes move a byte at a time instead:
//
//	default:
//		for r := 0; r < inner; r++ {
//			dr, sr := unsafe.Slice((*byte)(unsafe.Add(dst, d)), rowBytes), unsafe.Slice((*byte)(unsafe.Add(src, o)), rowBytes)
//			for k := range dr {
//				dr[k] = sr[k]
//			}
//			d, o = d+innerDst, o+innerSrc
//		}
//
// With unaligned, rows of 16 to 128 bytes move as 16-byte arrays, straight
// through (see midRows), not with a copy() call each:
//
//	case rowBytes >= 16 && rowBytes <= 64:
//		e := rowBytes - 16
//		for r := 0; r < inner; r++ {
//			s, t := unsafe.Add(src, o), unsafe.Add(dst, d)
//			*(*[16]byte)(unsafe.Add(t, 0)) = *(*[16]byte)(unsafe.Add(s, 0))
//			*(*[16]byte)(unsafe.Add(t, 16)) = *(*[16]byte)(unsafe.Add(s, 16))
//			*(*[16]byte)(unsafe.Add(t, e-16)) = *(*[16]byte)(unsafe.Add(s, e-16))
//			*(*[16]byte)(unsafe.Add(t, e)) = *(*[16]byte)(unsafe.Add(s, e))
//			d, o = d+innerDst, o+innerSrc
//		}
//
// Rows of 16 to 128 bytes moved as 8-byte words in a loop in place of a
// copy() call measured slower on the 2-vCPU EPYC VM (-tags purego, heads
// bfloat16, rows of 128 bytes: 4 MiB 224 against 323 µs, 64 MiB 7.9 against
// 11.3 ms), and so did a loop of 16-byte moves for rows of 128 and 256
// bytes (heads bfloat16 and float32 at 1-4 MiB: 0.59-0.75 of the ceiling
// down to 0.44-0.49); only the straight form wins.
func emitCopyRowsWalkGo(unaligned bool) jen.Code {
	// Offsets, not advanced pointers: a pointer past the last row would
	// point outside the buffers (checkptr rejects it).
	step := jen.List(jen.Id("d"), jen.Id("o")).Op("=").List(jen.Id("d").Op("+").Id("innerDst"), jen.Id("o").Op("+").Id("innerSrc"))
	loop := func(body ...jen.Code) jen.Code {
		return jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Id("inner"), jen.Id("r").Op("++")).Block(append(body, step)...)
	}
	at := func(p, off string) *jen.Statement { return add(jen.Id(p), jen.Id(off)) }
	slice := func(p, off string) jen.Code {
		return jen.Qual("unsafe", "Slice").Call(jen.Parens(jen.Op("*").Byte()).Parens(at(p, off)), jen.Id("rowBytes"))
	}
	cases := []jen.Code{
		jen.Case(jen.Id("rowBytes").Op(">").Lit(rowsAsmMax)).Block(loop(jen.Id("copyRun").Call(at("dst", "d"), at("src", "o"), jen.Id("rowBytes"), jen.Id("stream")))),
		jen.Case(jen.Id("rowBytes").Op(">=").Lit(16)).Block(loop(jen.Copy(slice("dst", "d"), slice("src", "o")))),
	}
	from16 := "per row from 16"
	short := []string{"bytes, two overlapping loads and stores below that (a copy() call costs more", "than the move of a short row). It is the plain loop"}
	if unaligned {
		var mid []jen.Code
		for _, m := range midRows {
			mid = append(mid, jen.Case(jen.Id("rowBytes").Op(">=").Lit(16).Op("&&").Id("rowBytes").Op("<=").Lit(m)).Block(
				jen.Id("e").Op(":=").Id("rowBytes").Op("-").Lit(16),
				loop(append([]jen.Code{jen.List(jen.Id("s"), jen.Id("t")).Op(":=").List(at("src", "o"), at("dst", "d"))}, midMoves(m)...)...),
			))
		}
		cases = slices.Insert(cases, 1, mid...) // after the copyRun rows, before copy()
		from16 = fmt.Sprintf("per row above %d bytes, 16-byte moves from 16", midRows[len(midRows)-1])
		for _, sr := range shortRows {
			w := width{Carrier: sr.Carrier}
			tail := func(off string) jen.Code { return jen.Id(off).Op("+").Id("rowBytes").Op("-").Lit(sr.Size) }
			cases = append(cases, jen.Case(jen.Id("rowBytes").Op(">=").Lit(sr.Size)).Block(loop(
				jen.List(jen.Id("a"), jen.Id("b")).Op(":=").List(deref(w, at("src", "o")), deref(w, add(jen.Id("src"), tail("o")))),
				jen.List(deref(w, at("dst", "d")), deref(w, add(jen.Id("dst"), tail("d")))).Op("=").List(jen.Id("a"), jen.Id("b")),
			)))
		}
		cases = append(cases, jen.Default().Block(loop(
			jen.Op("*").Parens(jen.Op("*").Byte()).Parens(at("dst", "d")).Op("=").Op("*").Parens(jen.Op("*").Byte()).Parens(at("src", "o")),
		)))
	} else {
		short = []string{"bytes, a byte at a time below that: a row may start at any address, and this", "architecture faults on (or emulates) unaligned wider loads. It is the plain loop"}
		cases = append(cases, jen.Default().Block(loop(
			jen.List(jen.Id("dr"), jen.Id("sr")).Op(":=").List(slice("dst", "d"), slice("src", "o")),
			jen.For(jen.Id("k").Op(":=").Range().Id("dr")).Block(jen.Id("dr").Index(jen.Id("k")).Op("=").Id("sr").Index(jen.Id("k"))),
		)))
	}
	params := []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()), jen.List(jen.Id("outer"), jen.Id("outerSrc"), jen.Id("outerDst"), jen.Id("inner"), jen.Id("innerSrc"), jen.Id("innerDst"), jen.Id("rowBytes")).Int(), jen.Id("stream").Bool()}
	return jen.Add(doc(
		"copyRowsWalkGo copies outer × inner rows of rowBytes >= 1 bytes, in the order",
		"copyRowsGo picks: copyRun per row above "+fmt.Sprint(rowsAsmMax)+" bytes (it honours stream), copy()",
		from16+" "+short[0], short[1],
		"",
		"\tfor p := 0; p < outer; p++ {",
		"\t\tfor r := 0; r < inner; r++ {",
		"\t\t\tcopy(dst[p*outerDst+r*innerDst:][:rowBytes], src[p*outerSrc+r*innerSrc:][:rowBytes])",
		"\t\t}",
		"\t}",
	)).Line().Func().Id("copyRowsWalkGo").Params(params...).Block(
		jen.For(jen.Id("p").Op(":=").Lit(0), jen.Id("p").Op("<").Id("outer"), jen.Id("p").Op("++")).Block(
			jen.List(jen.Id("d"), jen.Id("o")).Op(":=").List(jen.Id("p").Op("*").Id("outerDst"), jen.Id("p").Op("*").Id("outerSrc")),
			jen.Switch().Block(cases...),
		),
	)
}

// midRows are the longest rows of each class the Go row copy moves as
// 16-byte arrays where unaligned loads are allowed: a row of m/2..m bytes
// (16..32 for the first) takes m/16 moves, half from its start and half
// ending at its end, which overlap unless the row is m bytes. On amd64 the
// compiler makes a [16]byte move one MOVUPS load and store (arrays from 32
// bytes call memmove), on arm64 one LDP and STP. Against a copy() call per
// row, on the 2-vCPU EPYC VM (-tags purego, x-ceiling, medians of 3
// interleaved rounds): shortrows (rows of 16 elements) at 1-4 MiB uint8
// 0.14-0.15 to 0.38-0.40, bfloat16 0.25-0.28 to 0.59-0.63, float32 0.41 to
// 0.65-0.71, float64 0.61 to 0.67-0.71; at 64 MiB uint8 0.29 to 0.60;
// heads (rows of 64 elements) uint8 0.42-0.45 to 0.60-0.66 and at 64 MiB
// 0.36 to 0.62, bfloat16 0.60-0.61 to 0.64-0.69 and 0.51 to 0.68. A class
// of 256 bytes (16 moves) measured within the noise of copy() (heads
// float32, 0.62-0.70 against 0.63-0.75), so longer rows keep copy().
var midRows = []int{32, 64, 128}

// midMoves is the straight-line body that moves one row of m/2..m bytes
// from s to t in midRows' 16-byte moves (e is the row's length less 16).
func midMoves(m int) []jen.Code {
	k := m / 16
	offs := make([]jen.Code, 0, k)
	for i := 0; i < k/2; i++ {
		offs = append(offs, jen.Lit(16*i))
	}
	for i := k/2 - 1; i >= 0; i-- {
		if i == 0 {
			offs = append(offs, jen.Id("e"))
		} else {
			offs = append(offs, jen.Id("e").Op("-").Lit(16*i))
		}
	}
	moves := make([]jen.Code, len(offs))
	for i, off := range offs {
		mv := func(p string) *jen.Statement {
			return jen.Op("*").Parens(jen.Op("*").Index(jen.Lit(16)).Byte()).Parens(jen.Qual("unsafe", "Add").Call(jen.Id(p), off))
		}
		moves[i] = mv("t").Op("=").Add(mv("s"))
	}
	return moves
}

// rowsAsmMax is the longest row copyRows hands to copyRowsAVX2; longer rows
// go to copyRun one at a time, whose long-copy paths win there.
const rowsAsmMax = 2048

// emitCopyRowsStream emits the choice of loop order for the non-temporal
// row copy: the planes inside the rows when they lie closer together in
// the source, so that the reads walk the source in order:
//
//	func copyRowsStream(dst, src unsafe.Pointer, planes, planeStride, rows, rowBytes, srcStride int) {
//		if planes > 1 && rowBytes%64 == 0 && abs(planeStride) < abs(srcStride) {
//			copyRowsStreamAVX2(dst, src, rows, srcStride, rowBytes, planes, planeStride, rows*rowBytes, rowBytes)
//			return
//		}
//		copyRowsStreamAVX2(dst, src, planes, planeStride, rows*rowBytes, rows, srcStride, rowBytes, rowBytes)
//	}
//
// The destination order reads rows source streams at once, one per row of a
// plane; the source order writes planes destination streams, which
// non-temporal stores of whole lines take well. On the 2-vCPU EPYC VM, rows
// of 256 bytes from [64 rows 4 KiB apart] × [16 planes 256 bytes apart]
// (the mixed5d case) moved 16.8 MB at 37 GB/s in destination order and 52 in
// source order, where copy() ran at 50. The source order needs rows of whole
// lines: with half lines, consecutive stores would leave half-filled lines
// in the write-combining buffers.
func emitCopyRowsStream() jen.Code {
	abs := func(e jen.Code) *jen.Statement {
		return jen.Max(e, jen.Op("-").Add(e))
	}
	id := jen.Id
	return jen.Add(doc(
		"copyRowsStream copies rows like copyRowsAVX2 with non-temporal stores, walking",
		"the planes inside the rows when they lie closer together in the source (see",
		"copyRowsStreamAVX2). It needs what copyRowsStreamAVX2 needs.",
	)).Line().Func().Id("copyRowsStream").Params(rowParamsGo()[:2]...).Block(
		jen.If(id("planes").Op(">").Lit(1).Op("&&").Id("rowBytes").Op("%").Lit(64).Op("==").Lit(0).Op("&&").Add(abs(id("planeStride"))).Op("<").Add(abs(id("srcStride")))).Block(
			id("copyRowsStreamAVX2").Call(id("dst"), id("src"), id("rows"), id("srcStride"), id("rowBytes"), id("planes"), id("planeStride"), id("rows").Op("*").Id("rowBytes"), id("rowBytes")),
			jen.Return(),
		),
		id("copyRowsStreamAVX2").Call(id("dst"), id("src"), id("planes"), id("planeStride"), id("rows").Op("*").Id("rowBytes"), id("rows"), id("srcStride"), id("rowBytes"), id("rowBytes")),
	)
}

// streamRunMin is the shortest run copyRunStreamAVX2 takes: its head and
// tail moves need 64 bytes.
const streamRunMin = 64

// stringRunMin is the shortest run copyRunERMS takes. Below 16 KiB,
// memmove's inline vector moves were as fast or faster on the 2-vCPU EPYC VM
// (2 KiB: 192 against 172 GB/s; 8 KiB: 189 against 178), from 32 KiB REP
// MOVSB won (258 against 158).
const stringRunMin = 16 << 10

// renderAccel renders the file that picks, for the tiles of every width and
// for the row copy, the assembly or the Go fallback. On amd64 without the
// purego tag it declares the assembly's stubs and picks at run time from
// Accelerated; elsewhere the Go fallback is all there is.
//
//	func tilesUint32(dst, src unsafe.Pointer, ti, tj, si, dj int) {
//		if Accelerated {
//			tilesUint32AVX2(dst, src, ti, tj, si, dj)
//			return
//		}
//		tilesUint32Go(dst, src, ti, tj, si, dj)
//	}
//
// On amd64, copyRows sends rows shorter than a line beyond the cache
// (stream) to copyRowsGo: its 16-byte moves with ordinary stores, walking
// the source in order (see emitCopyRowsGo), against copyRowsAVX2 for rows of
// 16 bytes and copyRowsStream's non-temporal half lines for rows of 32, on
// the 2-vCPU EPYC VM (x-ceiling, medians of 3 interleaved rounds of 8x):
// shortrows uint8 (16 bytes) 0.41 to 0.47 at 16 MiB, 0.44 to 0.59 at 64;
// bfloat16 (32 bytes) 0.45 to 0.51 and 0.54 to 0.61; mixed6d uint8 (32
// bytes) 0.25 to 0.48 and 0.36 to 0.46. Rows of 64-128 bytes the same way
// lost 30-45% (heads and mixed5d, uint8 and bfloat16), so they stay.
func renderAccel(maxRank int, b *backend) *jen.File {
	asm := b != nil && b.Arch == "amd64"  // the AVX2 kernels
	neon := b != nil && b.Arch == "arm64" // the NEON kernels
	var f *jen.File
	build := otherBuild()
	if b != nil {
		f = newFile(maxRank, fmt.Sprintf("The %s assembly (accel_%s.s) and the choice between it and the Go fallback.", b.Arch, b.Arch))
		f.HeaderComment("//go:build " + b.constraint())
		build = *b
	} else {
		f = newFile(maxRank, "Without assembly, the Go fallback of every accelerated kernel.")
		f.HeaderComment("//go:build " + otherConstraint())
	}
	f.Add(doc("cacheLine is the cache line, in bytes, that the blocks of the transposes",
		"take one source line of columns of (see the backends in gen/backend.go)."))
	f.Const().Id("cacheLine").Op("=").Lit(build.CacheLine)
	f.Add(doc("streamRows, where not 0, is the most destination rows, and so columns, of",
		"a block of a streamed transpose (see the backends in gen/backend.go)."))
	f.Const().Id("streamRows").Op("=").Lit(build.StreamRows)
	f.Add(emitAlignedBands(asm))
	f.Add(emitAheadBands(asm))
	f.Add(doc("A blocked transpose writes through a buffer (see crowded) when the",
		"destination rows of one block, more than crowdWays, fall into too few",
		"sets of the L1 data cache and its destination spans fewer bytes than",
		"crowdSpans has for its element size (see the backends in gen/backend.go)."))
	f.Const().Id("crowdWays").Op("=").Lit(build.Crowd.Ways)
	f.Add(doc("crowdSpans is, by element size, the destination span in bytes from which",
		"a crowded transpose no longer buffers: 0 for the sizes that never do."))
	f.Var().Id("crowdSpans").Op("=").Add(spanTable(build.Crowd.Sizes))
	f.Add(doc("straddledSpans is crowdSpans where AMDTuned is false, for destination",
		"rows that are not whole lines apart (rows whole lines apart never buffer",
		"there; see crowded and the backends in gen/backend.go)."))
	f.Var().Id("straddledSpans").Op("=").Add(spanTable(build.Crowd.Straddled))
	f.Add(doc("unalignedSpans is, by element size, the destination span in bytes from",
		"which a transpose into rows that are not whole lines apart buffers where",
		"AMDTuned is false, in blocks of tallRows (see crowded and the",
		"backends in gen/backend.go): math.MaxInt for the sizes that never do."))
	f.Var().Id("unalignedSpans").Op("=").Add(fromTable(build.Crowd.Unaligned))
	f.Add(doc("streamCrowd is, by element size, whether a streamed transpose into",
		"destination rows that are not whole aligned lines writes through the",
		"buffer (see streamCrowded and the backends in gen/backend.go)."))
	f.Var().Id("streamCrowd").Op("=").Add(sizeTable(build.Crowd.Streamed))
	f.Add(doc("tallStreamCrowd is streamCrowd where AMDTuned is false, for the sizes",
		"that buffer there alone (see streamCrowded and the backends in",
		"gen/backend.go)."))
	f.Var().Id("tallStreamCrowd").Op("=").Add(sizeTable(build.Crowd.StreamedTall))
	f.Add(doc("alignedStreamCrowd is, by element size, whether a streamed transpose",
		"into rows of whole aligned lines writes through the buffer where AMDTuned",
		"is false and the AVX2 tiles run; alignedStreamCrowd512 where the AVX-512",
		"tiles run (see streamCrowded and the backends in gen/backend.go)."))
	f.Var().Id("alignedStreamCrowd").Op("=").Add(sizeTable(build.Crowd.StreamedAligned))
	f.Var().Id("alignedStreamCrowd512").Op("=").Add(sizeTable(build.Crowd.StreamedAligned512))
	f.Add(doc("convStreamCrowd is whether the converting transposes write through the",
		"buffer beyond the cache, with the assembly, whatever their rows but where",
		"their AVX-512 tiles stream whole aligned lines (see ConvStreamCrowds and",
		"the backends in gen/backend.go)."))
	f.Const().Id("convStreamCrowd").Op("=").Lit(build.Crowd.StreamedConv)
	f.Add(doc("packRows is, by element size, the source rows of a whole band of the",
		"tiles that have a Packed form in this build (see packs): 0 for the sizes",
		"without one."))
	f.Var().Id("packRows").Op("=").Index(jen.Lit(9)).Int().ValuesFunc(func(g *jen.Group) {
		for _, w := range widths {
			if asm && avx512Packs[w.Size] {
				tl := tileOf(w)
				g.Lit(w.Size).Op(":").Lit(tl.bands() * tl.tileI)
			}
		}
	})
	if neon {
		f.Add(doc("Accelerated reports whether the NEON assembly runs: true on arm64, whose",
			"CPUs all have NEON, unless built with the purego tag. Tests set it to false",
			"to run the Go fallback on the same machine; nothing else should change it."))
		f.Var().Id("Accelerated").Op("=").True()
		f.Add(doc("FastStrings reports whether REP MOVSB copies long runs: never on arm64."))
		f.Var().Id("FastStrings").Op("=").False()
		f.Add(doc("AVX512 reports whether the tile transposes use AVX-512: never on arm64."))
		f.Var().Id("AVX512").Op("=").False()
		f.Add(doc("AMDTuned reports whether the AVX-512 kernels follow the choices measured",
			"on AMD's CPUs: it takes effect only where AVX512, never on arm64."))
		f.Var().Id("AMDTuned").Op("=").True()
	}
	if b != nil {
		for _, af := range b.Funcs() {
			var params []jen.Code
			for _, p := range af.Params {
				t := jen.Int()
				if p.Pointer {
					t = ptr()
				}
				params = append(params, jen.Id(p.Name).Add(t))
			}
			f.Add(doc(af.Doc...)).Line().Comment("//go:noescape").Line().Func().Id(af.Name).Params(params...)
		}
	}
	if asm {
		f.Add(doc("Accelerated reports whether the AVX2 assembly runs: true on amd64 CPUs with",
			"AVX2 unless built with the purego tag. Tests set it to false to run the Go",
			"fallback on the same machine; nothing else should change it."))
		f.Var().Id("Accelerated").Op("=").Qual("golang.org/x/sys/cpu", "X86").Dot("HasAVX2")
		f.Add(doc("FastStrings reports whether REP MOVSB (copyRunERMS) is the cached copy of",
			"long runs: on CPUs with ERMS and FSRM (Intel since Ice Lake, AMD since Zen 3).",
			"On the 2-vCPU EPYC VM it moved 32 KiB-4 MiB at 1.1-1.6× the speed of",
			"copy() and of a 32-byte AVX2 loop, and beyond the cache as fast as",
			"non-temporal stores. It takes effect only where Accelerated; tests set it",
			"to false to run the other path."))
		f.Var().Id("FastStrings").Op("=").Qual("golang.org/x/sys/cpu", "X86").Dot("HasERMS").Op("&&").Id("hasFSRM").Call()
		f.Add(doc("AVX512 reports whether the tile transposes use AVX-512 (asm_avx512.go in",
			"gen): on CPUs with AVX-512 F, BW, VL and VBMI, and BMI2, whose OS saves the",
			"ZMM state (see avx512Needs in gen). It takes effect only where Accelerated;",
			"tests set it to false to run the AVX2 tiles on the same machine; nothing",
			"else should change it."))
		x86 := func(f string) *jen.Statement { return jen.Qual("golang.org/x/sys/cpu", "X86").Dot(f) }
		check := x86("Has" + avx512Needs[0])
		for _, n := range avx512Needs[1:] {
			check = check.Op("&&").Add(x86("Has" + n))
		}
		f.Var().Id("AVX512").Op("=").Add(check)
		f.Add(doc("AMDTuned reports whether the AVX-512 kernels follow the choices measured",
			"on AMD's Zen 5 rather than those measured on an Intel Xeon, where the two",
			"differ: on the first, rows that crowd the L1 cache's sets go through a",
			"CrowdBuffer (destination rows, crowded; source rows, packs), which won",
			"1.1-2× there, and 8-byte elements take the AVX-512 tiles everywhere; on",
			"the second, without the buffer they ran 1.1-1.5× as fast, so rows whole",
			"lines apart go straight to the destination and nothing packs, and 8-byte",
			"elements take the AVX-512 tiles only into whole aligned lines (1.05-1.5×;",
			"see avx512Straight in gen). It is VendorAMD at start and takes effect only",
			"where AVX512; tests and benchmarks set it to run both; nothing else",
			"should change it."))
		f.Var().Id("AMDTuned").Op("=").Id("VendorAMD").Call()
		f.Add(doc("hasF16C reports whether the CPU converts float16 (VCVTPH2PS, VCVTPS2PH), which",
			"the float16 conversions need besides AVX2."))
		f.Var().Id("hasF16C").Op("=").Qual("golang.org/x/sys/cpu", "X86").Dot("HasF16C")
		f.Add(doc("hasFSRM reports whether the CPU has fast short REP MOVSB (CPUID leaf 7,",
			"EDX bit 4). Only called where ERMS, from the same leaf, is known."))
		f.Func().Id("hasFSRM").Params().Bool().Block(
			jen.List(jen.Id("_"), jen.Id("_"), jen.Id("_"), jen.Id("edx"), jen.Id("_")).Op(":=").Id("CPUID").Call(jen.Lit(7), jen.Lit(0)),
			jen.Return(jen.Id("edx").Op("&").Parens(jen.Lit(1).Op("<<").Lit(4)).Op("!=").Lit(0)),
		)
	} else if !neon {
		f.Add(doc("Accelerated reports whether assembly kernels run: never in this build."))
		f.Var().Id("Accelerated").Op("=").False()
		f.Add(doc("FastStrings reports whether REP MOVSB copies long runs: never in this build."))
		f.Var().Id("FastStrings").Op("=").False()
		f.Add(doc("AVX512 reports whether the tile transposes use AVX-512: never in this build."))
		f.Var().Id("AVX512").Op("=").False()
		f.Add(doc("AMDTuned reports whether the AVX-512 kernels follow the choices measured",
			"on AMD's CPUs: it takes effect only where AVX512, never in this build."))
		f.Var().Id("AMDTuned").Op("=").True()
	}
	cpuidDoc := []string{
		"CPUID returns EAX, EBX, ECX and EDX of the CPUID instruction for leaf and",
		"subleaf sub, and ok = true, on amd64; elsewhere, and in the purego build,",
		"zeros and ok = false. The caller checks that the leaf exists (leaf 0 and",
		"0x80000000 give the highest of each range).",
	}
	regs := []jen.Code{jen.Id("eax"), jen.Id("ebx"), jen.Id("ecx"), jen.Id("edx")}
	sig := func() *jen.Statement {
		return jen.Func().Id("CPUID").Params(jen.List(jen.Id("leaf"), jen.Id("sub")).Uint32()).Params(jen.List(regs...).Uint32(), jen.Id("ok").Bool())
	}
	fenceDoc := []string{
		"StreamFence makes the non-temporal stores of the streamed transposes",
		"(TransposeRows and ConvTransposeRows with stream) before it visible to",
		"other cores before any store after it. Those kernels leave their stores",
		"unfenced so that a copy fences once, not once a block: a goroutine calls",
		"it after its last streamed call and before it hands the result on. (A",
		"goroutine that moves to another thread in between goes through the",
		"scheduler's locked instructions, which order its earlier stores too.)",
	}
	if asm {
		f.Add(doc(append(fenceDoc, "On amd64 it is SFENCE.")...)).Line().Func().Id("StreamFence").Params().Block(jen.Id("fenceStores").Call())
	} else {
		f.Add(doc(append(fenceDoc, "This build has no non-temporal stores: it does nothing.")...)).Line().Func().Id("StreamFence").Params().Block()
	}
	if asm {
		f.Add(doc(cpuidDoc...)).Line().Add(sig()).Block(
			jen.Var().Id("r").Index(jen.Lit(4)).Uint32(),
			jen.Id("cpuid").Call(jen.Int().Call(jen.Id("leaf")), jen.Int().Call(jen.Id("sub")), ptr().Call(jen.Op("&").Id("r"))),
			jen.Return(jen.Id("r").Index(jen.Lit(0)), jen.Id("r").Index(jen.Lit(1)), jen.Id("r").Index(jen.Lit(2)), jen.Id("r").Index(jen.Lit(3)), jen.True()),
		)
	} else {
		f.Add(doc(cpuidDoc...)).Line().Add(sig()).Block(
			jen.Return(jen.Lit(0), jen.Lit(0), jen.Lit(0), jen.Lit(0), jen.False()),
		)
	}
	for _, w := range widths {
		call := jen.Id(tilesName(w) + "Go").Call(tileArgs()...)
		if goFar(w) {
			call = jen.Id(tilesName(w) + "Go").Call(append(tileArgs(), jen.Id("stores").Op("!=").Id("cachedTiles"))...)
		}
		var body []jen.Code
		tilesDoc := []string{fmt.Sprintf("%s transposes whole tiles (see %sGo) with the fastest", tilesName(w), tilesName(w)),
			"kernel this build and CPU have, in the form that stores asks for (see",
			"tileStores).",
			"This build has one form and ignores it."}
		if goFar(w) {
			tilesDoc[3] = fmt.Sprintf("This build's Go form takes another form unless stores is cachedTiles (see %sGo).", tilesName(w))
		}
		if b != nil {
			// pick returns the call of the kernel with suffix isa, in the
			// form stores asks for where the backend has forms.
			pick := func(isa string) jen.Code {
				if !asm {
					return jen.Id(tilesName(w) + isa).Call(tileArgs()...)
				}
				set := formSet{}
				if isa == "AVX512" {
					set = avx512Forms(w)
				}
				return formSwitch(tilesName(w), isa, set)
			}
			var accel []jen.Code
			if asm && avx512Aligned[w.Size] {
				accel = append(accel, alignedChoice(w)...)
				tilesDoc = append(tilesDoc[:3], "With alignedTiles its whole bands go out as whole aligned lines",
					fmt.Sprintf("(%s, see avx512Aligned in gen).", alignedName(w)), tilesDoc[3])
			}
			switch {
			case asm && avx512Straight[w.Size]:
				whole := jen.Uintptr().Call(jen.Id("dst")).Op("%").Lit(64).Op("==").Lit(0).Op("&&").Id("dj").Op("%").Lit(64).Op("==").Lit(0)
				accel = append(accel, jen.If(jen.Id("AVX512").Op("&&").Parens(jen.Id("AMDTuned").Op("||").Add(whole))).Block(pick("AVX512"), jen.Return()))
				tilesDoc = append(tilesDoc[:len(tilesDoc)-1], "Where AMDTuned is false its AVX-512 tiles run only where the destination",
					"rows are whole aligned lines (see avx512Straight in gen).", tilesDoc[len(tilesDoc)-1])
			case asm && avx512Widths[w.Size]:
				accel = append(accel, jen.If(jen.Id("AVX512")).Block(pick("AVX512"), jen.Return()))
			}
			accel = append(accel, pick(b.ISA), jen.Return())
			body = append(body, jen.If(jen.Id("Accelerated")).Block(accel...))
			if asm {
				tilesDoc = tilesDoc[:len(tilesDoc)-1]
			}
		}
		body = append(body, call)
		f.Add(doc(tilesDoc...)).Line().Func().Id(tilesName(w)).Params(append(tileParamsGo(), jen.Id("stores").Id("tileStores"))...).Block(body...)
		if tailOf(w) != "" {
			f.Add(emitTilesTail(w, asm))
		}
	}
	var body []jen.Code
	if asm {
		body = append(body, jen.If(jen.Id("stream").Op("&&").Id("rowBytes").Op("<").Lit(build.CacheLine)).Block(
			jen.Id("copyRowsGo").Call(append(rowArgs(), jen.Id("stream"))...), jen.Return()))
		body = append(body, jen.If(jen.Id("Accelerated").Op("&&").Id("rowBytes").Op(">=").Lit(16).Op("&&").Id("rowBytes").Op("<=").Lit(rowsAsmMax)).Block(
			jen.If(jen.Id("stream").Op("&&").Id("rowBytes").Op("%").Lit(32).Op("==").Lit(0).Op("&&").Uintptr().Call(jen.Id("dst")).Op("%").Lit(32).Op("==").Lit(0)).Block(
				jen.Id("copyRowsStream").Call(rowArgs()...), jen.Return()),
			jen.Id("copyRowsAVX2").Call(rowArgs()...), jen.Return()))
	}
	rowsDoc := []string{"copyRows copies rows (see copyRowsGo) with the fastest kernel this build and",
		fmt.Sprintf("CPU have. Rows over %d bytes go to copyRun one at a time, whose long-copy", rowsAsmMax),
		"paths win there. With stream, rows shorter than a line go to copyRowsGo,",
		"whose walk reads the source in order and whose ordinary stores beat the",
		"AVX2 rows and non-temporal half lines there (see renderAccel); longer",
		"rows of whole 32-byte units into a 32-byte aligned dst take non-temporal",
		"stores (copyRowsStream); other rows keep ordinary stores, since a",
		"non-temporal store of part of a line costs more than the line."}
	if !asm && !neon {
		rowsDoc = []string{"copyRows copies rows (see copyRowsGo): this build has no assembly, and",
			"copyRowsGo is the only form."}
	}
	if neon {
		body = append(body, jen.If(jen.Id("Accelerated").Op("&&").Id("rowBytes").Op(">=").Lit(16).Op("&&").Id("rowBytes").Op("<=").Lit(rowsAsmMax)).Block(
			jen.Id("copyRowsNEON").Call(rowArgs()...), jen.Return()))
		rowsDoc = []string{"copyRows copies rows (see copyRowsGo) with the fastest kernel this build and",
			fmt.Sprintf("CPU have: copyRowsNEON for rows of 16 to %d bytes (it has no non-temporal", rowsAsmMax),
			"form and ignores stream), copyRowsGo for the rest, whose rows over that",
			"length go to copyRun one at a time."}
	}
	body = append(body, jen.Id("copyRowsGo").Call(append(rowArgs(), jen.Id("stream"))...))
	f.Add(doc(rowsDoc...)).Line().Func().Id("copyRows").Params(rowParamsGo()...).Block(body...)
	if asm {
		f.Add(emitCopyRowsStream())
	}
	for _, cv := range conversions {
		f.Add(emitConvRowsChoice(cv, asm))
		f.Add(emitConvTilesChoice(cv, asm))
	}

	body = nil
	if asm {
		body = append(body, jen.If(jen.Id("Accelerated")).Block(
			jen.Switch().Block(
				jen.Case(jen.Id("stream").Op("&&").Id("n").Op(">=").Lit(streamRunMin)).Block(
					jen.Id("copyRunStreamAVX2").Call(jen.Id("dst"), jen.Id("src"), jen.Id("n")), jen.Return()),
				jen.Case(jen.Op("!").Id("stream").Op("&&").Id("FastStrings").Op("&&").Id("n").Op(">=").Lit(stringRunMin)).Block(
					jen.Id("copyRunERMS").Call(jen.Id("dst"), jen.Id("src"), jen.Id("n")), jen.Return()),
			)))
	}
	body = append(body, jen.Id("copyRunGo").Call(jen.Id("dst"), jen.Id("src"), jen.Id("n"), jen.Id("stream")))
	f.Add(doc("copyRun copies n bytes from src to dst, dst and src not overlapping, with",
		"the fastest kernel this build and CPU have for the stores stream asks for:",
		fmt.Sprintf("non-temporal AVX2 stores (copyRunStreamAVX2) from %d bytes when stream,", streamRunMin),
		fmt.Sprintf("REP MOVSB (copyRunERMS, see FastStrings) from %d KiB otherwise, and copyRunGo", stringRunMin>>10),
		"for the rest.")).Line().Func().Id("copyRun").Params(runParamsGo()...).Block(body...)
	return f
}

// alignedChoice is the start of the AVX-512 branch of a tiles function of a
// width with Aligned tiles (avx512Aligned): where the walk chose
// alignedTiles (alignedBands, which also means AVX-512) and the tiles are
// whole bands (w.Bands() tile rows; the walks' blocks always are, a tail's
// single tile row is not), they go to the Aligned kernel; anything else
// with alignedTiles takes the cachedTiles form (the default of the switch
// after it). For 4-byte elements:
//
//	if stores == alignedTiles && ti%2 == 0 {
//		tilesUint32AlignedAVX512(dst, src, off, col, ti, tj, dj)
//		return
//	}
func alignedChoice(w width) []jen.Code {
	band := w.Bands() // tile rows of a band: 64 bytes of destination row
	cond := jen.Id("stores").Op("==").Id("alignedTiles").Op("&&").Id("ti").Op("%").Lit(band).Op("==").Lit(0)
	return []jen.Code{jen.If(cond).Block(jen.Id(alignedName(w)).Call(tileArgs()...), jen.Return())}
}

// alignedRows is the source rows of the blocks of a transpose whose tiles
// go to the Aligned kernels (alignedBands): they walk a block's bands down
// each pair of tile columns, and set up each destination row's shift and
// masks once per block, so taller blocks spread that over more lines
// (float32 transpose2d-odd, 2-vCPU Intel Xeon VM, 3 interleaved rounds:
// 0.43/0.52/0.58 of the ceiling at 256 KiB/1/4 MiB with blocks of 128
// rows, 0.46/0.55/0.60 with 512).
const alignedRows = 512

// emitAlignedBands emits alignedBands, which the walks of the widths with
// Aligned tiles (avx512Aligned) ask once per transpose:
//
//	func alignedBands(size int, dst unsafe.Pointer, dj int) bool {
//		switch size {
//		case 2, 4, 8:
//			return Accelerated && AVX512 && !AMDTuned && (uintptr(dst)%64 != 0 || dj%64 != 0) && uintptr(dst)%uintptr(size) == 0 && dj%size == 0
//		}
//		return false
//	}
//
// (in builds without the assembly, return false).
func emitAlignedBands(asm bool) jen.Code {
	body := sizesChoice(asm, avx512Aligned, jen.Id("Accelerated").Op("&&").Id("AVX512").Op("&&").Op("!").Id("AMDTuned").
		Op("&&").Parens(jen.Uintptr().Call(jen.Id("dst")).Op("%").Lit(64).Op("!=").Lit(0).Op("||").Id("dj").Op("%").Lit(64).Op("!=").Lit(0)).
		Op("&&").Uintptr().Call(jen.Id("dst")).Op("%").Uintptr().Call(jen.Id("size")).Op("==").Lit(0).Op("&&").Id("dj").Op("%").Id("size").Op("==").Lit(0))
	text := []string{"alignedBands reports whether the whole bands of a blocked transpose of",
		"size-byte elements into dst, whose rows are dj bytes apart, that is not",
		"streamed go out as whole aligned lines (the Aligned AVX-512 tiles, see",
		"avx512Aligned in gen): where this build and CPU have them for the size,",
		"AMDTuned is false, and dst or dj is not a whole number of lines. Their",
		fmt.Sprintf("walks then take alignedTiles and blocks of %d rows (alignedRows in gen).", alignedRows)}
	if !asm {
		text = append(text, "This build has none.")
	}
	return jen.Add(doc(text...)).Line().Func().Id("alignedBands").Params(jen.Id("size").Int(), jen.Id("dst").Add(ptr()), jen.Id("dj").Int()).Bool().Block(body...)
}

// aheadSpan is the fewest bytes of destination for which a transpose's
// tiles take their Ahead form (aheadBands): more than the L1 cache holds.
// Below it the destination lines are in the L1 cache already, as the
// chained transposes' buffer is (reshape's stageBytes, 16 KiB), and the
// prefetches are only more loads: reverse4d's chains, which write their
// tiles there, ran 0.97-0.98× as fast with them at 256 KiB-1 MiB (2-vCPU
// Intel Xeon VM, 5 interleaved rounds).
const aheadSpan = 64 << 10

// emitAheadBands emits aheadBands, which the walks of the widths with
// Ahead tiles (avx512Ahead) ask once per transpose:
//
//	func aheadBands(size, span int) bool {
//		switch size {
//		case 4, 8:
//			return Accelerated && AVX512 && !AMDTuned && span >= 65536
//		}
//		return false
//	}
//
// (in builds without the assembly, return false).
func emitAheadBands(asm bool) jen.Code {
	body := sizesChoice(asm, avx512Ahead, jen.Id("Accelerated").Op("&&").Id("AVX512").Op("&&").Op("!").Id("AMDTuned").Op("&&").Id("span").Op(">=").Lit(aheadSpan))
	text := []string{"aheadBands reports whether the tiles of a blocked transpose of",
		"size-byte elements that is not streamed, into span bytes of destination,",
		"take their Ahead form (aheadTiles, see avx512Ahead in gen): where this",
		"build and CPU have it for the size, AMDTuned is false (it was measured on",
		fmt.Sprintf("Intel only), and span is at least %d KiB, more than the L1 cache holds.", aheadSpan>>10)}
	if !asm {
		text = append(text, "This build has none.")
	}
	return jen.Add(doc(text...)).Line().Func().Id("aheadBands").Params(jen.Id("size"), jen.Id("span").Int()).Bool().Block(body...)
}

// sizesChoice is the body of a choice that the walks ask per element size
// (alignedBands, aheadBands): in builds with the assembly, cond for the
// sizes of set; false for the others, and in builds without it.
//
//	switch size {
//	case 4, 8:
//		return cond
//	}
//	return false
func sizesChoice(asm bool, set map[int]bool, cond jen.Code) []jen.Code {
	var body []jen.Code
	if asm {
		var sizes []jen.Code
		for _, size := range slices.Sorted(maps.Keys(set)) {
			sizes = append(sizes, jen.Lit(size))
		}
		body = append(body, jen.Switch(jen.Id("size")).Block(jen.Case(sizes...).Block(jen.Return(cond))))
	}
	return append(body, jen.Return(jen.False()))
}
