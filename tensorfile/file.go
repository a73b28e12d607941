package tensorfile

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Format is the kind of a tensor file.
type Format uint8

// The formats.
const (
	NPY         Format = iota + 1 // NumPy .npy: one array
	Safetensors                   // Hugging Face .safetensors: named tensors and string metadata
	NPZ                           // NumPy .npz: a zip archive of named .npy arrays (read only)
)

// String returns "npy" or "safetensors".
func (f Format) String() string {
	switch f {
	case NPY:
		return "npy"
	case Safetensors:
		return "safetensors"
	case NPZ:
		return "npz"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// FormatOf returns the format a path's extension names (.npy or
// .safetensors, in any case), or ErrInvalid.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return NPY, nil
	case ".safetensors":
		return Safetensors, nil
	}
	return 0, errorf(ErrInvalid, "%s: the extension must be .npy or .safetensors", path)
}

// File is an open tensor file: its arrays view a read-only memory map of it
// (on platforms without mmap, a copy in memory). Close it when its arrays
// and every view made from them are no longer used.
type File struct {
	// Format is the kind of file, found from its content.
	Format Format
	// Version is the .npy format version ("1.0", "2.0", "3.0"); "" for
	// safetensors.
	Version string
	// Arrays holds the tensors: the one array of a .npy file, or every
	// tensor of a .safetensors file sorted by where its data lies.
	Arrays []*Array
	// Metadata is the __metadata__ of a .safetensors file (nil if none).
	Metadata map[string]string
	// Size is the file's length in bytes.
	Size int64
	// Mapped reports that the arrays view a read-only memory map of the
	// file (Unix, for a file that can be mapped); otherwise they view a
	// copy of it in memory.
	Mapped bool

	unmap func() error
}

// Open opens the .npy, .npz or .safetensors file at path read-only and
// returns its arrays as views over a memory map of it (an .npz member
// stored compressed is read into memory instead: see Array.Compressed).
// The format is found from the content (a .npy file starts with its magic,
// an .npz with a zip header), not the name, except that a file named .npy
// without the magic is reported as such.
//
// Every failure wraps one of the sentinels: ErrFormat, ErrHeader,
// ErrTruncated, ErrData or ErrDType for bad content, or an *os.PathError
// (errors.Is(err, fs.ErrNotExist), ...) for a file that cannot be read.
// An array of an unsupported dtype (a string or complex .npy, a
// safetensors tensor of a dtype not listed here) is listed with DType
// Invalid and its Descr, and fails with ErrDType only when read. A
// path that is not a regular file (a directory, a named pipe, a device; a
// link is followed) fails with ErrFormat without being read, so that Open
// never waits on a FIFO.
//
// The file must not be truncated or rewritten in place (numpy.save to the
// same path) while the File is open: its arrays view the file's pages. If
// it is, reading a page that is gone fails with an error wrapping
// ErrChanged (reshape.ErrFault from package reshape's copies of a view of
// it) instead of ending the process with SIGBUS. Replacing the file by a
// rename, as WriteFile does, is safe: the map keeps the old file.
func Open(path string) (*File, error) {
	return OpenWith(path, Limits{})
}

