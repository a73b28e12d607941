package reshape

import (
	"unsafe"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/generated"
	"github.com/stridekit/stridekit/internal/convert"
)

// Reshape and convert in one pass: the As functions write a view of
// element type S as a matrix of element type D, converting each element as
// they copy it. Models run in bfloat16 or float16 and sparse autoencoders
// train in float32, so a captured batch usually needs both; one pass reads
// the source once and writes the result once, with no temporary.
//
// The element conversions, the same on every platform and every path:
//
//   - float to float (float64, float32, float16, bfloat16) rounds to
//     nearest, ties to even; a value beyond the target's range becomes ±Inf;
//     NaN stays NaN, with its sign and as much of its payload as fits,
//     quieted; subnormals are kept where the target has them, and ±0 are
//     kept. float16 results agree bit for bit with github.com/x448/float16,
//     bfloat16 results with PyTorch's float → bfloat16 for every number
//     (PyTorch turns every NaN into 0x7FC0, which this does not).
//   - integer to float follows Go's conversions: one rounding, to nearest
//     even. To float16 and bfloat16 too: a wide integer rounds once, from
//     its exact value.
//   - float to integer truncates toward zero, as Go's conversions do, and
//     saturates where Go leaves the result to the implementation: a value
//     below the integer's range gives its minimum, above it its maximum, and
//     NaN gives 0.
//   - integer to integer follows Go's conversions: it wraps.
//
// bfloat16 → float32, float16 → float32, float64 → float32, float32 →
// bfloat16, float16 and float64, and int8, uint8 and int16 → float32 have
// kernels of their own (generated.Conversions; on amd64 AVX2 loops, with
// F16C for float16). Every other pair converts element by element through
// a generic loop: one pass still, and the same results.

// ContiguousAs writes the view t row-major into dst[:n], n = t.Len(),
// converting every element from S to D by the rules above, without
// allocating. It checks what Contiguous checks, with the same sentinels:
// dst must hold n elements and must not overlap the bytes of t.Data between
// the lowest and highest index the view reads, whatever the two types
// (ErrDst); on any error dst is untouched. When D and S are the same type
// it is Contiguous.
func ContiguousAs[D, S Element](dst []D, t Tensor[S]) error {
	_, err := reshapeAs[D, S](dst, true, t, 1)
	return err
}

// ToLastDimensionAs is ToLastDimension converting to D: it returns the
// [prod(...), f] matrix of the view t with every element converted from S
// to D (see ContiguousAs). When D and S are the same type it is
// ToLastDimension, which returns an already contiguous view without
// copying; otherwise it always allocates the result.
func ToLastDimensionAs[D, S Element](t Tensor[S]) (Matrix[D], error) {
	return reshapeAs[D, S](nil, false, t, 1)
}

// ToLastDimensionAsInto is ToLastDimensionInto converting to D: it writes
// into dst[:n] and never allocates, with the guarantees of ContiguousAs.
func ToLastDimensionAsInto[D, S Element](dst []D, t Tensor[S]) (Matrix[D], error) {
	return reshapeAs[D, S](dst, true, t, 1)
}

// ConcatLastDimensionsAs is ConcatLastDimensions converting to D (see
// ContiguousAs and ToLastDimensionAs).
func ConcatLastDimensionsAs[D, S Element](t Tensor[S], concatDims int) (Matrix[D], error) {
	return reshapeAs[D, S](nil, false, t, concatDims)
}

// ConcatLastDimensionsAsInto is ConcatLastDimensionsInto converting to D,
// with the guarantees of ContiguousAs.
func ConcatLastDimensionsAsInto[D, S Element](dst []D, t Tensor[S], concatDims int) (Matrix[D], error) {
	return reshapeAs[D, S](dst, true, t, concatDims)
}

// ConcatLastDimensionsAsFunc returns the function that applies
// ConcatLastDimensionsAs with concatDims, for a capture hook that stores
// bfloat16 activations as float32, say. concatDims is checked against each
// view's rank when it runs.
func ConcatLastDimensionsAsFunc[D, S Element](concatDims int) func(Tensor[S]) (Matrix[D], error) {
	return func(t Tensor[S]) (Matrix[D], error) {
		return reshapeAs[D, S](nil, false, t, concatDims)
	}
}

