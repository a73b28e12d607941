package tensorfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// npyWith returns a .npy file of version major.0 with the given header text
// (padded as NumPy pads it) followed by data.
func npyWith(major byte, header string, data []byte) []byte {
	pre := 12
	if major == 1 {
		pre = 10
	}
	total := (pre + len(header) + 1 + 63) / 64 * 64
	for len(header) < total-pre-1 {
		header += " "
	}
	header += "\n"
	b := append([]byte(npyMagic), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	return append(append(b, header...), data...)
}

// stWith returns a safetensors file with the given header JSON and data.
func stWith(header string, data []byte) []byte {
	return append(append(le64(uint64(len(header))), header...), data...)
}

// badCase is one bad file and what reading it must say.
type badCase struct {
	name     string
	file     []byte
	npyName  bool // the file is called .npy
	sentinel error
	message  string // a part of the message
}

func f4Header(shape string) string {
	return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }"
}

// Extents that fit an int but overflow it multiplied, whatever its size:
// halfInt*halfInt is 2^64 on 64-bit platforms and 2^32 on 32-bit ones, and
// quarterInt float32 elements need 2^64 (or 2^32) bytes.
const (
	halfInt    = 1 << (strconv.IntSize / 2)
	quarterInt = 1 << (strconv.IntSize - 2)
)

