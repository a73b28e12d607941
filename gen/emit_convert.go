package main

import (
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The conversions of the pairs in the conversions table (spec.go): one Go
// converter per pair, which copies planes of rows of elements from one
// dtype to another, and on amd64 an AVX2 loop over rows of whole vectors
// that the Go form hands its contiguous rows to. As in emit.go, the code
// each function emits is shown above it, for bfloat16 → float32.

const x448 = "github.com/x448/float16"

// f32bits is math.Float32bits(e).
func f32bits(e jen.Code) *jen.Statement { return jen.Qual("math", "Float32bits").Call(e) }

// f64bits is math.Float64bits(e).
func f64bits(e jen.Code) *jen.Statement { return jen.Qual("math", "Float64bits").Call(e) }

// f32from is math.Float32frombits(x).
func f32from(x jen.Code) *jen.Statement { return jen.Qual("math", "Float32frombits").Call(x) }

// f64from is math.Float64frombits(x).
func f64from(x jen.Code) *jen.Statement { return jen.Qual("math", "Float64frombits").Call(x) }

// f16ToF32Scalar is math.Float32bits(float16.Frombits(x).Float32()).
func f16ToF32Scalar(x *jen.Statement) *jen.Statement {
	return f32bits(jen.Qual(x448, "Frombits").Call(x).Dot("Float32").Call())
}

// f32ToF16Scalar is uint16(float16.Fromfloat32(math.Float32frombits(x))).
func f32ToF16Scalar(x *jen.Statement) *jen.Statement {
	return jen.Uint16().Call(jen.Qual(x448, "Fromfloat32").Call(f32from(x)))
}

// convName is the suffix of a pair's functions: BFloat16Float32.
func convName(cv conversion) string { return cv.From + cv.To }

// convDTypes returns the two dtypes of a pair.
func convDTypes(cv conversion) (from, to dtype) {
	from, _ = dtypeByConst(cv.From)
	to, _ = dtypeByConst(cv.To)
	return from, to
}

// convParamsGo are the parameters of a converter (generated.Convert).
func convParamsGo() []jen.Code {
	return []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()), jen.List(jen.Id("planes"), jen.Id("planeStride"), jen.Id("rows"), jen.Id("rowStride"), jen.Id("n"), jen.Id("stride")).Int()}
}

// convRowParams are the parameters of a pair's AVX2 row loop.
var convRowParams = []asmParam{{"dst", true}, {"src", true}, {"planes", false}, {"planeStride", false}, {"rows", false}, {"rowStride", false}, {"n", false}}

// convLoopDoc is the plain loop that states a converter's contract.
func convLoopDoc(conv string) []string {
	return []string{
		"\tk := 0",
		"\tfor p := 0; p < planes; p++ {",
		"\t\tfor r := 0; r < rows; r++ {",
		"\t\t\tfor i := 0; i < n; i++ {",
		fmt.Sprintf("\t\t\t\tdst[k] = %s(src[p*planeStride + r*rowStride + i*stride]) // byte offsets in src", conv),
		"\t\t\t\tk++",
		"\t\t\t}",
		"\t\t}",
		"\t}",
	}
}

// emitConverter emits the Go converter of a pair:
//
//	func convBFloat16Float32(dst, src unsafe.Pointer, planes, planeStride, rows, rowStride, n, stride int) {
//		if stride == 2 && convRowsBFloat16Float32(dst, src, planes, planeStride, rows, rowStride, n) {
//			return
//		}
//		d := 0
//		for p := 0; p < planes; p++ {
//			o := p * planeStride
//			for r := 0; r < rows; r++ {
//				s := o
//				for i := 0; i < n; i++ {
//					*(*uint32)(unsafe.Add(dst, d)) = uint32(*(*uint16)(unsafe.Add(src, s))) << 16
//					d += 4
//					s += stride
//				}
//				o += rowStride
//			}
//		}
//	}
func emitConverter(cv conversion) jen.Code {
	from, to := convDTypes(cv)
	fw, tw := widthOf(from), widthOf(to)
	name := "conv" + convName(cv)
	id := jen.Id
	elem := cv.Scalar(deref(fw, add(id("src"), id("s"))))
	loop := jen.For(id("p").Op(":=").Lit(0), id("p").Op("<").Id("planes"), id("p").Op("++")).Block(
		id("o").Op(":=").Id("p").Op("*").Id("planeStride"),
		jen.For(id("r").Op(":=").Lit(0), id("r").Op("<").Id("rows"), id("r").Op("++")).Block(
			id("s").Op(":=").Id("o"),
			jen.For(id("i").Op(":=").Lit(0), id("i").Op("<").Id("n"), id("i").Op("++")).Block(
				deref(tw, add(id("dst"), id("d"))).Op("=").Add(elem),
				id("d").Op("+=").Lit(to.Size),
				id("s").Op("+=").Id("stride"),
			),
			id("o").Op("+=").Id("rowStride"),
		),
	)
	return jen.Add(doc(append([]string{
		fmt.Sprintf("%s converts planes × rows rows of n %s elements to %s (see", name, from.Name, to.Name),
		fmt.Sprintf("Convert), handing rows of adjacent elements to %s. It is the plain loop", "convRows"+convName(cv)),
		"",
	}, convLoopDoc(to.Name)...)...)).Line().Func().Id(name).Params(convParamsGo()...).Block(
		jen.If(id("stride").Op("==").Lit(from.Size).Op("&&").Id("convRows"+convName(cv)).Call(id("dst"), id("src"), id("planes"), id("planeStride"), id("rows"), id("rowStride"), id("n"))).Block(jen.Return()),
		id("d").Op(":=").Lit(0),
		loop,
	)
}

