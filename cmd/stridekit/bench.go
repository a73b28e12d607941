package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/stridekit/stridekit/benchmarks"
	"github.com/stridekit/stridekit/reshape"
	"github.com/stridekit/stridekit/tensorfile"
)

const benchHelp = `usage: stridekit bench [-size tiny|small|cached|edge|medium|large] [-workers N] [-rounds N] [-json FILE] [-plot FILE.png]

Runs the standard cases of package benchmarks on this machine, in float32
and bfloat16, and prints for each: the case, the dtype, the size of the
result, stridekit's throughput in GB/s, its ratio to the ceiling (the
faster of copy() and a cached copy of the same bytes: 1.00 is as fast as a
contiguous copy) with the spread of that ratio over the rounds, its ratio to
copy() alone, and how many times faster it is than a plain loop
(benchmarks.LoopCopy: the nested loops, with copy() of each contiguous
innermost run, that a careful Go programmer would write). Throughput counts
the result read once and written once, as STREAM does.

Each case is timed in rounds: in every round stridekit and each baseline
run in turn, so all see the same moment of the machine. Every figure is the
median over the rounds of the figures of one round; the spread is the
range of the ratio to the ceiling over the rounds, (max - min) / median.

  -size S      the result of every case: tiny (256 KiB, in the L2 cache),
               small (1 MiB), cached (4 MiB), edge (16 MiB), medium (64 MiB,
               the default) or large (1 GiB, far beyond the caches; needs
               about 3 GiB of memory and skips the plain loop, which would
               take minutes)
  -workers N   goroutines per copy (reshape.SetMaxWorkers), 1 or more; the
               baselines then run on N goroutines too, split across ready
               helpers (the plain loop stays on one)
  -rounds N    rounds per case, 5 or more (default 5)
  -json FILE   also write the results, every round's, and the machine as JSON
  -plot FILE   also draw the ratios to the ceiling as a chart (PNG)

The "small" and "small-permuted" cases keep their [3, 3, 100] shape at every
size and one goroutine for copy(): they measure the cost of a call. "small"
is zero-copy, a view returned as it is: it prints its time per call only.
`

// benchSizes are the sizes of -size.
var benchSizes = map[string]benchmarks.Size{
	"tiny":   benchmarks.Tiny,
	"small":  benchmarks.Small,
	"cached": benchmarks.Cached,
	"edge":   benchmarks.Edge,
	"medium": benchmarks.Medium,
	"large":  benchmarks.Large,
}

// benchBudget is how long each implementation of a case is timed for, over
// all its rounds.
var benchBudget = map[string]time.Duration{
	"tiny":   100 * time.Millisecond,
	"small":  100 * time.Millisecond,
	"cached": 200 * time.Millisecond,
	"edge":   300 * time.Millisecond,
	"medium": 300 * time.Millisecond,
	"large":  500 * time.Millisecond,
}

// minRounds is the fewest rounds a case is timed in: a median and a spread
// need a few.
const minRounds = 5

// benchRow is one line of the table: one case in one dtype. The figures
// are medians over the rounds; the Rounds fields hold each round's.
type benchRow struct {
	Case     string  `json:"case"`
	DType    string  `json:"dtype"`
	Shape    []int   `json:"view_shape"`
	MiB      float64 `json:"result_mib"`
	Bytes    int64   `json:"bytes_moved"`
	ZeroCopy bool    `json:"zero_copy"`

	NsPerOp   float64 `json:"stridekit_ns_per_op"`
	GBps      float64 `json:"stridekit_gbps"`
	CeilGBps  float64 `json:"ceiling_gbps"`
	CopyGBps  float64 `json:"copy_gbps"`
	LoopGBps  float64 `json:"loop_gbps,omitempty"` // 0 where not timed (-size large, conversions)
	RatioCeil float64 `json:"ratio_to_ceiling"`
	// RatioCeilMin and RatioCeilMax are the range of RatioCeil over the
	// rounds.
	RatioCeilMin float64 `json:"ratio_to_ceiling_min"`
	RatioCeilMax float64 `json:"ratio_to_ceiling_max"`
	RatioCopy    float64 `json:"ratio_to_copy"`
	// LoopSpeedup is the loop's time over stridekit's: how many times
	// faster stridekit is. LoopCeil is the loop's own ratio to the ceiling
	// (what the plot shows), with its range.
	LoopSpeedup float64 `json:"speedup_over_loop,omitempty"`
	LoopCeil    float64 `json:"loop_ratio_to_ceiling,omitempty"`
	LoopCeilMin float64 `json:"loop_ratio_to_ceiling_min,omitempty"`
	LoopCeilMax float64 `json:"loop_ratio_to_ceiling_max,omitempty"`

	Rounds roundTimes `json:"rounds"`
}

