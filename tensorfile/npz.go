package tensorfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// The .npz archives numpy.savez and numpy.savez_compressed write are zip
// files of one .npy member per array, named after the array ("x.npy" for
// savez(path, x=...), "arr_0.npy" for an unnamed one). numpy.savez stores
// its members uncompressed, so each is a .npy file lying whole inside the
// archive: its array is a view over the map like any other. A member that
// is compressed (savez_compressed: deflate) is read into memory, once, when
// the archive is opened; Array.Compressed says which.

// zipMagic starts a zip file: a local file header, or, for an archive of
// no members, the end of the central directory.
var zipMagic = [][]byte{[]byte("PK\x03\x04"), []byte("PK\x05\x06")}

// isZip reports whether b starts as a zip file does.
func isZip(b []byte) bool {
	for _, m := range zipMagic {
		if bytes.HasPrefix(b, m) {
			return true
		}
	}
	return false
}

// parseNPZ parses the whole .npz archive held in b: every member, in the
// archive's order, as an array named after it without ".npy".
func parseNPZ(b []byte, lim Limits) ([]*Array, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errorf(ErrTruncated, "not a complete .npz (zip) archive: %v", err)
		}
		return nil, errorf(ErrHeader, ".npz archive: %v", err)
	}
	arrays := make([]*Array, 0, len(zr.File))
	seen := map[string]bool{}
	for _, zf := range zr.File {
		name := strings.TrimSuffix(zf.Name, ".npy")
		if seen[name] {
			return nil, errorf(ErrHeader, "the archive holds two members named %q", zf.Name)
		}
		seen[name] = true
		data, compressed, err := npzMember(b, zf)
		if err != nil {
			return nil, err
		}
		a, _, err := parseNPY(data, lim)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", zf.Name, err)
		}
		a.Name, a.Compressed = name, compressed
		arrays = append(arrays, a)
	}
	return arrays, nil
}

// npzMember returns the bytes of a member: a slice of b for a stored one,
// a new, 8-aligned buffer for a compressed one.
func npzMember(b []byte, zf *zip.File) ([]byte, bool, error) {
	switch zf.Method {
	case zip.Store:
		off, err := zf.DataOffset()
		if err != nil {
			return nil, false, errorf(ErrTruncated, "member %q: %v", zf.Name, err)
		}
		size := zf.CompressedSize64
		if off < 0 || size > uint64(len(b)) || uint64(off) > uint64(len(b))-size {
			return nil, false, errorf(ErrTruncated, "member %q: its %d bytes at offset %d reach past the archive's %d", zf.Name, size, off, len(b))
		}
		if zf.UncompressedSize64 != size {
			return nil, false, errorf(ErrData, "member %q is stored, yet holds %d bytes for %d", zf.Name, size, zf.UncompressedSize64)
		}
		return b[off : off+int64(size) : off+int64(size)], false, nil
	case zip.Deflate:
		size := zf.UncompressedSize64
		// Deflate expands at most about 1032:1: a header that claims more
		// than that is refused before anything is allocated.
		if size > 1100*zf.CompressedSize64+1024 || size > math.MaxInt/2 {
			return nil, false, errorf(ErrData, "member %q claims %d bytes from %d compressed", zf.Name, size, zf.CompressedSize64)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, false, errorf(ErrHeader, "member %q: %v", zf.Name, err)
		}
		defer rc.Close()
		buf, err := readMember(rc, int(size))
		if err != nil {
			return nil, false, errorf(ErrData, "member %q: %v", zf.Name, err)
		}
		return buf, true, nil
	}
	return nil, false, errorf(ErrFormat, "member %q uses zip compression method %d; .npz members are stored or deflated", zf.Name, zf.Method)
}

// memberChunk is the most memory readMember takes before the data is there
// to fill it: a member's claimed size is not trusted with an allocation.
const memberChunk = 64 << 20

// readMember reads exactly size bytes from r into a new, 8-aligned buffer
// that grows as the data comes, then checks r ends there (which, for a zip
// member, also checks its CRC).
func readMember(r io.Reader, size int) ([]byte, error) {
	buf := alignedBytes(min(size, memberChunk))
	n := 0
	for n < size {
		if n == len(buf) {
			grown := alignedBytes(min(size, 2*len(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if n < size {
		return nil, fmt.Errorf("%d bytes, where its header says %d", n, size)
	}
	var extra [1]byte
	if m, err := r.Read(extra[:]); m != 0 || !errors.Is(err, io.EOF) {
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("more bytes than its header says")
		}
		return nil, err
	}
	return buf, nil
}