// emitF32ToBF16 emits the scalar float32 → bfloat16 rounding of the Go
// forms, on the bits: round to nearest even, as PyTorch does for numbers; a
// NaN keeps its sign and payload, quieted.
//
//	func f32ToBF16(b uint32) uint16 {
//		if b&0x7fffffff > 0x7f800000 {
//			return uint16(b>>16 | 0x40)
//		}
//		return uint16((b + 0x7fff + (b>>16)&1) >> 16)
//	}
func emitF32ToBF16() jen.Code {
	b := jen.Id("b")
	return jen.Add(doc("f32ToBF16 rounds the float32 with bits b to the nearest bfloat16, ties to",
		"even, as PyTorch does for numbers; a NaN keeps its sign and the top 7 bits",
		"of its payload, quieted.")).Line().Func().Id("f32ToBF16").Params(jen.Id("b").Uint32()).Uint16().Block(
		jen.If(jen.Id("b").Op("&").Lit(0x7fffffff).Op(">").Lit(0x7f800000)).Block(
			jen.Return(jen.Uint16().Call(jen.Id("b").Op(">>").Lit(16).Op("|").Lit(0x40))),
		),
		jen.Return(jen.Uint16().Call(jen.Parens(b.Clone().Op("+").Lit(0x7fff).Op("+").Parens(jen.Id("b").Op(">>").Lit(16)).Op("&").Lit(1)).Op(">>").Lit(16))),
	)
}

// renderConvert renders the Convert type, the table of specialised pairs
// and their Go converters.
func renderConvert(maxRank int) *jen.File {
	f := newFile(maxRank, "The converters of the specialised dtype pairs.")
	f.Add(doc(append([]string{
		"Convert converts planes × rows rows of n elements from one dtype to another,",
		"into dst, row after row: source rows are rowStride bytes apart, planes of rows",
		"planeStride bytes apart, elements of a row stride bytes apart (0 repeats one",
		"element). The element conversions follow the rules stated in package reshape",
		"(ContiguousAs). dst must hold planes*rows*n elements and must not overlap",
		"what src reaches; the caller has checked every address. It is the plain loop",
		"",
	}, convLoopDoc("convert")...)...))
	f.Type().Id("Convert").Func().Params(convParamsGo()...)

	f.Add(doc("Conversions holds the converter of every specialised pair:",
		"Conversions[from][to], nil for every other pair, which reshape converts",
		"through its generic fallback."))
	f.Var().Id("Conversions").Op("=").Index(jen.Id("NumDTypes")).Index(jen.Id("NumDTypes")).Id("Convert").ValuesFunc(func(g *jen.Group) {
		for _, d := range dtypes {
			var to []jen.Code
			for _, cv := range conversions {
				if cv.From == d.Const {
					to = append(to, jen.Id(cv.To).Op(":").Id("conv"+convName(cv)))
				}
			}
			if len(to) > 0 {
				g.Line().Id(d.Const).Op(":").Values(to...)
			}
		}
		g.Line()
	})
	for _, cv := range conversions {
		f.Add(emitConverter(cv))
	}
	f.Add(emitF32ToBF16())
	f.Add(emitConvTransposeRows())
	for _, cv := range conversions {
		f.Add(emitConvTranspose(cv))
		f.Add(emitConvEdge(cv))
		f.Add(emitConvTilesGo(cv))
	}
	return f
}

