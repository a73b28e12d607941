package tensorfile

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/reshape"
)

// TestReshape checks Reshape against the definition for every dtype, both
// orders, every permutation of a rank-3 array and every concatDims, with
// and without the blocked copy that reports progress.
func TestReshape(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shape := []int{3, 4, 5}
	perms := [][]int{nil, {0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}, {-1, 0, 1}}
	for _, dt := range DTypes() {
		for _, fortran := range []bool{false, true} {
			data := random(rng, dt, count(shape))
			a := mustArray("x", dt, shape, fortran, data)
			c := cOrder(data, dt.Size(), shape, fortran)
			for _, perm := range perms {
				p := perm
				if p == nil {
					p = []int{0, 1, 2}
				}
				canon := make([]int, len(p))
				for i, ax := range p {
					canon[i] = (ax + len(shape)) % len(shape)
				}
				want := permuteC(c, dt.Size(), shape, canon)
				for k := 1; k <= 3; k++ {
					for _, blocked := range []bool{false, true} {
						name := fmt.Sprintf("dtype=%v/fortran=%v/perm=%v/concat=%d/blocked=%v", dt, fortran, perm, k, blocked)
						opt := ReshapeOptions{Permute: perm, ConcatDims: k}
						calls := 0
						if blocked {
							opt.Progress = func(done, total int64) error {
								calls++
								assert.LessOrEqual(t, done, total, name)
								return nil
							}
						}
						m, err := Reshape(a, opt)
						require.NoError(t, err, name)
						assert.Equal(t, want, m.Bytes(), name)
						if !blocked {
							lazy, err := ReshapeLazy(a, opt)
							require.NoError(t, err, name)
							assert.Equal(t, m.Shape, lazy.Shape, name)
							var buf bytes.Buffer
							require.NoError(t, lazy.writeData(&buf), name)
							assert.Equal(t, want, buf.Bytes(), name+" streamed")
							assert.Equal(t, want, lazy.Bytes(), name+" computed")
						}
						cols := 1
						for _, ax := range canon[3-k:] {
							cols *= shape[ax]
						}
						assert.Equal(t, []int{60 / cols, cols}, m.Shape, name)
						assert.Equal(t, "x", m.Name)
						assert.False(t, m.Fortran)
					}
				}
			}
		}
	}
}

// TestReshapeAliases checks that a view already contiguous is not copied.
func TestReshapeAliases(t *testing.T) {
	data := ramp(Int16, 12)
	a := mustArray("x", Int16, []int{3, 4}, false, data)
	m, err := Reshape(a, ReshapeOptions{ConcatDims: 2})
	require.NoError(t, err)
	assert.Same(t, &data[0], &m.Bytes()[0])
	// A Fortran [3,4] array transposed is C-contiguous [4,3].
	f := mustArray("x", Int16, []int{3, 4}, true, data)
	m, err = Reshape(f, ReshapeOptions{Permute: []int{1, 0}})
	require.NoError(t, err)
	assert.Same(t, &data[0], &m.Bytes()[0])
	assert.Equal(t, []int{4, 3}, m.Shape)
}

// TestReshapeErrors checks bad permutations and concatDims come back as
// reshape's sentinels, and that Progress can stop the copy.
func TestReshapeErrors(t *testing.T) {
	a := mustArray("x", Float32, []int{2, 3, 4}, true, ramp(Float32, 24))
	for _, opt := range []ReshapeOptions{
		{Permute: []int{0, 1}}, {Permute: []int{0, 0, 1}}, {Permute: []int{0, 1, 3}},
		{Permute: []int{0, 1, 3}, Progress: func(int64, int64) error { return nil }},
	} {
		_, err := Reshape(a, opt)
		assert.ErrorIs(t, err, reshape.ErrPermutation, "%v", opt.Permute)
	}
	for _, k := range []int{-1, 4} {
		for _, progress := range []func(int64, int64) error{nil, func(int64, int64) error { return nil }} {
			_, err := Reshape(a, ReshapeOptions{ConcatDims: k, Progress: progress})
			assert.ErrorIs(t, err, reshape.ErrConcatDims, "%d", k)
		}
	}
	stop := errors.New("stop")
	_, err := Reshape(a, ReshapeOptions{Progress: func(int64, int64) error { return stop }})
	assert.ErrorIs(t, err, stop)
}

// TestEachBlock checks the blocks tile the row-major order and together
// are the whole view, for block sizes from one element up, on views whose
// leading axes have extent 1 and views whose rows are longer than a block.
func TestEachBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][]int{{7}, {1, 1, 9, 4}, {3, 4, 5}, {2, 1, 3, 1, 5}, {4, 0, 3}, {1}} {
		data := random(rng, Int16, count(shape))
		a := mustArray("x", Int16, shape, true, data) // Fortran: a strided view
		v, err := Tensor[int16](a)
		require.NoError(t, err)
		want, err := Reshape(a, ReshapeOptions{})
		require.NoError(t, err)
		for _, maxElems := range []int{1, 2, 3, 5, 7, 11, 20, 60, 1000} {
			name := fmt.Sprintf("shape=%v/max=%d", shape, maxElems)
			var got []int16
			next := 0
			err := eachBlock(v, maxElems, func(off, length int, block reshape.Tensor[int16]) error {
				assert.Equal(t, next, off, name)
				assert.LessOrEqual(t, length, maxElems, name)
				assert.Equal(t, length, block.Len(), name)
				part := make([]int16, length)
				require.NoError(t, reshape.Contiguous(part, block))
				got = append(got, part...)
				next = off + length
				return nil
			})
			require.NoError(t, err, name)
			assert.Equal(t, want.Bytes(), asBytes(got), name)
		}
	}
}

// TestBlockedProgress checks Progress is called once per block, ends at the
// total, and that the blocked copy equals the plain one, on an array large
// enough for several blocks whose leading axes have extent 1.
func TestBlockedProgress(t *testing.T) {
	shape := []int{1, 1, 3000, 1000} // 12 MB of float32: two blocks
	a := mustArray("x", Float32, shape, true, random(rand.New(rand.NewPCG(7, 8)), Float32, count(shape)))
	var dones []int64
	m, err := Reshape(a, ReshapeOptions{Progress: func(done, total int64) error {
		dones = append(dones, done)
		assert.Equal(t, int64(len(a.Bytes())), total)
		return nil
	}})
	require.NoError(t, err)
	assert.Greater(t, len(dones), 1)
	assert.Equal(t, int64(len(a.Bytes())), dones[len(dones)-1])
	want, err := Reshape(a, ReshapeOptions{})
	require.NoError(t, err)
	assert.Equal(t, want.Bytes(), m.Bytes())
}

// TestLazyStreams checks that writing a lazy result allocates about one
// block, not the result: a 64 MiB transpose written to a discarding writer.
func TestLazyStreams(t *testing.T) {
	shape := []int{4096, 4096}
	a := mustArray("x", Float32, shape, false, make([]byte, 4*count(shape)))
	lazy, err := ReshapeLazy(a, ReshapeOptions{Permute: []int{1, 0}})
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var n countingWriter
	require.NoError(t, WriteNPY(&n, lazy))
	runtime.ReadMemStats(&after)
	assert.Equal(t, int64(128+4*count(shape)), int64(n))
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(2*copyBlock), "bytes allocated while streaming 64 MiB")
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
