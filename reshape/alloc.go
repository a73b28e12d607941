package reshape

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// platformMaxAlloc is the most bytes one allocation can hold on this
// platform: 2^48 on 64-bit ones (the Go heap's address space), and on 32-bit
// ones the largest int, beyond which no slice's length in bytes can go.
const platformMaxAlloc = uint64(min(math.MaxInt, 1<<48))

// defaultMaxAlloc is DefaultMaxAlloc's value, found once.
var defaultMaxAlloc = func() uint64 {
	if m := physicalMemory(); m > 0 && m < platformMaxAlloc {
		return m
	}
	return platformMaxAlloc
}()

// maxAlloc is the setting of SetMaxAlloc in bytes; 0 means the default.
var maxAlloc atomic.Uint64

// DefaultMaxAlloc returns the default cap, in bytes, on a result that the
// allocating forms (ToLastDimension, ConcatLastDimensions, their As forms,
// Pattern.Apply, Rearrange) allocate and the Append forms grow a store to:
// the machine's physical memory where the platform reports it (Linux,
// macOS), bounded by what one allocation can hold on the platform (2^48
// bytes on 64-bit platforms, 2^31-1 on 32-bit ones). A larger result could
// only end the process with "fatal error: out of memory", which no recover
// catches; it is refused with ErrShape instead.
func DefaultMaxAlloc() int { return int(defaultMaxAlloc) }

// SetMaxAlloc sets the cap, in bytes, on a result the allocating forms
// allocate (and the Append forms grow a store to), and returns the previous
// setting; bytes <= 0 restores DefaultMaxAlloc. A result of more bytes is
// refused with ErrShape before anything is allocated. The Into forms
// allocate nothing and have no cap: write a huge broadcast into a buffer
// of your own, or in blocks. Caps above what the platform can allocate are
// lowered to it. The setting is global and safe to change concurrently
// with copies.
func SetMaxAlloc(bytes int) (previous int) {
	v := uint64(0)
	if bytes > 0 {
		v = min(uint64(bytes), platformMaxAlloc)
	}
	prev := maxAlloc.Swap(v)
	if prev == 0 {
		prev = defaultMaxAlloc
	}
	return int(prev)
}

// allocCap returns the cap now in force, in bytes.
func allocCap() uint64 {
	if v := maxAlloc.Load(); v != 0 {
		return v
	}
	return defaultMaxAlloc
}

// checkAlloc refuses, with ErrShape, a result of n elements of type D added
// to a store of old elements when it is above the allocation cap.
func checkAlloc[D Element](old, n int) error {
	var zero D
	size := uint64(unsafe.Sizeof(zero))
	limit := allocCap()
	if uint64(n) <= limit/size && uint64(old) <= limit/size-uint64(n) {
		return nil
	}
	if old > 0 {
		return errorf(ErrShape, "a store of %d elements grown by %d elements of %d bytes is above the allocation cap of %d bytes (SetMaxAlloc); an Into form writes it into a buffer of your own",
			old, n, size, limit)
	}
	return errorf(ErrShape, "a result of %d elements of %d bytes is above the allocation cap of %d bytes (SetMaxAlloc); an Into form writes it into a buffer of your own",
		n, size, limit)
}