// emitConvRowsChoice emits, for the accel files, the function that hands a
// pair's contiguous rows to its AVX2 loop when the CPU has it, and reports
// whether it did:
//
//	func convRowsFloat32BFloat16(dst, src unsafe.Pointer, planes, planeStride, rows, rowStride, n int) bool {
//		if Accelerated && AVX512 && n >= 16 { // the narrowing pairs (avx512RowSteps)
//			convRowsFloat32BFloat16AVX512(dst, src, planes, planeStride, rows, rowStride, n)
//			return true
//		}
//		if !Accelerated || n < 8 {
//			return false
//		}
//		convRowsFloat32BFloat16AVX2(dst, src, planes, planeStride, rows, rowStride, n)
//		return true
//	}
func emitConvRowsChoice(cv conversion, asm bool) jen.Code {
	name := "convRows" + convName(cv)
	params := []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()), jen.List(jen.Id("planes"), jen.Id("planeStride"), jen.Id("rows"), jen.Id("rowStride"), jen.Id("n")).Int()}
	var body []jen.Code
	if asm {
		cond := jen.Op("!").Id("Accelerated").Op("||").Id("n").Op("<").Lit(convVector)
		if cv.F16C {
			cond = jen.Op("!").Id("Accelerated").Op("||").Op("!").Id("hasF16C").Op("||").Id("n").Op("<").Lit(convVector)
		}
		if _, ok := avx512RowSteps[convName(cv)]; ok {
			body = append(body, jen.If(jen.Id("Accelerated").Op("&&").Id("AVX512").Op("&&").Id("n").Op(">=").Lit(convVector512)).Block(
				jen.Id(name+"AVX512").Call(jen.Id("dst"), jen.Id("src"), jen.Id("planes"), jen.Id("planeStride"), jen.Id("rows"), jen.Id("rowStride"), jen.Id("n")),
				jen.Return(jen.True()),
			))
		}
		body = append(body,
			jen.If(cond).Block(jen.Return(jen.False())),
			jen.Id(name+"AVX2").Call(jen.Id("dst"), jen.Id("src"), jen.Id("planes"), jen.Id("planeStride"), jen.Id("rows"), jen.Id("rowStride"), jen.Id("n")),
			jen.Return(jen.True()),
		)
	} else {
		body = []jen.Code{jen.Return(jen.False())}
	}
	return jen.Add(doc(fmt.Sprintf("%s converts rows of n adjacent elements with the fastest kernel", name),
		"this build and CPU have, and reports false, having done nothing, where that",
		"is the Go loop of the caller.")).Line().Func().Id(name).Params(params...).Bool().Block(body...)
}

// convVector is how many elements one step of the AVX2 loops converts; a row
// needs at least that many.
const convVector = 8

// convAsmFuncs returns the row loops of every pair (AVX2 and AVX-512) and
// their tiles (convTileAsmFuncs, avx512ConvFuncs).
func convAsmFuncs() []asmFunc {
	var fs []asmFunc
	for _, cv := range conversions {
		cv := cv
		from, to := convDTypes(cv)
		need := "AVX2"
		if cv.F16C {
			need = "AVX2 and F16C"
		}
		fs = append(fs, asmFunc{
			Name:   "convRows" + convName(cv) + "AVX2",
			Params: convRowParams,
			Doc: []string{
				fmt.Sprintf("convRows%sAVX2 converts planes × rows rows of n >= %d adjacent %s", convName(cv), convVector, from.Name),
				fmt.Sprintf("elements to %s, %d at a time, the last %d of a row again instead of a", to.Name, convVector, convVector),
				"scalar tail (they convert to the same values). It is the loop of Convert",
				fmt.Sprintf("with stride %d; it needs %s.", from.Size, need),
			},
			Body: func(c *build.Context) { emitConvRows(c, cv) },
		})
	}
	return append(append(append(fs, avx512ConvRowFuncs()...), convTileAsmFuncs()...), avx512ConvFuncs()...)
}

// emitConvRows emits a pair's row loop around its vector conversion:
//
//	plane:
//		MOVQ src, s; MOVQ rows, r
//	row:
//		XORQ i, i
//	step:
//		CMPQ i, last; JAE tail              // last = n-8
//		<convert 8 from (s)(i*2) to (d)(i*4)>
//		ADDQ $8, i; JMP step
//	tail:
//		<convert 8 from (s)(last*2) to (d)(last*4)>
//		ADDQ n*4, d; ADDQ rowStride, s; DECQ r; JNZ row
//		ADDQ planeStride, src; DECQ planes; JNZ plane
func emitConvRows(c *build.Context, cv conversion) {
	emitConvRowsLoop(c, cv, convVector, cv.Setup, func(dst, src Mem, k []reg.VecVirtual) { convStep(c, cv, dst, src, k) })
}

