package tensorfile

import (
	"errors"
	"fmt"
	"runtime/debug"
	"syscall"

	"github.com/stridekit/stridekit/reshape"
)

// The sentinel errors. Every error of this package wraps exactly one of them
// (or, from Reshape, one of package reshape's); test with errors.Is. Reading
// never panics on bad input: every rejection is one of the first five.
var (
	// ErrFormat: the file is neither a .npy nor a .safetensors file, or a
	// .npy format version other than 1.0, 2.0 and 3.0.
	ErrFormat = errors.New("tensorfile: unrecognised file format")
	// ErrHeader: the header is malformed: bad .npy header text or
	// safetensors JSON, a missing, repeated or unknown key, a value of the
	// wrong kind, a negative extent or extents whose product overflows.
	ErrHeader = errors.New("tensorfile: malformed header")
	// ErrTruncated: the file ends before its header does, or before the data
	// its header describes.
	ErrTruncated = errors.New("tensorfile: truncated file")
	// ErrData: the header and the data disagree: a .npy file holding more
	// bytes than its shape needs, safetensors data_offsets outside the data,
	// reversed, overlapping or not matching the shape and dtype.
	ErrData = errors.New("tensorfile: header and data disagree")
	// ErrDType: a dtype this package does not read or write (big-endian,
	// bool, complex, structured, 8-bit floats, bfloat16 as .npy), or a Go
	// element type that does not match the array's dtype.
	ErrDType = errors.New("tensorfile: unsupported dtype")
	// ErrNotFound: the file holds no tensor of the name asked for.
	ErrNotFound = errors.New("tensorfile: no such tensor")
	// ErrInvalid: an argument given to a writer or a constructor is invalid:
	// data whose length disagrees with the shape, a repeated or reserved
	// tensor name, a Fortran-order array for .safetensors, an unknown output
	// extension.
	ErrInvalid = errors.New("tensorfile: invalid argument")
	// ErrChanged: the file changed under an open File: reading its memory
	// map faulted (SIGBUS) because another process truncated the file, as
	// rewriting it in place does (numpy.save to the same path). A mapped
	// file must not be truncated or rewritten while its File is open; this
	// error only keeps the process alive when it is. From a copy by
	// package reshape it wraps reshape.ErrFault as well.
	ErrChanged = errors.New("tensorfile: file changed while in use")
)

// errorf wraps sentinel with a message that says what was wrong.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// catchFault is deferred by the functions that read a File's memory map
// (Open's parsing, the writers, Tensor's aligned copy), after they made
// the goroutine's memory faults panics; prev is the debug.SetPanicOnFault
// setting to restore. A fault while reading the map means the file shrank
// under it: the panic becomes an error wrapping ErrChanged. A panic that is
// not a memory fault at an address goes on.
func catchFault(err *error, prev bool) {
	debug.SetPanicOnFault(prev)
	r := recover()
	if r == nil {
		return
	}
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		*err = errorf(ErrChanged, "reading the memory map faulted at address %#x: the file was truncated while open", f.Addr())
		return
	}
	panic(r)
}

// changed makes an error that says a mapped file went away under a copy
// wrap ErrChanged too: reshape's ErrFault, or EFAULT from a write system
// call that read the map.
func changed(err error) error {
	switch {
	case err == nil || errors.Is(err, ErrChanged):
		return err
	case errors.Is(err, reshape.ErrFault):
		return fmt.Errorf("%w: %w", ErrChanged, err)
	case errors.Is(err, syscall.EFAULT):
		return fmt.Errorf("%w: the file was truncated while open: %w", ErrChanged, err)
	}
	return err
}
