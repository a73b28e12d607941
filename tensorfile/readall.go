package tensorfile

import (
	"errors"
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
	n, err := io.ReadFull(f, b)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		// Shorter than its size said: a file of /proc or /sys reports a
		// page, or the file shrank. Parse what there is.
		b = b[:n]
	case err != nil:
		return nil, nil, err // an *os.PathError naming the file
	}
	return b, func() error { return nil }, nil
}