// emitConvRowsLoop emits the row loop of emitConvRows around step, which
// converts vec elements from src to dst with the constants that setup
// loads once (setup may be nil).
func emitConvRowsLoop(c *build.Context, cv conversion, vec int, setup func(c *build.Context) []reg.VecVirtual, step func(dst, src Mem, k []reg.VecVirtual)) {
	from, to := convDTypes(cv)
	d, src := param(c, "dst"), param(c, "src")
	planes, planeStride := param(c, "planes"), param(c, "planeStride")
	n, rowStride := param(c, "n"), param(c, "rowStride")
	rowsParam := paramAddr(c, "rows")
	s, r, i, last, rowBytes := c.GP64(), c.GP64(), c.GP64(), c.GP64(), c.GP64()
	var consts []reg.VecVirtual
	if setup != nil {
		consts = setup(c)
	}
	c.TESTQ(planes, planes)
	c.JZ(LabelRef("conv_done"))
	c.CMPQ(rowsParam, Imm(0))
	c.JE(LabelRef("conv_done"))
	c.LEAQ(Mem{Base: n, Disp: -vec}, last)
	c.IMUL3Q(Imm(uint64(to.Size)), n, rowBytes)
	at := func(base reg.GPVirtual, index reg.GPVirtual, size int) Mem {
		return Mem{Base: base, Index: index, Scale: uint8(size)}
	}
	c.Label("conv_plane")
	c.MOVQ(src, s)
	c.MOVQ(rowsParam, r)
	c.Label("conv_row")
	c.XORQ(i, i)
	c.Label("conv_step")
	c.CMPQ(i, last)
	c.JAE(LabelRef("conv_tail"))
	step(at(d, i, to.Size), at(s, i, from.Size), consts)
	c.ADDQ(Imm(uint64(vec)), i)
	c.JMP(LabelRef("conv_step"))
	c.Label("conv_tail")
	step(at(d, last, to.Size), at(s, last, from.Size), consts)
	c.ADDQ(rowBytes, d)
	c.ADDQ(rowStride, s)
	c.DECQ(r)
	c.JNZ(LabelRef("conv_row"))
	c.ADDQ(planeStride, src)
	c.DECQ(planes)
	c.JNZ(LabelRef("conv_plane"))
	c.Label("conv_done")
	c.VZEROUPPER()
	c.RET()
}

// convStep converts convVector elements from src to dst, in vectors of the
// pair's lanes.
func convStep(c *build.Context, cv conversion, dst, src Mem, k []reg.VecVirtual) {
	from, to := convDTypes(cv)
	for l := 0; l < convVector; l += cv.Lanes {
		cv.Store(c, cv.Load(c, src.Offset(l*from.Size), k), dst.Offset(l*to.Size), k, false)
	}
}

// The widening loads of loadWiden: 8 source elements into 8 dwords.
func wideZX16(c *build.Context, m Mem, y reg.VecVirtual) { c.VPMOVZXWD(m, y) }
func wideSX16(c *build.Context, m Mem, y reg.VecVirtual) { c.VPMOVSXWD(m, y) }
func wideZX8(c *build.Context, m Mem, y reg.VecVirtual)  { c.VPMOVZXBD(m, y) }
func wideSX8(c *build.Context, m Mem, y reg.VecVirtual)  { c.VPMOVSXBD(m, y) }

// loadWiden returns the load that widens 8 source elements into 8 dwords,
// shifts them left by shift bits (bfloat16: the top half of a float32) and,
// with toFloat, converts the integers to float32:
//
//	VPMOVZXWD (src), Y0; VPSLLD $16, Y0, Y0    // bfloat16
//	VPMOVSXBD (src), Y0; VCVTDQ2PS Y0, Y0      // int8
func loadWiden(widen func(*build.Context, Mem, reg.VecVirtual), shift int, toFloat bool) func(*build.Context, Mem, []reg.VecVirtual) reg.VecVirtual {
	return func(c *build.Context, m Mem, _ []reg.VecVirtual) reg.VecVirtual {
		y := c.YMM()
		widen(c, m, y)
		if shift > 0 {
			c.VPSLLD(Imm(uint64(shift)), y, y)
		}
		if toFloat {
			c.VCVTDQ2PS(y, y)
		}
		return y
	}
}

// loadY is VMOVDQU (src), Y0: 32 bytes as they are.
func loadY(c *build.Context, m Mem, _ []reg.VecVirtual) reg.VecVirtual {
	y := c.YMM()
	c.VMOVDQU(m, y)
	return y
}

// storeY is VMOVDQU Y0, (dst), or VMOVNTDQ where nt.
func storeY(c *build.Context, y reg.VecVirtual, m Mem, _ []reg.VecVirtual, nt bool) {
	if nt {
		c.VMOVNTDQ(y, m)
		return
	}
	c.VMOVDQU(y, m)
}

// loadF16 is VCVTPH2PS (src), Y0.
func loadF16(c *build.Context, m Mem, _ []reg.VecVirtual) reg.VecVirtual {
	y := c.YMM()
	c.VCVTPH2PS(m, y)
	return y
}

