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

const benchHelp = `usage: stridekit bench [-size small|medium|large] [-workers N] [-json FILE] [-plot FILE.png]

Runs the standard cases of package benchmarks on this machine, in float32
and bfloat16, and prints for each: the case, the dtype, the size of the
result in MiB, stridekit's throughput in GB/s, and its ratio to copy() of
the same bytes (the ceiling, 1.00 is as fast as memory allows) and to the
generic loop (benchmarks.NaiveCopy: how much faster than plain Go).
Throughput counts the result read once and written once, as STREAM does.

  -size S      small (batch axes 1/8 of the standard, a quick look), medium
               (the standard cases, the default) or large (4 times the
               standard, far beyond the caches)
  -workers N   copy threads; 1 only until the parallel path lands
  -json FILE   also write the results, and the machine, as JSON
  -plot FILE   also draw them as a bar chart (PNG) with gonum.org/v1/plot

The "small" case is zero-copy: its GB/s is what a copy would have moved.
`

// benchSizes scales the standard cases: the outermost (batch) axis is
// multiplied by num/den.
var benchSizes = map[string]struct{ num, den int }{
	"small":  {1, 8},
	"medium": {1, 1},
	"large":  {4, 1},
}

// benchBudget is how long each implementation of a case is timed for.
var benchBudget = map[string]time.Duration{
	"small":  100 * time.Millisecond,
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
	CopyGBps   float64 `json:"copy_gbps"`
	NaiveGBps  float64 `json:"generic_loop_gbps"`
	RatioCopy  float64 `json:"ratio_to_copy"`
	RatioNaive float64 `json:"ratio_to_generic_loop"`
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
	workers := fs.Int("workers", 1, "copy threads")
	jsonPath := fs.String("json", "", "JSON output file")
	plotPath := fs.String("plot", "", "PNG output file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	scale, ok := benchSizes[*size]
	switch {
	case fs.NArg() > 0:
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case !ok:
		return &usageError{msg: fmt.Sprintf("-size %q: want small, medium or large", *size)}
	case *workers != 1:
		// reshape has no worker setting yet (no SetMaxWorkers): refusing is
		// more honest than timing one thread under another name.
		return &usageError{msg: fmt.Sprintf("-workers %d: only 1 until the parallel copy path lands in reshape", *workers)}
	case *plotPath != "" && !strings.EqualFold(filepath.Ext(*plotPath), ".png"):
		return &usageError{msg: fmt.Sprintf("-plot %s: the file must end in .png", *plotPath)}
	}
	budget := benchBudget[*size]
	if c.benchBudget > 0 {
		budget = c.benchBudget
	}

	report := benchReport{Size: *size, Workers: *workers, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Time: time.Now().UTC()}
	fmt.Fprintf(c.stdout, "stridekit bench: size %s, %s/%s, %d CPUs, %s, %d worker\n\n",
		*size, report.GOOS, report.GOARCH, report.CPUs, report.GoVersion, *workers)
	fmt.Fprintf(c.stdout, "%-12s %-9s %9s %9s %9s %9s\n", "CASE", "DTYPE", "MiB", "GB/s", "×copy()", "×generic")
	for _, bc := range benchmarks.Cases() {
		bc = scaleCase(bc, scale.num, scale.den)
		for _, dt := range []string{"float32", "bfloat16"} {
			if err := c.ctx.Err(); err != nil {
				return errInterrupted
			}
			var row benchRow
			var err error
			if dt == "float32" {
				row, err = benchCase[float32](bc, budget)
			} else {
				row, err = benchCase[reshape.BFloat16](bc, budget)
			}
			if err != nil {
				return err
			}
			row.DType = dt
			note := ""
			if row.ZeroCopy {
				note = "  (zero-copy: nothing moved)"
			}
			fmt.Fprintf(c.stdout, "%-12s %-9s %9.1f %9.2f %9.2f %9.1f%s\n",
				row.Case, row.DType, row.MiB, row.GBps, row.RatioCopy, row.RatioNaive, note)
			report.Rows = append(report.Rows, row)
		}
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

// scaleCase multiplies the batch axis of c by num/den (at least 1): the
// expanded axis of a broadcast case, otherwise the outermost source axis. A
// zero-copy case keeps its size: it measures the cost of a call.
func scaleCase(c benchmarks.Case, num, den int) benchmarks.Case {
	if c.ZeroCopy || num == den {
		return c
	}
	if c.Expand != nil {
		c.Expand = append([]int{}, c.Expand...) // c's slices may be shared
		c.Expand[0] = max(1, c.Expand[0]*num/den)
		return c
	}
	c.Shape = append([]int{}, c.Shape...)
	c.Shape[0] = max(1, c.Shape[0]*num/den)
	return c
}

// benchCase times case c in element type T with stridekit (benchmarks.Run),
// copy() of the same elements and benchmarks.NaiveCopy, as the benchmarks
// package's own benchmark does.
func benchCase[T reshape.Element](c benchmarks.Case, budget time.Duration) (benchRow, error) {
	src, err := benchmarks.Build[T](c)
	if err != nil {
		return benchRow{}, err
	}
	n := c.Elements()
	dst := make([]T, n)
	from := make([]T, n)
	for i := range from {
		from[i] = T(i%251 + 1) // touch every page, as the benchmark does
	}
	var runErr error
	lib := timeIt(budget, func() {
		if _, err := benchmarks.Run(c, dst, src); err != nil {
			runErr = err
		}
	})
	if runErr != nil {
		return benchRow{}, runErr
	}
	ceiling := timeIt(budget, func() { copy(dst, from) })
	naive := timeIt(budget, func() { benchmarks.NaiveCopy(dst, src) })

	size := int(unsafe.Sizeof(*new(T)))
	bytes := c.Bytes(size)
	gbps := func(d time.Duration) float64 { return float64(bytes) / d.Seconds() / 1e9 }
	return benchRow{
		Case:       c.Name,
		Shape:      c.ViewShape(),
		MiB:        float64(n*size) / (1 << 20),
		Bytes:      bytes,
		NsPerOp:    float64(lib.Nanoseconds()),
		GBps:       gbps(lib),
		CopyGBps:   gbps(ceiling),
		NaiveGBps:  gbps(naive),
		RatioCopy:  ceiling.Seconds() / lib.Seconds(),
		RatioNaive: naive.Seconds() / lib.Seconds(),
		ZeroCopy:   c.ZeroCopy,
	}, nil
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

// writePlot draws the table as grouped bars, GB/s of stridekit, copy() and
// the generic loop per case and dtype, and writes it atomically as PNG.
func writePlot(path string, r benchReport) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("stridekit bench, size %s (%s/%s, %d CPUs)", r.Size, r.GOOS, r.GOARCH, r.CPUs)
	p.Y.Label.Text = "GB/s (result read + written)"
	var labels []string
	var lib, ceiling, naive plotter.Values
	for _, row := range r.Rows {
		if row.ZeroCopy {
			continue // no bytes move: its GB/s would dwarf the others
		}
		dt := map[string]string{"float32": "f32", "bfloat16": "bf16"}[row.DType]
		labels = append(labels, row.Case+"\n"+dt)
		lib = append(lib, row.GBps)
		ceiling = append(ceiling, row.CopyGBps)
		naive = append(naive, row.NaiveGBps)
	}
	w := vg.Points(9)
	for i, s := range []struct {
		name string
		v    plotter.Values
		c    color.RGBA
	}{
		{"copy()", ceiling, color.RGBA{R: 160, G: 160, B: 160, A: 255}},
		{"stridekit", lib, color.RGBA{R: 30, G: 100, B: 200, A: 255}},
		{"generic loop", naive, color.RGBA{R: 220, G: 120, B: 40, A: 255}},
	} {
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
