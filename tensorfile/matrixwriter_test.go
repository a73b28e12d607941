package tensorfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	st "github.com/nlpodyssey/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/reshape"
)

// parts returns k random [rows, cols] arrays of dt, some of them lazy (the
// transpose of a [cols, rows] array through ReshapeLazy, which streams), and
// the bytes of all their rows in order.
func parts(t *testing.T, rng *rand.Rand, dt DType, cols, k int) ([]*Array, []byte) {
	t.Helper()
	var arrays []*Array
	var all []byte
	for i := range k {
		rows := rng.IntN(9)
		if i%3 == 1 {
			src := mustArray("", dt, []int{cols, rows}, false, random(rng, dt, cols*rows))
			a, err := ReshapeLazy(src, ReshapeOptions{Permute: []int{1, 0}, ConcatDims: 1})
			require.NoError(t, err)
			arrays = append(arrays, a)
			all = append(all, permuteC(src.Bytes(), dt.Size(), []int{cols, rows}, []int{1, 0})...)
			continue
		}
		data := random(rng, dt, rows*cols)
		arrays = append(arrays, mustArray("", dt, []int{rows, cols}, false, data))
		all = append(all, data...)
	}
	return arrays, all
}

// dirNames lists a folder, hidden files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestMatrixWriterOneFile appends arrays, lazy and in memory, to a .npy and
// a .safetensors file and reads back the concatenation of their rows: the
// file appears only at Close, a .npy header as long as NumPy's for any row
// count, a .safetensors file readable by the reference library.
func TestMatrixWriterOneFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, ext := range []string{".npy", ".safetensors"} {
		for _, dt := range []DType{Float32, Uint8, Float16, Int64, BFloat16} {
			if _, ok := dt.NPY(); !ok && ext == ".npy" {
				continue
			}
			name := fmt.Sprintf("%v%s", dt, ext)
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, name)
				cols := 1 + rng.IntN(7)
				w, err := NewMatrixWriter(path, dt, cols, &MatrixOptions{Metadata: map[string]string{"k": "v"}})
				require.NoError(t, err)
				arrays, want := parts(t, rng, dt, cols, 7)
				for _, a := range arrays {
					require.NoError(t, w.Append(a))
				}
				assert.NoFileExists(t, path, "visible before Close")
				require.NoError(t, w.Close())
				require.NoError(t, w.Close(), "a second Close")
				assert.Equal(t, []string{name}, dirNames(t, dir), "only the output, no temporary file")

				f, err := Open(path)
				require.NoError(t, err)
				defer f.Close()
				require.Len(t, f.Arrays, 1)
				a := f.Arrays[0]
				rows := len(want) / (cols * dt.Size())
				assert.Equal(t, int64(rows), w.Rows())
				assert.Equal(t, []int{rows, cols}, a.Shape)
				assert.Equal(t, dt, a.DType)
				assert.Equal(t, want, a.Bytes())
				raw, err := os.ReadFile(path)
				require.NoError(t, err)
				if ext == ".npy" {
					descr, _ := dt.NPY()
					assert.Len(t, npyGrowHeader(descr, 1<<62, cols), len(raw)-len(want), "header length depends on the rows")
					assert.Equal(t, npyGrowHeader(descr, int64(rows), cols), raw[:len(raw)-len(want)])
					return
				}
				assert.Equal(t, DefaultMatrixName, a.Name)
				assert.Equal(t, map[string]string{"k": "v"}, f.Metadata)
				assert.Zero(t, binary.LittleEndian.Uint64(raw)%8, "data starts on 8 bytes")
				lib, err := st.Deserialize(raw)
				require.NoError(t, err, "the reference library reads the padded header")
				v, ok := lib.Tensor(DefaultMatrixName)
				require.True(t, ok)
				assert.Equal(t, fileOrder(dt, want), v.Data(), "little-endian in the file")
			})
		}
	}
}

// TestNPYGrowHeader checks the header against NumPy 1.24's np.save of a
// float32 (3, 4) array, byte for byte.
func TestNPYGrowHeader(t *testing.T) {
	want := "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" + strings.Repeat(" ", 58) + "\n"
	assert.Equal(t, want, string(npyGrowHeader("<f4", 3, 4)))
	assert.Len(t, npyGrowHeader("<f4", 123456789012345678, 4), len(want))
}

