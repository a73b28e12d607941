package main

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// One emitting function per construct. Above each, the Go it emits, for
// rank 3, 4-byte elements where it matters.

// doc renders lines as one // comment block, one "// " line each (an empty
// line renders as a bare "//").
func doc(lines ...string) *jen.Statement {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if l == "" {
			b.WriteString("//")
		} else {
			b.WriteString("// " + l)
		}
	}
	return jen.Comment(b.String())
}

func n(axis int) string { return fmt.Sprintf("n%d", axis) } // extent of an axis
func s(axis int) string { return fmt.Sprintf("s%d", axis) } // byte stride of an axis
func o(axis int) string { return fmt.Sprintf("o%d", axis) } // byte offset in src at the start of an axis
func i(axis int) string { return fmt.Sprintf("i%d", axis) } // index along an axis

// kernelName is the name of the kernel for one rank, width and kind, with its
// parts in a fixed order: copyRank3Uint32Gather.
func kernelName(rank int, w width, k kind) string {
	return fmt.Sprintf("copyRank%d%s%s", rank, exported(w.Carrier), k.Name)
}

func exported(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// load is *(*uint32)(unsafe.Add(src, off)).
func load(w width, base string, off jen.Code) *jen.Statement {
	return jen.Op("*").Parens(jen.Op("*").Id(w.Carrier)).Parens(jen.Qual("unsafe", "Add").Call(jen.Id(base), off))
}

// storeAt is *(*uint32)(unsafe.Add(p, 4*j)) = v, or *(*uint32)(p) = v for j == 0.
func storeAt(w width, p string, j int, v jen.Code) *jen.Statement {
	addr := jen.Id(p)
	if j > 0 {
		addr = jen.Qual("unsafe", "Add").Call(jen.Id(p), jen.Lit(j*w.Size))
	}
	return jen.Op("*").Parens(jen.Op("*").Id(w.Carrier)).Parens(addr).Op("=").Add(v)
}

// store is *(*uint32)(unsafe.Add(dst, d)) = v.
func store(w width, v jen.Code) *jen.Statement {
	return jen.Op("*").Parens(jen.Op("*").Id(w.Carrier)).Parens(jen.Qual("unsafe", "Add").Call(jen.Id("dst"), jen.Id("d"))).Op("=").Add(v)
}

// scaled is strides[2]*4, or strides[2] for 1-byte elements.
func scaled(w width, axis int) *jen.Statement {
	st := jen.Id("strides").Index(jen.Lit(axis))
	if w.Size == 1 {
		return st
	}
	return st.Op("*").Lit(w.Size)
}

// emitKernel emits one kernel:
//
//	// copyRank3Uint32Gather copies ... It is the plain loop ...
//	func copyRank3Uint32Gather(dst, src unsafe.Pointer, shape, strides [MaxRank]int, stream bool) {
//		n0, n1, n2 := shape[0], shape[1], shape[2]
//		s0, s1, s2 := strides[0]*4, strides[1]*4, strides[2]*4
//		d := 0
//		o0 := 0
//		for i0 := 0; i0 < n0; i0++ { ...; o0 += s0 }
//	}
func emitKernel(rank int, w width, k kind) jen.Code {
	name := kernelName(rank, w, k)
	strided := rank // axes whose stride the kernel reads
	if k.Stride != anyStride {
		strided = rank - 1
	}
	var ns, shapes, ss, strides []jen.Code
	for a := 0; a < rank; a++ {
		ns = append(ns, jen.Id(n(a)))
		shapes = append(shapes, jen.Id("shape").Index(jen.Lit(a)))
	}
	for a := 0; a < strided; a++ {
		ss = append(ss, jen.Id(s(a)))
		strides = append(strides, scaled(w, a))
	}
	body := []jen.Code{jen.List(ns...).Op(":=").List(shapes...)}
	if strided > 0 {
		body = append(body, jen.List(ss...).Op(":=").List(strides...))
	}
	body = append(body, emitEmptyReturn(rank))
	if k.Stride == 1 {
		body = append(body, rowBytes(rank-1, w))
	}
	body = append(body,
		jen.Id("d").Op(":=").Lit(0),
		jen.Id(o(0)).Op(":=").Lit(0),
	)
	body = append(body, emitAxis(0, rank, w, k)...)
	if k.Stride == 1 { // the row copies' non-temporal stores, fenced once (see Kernel)
		body = append(body, jen.If(jen.Id("stream")).Block(jen.Id("StreamFence").Call()))
	}
	return jen.Add(kernelDoc(name, rank, w, k)).Line().
		Func().Id(name).Params(
		jen.List(jen.Id("dst"), jen.Id("src")).Qual("unsafe", "Pointer"),
		jen.List(jen.Id("shape"), jen.Id("strides")).Index(jen.Id("MaxRank")).Int(),
		jen.Id("stream").Bool(),
	).Block(body...)
}

// kernelDoc states the kernel's contract as the equivalent plain loop.
func kernelDoc(name string, rank int, w width, k kind) *jen.Statement {
	lines := []string{
		fmt.Sprintf("%s copies the rank-%d view of %d-byte elements that starts at src", name, rank, w.Size),
		"into dst in row-major order. shape and strides (in elements) are read up to",
		fmt.Sprintf("index %d; the %s.", rank-1, k.Doc),
		"stream asks for non-temporal stores (see Kernel). It is the plain loop",
		"",
		"\tk := 0",
	}
	var idx []string
	for a := 0; a < rank; a++ {
		lines = append(lines, fmt.Sprintf("%sfor %s := 0; %s < shape[%d]; %s++ {", strings.Repeat("\t", a+1), i(a), i(a), a, i(a)))
		idx = append(idx, fmt.Sprintf("%s*strides[%d]", i(a), a))
	}
	in := strings.Repeat("\t", rank+1)
	lines = append(lines,
		fmt.Sprintf("%sdst[k] = src[%s]", in, strings.Join(idx, " + ")),
		in+"k++",
	)
	for a := rank - 1; a >= 0; a-- {
		lines = append(lines, strings.Repeat("\t", a+1)+"}")
	}
	lines = append(lines, "", "with the caller guaranteeing that every index it reaches is inside both buffers.")
	return doc(lines...)
}

// emitAxis emits the loop over one axis; the outer ones are
//
//	for i0 := 0; i0 < n0; i0++ {
//		o1 := o0
//		<loop over axis 1>
//		o0 += s0
//	}
func emitAxis(axis, rank int, w width, k kind) []jen.Code {
	if axis == rank-1 {
		return k.Emit(axis, w)
	}
	if k.Planes != nil && (axis == rank-3 || rank == 2 && axis == 0) {
		return k.Planes(axis, w, rank)
	}
	loop := []jen.Code{jen.Id(o(axis + 1)).Op(":=").Id(o(axis))}
	loop = append(loop, emitAxis(axis+1, rank, w, k)...)
	loop = append(loop, jen.Id(o(axis)).Op("+=").Id(s(axis)))
	return []jen.Code{jen.For(
		jen.Id(i(axis)).Op(":=").Lit(0),
		jen.Id(i(axis)).Op("<").Id(n(axis)),
		jen.Id(i(axis)).Op("++"),
	).Block(loop...)}
}

// emitRows emits the copy of one whole row (rowBytes declared nb), which
// picks its stores by stream:
//
//	copyRun(unsafe.Add(dst, d), unsafe.Add(src, o2), nb, stream)
//	d += nb
func emitRows(axis int, w width) []jen.Code {
	code := []jen.Code{jen.Id("copyRun").Call(
		jen.Qual("unsafe", "Add").Call(jen.Id("dst"), jen.Id("d")),
		jen.Qual("unsafe", "Add").Call(jen.Id("src"), jen.Id(o(axis))),
		jen.Id("nb"), jen.Id("stream"),
	)}
	if axis > 0 { // a rank-1 kernel copies one row: d is not read again
		code = append(code, jen.Id("d").Op("+=").Id("nb"))
	}
	return code
}

// emitRowsPlanes emits the rows of the last three axes (or the last two,
// as one plane) as one call (rowBytes declared nb):
//
//	copyRows(unsafe.Add(dst, d), unsafe.Add(src, o1), n1, s1, n2, nb, s2, stream)
//	d += n1 * n2 * nb
func emitRowsPlanes(axis int, w width, rank int) []jen.Code {
	planes, planeStride := jen.Lit(1), jen.Lit(0)
	rows := axis
	if rank-axis == 3 {
		planes, planeStride = jen.Id(n(axis)), jen.Id(s(axis))
		rows = axis + 1
	}
	code := []jen.Code{jen.Id("copyRows").Call(
		jen.Qual("unsafe", "Add").Call(jen.Id("dst"), jen.Id("d")),
		jen.Qual("unsafe", "Add").Call(jen.Id("src"), jen.Id(o(axis))),
		planes, planeStride,
		jen.Id(n(rows)), jen.Id("nb"), jen.Id(s(rows)), jen.Id("stream"),
	)}
	if axis > 0 { // the outermost call: d is not read again
		moved := jen.Id(n(rows)).Op("*").Id("nb")
		if rows != axis {
			moved = jen.Id(n(axis)).Op("*").Add(moved)
		}
		code = append(code, jen.Id("d").Op("+=").Add(moved))
	}
	return code
}

// emitEmptyReturn returns early from an empty view, which reaches no index:
// its src may point anywhere, so no offset may be formed from it.
//
//	if n0 == 0 || n1 == 0 || n2 == 0 {
//		return
//	}
func emitEmptyReturn(rank int) jen.Code {
	cond := jen.Id(n(0)).Op("==").Lit(0)
	for a := 1; a < rank; a++ {
		cond = cond.Op("||").Id(n(a)).Op("==").Lit(0)
	}
	return jen.If(cond).Block(jen.Return())
}

// rowBytes is nb := n2 * 4, the bytes of one output row, hoisted out of the
// loops of a Rows kernel.
func rowBytes(axis int, w width) jen.Code {
	nb := jen.Id(n(axis))
	if w.Size > 1 {
		nb = nb.Op("*").Lit(w.Size)
	}
	return jen.Id("nb").Op(":=").Add(nb)
}

// emitGather emits the unrolled gather:
//
//	i2 := 0
//	for ; i2 <= n2-4; i2 += 4 {
//		v0 := *(*uint32)(unsafe.Add(src, o2))
//		v1 := *(*uint32)(unsafe.Add(src, o2+s2))
//		...
//		p := unsafe.Add(dst, d)
//		*(*uint32)(p) = v0
//		*(*uint32)(unsafe.Add(p, 4)) = v1
//		...
//		o2 += 4 * s2
//		d += 16
//	}
//	for ; i2 < n2; i2++ {
//		*(*uint32)(unsafe.Add(dst, d)) = *(*uint32)(unsafe.Add(src, o2))
//		o2 += s2
//		d += 4
//	}
func emitGather(axis int, w width) []jen.Code {
	var unrolled []jen.Code
	for j := 0; j < unroll; j++ {
		off := jen.Id(o(axis))
		switch {
		case j == 1:
			off = off.Op("+").Id(s(axis))
		case j > 1:
			off = off.Op("+").Lit(j).Op("*").Id(s(axis))
		}
		unrolled = append(unrolled, jen.Id(fmt.Sprintf("v%d", j)).Op(":=").Add(load(w, "src", off)))
	}
	unrolled = append(unrolled, jen.Id("p").Op(":=").Qual("unsafe", "Add").Call(jen.Id("dst"), jen.Id("d")))
	for j := 0; j < unroll; j++ {
		unrolled = append(unrolled, storeAt(w, "p", j, jen.Id(fmt.Sprintf("v%d", j))))
	}
	unrolled = append(unrolled,
		jen.Id(o(axis)).Op("+=").Lit(unroll).Op("*").Id(s(axis)),
		jen.Id("d").Op("+=").Lit(unroll*w.Size),
	)
	return []jen.Code{
		jen.Id(i(axis)).Op(":=").Lit(0),
		jen.For(jen.Empty(), jen.Id(i(axis)).Op("<=").Id(n(axis)).Op("-").Lit(unroll), jen.Id(i(axis)).Op("+=").Lit(unroll)).Block(unrolled...),
		jen.For(jen.Empty(), jen.Id(i(axis)).Op("<").Id(n(axis)), jen.Id(i(axis)).Op("++")).Block(
			store(w, load(w, "src", jen.Id(o(axis)))),
			jen.Id(o(axis)).Op("+=").Id(s(axis)),
			jen.Id("d").Op("+=").Lit(w.Size),
		),
	}
}

// emitBroadcast emits the unrolled fill of a row with one element:
//
//	v := *(*uint32)(unsafe.Add(src, o2))
//	i2 := 0
//	for ; i2 <= n2-4; i2 += 4 {
//		p := unsafe.Add(dst, d)
//		*(*uint32)(p) = v
//		...
//		d += 16
//	}
//	for ; i2 < n2; i2++ {
//		*(*uint32)(unsafe.Add(dst, d)) = v
//		d += 4
//	}
func emitBroadcast(axis int, w width) []jen.Code {
	unrolled := []jen.Code{jen.Id("p").Op(":=").Qual("unsafe", "Add").Call(jen.Id("dst"), jen.Id("d"))}
	for j := 0; j < unroll; j++ {
		unrolled = append(unrolled, storeAt(w, "p", j, jen.Id("v")))
	}
	unrolled = append(unrolled, jen.Id("d").Op("+=").Lit(unroll*w.Size))
	return []jen.Code{
		jen.Id("v").Op(":=").Add(load(w, "src", jen.Id(o(axis)))),
		jen.Id(i(axis)).Op(":=").Lit(0),
		jen.For(jen.Empty(), jen.Id(i(axis)).Op("<=").Id(n(axis)).Op("-").Lit(unroll), jen.Id(i(axis)).Op("+=").Lit(unroll)).Block(unrolled...),
		jen.For(jen.Empty(), jen.Id(i(axis)).Op("<").Id(n(axis)), jen.Id(i(axis)).Op("++")).Block(
			store(w, jen.Id("v")),
			jen.Id("d").Op("+=").Lit(w.Size),
		),
	}
}