// storeF16 is VCVTPS2PH $0, Y0, (dst): rounding control 0 is to nearest,
// ties to even. Where nt, it converts into X0 and stores that with
// VMOVNTDQ.
func storeF16(c *build.Context, y reg.VecVirtual, m Mem, _ []reg.VecVirtual, nt bool) {
	if nt {
		x := c.XMM()
		c.VCVTPS2PH(Imm(0), y, x)
		c.VMOVNTDQ(x, m)
		return
	}
	c.VCVTPS2PH(Imm(0), y, m)
}

// loadF64AsF32 converts two halves of 4 float64 and joins them:
//
//	VCVTPD2PSY (src), X0; VCVTPD2PSY 32(src), X1; VINSERTF128 $1, X1, Y0, Y0
func loadF64AsF32(c *build.Context, m Mem, _ []reg.VecVirtual) reg.VecVirtual {
	lo, hi := c.XMM(), c.XMM()
	c.VCVTPD2PSY(m, lo)
	c.VCVTPD2PSY(m.Offset(32), hi)
	y := c.YMM()
	c.VINSERTF128(Imm(1), hi, lo.AsY(), y)
	return y
}

// loadF32AsF64 is VCVTPS2PD (src), Y0: 4 float32 to 4 float64.
func loadF32AsF64(c *build.Context, m Mem, _ []reg.VecVirtual) reg.VecVirtual {
	y := c.YMM()
	c.VCVTPS2PD(m, y)
	return y
}

// bf16Consts are the constants of the integer rounding to bfloat16
// (storeBF16, narrowBF16): the bias 0x7fff, 1 (the bit that breaks ties)
// and 0x40 (the quiet bit of a bfloat16 NaN).
var bf16Consts = []uint32{0x7fff, 1, 0x40}

// setupBF16 broadcasts bf16Consts into YMM registers, for storeBF16.
//
//	MOVL $0x7fff, AX; VMOVD AX, X0; VPBROADCASTD X0, Y0 ...
func setupBF16(c *build.Context) []reg.VecVirtual {
	var vs []reg.VecVirtual
	for _, k := range bf16Consts {
		t := c.GP32()
		c.MOVL(U32(k), t)
		x := c.XMM()
		c.VMOVD(t, x)
		y := c.YMM()
		c.VPBROADCASTD(x, y)
		vs = append(vs, y)
	}
	return vs
}

// storeBF16 rounds 8 float32 to bfloat16 with integer operations, as
// f32ToBF16 does one, and stores them:
//
//	VPSRLD $16, U, H                          // the top halves
//	VPAND one, H, T                           // the bit that breaks ties
//	VPADDD bias, U, R; VPADDD T, R, R; VPSRLD $16, R, R
//	VCMPPS $3, U, U, M                        // NaN lanes (unordered)
//	VPOR quiet, H, Q                          // their quiet NaN
//	VPBLENDVB M, Q, R, R
//	VPACKUSDW R, R, R; VPERMQ $0x08, R, R     // 8 dwords to 8 words, in order
//	VMOVDQU X(R), (dst)
//
// Eleven instructions where it took thirteen: the top halves are shifted
// once, and the NaN lanes come from one compare instead of a mask of the
// magnitude and a compare with Inf.
func storeBF16(c *build.Context, u reg.VecVirtual, m Mem, k []reg.VecVirtual, nt bool) {
	bias, one, quiet := k[0], k[1], k[2]
	h, t, r, msk, q := c.YMM(), c.YMM(), c.YMM(), c.YMM(), c.YMM()
	c.VPSRLD(Imm(16), u, h)
	c.VPAND(one, h, t)
	c.VPADDD(bias, u, r)
	c.VPADDD(t, r, r)
	c.VPSRLD(Imm(16), r, r)
	c.VCMPPS(Imm(3), u, u, msk)
	c.VPOR(quiet, h, q)
	c.VPBLENDVB(msk, q, r, r)
	c.VPACKUSDW(r, r, r)
	c.VPERMQ(Imm(0x08), r, r)
	if nt {
		c.VMOVNTDQ(r.AsX(), m)
		return
	}
	c.VMOVDQU(r.AsX(), m)
}

// convTile is the register tile transpose of a pair: Lanes × Lanes, the
// source rows converted as they load or the destination rows as they
// store.
func convTile(cv conversion) tile {
	from, to := convDTypes(cv)
	shuffle := shuffle8x8x32
	if cv.Lanes == 4 {
		shuffle = shuffle4x4x64
	}
	return tile{
		name: "convTiles" + convName(cv), tileI: cv.Lanes, tileJ: cv.Lanes, srcSize: from.Size, dstSize: to.Size,
		setup: cv.Setup, load: cv.Load, shuffle: shuffle,
		store: func(c *build.Context, out []reg.VecVirtual, r int, m Mem, k []reg.VecVirtual, nt bool) {
			cv.Store(c, out[r], m, k, nt)
		},
	}
}

