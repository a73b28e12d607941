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

func (v stView) Data() []byte    { return v.a.Bytes() }
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
			assert.Equal(t, a.Bytes(), v.Data(), a.Name)
		}
	}
}
