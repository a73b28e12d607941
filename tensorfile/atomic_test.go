package tensorfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eachTemp runs f with an unnamed temporary file (where the platform has
// them) and with the named fallback.
func eachTemp(t *testing.T, f func(t *testing.T)) {
	for _, unnamed := range []bool{true, false} {
		name := "named"
		if unnamed {
			name = "unnamed"
		}
		t.Run(name, func(t *testing.T) {
			old := tryUnnamed
			tryUnnamed = unnamed
			defer func() { tryUnnamed = old }()
			f(t)
		})
	}
}

// TestWriteFileCancelledLate cancels the context while WriteFile syncs the
// complete temporary file (a Ctrl-C during a slow fsync): the existing file
// must stay as it was, the temporary file go, and the error be the
// context's.
func TestWriteFileCancelledLate(t *testing.T) {
	eachTemp(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.npy")
		require.NoError(t, os.WriteFile(path, []byte("precious"), 0o644))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		old := syncFile
		defer func() { syncFile = old }()
		synced := false
		syncFile = func(f *os.File) error {
			synced = true
			cancel() // the signal arrives while the sync waits
			return f.Sync()
		}
		err := WriteFileContext(ctx, path, func(w io.Writer) error {
			_, err := w.Write([]byte("the whole new content"))
			return err
		})
		require.True(t, synced)
		assert.ErrorIs(t, err, context.Canceled)
		got, rerr := os.ReadFile(path)
		require.NoError(t, rerr)
		assert.Equal(t, "precious", string(got), "a cancelled write must not replace the file")
		assertOnly(t, dir, "out.npy")
	})

	// Cancelled before: nothing is created.
	dir := t.TempDir()
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stopped")
	cancel(stop)
	called := false
	err := WriteFileContext(ctx, filepath.Join(dir, "x.npy"), func(io.Writer) error { called = true; return nil })
	assert.ErrorIs(t, err, stop, "the cause is returned")
	assert.False(t, called)
	assertOnly(t, dir)
}

// TestWriteFilePanic checks that a panic of the write callback removes the
// temporary file and closes its descriptor before it goes on.
func TestWriteFilePanic(t *testing.T) {
	eachTemp(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.npy")
		require.NoError(t, os.WriteFile(path, []byte("precious"), 0o644))
		var tmp *os.File
		func() {
			defer func() {
				assert.Equal(t, "boom", recover(), "the panic goes on")
			}()
			_ = WriteFile(path, func(w io.Writer) error {
				tmp = w.(*os.File)
				_, _ = w.Write([]byte("half"))
				panic("boom")
			})
		}()
		require.NotNil(t, tmp)
		_, err := tmp.Write([]byte("x"))
		assert.ErrorIs(t, err, os.ErrClosed, "the temporary file's descriptor is closed")
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "precious", string(got))
		assertOnly(t, dir, "out.npy")
	})
}

// TestWriteFileOntoDirectory checks that a directory at the path is refused
// up front, naming the path and not a temporary file.
func TestWriteFileOntoDirectory(t *testing.T) {
	eachTemp(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.npy")
		require.NoError(t, os.Mkdir(path, 0o755))
		called := false
		err := WriteFile(path, func(w io.Writer) error { called = true; return nil })
		require.Error(t, err)
		assert.False(t, called, "nothing is written for a destination that cannot be")
		assert.NotContains(t, err.Error(), ".tmp-")
		assert.Contains(t, err.Error(), path)
		var pe *fs.PathError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, path, pe.Path)
		assertOnly(t, dir, "out.npy")
	})
}

// TestSmallContracts checks the small promises of the package's edges: a
// nil array given to a writer is ErrInvalid, not a nil dereference; a
// second Close wraps fs.ErrClosed.
func TestSmallContracts(t *testing.T) {
	var buf bytes.Buffer
	assert.ErrorIs(t, WriteNPY(&buf, nil), ErrInvalid)
	assert.ErrorIs(t, WriteSafetensors(&buf, nil, nil), ErrInvalid)
	a := mustArray("a", Uint8, []int{1}, false, []byte{1})
	assert.ErrorIs(t, WriteSafetensors(&buf, nil, a, nil), ErrInvalid)
	dir := t.TempDir()
	assert.ErrorIs(t, Save(filepath.Join(dir, "x.npy"), nil, nil), ErrInvalid)
	assert.ErrorIs(t, Save(filepath.Join(dir, "x.safetensors"), nil, nil), ErrInvalid)
	assertOnly(t, dir)

	path := filepath.Join(dir, "a.npy")
	require.NoError(t, Save(path, nil, a))
	f, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.ErrorIs(t, f.Close(), fs.ErrClosed, "a second Close")
}
