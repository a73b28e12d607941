package benchmarks

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/generated"

	"github.com/stridekit/stridekit/reshape"
)

var large = flag.Bool("stridekit.large", false,
	"also run the 1 GiB size (about 3 GiB of memory; -short wins)")

var split = flag.Bool("stridekit.split", false,
	"split every copy of two or more workers, whatever its size (parallel threshold 1 byte), to show where a split pays")

// splitThreshold is the parallel threshold of the runs of two or more
// workers: 1 byte with -stridekit.split, else 0 (the default).
func splitThreshold() int {
	if *split {
		return 1
	}
	return 0
}

var streamAt = flag.Int("stridekit.stream", 0,
	"the streaming threshold in bytes for the run (reshape.SetStreamingThreshold; 0 keeps the default), to show where non-temporal stores pay")

var apart = flag.Bool("stridekit.apart", false,
	"give the Reshape cases' baselines a destination of their own instead of stridekit's: by default they write stridekit's twice before each of its turns, which on some CPUs makes non-temporal stores to it 2.5x slower than after one write or none")

var kernels = flag.String("stridekit.kernels", "best",
	"the kernels to run: best (what the CPU has), avx2 (no AVX-512 tiles) or go (no assembly), to compare them on one machine")

var tuning = flag.String("stridekit.tuning", "cpu",
	"the choices the AVX-512 kernels follow where AMD's CPUs and others differ (generated.AMDTuned): cpu (as the CPU's maker), amd or other, to compare both on one machine")