// TestMatrixWriterShards writes rows into shards of at most a size and
// checks each shard (no larger than the size, whole rows, every one full
// but the last), the names, the index, and that the rows in index order are
// those appended.
func TestMatrixWriterShards(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shardSize := range []int64{300, 1000, 4096, 1 << 20} {
		t.Run(fmt.Sprint(shardSize), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "data.safetensors")
			const cols = 5
			w, err := NewMatrixWriter(path, Float32, cols, &MatrixOptions{Name: "acts", ShardSize: shardSize})
			require.NoError(t, err)
			arrays, want := parts(t, rng, Float32, cols, 20)
			for _, a := range arrays {
				require.NoError(t, w.Append(a))
			}
			m := reshape.Matrix[float32]{Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Rows: 2, Cols: cols}
			require.NoError(t, AppendMatrix(w, m))
			want = append(want, asBytes(m.Data)...)
			assert.NoFileExists(t, IndexName(path))
			require.NoError(t, w.Close())

			idx, err := ReadIndex(IndexName(path))
			require.NoError(t, err)
			files := idx.Files()
			require.NotEmpty(t, files)
			names := ShardNames(path, len(files))
			var got []byte
			for i, rel := range files {
				assert.Equal(t, filepath.Base(names[i]), rel)
				fi, err := os.Stat(names[i])
				require.NoError(t, err)
				assert.LessOrEqual(t, fi.Size(), shardSize, rel)
				f, err := Open(names[i])
				require.NoError(t, err)
				require.Len(t, f.Arrays, 1)
				a := f.Arrays[0]
				assert.Equal(t, fmt.Sprintf("acts.%05d", i+1), a.Name)
				assert.Equal(t, rel, idx.WeightMap[a.Name])
				if i < len(files)-1 {
					// Full: another row would not fit.
					assert.Greater(t, fi.Size()+cols*4, shardSize, "shard %d is not full", i)
				}
				got = append(got, a.Bytes()...)
				require.NoError(t, f.Close())
			}
			assert.Equal(t, want, got)
			assert.Equal(t, int64(len(want)), idx.Metadata.TotalSize)
			wantDir := append([]string{filepath.Base(path) + ".index.json"}, files...)
			assert.ElementsMatch(t, wantDir, dirNames(t, dir), "no temporary or extra file")
		})
	}
}

// TestMatrixWriterEmpty closes writers given no rows: a [0, cols] matrix,
// one empty shard with its index.
func TestMatrixWriterEmpty(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		path  string
		shard int64
	}{{"e.npy", 0}, {"e.safetensors", 0}, {"s.safetensors", 1000}} {
		path := filepath.Join(dir, c.path)
		w, err := NewMatrixWriter(path, Int16, 3, &MatrixOptions{ShardSize: c.shard})
		require.NoError(t, err)
		require.NoError(t, w.Close())
		if c.shard > 0 {
			idx, err := ReadIndex(IndexName(path))
			require.NoError(t, err)
			require.Equal(t, []string{"s-00001.safetensors"}, idx.Files())
			path = ShardNames(path, 1)[0]
		}
		f, err := Open(path)
		require.NoError(t, err)
		assert.Equal(t, []int{0, 3}, f.Arrays[0].Shape, c.path)
		require.NoError(t, f.Close())
	}
}

