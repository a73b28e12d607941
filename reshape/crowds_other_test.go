//go:build purego || !(amd64 || arm64)

package reshape

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/generated"
)

// TestOtherCrowds checks the crowding of the builds without assembly (gen's
// otherCrowd): 1-, 2- and 4-byte destination rows a multiple of 4 KiB
// apart, or an element off, go through the buffer at any span, not
// streamed; 8-byte blocks, with fewer rows than the L1 cache has ways,
// never do; rows 2 KiB and a line apart crowd no set.
func TestOtherCrowds(t *testing.T) {
	for _, size := range []int{1, 2, 4} {
		for _, off := range []int{-1, 0, 1} {
			dj := 4096/size + off
			require.True(t, generated.Crowds(size, 64, dj), "%d bytes, rows %d elements apart", size, dj)
			require.True(t, generated.Crowds(size, 8192, dj), "%d bytes, rows %d elements apart, a destination of %d MiB", size, dj, 8192*dj*size>>20)
		}
		require.False(t, generated.Crowds(size, 64, (2048+64)/size), "%d bytes, rows 2 KiB and a line apart", size)
	}
	require.False(t, generated.Crowds(8, 64, 512), "8 bytes, rows 4 KiB apart")
}