// TestMain applies -stridekit.stream, -stridekit.kernels and
// -stridekit.tuning to the whole run.
func TestMain(m *testing.M) {
	flag.Parse()
	if *streamAt > 0 {
		reshape.SetStreamingThreshold(*streamAt)
	}
	switch *kernels {
	case "best":
	case "avx2":
		generated.AVX512 = false
	case "go":
		generated.Accelerated = false
	default:
		fmt.Fprintf(os.Stderr, "-stridekit.kernels %q: want best, avx2 or go\n", *kernels)
		os.Exit(2)
	}
	switch *tuning {
	case "cpu":
	case "amd", "other":
		generated.AMDTuned = *tuning == "amd"
	default:
		fmt.Fprintf(os.Stderr, "-stridekit.tuning %q: want cpu, amd or other\n", *tuning)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// workerCounts are the worker counts every case runs with.
var workerCounts = []int{1, 2}

// interleave is about how long each turn of the stridekit op, and then of
// the copy() baseline, lasts in a benchmark: long enough that stopping and
// starting the timer between turns (each a ReadMemStats) costs little, short
// enough that both see the same machine, turbo and neighbours.
const interleave = time.Millisecond

// coldCopy is the time of one copy() above which measure skips its untimed
// warm-up op: about 10 ms at 64 MiB, 100 ms and more at 1 GiB, on the
// reference machines.
const coldCopy = 50 * time.Millisecond

// benchSizes returns the sizes the sized cases run at: every size up to
// Medium, with -stridekit.large also Large, with -short only Tiny and Small.
func benchSizes() []Size {
	switch {
	case testing.Short():
		return []Size{Tiny, Small}
	case *large:
		return Sizes()
	}
	return Sizes()[:len(Sizes())-1]
}

// BenchmarkReshape times every case in every width, at every size
// (benchSizes) and with every worker count, against the baselines of the
// same bytes in the same benchmark, as
//
//	rank=R/dtype=D/case=C/size=S/workers=W
//
// The Fixed cases run once per width and worker count, as size=fixed. Each
// reports GB/s (STREAM bytes, Case.Bytes, per second of stridekit), x-ceiling
// (the faster baseline's time per op over stridekit's: 1 is as fast as a
// contiguous copy of the same bytes), x-copy (the same against copy()
// alone), ceiling-GB/s and copy-GB/s (the baselines' own throughput). The
// zero-copy case moves no bytes and reports neither GB/s nor MB/s.
func BenchmarkReshape(b *testing.B) {
	for _, c := range Cases() {
		for _, dt := range dtypes {
			for _, size := range caseSizes(c) {
				b.Run(benchName(c, dt.name, size), func(b *testing.B) {
					dt.reshape(b, c.Sized(size.Bytes, dt.size))
				})
			}
		}
	}
}

// BenchmarkConvert times the conversion cases (Conversions) at every size
// and worker count, sized by the destination's elements, against the
// baselines of a copy of as many bytes read and written (half of
// Case.ConvertBytes each way), as
//
//	case=C/from=F/to=T/size=S/workers=W
func BenchmarkConvert(b *testing.B) {
	for _, cv := range Conversions() {
		c, ok := CaseNamed(cv.Case)
		if !ok {
			b.Fatalf("conversion of unknown case %q", cv.Case)
		}
		run, ok := convertRuns[cv.From+">"+cv.To]
		if !ok {
			b.Fatalf("no benchmark of %s → %s", cv.From, cv.To)
		}
		for _, size := range benchSizes() {
			b.Run(fmt.Sprintf("case=%s/from=%s/to=%s/size=%s", cv.Case, cv.From, cv.To, size.Name), func(b *testing.B) {
				run(b, c, size)
			})
		}
	}
}

// convertRuns instantiates benchConvert for every pair of Conversions.
var convertRuns = map[string]func(*testing.B, Case, Size){
	"bfloat16>float32": benchConvert[float32, reshape.BFloat16],
	"float16>float32":  benchConvert[float32, float16.Float16],
	"float32>bfloat16": benchConvert[reshape.BFloat16, float32],
	"int8>float32":     benchConvert[float32, int8],
}

// benchConvert builds case c in S at the size of its result in D, and
// times ContiguousAs against the baselines, a copy of the same bytes in
// and out, with each worker count.
func benchConvert[D, S reshape.Element](b *testing.B, c Case, size Size) {
	from, to := int(unsafe.Sizeof(*new(S))), int(unsafe.Sizeof(*new(D)))
	c = c.Sized(size.Bytes, to)
	src, err := Build[S](c)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]D, c.Elements())
	bytes := c.ConvertBytes(from, to)
	in, out := make([]byte, bytes/2), make([]byte, bytes/2)
	fill(in)
	var crew Crew
	defer crew.Stop()
	for _, w := range workerCounts {
		turn := 0
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			b.Cleanup(SetWorkers(c, w, splitThreshold()))
			op := func() {
				if err := reshape.ContiguousAs(dst, src); err != nil {
					b.Fatal(err)
				}
			}
			bases := baselines{
				crew:    &crew,
				workers: w,
				copy:    func() { CopyParallel(&crew, out, in, w) },
				cached:  func() { CopyCached(&crew, out, in, w) },
			}
			measure(b, op, bases, bytes, false, false, &turn)
		})
	}
}

// BenchmarkLoop times LoopCopy, the plain nested loops, under the names of
// BenchmarkReshape, so that benchstat -col .name puts the two side by side.
// It runs at the 1 MiB size (and the fixed cases) with one worker only: the
// loop is single-threaded and, on the gathers and transposes, many times
// slower than stridekit, so at 64 MiB and 1 GiB it would add minutes to a
// run and say nothing the 1 MiB figure does not. Interleaving it into BenchmarkReshape would cost its
// full time on every iteration of every size.
func BenchmarkLoop(b *testing.B) {
	for _, c := range Cases() {
		for _, dt := range dtypes {
			size := Small
			if c.Scale == Fixed {
				size = Size{Name: FixedSize}
			}
			b.Run(benchName(c, dt.name, size)+"/workers=1", func(b *testing.B) {
				dt.loop(b, c.Sized(size.Bytes, dt.size))
			})
		}
	}
}

// caseSizes returns the sizes case c runs at: benchSizes, or only the fixed
// one.
func caseSizes(c Case) []Size {
	if c.Scale == Fixed {
		return []Size{{Name: FixedSize}}
	}
	return benchSizes()
}