// OpenWith is Open within the limits lim on what a header may hold (see
// Limits; the zero Limits are the defaults, as Open uses).
func OpenWith(path string, lim Limits) (*File, error) {
	// Refuse a named pipe, a device or a directory before opening it: opening
	// a FIFO for reading blocks until a writer comes, which may be never.
	fi, err := os.Stat(path) // follows links: a link to a regular file is fine
	if err != nil {
		return nil, err
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	b, unmap, isMapped, err := mapFile(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tf, err := decodeMapped(b, strings.EqualFold(filepath.Ext(path), ".npy"), isMapped, lim)
	if err != nil {
		_ = unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tf.Size, tf.Mapped, tf.unmap = fi.Size(), isMapped, unmap
	return tf, nil
}

// openRegular opens path read-only (the input is never modified) and
// checks again, on the open descriptor, that it is a regular file: the path
// may have been replaced since Open's Stat. openFlags holds O_NONBLOCK on
// Unix, so that even then opening a FIFO returns at once, to be refused
// here.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = regular(path, fi)
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// regular returns nil if fi is a regular file, else an error wrapping
// ErrFormat that says what path is instead.
func regular(path string, fi os.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	what := "a special file"
	switch t := fi.Mode().Type(); {
	case t&os.ModeDir != 0:
		what = "a directory"
	case t&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case t&os.ModeSocket != 0:
		what = "a socket"
	case t&os.ModeDevice != 0:
		what = "a device"
	}
	return fmt.Errorf("%s: %w: %s, not a regular file", path, ErrFormat, what)
}

// decodeMapped is decode of a file's memory map (or, if isMapped is
// false, of the copy read in its place): a fault because the file
// shrank since it was mapped is an error wrapping ErrChanged.
//
// The pages of a long header are dropped from the map as it is parsed
// (releasePages): they are not read again.
func decodeMapped(b []byte, npyName, isMapped bool, lim Limits) (f *File, err error) {
	defer catchFault(&err, debug.SetPanicOnFault(true))
	var release func(int)
	if isMapped {
		release = func(n int) { releasePages(b[:n]) }
	}
	return decodeWith(b, npyName, lim, release)
}

// decode parses a whole file held in b. npyName says the file is named .npy,
// so that a missing magic is reported as a bad .npy file.
func decode(b []byte, npyName bool) (*File, error) {
	return decodeWith(b, npyName, Limits{}, nil)
}

// decodeWith is decode within the limits lim; release, if not nil, is told
// how many bytes of b will not be read again.
func decodeWith(b []byte, npyName bool, lim Limits, release func(int)) (*File, error) {
	lim = lim.orDefaults()
	if npyName || bytes.HasPrefix(b, []byte(npyMagic)) || (len(b) < len(npyMagic) && bytes.HasPrefix([]byte(npyMagic), b) && len(b) > 0) {
		a, h, err := parseNPY(b, lim)
		if err != nil {
			return nil, err
		}
		return &File{Format: NPY, Version: fmt.Sprintf("%d.%d", h.major, h.minor), Arrays: []*Array{a}}, nil
	}
	if isZip(b) {
		arrays, err := parseNPZ(b, lim)
		if err != nil {
			return nil, err
		}
		return &File{Format: NPZ, Arrays: arrays}, nil
	}
	arrays, meta, err := parseSafetensors(b, lim, release)
	if err != nil {
		return nil, err
	}
	return &File{Format: Safetensors, Arrays: arrays, Metadata: meta}, nil
}

// Array returns the tensor called name. A .npy file's one array answers to
// any name, "" included; in a .safetensors file or an .npz archive (whose
// arrays are named after their members, without ".npy") a missing name is
// ErrNotFound.
func (f *File) Array(name string) (*Array, error) {
	if f.Format == NPY {
		return f.Arrays[0], nil
	}
	for _, a := range f.Arrays {
		if a.Name == name {
			return a, nil
		}
	}
	names := make([]string, 0, min(len(f.Arrays), 5))
	for _, a := range f.Arrays[:min(len(f.Arrays), 5)] {
		names = append(names, fmt.Sprintf("%q", a.Name))
	}
	if len(names) == 0 {
		return nil, errorf(ErrNotFound, "no tensor %q (the file has no tensors)", name)
	}
	more := ""
	if len(f.Arrays) > 5 {
		more = fmt.Sprintf(" and %d more", len(f.Arrays)-5)
	}
	return nil, errorf(ErrNotFound, "no tensor %q (the file has %s%s)", name, strings.Join(names, ", "), more)
}

// Close releases the memory map. The arrays of f, and every view and
// aliasing result made from them, must not be used afterwards.
// A second Close returns an error wrapping fs.ErrClosed.
func (f *File) Close() error {
	if f.unmap == nil {
		return fmt.Errorf("tensorfile: close: %w", fs.ErrClosed)
	}
	err := f.unmap()
	f.unmap = nil
	return err
}