// convBlock returns the cache block of a pair's transpose, as width.BlockI
// and BlockJ: the destination width's rows by the columns of one 64-byte
// line of the wider type.
func convBlock(cv conversion) (blockI, blockJ int) {
	from, to := convDTypes(cv)
	return widthOf(to).BlockI, max(cv.Lanes, cacheLineBytes/max(from.Size, to.Size))
}

// convTileAsmFuncs returns the AVX2 tile transpose of every pair.
func convTileAsmFuncs() []asmFunc {
	var fs []asmFunc
	for _, cv := range conversions {
		cv := cv
		tl := convTile(cv)
		need := "AVX2"
		if cv.F16C {
			need = "AVX2 and F16C"
		}
		fs = append(fs, formFuncs(tl.name, "AVX2", false, formSet{}, convTilesContract(cv), fmt.Sprintf("It needs %s.", need),
			func(c *build.Context, f tileForm) {
				tl := tl
				tl.form(f)
				emitTilesAVX2(c, tl)
			})...)
	}
	return fs
}

// convTilesContract states the contract of a pair's tile transposes, for
// the kernel called name.
func convTilesContract(cv conversion) func(name string) []string {
	from, to := convDTypes(cv)
	tl := convTile(cv)
	return func(name string) []string {
		return []string{
			fmt.Sprintf("%s transposes ti × tj whole tiles of %d×%d elements, %s to %s,", name, tl.tileI, tl.tileJ, from.Name, to.Name),
			"converting each as it goes through the registers. Source row i starts",
			"off[i]+col bytes from src; destination row j starts j*dj bytes from dst. It",
			fmt.Sprintf("is the loop of the plain transpose, with %d-byte source and %d-byte", from.Size, to.Size),
			"destination elements.",
		}
	}
}

// convWalk is the block walk of a pair's transpose.
func convWalk(cv conversion) blockWalk {
	from, to := convDTypes(cv)
	tl := convTile(cv)
	blockI, blockJ := convBlock(cv)
	return blockWalk{
		tiles: tl.name, edge: "convEdge" + convName(cv), buffered: "convTransposeBuffered" + convName(cv),
		tileI: tl.tileI, tileJ: tl.tileJ, blockI: blockI, blockJ: jen.Lit(blockJ), lineCols: func(int) int { return blockJ },
		srcSize: from.Size, dstSize: to.Size, streamOut: true, conv: &cv,
	}
}

// narrowStreams is the condition, besides whole aligned lines, on which a
// pair's tiles stream (emitStoresChoice): nil (always) for a widening pair;
// AMDTuned for a narrowing one, or AVX512 where it has AVX-512 tiles.
func narrowStreams(cv conversion) *jen.Statement {
	from, to := convDTypes(cv)
	if to.Size >= from.Size {
		return nil
	}
	if _, ok := avx512ConvBands[convName(cv)]; ok {
		return jen.Parens(jen.Id("AMDTuned").Op("||").Id("AVX512"))
	}
	return jen.Id("AMDTuned")
}

