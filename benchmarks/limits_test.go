package benchmarks

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stridekit/stridekit/generated"
	"github.com/stridekit/stridekit/reshape"
)

// The benchmarks of this file measure what limits the transposes, for the
// targets they miss (benchmarks/README.md): mostly not stridekit's API, but
// the memory access pattern of a blocked transpose done with copy() alone,
// the register tiles with nothing but the L1 cache under them, and the
// blocked transpose's kernel alone; BenchmarkLimitRowSpacing times the
// public transpose of one matrix with its rows spaced several ways.

// BenchmarkLimitPattern times the memory accesses of a blocked float32
// transpose of an [n, n] matrix, in its block order (128 source rows by one
// 64-byte source line, gen/spec.go), each side alone and without
// transposing anything: "read" loads one word of each of the 128 source
// lines of each block, which fetches the line, "write" copies 16 runs of
// 512 bytes from a small cached buffer to 16 destination rows n elements
// apart. x-copy is, as in BenchmarkReshape, the time of copy() of the whole
// matrix (which reads and writes) over the pattern's: a transpose in this
// order can be no faster than either side alone.
func BenchmarkLimitPattern(b *testing.B) {
	for _, n := range []int{4096, 16384} {
		if n > 4096 && !*large {
			continue
		}
		src := make([]float32, n*n)
		dst := make([]float32, n*n)
		fill(src)
		const bi, bj = 128, 16 // the float32 block of gen/spec.go: rows, columns
		var scratch [bi]float32
		var sink uint64
		read := func() {
			var x uint64
			for i0 := 0; i0 < n; i0 += bi {
				for j0 := 0; j0 < n; j0 += bj {
					for i := range bi {
						x += *(*uint64)(unsafe.Pointer(&src[(i0+i)*n+j0])) // one load fetches the line
					}
				}
			}
			sink ^= x
		}
		write := func() {
			for i0 := 0; i0 < n; i0 += bi {
				for j0 := 0; j0 < n; j0 += bj {
					for j := range bj {
						copy(dst[(j0+j)*n+i0:(j0+j)*n+i0+bi], scratch[:])
					}
				}
			}
		}
		for _, p := range []struct {
			name string
			run  func()
		}{{"read", read}, {"write", write}} {
			b.Run(fmt.Sprintf("n=%d/side=%s", n, p.name), func(b *testing.B) {
				bytes := int64(2 * n * n * 4)
				turn := 0
				measure(b, p.run, oneGoroutine(dst, src), bytes, false, false, &turn)
			})
		}
		if sink == 1 { // keep the loads: sink is whatever the data folds to
			b.Log("sink", sink)
		}
	}
}

// oneGoroutine is the baselines of copying src into dst on the calling
// goroutine.
func oneGoroutine[T any](dst, src []T) baselines {
	return baselines{
		crew:    new(Crew),
		workers: 1,
		copy:    func() { CopyParallel(nil, dst, src, 1) },
		cached:  func() { CopyCached(nil, dst, src, 1) },
	}
}

// BenchmarkLimitTiles times the blocked transpose of each width on a matrix
// that stays in the L1 cache (8 KiB), against copy() of the same bytes: the
// ceiling the register shuffles and stores themselves set, with the memory
// system out of the way.
func BenchmarkLimitTiles(b *testing.B) {
	for _, dt := range []generated.DType{generated.Uint8, generated.BFloat16, generated.Float32, generated.Float64} {
		size := dt.Size()
		nj := 64
		n := 8192 / (nj * size) // source rows of 64 elements, 8 KiB in all
		src := make([]byte, n*nj*size)
		dst := make([]byte, n*nj*size)
		off := make([]int, n)
		for i := range off {
			off[i] = i * nj * size
		}
		b.Run(fmt.Sprintf("dtype=%v/accelerated=%v", dt, generated.Accelerated), func(b *testing.B) {
			turn := 0
			op := func() {
				generated.TransposeRows(dt, unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), off, nj, n, false, nil)
			}
			measure(b, op, oneGoroutine(dst, src), int64(2*len(src)), false, false, &turn)
		})
	}
}

