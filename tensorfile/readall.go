package tensorfile

import (
	"fmt"
	"io"
	"os"
	"unsafe"
)

// readAll reads the whole of f into memory: Open's way on platforms where
// this package does not memory-map files (see mmap_other.go). The buffer is
// allocated as []uint64, so the bytes start 8-aligned like a mapping's. It
// builds everywhere so that it is tested everywhere.
func readAll(f *os.File, size int64) ([]byte, func() error, error) {
	if int64(int(size)) != size || size < 0 {
		return nil, nil, fmt.Errorf("file of %d bytes is too large to read", size)
	}
	if size == 0 {
		return []byte{}, func() error { return nil }, nil
	}
	words := make([]uint64, (size+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), int(size))
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	return b, func() error { return nil }, nil
}
