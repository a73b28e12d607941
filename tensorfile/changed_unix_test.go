//go:build unix

package tensorfile

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/reshape"
)

// openShrunk saves a [64, 32, 16] float32 .npy file (128 KiB of data),
// opens it and then truncates it to 128 bytes, as numpy.save rewriting it
// in place does: every page of its map after the first is gone.
func openShrunk(t *testing.T) (*File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "acts.npy")
	data := make([]byte, 0, 4*64*32*16)
	for i := range 64 * 32 * 16 {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(float32(i)))
	}
	require.NoError(t, Save(path, nil, mustArray("", Float32, []int{64, 32, 16}, false, data)))
	f, err := Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	require.NoError(t, os.Truncate(path, 128))
	return f, path
}

// TestShrunkMapping reads a file truncated while open by every path that
// reads its map: each must fail with an error wrapping ErrChanged (or, for
// a view copied by package reshape itself, reshape.ErrFault), never end the
// process with "fatal error: fault".
func TestShrunkMapping(t *testing.T) {
	f, path := openShrunk(t)
	a := f.Arrays[0]

	// The reported reproduction: a view of the map, copied by reshape.
	v, err := Tensor[float32](a)
	require.NoError(t, err)
	p, err := v.Permute(1, 0, 2)
	require.NoError(t, err)
	_, err = reshape.ConcatLastDimensions(p, 2)
	assert.ErrorIs(t, err, reshape.ErrFault)

	var buf bytes.Buffer
	assert.ErrorIs(t, WriteNPY(&buf, a), ErrChanged, "the bytes of the map, written")
	assert.ErrorIs(t, WriteSafetensors(&buf, nil, a), ErrChanged)

	_, err = Reshape(a, ReshapeOptions{Permute: []int{2, 0, 1}})
	assert.ErrorIs(t, err, ErrChanged, "Reshape")
	assert.ErrorIs(t, err, reshape.ErrFault)
	_, err = Reshape(a, ReshapeOptions{DType: Float64})
	assert.ErrorIs(t, err, ErrChanged, "Reshape converting")

	lazy, err := ReshapeLazy(a, ReshapeOptions{Permute: []int{2, 0, 1}})
	require.NoError(t, err)
	assert.ErrorIs(t, WriteNPY(&buf, lazy), ErrChanged, "ReshapeLazy, written")
	lazy, err = ReshapeLazy(a, ReshapeOptions{Slice: []Range{{Axis: 0, Start: 1, Stop: 64, Step: 2}}, DType: Float16})
	require.NoError(t, err)
	assert.ErrorIs(t, WriteNPY(&buf, lazy), ErrChanged, "ReshapeLazy converting, written")

	// Into a file: the write system call reads the map itself.
	out := filepath.Join(filepath.Dir(path), "out.npy")
	require.NoError(t, os.WriteFile(out, []byte("old"), 0o644))
	assert.ErrorIs(t, Save(out, nil, a), ErrChanged, "Save of the map's bytes")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "old", string(b))
	assertOnly(t, filepath.Dir(path), "acts.npy", "out.npy")
}

// TestShrunkBeforeParse checks that a file that shrinks between its size
// being read and its header being parsed fails with ErrChanged: decode
// reads the map.
func TestShrunkBeforeParse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acts.npy")
	require.NoError(t, Save(path, nil, mustArray("", Uint8, []int{1 << 16}, false, make([]byte, 1<<16))))
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	b, unmap, _, err := mapFile(fh, 1<<16+128)
	require.NoError(t, err)
	defer unmap()
	require.NoError(t, os.Truncate(path, 0))
	_, err = decodeMapped(b, true, true, Limits{})
	assert.ErrorIs(t, err, ErrChanged)
}