// badNPY lists every kind of bad .npy file the issue names, and more.
func badNPY() []badCase {
	good := npyWith(1, f4Header("(2, 3)"), make([]byte, 24))
	return []badCase{
		{"empty file named .npy", nil, true, ErrTruncated, "inside the .npy magic (0 bytes)"},
		{"text named .npy", []byte("a,b\n1,2\n"), true, ErrFormat, "no .npy magic"},
		{"wrong magic", append([]byte("\x93NUMPX"), good[6:]...), true, ErrFormat, "no .npy magic"},
		{"truncated magic", good[:4], false, ErrTruncated, "inside the .npy magic"},
		{"truncated version", good[:7], false, ErrTruncated, "before the .npy version"},
		{"truncated length", good[:9], false, ErrTruncated, "inside the header length"},
		{"truncated length v2", npyWith(2, f4Header("(1,)"), make([]byte, 4))[:11], false, ErrTruncated, "inside the header length"},
		{"truncated header", good[:40], false, ErrTruncated, "the header is 118 bytes long"},
		{"header length past 2^31", append(append([]byte(npyMagic), 2, 0, 0xf0, 0xff, 0xff, 0xff), good[10:]...), false, ErrTruncated, "the header is 4294967280 bytes long"},
		{"truncated data", good[:len(good)-1], false, ErrTruncated, "needs 24 bytes of data, the file holds 23"},
		{"data longer than shape", append(good, 0), false, ErrData, "needs 24 bytes of data, the file holds 25"},
		{"version 4.0", append(append([]byte(npyMagic), 4, 0), good[8:]...), false, ErrFormat, "version 4.0"},
		{"version 1.1", append(append([]byte(npyMagic), 1, 1), good[8:]...), false, ErrFormat, "version 1.1"},
		{"not a dict", npyWith(1, "['descr']", nil), false, ErrHeader, "want '{'"},
		{"unterminated dict", npyWith(1, "{'descr': '<f4'", nil), false, ErrHeader, "want '}'"},
		{"unterminated string", npyWith(1, "{'descr: '<f4', }", nil), false, ErrHeader, "want ':'"},
		{"unquoted key", npyWith(1, "{descr: '<f4'}", nil), false, ErrHeader, "want a quoted string"},
		{"missing shape", npyWith(1, "{'descr': '<f4', 'fortran_order': False}", nil), false, ErrHeader, `key "shape" is missing`},
		{"missing descr", npyWith(1, "{'shape': (1,), 'fortran_order': False}", nil), false, ErrHeader, `key "descr" is missing`},
		{"extra key", npyWith(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", nil), false, ErrHeader, `unknown key "x"`},
		{"repeated key", npyWith(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", nil), false, ErrHeader, "appears twice"},
		{"bad bool", npyWith(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", make([]byte, 4)), false, ErrHeader, "True or False"},
		{"shape not a tuple", npyWith(1, f4Header("[2, 3]"), make([]byte, 24)), false, ErrHeader, "shape must be a tuple"},
		{"shape int in parens", npyWith(1, f4Header("(6)"), make([]byte, 24)), false, ErrHeader, "is an int, not a tuple"},
		{"negative extent", npyWith(1, f4Header("(-1, 3)"), nil), false, ErrHeader, "negative extent"},
		{"bad extent", npyWith(1, f4Header("(2, x)"), nil), false, ErrHeader, "want an extent"},
		{"huge extent", npyWith(1, f4Header("(99999999999999999999,)"), nil), false, ErrHeader, "does not fit an int"},
		{"overflowing shape", npyWith(1, f4Header(fmt.Sprintf("(%d, %d)", halfInt, halfInt)), nil), false, ErrHeader, "multiply past the largest int"},
		{"bytes overflow", npyWith(1, f4Header(fmt.Sprintf("(%d,)", quarterInt)), nil), false, ErrHeader, "needs more bytes than an int counts"},
		{"junk after dict", npyWith(1, f4Header("(1,)")+" x", make([]byte, 4)), false, ErrHeader, "after the dictionary"},
		{"non-ASCII in v1", npyWith(1, "{'descr': '<f\xe94', 'fortran_order': False, 'shape': ()}", nil), false, ErrHeader, "non-ASCII"},
		// Listed with DType Invalid, refused with ErrDType and the reason
		// when read.
		{"native byte order", npyWith(1, "{'descr': '=f4', 'fortran_order': False, 'shape': (1,)}", make([]byte, 4)), false, nil, "does not state its byte order"},
		{"no byte order", npyWith(1, "{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}", make([]byte, 4)), false, nil, "does not state its byte order"},
		{"complex", npyWith(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", make([]byte, 8)), false, nil, "complex"},
		{"object", npyWith(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", make([]byte, 8)), false, nil, "object"},
		{"unicode", npyWith(1, "{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}", make([]byte, 12)), false, nil, "strings"},
		{"structured", npyWith(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", make([]byte, 4)), false, ErrDType, "structured"},
		{"empty descr", npyWith(1, "{'descr': '', 'fortran_order': False, 'shape': (1,)}", nil), false, nil, "not a numeric"},
	}
}

// badSafetensors lists every kind of bad .safetensors file.
func badSafetensors() []badCase {
	good := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I8","shape":[3],"data_offsets":[8,11]}}`
	return []badCase{
		{"empty", nil, false, ErrTruncated, "0 bytes long"},
		{"short length", []byte{1, 0, 0}, false, ErrTruncated, "3 bytes long"},
		{"header past the end", stWith(good, make([]byte, 11))[:50], false, ErrTruncated, "the header is 107 bytes long"},
		{"header too large", append(le64(200_000_000), '{'), false, ErrHeader, "over the limit"},
		{"not json object", stWith("[1, 2]", nil), false, ErrFormat, "neither a .npy file"},
		{"header with leading space", stWith(" {}", nil), false, ErrFormat, "neither a .npy file"},
		{"header length only", le64(2), false, ErrFormat, "neither a .npy file"},
		{"garbage", []byte("hello, world, this is text"), false, ErrFormat, "neither a .npy file"},
		{"malformed JSON", stWith(`{"a": {"dtype": "F32",`, nil), false, ErrHeader, "header JSON"},
		{"entry not an object", stWith(`{"a": 3}`, nil), false, ErrHeader, `tensor "a"`},
		{"entry null", stWith(`{"a": null}`, nil), false, ErrHeader, `tensor "a" has no dtype`},
		{"no shape", stWith(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), false, ErrHeader, "has no shape"},
		{"no offsets", stWith(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), false, ErrHeader, "has no data_offsets"},
		{"unknown field", stWith(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), false, ErrHeader, "unknown field"},
		{"three offsets", stWith(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 4)), false, ErrHeader, "must be [begin, end]"},
		{"negative extent", stWith(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), false, ErrHeader, `tensor "a"`},
		{"fractional extent", stWith(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4)), false, ErrHeader, `tensor "a"`},
		{"huge extent", stWith(`{"a":{"dtype":"F32","shape":[0, 18446744073709551615],"data_offsets":[0,0]}}`, nil), false, ErrHeader, "does not fit an int"},
		{"overflowing shape", stWith(fmt.Sprintf(`{"a":{"dtype":"F32","shape":[%d, %d],"data_offsets":[0,0]}}`, halfInt, halfInt), nil), false, ErrHeader, "multiply past"},
		{"bad metadata", stWith(`{"__metadata__":{"a":1}}`, nil), false, ErrHeader, `__metadata__ must map names to strings: "a" maps to 1`},
		{"metadata not an object", stWith(`{"__metadata__":["a"]}`, nil), false, ErrHeader, `__metadata__: want an object, found ["a"]`},
		{"repeated tensor name", stWith(`{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), false, ErrHeader, `key "a" appears twice`},
		{"repeated name escaped", stWith(`{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"\u0061":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), false, ErrHeader, `key "a" appears twice`},
		{"repeated __metadata__", stWith(`{"__metadata__":{"a":"1"},"__metadata__":{"b":"2"}}`, nil), false, ErrHeader, `key "__metadata__" appears twice`},
		{"repeated metadata key", stWith(`{"__metadata__":{"k":"1","k":"2"}}`, nil), false, ErrHeader, `__metadata__: key "k" appears twice`},
		{"repeated field", stWith(`{"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), false, ErrHeader, `tensor "a": key "dtype" appears twice`},
		{"two JSON objects", stWith(`{} {}`, nil), false, ErrHeader, "more JSON after the object"},
		{"offsets past the data", stWith(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 4)), false, ErrData, "reach past the 4 bytes of data"},
		{"offsets far past the file", stWith(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,18446744073709551615]}}`, nil), false, ErrData, "reach past"},
		{"offsets reversed", stWith(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, make([]byte, 4)), false, ErrData, "end before they begin"},
		{"shape disagrees with offsets", stWith(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), false, ErrData, "needs 12 bytes, data_offsets [0, 8] hold 8"},
		{"data longer than tensors", stWith(good, make([]byte, 12)), false, ErrData, "the tensors end at data byte 11, the file holds 12"},
		{"gap", stWith(`{"a":{"dtype":"I8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), false, ErrData, "1 bytes after the tensor before it ends"},
		{"overlap", stWith(`{"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"I8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), false, ErrData, "inside the tensor before it"},
		{"unsupported dtype with wrong size", stWith(`{"a":{"dtype":"F8_E8M0","shape":[3],"data_offsets":[0,2]}}`, make([]byte, 2)), false, nil, ""},
		{"opaque dtype with wrong size", stWith(`{"a":{"dtype":"F8_E4M3","shape":[3],"data_offsets":[0,2]}}`, make([]byte, 2)), false, ErrData, "needs 3 bytes"},
	}
}

// TestBadInput reads every bad file and checks the error wraps the right
// sentinel and says what is wrong.
func TestBadInput(t *testing.T) {
	for _, c := range append(badNPY(), badSafetensors()...) {
		f, err := decode(c.file, c.npyName)
		if c.sentinel == nil { // read, but not convertible
			if assert.NoError(t, err, c.name) {
				assert.Equal(t, Invalid, f.Arrays[0].DType, c.name)
				_, err = Reshape(f.Arrays[0], ReshapeOptions{})
				assert.ErrorIs(t, err, ErrDType, c.name)
				assert.ErrorContains(t, err, c.message, c.name)
				assert.Equal(t, 1, countSentinels(err), "%s: %v wraps one sentinel", c.name, err)
			}
			continue
		}
		if assert.Error(t, err, c.name) {
			assert.ErrorIs(t, err, c.sentinel, c.name)
			assert.Contains(t, err.Error(), c.message, c.name)
			assert.Equal(t, 1, countSentinels(err), "%s: %v wraps one sentinel", c.name, err)
			assert.Equal(t, 1, strings.Count(err.Error(), "tensorfile:"), "%s: %q names its sentinel once", c.name, err)
		}
	}
}

// countSentinels returns how many of the reading sentinels err wraps.
func countSentinels(err error) int {
	n := 0
	for _, s := range []error{ErrFormat, ErrHeader, ErrTruncated, ErrData, ErrDType} {
		if errors.Is(err, s) {
			n++
		}
	}
	return n
}

// TestWriteErrors checks the writers refuse what they cannot write.
func TestWriteErrors(t *testing.T) {
	f4 := mustArray("a", Float32, []int{2}, false, ramp(Float32, 2))
	bf := mustArray("b", BFloat16, []int{2}, false, ramp(BFloat16, 2))
	fo := mustArray("f", Float32, []int{2, 2}, true, ramp(Float32, 4))
	cases := []struct {
		name     string
		err      error
		sentinel error
	}{
		{"bfloat16 as npy", WriteNPY(discard{}, bf), ErrDType},
		{"duplicate names", WriteSafetensors(discard{}, nil, f4, f4), ErrInvalid},
		{"reserved name", WriteSafetensors(discard{}, nil, mustArray("__metadata__", Int8, []int{1}, false, []byte{1})), ErrInvalid},
		{"Fortran into safetensors", WriteSafetensors(discard{}, nil, fo), ErrInvalid},
		{"invalid dtype", WriteSafetensors(discard{}, nil, &Array{Name: "x", Shape: []int{1}, data: []byte{1}}), ErrDType},
		{"wrong data length", WriteNPY(discard{}, &Array{DType: Int8, Shape: []int{2}, data: []byte{1}}), ErrInvalid},
		{"two arrays as npy", Save(t.TempDir()+"/x.npy", nil, f4, f4), ErrInvalid},
		{"metadata as npy", Save(t.TempDir()+"/x.npy", map[string]string{"a": "b"}, f4), ErrInvalid},
		{"unknown extension", Save(t.TempDir()+"/x.bin", nil, f4), ErrInvalid},
	}
	for _, c := range cases {
		assert.ErrorIs(t, c.err, c.sentinel, c.name)
	}
	_, err := NewArray("x", Int16, []int{2, 2}, false, make([]byte, 7))
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = NewArray("x", Int16, []int{-2}, false, nil)
	assert.ErrorIs(t, err, ErrInvalid)
	assert.EqualError(t, err, `tensorfile: invalid argument: tensor "x": negative extent in shape [-2]`)
}

// TestArrayNotFound checks the message for a missing tensor lists the
// names the file has, or says it has none.
func TestArrayNotFound(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{`{}`, `tensorfile: no such tensor: no tensor "w" (the file has no tensors)`},
		{`{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"I8","shape":[0],"data_offsets":[1,1]}}`,
			`tensorfile: no such tensor: no tensor "w" (the file has "a", "b")`},
	} {
		data := []byte{}
		if c.header != `{}` {
			data = []byte{7}
		}
		f, err := decode(stWith(c.header, data), false)
		require.NoError(t, err, c.header)
		_, err = f.Array("w")
		assert.ErrorIs(t, err, ErrNotFound)
		assert.EqualError(t, err, c.want)
	}
}

// TestSafetensorsMetadataForms checks the forms of __metadata__ the
// reference implementation accepts: absent or null (no metadata), empty,
// and names mapped to strings.
func TestSafetensorsMetadataForms(t *testing.T) {
	for header, want := range map[string]map[string]string{
		`{}`:                                nil,
		`{"__metadata__":null}`:             nil,
		`{"__metadata__":{}}`:               {},
		`{"__metadata__":{"a":"1","b":""}}`: {"a": "1", "b": ""},
	} {
		f, err := decode(stWith(header, nil), false)
		if assert.NoError(t, err, header) {
			assert.Equal(t, want, f.Metadata, header)
			assert.Empty(t, f.Arrays, header)
		}
	}
}