// emitConvTranspose emits the blocked transpose of a pair, as
// emitTranspose does for a width:
//
//	func convTransposeBFloat16Float32(dst, src unsafe.Pointer, off []int, nj, dj int, stream bool, buf *CrowdBuffer) {
//		stores := cachedTiles
//		if stream {
//			stores = prefetchTiles
//			if uintptr(dst)%64 == 0 && dj*4%64 == 0 {
//				stores = streamTiles
//			}
//		}
//		if buf != nil && (!stream && crowded(4, min(16, nj), dj*4, nj*dj*4) || stream && ConvStreamCrowds(BFloat16, Float32, dj, dst)) {
//			convTransposeBufferedBFloat16Float32(dst, src, off, nj, dj, buf) // its tiles through buf (blockWalk)
//			return
//		}
//		for i0 := 0; i0 < len(off); i0 += 128 {
//			mi := min(128, len(off)-i0)
//			rows := off[i0 : i0+mi]
//			for j0 := 0; j0 < nj; j0 += 16 {
//				mj := min(16, nj-j0)
//				d := unsafe.Add(dst, (j0*dj+i0)*4)
//				fi, fj := mi/8, mj/8
//				if fi > 0 && fj > 0 {
//					convTilesBFloat16Float32(d, src, unsafe.Pointer(&rows[0]), j0*2, fi, fj, dj*4, stores)
//				}
//				convEdgeBFloat16Float32(d, src, rows, j0, 0, mi, fj*8, mj, dj)
//				convEdgeBFloat16Float32(d, src, rows, j0, fi*8, mi, 0, fj*8, dj)
//			}
//		}
//	}
//
// Narrowing pairs (float32 to bfloat16 or float16, float64 to float32)
// stream their tiles only where AMDTuned or, for those with AVX-512 tiles
// (avx512ConvBands), whose bands store whole lines, AVX512 (narrowStreams):
// on the 2-vCPU Intel Xeon VM the AVX2 tiles'
// non-temporal stores, 16 bytes of each destination row at a time, ran the
// suite's float32 -> bfloat16 transpose2d at 64 MiB at 0.16-0.18 of the
// ceiling, the prefetching form with ordinary stores at 0.45-0.48 (two
// workers 0.16-0.18 -> 0.50-0.54; 3 interleaved rounds, -stridekit.apart;
// 0.40-0.50 with the default baselines). Through reshape.ContiguousAs
// ([8192, 4096] transposed, medians of 5 rounds of 300ms): float32 ->
// bfloat16 94 -> 31 ms (two workers 50 -> 16), float32 -> float16 82 ->
// 34, float64 -> float32 61 -> 54; [4096, 4096] alike or faster. The
// widening pairs split (one worker 0.29-0.32 -> 0.24-0.25, two 0.30-0.32
// -> 0.41-0.44), so they keep streaming.
func emitConvTranspose(cv conversion) jen.Code {
	from, to := convDTypes(cv)
	tl := convTile(cv)
	name := "convTranspose" + convName(cv)
	edge := "convEdge" + convName(cv)
	walk := convWalk(cv)
	more := ""
	if walk.hasBuffered() {
		more = fmt.Sprintf(" Destinations whose rows crowd the L1 cache (crowded) take %s, given buf.", walk.buffered)
	}
	return jen.Add(doc(
		fmt.Sprintf("%s transposes len(off) × nj elements, %s to %s, as", name, from.Name, to.Name),
		"TransposeRows does (see ConvTransposeRows), in blocks whose whole tiles go to",
		fmt.Sprintf("%s and whose edges to %s; stream picks the tiles' form as", tl.name, edge),
		"the plain transposes do (prefetching, and non-temporal where dst and dj",
		"are whole lines)."+more,
	)).Line().Func().Id(name).Params(
		jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()),
		jen.Id("off").Index().Int(),
		jen.List(jen.Id("nj"), jen.Id("dj")).Int(),
		jen.Id("stream").Bool(),
		jen.Id("buf").Op("*").Id("CrowdBuffer"),
	).Block(walk.body(emitStoresChoice(to.Size, true, narrowStreams(cv)))...).Add(walk.bufferedFunc(name))
}

// emitConvEdge emits the scalar transpose of a pair's block edges, as
// emitEdge does for a width, converting each element:
//
//	func convEdgeBFloat16Float32(d, src unsafe.Pointer, rows []int, j0, i0, i1, j1, j2, dj int) {
//		for j := j1; j < j2; j++ {
//			for i := i0; i < i1; i++ {
//				*(*uint32)(unsafe.Add(d, (j*dj+i)*4)) = uint32(*(*uint16)(unsafe.Add(src, rows[i]+(j0+j)*2))) << 16
//			}
//		}
//	}
func emitConvEdge(cv conversion) jen.Code {
	from, to := convDTypes(cv)
	name := "convEdge" + convName(cv)
	id := jen.Id
	elem := cv.Scalar(deref(widthOf(from), add(id("src"), id("rows").Index(id("i")).Op("+").Add(times(jen.Parens(id("j0").Op("+").Id("j")), from.Size)))))
	return jen.Add(doc(
		fmt.Sprintf("%s transposes rows [i0, i1) and columns [j1, j2) of a block of %s,", name, "convTranspose"+convName(cv)),
		"one element at a time.",
	)).Line().Func().Id(name).Params(
		jen.List(id("d"), id("src")).Add(ptr()),
		id("rows").Index().Int(),
		jen.List(id("j0"), id("i0"), id("i1"), id("j1"), id("j2"), id("dj")).Int(),
	).Block(
		jen.For(id("j").Op(":=").Id("j1"), id("j").Op("<").Id("j2"), id("j").Op("++")).Block(
			jen.For(id("i").Op(":=").Id("i0"), id("i").Op("<").Id("i1"), id("i").Op("++")).Block(
				deref(widthOf(to), add(id("d"), times(jen.Parens(id("j").Op("*").Id("dj").Op("+").Id("i")), to.Size))).Op("=").Add(elem),
			),
		),
	)
}

