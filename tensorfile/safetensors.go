package tensorfile

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The safetensors format is read and written here. The reader of
// github.com/nlpodyssey/safetensors (Deserialize, at the version go.mod
// names) was evaluated and does not fit, for what it does rather than for
// speed, which was not measured:
//
//   - it fails the whole file on one tensor whose dtype it does not know:
//     it knows BOOL and the twelve dtypes read here, not F8_E4M3, F8_E5M2
//     or the other dtypes of the format that real checkpoints hold, where
//     stridekit inspect must list such a tensor and reshape convert the
//     others;
//   - it decodes the header into Go maps, so a tensor name or a metadata
//     key written twice silently becomes the last one, where it is
//     ErrHeader here;
//   - its errors are plain strings that wrap no sentinel ("metadata
//     incomplete buffer", "invalid metadata offset for tensor ..."), where
//     every rejection here wraps one (data outside the file is ErrData or
//     ErrTruncated, a bad dtype ErrDType, bad JSON ErrHeader) and says
//     which tensor and which offsets.
//
// TestSafetensorsLibraryLimits checks the first two points. The library
// remains the oracle of the writer's layout (TestSafetensorsAgainstLibrary).
//
// The rules are the format's: an 8-byte little-endian header length, a JSON
// object of tensors {"dtype", "shape", "data_offsets": [begin, end]} relative
// to the end of the header, and an optional "__metadata__" of strings; the
// tensors tile the data exactly, without gaps or overlaps.

// stMetadataKey is the reserved key of the free-form string metadata.
const stMetadataKey = "__metadata__"

// stEntry is one tensor of a safetensors header, as written.
type stEntry struct {
	DType       *string   `json:"dtype"`
	Shape       *[]uint64 `json:"shape"`
	DataOffsets *[]uint64 `json:"data_offsets"`
}

// parseSafetensors parses a whole safetensors file held in b and returns its
// tensors, viewing b and sorted by data offset, and its metadata. Every
// rejection wraps ErrFormat, ErrHeader, ErrTruncated, ErrData or ErrDType.
// release, if not nil, is told how many bytes of b will not be read again
// (see parseSTHeader).
func parseSafetensors(b []byte, lim Limits, release func(int)) ([]*Array, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, errorf(ErrTruncated, "the file is %d bytes long, a safetensors header length needs 8", len(b))
	}
	if len(b) == 8 || b[8] != '{' { // as the reference implementation demands
		return nil, nil, errorf(ErrFormat, "neither a .npy file (no magic) nor a safetensors file (no '{' after the 8-byte header length)")
	}
	hlen := binary.LittleEndian.Uint64(b[:8])
	if hlen > uint64(lim.SafetensorsHeader) {
		return nil, nil, errorf(ErrHeader, "header length %d is over the limit of %d bytes (Limits.SafetensorsHeader)", hlen, lim.SafetensorsHeader)
	}
	if hlen > uint64(len(b)-8) {
		return nil, nil, errorf(ErrTruncated, "the header is %d bytes long, the file ends %d bytes after its start", hlen, len(b)-8)
	}
	data := b[8+hlen:]
	var parsed func(int)
	if release != nil {
		parsed = func(n int) { release(8 + n) }
	}
	arrays, meta, err := parseSTHeader(b[8:8+hlen], data, lim, parsed)
	if err != nil {
		return nil, nil, err
	}
	// The tensors must tile the data: sorted by offset, each begins where
	// the one before ends, and the last ends at the end of the file.
	slices.SortStableFunc(arrays, func(x, y *Array) int {
		if c := x.begin - y.begin; c != 0 {
			return c
		}
		return x.end - y.end
	})
	at := 0
	for _, a := range arrays {
		switch {
		case a.begin > at:
			return nil, nil, errorf(ErrData, "tensor %q starts at data byte %d, %d bytes after the tensor before it ends", a.Name, a.begin, a.begin-at)
		case a.begin < at:
			return nil, nil, errorf(ErrData, "tensor %q starts at data byte %d, inside the tensor before it (which ends at %d)", a.Name, a.begin, at)
		}
		at = a.end
	}
	if at != len(data) {
		return nil, nil, errorf(ErrData, "the tensors end at data byte %d, the file holds %d bytes of data after the header", at, len(data))
	}
	return arrays, meta, nil
}

