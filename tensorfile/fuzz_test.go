package tensorfile

import (
	"os"
	"path/filepath"
	"testing"
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
	})
}