// BenchmarkLimitKernelSides times the blocked transpose itself
// (generated.TransposeRows) on an [n, n] matrix of each width, of about
// 256 KiB (in L2), 1 MiB, 4 MiB (in the cache) and 64 MiB (beyond it),
// with one side of its memory traffic taken out, in the store form of the
// copies below the streaming threshold (stream=false: plain tiles) and, at
// 64 MiB, above it (stream=true: tiles that prefetch each source row's next
// line and store whole destination lines non-temporally):
//   - "read": every destination row starts at the same place (dj = 0),
//     which stays in L1, so only the source traffic, in the kernel's block
//     order, reaches the caches or memory (dst is 8 bytes off a line, so
//     that stream prefetches without non-temporal stores, which would send
//     every store of that one place to memory);
//   - "write": every source row is one of 8 rows, which stay in L1, so only
//     the destination traffic does;
//   - "both": the transpose as it runs;
//   - "read-padded": read, from source rows one 64-byte line further apart
//     (n*size+64 bytes, of a buffer that much larger): not a power of two
//     apart where n*size is one, so that read against read-padded is what
//     that spacing costs the reads alone. Where n*size is no power of two
//     the pair is a control, which does not hold exactly: on the Zen 5 VM
//     at 4 MiB, bfloat16 and float64 read-padded ran about 25% slower than
//     read (see benchmarks/README.md).
//
// x-copy is copy() of the whole matrix over the time taken: at 256 KiB,
// where copy() is the ceiling, a side at 0.7 caps the transpose at 0.7 of
// it, whatever the tiles do. Where the matrix is 1 MiB or more, copy()
// stores non-temporally and runs below a cached copy, so there x-copy
// overstates a side against the ceiling (bfloat16's and float64's
// matrices of "1 MiB" are a little less).
func BenchmarkLimitKernelSides(b *testing.B) {
	for _, dt := range []generated.DType{generated.Uint8, generated.BFloat16, generated.Float32, generated.Float64} {
		size := dt.Size()
		for _, sz := range []Size{Tiny, Small, Cached, Medium} {
			n := 1
			for int64((n+1)*(n+1)*size) <= sz.Bytes {
				n++
			}
			bytes := n * n * size
			src := make([]byte, bytes)
			dst := make([]byte, bytes)
			fill(src)
			rows := make([]int, n)     // the matrix's rows
			repeated := make([]int, n) // 8 rows over and over
			padded := make([]int, n)   // rows a line further apart, in wide
			for i := range rows {
				rows[i] = i * n * size
				repeated[i] = i % 8 * n * size
				padded[i] = i * (n*size + cacheLine)
			}
			wide := make([]byte, n*(n*size+cacheLine))
			fill(wide)
			streams := []bool{false}
			if sz.Bytes > Cached.Bytes {
				streams = append(streams, true)
			}
			for _, stream := range streams {
				for _, side := range []struct {
					name string
					src  []byte
					off  []int
					dj   int
				}{{"read", src, rows, 0}, {"write", src, repeated, n}, {"both", src, rows, n}, {"read-padded", wide, padded, 0}} {
					b.Run(fmt.Sprintf("dtype=%v/size=%s/stream=%v/side=%s", dt, sz.Name, stream, side.name), func(b *testing.B) {
						op := func() {
							for i0 := 0; i0 < n; i0 += 512 { // in row chunks, as the dispatcher calls it
								at := i0 * size
								if side.dj == 0 {
									at = 8
								}
								generated.TransposeRows(dt, unsafe.Add(unsafe.Pointer(&dst[0]), at), unsafe.Pointer(&side.src[0]), side.off[i0:min(i0+512, n)], n, side.dj, stream, nil)
							}
							if stream { // once per copy, as reshape does
								generated.StreamFence()
							}
						}
						turn := 0
						measure(b, op, oneGoroutine(dst, src), int64(2*bytes), false, false, &turn)
					})
				}
			}
		}
	}
}

// BenchmarkLimitAlignment times the blocked transpose itself
// (generated.TransposeRows) of an [n-1, n+1] matrix of each width, the
// shape of the suite's transpose2d-odd, of about 256 KiB and 1 MiB (in the
// cache), with its rows laid out four ways:
//   - "odd": source rows n+1 elements apart and destination rows n-1, as
//     transpose2d-odd has them: rows start anywhere in a line, and the
//     tiles' loads and stores straddle lines;
//   - "dst-lines": the destination rows padded to whole 64-byte lines plus
//     one (so that a block's rows do not share L1 sets), from a line
//     boundary; the source as in odd;
//   - "src-lines": the source rows padded so instead, the destination as
//     in odd;
//   - "lines": both.
//
// The elements moved are the same in all four; x-copy is copy() of as
// many bytes over the time taken. What odd loses against the others is
// what rows off line boundaries cost the tiles, on each side.
func BenchmarkLimitAlignment(b *testing.B) {
	for _, dt := range []generated.DType{generated.Uint8, generated.BFloat16, generated.Float32, generated.Float64} {
		size := dt.Size()
		for _, sz := range []Size{Tiny, Small} {
			n := 2
			for int64((n+2)*(n+2)*size) <= sz.Bytes {
				n += 2
			}
			ni, nj := n-1, n+1 // source rows, and their elements
			lines := func(elems int) int { return (elems*size+cacheLine-1)/cacheLine*cacheLine/size + cacheLine/size }
			bytes := ni * nj * size
			for _, layout := range []struct {
				name   string
				ss, dj int // source and destination row strides, in elements
			}{{"odd", nj, ni}, {"dst-lines", nj, lines(ni)}, {"src-lines", lines(nj), ni}, {"lines", lines(nj), lines(ni)}} {
				src := alignedBytes(ni * layout.ss * size)
				dst := alignedBytes(nj * layout.dj * size)
				fill(src)
				off := make([]int, ni)
				for i := range off {
					off[i] = i * layout.ss * size
				}
				b.Run(fmt.Sprintf("dtype=%v/size=%s/rows=%s", dt, sz.Name, layout.name), func(b *testing.B) {
					op := func() {
						for i0 := 0; i0 < ni; i0 += 512 { // in row chunks, as the dispatcher calls it
							generated.TransposeRows(dt, unsafe.Pointer(&dst[i0*size]), unsafe.Pointer(&src[0]), off[i0:min(i0+512, ni)], nj, layout.dj, false, nil)
						}
					}
					turn := 0
					measure(b, op, oneGoroutine(dst[:bytes], src[:bytes]), int64(2*bytes), false, false, &turn)
				})
			}
		}
	}
}

