package tensorfile

import (
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openUnnamed opens an unnamed file (O_TMPFILE) in dir, or reports false
// when the kernel or the file system does not support it (or /proc, through
// which linkUnnamed names it, is missing), so that the caller falls back to
// a named temporary file. The *os.File is called out, the file it becomes.
func openUnnamed(dir, out string, perm fs.FileMode) (*os.File, bool) {
	if !tryUnnamed {
		return nil, false
	}
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return nil, false
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, uint32(perm))
	if err != nil {
		return nil, false
	}
	return os.NewFile(uintptr(fd), out), true
}

// linkUnnamed gives the unnamed file f the name path, which must not exist.
func linkUnnamed(f *os.File, path string) error {
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: path, Err: err}
	}
	return nil
}
