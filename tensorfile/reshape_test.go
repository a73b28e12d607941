package tensorfile

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"

	"github.com/stridekit/stridekit/reshape"
)

// unalignedCopy returns a copy of b that starts one byte past an 8-aligned
// address, as a safetensors tensor may: unaligned for every element size
// above 1.
func unalignedCopy(b []byte) []byte {
	words := make([]uint64, len(b)/8+2)
	u := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))[1 : 1+len(b)]
	copy(u, b)
	return u
}

// TestReshape checks Reshape and ReshapeLazy against the definition for
// every dtype, both orders, every permutation of a rank-3 array and every
// concatDims, with the data aligned and not.
func TestReshape(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shape := []int{3, 4, 5}
	perms := [][]int{nil, {0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}, {-1, 0, 1}}
	for _, dt := range DTypes() {
		for _, fortran := range []bool{false, true} {
			for _, unaligned := range []bool{false, true} {
				data := random(rng, dt, count(shape))
				c := cOrder(data, dt.Size(), shape, fortran)
				if unaligned {
					data = unalignedCopy(data)
				}
				a := mustArray("x", dt, shape, fortran, data)
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
						name := fmt.Sprintf("dtype=%v/fortran=%v/unaligned=%v/perm=%v/concat=%d", dt, fortran, unaligned, perm, k)
						opt := ReshapeOptions{Permute: perm, ConcatDims: k}
						m, err := Reshape(a, opt)
						require.NoError(t, err, name)
						assert.Equal(t, want, m.Bytes(), name)
						lazy, err := ReshapeLazy(a, opt)
						require.NoError(t, err, name)
						assert.Equal(t, m.Shape, lazy.Shape, name)
						var buf bytes.Buffer
						require.NoError(t, lazy.writeData(&buf), name)
						assert.Equal(t, fileOrder(dt, want), buf.Bytes(), name+" streamed, little-endian")
						assert.Equal(t, want, lazy.Bytes(), name+" computed")
						cols := 1
						for _, ax := range canon[3-k:] {
							cols *= shape[ax]
						}
						assert.Equal(t, []int{60 / cols, cols}, m.Shape, name)
						assert.Equal(t, "x", m.Name)
						assert.False(t, m.Fortran)
						if b := m.Bytes(); &b[0] != &data[0] { // a copy: aligned for Tensor
							assert.Zero(t, uintptr(unsafe.Pointer(&b[0]))%8, name)
						}
					}
				}
			}
		}
	}
}

// TestReshapeAliases checks that a view already contiguous is not copied,
// whether its data is aligned or not.
func TestReshapeAliases(t *testing.T) {
	for _, data := range [][]byte{ramp(Int16, 12), unalignedCopy(ramp(Int16, 12))} {
		a := mustArray("x", Int16, []int{3, 4}, false, data)
		for _, reshapeFunc := range []func(*Array, ReshapeOptions) (*Array, error){Reshape, ReshapeLazy} {
			m, err := reshapeFunc(a, ReshapeOptions{ConcatDims: 2})
			require.NoError(t, err)
			assert.Same(t, &data[0], &m.Bytes()[0])
			// A Fortran [3,4] array transposed is C-contiguous [4,3].
			f := mustArray("x", Int16, []int{3, 4}, true, data)
			m, err = reshapeFunc(f, ReshapeOptions{Permute: []int{1, 0}})
			require.NoError(t, err)
			assert.Same(t, &data[0], &m.Bytes()[0])
			assert.Equal(t, []int{4, 3}, m.Shape)
		}
	}
}