// cacheLine is the line size the layouts of BenchmarkLimitAlignment and
// BenchmarkLimitRowSpacing pad to.
const cacheLine = 64

// alignedElems returns n elements of T from a cacheLine boundary.
func alignedElems[T any](n int) []T {
	size := int(unsafe.Sizeof(*new(T)))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(alignedBytes(n*size)))), n)
}

// alignedBytes returns n bytes from a cacheLine boundary.
func alignedBytes(n int) []byte {
	buf := make([]byte, n+cacheLine)
	at := -int(uintptr(unsafe.Pointer(&buf[0]))) & (cacheLine - 1)
	return buf[at : at+n : at+n]
}

// BenchmarkLimitRowSpacing times the public transpose of an [R, C] matrix
// (reshape.Contiguous of its Permute(1, 0) view, one worker), R and C powers
// of two as in the suite's transpose2d, of about 256 KiB (in L2), 1 and 4
// MiB (in the cache) and 64 MiB (beyond it), with its rows spaced four ways
// (buffers from a line boundary):
//   - "pow2": source rows C elements apart and destination rows R, both a
//     power of two of bytes, as in transpose2d;
//   - "src-padded": the same [R, C] view of an [R, C+line] buffer, so that
//     the source rows are one 64-byte line further apart (still whole
//     lines, no longer a power of two); the destination is as in pow2;
//   - "padded": an [R+line, C+line] matrix (line: a 64-byte line's worth
//     of elements), so that the rows of both sides are whole lines and not
//     a power of two apart;
//   - "odd": [R-1, C+1], as in transpose2d-odd: rows off line boundaries.
//
// x-ceiling is as in BenchmarkReshape: the faster of copy() and the cached
// copy of as many bytes (read from the source buffer, on one goroutine)
// over the transpose's time. padded and odd hold a few more or fewer
// elements than pow2. What pow2 and odd lose against padded is what the
// spacing of the rows costs through the public path, with whatever kernel
// form reshape picks for that spacing.
func BenchmarkLimitRowSpacing(b *testing.B) {
	prev := reshape.SetMaxWorkers(1)
	defer reshape.SetMaxWorkers(prev)
	for _, sz := range []Size{Tiny, Small, Cached, Medium} {
		limitRowSpacing[uint8](b, "uint8", sz)
		limitRowSpacing[reshape.BFloat16](b, "bfloat16", sz)
		limitRowSpacing[float32](b, "float32", sz)
		limitRowSpacing[float64](b, "float64", sz)
	}
}

// limitRowSpacing runs BenchmarkLimitRowSpacing's four spacings of one
// element type and size.
func limitRowSpacing[T reshape.Element](b *testing.B, dtype string, sz Size) {
	size := int(unsafe.Sizeof(*new(T)))
	square := Case{Rank: 2, Shape: []int{1, 1}, Scale: Square}.Sized(sz.Bytes, size)
	r, c, line := square.Shape[0], square.Shape[1], cacheLine/size
	for _, v := range []struct {
		name           string
		rows, ld, cols int // the buffer is [rows, ld]; the view [rows, cols] of it, transposed
	}{
		{"pow2", r, c, c},
		{"src-padded", r, c + line, c},
		{"padded", r + line, c + line, c + line},
		{"odd", r - 1, c + 1, c + 1},
	} {
		data := alignedElems[T](v.rows * v.ld)
		fill(data)
		t, err := reshape.New(data, v.rows, v.ld)
		if err == nil {
			t, err = t.Slice(1, 0, v.cols, 1)
		}
		if err == nil {
			t, err = t.Permute(1, 0)
		}
		if err != nil {
			b.Fatal(err)
		}
		dst := alignedElems[T](v.rows * v.cols)
		from := data[:len(dst)]
		b.Run(fmt.Sprintf("dtype=%s/size=%s/rows=%s", dtype, sz.Name, v.name), func(b *testing.B) {
			op := func() {
				if err := reshape.Contiguous(dst, t); err != nil {
					b.Fatal(err)
				}
			}
			turn := 0
			measure(b, op, oneGoroutine(dst, from), int64(2*len(dst)*size), false, false, &turn)
		})
	}
}
