package reshape

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAllocCapDefault checks that valid views whose results no machine can
// hold are refused with ErrShape by every allocating form, rather than
// ending the process with "fatal error: out of memory": a broadcast of one
// float32 to 2^46 elements (2^48 bytes, exactly the 64-bit heap's address
// space) and one of one byte to 2^40 elements (1 TiB, more memory than the
// test machines have).
func TestAllocCapDefault(t *testing.T) {
	if math.MaxInt == math.MaxInt32 {
		t.Skip("the extents do not fit an int on a 32-bit platform")
	}
	e46 := 46 // not a constant: the file must compile where int has 32 bits
	f := Tensor[float32]{Data: []float32{1}, Shape: []int{1 << e46}, Strides: []int{0}}
	_, err := ToLastDimension(f)
	assert.ErrorIs(t, err, ErrShape)
	assert.ErrorContains(t, err, "allocation cap")
	_, err = ToLastDimensionAs[float64](f)
	assert.ErrorIs(t, err, ErrShape)

	b := Tensor[int8]{Data: []int8{1}, Shape: []int{1 << 20, 1 << 20}, Strides: []int{0, 0}}
	_, err = ConcatLastDimensions(b, 2)
	assert.ErrorIs(t, err, ErrShape)
	_, _, err = AppendToLastDimension(nil, b)
	assert.ErrorIs(t, err, ErrShape)
	p, err := Compile[int8]("a b -> (a b)")
	require.NoError(t, err)
	_, err = p.Apply(b)
	assert.ErrorIs(t, err, ErrShape)

	d := DefaultMaxAlloc()
	assert.Positive(t, d)
	assert.LessOrEqual(t, uint64(d), platformMaxAlloc)
}

// TestSetMaxAlloc checks the cap is exact (a result of as many bytes as the
// cap is made, one element more is refused), applies to every allocating
// form and to the store an Append form grows, not to the Into forms, and
// that the setting returns the previous one and restores the default.
func TestSetMaxAlloc(t *testing.T) {
	prev := SetMaxAlloc(1 << 20)
	defer SetMaxAlloc(prev)
	assert.Equal(t, DefaultMaxAlloc(), prev)

	one := []float32{1}
	at := Tensor[float32]{Data: one, Shape: []int{1 << 18, 1}, Strides: []int{0, 0}} // 1 MiB
	over := Tensor[float32]{Data: one, Shape: []int{1<<18 + 1, 1}, Strides: []int{0, 0}}
	m, err := ToLastDimension(at)
	require.NoError(t, err)
	assert.Len(t, m.Data, 1<<18)
	_, err = ToLastDimension(over)
	assert.ErrorIs(t, err, ErrShape)
	_, err = ConcatLastDimensions(over, 2)
	assert.ErrorIs(t, err, ErrShape)
	_, err = ToLastDimensionAs[float32](over)
	assert.ErrorIs(t, err, ErrShape)
	_, err = ToLastDimensionAs[int8](over) // 1 byte each: under the cap
	assert.NoError(t, err)
	_, err = Rearrange(over, "a b -> b a")
	assert.NoError(t, err, "a view allocates nothing")
	p, err := Compile[float32]("a b -> (a b)")
	require.NoError(t, err)
	_, err = p.Apply(over)
	assert.ErrorIs(t, err, ErrShape)

	// Into forms are not capped.
	dst := make([]float32, 1<<18+1)
	_, err = ToLastDimensionInto(dst, over)
	assert.NoError(t, err)

	// Append: the grown store counts.
	store := make([]float32, 1<<17)
	half := Tensor[float32]{Data: one, Shape: []int{1 << 17}, Strides: []int{0}}
	store, _, err = AppendToLastDimension(store, half)
	require.NoError(t, err)
	got, _, err := AppendToLastDimension(store, Tensor[float32]{Data: one, Shape: []int{1}, Strides: []int{0}})
	assert.ErrorIs(t, err, ErrShape)
	assert.Len(t, got, 1<<18, "the store is returned unchanged")

	assert.Equal(t, 1<<20, SetMaxAlloc(0))
	assert.Equal(t, DefaultMaxAlloc(), SetMaxAlloc(math.MaxInt))
	assert.Equal(t, int(platformMaxAlloc), SetMaxAlloc(-1), "a cap above the platform's is lowered to it")
	assert.Equal(t, DefaultMaxAlloc(), SetMaxAlloc(1<<20))
}
