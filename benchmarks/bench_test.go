package benchmarks

import (
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/stridekit/stridekit/reshape"
)

var large = flag.Bool("stridekit.large", false,
	"also run the 1 GiB size (about 3 GiB of memory; -short wins)")

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

// benchSizes returns the sizes the sized cases run at: Small and Medium, with
// -stridekit.large also Large, with -short only Small.
func benchSizes() []Size {
	switch {
	case testing.Short():
		return []Size{Small}
	case *large:
		return Sizes()
	}
	return []Size{Small, Medium}
}

// BenchmarkReshape times every case in every width, at every size
// (benchSizes) and with every worker count, against copy() of the same bytes
// in the same benchmark, as
//
//	rank=R/dtype=D/case=C/size=S/workers=W
//
// The Fixed cases run once per width and worker count, as size=fixed. Each
// reports GB/s (STREAM bytes, Case.Bytes, per second of stridekit), x-copy
// (the copy() baseline's time per op over stridekit's: 1 is the ceiling) and
// copy-GB/s (the baseline's own throughput). The zero-copy case moves no
// bytes and reports neither GB/s nor MB/s.
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

// BenchmarkNaive times NaiveCopy, the plain N-d loop, under the names of
// BenchmarkReshape, so that benchstat -col .name puts the two side by side.
// It runs at the 1 MiB size (and the fixed cases) with one worker only: the
// loop is single-threaded and 20–150 times slower than stridekit, so at
// 64 MiB and 1 GiB it would add minutes to a run and say nothing the 1 MiB
// figure does not. Interleaving it into BenchmarkReshape would cost its
// full time on every iteration of every size.
func BenchmarkNaive(b *testing.B) {
	for _, c := range Cases() {
		for _, dt := range dtypes {
			size := Small
			if c.Scale == Fixed {
				size = Size{Name: FixedSize}
			}
			b.Run(benchName(c, dt.name, size)+"/workers=1", func(b *testing.B) {
				dt.naive(b, c.Sized(size.Bytes, dt.size))
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
// with each worker count against CopyParallel with as many goroutines (one
// for a Fixed case, which measures a call, where reshape stays on one
// goroutine). The copy reads CopySource and writes the destination
// stridekit writes, so both touch the same memory.
func benchReshape[T reshape.Element](b *testing.B, c Case) {
	src, err := Build[T](c)
	if err != nil {
		b.Fatal(err)
	}
	n := c.Elements()
	dst := make([]T, n)
	from := CopySource(src, n)
	bytes := c.Bytes(int(unsafe.Sizeof(*new(T))))
	for _, w := range workerCounts {
		turn := 0 // set by the first call of the benchmark function, kept by the next
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			b.Cleanup(SetWorkers(c, w))
			copyWorkers := w
			if c.Scale == Fixed {
				copyWorkers = 1
			}
			op := func() {
				if _, err := Run(c, dst, src); err != nil {
					b.Fatal(err)
				}
			}
			measure(b, op, func() { CopyParallel(dst, from, copyWorkers) }, bytes, c.ZeroCopy, c.Scale == Fixed, &turn)
		})
	}
	// The next case's buffers are as large: return these to the heap first,
	// so that a run needs memory for one case, not two.
	src, dst, from = reshape.Tensor[T]{}, nil, nil
	runtime.GC()
}

// benchNaive times NaiveCopy on the sized case c in element type T.
func benchNaive[T reshape.Element](b *testing.B, c Case) {
	src, err := Build[T](c)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]T, c.Elements())
	NaiveCopy(dst, src)
	b.SetBytes(c.Bytes(int(unsafe.Sizeof(*new(T)))))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		NaiveCopy(dst, src)
	}
}

// measure times op with the benchmark's timer and base, the copy() baseline,
// with time.Now while the timer is stopped, in alternating turns of k calls
// each, k chosen so that a turn of base lasts about interleave (k = 1 at the
// large sizes, and with -benchtime 1x). Both see the same machine state, so
// their ratio resists drift and noise that separate benchmarks would not;
// the timer's own stop and start fall outside both timings. While *turn is
// 0, which is on the first of the calls go test makes with growing b.N,
// base runs once untimed, which maps every page of the destination, and
// once timed to choose k, kept in *turn for the later calls. op too runs
// once untimed then, to warm the caches and fail a broken case before
// anything is timed, unless one copy takes longer than coldCopy: at 1 GiB
// nothing stays in cache, a broken case fails on its first timed op as
// well, and an untimed op would double the run time of the slow cases. It
// reports GB/s (unless zeroCopy), x-copy and copy-GB/s, with bytes as the
// STREAM bytes of one op, and with overhead also ns-over-copy, the time per
// op beyond that of copy() (for the Fixed cases, whose target is a call
// overhead).
func measure(b *testing.B, op, base func(), bytes int64, zeroCopy, overhead bool, turn *int) {
	if *turn == 0 {
		base()
		start := time.Now()
		base()
		one := time.Since(start)
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

	var baseTime time.Duration
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i += k {
		turn := min(k, b.N-i)
		b.StartTimer()
		for range turn {
			op()
		}
		b.StopTimer()
		start := time.Now()
		for range turn {
			base()
		}
		baseTime += time.Since(start)
	}

	opNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	baseNs := float64(baseTime.Nanoseconds()) / float64(b.N)
	if opNs <= 0 || baseNs <= 0 {
		return // a clock too coarse for one op: nothing to report
	}
	if !zeroCopy {
		b.ReportMetric(float64(bytes)/opNs, "GB/s")
	}
	b.ReportMetric(baseNs/opNs, "x-copy")
	b.ReportMetric(float64(bytes)/baseNs, "copy-GB/s")
	if overhead && !zeroCopy { // what a call costs beyond moving its bytes: the dispatch overhead
		b.ReportMetric(opNs-baseNs, "ns-over-copy")
	}
}
