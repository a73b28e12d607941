package convert

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/x448/float16"
)

// refRound is the reference rounding of an exact value to float16 or
// bfloat16 bits, from math/big: the value rounded to nearest even at the
// format's precision, or at its subnormal spacing below its smallest
// normal, then Inf past its largest finite value.
func refRound(v *big.Float, ft format) uint16 {
	var sign uint16
	if v.Signbit() {
		sign = 1 << (ft.mant + ft.exp)
		v = new(big.Float).Neg(v)
	}
	if v.Sign() == 0 {
		return sign
	}
	minNormalExp := 1 - ft.bias // the smallest normal is 2^minNormalExp
	inf := uint16(1<<ft.exp-1) << ft.mant
	if v.MantExp(nil)-1 < minNormalExp {
		// Subnormal range: count in units of the smallest subnormal.
		units := new(big.Float).SetMantExp(v, ft.mant-minNormalExp)
		k := roundToEvenInt(units)
		return sign | uint16(k) // k = 2^mant is the smallest normal's bits
	}
	r := new(big.Float).SetPrec(uint(ft.mant + 1)).SetMode(big.ToNearestEven).Set(v)
	e := r.MantExp(nil) - 1 // r = 1.m × 2^e
	if e+ft.bias >= 1<<ft.exp-1 {
		return sign | inf
	}
	frac := new(big.Float).SetMantExp(r, ft.mant-e) // 1.m × 2^mant, an integer
	k, _ := frac.Uint64()
	return sign | uint16(e+ft.bias)<<ft.mant | uint16(k-1<<ft.mant)
}

// roundToEvenInt rounds a non-negative big.Float to the nearest integer,
// ties to even.
func roundToEvenInt(x *big.Float) uint64 {
	i, _ := x.Uint64() // truncates
	rest := new(big.Float).Sub(x, new(big.Float).SetUint64(i))
	switch rest.Cmp(big.NewFloat(0.5)) {
	case 1:
		i++
	case 0:
		i += i & 1
	}
	return i
}

// samples returns bit patterns of float32 numbers: every 2^shift-th, and
// the neighbours of every power of two, where the roundings change.
func samples32(shift uint) []uint32 {
	var s []uint32
	for b := uint64(0); b < 1<<32; b += 1 << shift {
		s = append(s, uint32(b))
	}
	for e := uint32(0); e < 256; e++ {
		for _, sign := range []uint32{0, 1 << 31} {
			p := sign | e<<23
			for d := uint32(0); d < 1<<14; d += 97 { // around the half-way points of both formats
				s = append(s, p|d, p|(0x7fffff-d), p|(1<<12+d)&0x7fffff, p|(1<<15+d)&0x7fffff)
			}
		}
	}
	return s
}

// TestF32 checks the float32 roundings against x448 (float16), PyTorch's
// formula (bfloat16) and the reference, and the float64 roundings on every
// float32, which a float64 holds exactly, against the float32 ones.
func TestF32(t *testing.T) {
	shift := uint(10)
	if testing.Short() {
		shift = 14
	}
	for _, b := range samples32(shift) {
		f := math.Float32frombits(b)
		h := F32ToF16(f)
		require.Equal(t, uint16(float16.Fromfloat32(f)), h, "float16 of %#08x", b)
		require.Equal(t, h, F64ToF16(float64(f)), "float64 → float16 of %#08x", b)
		bf := F32ToBF16(f)
		require.Equal(t, bf, F64ToBF16(float64(f)), "float64 → bfloat16 of %#08x", b)
		if f != f {
			require.Equal(t, uint16(b>>16|0x40), bf, "bfloat16 NaN of %#08x keeps sign and payload", b)
			continue
		}
		torch := uint16((b + 0x7fff + (b>>16)&1) >> 16) // c10::round_to_nearest_even
		require.Equal(t, torch, bf, "bfloat16 of %#08x", b)
		if math.IsInf(float64(f), 0) {
			continue
		}
		exact := new(big.Float).SetFloat64(float64(f))
		require.Equal(t, refRound(exact, f16Format), h, "reference float16 of %#08x", b)
		require.Equal(t, refRound(exact, bf16Format), bf, "reference bfloat16 of %#08x", b)
	}
}

// TestWiden checks all 65,536 float16 and bfloat16 values widen to the float32
// of the same value and round back to themselves (a NaN comes back quiet).
func TestWiden(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		f := F16ToF32(h)
		require.Equal(t, math.Float32bits(float16.Frombits(h).Float32()), math.Float32bits(f), "float16 %#04x", h)
		quiet := h
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			quiet |= 0x200
		}
		require.Equal(t, quiet, F32ToF16(f), "float16 %#04x round trip", h)

		g := BF16ToF32(h)
		require.Equal(t, uint32(h)<<16, math.Float32bits(g), "bfloat16 %#04x", h)
		quiet = h
		if h&0x7f80 == 0x7f80 && h&0x7f != 0 {
			quiet |= 0x40
		}
		require.Equal(t, quiet, F32ToBF16(g), "bfloat16 %#04x round trip", h)
	}
}

