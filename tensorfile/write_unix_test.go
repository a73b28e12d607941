//go:build unix

package tensorfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// TestWriteFileSymlink checks that a symbolic link at the path is replaced
// by a new file of a new file's mode: the link's target, even one of
// another mode, keeps its content and mode.
func TestWriteFileSymlink(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	eachTemp(t, func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "target.npy")
		require.NoError(t, os.WriteFile(target, []byte("target"), 0o600))
		require.NoError(t, os.Chmod(target, 0o700))
		link := filepath.Join(dir, "link.npy")
		require.NoError(t, os.Symlink("target.npy", link))
		require.NoError(t, WriteFile(link, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }))
		fi, err := os.Lstat(link)
		require.NoError(t, err)
		assert.True(t, fi.Mode().IsRegular(), "the link is replaced by the file")
		assert.Equal(t, fs.FileMode(0o644), fi.Mode().Perm(), "the mode of a new file, not the target's")
		b, err := os.ReadFile(target)
		require.NoError(t, err)
		assert.Equal(t, "target", string(b))
		fi, err = os.Stat(target)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())
	})
}

// TestWriteFileKilled kills a process with SIGKILL while WriteFile writes
// and checks what it leaves in the directory: on Linux, where the temporary
// file is unnamed, nothing at all; elsewhere at most the hidden temporary
// file.
func TestWriteFileKilled(t *testing.T) {
	if dir := os.Getenv("STRIDEKIT_KILLED_CHILD"); dir != "" {
		_ = WriteFile(filepath.Join(dir, "out.npy"), func(w io.Writer) error {
			if _, err := w.Write(make([]byte, 1<<20)); err != nil {
				return err
			}
			fmt.Println("writing")
			select {} // killed here
		})
		os.Exit(3)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "out.npy"), []byte("precious"), 0o644))
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteFileKilled$")
	cmd.Env = append(os.Environ(), "STRIDEKIT_KILLED_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "writing\n", line)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	b, err := os.ReadFile(filepath.Join(dir, "out.npy"))
	require.NoError(t, err)
	assert.Equal(t, "precious", string(b))
	if runtime.GOOS == "linux" {
		assertOnly(t, dir, "out.npy")
	}
}

// TestMapFails opens files that cannot be memory-mapped: mmap failing (a
// seam) and, where it exists, a file of /sys, which reports a page's size
// and holds a line. Open must read them instead: the first is the file it
// is, the second a format error, with a sentinel either way.
func TestMapFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npy")
	require.NoError(t, Save(path, nil, mustArray("", Uint8, []int{3}, false, []byte{1, 2, 3})))
	old := mmap
	mmap = func(int, int64, int, int, int) ([]byte, error) { return nil, syscall.ENODEV }
	f, err := Open(path)
	mmap = old
	require.NoError(t, err)
	assert.False(t, f.Mapped)
	assert.Equal(t, []byte{1, 2, 3}, f.Arrays[0].Bytes())
	require.NoError(t, f.Close())

	const sys = "/sys/kernel/mm/transparent_hugepage/enabled"
	if _, err := os.Stat(sys); err != nil {
		t.Skipf("no %s here", sys)
	}
	_, err = Open(sys)
	assert.ErrorIs(t, err, ErrFormat, "%v", err)
}