// benchName is the name of a case's benchmark without the worker count,
// with its keys in the fixed order rank, dtype, case, size.
func benchName(c Case, dtype string, size Size) string {
	return fmt.Sprintf("rank=%d/dtype=%s/case=%s/size=%s", c.Rank, dtype, c.Name, size.Name)
}

// benchReshape builds the sized case c in element type T once and times it
// with each worker count against the baselines with as many goroutines (one
// for a Fixed case, which measures a call, where reshape stays on one
// goroutine): copy() (CopyParallel) and the cached copy (CopyCached). They
// read CopySource and write the destination stridekit writes, so all touch
// the same memory, or with -stridekit.apart a destination of their own.
func benchReshape[T reshape.Element](b *testing.B, c Case) {
	src, err := Build[T](c)
	if err != nil {
		b.Fatal(err)
	}
	n := c.Elements()
	dst := make([]T, n)
	from := CopySource(src, n)
	to := dst
	if *apart {
		to = make([]T, n)
	}
	bytes := c.Bytes(int(unsafe.Sizeof(*new(T))))
	var crew Crew
	defer crew.Stop()
	for _, w := range workerCounts {
		turn := 0 // set by the first call of the benchmark function, kept by the next
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			b.Cleanup(SetWorkers(c, w, splitThreshold()))
			copyWorkers := w
			if c.Scale == Fixed {
				copyWorkers = 1
			}
			op := func() {
				if _, err := Run(c, dst, src); err != nil {
					b.Fatal(err)
				}
			}
			bases := baselines{
				crew:    &crew,
				workers: copyWorkers,
				copy:    func() { CopyParallel(&crew, to, from, copyWorkers) },
				cached:  func() { CopyCached(&crew, to, from, copyWorkers) },
			}
			measure(b, op, bases, bytes, c.ZeroCopy, c.Scale == Fixed, &turn)
		})
	}
	// The next case's buffers are as large: return these to the heap first,
	// so that a run needs memory for one case, not two.
	src, dst, from, to = reshape.Tensor[T]{}, nil, nil, nil
	runtime.GC()
}

// baselines are the two contiguous copies a case is read against, with the
// crew whose helpers they split across.
type baselines struct {
	crew         *Crew
	workers      int
	copy, cached func()
}

// benchLoop times LoopCopy on the sized case c in element type T.
func benchLoop[T reshape.Element](b *testing.B, c Case) {
	src, err := Build[T](c)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]T, c.Elements())
	LoopCopy(dst, src)
	b.SetBytes(c.Bytes(int(unsafe.Sizeof(*new(T)))))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		LoopCopy(dst, src)
	}
}