// reshapeAs is reshape converting from S to D: the same checks, then the
// conversion's dispatch. The same type goes to reshape itself, so that it
// behaves exactly as the functions without As.
func reshapeAs[D, S Element](dst []D, into bool, t Tensor[S], concatDims int) (Matrix[D], error) {
	if _, same := any((*S)(nil)).(*D); same {
		return reshape(dst, into, *(*Tensor[D])(unsafe.Pointer(&t)), concatDims)
	}
	v, m, done, err := prepare(dst, into, t.Shape, t.Strides, t.Offset, len(t.Data), concatDims)
	if done || err != nil {
		return m, err
	}
	if dst, err = destination(dst, into, t.Data, v); err != nil {
		return Matrix[D]{}, err
	}
	var buf canonBuf
	cshape, cstrides := canonicalise(&buf, t.Shape, t.Strides)
	from, to := valueDTypeOf[S](), valueDTypeOf[D]()
	if from == to { // two types of one representation: a copy
		err = dispatch(dtypeOf[D](), unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(&t.Data[t.Offset]), v, cshape, cstrides)
	} else {
		c := conversion{from: from, to: to, run: converterOf[D, S](from, to)}
		err = dispatchAs(c, unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(&t.Data[t.Offset]), v, cshape, cstrides)
	}
	if err != nil {
		return Matrix[D]{}, err
	}
	m.Data = dst[:v.n]
	return m, nil
}

// conversion is what a converting copy needs beyond a plain one: the two
// dtypes and the converter of its pair.
type conversion struct {
	from, to generated.DType
	run      converter // nil for a plain copy
}

// converter converts planes of rows of elements, as generated.Convert. It
// is an interface so that the generic converter, a method of a zero-size
// type, is stored and called without an allocation (a generic function as
// a value is a closure).
type converter interface {
	convert(dst, src unsafe.Pointer, planes, planeStride, rows, rowStride, n, stride int)
}

// specialised is the converter of a pair with kernels of its own.
type specialised generated.Convert

func (f specialised) convert(dst, src unsafe.Pointer, planes, planeStride, rows, rowStride, n, stride int) {
	f(dst, src, planes, planeStride, rows, rowStride, n, stride)
}

// generic is the converter of every other pair (convertGeneric).
type generic[D, S Element] struct{}

func (generic[D, S]) convert(dst, src unsafe.Pointer, planes, planeStride, rows, rowStride, n, stride int) {
	convertGeneric[D, S](dst, src, planes, planeStride, rows, rowStride, n, stride)
}

// converterOf returns the converter from S to D, whose values are of
// dtypes from and to: the pair's own kernels where it has them, the
// generic loop otherwise.
func converterOf[D, S Element](from, to generated.DType) converter {
	if f := generated.Conversions[from][to]; f != nil {
		return specialised(f)
	}
	return generic[D, S]{}
}

// The generic conversion goes through the widest value of the source's
// class, which holds every source exactly: int64, uint64 or float64 (a
// float16 or bfloat16 through its exact float32). From there each
// destination converts with one rounding: Go's conversions to floats and
// integers, the direct roundings of package convert to float16 and
// bfloat16, and the saturating float to integer conversions.

// class is the kind of number a dtype holds.
type class uint8

const (
	signed class = iota
	unsigned
	floating // float32, float64
	half     // float16, bfloat16: 16 bits, converted through float32
)

// classOf returns the class of dt.
func classOf(dt generated.DType) class {
	switch dt {
	case generated.Int8, generated.Int16, generated.Int32, generated.Int64:
		return signed
	case generated.Uint8, generated.Uint16, generated.Uint32, generated.Uint64:
		return unsigned
	case generated.Float16, generated.BFloat16:
		return half
	}
	return floating
}

