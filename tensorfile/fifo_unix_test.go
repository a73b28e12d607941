//go:build unix

package tensorfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// within runs f and fails the test if it has not returned after d: a FIFO
// opened for reading with no writer would block for ever.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still blocked after %v", d)
	}
}

// TestOpenFIFO checks Open refuses a named pipe, and a link to one, with
// ErrFormat instead of waiting for a writer; and that the check on the open
// descriptor, which catches a path replaced after the Stat, does not block
// on a FIFO either.
func TestOpenFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.npy")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	link := filepath.Join(dir, "link.safetensors")
	require.NoError(t, os.Symlink(fifo, link))
	for _, p := range []string{fifo, link} {
		within(t, 5*time.Second, func() {
			f, err := Open(p)
			assert.Nil(t, f)
			assert.ErrorIs(t, err, ErrFormat, p)
			assert.ErrorContains(t, err, "a named pipe (FIFO), not a regular file", p)
		})
	}
	within(t, 5*time.Second, func() {
		f, _, err := openRegular(fifo)
		assert.Nil(t, f)
		assert.ErrorIs(t, err, ErrFormat)
	})
}

// TestOpenDirectory checks a directory is refused with ErrFormat.
func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir)
	assert.ErrorIs(t, err, ErrFormat)
	assert.ErrorContains(t, err, "a directory, not a regular file")
}