// roundTimes are the times per call of each implementation in each round,
// in nanoseconds.
type roundTimes struct {
	Stridekit []float64 `json:"stridekit_ns"`
	Copy      []float64 `json:"copy_ns"`
	Cached    []float64 `json:"cached_copy_ns"`
	Loop      []float64 `json:"loop_ns,omitempty"`
}

// Spread is the range of the ratio to the ceiling over the rounds, relative
// to its median.
func (r benchRow) Spread() float64 {
	if r.RatioCeil == 0 {
		return 0
	}
	return (r.RatioCeilMax - r.RatioCeilMin) / r.RatioCeil
}

// benchReport is what -json writes.
type benchReport struct {
	Size      string     `json:"size"`
	Workers   int        `json:"workers"`
	Rounds    int        `json:"rounds"`
	GOOS      string     `json:"goos"`
	GOARCH    string     `json:"goarch"`
	CPUs      int        `json:"cpus"`
	GoVersion string     `json:"go_version"`
	Time      time.Time  `json:"time"`
	Rows      []benchRow `json:"results"`
}

// countOf returns "1 worker", "2 workers".
func countOf(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// bench runs the bench subcommand.
func (c *cli) bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	size := fs.String("size", "medium", "small, medium or large")
	workers := fs.Int("workers", 1, "goroutines per copy")
	rounds := fs.Int("rounds", minRounds, "rounds per case")
	jsonPath := fs.String("json", "", "JSON output file")
	plotPath := fs.String("plot", "", "PNG output file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sz, ok := benchSizes[*size]
	switch {
	case fs.NArg() > 0:
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case !ok:
		return &usageError{msg: fmt.Sprintf("-size %q: want tiny, small, cached, edge, medium or large", *size)}
	case *workers < 1:
		return &usageError{msg: fmt.Sprintf("-workers %d: want 1 or more", *workers)}
	case *rounds < minRounds:
		return &usageError{msg: fmt.Sprintf("-rounds %d: want %d or more", *rounds, minRounds)}
	case *plotPath != "" && !strings.EqualFold(filepath.Ext(*plotPath), ".png"):
		return &usageError{msg: fmt.Sprintf("-plot %s: the file must end in .png", *plotPath)}
	}
	budget := benchBudget[*size]
	if c.benchBudget > 0 {
		budget = c.benchBudget
	}
	t := benchTiming{workers: *workers, rounds: *rounds, budget: budget, loop: sz != benchmarks.Large}

	report := benchReport{Size: *size, Workers: *workers, Rounds: *rounds, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Time: time.Now().UTC()}
	fmt.Fprintf(c.stdout, "stridekit bench: size %s (%s), %s/%s, %d CPUs, %s, %s, median of %d rounds\n\n",
		*size, sz.Name, report.GOOS, report.GOARCH, report.CPUs, report.GoVersion, countOf(*workers, "worker"), *rounds)
	fmt.Fprintf(c.stdout, "%-16s %-9s %10s %8s %9s %7s %8s %8s\n", "CASE", "DTYPE", "SIZE", "GB/s", "×ceiling", "spread", "×copy()", "×loop")
	emit := func(row benchRow) {
		report.Rows = append(report.Rows, row)
		fmt.Fprintln(c.stdout, formatRow(row))
		runtime.GC() // return this case's buffers before the next is built
	}
	for _, bc := range benchmarks.Cases() {
		for _, dt := range []struct {
			name string
			run  func(benchmarks.Case, benchmarks.Size, benchTiming) (benchRow, error)
		}{
			{"float32", benchCase[float32]},
			{"bfloat16", benchCase[reshape.BFloat16]},
		} {
			if err := c.ctx.Err(); err != nil {
				return errInterrupted
			}
			row, err := dt.run(bc, sz, t)
			if err != nil {
				return err
			}
			row.DType = dt.name
			emit(row)
		}
	}
	// Converting while reshaping, against a copy of the same bytes in and
	// out: the bfloat16 → float32 cases of benchmarks.Conversions.
	for _, cv := range benchmarks.Conversions() {
		if cv.From != "bfloat16" || cv.To != "float32" {
			continue
		}
		if err := c.ctx.Err(); err != nil {
			return errInterrupted
		}
		bc, _ := benchmarks.CaseNamed(cv.Case)
		row, err := benchConvert(bc, sz, t)
		if err != nil {
			return err
		}
		emit(row)
	}
	if n := noisyRows(report.Rows); n > 0 {
		fmt.Fprintf(c.stdout, "\nnote: %d of %d rows vary by more than %.0f%% between rounds: the machine was busy\n"+
			"(other programs, or more workers than idle cores); read those with care, or rerun on an idle machine.\n",
			n, len(report.Rows), 100*noisySpread)
	}
	if *jsonPath != "" {
		b, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return err
		}
		if err := c.beginWrite(); err != nil {
			return err
		}
		if err := tensorfile.WriteFileContext(c.ctx, *jsonPath, func(w io.Writer) error {
			_, err := w.Write(append(b, '\n'))
			return err
		}); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		if err := writePlot(*plotPath, report); err != nil {
			return err
		}
	}
	return nil
}