func bytesNeeded(n int, ok bool) string {
	if !ok {
		return "more than an int counts of"
	}
	return strconv.Itoa(n)
}

// stRank is the order of the reference implementation's Dtype enum, by
// which it sorts tensors (largest first, then by name) when it writes a
// file: for the common dtypes, larger elements come first, so every tensor
// stays aligned when the data starts on 8 bytes.
var stRank = map[DType]int{
	Bool: 0, Float8E5M2: 3, Float8E4M3: 4,
	Uint8: 1, Int8: 2, Int16: 5, Uint16: 6, Float16: 7, BFloat16: 8,
	Int32: 9, Uint32: 10, Float32: 11, Float64: 12, Int64: 13, Uint64: 14,
}

// stInfo is one tensor of a header, its fields in the order the reference
// implementation writes them.
type stInfo struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// WriteSafetensors writes arrays as one safetensors file to w, with
// metadata (may be nil) as its __metadata__. Names must be unique, valid
// UTF-8 and not "__metadata__", and metadata keys and values valid UTF-8
// (JSON holds text: encoding/json would turn each invalid byte into U+FFFD,
// so that "\xff" and "\xfe" became one name); every array must be
// C-ordered (the format has no other order) and of a supported dtype
// (ErrInvalid, ErrDType). Valid UTF-8 encodes to JSON one way only, so
// names unique as given are unique in the header.
//
// The layout is the reference implementation's, byte for byte as
// github.com/nlpodyssey/safetensors writes it (a test checks): tensors
// sorted by dtype, larger first, then by name; the JSON header with sorted
// keys, padded with spaces so the data starts on an 8-byte boundary. The
// writer is ours rather than that library's because the library needs every
// tensor's bytes in memory at once, where an Array from ReshapeLazy streams
// its bytes: converting a 512 MiB tensor took 3.5 to 4.6 s and 1.06 GB of
// memory with the result in memory, 0.8 to 1.7 s and 541 MB (the input's
// map) streaming (stridekit reshape -permute 0,2,1,3 -concat-dims 2 of a
// [32,16,1024,256] float32 .npy under /usr/bin/time -v, on the 2-core
// development machine, where the first touch of fresh memory is slow).
func WriteSafetensors(w io.Writer, metadata map[string]string, arrays ...*Array) error {
	sorted := make([]*Array, 0, len(arrays))
	names := make(map[string]bool, len(arrays))
	for _, a := range arrays {
		if err := a.check(); err != nil {
			return err
		}
		switch {
		case !utf8.ValidString(a.Name):
			return errorf(ErrInvalid, "tensor name %q is not valid UTF-8, which a safetensors header (JSON) cannot hold", a.Name)
		case a.Name == stMetadataKey:
			return errorf(ErrInvalid, "a tensor may not be named %s", stMetadataKey)
		case a.Fortran:
			return errorf(ErrInvalid, "tensor %q is Fortran-ordered; safetensors holds C order only (Reshape it first)", a.Name)
		case names[a.Name]:
			return errorf(ErrInvalid, "two tensors are named %q", a.Name)
		}
		names[a.Name] = true
		sorted = append(sorted, a)
	}
	slices.SortFunc(sorted, func(x, y *Array) int {
		if c := stRank[y.DType] - stRank[x.DType]; c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return errorf(ErrInvalid, "%s entry %q: %q is not valid UTF-8, which a safetensors header (JSON) cannot hold", stMetadataKey, k, v)
		}
	}
	header := make(map[string]any, len(sorted)+1)
	if len(metadata) > 0 {
		header[stMetadataKey] = metadata
	}
	var at int64
	for _, a := range sorted {
		n := int64(a.byteLen())
		header[a.Name] = stInfo{DType: a.DType.Safetensors(), Shape: a.Shape, DataOffsets: [2]int64{at, at + n}}
		at += n
	}
	h, err := json.Marshal(header)
	if err != nil {
		return errorf(ErrInvalid, "safetensors header: %v", err)
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(h)))); err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, a := range sorted {
		if err := a.writeData(w); err != nil {
			return err
		}
	}
	return nil
}
