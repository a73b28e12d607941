package tensorfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	st "github.com/nlpodyssey/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stView shows an Array to github.com/nlpodyssey/safetensors.
type stView struct{ a *Array }

func (v stView) DType() st.DType {
	dt, err := st.ParseDType(v.a.DType.Safetensors())
	if err != nil {
		panic(err)
	}
	return dt
}

func (v stView) Shape() []uint64 {
	s := make([]uint64, len(v.a.Shape))
	for i, e := range v.a.Shape {
		s[i] = uint64(e)
	}
	return s
}

func (v stView) Data() []byte    { return fileOrder(v.a.DType, v.a.Bytes()) } // the library takes file bytes
func (v stView) DataLen() uint64 { return uint64(len(v.a.Bytes())) }

// TestSafetensorsAgainstLibrary checks WriteSafetensors writes what
// github.com/nlpodyssey/safetensors writes, byte for byte, and that the
// library reads it back: another implementation as the oracle of the format.
func TestSafetensorsAgainstLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 20 {
		var arrays []*Array
		views := map[string]stView{}
		for i := range 1 + rng.IntN(12) {
			dt := DTypes()[rng.IntN(len(DTypes()))]
			shape := make([]int, 1+rng.IntN(3))
			for j := range shape {
				shape[j] = rng.IntN(4)
			}
			a := mustArray(fmt.Sprintf("t%d.%v", i, dt), dt, shape, false, random(rng, dt, count(shape)))
			arrays = append(arrays, a)
			views[a.Name] = stView{a}
		}
		var meta map[string]string
		if trial%2 == 0 {
			meta = map[string]string{"format": "pt", "trial": fmt.Sprint(trial)}
		}
		want, err := st.Serialize(views, meta)
		require.NoError(t, err)
		var got bytes.Buffer
		require.NoError(t, WriteSafetensors(&got, meta, arrays...))
		assert.Equal(t, string(want), got.String(), "trial %d", trial)

		back, err := st.Deserialize(got.Bytes())
		require.NoError(t, err, "trial %d", trial)
		for _, a := range arrays {
			v, ok := back.Tensor(a.Name)
			require.True(t, ok, a.Name)
			assert.Equal(t, fileOrder(a.DType, a.Bytes()), v.Data(), a.Name)
		}
	}
}

// TestSafetensorsLibraryLimits checks the reasons the comment at the top of
// safetensors.go gives for reading the format here rather than with
// github.com/nlpodyssey/safetensors: it refuses a whole file for one tensor
// of a dtype it does not know, and keeps the last of two tensors of the
// same name without a word.
func TestSafetensorsLibraryLimits(t *testing.T) {
	f8 := stWith(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[4,6]}}`, make([]byte, 6))
	_, err := st.Deserialize(f8)
	assert.Error(t, err, "the library now reads a file with an F8_E4M3 tensor")
	f, err := decode(f8, false)
	require.NoError(t, err)
	require.Len(t, f.Arrays, 2)
	assert.Equal(t, Float32, f.Arrays[0].DType)
	assert.Equal(t, Float8E4M3, f.Arrays[1].DType) // an opaque dtype here
	assert.Equal(t, "F8_E4M3", f.Arrays[1].Descr)

	twice := stWith(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, []byte{1})
	lib, err := st.Deserialize(twice)
	if assert.NoError(t, err, "the library now refuses a repeated name") {
		assert.Equal(t, []string{"a"}, lib.Names())
	}
	_, err = decode(twice, false)
	assert.ErrorIs(t, err, ErrHeader)
}
