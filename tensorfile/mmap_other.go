//go:build !unix

package tensorfile

import "os"

// mapFile reads the whole of f into memory, on platforms where this package
// does not memory-map files.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	return readAll(f, size)
}

// mapped reports whether Open memory-maps files on this platform.
const mapped = false

// openFlags is added to O_RDONLY when Open opens a file: nothing here.
const openFlags = 0