// noisySpread is the spread of the ratio to the ceiling above which a row
// is too noisy to trust as it is.
const noisySpread = 0.25

// noisyRows counts the rows, zero-copy aside, whose spread is above
// noisySpread.
func noisyRows(rows []benchRow) int {
	n := 0
	for _, r := range rows {
		if !r.ZeroCopy && r.Spread() > noisySpread {
			n++
		}
	}
	return n
}

// formatRow is one line of the table. A zero-copy case moves nothing: it
// gets its time per call, not a size and a throughput.
func formatRow(r benchRow) string {
	if r.ZeroCopy {
		return fmt.Sprintf("%-16s %-9s %10s %s", r.Case, r.DType, "zero-copy",
			fmt.Sprintf("%.0f ns/call (the view is returned as it is: nothing is copied)", r.NsPerOp))
	}
	loop := "-"
	if r.LoopSpeedup > 0 {
		loop = fmt.Sprintf("%.1f", r.LoopSpeedup)
	}
	return fmt.Sprintf("%-16s %-9s %10s %8.2f %9.2f %6.0f%% %8.2f %8s",
		r.Case, r.DType, formatSize(r.MiB), r.GBps, r.RatioCeil, 100*r.Spread(), r.RatioCopy, loop)
}

// formatSize prints a result size in MiB, or KiB below a tenth of one.
func formatSize(mib float64) string {
	if mib < 0.1 {
		return fmt.Sprintf("%.1f KiB", mib*1024)
	}
	return fmt.Sprintf("%.1f MiB", mib)
}

// benchTiming is how each case is timed.
type benchTiming struct {
	workers, rounds int
	budget          time.Duration // per implementation, over all rounds
	loop            bool          // time the plain loop too
}

// contender is one implementation timed in a case.
type contender struct {
	f     func()
	setup func()          // before each of its turns
	n     int             // calls per turn, set by calibrate
	times []time.Duration // time per call, one per round
}

// calibrate runs c once untimed (to map every page and warm the caches),
// then in turns of growing length until a turn lasts at least budget, and
// keeps that length.
func (c *contender) calibrate(budget time.Duration) {
	c.setup()
	c.f()
	for n := 1; ; {
		start := time.Now()
		for range n {
			c.f()
		}
		el := time.Since(start)
		if el >= budget || n >= 1<<30 {
			c.n = n
			return
		}
		next := n * 2
		if el > 0 { // aim 20% past the budget
			next = max(next, int(float64(n)*1.2*float64(budget)/float64(el)))
		}
		n = min(next, 100*n)
	}
}

// interleave times the contenders in rounds: in each round every one runs
// its turn of calls, the first one in turn starting the round, so that no
// implementation always follows the same other.
func interleave(t benchTiming, cs ...*contender) {
	per := max(t.budget/time.Duration(t.rounds), 1)
	for _, c := range cs {
		c.calibrate(per)
	}
	for r := range t.rounds {
		for k := range cs {
			c := cs[(r+k)%len(cs)]
			c.setup()
			start := time.Now()
			for range c.n {
				c.f()
			}
			c.times = append(c.times, max(time.Since(start)/time.Duration(c.n), 1))
		}
	}
}

// median returns the median of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// perRound returns f of each round's times, i indexing the rounds.
func perRound(rounds int, f func(i int) float64) []float64 {
	out := make([]float64, rounds)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// ns returns durations as float nanoseconds.
func ns(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d.Nanoseconds())
	}
	return out
}

