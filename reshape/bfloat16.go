package reshape

import "math"

// BFloat16 is a bfloat16 number: the top 16 bits of an IEEE 754 float32 (sign,
// 8 exponent bits, 7 mantissa bits), the format most activations are captured
// in. It is a uint16 underneath, so it is an Element and copies as one.
type BFloat16 uint16

// BFloat16FromFloat32 rounds f to the nearest bfloat16, ties to even. NaN stays
// a (quiet) NaN, infinities stay infinities.
func BFloat16FromFloat32(f float32) BFloat16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep the sign, force a quiet NaN
		return BFloat16(b>>16 | 0x0040)
	}
	rounding := uint32(0x7fff) + (b>>16)&1
	return BFloat16((b + rounding) >> 16)
}

// Float32 returns b as a float32; the conversion is exact.
func (b BFloat16) Float32() float32 {
	return math.Float32frombits(uint32(b) << 16)
}
