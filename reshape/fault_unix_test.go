//go:build unix

package reshape

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// mapShrunk maps a file of n float32 (shared, read-only) and then truncates
// the file to keep bytes, as another process rewriting a mapped input does:
// reading the mapping past the first page after keep raises SIGBUS.
func mapShrunk(t *testing.T, n int, keep int64) []float32 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mapped")
	require.NoError(t, os.WriteFile(path, make([]byte, 4*n), 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	b, err := unix.Mmap(int(f.Fd()), 0, 4*n, unix.PROT_READ, unix.MAP_SHARED)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Munmap(b) })
	require.NoError(t, os.Truncate(path, keep))
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
}

// TestFaultIsError reads views of a mapped file truncated under them, on
// one goroutine and split across the helpers, through the copying,
// converting, transposing and appending paths: each must return ErrFault,
// not end the process with "fatal error: fault", and the helpers must work
// on afterwards.
func TestFaultIsError(t *testing.T) {
	const rows, cols = 512, 1024 // 2 MiB of float32
	for _, keep := range []int64{0, 128, 1 << 20} {
		data := mapShrunk(t, rows*cols, keep)
		flat, err := New(data, rows, cols)
		require.NoError(t, err)
		transposed, err := flat.Permute(1, 0)
		require.NoError(t, err)
		gathered := Tensor[float32]{Data: data, Shape: []int{rows / 2, cols}, Strides: []int{2 * cols, 1}}
		for _, workers := range []int{1, 2, 3} {
			splitSetting(t, workers, func() {
				dst := make([]float32, rows*cols)
				for name, f := range map[string]func() error{
					"Contiguous transpose": func() error { return Contiguous(dst, transposed) },
					"Contiguous rows":      func() error { return Contiguous(dst, gathered) },
					"ToLastDimension":      func() error { _, err := ToLastDimension(transposed); return err },
					"ContiguousAs":         func() error { return ContiguousAs(make([]float64, rows*cols), transposed) },
					"ToLastDimensionAs":    func() error { _, err := ToLastDimensionAs[BFloat16](gathered); return err },
					"Append": func() error {
						store, _, err := AppendToLastDimension(make([]float32, 0, 8), transposed)
						assert.Empty(t, store, "the store is returned unchanged")
						return err
					},
				} {
					err := f()
					assert.ErrorIs(t, err, ErrFault, "%s, %d workers, file cut to %d bytes", name, workers, keep)
				}
			})
		}
	}
	// The helpers, whose parts faulted, still copy.
	src := make([]float32, rows*cols)
	for i := range src {
		src[i] = float32(i)
	}
	v, err := New(src, rows, cols)
	require.NoError(t, err)
	v, err = v.Permute(1, 0)
	require.NoError(t, err)
	splitSetting(t, 3, func() {
		m, err := ToLastDimension(v)
		require.NoError(t, err)
		assert.Equal(t, float32(1*cols+5), m.Data[5*rows+1])
	})
}

// TestFaultElsewherePanics checks that catchFault turns only faults in the
// copy's own memory into ErrFault: a fault at another address is a bug and
// goes on as a panic.
func TestFaultElsewherePanics(t *testing.T) {
	gone := mapShrunk(t, 4096, 0)
	own := make([]float32, 8)
	var err error
	r := func() (r any) {
		defer func() { r = recover() }()
		defer catchFault(&err, debug.SetPanicOnFault(true), copyOp{dt: dtypeOf[float32]()},
			unsafe.Pointer(&own[0]), unsafe.Pointer(&own[0]), inspected{n: 8, lo: 0, hi: 7})
		own[0] = gone[0] // faults outside own
		return nil
	}()
	require.NotNil(t, r, "a fault outside the copy's memory must panic")
	_, ok := r.(interface{ Addr() uintptr })
	assert.True(t, ok, "the fault's own panic goes on: %v", r)
	assert.NoError(t, err)
}