// timeRow times op (with c's workers set to t.workers) against the ceiling
// on copyWorkers goroutines, the faster of copy() and the cached copy of src
// into dst, and, when loop is not nil, against the plain loop, in
// interleaved rounds. Every ratio is taken within a round and the row holds
// their medians.
func timeRow[E any](c benchmarks.Case, t benchTiming, copyWorkers int, dst, src []E, bytes int64, op func() error, loop func()) (benchRow, error) {
	restore := benchmarks.SetWorkers(c, t.workers, 0)
	defer restore()
	var crew benchmarks.Crew
	defer crew.Stop()
	var opErr error
	park := func() { crew.Park() } // the helpers never spin while stridekit or the loop runs
	ready := func() { crew.Ready(copyWorkers) }
	lib := &contender{setup: park, f: func() {
		if err := op(); err != nil && opErr == nil {
			opErr = err
		}
	}}
	viaCopy := &contender{setup: ready, f: func() { benchmarks.CopyParallel(&crew, dst, src, copyWorkers) }}
	cached := &contender{setup: ready, f: func() { benchmarks.CopyCached(&crew, dst, src, copyWorkers) }}
	cs := []*contender{lib, viaCopy, cached}
	var plain *contender
	if loop != nil {
		plain = &contender{setup: park, f: loop}
		cs = append(cs, plain)
	}
	interleave(t, cs...)
	if opErr != nil {
		return benchRow{}, opErr
	}

	rt := roundTimes{Stridekit: ns(lib.times), Copy: ns(viaCopy.times), Cached: ns(cached.times)}
	ceil := perRound(t.rounds, func(i int) float64 { return min(rt.Copy[i], rt.Cached[i]) })
	gbps := func(nsPerOp float64) float64 { return float64(bytes) / nsPerOp }
	ratioCeil := perRound(t.rounds, func(i int) float64 { return ceil[i] / rt.Stridekit[i] })
	row := benchRow{
		Bytes:        bytes,
		NsPerOp:      median(rt.Stridekit),
		CopyGBps:     gbps(median(rt.Copy)),
		CeilGBps:     gbps(median(ceil)),
		RatioCeil:    median(ratioCeil),
		RatioCeilMin: slices.Min(ratioCeil),
		RatioCeilMax: slices.Max(ratioCeil),
		RatioCopy:    median(perRound(t.rounds, func(i int) float64 { return rt.Copy[i] / rt.Stridekit[i] })),
	}
	row.GBps = gbps(row.NsPerOp)
	if plain != nil {
		rt.Loop = ns(plain.times)
		loopCeil := perRound(t.rounds, func(i int) float64 { return ceil[i] / rt.Loop[i] })
		row.LoopGBps = gbps(median(rt.Loop))
		row.LoopSpeedup = median(perRound(t.rounds, func(i int) float64 { return rt.Loop[i] / rt.Stridekit[i] }))
		row.LoopCeil, row.LoopCeilMin, row.LoopCeilMax = median(loopCeil), slices.Min(loopCeil), slices.Max(loopCeil)
	}
	row.Rounds = rt
	return row, nil
}

// benchCase times case c, fitted to size sz (benchmarks.Case.Sized), in
// element type T with stridekit (benchmarks.Run) on t.workers workers
// (benchmarks.SetWorkers, restored before it returns), against copy() and
// the cached copy of the same elements on as many goroutines
// (benchmarks.CopyParallel and CopyCached; one for a case of fixed size,
// which measures a call) and, if t.loop is set, benchmarks.LoopCopy.
func benchCase[T reshape.Element](c benchmarks.Case, sz benchmarks.Size, t benchTiming) (benchRow, error) {
	size := int(unsafe.Sizeof(*new(T)))
	c = c.Sized(sz.Bytes, size)
	src, err := benchmarks.Build[T](c)
	if err != nil {
		return benchRow{}, err
	}
	n := c.Elements()
	dst := make([]T, n)
	from := benchmarks.CopySource(src, n)
	copyWorkers := t.workers
	if c.Scale == benchmarks.Fixed {
		copyWorkers = 1
	}
	var loop func()
	if t.loop {
		loopDst := make([]T, n) // its own: a loop bug must not hide in stridekit's result
		loop = func() { benchmarks.LoopCopy(loopDst, src) }
	}
	row, err := timeRow(c, t, copyWorkers, dst, from, c.Bytes(size), func() error {
		_, err := benchmarks.Run(c, dst, src)
		return err
	}, loop)
	if err != nil {
		return benchRow{}, err
	}
	row.Case, row.Shape, row.MiB, row.ZeroCopy = c.Name, c.ViewShape(), float64(n*size)/(1<<20), c.ZeroCopy
	return row, nil
}

// benchConvert times case c fitted to size sz converting bfloat16 to
// float32 (reshape.ContiguousAs), against the baselines of a copy of as
// many bytes read and written.
func benchConvert(c benchmarks.Case, sz benchmarks.Size, t benchTiming) (benchRow, error) {
	c = c.Sized(sz.Bytes, 4)
	src, err := benchmarks.Build[reshape.BFloat16](c)
	if err != nil {
		return benchRow{}, err
	}
	n := c.Elements()
	dst := make([]float32, n)
	bytes := c.ConvertBytes(2, 4)
	in, out := make([]byte, bytes/2), make([]byte, bytes/2)
	row, err := timeRow(c, t, t.workers, out, in, bytes, func() error {
		return reshape.ContiguousAs(dst, src)
	}, nil)
	if err != nil {
		return benchRow{}, err
	}
	row.Case, row.DType, row.Shape, row.MiB = c.Name+"→f32", "bfloat16", c.ViewShape(), float64(n*4)/(1<<20)
	return row, nil
}
