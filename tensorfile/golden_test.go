package tensorfile

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update rewrites the golden files from the writers here:
//
//	go test ./tensorfile -run TestGolden -update
var update = flag.Bool("update", false, "rewrite testdata/ from the writers of this package")

// goldenShape is the shape of every golden .npy array: small, rank 3, and
// different extents so a wrong order shows.
var goldenShape = []int{2, 3, 4}

// golden returns every golden file by name, made by this package's writers:
// each array holds the ramp in C order (a Fortran-order file lays it out
// column-major, as np.asfortranarray would): one .npy per dtype and order, the other format versions,
// and one .safetensors of every dtype with metadata.
func golden() map[string][]byte {
	files := map[string][]byte{}
	for _, dt := range DTypes() {
		descr, ok := dt.NPY()
		if !ok {
			continue
		}
		for _, fortran := range []bool{false, true} {
			order := "c"
			if fortran {
				order = "f"
			}
			data := ramp(dt, count(goldenShape))
			if fortran {
				data = fortranOrder(data, dt.Size(), goldenShape)
			}
			a := mustArray("", dt, goldenShape, fortran, data)
			files[fmt.Sprintf("%s_%s.npy", descr[1:], order)] = encodeNPY(a, 0)
		}
	}
	for _, major := range []byte{2, 3} {
		a := mustArray("", Float32, goldenShape, false, ramp(Float32, count(goldenShape)))
		files[fmt.Sprintf("f4_c_v%d.npy", major)] = encodeNPY(a, major)
	}
	var arrays []*Array
	for i, dt := range DTypes() {
		shape := []int{2, 1 + i%3, 3}
		arrays = append(arrays, mustArray("layers."+dt.String(), dt, shape, false, ramp(dt, count(shape))))
	}
	files["all.safetensors"] = encodeST(map[string]string{"format": "pt", "source": "stridekit golden"}, arrays...)
	return files
}

// TestGolden compares the committed testdata/ with what the writers make
// now, so a change of the written format fails here, and reads each file
// back: the values are the ramp, in C order whatever the file's order.
func TestGolden(t *testing.T) {
	files := golden()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		for _, n := range names {
			require.NoError(t, os.WriteFile(filepath.Join("testdata", n), files[n], 0o644))
		}
	}
	onDisk, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	require.NoError(t, err)
	var diskNames []string
	for _, p := range onDisk {
		diskNames = append(diskNames, filepath.Base(p))
	}
	assert.Equal(t, names, diskNames, "testdata/ holds exactly the golden files; run go test ./tensorfile -run TestGolden -update")
	for _, n := range names {
		path := filepath.Join("testdata", n)
		got, err := os.ReadFile(path)
		require.NoError(t, err, n)
		assert.True(t, bytes.Equal(files[n], got), "%s differs from what the writers make; run go test ./tensorfile -run TestGolden -update", n)

		f, err := Open(path)
		require.NoError(t, err, n)
		for _, a := range f.Arrays {
			m, err := Reshape(a, ReshapeOptions{})
			require.NoError(t, err, n)
			assert.True(t, bytes.Equal(ramp(a.DType, a.Len()), m.Bytes()), "%s %s: the values are not the ramp in C order", n, a.Name)
		}
		require.NoError(t, f.Close())
	}
}