// TestReshapeErrors checks bad permutations and concatDims come back as
// reshape's sentinels, with the same message whether the data is aligned
// or not (unaligned data takes another path), and a scalar as ErrInvalid.
func TestReshapeErrors(t *testing.T) {
	aligned := mustArray("x", Float32, []int{2, 3, 4}, true, ramp(Float32, 24))
	unaligned := mustArray("x", Float32, []int{2, 3, 4}, true, unalignedCopy(ramp(Float32, 24)))
	for _, c := range []struct {
		opt      ReshapeOptions
		sentinel error
		msg      string
	}{
		{ReshapeOptions{Permute: []int{0, 1}}, reshape.ErrPermutation, "2 axes [0 1] for a tensor of rank 3"},
		{ReshapeOptions{Permute: []int{}}, reshape.ErrPermutation, "0 axes [] for a tensor of rank 3"},
		{ReshapeOptions{Permute: []int{0, 0, 1}}, reshape.ErrPermutation, "axis 0 appears twice in [0 0 1]"},
		{ReshapeOptions{Permute: []int{0, 1, 3}}, reshape.ErrPermutation, "axis 3 of [0 1 3] is outside a tensor of rank 3"},
		{ReshapeOptions{Permute: []int{0, 1, -4}}, reshape.ErrPermutation, "axis -4 of [0 1 -4] is outside a tensor of rank 3"},
		{ReshapeOptions{ConcatDims: -1}, reshape.ErrConcatDims, "-1 axes to concatenate of a tensor of rank 3 (want 1..3)"},
		{ReshapeOptions{ConcatDims: 4}, reshape.ErrConcatDims, "4 axes to concatenate of a tensor of rank 3 (want 1..3)"},
		{ReshapeOptions{Permute: []int{2, 1, 0}, ConcatDims: 4}, reshape.ErrConcatDims, "4 axes to concatenate"},
	} {
		for _, a := range []*Array{aligned, unaligned} {
			for _, reshapeFunc := range []func(*Array, ReshapeOptions) (*Array, error){Reshape, ReshapeLazy} {
				_, err := reshapeFunc(a, c.opt)
				assert.ErrorIs(t, err, c.sentinel, "%+v", c.opt)
				assert.ErrorContains(t, err, c.msg, "%+v", c.opt)
			}
		}
	}
	scalar := mustArray("s", Float64, []int{}, false, ramp(Float64, 1))
	_, err := Reshape(scalar, ReshapeOptions{})
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, `tensor "s" is a scalar`)
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

// TestLazyBlocks checks a lazy result written in several blocks equals the
// one computed at once, on an array whose leading axes have extent 1, with
// its data aligned and not.
func TestLazyBlocks(t *testing.T) {
	shape := []int{1, 1, 3000, 1000} // 12 MB of float32: two blocks
	data := random(rand.New(rand.NewPCG(7, 8)), Float32, count(shape))
	want := cOrder(data, 4, shape, true)
	for _, b := range [][]byte{data, unalignedCopy(data)} {
		a := mustArray("x", Float32, shape, true, b)
		lazy, err := ReshapeLazy(a, ReshapeOptions{})
		require.NoError(t, err)
		var buf bytes.Buffer
		w := &callCounter{w: &buf}
		require.NoError(t, lazy.writeData(w))
		assert.Greater(t, w.calls, 1, "written in blocks")
		assert.True(t, bytes.Equal(fileOrder(Float32, want), buf.Bytes()))
	}
}

// callCounter counts the writes passed on to w.
type callCounter struct {
	w     io.Writer
	calls int
}

func (c *callCounter) Write(p []byte) (int, error) {
	c.calls++
	return c.w.Write(p)
}

