package tensorfile

import (
	"io"
	"math/bits"
)

// Files are little-endian: .npy files as NumPy writes them on every
// machine Python runs on today (a '>' descr is read too, see npyDType),
// safetensors files by definition. The bytes of an Array are the host's
// (they are viewed as Go values): on a big-endian host (s390x, ppc64,
// mips) they are swapped on read into a copy and swapped back on write.
// hostBigEndian, a constant by build constraint (byteorder_big.go,
// byteorder_little.go), says which order the host has.

// swapInto writes the elements of src, size bytes each, into dst with their
// bytes reversed. len(dst) >= len(src), a multiple of size; size is 2, 4
// or 8.
func swapInto(dst, src []byte, size int) {
	n := len(src) / size * size
	switch size {
	case 2:
		for i := 0; i < n; i += 2 {
			dst[i], dst[i+1] = src[i+1], src[i]
		}
	case 4:
		for i := 0; i < n; i += 4 {
			v := uint32(src[i]) | uint32(src[i+1])<<8 | uint32(src[i+2])<<16 | uint32(src[i+3])<<24
			v = bits.ReverseBytes32(v)
			dst[i], dst[i+1], dst[i+2], dst[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
	case 8:
		for i := 0; i < n; i += 8 {
			s := src[i : i+8 : i+8]
			d := dst[i : i+8 : i+8]
			d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[7], s[6], s[5], s[4], s[3], s[2], s[1], s[0]
		}
	}
}

// swapped returns a copy of the elements of b, size bytes each, with their
// bytes reversed, in new 8-aligned memory.
func swapped(b []byte, size int) []byte {
	out := alignedBytes(len(b))
	swapInto(out, b, size)
	return out
}

// swapChunk is the buffer of a swapping writer: large enough that the
// writes stay few, small enough to stay in the cache.
const swapChunk = 64 << 10

// swapWriter reverses the bytes of every element of size bytes written
// through it. Writes may split an element; finish reports one left
// incomplete.
type swapWriter struct {
	w    io.Writer
	size int
	buf  []byte
	part [8]byte // the start of an element split across writes
	np   int
}

func (s *swapWriter) Write(p []byte) (int, error) {
	n := len(p)
	for s.np > 0 && len(p) > 0 {
		s.part[s.np] = p[0]
		s.np, p = s.np+1, p[1:]
		if s.np == s.size {
			var e [8]byte
			swapInto(e[:], s.part[:s.size], s.size)
			s.np = 0
			if _, err := s.w.Write(e[:s.size]); err != nil {
				return 0, err
			}
		}
	}
	for len(p) >= s.size {
		if s.buf == nil {
			s.buf = make([]byte, swapChunk)
		}
		m := min(len(p), len(s.buf)) / s.size * s.size
		swapInto(s.buf, p[:m], s.size)
		if _, err := s.w.Write(s.buf[:m]); err != nil {
			return 0, err
		}
		p = p[m:]
	}
	s.np += copy(s.part[s.np:], p) // p is empty if an element is still incomplete
	return n, nil
}

// finish reports an element left incomplete by the writes.
func (s *swapWriter) finish() error {
	if s.np != 0 {
		return errorf(ErrInvalid, "%d bytes written after the last whole %d-byte element", s.np, s.size)
	}
	return nil
}

// littleEndianWriter returns a writer that writes elements of size bytes,
// given in the host's byte order, to w in little-endian order, and a
// function that reports an element left incomplete at the end. On a
// little-endian host, or for 1-byte elements, it is w itself.
func littleEndianWriter(w io.Writer, size int) (io.Writer, func() error) {
	if !hostBigEndian || size <= 1 {
		return w, func() error { return nil }
	}
	s := &swapWriter{w: w, size: size}
	return s, s.finish
}

// writeLittleEndian writes data, elements of size bytes in the host's byte
// order, to w in little-endian order: as it is on a little-endian host,
// swapped a piece at a time on a big-endian one.
func writeLittleEndian(w io.Writer, data []byte, size int) error {
	lw, finish := littleEndianWriter(w, size)
	if _, err := lw.Write(data); err != nil {
		return err
	}
	return finish()
}
