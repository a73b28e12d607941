package tensorfile

import (
	"errors"
	"fmt"
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
)

// errorf wraps sentinel with a message that says what was wrong.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
