//go:build unix

package tensorfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShrunkSwap truncates a '>' .npy file under its map: its data is
// swapped on read (on any host), and the swap must fail with ErrChanged,
// not end the process with a fault.
func TestShrunkSwap(t *testing.T) {
	const n = 1 << 16
	little := encodeNPY(mustArray("", Float32, []int{n}, false, ramp(Float32, n)), 1)
	start := headerLen(little)
	big := bytes.Replace(little[:start], []byte("'<f4'"), []byte("'>f4'"), 1)
	big = append(big, swapped(fileOrder(Float32, little[start:]), 4)...)
	path := filepath.Join(t.TempDir(), "big.npy")
	require.NoError(t, os.WriteFile(path, big, 0o644))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	if !f.Mapped {
		t.Skip("not a memory map on this platform")
	}
	require.NoError(t, os.Truncate(path, 0))
	_, err = Tensor[float32](f.Arrays[0])
	assert.ErrorIs(t, err, ErrChanged)
	_, err = Reshape(f.Arrays[0], ReshapeOptions{})
	assert.ErrorIs(t, err, ErrChanged)
}