// convertGeneric is the generated.Convert of any pair, one element at a
// time through the widest value of the source's class.
func convertGeneric[D, S Element](dst, src unsafe.Pointer, planes, planeStride, rows, rowStride, n, stride int) {
	from, to := valueDTypeOf[S](), valueDTypeOf[D]()
	var one func(S, generated.DType) D
	switch classOf(from) {
	case signed:
		one = signedTo[D, S]
	case unsigned:
		one = unsignedTo[D, S]
	case half:
		one = halfTo[D, S]
		if from == generated.BFloat16 {
			one = bfloat16To[D, S]
		}
	default:
		one = floatTo[D, S]
	}
	out := unsafe.Slice((*D)(dst), planes*rows*n)
	k := 0
	for p := 0; p < planes; p++ {
		o := p * planeStride
		for r := 0; r < rows; r++ {
			s := o
			for i := 0; i < n; i++ {
				out[k] = one(*(*S)(unsafe.Add(src, s)), to)
				k++
				s += stride
			}
			o += rowStride
		}
	}
}

// The element conversions of convertGeneric, by the class of the source.
func signedTo[D, S Element](s S, to generated.DType) D   { return fromInt64[D](int64(s), to) }
func unsignedTo[D, S Element](s S, to generated.DType) D { return fromUint64[D](uint64(s), to) }
func floatTo[D, S Element](s S, to generated.DType) D    { return fromFloat64[D](float64(s), to) }
func halfTo[D, S Element](s S, to generated.DType) D {
	return fromFloat64[D](float64(convert.F16ToF32(uint16(s))), to)
}
func bfloat16To[D, S Element](s S, to generated.DType) D {
	return fromFloat64[D](float64(convert.BF16ToF32(uint16(s))), to)
}

// valueDTypeOf returns the dtype whose values T holds: T's own for the
// library's types (dtypeOf), and for a type defined on a Go number type the
// dtype of that type, told by arithmetic: a float halves 1, a signed
// integer goes below 0. (dtypeOf maps such a type to the unsigned integer
// of its size, which is all a copy needs.) A type defined on BFloat16 or
// float16.Float16 holds a uint16 as far as this can tell.
func valueDTypeOf[T Element]() generated.DType {
	dt := dtypeOf[T]()
	switch any((*T)(nil)).(type) {
	case *float32, *float64, *float16.Float16, *BFloat16, *int8, *uint8, *int16, *uint16, *int32, *uint32, *int64, *uint64:
		return dt
	}
	var one, zero T
	one++
	size := unsafe.Sizeof(zero)
	switch {
	case one/2 != 0 && size == 4:
		return generated.Float32
	case one/2 != 0:
		return generated.Float64
	case zero-one > zero: // unsigned: dtypeOf's answer
		return dt
	}
	switch size {
	case 1:
		return generated.Int8
	case 2:
		return generated.Int16
	case 4:
		return generated.Int32
	}
	return generated.Int64
}

// fromInt64 converts an integer to D.
func fromInt64[D Element](v int64, to generated.DType) D {
	switch to {
	case generated.Float16:
		return D(convert.I64ToF16(v))
	case generated.BFloat16:
		return D(convert.I64ToBF16(v))
	}
	return D(v) // Go: wraps to integers, rounds once to floats
}

// fromUint64 converts an unsigned integer to D.
func fromUint64[D Element](v uint64, to generated.DType) D {
	switch to {
	case generated.Float16:
		return D(convert.U64ToF16(v))
	case generated.BFloat16:
		return D(convert.U64ToBF16(v))
	}
	return D(v)
}

// fromFloat64 converts a float, exact in a float64, to D.
func fromFloat64[D Element](f float64, to generated.DType) D {
	switch to {
	case generated.Float16:
		return D(convert.F64ToF16(f))
	case generated.BFloat16:
		return D(convert.F64ToBF16(f))
	case generated.Float32, generated.Float64:
		return D(f) // one rounding to float32; none to float64
	case generated.Int8:
		return D(convert.F64ToInt(f, -1<<7, 1<<7-1))
	case generated.Int16:
		return D(convert.F64ToInt(f, -1<<15, 1<<15-1))
	case generated.Int32:
		return D(convert.F64ToInt(f, -1<<31, 1<<31-1))
	case generated.Int64:
		return D(convert.F64ToInt(f, -1<<63, 1<<63-1))
	case generated.Uint8:
		return D(convert.F64ToUint(f, 1<<8-1))
	case generated.Uint16:
		return D(convert.F64ToUint(f, 1<<16-1))
	case generated.Uint32:
		return D(convert.F64ToUint(f, 1<<32-1))
	}
	return D(convert.F64ToUint(f, 1<<64-1))
}
