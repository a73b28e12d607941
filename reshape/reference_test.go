package reshape

import (
	"math/rand/v2"
	"unsafe"
)

// referenceCopy is the plain loop every kernel and every public function is
// checked against: an odometer over the output's row-major order that
// computes each source index from scratch. strides nil means row-major. It
// assumes a valid view and a dst of the right length.
func referenceCopy[T any](dst, data []T, shape, strides []int, offset int) {
	n := 1
	for _, e := range shape {
		n *= e
	}
	if n == 0 {
		return
	}
	if strides == nil {
		strides = make([]int, len(shape))
		acc := 1
		for a := len(shape) - 1; a >= 0; a-- {
			strides[a] = acc
			acc *= shape[a]
		}
	}
	idx := make([]int, len(shape))
	for k := 0; k < n; k++ {
		src := offset
		for a := range shape {
			src += idx[a] * strides[a]
		}
		dst[k] = data[src]
		for a := len(shape) - 1; a >= 0; a-- {
			idx[a]++
			if idx[a] < shape[a] {
				break
			}
			idx[a] = 0
		}
	}
}

// asBytes views a slice's memory as bytes, so values compare bit for bit
// (NaN payloads included).
func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// randomFill fills s with random bit patterns.
func randomFill[T any](rng *rand.Rand, s []T) {
	b := asBytes(s)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// guard is the number of guard elements on each side of a destination, and
// guardByte their bit pattern.
const (
	guard     = 16
	guardByte = 0xA5
)

// guarded returns a buffer of n elements with guard elements on each side,
// filled with guardByte, and the n-element window inside it.
func guarded[T any](n int) (all, window []T) { return guardedAligned[T](n, 1) }

// guardedAligned is guarded with a window that starts at a multiple of
// align bytes; the guard elements before it are guard or more.
func guardedAligned[T any](n, align int) (all, window []T) {
	size := int(unsafe.Sizeof(*new(T)))
	extra := (align - 1 + size - 1) / size // elements enough to move the window align-1 bytes on
	all = make([]T, n+2*guard+extra)
	b := asBytes(all)
	for i := range b {
		b[i] = guardByte
	}
	k := guard
	for uintptr(unsafe.Pointer(&all[k]))%uintptr(align) != 0 {
		k++
	}
	return all, all[k : k+n]
}

// guardsIntact reports whether the guard elements around the window are
// untouched.
func guardsIntact[T any](all []T) bool {
	b := asBytes(all)
	size := len(b) / len(all)
	for i, v := range b {
		if (i < guard*size || i >= len(b)-guard*size) && v != guardByte {
			return false
		}
	}
	return true
}

// span returns the lowest and highest offset, relative to element [0,...],
// that a view of this shape and these strides reaches (0, 0 when empty).
func span(shape, strides []int) (lo, hi int) {
	for a, e := range shape {
		if e == 0 {
			return 0, 0
		}
		if d := (e - 1) * strides[a]; d < 0 {
			lo += d
		} else {
			hi += d
		}
	}
	return lo, hi
}
