package tensorfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteFileAtomic checks that a failure part-way through leaves an
// existing file as it was and no temporary file behind, and that success
// replaces it whole.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.npy")
	require.NoError(t, os.WriteFile(path, []byte("precious"), 0o600))

	boom := errors.New("disk on fire")
	err := WriteFile(path, func(w io.Writer) error {
		if _, err := w.Write([]byte("half of the")); err != nil {
			return err
		}
		return boom
	})
	assert.ErrorIs(t, err, boom)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(got), "the existing file is untouched")
	assertOnly(t, dir, "out.npy")

	// No file before: none after a failure either.
	fresh := filepath.Join(dir, "fresh.safetensors")
	assert.ErrorIs(t, WriteFile(fresh, func(io.Writer) error { return boom }), boom)
	assertOnly(t, dir, "out.npy")

	a := mustArray("", Uint8, []int{3}, false, []byte{1, 2, 3})
	require.NoError(t, Save(path, nil, a))
	f, err := Open(path)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, f.Arrays[0].Bytes())
	require.NoError(t, f.Close())
	assertOnly(t, dir, "out.npy")

	// A directory that does not exist: an error naming the file asked
	// for, not the temporary one; nothing created.
	missing := filepath.Join(dir, "no", "such.npy")
	err = Save(missing, nil, a)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, "create "+missing+": ")
	assert.NotContains(t, err.Error(), ".tmp-")
	assertOnly(t, dir, "out.npy")
}

// assertOnly checks dir holds exactly the files named.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.Equal(t, names, got)
}

// TestReadAllFallback reads every golden file the way Open does on
// platforms without mmap, and checks it decodes to what the map gives.
func TestReadAllFallback(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		fi, err := f.Stat()
		require.NoError(t, err)
		b, release, err := readAll(f, fi.Size())
		require.NoError(t, err)
		require.NoError(t, f.Close())
		read, err := decode(b, false)
		require.NoError(t, err, p)
		mappedFile, err := Open(p)
		require.NoError(t, err, p)
		require.Len(t, read.Arrays, len(mappedFile.Arrays))
		for i, a := range read.Arrays {
			assert.Equal(t, mappedFile.Arrays[i].Bytes(), a.Bytes(), p)
			assert.Equal(t, mappedFile.Arrays[i].Shape, a.Shape, p)
		}
		require.NoError(t, mappedFile.Close())
		require.NoError(t, release())
	}
}
