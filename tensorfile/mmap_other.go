//go:build !unix

package tensorfile

import "os"

// mapFile reads the whole of f into memory, on platforms where this package
// does not memory-map files.
func mapFile(f *os.File, size int64) ([]byte, func() error, bool, error) {
	b, release, err := readAll(f, size)
	return b, release, false, err
}

// openFlags is added to O_RDONLY when Open opens a file: nothing here.
const openFlags = 0

// releasePages does nothing where files are read, not mapped.
func releasePages([]byte) {}
