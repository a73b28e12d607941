package tensorfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"
)

// checkDecoded is the property both fuzz tests check: decode never panics;
// a rejection wraps exactly one reading sentinel; an accepted file's arrays
// lie inside it and every supported one reshapes without error.
func checkDecoded(t *testing.T, b []byte, npyName bool) {
	f, err := decode(b, npyName)
	if err != nil {
		if n := countSentinels(err); n != 1 {
			t.Fatalf("error %q wraps %d sentinels, want 1", err, n)
		}
		return
	}
	for _, a := range f.Arrays {
		if len(a.Bytes()) > len(b) {
			t.Fatalf("array %q holds %d bytes of a %d-byte file", a.Name, len(a.Bytes()), len(b))
		}
		if a.DType == Invalid || len(a.Shape) == 0 {
			continue
		}
		m, err := Reshape(a, ReshapeOptions{ConcatDims: len(a.Shape)})
		if err != nil {
			t.Fatalf("array %q %v of %v: %v", a.Name, a.Shape, a.DType, err)
		}
		if len(m.Bytes()) != len(a.Bytes()) {
			t.Fatalf("array %q reshaped to %d bytes from %d", a.Name, len(m.Bytes()), len(a.Bytes()))
		}
	}
}

// seeds adds the golden files of one extension and the bad cases to f.
func seeds(f *testing.F, ext string, bad []badCase) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*"+ext))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, c := range bad {
		f.Add(c.file)
	}
}

// FuzzNPY fuzzes the .npy parser:
//
//	go test ./tensorfile -run '^$' -fuzz FuzzNPY -fuzztime 30s
func FuzzNPY(f *testing.F) {
	seeds(f, ".npy", badNPY())
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecoded(t, b, true)
	})
}

// FuzzSafetensors fuzzes the .safetensors parser:
//
//	go test ./tensorfile -run '^$' -fuzz FuzzSafetensors -fuzztime 30s
func FuzzSafetensors(f *testing.F) {
	seeds(f, ".safetensors", badSafetensors())
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecoded(t, b, false)
		if file, err := decode(b, false); err == nil && file.Format == Safetensors {
			checkAgreesWithJSON(t, b, file)
		}
	})
}

// FuzzWriters writes arrays and metadata made from the fuzzer's input with
// WriteSafetensors (and the first array with WriteNPY), reads the bytes
// back and checks they hold what was written: names, metadata, dtypes,
// shapes and bytes. A refusal must wrap exactly ErrInvalid or ErrDType,
// and must happen exactly when the input cannot be written: a name or
// metadata that is not valid UTF-8, a repeated or reserved name, bfloat16
// or an opaque dtype as .npy.
//
//	go test ./tensorfile -run '^$' -fuzz FuzzWriters -fuzztime 30s
func FuzzWriters(f *testing.F) {
	f.Add("ab", "k", "v", []byte{2, 1, 1, 2, 3, 1, 4, 2, 2, 2})
	f.Add("\xff\xfe", "", "", []byte{2, 1, 0, 1, 1, 1, 0, 1})
	f.Add("__metadata__x", "\u2028", "\ud7ff", []byte{1, 12, 9, 2, 3, 4})
	f.Add("aa", "é", "\x00", []byte{2, 1, 2, 0, 1, 2, 0})
	f.Fuzz(func(t *testing.T, names, key, value string, spec []byte) {
		next := func() int {
			if len(spec) == 0 {
				return 0
			}
			b := spec[0]
			spec = spec[1:]
			return int(b)
		}
		all := append(DTypes(), OpaqueDTypes()...)
		count := next()%4 + 1
		var arrays []*Array
		wantInvalid := false
		seen := map[string]bool{}
		for range count {
			n := min(next()%8, len(names))
			name := names[:n]
			names = names[n:]
			dt := all[next()%len(all)]
			shape := make([]int, next()%4)
			elems := 1
			for i := range shape {
				shape[i] = next() % 4
				elems *= shape[i]
			}
			data := make([]byte, elems*dt.Size())
			for i := range data {
				data[i] = byte(next())
			}
			a, err := NewArray(name, dt, shape, false, data)
			if err != nil {
				t.Fatalf("NewArray(%q, %v, %v): %v", name, dt, shape, err)
			}
			wantInvalid = wantInvalid || !utf8.ValidString(name) || name == stMetadataKey || seen[name]
			seen[name] = true
			arrays = append(arrays, a)
		}
		var meta map[string]string
		if next()%2 == 1 {
			meta = map[string]string{key: value}
			wantInvalid = wantInvalid || !utf8.ValidString(key) || !utf8.ValidString(value)
		}

		var buf bytes.Buffer
		err := WriteSafetensors(&buf, meta, arrays...)
		if wantInvalid {
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrDType) {
				t.Fatalf("want ErrInvalid alone, got %v", err)
			}
		} else {
			if err != nil {
				t.Fatalf("WriteSafetensors: %v", err)
			}
			f, err := decode(buf.Bytes(), false)
			if err != nil {
				t.Fatalf("reading back: %v", err)
			}
			if len(meta) == 0 && f.Metadata != nil || len(meta) > 0 && !reflect.DeepEqual(meta, f.Metadata) {
				t.Fatalf("metadata %q read back as %q", meta, f.Metadata)
			}
			if len(f.Arrays) != len(arrays) {
				t.Fatalf("%d arrays read back, %d written", len(f.Arrays), len(arrays))
			}
			for _, a := range arrays {
				b, err := f.Array(a.Name)
				if err != nil {
					t.Fatalf("array %q: %v", a.Name, err)
				}
				sameArray(t, a, b)
			}
		}

		buf.Reset()
		a := arrays[0]
		err = WriteNPY(&buf, a)
		if _, ok := a.DType.NPY(); !ok {
			if !errors.Is(err, ErrDType) || errors.Is(err, ErrInvalid) {
				t.Fatalf("%v as .npy: want ErrDType alone, got %v", a.DType, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("WriteNPY: %v", err)
		}
		f, err := decode(buf.Bytes(), true)
		if err != nil {
			t.Fatalf("reading back the .npy: %v", err)
		}
		sameArray(t, a, f.Arrays[0])
	})
}

// sameArray fails the test unless got holds want's dtype, shape and bytes.
func sameArray(t *testing.T, want, got *Array) {
	t.Helper()
	if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || got.Fortran != want.Fortran || !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("array %q: wrote %v %v %x, read %v %v %x", want.Name, want.DType, want.Shape, want.Bytes(), got.DType, got.Shape, got.Bytes())
	}
}

