package benchmarks

import (
	"testing"
	"unsafe"

	"github.com/stridekit/stridekit/reshape"
)

// BenchmarkReshape times every case of Cases in float32 and bfloat16 with
// three implementations, named case=NAME/dtype=DTYPE/impl=IMPL:
//
//   - stridekit: Run, the library into a preallocated destination;
//   - copy: copy() of the same number of elements between two preallocated
//     slices of the same type, the ceiling;
//   - naive: NaiveCopy, the plain N-d loop.
//
// MB/s counts Case.Bytes: the result read once and written once.
func BenchmarkReshape(b *testing.B) {
	for _, c := range Cases() {
		b.Run("case="+c.Name, func(b *testing.B) {
			b.Run("dtype=float32", func(b *testing.B) { benchCase[float32](b, c) })
			b.Run("dtype=bfloat16", func(b *testing.B) { benchCase[reshape.BFloat16](b, c) })
		})
	}
}

// benchCase runs the three implementations of case c in element type T. The
// source, the destination and the copy baseline's slices are made once and
// shared; each implementation runs once before its timer starts, so every
// page it touches is mapped and a broken case fails before it is timed.
func benchCase[T reshape.Element](b *testing.B, c Case) {
	src, err := Build[T](c)
	if err != nil {
		b.Fatal(err)
	}
	n := c.Elements()
	dst := make([]T, n)
	from := make([]T, n)
	for i := range from {
		from[i] = T(i%251 + 1) // touch every page: an untouched one reads as the shared zero page
	}
	bytes := c.Bytes(int(unsafe.Sizeof(*new(T))))

	impls := []struct {
		name string
		run  func(b *testing.B)
	}{
		{"stridekit", func(b *testing.B) {
			if _, err := Run(c, dst, src); err != nil {
				b.Fatal(err)
			}
		}},
		{"copy", func(*testing.B) { copy(dst, from) }},
		{"naive", func(*testing.B) { NaiveCopy(dst, src) }},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			impl.run(b)
			b.SetBytes(bytes)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				impl.run(b)
			}
		})
	}
}