// emitConvTilesGo emits the Go form of a pair's tiles: their elements one
// at a time, through the edge transpose.
//
//	func convTilesBFloat16Float32Go(dst, src, off unsafe.Pointer, col, ti, tj, dj int) {
//		rows := unsafe.Slice((*int)(off), ti*8)
//		convEdgeBFloat16Float32(dst, src, rows, col/2, 0, ti*8, 0, tj*8, dj/4)
//	}
func emitConvTilesGo(cv conversion) jen.Code {
	from, to := convDTypes(cv)
	tl := convTile(cv)
	id := jen.Id
	return jen.Add(doc(fmt.Sprintf("%sGo transposes whole tiles (see %sAVX2) in Go, one element", tl.name, tl.name),
		"at a time.")).Line().Func().Id(tl.name+"Go").Params(tileParamsGo()...).Block(
		id("rows").Op(":=").Qual("unsafe", "Slice").Call(jen.Parens(jen.Op("*").Int()).Parens(id("off")), id("ti").Op("*").Lit(tl.tileI)),
		id("convEdge"+convName(cv)).Call(id("dst"), id("src"), id("rows"), id("col").Op("/").Lit(from.Size), jen.Lit(0), id("ti").Op("*").Lit(tl.tileI), jen.Lit(0), id("tj").Op("*").Lit(tl.tileJ), id("dj").Op("/").Lit(to.Size)),
	)
}

// emitConvTilesChoice emits, for the accel files, the choice between a
// pair's AVX-512 tiles (avx512ConvBands), its AVX2 tiles and their Go form.
func emitConvTilesChoice(cv conversion, asm bool) jen.Code {
	tl := convTile(cv)
	var body []jen.Code
	if cb, ok := avx512ConvBands[convName(cv)]; asm && ok {
		cond := jen.Id("Accelerated").Op("&&").Id("AVX512")
		if cb.straight {
			cond = cond.Op("&&").Uintptr().Call(jen.Id("dst")).Op("%").Lit(64).Op("==").Lit(0).Op("&&").Id("dj").Op("%").Lit(64).Op("==").Lit(0)
		}
		body = append(body, jen.If(cond).Block(formSwitch(tl.name, "AVX512", formSet{}), jen.Return()))
	}
	if asm {
		cond := jen.Id("Accelerated")
		if cv.F16C {
			cond = jen.Id("Accelerated").Op("&&").Id("hasF16C")
		}
		body = append(body, jen.If(cond).Block(formSwitch(tl.name, "AVX2", formSet{}), jen.Return()))
	}
	body = append(body, jen.Id(tl.name+"Go").Call(tileArgs()...))
	return jen.Add(doc(fmt.Sprintf("%s transposes whole tiles with the fastest kernel this build", tl.name),
		"and CPU have, in the form that stores asks for where the kernel has forms",
		"(see tileStores).")).Line().Func().Id(tl.name).Params(append(tileParamsGo(), jen.Id("stores").Id("tileStores"))...).Block(body...)
}

// emitConvTransposeRows emits the entry point of the converting transposes:
//
//	func ConvTransposeRows(from, to DType, dst, src unsafe.Pointer, off []int, nj, dj int, stream bool) bool {
//		switch {
//		case from == BFloat16 && to == Float32:
//			convTransposeBFloat16Float32(dst, src, off, nj, dj, stream)
//		...
//		default:
//			return false
//		}
//		return true
//	}
func emitConvTransposeRows() jen.Code {
	var cases []jen.Code
	for _, cv := range conversions {
		cases = append(cases, jen.Case(jen.Id("from").Op("==").Id(cv.From).Op("&&").Id("to").Op("==").Id(cv.To)).Block(
			jen.Id("convTranspose"+convName(cv)).Call(jen.Id("dst"), jen.Id("src"), jen.Id("off"), jen.Id("nj"), jen.Id("dj"), jen.Id("stream"), jen.Id("buf")),
		))
	}
	cases = append(cases, jen.Default().Block(jen.Return(jen.False())))
	return jen.Add(doc(
		"ConvTransposeRows is TransposeRows converting each element from dtype from to",
		"dtype to: the source rows, source elements of from, are written transposed to",
		"dst as elements of to (dj in elements of to). It reports false, having done",
		"nothing, for a pair without a converting transpose of its own (see",
		"Conversions). The whole tiles convert in the registers; stream and buf are",
		"TransposeRows'.",
	)).Line().Func().Id("ConvTransposeRows").Params(
		jen.List(jen.Id("from"), jen.Id("to")).Id("DType"),
		jen.List(jen.Id("dst"), jen.Id("src")).Add(ptr()),
		jen.Id("off").Index().Int(),
		jen.List(jen.Id("nj"), jen.Id("dj")).Int(),
		jen.Id("stream").Bool(),
		jen.Id("buf").Op("*").Id("CrowdBuffer"),
	).Bool().Block(jen.Switch().Block(cases...), jen.Return(jen.True()))
}
