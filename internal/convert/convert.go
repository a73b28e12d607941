// Package convert holds the scalar conversions between the element types of
// stridekit that Go's own conversions do not make, or make differently: to
// and from float16 and bfloat16, and from floats to integers, saturating.
// They are the reference of every vectorised conversion and the element
// step of the Go forms. The rules, stated once in package reshape
// (ContiguousAs), are:
//
//   - float to float rounds to nearest, ties to even; overflow gives ±Inf;
//     NaN stays NaN, with its sign and the top bits of its payload, quieted;
//     subnormals are kept where the target has them, and ±0 are kept.
//   - float16 agrees bit for bit with github.com/x448/float16; bfloat16
//     with PyTorch's round to nearest even for every number (PyTorch turns
//     every NaN into 0x7FC0; here a NaN keeps its sign and payload).
//   - integer to float follows Go (one rounding, to nearest even), and so do
//     the conversions to float16 and bfloat16 from integers wider than
//     float32 holds exactly: they round once, from the integer itself.
//   - float to integer truncates toward zero, as Go does, and saturates:
//     a value beyond the integer's range gives its minimum or maximum, NaN
//     gives 0 (Go leaves these cases to the implementation).
package convert

import (
	"math"
	"math/bits"

	"github.com/x448/float16"
)

// BF16ToF32 widens bfloat16 bits to the float32 of the same value: the bits
// are the top half of it.
func BF16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// F32ToBF16 rounds f to the nearest bfloat16, ties to even, as PyTorch does
// for numbers; a NaN keeps its sign and the top 7 bits of its payload and
// is quieted.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16 | 0x0040)
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// F16ToF32 widens float16 bits to the float32 of the same value, as
// github.com/x448/float16 does (a signalling NaN comes back quiet).
func F16ToF32(h uint16) float32 { return float16.Frombits(h).Float32() }

// F32ToF16 rounds f to the nearest float16, ties to even, with
// github.com/x448/float16.
func F32ToF16(f float32) uint16 { return uint16(float16.Fromfloat32(f)) }

// format is a binary floating-point format narrower than float64.
type format struct {
	mant int // stored mantissa bits
	bias int // exponent bias; the largest exponent field, all ones, is Inf/NaN
	exp  int // exponent bits
}

var (
	f16Format  = format{mant: 10, bias: 15, exp: 5}
	bf16Format = format{mant: 7, bias: 127, exp: 8}
)

// F64ToF16 rounds f to the nearest float16, ties to even, directly (going
// through float32 would round twice). A NaN keeps its sign and the top 10
// bits of its payload, quieted, as F32ToF16 keeps them from a float32.
func F64ToF16(f float64) uint16 { return fromFloat64(f, f16Format) }

// F64ToBF16 rounds f to the nearest bfloat16, ties to even, directly. A NaN
// keeps its sign and the top 7 bits of its payload, quieted.
func F64ToBF16(f float64) uint16 { return fromFloat64(f, bf16Format) }

// I64ToF16 rounds v to the nearest float16, ties to even, once.
func I64ToF16(v int64) uint16 { return fromInt(v < 0, abs64(v), f16Format) }

// U64ToF16 rounds v to the nearest float16, ties to even, once.
func U64ToF16(v uint64) uint16 { return fromInt(false, v, f16Format) }

// I64ToBF16 rounds v to the nearest bfloat16, ties to even, once.
func I64ToBF16(v int64) uint16 { return fromInt(v < 0, abs64(v), bf16Format) }

// U64ToBF16 rounds v to the nearest bfloat16, ties to even, once.
func U64ToBF16(v uint64) uint16 { return fromInt(false, v, bf16Format) }

// abs64 returns |v| as a uint64 (MinInt64 included).
func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v) // -MinInt64 wraps to MinInt64, whose uint64 is 2^63: right
	}
	return uint64(v)
}

// fromFloat64 rounds f to format ft.
func fromFloat64(f float64, ft format) uint16 {
	b := math.Float64bits(f)
	sign := uint16(b>>63) << (ft.mant + ft.exp)
	e := int(b>>52) & 0x7ff
	m := b & (1<<52 - 1)
	inf := uint16(1<<ft.exp-1) << ft.mant
	switch {
	case e == 0x7ff && m != 0: // NaN
		return sign | inf | 1<<(ft.mant-1) | uint16(m>>(52-ft.mant))
	case e == 0x7ff:
		return sign | inf
	case e == 0 && m == 0:
		return sign
	case e == 0: // a float64 subnormal is far below every subnormal of ft: it rounds to 0
		return sign
	}
	// The value is (2^52 + m) × 2^(e-1075).
	return sign | round(m|1<<52, e-1075, ft)
}

// fromInt rounds the integer mag (negated when neg) to format ft.
func fromInt(neg bool, mag uint64, ft format) uint16 {
	var sign uint16
	if neg {
		sign = 1 << (ft.mant + ft.exp)
	}
	if mag == 0 {
		return sign
	}
	return sign | round(mag, 0, ft)
}

// round returns the exponent and mantissa fields of ft for the positive
// value mag × 2^shift, rounded to nearest, ties to even: subnormal below
// ft's smallest normal, Inf above its largest finite value.
func round(mag uint64, shift int, ft format) uint16 {
	// Normalise so the leading 1 is bit 63; the value is then
	// (mag / 2^63) × 2^e with e the unbiased exponent.
	lz := bits.LeadingZeros64(mag)
	mag <<= lz
	e := shift + 63 - lz
	biased := e + ft.bias
	// Bits of mag to drop: 63 - mant for a normal, more for a subnormal.
	drop := 63 - ft.mant
	if biased < 1 {
		drop += 1 - biased
		biased = 0
	}
	if drop > 64 {
		return 0 // below a quarter of the smallest subnormal
	}
	kept := mag >> drop        // 0 at drop 64, where all of mag is the fraction
	rest := mag << (64 - drop) // the dropped bits, left-aligned
	if rest > 1<<63 || rest == 1<<63 && kept&1 == 1 {
		kept++
	}
	// kept is 1.mant (normal) or 0.mant (subnormal); a carry past the
	// mantissa moves to the next exponent, which the addition does.
	var fields uint64
	if biased == 0 {
		fields = kept // a subnormal, or the smallest normal after a carry
	} else {
		fields = uint64(biased-1)<<ft.mant + kept // kept includes the implicit 1
	}
	if fields >= uint64(1<<ft.exp-1)<<ft.mant {
		return uint16(1<<ft.exp-1) << ft.mant // Inf
	}
	return uint16(fields)
}

// Saturating float to integer conversions: truncate toward zero, clamp to
// the integer's range, NaN to 0.

// F64ToInt returns f truncated toward zero and clamped to [lo, hi], or 0
// for NaN. lo and hi are the range of a signed integer type of at most 64
// bits.
func F64ToInt(f float64, lo, hi int64) int64 {
	switch {
	case f != f:
		return 0
	case f <= float64(lo): // float64(MinInt64) is exact
		return lo
	case f >= float64(hi): // float64(MaxInt64) rounds up to 2^63, which no int64 reaches
		return hi
	}
	return int64(f)
}

// F64ToUint returns f truncated toward zero and clamped to [0, hi], or 0
// for NaN. hi is the maximum of an unsigned integer type of at most 64 bits.
func F64ToUint(f float64, hi uint64) uint64 {
	switch {
	case f != f || f <= 0:
		return 0
	case f >= float64(hi): // float64(MaxUint64) rounds up to 2^64
		return hi
	}
	return uint64(f)
}