// TestF64 checks the float64 roundings on values a float32 does not hold,
// near the formats' rounding points, against the reference.
func TestF64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	for range n {
		// A float16 or bfloat16 value, nudged by a few float64 ulps around
		// a half-way point, or a random float64 of a moderate exponent.
		var f float64
		switch rng.IntN(3) {
		case 0:
			h := float64(F16ToF32(uint16(rng.Uint32())))
			f = h + math.Ldexp(float64(rng.IntN(5)-2), -25)*math.Max(math.Abs(h), 1e-7)
		case 1:
			b := float64(BF16ToF32(uint16(rng.Uint32())))
			f = b * (1 + math.Ldexp(float64(rng.IntN(9)-4)+0.5, -8))
		default:
			f = math.Ldexp(rng.Float64()*2-1, rng.IntN(300)-150)
		}
		if math.IsInf(f, 0) || f != f {
			continue
		}
		exact := new(big.Float).SetFloat64(f)
		require.Equal(t, refRound(exact, f16Format), F64ToF16(f), "float16 of %v (%#016x)", f, math.Float64bits(f))
		require.Equal(t, refRound(exact, bf16Format), F64ToBF16(f), "bfloat16 of %v (%#016x)", f, math.Float64bits(f))
	}
	require.Equal(t, uint16(0x7c00), F64ToF16(math.Inf(1)))
	require.Equal(t, uint16(0xff80), F64ToBF16(math.Inf(-1)))
	nan := math.Float64frombits(0xfff0_8000_0000_0001) // negative, signalling, payload in the top bits
	require.Equal(t, uint16(0xfe20), F64ToF16(nan), "float16 NaN keeps sign and top payload, quiet")
	require.Equal(t, uint16(0xffc0|0x04), F64ToBF16(nan), "bfloat16 NaN keeps sign and top payload, quiet")
}

// TestIntegers checks the integer roundings, once from the exact value,
// against the reference, on values around every power of two.
func TestIntegers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for e := 0; e < 64; e++ {
		for range 200 {
			v := uint64(1)<<e + rng.Uint64()>>(64-max(e, 1)) // bits below the leading one
			if rng.IntN(4) == 0 {
				v = uint64(1)<<e - uint64(rng.IntN(3))
			}
			exact := new(big.Float).SetUint64(v)
			require.Equal(t, refRound(exact, f16Format), U64ToF16(v), "float16 of %d", v)
			require.Equal(t, refRound(exact, bf16Format), U64ToBF16(v), "bfloat16 of %d", v)
			if v <= 1<<63 {
				i := -int64(v-1) - 1 // -v, MinInt64 included
				neg := new(big.Float).SetInt64(i)
				require.Equal(t, refRound(neg, f16Format), I64ToF16(i), "float16 of %d", i)
				require.Equal(t, refRound(neg, bf16Format), I64ToBF16(i), "bfloat16 of %d", i)
			}
		}
	}
	require.Equal(t, uint16(0), I64ToBF16(0))
	require.Equal(t, uint16(0x3c00), I64ToF16(1))
	require.Equal(t, uint16(0x7c00), U64ToF16(65520), "half-way past the largest float16 rounds to Inf")
	require.Equal(t, uint16(0x7bff), U64ToF16(65519))
}

// TestSaturate checks the float to integer conversions: truncation, the
// bounds of each width, NaN and the infinities.
func TestSaturate(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		f      float64
		lo, hi int64
		want   int64
	}{
		{2.9, -128, 127, 2}, {-2.9, -128, 127, -2}, {127.99, -128, 127, 127}, {128, -128, 127, 127},
		{-128.9, -128, 127, -128}, {1e300, -128, 127, 127}, {inf, -128, 127, 127}, {-inf, -128, 127, -128},
		{math.NaN(), -128, 127, 0}, {0x1p63, math.MinInt64, math.MaxInt64, math.MaxInt64},
		{-0x1p63, math.MinInt64, math.MaxInt64, math.MinInt64}, {0x1p62, math.MinInt64, math.MaxInt64, 1 << 62},
		{-0x1p70, math.MinInt32, math.MaxInt32, math.MinInt32},
	} {
		require.Equal(t, c.want, F64ToInt(c.f, c.lo, c.hi), "%v in [%d, %d]", c.f, c.lo, c.hi)
	}
	for _, c := range []struct {
		f    float64
		hi   uint64
		want uint64
	}{
		{2.9, 255, 2}, {-2.9, 255, 0}, {-0.0, 255, 0}, {255.9, 255, 255}, {256, 255, 255}, {inf, 255, 255},
		{-inf, 255, 0}, {math.NaN(), 255, 0}, {0x1p64, math.MaxUint64, math.MaxUint64},
		{0x1p63, math.MaxUint64, 1 << 63}, {65535.5, 65535, 65535},
	} {
		require.Equal(t, c.want, F64ToUint(c.f, c.hi), "%v in [0, %d]", c.f, c.hi)
	}
}