// measure times op with the benchmark's timer and the baselines with
// time.Now while the timer is stopped, in alternating turns of k calls
// each: op, then copy(), then the cached copy, k chosen so that a turn of
// copy() lasts about interleave (k = 1 at the large sizes, and with
// -benchtime 1x). All see the same machine state, so their ratios resist
// drift and noise that separate benchmarks would not; the timer's own stop
// and start fall outside every timing. The crew's helpers spin only during
// the baselines' turns (Crew.Ready, Crew.Park), never while op runs; with
// more than one worker an untimed op before each of op's turns wakes
// stridekit's helpers in the same way. While
// *turn is 0, which is on the first of the calls go test makes with growing
// b.N, copy() runs once untimed, which maps every page of the destination,
// and once timed to choose k, kept in *turn for the later calls. op too
// runs once untimed then, to warm the caches and fail a broken case before
// anything is timed, unless one copy takes longer than coldCopy: at 1 GiB
// nothing stays in cache, a broken case fails on its first timed op as
// well, and an untimed op would double the run time of the slow cases. It
// reports GB/s (unless zeroCopy), x-ceiling, x-copy, ceiling-GB/s and
// copy-GB/s, with bytes as the STREAM bytes of one op, and with overhead
// also ns-over-copy, the time per op beyond that of copy() (for the Fixed
// cases, whose target is a call overhead).
func measure(b *testing.B, op func(), bases baselines, bytes int64, zeroCopy, overhead bool, turn *int) {
	if *turn == 0 {
		bases.crew.Ready(bases.workers)
		bases.copy()
		start := time.Now()
		bases.copy()
		one := time.Since(start)
		bases.cached()
		bases.crew.Park()
		if one < coldCopy {
			op()
		}
		*turn = max(1, int(interleave/max(one, 1)))
	}
	k := *turn
	if !zeroCopy {
		b.SetBytes(bytes)
	}
	b.ReportAllocs()

	var copyTime, cachedTime time.Duration
	timeTurn := func(calls int, f func()) time.Duration {
		start := time.Now()
		for range calls {
			f()
		}
		return time.Since(start)
	}
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i += k {
		calls := min(k, b.N-i)
		if bases.workers > 1 {
			// Wake stridekit's helpers, parked while the baselines ran, as
			// Crew.Ready wakes the baselines' own: both are timed ready,
			// as in a burst of calls.
			op()
		}
		b.StartTimer()
		for range calls {
			op()
		}
		b.StopTimer()
		bases.crew.Ready(bases.workers)
		copyTime += timeTurn(calls, bases.copy)
		cachedTime += timeTurn(calls, bases.cached)
		bases.crew.Park()
	}

	opNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	copyNs := float64(copyTime.Nanoseconds()) / float64(b.N)
	ceilingNs := min(copyNs, float64(cachedTime.Nanoseconds())/float64(b.N))
	if opNs <= 0 || ceilingNs <= 0 {
		return // a clock too coarse for one op: nothing to report
	}
	if !zeroCopy {
		b.ReportMetric(float64(bytes)/opNs, "GB/s")
	}
	b.ReportMetric(ceilingNs/opNs, "x-ceiling")
	b.ReportMetric(copyNs/opNs, "x-copy")
	b.ReportMetric(float64(bytes)/ceilingNs, "ceiling-GB/s")
	b.ReportMetric(float64(bytes)/copyNs, "copy-GB/s")
	if overhead && !zeroCopy { // what a call costs beyond moving its bytes: the dispatch overhead
		b.ReportMetric(opNs-copyNs, "ns-over-copy")
	}
}

// BenchmarkPattern times a compiled einops pattern against the hand-written
// views it stands for, on the heads case at two sizes and on the small
// permuted call, as
//
//	case=C/size=S/impl=pattern|hand
//
// benchstat -col /impl shows the cost of the pattern over the views.
func BenchmarkPattern(b *testing.B) {
	heads, _ := CaseNamed("heads")
	small, _ := CaseNamed("small-permuted")
	for _, c := range []struct {
		c       Case
		size    Size
		pattern string
		k       int
	}{
		{heads, Tiny, "b p h d -> (b h) (p d)", 2},
		{heads, Small, "b p h d -> (b h) (p d)", 2},
		{small, Size{Name: FixedSize}, "a b c -> (b a) c", 1},
	} {
		sized := c.c.Sized(c.size.Bytes, 4)
		src, err := Build[float32](Case{Name: sized.Name, Rank: sized.Rank, Shape: sized.Shape, ConcatDims: 1})
		if err != nil {
			b.Fatal(err)
		}
		p, err := reshape.Compile[float32](c.pattern)
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float32, src.Len())
		perm := sized.Permutation
		for _, impl := range []string{"pattern", "hand"} {
			b.Run(fmt.Sprintf("case=%s/size=%s/impl=%s", c.c.Name, c.size.Name, impl), func(b *testing.B) {
				b.SetBytes(2 * 4 * int64(src.Len()))
				b.ReportAllocs()
				for range b.N {
					var err error
					if impl == "pattern" {
						_, err = p.MatrixInto(dst, src)
					} else {
						var v reshape.Tensor[float32]
						if v, err = src.Permute(perm...); err == nil {
							_, err = reshape.ConcatLastDimensionsInto(dst, v, c.k)
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
