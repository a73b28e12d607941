//go:build unix

package reshape

import (
	"fmt"
	"math/rand/v2"
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

// unreadable returns n elements of T mapped between two pages the process
// may not read (PROT_NONE): ending at the second where atEnd, else starting
// right after the first.
func unreadable[T any](t *testing.T, n int, atEnd bool) []T {
	t.Helper()
	page := os.Getpagesize()
	size := int(unsafe.Sizeof(*new(T)))
	span := (n*size + page - 1) / page * page
	b, err := unix.Mmap(-1, 0, span+2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Munmap(b) })
	require.NoError(t, unix.Mprotect(b[:page], unix.PROT_NONE))
	require.NoError(t, unix.Mprotect(b[page+span:], unix.PROT_NONE))
	at := page
	if atEnd {
		at = page + span - n*size
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[at])), n)
}

// TestTouchStaysInside runs streamed transposes, plain and converting, whose
// source and destination each start or end at a page the process may not
// read, in every mode: beyond the cache the plain walks of the Go tiles
// read a byte of each line of a block before they write it (touchLines and
// touchRows in generated), and those reads must stay within the block.
// A read past either end would fault and fail the copy. (Reading one byte
// past either end, in either function, fails it.)
func TestTouchStaysInside(t *testing.T) {
	defer SetMaxWorkers(SetMaxWorkers(1))
	defer SetParallelThreshold(SetParallelThreshold(0))
	defer SetStreamingThreshold(SetStreamingThreshold(1))
	forEachMode(t, func(t *testing.T) {
		for _, workers := range []int{1, 2} {
			SetMaxWorkers(workers)
			SetParallelThreshold(1)
			for _, shape := range [][]int{{67, 130}, {256, 96}, {33, 1001}, {5, 7, 64, 3}} {
				for _, ends := range [][2]bool{{false, false}, {true, true}, {false, true}, {true, false}} {
					name := fmt.Sprintf("workers=%d/shape=%v/srcAtEnd=%v/dstAtEnd=%v", workers, shape, ends[0], ends[1])
					t.Run(name, func(t *testing.T) {
						touchCase[uint8, uint8](t, shape, ends)
						touchCase[BFloat16, BFloat16](t, shape, ends)
						touchCase[float32, float32](t, shape, ends)
						touchCase[float64, float64](t, shape, ends)
						touchCase[BFloat16, float32](t, shape, ends)
						touchCase[float32, BFloat16](t, shape, ends)
						touchCase[float64, float32](t, shape, ends)
					})
				}
			}
		}
	})
}

// touchCase copies shape with its first and last axes swapped from an
// unreadable-bounded source of S into one of D, and checks it against the
// reference.
func touchCase[S, D Element](t *testing.T, shape []int, ends [2]bool) {
	t.Helper()
	n := product(shape)
	data := unreadable[S](t, n, ends[0])
	rng := rand.New(rand.NewPCG(uint64(n), 5))
	randomFill(rng, data)
	view, err := New(data, shape...)
	require.NoError(t, err)
	perm := make([]int, len(shape))
	for a := range perm {
		perm[a] = a
	}
	perm[0], perm[len(perm)-1] = perm[len(perm)-1], perm[0]
	view, err = view.Permute(perm...)
	require.NoError(t, err)
	want := make([]S, n)
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	dst := unreadable[D](t, n, ends[1])
	require.NoError(t, ContiguousAs(dst, view))
	from, to := valueDTypeOf[S](), valueDTypeOf[D]()
	for k := range n {
		if got, exp := bitsOf(dst[k]), refConvert(from, to, bitsOf(want[k])); !sameConverted(to, got, exp) {
			t.Fatalf("%v → %v: element %d of %d: %#x, want %#x", from, to, k, n, got, exp)
		}
	}
}