// TestLazyStreams checks that making and writing a lazy result allocates
// about one block, not the result: a 64 MiB transpose written to a
// discarding writer, its data aligned and not (unaligned data must not be
// copied whole into aligned memory first).
func TestLazyStreams(t *testing.T) {
	shape := []int{4096, 4096}
	for _, data := range [][]byte{make([]byte, 4*count(shape)), unalignedCopy(make([]byte, 4*count(shape)))} {
		a := mustArray("x", Float32, shape, false, data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		lazy, err := ReshapeLazy(a, ReshapeOptions{Permute: []int{1, 0}})
		require.NoError(t, err)
		var n countingWriter
		require.NoError(t, WriteNPY(&n, lazy))
		runtime.ReadMemStats(&after)
		assert.Equal(t, int64(128+4*count(shape)), int64(n))
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(2*copyBlock), "bytes allocated while streaming 64 MiB")
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// TestReshapeConvert checks Reshape and ReshapeLazy with a DType against
// reshape.ContiguousAs on the same view, from every dtype to float32 and to
// bfloat16 and back to its own dtype, aligned data and not, in both orders.
func TestReshapeConvert(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shape := []int{3, 4, 5}
	for _, dt := range DTypes() {
		for _, to := range []DType{Float32, BFloat16, Int16, dt} {
			for _, fortran := range []bool{false, true} {
				for _, unaligned := range []bool{false, true} {
					data := random(rng, dt, count(shape))
					aligned := mustArray("x", dt, shape, fortran, data)
					if unaligned {
						data = unalignedCopy(data)
					}
					a := mustArray("x", dt, shape, fortran, data)
					opt := ReshapeOptions{Permute: []int{2, 0, 1}, ConcatDims: 2, DType: to}
					name := fmt.Sprintf("%v → %v, fortran=%v, unaligned=%v", dt, to, fortran, unaligned)
					want := convertedBytes(t, aligned, opt)
					m, err := Reshape(a, opt)
					require.NoError(t, err, name)
					assert.Equal(t, to, m.DType, name)
					assert.Equal(t, []int{5, 12}, m.Shape, name)
					assert.Equal(t, want, m.Bytes(), name)
					lazy, err := ReshapeLazy(a, opt)
					require.NoError(t, err, name)
					var buf bytes.Buffer
					require.NoError(t, lazy.writeData(&buf), name)
					assert.Equal(t, fileOrder(to, want), buf.Bytes(), name+" streamed, little-endian")
				}
			}
		}
	}
}

// convertedBytes is the reference of TestReshapeConvert: the permuted view
// of an aligned array, converted by reshape.ContiguousAs.
func convertedBytes(t *testing.T, a *Array, opt ReshapeOptions) []byte {
	switch a.DType {
	case Float16:
		return convertedFrom[float16.Float16](t, a, opt)
	case BFloat16:
		return convertedFrom[reshape.BFloat16](t, a, opt)
	case Float32:
		return convertedFrom[float32](t, a, opt)
	case Float64:
		return convertedFrom[float64](t, a, opt)
	case Int8:
		return convertedFrom[int8](t, a, opt)
	case Uint8:
		return convertedFrom[uint8](t, a, opt)
	case Int16:
		return convertedFrom[int16](t, a, opt)
	case Uint16:
		return convertedFrom[uint16](t, a, opt)
	case Int32:
		return convertedFrom[int32](t, a, opt)
	case Uint32:
		return convertedFrom[uint32](t, a, opt)
	case Int64:
		return convertedFrom[int64](t, a, opt)
	}
	return convertedFrom[uint64](t, a, opt)
}

func convertedFrom[S reshape.Element](t *testing.T, a *Array, opt ReshapeOptions) []byte {
	v, err := Tensor[S](a)
	require.NoError(t, err)
	v, err = v.Permute(opt.Permute...)
	require.NoError(t, err)
	switch opt.DType {
	case Float32:
		return convertedTo[float32](t, v)
	case BFloat16:
		return convertedTo[reshape.BFloat16](t, v)
	case Int16:
		return convertedTo[int16](t, v)
	}
	dst := make([]S, v.Len())
	require.NoError(t, reshape.Contiguous(dst, v))
	return asBytes(dst)
}

func convertedTo[D, S reshape.Element](t *testing.T, v reshape.Tensor[S]) []byte {
	dst := make([]D, v.Len())
	require.NoError(t, reshape.ContiguousAs(dst, v))
	return asBytes(dst)
}
