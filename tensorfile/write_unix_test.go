//go:build unix

package tensorfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteFileMode checks a replaced file keeps its permission bits (and
// the temporary file is private while written), and a new file gets 0644
// less the umask.
func TestWriteFileMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, perm := range []fs.FileMode{0o600, 0o640, 0o755, 0o444} {
		path := filepath.Join(dir, fmt.Sprintf("keep%o.npy", perm))
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
		require.NoError(t, os.Chmod(path, perm))
		err := WriteFile(path, func(w io.Writer) error {
			fi, err := w.(*os.File).Stat()
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "%o: the temporary file while written", perm)
			_, err = w.Write([]byte("new"))
			return err
		})
		require.NoError(t, err)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, perm, fi.Mode().Perm(), "replacing a file of mode %o", perm)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "new", string(b))
	}
	for _, c := range []struct{ umask, want fs.FileMode }{{0o022, 0o644}, {0o002, 0o644}, {0, 0o644}, {0o077, 0o600}, {0o027, 0o640}} {
		syscall.Umask(int(c.umask))
		path := filepath.Join(dir, fmt.Sprintf("new%o.npy", c.umask))
		require.NoError(t, WriteFile(path, func(w io.Writer) error { _, err := w.Write([]byte("x")); return err }))
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, c.want, fi.Mode().Perm(), "a new file under umask %03o", c.umask)
	}
}
