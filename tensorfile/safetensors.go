package tensorfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
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

// stMaxHeader is the largest header accepted, as in the reference
// implementation (100 MB).
const stMaxHeader = 100_000_000

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
func parseSafetensors(b []byte) ([]*Array, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, errorf(ErrTruncated, "the file is %d bytes long, a safetensors header length needs 8", len(b))
	}
	if len(b) == 8 || b[8] != '{' { // as the reference implementation demands
		return nil, nil, errorf(ErrFormat, "neither a .npy file (no magic) nor a safetensors file (no '{' after the 8-byte header length)")
	}
	hlen := binary.LittleEndian.Uint64(b[:8])
	if hlen > stMaxHeader {
		return nil, nil, errorf(ErrHeader, "header length %d is over the limit of %d bytes", hlen, stMaxHeader)
	}
	if hlen > uint64(len(b)-8) {
		return nil, nil, errorf(ErrTruncated, "the header is %d bytes long, the file ends %d bytes after its start", hlen, len(b)-8)
	}
	header := b[8 : 8+hlen]
	members, err := jsonObject(header)
	if err != nil {
		return nil, nil, errorf(ErrHeader, "safetensors header JSON: %v", err)
	}
	data := b[8+hlen:]

	var meta map[string]string
	arrays := make([]*Array, 0, len(members))
	slices.SortFunc(members, func(x, y jsonMember) int { return strings.Compare(x.key, y.key) })
	for _, m := range members {
		if m.key == stMetadataKey {
			if meta, err = parseSTMetadata(m.value); err != nil {
				return nil, nil, err
			}
			continue
		}
		a, err := parseSTEntry(m.key, m.value, data)
		if err != nil {
			return nil, nil, err
		}
		arrays = append(arrays, a)
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

// parseSTEntry checks one header entry against the data and returns it as
// an Array over its bytes.
func parseSTEntry(name string, msg json.RawMessage, data []byte) (*Array, error) {
	if _, err := jsonObject(msg); err != nil { // a repeated field
		return nil, errorf(ErrHeader, "tensor %q: %v", name, err)
	}
	var e stEntry
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, errorf(ErrHeader, "tensor %q: %v", name, err)
	}
	switch {
	case e.DType == nil:
		return nil, errorf(ErrHeader, "tensor %q has no dtype", name)
	case e.Shape == nil:
		return nil, errorf(ErrHeader, "tensor %q has no shape", name)
	case e.DataOffsets == nil:
		return nil, errorf(ErrHeader, "tensor %q has no data_offsets", name)
	case len(*e.DataOffsets) != 2:
		return nil, errorf(ErrHeader, "tensor %q: data_offsets %v must be [begin, end]", name, *e.DataOffsets)
	}
	off := *e.DataOffsets
	begin, end := off[0], off[1]
	if end < begin {
		return nil, errorf(ErrData, "tensor %q: data_offsets [%d, %d] end before they begin", name, begin, end)
	}
	if end > uint64(len(data)) {
		return nil, errorf(ErrData, "tensor %q: data_offsets [%d, %d] reach past the %d bytes of data in the file", name, begin, end, len(data))
	}
	shape := make([]int, len(*e.Shape))
	for i, x := range *e.Shape {
		if x > math.MaxInt {
			return nil, errorf(ErrHeader, "tensor %q: extent %d does not fit an int", name, x)
		}
		shape[i] = int(x)
	}
	n, err := elements(shape)
	if err != nil {
		return nil, errorf(ErrHeader, "tensor %q: %v", name, err)
	}
	a := &Array{
		Name:  name,
		Descr: *e.DType,
		DType: dtypeFromSafetensors(*e.DType),
		Shape: shape,
		begin: int(begin),
		end:   int(end),
		data:  data[begin:end:end],
	}
	a.swap = hostBigEndian && a.DType.Size() > 1 // safetensors data is little-endian
	if a.DType == Invalid {
		// Listed, not readable: Tensor and Reshape refuse it with ErrDType.
		return a, nil
	}
	if need, ok := mulOK(n, a.DType.Size()); !ok || need != int(end-begin) {
		return nil, errorf(ErrData, "tensor %q: shape %s of %s needs %s bytes, data_offsets [%d, %d] hold %d",
			name, list(shape), *e.DType, bytesNeeded(need, ok), begin, end, end-begin)
	}
	return a, nil
}

// parseSTMetadata reads the __metadata__ object: names mapped to strings,
// each name once. null is no metadata.
func parseSTMetadata(msg json.RawMessage) (map[string]string, error) {
	members, err := jsonObject(msg)
	if err != nil {
		return nil, errorf(ErrHeader, "%s: %v", stMetadataKey, err)
	}
	if members == nil && bytes.Equal(bytes.TrimSpace(msg), []byte("null")) {
		return nil, nil
	}
	meta := make(map[string]string, len(members))
	for _, m := range members {
		var v string
		if err := json.Unmarshal(m.value, &v); err != nil {
			return nil, errorf(ErrHeader, "%s must map names to strings: %q maps to %.40s", stMetadataKey, m.key, m.value)
		}
		meta[m.key] = v
	}
	return meta, nil
}

// jsonMember is one member of a JSON object: its key and its raw value.
type jsonMember struct {
	key   string
	value json.RawMessage
}

// jsonObject returns the members of the JSON object b in the order written,
// or nil for a JSON null. Unlike json.Unmarshal into a map, which keeps the
// last of two members of the same key without a word, it fails when a key
// appears twice; it also fails on anything but an object or null, and on
// anything after it but white space.
func jsonObject(b []byte) ([]jsonMember, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	var members []jsonMember
	switch tok {
	case nil: // null
	case json.Delim('{'):
		members = []jsonMember{}
		seen := map[string]bool{}
		for dec.More() {
			if tok, err = dec.Token(); err != nil {
				return nil, err
			}
			key, _ := tok.(string) // the decoder accepts only a string here
			if seen[key] {
				return nil, fmt.Errorf("key %q appears twice", key)
			}
			seen[key] = true
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			members = append(members, jsonMember{key, v})
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return nil, err
		}
	default:
		return nil, fmt.Errorf("want an object, found %.40s", bytes.TrimSpace(b))
	}
	switch _, err := dec.Token(); {
	case err == nil:
		return nil, fmt.Errorf("more JSON after the object")
	case !errors.Is(err, io.EOF):
		return nil, err
	}
	return members, nil
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
// metadata (may be nil) as its __metadata__. Names must be unique and not
// "__metadata__"; every array must be C-ordered (the format has no other
// order) and of a supported dtype (ErrInvalid, ErrDType).
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
