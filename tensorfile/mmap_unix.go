//go:build unix

package tensorfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the whole of f read-only and shared, so the views over it
// cost no copy and no memory beyond the page cache. It returns the bytes and
// the function that unmaps them. An empty file maps to an empty slice.
//
// Writing to the returned bytes faults (the mapping is PROT_READ), and a file
// truncated by another process while mapped raises SIGBUS on access: every
// reader of the map in this package and in package reshape makes that fault
// a panic (debug.SetPanicOnFault) and recovers it into ErrChanged or
// reshape.ErrFault.
//
// A file that cannot be mapped (a file of /proc or /sys, a file system
// without mmap) is read into memory instead, as on platforms without mmap,
// and isMapped is false.
func mapFile(f *os.File, size int64) (b []byte, unmap func() error, isMapped bool, err error) {
	if size == 0 {
		return []byte{}, func() error { return nil }, false, nil
	}
	if int64(int(size)) != size || size < 0 {
		return nil, nil, false, fmt.Errorf("%w: a file of %d bytes is too large to map on this platform", ErrTruncated, size)
	}
	b, err = mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		b, unmap, err = readAll(f, size)
		return b, unmap, false, err
	}
	// The data is read once, front to back, by the copy kernels.
	_ = unix.Madvise(b, unix.MADV_SEQUENTIAL)
	return b, func() error { return unix.Munmap(b) }, true, nil
}

// mmap is unix.Mmap: the seam through which tests make mapping fail.
var mmap = unix.Mmap

// openFlags is added to O_RDONLY when Open opens a file: O_NONBLOCK, so
// that opening a FIFO returns at once instead of waiting for a writer (it
// changes nothing for a regular file, whose reads and maps never block on
// it).
const openFlags = unix.O_NONBLOCK

// releasePages drops the whole pages of b, the start of a map that
// mapFile made, from the process's memory: a file's pages stay in the page
// cache, and a later read of them faults them back in. b must be a map's
// (a slice of a heap copy would read back zeros), which is why decode calls
// it only for a map.
func releasePages(b []byte) {
	n := len(b) / pageSize * pageSize
	if n > 0 {
		_ = unix.Madvise(b[:n], unix.MADV_DONTNEED)
	}
}

// pageSize is the size of a page of memory.
var pageSize = os.Getpagesize()
