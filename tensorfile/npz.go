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
func parseNPZ(b []byte) ([]*Array, error) {
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
		a, _, err := parseNPY(data)
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
		if size > math.MaxInt32*uint64(1<<16) { // 128 TiB: no real array; refuse before allocating
			return nil, false, errorf(ErrHeader, "member %q claims %d bytes", zf.Name, size)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, false, errorf(ErrHeader, "member %q: %v", zf.Name, err)
		}
		defer rc.Close()
		buf := alignedBytes(int(size))
		if _, err := io.ReadFull(rc, buf); err != nil {
			return nil, false, errorf(ErrTruncated, "member %q: %v", zf.Name, err)
		}
		// Reading to the end checks the CRC, and that the stream holds no
		// more than the header said.
		var extra [1]byte
		if n, err := rc.Read(extra[:]); n != 0 || !errors.Is(err, io.EOF) {
			if err == nil || errors.Is(err, io.EOF) {
				err = errors.New("more bytes than its header says")
			}
			return nil, false, errorf(ErrData, "member %q: %v", zf.Name, err)
		}
		return buf, true, nil
	}
	return nil, false, errorf(ErrFormat, "member %q uses zip compression method %d; .npz members are stored or deflated", zf.Name, zf.Method)
}
