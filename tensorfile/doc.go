// Package tensorfile brings NumPy .npy and Hugging Face .safetensors files
// in as reshape.Tensor views and writes results back, so that stridekit can
// run on the activation files Python writes.
//
// # Reading
//
// Open maps a file read-only into memory (syscall mmap on Unix; elsewhere it
// reads the file into memory) and parses its header; each Array of the File
// views the file's bytes without copying. OpenWith bounds what a header
// may hold (Limits: the .npy header length, as NumPy's max_header_size, the
// safetensors header length, tensor count and metadata size), so that a
// hostile file costs bounded time and memory to refuse. The element type
// is known only at run time, so an Array carries its DType, and
//
//	t, err := tensorfile.Tensor[float32](a)
//
// returns the reshape.Tensor[float32] view of it (ErrDType if the array is
// not float32). A Fortran-order .npy array is that strided view, its strides
// reversed: nothing is transposed. Reshape applies a permutation and
// reshape.ConcatLastDimensions to an Array of any dtype; ReshapeLazy does
// the same without the result in memory, copying it block by block as a
// writer writes it.
//
// Read:
//
//   - .npy format versions 1.0, 2.0 and 3.0, C or Fortran order, dtypes f2 f4
//     f8 i1 u1 i2 u2 i4 u4 i8 u8 b1, little-endian ('<', or '|' for one
//     byte);
//   - .npz archives of .npy members (numpy.savez: stored, each a view over
//     the map like a .npy file; numpy.savez_compressed: deflated, read into
//     memory when opened, Array.Compressed), the arrays named after the
//     members;
//   - .safetensors with dtypes F16 BF16 F32 F64 I8 U8 I16 U16 I32 U32 I64
//     U64 F8_E4M3 F8_E5M2 BOOL, its tensors and __metadata__.
//
// F8_E4M3, F8_E5M2 and BOOL are opaque (DType.Opaque): one-byte elements
// that a reshape moves as uint8 without looking at their bits, keeping their
// dtype; they convert to no other dtype. An array of any other dtype (a
// string, complex or object .npy, a 4-bit safetensors tensor) is
// listed with DType Invalid and its Descr, and refused with ErrDType when
// read.
//
// Safetensors data offsets need not be aligned to the element size; Tensor
// copies such a tensor into an aligned slice rather than let Go load from an
// unaligned address. Reshape and ReshapeLazy make no such copy: they read
// unaligned data as bytes, so ReshapeLazy streams it in blocks like any
// other.
//
// # Writing
//
// WriteNPY and WriteSafetensors write Arrays to an io.Writer, in the layout
// NumPy and the reference safetensors implementation write; FromMatrix makes
// an Array of a reshape.Matrix without copying. WriteFile, WriteFileContext
// and Save write a file atomically: into a temporary file in the
// destination directory (unnamed, O_TMPFILE, on Linux, so that a process
// killed outright leaves nothing behind), synced, then renamed over the
// destination, so that a failure, a panic of the writing callback or a
// cancelled context never leaves a partial file nor touches an existing
// one.
//
// MatrixWriter gathers many results into one [rows, cols] matrix without
// holding it in memory: each Append streams an Array's rows (one from
// ReshapeLazy block by block), and Close writes the header, whose row
// count is known only then, over the room reserved for it. The output is
// one .npy or .safetensors file, or .safetensors shards of at most
// MatrixOptions.ShardSize bytes with an index in the Hugging Face sharded
// layout (WriteIndex: a weight_map and metadata.total_size), every file
// written atomically. WriteIndex also indexes files written apart, such as
// the parts of a job run on many machines.
//
// # Errors
//
// Bad input never panics. Every error wraps one sentinel: ErrFormat,
// ErrHeader, ErrTruncated, ErrData, ErrDType for a file that cannot be read,
// ErrNotFound for a missing tensor, ErrInvalid for bad arguments to a
// writer, ErrChanged for a mapped file truncated while open (which must not
// happen, but then ends in an error rather than SIGBUS); Reshape passes
// reshape's sentinels on. Use errors.Is.
package tensorfile