// TestMatrixWriterErrors checks the arguments refused, that a refused
// Append writes nothing and leaves the writer usable, and that Abort leaves
// no file.
func TestMatrixWriterErrors(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, c := range []struct {
		path     string
		dt       DType
		cols     int
		opt      *MatrixOptions
		sentinel error
	}{
		{p("x.npz"), Float32, 3, nil, ErrInvalid},
		{p("x.npy"), BFloat16, 3, nil, ErrDType},
		{p("x.npy"), Invalid, 3, nil, ErrDType},
		{p("x.npy"), Float32, 0, nil, ErrInvalid},
		{p("x.npy"), Float32, 3, &MatrixOptions{ShardSize: 1 << 20}, ErrInvalid},
		{p("x.safetensors"), Float32, 3, &MatrixOptions{ShardSize: 100}, ErrInvalid},
		{p("x.safetensors"), Float32, 3, &MatrixOptions{ShardSize: -1}, ErrInvalid},
		{p("x.safetensors"), Float32, 3, &MatrixOptions{Name: "__metadata__"}, ErrInvalid},
	} {
		_, err := NewMatrixWriter(c.path, c.dt, c.cols, c.opt)
		assert.ErrorIs(t, err, c.sentinel, "%s %v %d %+v", c.path, c.dt, c.cols, c.opt)
	}
	assert.Empty(t, dirNames(t, dir))

	path := p("ok.npy")
	w, err := NewMatrixWriter(path, Float32, 3, nil)
	require.NoError(t, err)
	good := mustArray("", Float32, []int{2, 3}, false, ramp(Float32, 6))
	require.NoError(t, w.Append(good))
	assert.ErrorIs(t, w.Append(mustArray("", Float64, []int{2, 3}, false, ramp(Float64, 6))), ErrDType)
	assert.ErrorIs(t, w.Append(mustArray("", Float32, []int{2, 4}, false, ramp(Float32, 8))), ErrInvalid)
	assert.ErrorIs(t, w.Append(mustArray("", Float32, []int{6}, false, ramp(Float32, 6))), ErrInvalid)
	assert.ErrorIs(t, w.Append(mustArray("", Float32, []int{2, 3}, true, ramp(Float32, 6))), ErrInvalid)
	require.NoError(t, w.Append(good))
	require.NoError(t, w.Close())
	f, err := Open(path)
	require.NoError(t, err)
	assert.Equal(t, append(ramp(Float32, 6), ramp(Float32, 6)...), f.Arrays[0].Bytes())
	require.NoError(t, f.Close())
	assert.ErrorIs(t, w.Append(good), ErrInvalid, "Append after Close")

	// Abort: the file being written goes; complete shards stay, no index.
	sharded := p("ab.safetensors")
	w, err = NewMatrixWriter(sharded, Uint8, 10, &MatrixOptions{ShardSize: 200})
	require.NoError(t, err)
	require.NoError(t, w.Append(mustArray("", Uint8, []int{15, 10}, false, ramp(Uint8, 150))))
	w.Abort()
	assert.NoFileExists(t, IndexName(sharded))
	for _, name := range dirNames(t, dir) {
		assert.False(t, strings.HasPrefix(name, "."), "temporary file %s left", name)
	}
	assert.FileExists(t, ShardNames(sharded, 1)[0], "the full first shard stays")
	assert.NoFileExists(t, ShardNames(sharded, 2)[1])
	assert.Error(t, w.Close())

	// A failing lazy array: the failure is sticky and the file removed.
	w, err = NewMatrixWriter(p("fail.npy"), Float32, 3, nil)
	require.NoError(t, err)
	lazy := &Array{DType: Float32, Shape: []int{2, 3}, size: 24}
	lazy.gen = func(out io.Writer) error {
		if _, err := out.Write(make([]byte, 12)); err != nil {
			return err
		}
		return errBoom
	}
	assert.ErrorIs(t, w.Append(lazy), errBoom)
	assert.ErrorIs(t, w.Append(good), errBoom, "sticky")
	assert.ErrorIs(t, w.Close(), errBoom)
	assert.NoFileExists(t, p("fail.npy"))
	for _, name := range dirNames(t, dir) {
		assert.False(t, strings.HasPrefix(name, "."), "temporary file %s left", name)
	}
}

// TestWriteIndex checks the index of files written apart, as the parts of
// a job on many machines are, and its refusals.
func TestWriteIndex(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("part-%d.safetensors", i))
		w, err := NewMatrixWriter(path, Float32, 2, &MatrixOptions{Name: fmt.Sprintf("acts.part-%05d", i)})
		require.NoError(t, err)
		require.NoError(t, w.Append(mustArray("", Float32, []int{i + 1, 2}, false, ramp(Float32, 2*(i+1)))))
		require.NoError(t, w.Close())
		paths = append(paths, path)
	}
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	index := filepath.Join(sub, "all.index.json")
	require.NoError(t, WriteIndex(index, paths...))
	idx, err := ReadIndex(index)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"acts.part-00000": "../part-0.safetensors",
		"acts.part-00001": "../part-1.safetensors",
		"acts.part-00002": "../part-2.safetensors",
	}, idx.WeightMap)
	assert.Equal(t, int64((2+4+6)*4), idx.Metadata.TotalSize)
	raw, err := os.ReadFile(index)
	require.NoError(t, err)
	assert.True(t, bytes.Contains(raw, []byte(`"total_size": 48`)), string(raw))

	err = WriteIndex(filepath.Join(dir, "dup.json"), paths[0], paths[0])
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "part-0.safetensors and ")
	npy := filepath.Join(dir, "x.npy")
	require.NoError(t, Save(npy, nil, mustArray("", Float32, []int{1}, false, ramp(Float32, 1))))
	assert.ErrorIs(t, WriteIndex(filepath.Join(dir, "bad.json"), npy), ErrInvalid)
	assert.NoFileExists(t, filepath.Join(dir, "dup.json"))
	_, err = ReadIndex(npy)
	assert.ErrorIs(t, err, ErrHeader)
}

var errBoom = errors.New("boom")

// TestMatrixWriterContext cancels a writer between appends: the next one
// fails with the cause and no file appears.
func TestMatrixWriterContext(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancelCause(context.Background())
	path := filepath.Join(dir, "c.npy")
	w, err := NewMatrixWriter(path, Float32, 3, &MatrixOptions{Context: ctx})
	require.NoError(t, err)
	good := mustArray("", Float32, []int{2, 3}, false, ramp(Float32, 6))
	require.NoError(t, w.Append(good))
	cancel(errBoom)
	assert.ErrorIs(t, w.Append(good), errBoom)
	assert.ErrorIs(t, w.Close(), errBoom)
	assert.Empty(t, dirNames(t, dir))
}