// checkAgreesWithJSON checks a safetensors file that decoded without error
// against encoding/json: the header the one-pass parser accepted must be
// valid JSON, and encoding/json must find in it the same tensors (names,
// dtypes, shapes, data lengths), no other keys, and the same metadata. It
// holds the hand-written parser to the standard library's reading of
// JSON, escapes and numbers included.
func checkAgreesWithJSON(t *testing.T, b []byte, f *File) {
	t.Helper()
	n := binary.LittleEndian.Uint64(b[:8])
	header := b[8 : 8+n]
	if !json.Valid(header) {
		t.Fatalf("the header %q was accepted but is not valid JSON", header)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(header, &entries); err != nil {
		t.Fatalf("encoding/json cannot read the accepted header %q: %v", header, err)
	}
	keys := len(f.Arrays)
	if raw, ok := entries["__metadata__"]; ok {
		keys++
		var meta map[string]string
		if err := json.Unmarshal(raw, &meta); err != nil {
			t.Fatalf("metadata %s accepted, but encoding/json reads: %v", raw, err)
		}
		if len(meta) != len(f.Metadata) {
			t.Fatalf("metadata %v, encoding/json reads %v", f.Metadata, meta)
		}
		for k, v := range meta {
			if got, ok := f.Metadata[k]; !ok || got != v {
				t.Fatalf("metadata %q = %q, encoding/json reads %q", k, got, v)
			}
		}
	}
	if keys != len(entries) {
		t.Fatalf("%d tensors and metadata read, encoding/json finds %d keys in %q", keys, len(entries), header)
	}
	for _, a := range f.Arrays {
		raw, ok := entries[a.Name]
		if !ok {
			t.Fatalf("tensor %q read, encoding/json has no such key in %q", a.Name, header)
		}
		var e struct {
			DType   string   `json:"dtype"`
			Shape   []int    `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("tensor %q: %s accepted, but encoding/json reads: %v", a.Name, raw, err)
		}
		if len(e.Shape) != len(a.Shape) {
			t.Fatalf("tensor %q: shape %v, encoding/json reads %v", a.Name, a.Shape, e.Shape)
		}
		for i := range e.Shape {
			if e.Shape[i] != a.Shape[i] {
				t.Fatalf("tensor %q: shape %v, encoding/json reads %v", a.Name, a.Shape, e.Shape)
			}
		}
		if a.DType == Invalid {
			continue
		}
		if e.DType != a.DType.Safetensors() {
			t.Fatalf("tensor %q: dtype %v, encoding/json reads %q", a.Name, a.DType, e.DType)
		}
		if len(e.Offsets) != 2 || e.Offsets[1]-e.Offsets[0] != uint64(len(a.Bytes())) {
			t.Fatalf("tensor %q: %d bytes, encoding/json reads offsets %v", a.Name, len(a.Bytes()), e.Offsets)
		}
	}
}
