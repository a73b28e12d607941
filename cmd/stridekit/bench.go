package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/stridekit/stridekit/benchmarks"
	"github.com/stridekit/stridekit/reshape"
	"github.com/stridekit/stridekit/tensorfile"
)

const benchHelp = `usage: stridekit bench [-size tiny|small|cached|edge|medium|large] [-workers N] [-json FILE] [-plot FILE.png]

Runs the standard cases of package benchmarks on this machine, in float32
and bfloat16, and prints for each: the case, the dtype, the size of the
result in MiB, stridekit's throughput in GB/s, its ratio to the ceiling (the
faster of copy() and a cached copy of the same bytes: 1.00 is as fast as a
contiguous copy), to copy() alone, and to the generic loop
(benchmarks.NaiveCopy: how much faster than plain Go). Throughput counts the
result read once and written once, as STREAM does.

  -size S      the result of every case: tiny (256 KiB, in the L2 cache),
               small (1 MiB), cached (4 MiB), edge (16 MiB), medium (64 MiB,
               the default) or large (1 GiB, far beyond the caches; needs
               about 3 GiB of memory and skips the generic loop, which would
               take minutes)
  -workers N   goroutines per copy (reshape.SetMaxWorkers), 1 or more; the
               baselines then run on N goroutines too, split across ready
               helpers
  -json FILE   also write the results, and the machine, as JSON
  -plot FILE   also draw them as a bar chart (PNG) with gonum.org/v1/plot

The "small" and "small-permuted" cases keep their [3, 3, 100] shape at every
size and one goroutine for copy(): they measure the cost of a call. "small"
is zero-copy: its GB/s is what a copy would have moved.
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

// benchBudget is how long each implementation of a case is timed for.
var benchBudget = map[string]time.Duration{
	"tiny":   100 * time.Millisecond,
	"small":  100 * time.Millisecond,
	"cached": 200 * time.Millisecond,
	"edge":   300 * time.Millisecond,
	"medium": 300 * time.Millisecond,
	"large":  500 * time.Millisecond,
}

// benchRow is one line of the table: one case in one dtype.
type benchRow struct {
	Case       string  `json:"case"`
	DType      string  `json:"dtype"`
	Shape      []int   `json:"view_shape"`
	MiB        float64 `json:"result_mib"`
	Bytes      int64   `json:"bytes_moved"`
	NsPerOp    float64 `json:"stridekit_ns_per_op"`
	GBps       float64 `json:"stridekit_gbps"`
	CeilGBps   float64 `json:"ceiling_gbps"`
	CopyGBps   float64 `json:"copy_gbps"`
	NaiveGBps  float64 `json:"generic_loop_gbps,omitempty"` // 0 where not timed (-size large)
	RatioCeil  float64 `json:"ratio_to_ceiling"`
	RatioCopy  float64 `json:"ratio_to_copy"`
	RatioNaive float64 `json:"ratio_to_generic_loop,omitempty"`
	ZeroCopy   bool    `json:"zero_copy"`
}

// benchReport is what -json writes.
type benchReport struct {
	Size      string     `json:"size"`
	Workers   int        `json:"workers"`
	GOOS      string     `json:"goos"`
	GOARCH    string     `json:"goarch"`
	CPUs      int        `json:"cpus"`
	GoVersion string     `json:"go_version"`
	Time      time.Time  `json:"time"`
	Rows      []benchRow `json:"results"`
}

// bench runs the bench subcommand.
func (c *cli) bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	size := fs.String("size", "medium", "small, medium or large")
	workers := fs.Int("workers", 1, "goroutines per copy")
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
	case *plotPath != "" && !strings.EqualFold(filepath.Ext(*plotPath), ".png"):
		return &usageError{msg: fmt.Sprintf("-plot %s: the file must end in .png", *plotPath)}
	}
	budget := benchBudget[*size]
	if c.benchBudget > 0 {
		budget = c.benchBudget
	}

	report := benchReport{Size: *size, Workers: *workers, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Time: time.Now().UTC()}
	plural := "s"
	if *workers == 1 {
		plural = ""
	}
	fmt.Fprintf(c.stdout, "stridekit bench: size %s (%s), %s/%s, %d CPUs, %s, %d worker%s\n\n",
		*size, sz.Name, report.GOOS, report.GOARCH, report.CPUs, report.GoVersion, *workers, plural)
	fmt.Fprintf(c.stdout, "%-16s %-9s %9s %9s %9s %9s %9s\n", "CASE", "DTYPE", "MiB", "GB/s", "×ceiling", "×copy()", "×generic")
	naive := sz != benchmarks.Large
	for _, bc := range benchmarks.Cases() {
		for _, dt := range []struct {
			name string
			run  func(benchmarks.Case, benchmarks.Size, int, time.Duration, bool) (benchRow, error)
		}{
			{"float32", benchCase[float32]},
			{"bfloat16", benchCase[reshape.BFloat16]},
		} {
			if err := c.ctx.Err(); err != nil {
				return errInterrupted
			}
			row, err := dt.run(bc, sz, *workers, budget, naive)
			if err != nil {
				return err
			}
			row.DType = dt.name
			generic, note := "-", ""
			if row.NaiveGBps > 0 {
				generic = fmt.Sprintf("%.1f", row.RatioNaive)
			}
			if row.ZeroCopy {
				note = "  (zero-copy: nothing moved)"
			}
			fmt.Fprintf(c.stdout, "%-16s %-9s %9.1f %9.2f %9.2f %9.2f %9s%s\n",
				row.Case, row.DType, row.MiB, row.GBps, row.RatioCeil, row.RatioCopy, generic, note)
			report.Rows = append(report.Rows, row)
			runtime.GC() // return this case's buffers before the next is built
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
		row, err := benchConvert(bc, sz, *workers, budget)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%-16s %-9s %9.1f %9.2f %9.2f %9.2f %9s\n",
			row.Case, row.DType, row.MiB, row.GBps, row.RatioCeil, row.RatioCopy, "-")
		report.Rows = append(report.Rows, row)
		runtime.GC()
	}
	if *jsonPath != "" {
		b, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return err
		}
		if err := tensorfile.WriteFile(*jsonPath, func(w io.Writer) error {
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

// benchCase times case c, fitted to size sz (benchmarks.Case.Sized), in
// element type T with stridekit (benchmarks.Run) on the given number of
// workers (benchmarks.SetWorkers, restored before it returns), copy() and
// the cached copy of the same elements on as many goroutines
// (benchmarks.CopyParallel and CopyCached; one for a case of fixed size,
// which measures a call) and, if naive is set, benchmarks.NaiveCopy, as the
// benchmarks package's own benchmarks do.
func benchCase[T reshape.Element](c benchmarks.Case, sz benchmarks.Size, workers int, budget time.Duration, naive bool) (benchRow, error) {
	size := int(unsafe.Sizeof(*new(T)))
	c = c.Sized(sz.Bytes, size)
	src, err := benchmarks.Build[T](c)
	if err != nil {
		return benchRow{}, err
	}
	n := c.Elements()
	dst := make([]T, n)
	from := benchmarks.CopySource(src, n)
	copyWorkers := workers
	if c.Scale == benchmarks.Fixed {
		copyWorkers = 1
	}

	bytes := c.Bytes(size)
	row, err := timeRow(c, workers, copyWorkers, budget, dst, from, bytes, func() error {
		_, err := benchmarks.Run(c, dst, src)
		return err
	})
	if err != nil {
		return benchRow{}, err
	}
	row.Case, row.Shape, row.MiB, row.ZeroCopy = c.Name, c.ViewShape(), float64(n*size)/(1<<20), c.ZeroCopy
	if naive {
		d := timeIt(budget, func() { benchmarks.NaiveCopy(dst, src) })
		row.NaiveGBps, row.RatioNaive = float64(bytes)/d.Seconds()/1e9, float64(d.Nanoseconds())/row.NsPerOp
	}
	return row, nil
}

// timeRow times op with c's workers set to workers, then the ceiling on
// copyWorkers goroutines, the faster of copy() and the cached copy of src
// into dst, and returns the row's figures for bytes moved.
func timeRow[E any](c benchmarks.Case, workers, copyWorkers int, budget time.Duration, dst, src []E, bytes int64, op func() error) (benchRow, error) {
	restore := benchmarks.SetWorkers(c, workers, 0)
	var opErr error
	lib := timeIt(budget, func() {
		if err := op(); err != nil {
			opErr = err
		}
	})
	restore()
	if opErr != nil {
		return benchRow{}, opErr
	}
	var crew benchmarks.Crew
	crew.Ready(copyWorkers)
	viaCopy := timeIt(budget, func() { benchmarks.CopyParallel(&crew, dst, src, copyWorkers) })
	cached := timeIt(budget, func() { benchmarks.CopyCached(&crew, dst, src, copyWorkers) })
	crew.Park()
	ceiling := min(viaCopy, cached)
	gbps := func(d time.Duration) float64 { return float64(bytes) / d.Seconds() / 1e9 }
	return benchRow{
		Bytes:     bytes,
		NsPerOp:   float64(lib.Nanoseconds()),
		GBps:      gbps(lib),
		CeilGBps:  gbps(ceiling),
		CopyGBps:  gbps(viaCopy),
		RatioCeil: ceiling.Seconds() / lib.Seconds(),
		RatioCopy: viaCopy.Seconds() / lib.Seconds(),
	}, nil
}

// benchConvert times case c fitted to size sz converting bfloat16 to
// float32 (reshape.ContiguousAs), against the baselines of a copy of as
// many bytes read and written.
func benchConvert(c benchmarks.Case, sz benchmarks.Size, workers int, budget time.Duration) (benchRow, error) {
	c = c.Sized(sz.Bytes, 4)
	src, err := benchmarks.Build[reshape.BFloat16](c)
	if err != nil {
		return benchRow{}, err
	}
	n := c.Elements()
	dst := make([]float32, n)
	bytes := c.ConvertBytes(2, 4)
	in, out := make([]byte, bytes/2), make([]byte, bytes/2)
	row, err := timeRow(c, workers, workers, budget, out, in, bytes, func() error {
		return reshape.ContiguousAs(dst, src)
	})
	if err != nil {
		return benchRow{}, err
	}
	row.Case, row.DType, row.Shape, row.MiB = c.Name+"→f32", "bfloat16", c.ViewShape(), float64(n*4)/(1<<20)
	return row, nil
}

// timeIt returns the mean time of one call of f: f runs once untimed (to
// map every page and warm the caches), then in rounds of growing length
// until a round lasts at least budget.
func timeIt(budget time.Duration, f func()) time.Duration {
	f()
	for n := 1; ; {
		start := time.Now()
		for range n {
			f()
		}
		el := time.Since(start)
		if el >= budget || n >= 1<<30 {
			return max(el/time.Duration(n), 1)
		}
		next := n * 2
		if el > 0 { // aim 20% past the budget
			next = max(next, int(float64(n)*1.2*float64(budget)/float64(el)))
		}
		n = min(next, 100*n)
	}
}

// writePlot draws the table as grouped bars, GB/s of stridekit, the ceiling
// and the generic loop per case and dtype, and writes it atomically as PNG.
func writePlot(path string, r benchReport) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("stridekit bench, size %s, %d workers (%s/%s, %d CPUs)", r.Size, r.Workers, r.GOOS, r.GOARCH, r.CPUs)
	p.Y.Label.Text = "GB/s (result read + written)"
	var labels []string
	var lib, ceiling, naive plotter.Values
	timedNaive := false
	for _, row := range r.Rows {
		if row.ZeroCopy {
			continue // no bytes move: its GB/s would dwarf the others
		}
		dt := map[string]string{"float32": "f32", "bfloat16": "bf16"}[row.DType]
		labels = append(labels, row.Case+"\n"+dt)
		lib = append(lib, row.GBps)
		ceiling = append(ceiling, row.CeilGBps)
		naive = append(naive, row.NaiveGBps)
		timedNaive = timedNaive || row.NaiveGBps > 0
	}
	w := vg.Points(9)
	series := []struct {
		name string
		v    plotter.Values
		c    color.RGBA
	}{
		{"ceiling", ceiling, color.RGBA{R: 160, G: 160, B: 160, A: 255}},
		{"stridekit", lib, color.RGBA{R: 30, G: 100, B: 200, A: 255}},
		{"generic loop", naive, color.RGBA{R: 220, G: 120, B: 40, A: 255}},
	}
	if !timedNaive { // -size large: no bars of zero under a legend entry
		series = series[:2]
	}
	for i, s := range series {
		bars, err := plotter.NewBarChart(s.v, w)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		bars.Color = s.c
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(i-1) * w
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.Legend.Top = true
	p.NominalX(labels...)
	p.Y.Min = 0
	wt, err := p.WriterTo(vg.Length(max(8, len(labels)))*0.9*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return tensorfile.WriteFile(path, func(out io.Writer) error {
		_, err := wt.WriteTo(out)
		return err
	})
}
