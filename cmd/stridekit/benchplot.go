package main

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/stridekit/stridekit/tensorfile"
)

// The colours of the chart.
var (
	colorLib     = color.RGBA{R: 30, G: 100, B: 200, A: 255}
	colorLoop    = color.RGBA{R: 220, G: 110, B: 30, A: 255}
	colorCeiling = color.RGBA{R: 120, G: 120, B: 120, A: 255}
)

// ratioPoints are the dots of one implementation in one panel: a median x
// per case at height y, with the range lo..hi over the rounds.
type ratioPoints struct {
	x, y, lo, hi []float64
}

func (p *ratioPoints) add(x, y, lo, hi float64) {
	p.x, p.y, p.lo, p.hi = append(p.x, x), append(p.y, y), append(p.lo, lo), append(p.hi, hi)
}

// Len, XY and XError make ratioPoints a plotter.XYer and plotter.XErrorer.
func (p *ratioPoints) Len() int                         { return len(p.x) }
func (p *ratioPoints) XY(i int) (float64, float64)      { return p.x[i], p.y[i] }
func (p *ratioPoints) XError(i int) (low, high float64) { return p.x[i] - p.lo[i], p.hi[i] - p.x[i] }

// panelGroups are the dtypes of the chart, one panel each; the bfloat16
// panel also holds the bfloat16 → float32 conversions.
var panelGroups = []string{"float32", "bfloat16"}

// writePlot draws the ratio to the ceiling of every case, stridekit's and
// the plain loop's, as dots with the range over the rounds, on a log axis
// (the two differ by up to 100×), one panel per dtype, and writes it
// atomically as PNG. The title and the legend sit above the panels, clear
// of every dot; the zero-copy case, which moves nothing, is a line of text.
func writePlot(path string, r benchReport) error {
	lo, hi := 0.5, 1.5 // the range of the x axis: always 1 (the ceiling) and some room
	hasLoop := false
	var notes []string
	for _, row := range r.Rows {
		if row.ZeroCopy {
			notes = append(notes, fmt.Sprintf("%s %s is zero-copy: %.0f ns/call, not shown", row.Case, row.DType, row.NsPerOp))
			continue
		}
		lo, hi = math.Min(lo, row.RatioCeilMin), math.Max(hi, row.RatioCeilMax)
		if row.LoopCeil > 0 {
			hasLoop = true
			lo, hi = math.Min(lo, row.LoopCeilMin), math.Max(hi, row.LoopCeilMax)
		}
	}
	lo, hi = lo/1.4, hi*1.4

	var panels [][]*plot.Plot
	rows := 0
	for _, group := range panelGroups {
		p, n, err := ratioPanel(r, group, lo, hi)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		if n == 0 {
			continue
		}
		panels = append(panels, []*plot.Plot{p})
		rows = max(rows, n)
	}

	const header = 1.25 * vg.Inch
	width := 9 * vg.Inch
	panelH := vg.Length(rows)*0.27*vg.Inch + 0.9*vg.Inch
	height := header + vg.Length(len(panels))*panelH
	img := vgimg.PngCanvas{Canvas: vgimg.New(width, height)}
	dc := draw.New(img)

	// The header: title lines on the left, the legend on the right.
	title := plot.New().Title.TextStyle
	title.XAlign, title.YAlign = draw.XLeft, draw.YTop
	small := plot.New().Legend.TextStyle
	small.XAlign, small.YAlign = draw.XLeft, draw.YTop
	x0, y := dc.Min.X+0.2*vg.Inch, dc.Max.Y-0.15*vg.Inch
	dc.FillText(title, vg.Point{X: x0, Y: y}, "stridekit bench: ratio to the ceiling, higher is faster")
	lines := []string{
		fmt.Sprintf("size %s, %s, median of %d rounds (bar: min to max), %s/%s, %s",
			r.Size, countOf(r.Workers, "worker"), r.Rounds, r.GOOS, r.GOARCH, countOf(r.CPUs, "CPU")),
		"ceiling = the faster of copy() and a cached copy of the same bytes, in the same round",
	}
	lines = append(lines, notes...)
	y -= 0.3 * vg.Inch
	for _, l := range lines {
		dc.FillText(small, vg.Point{X: x0, Y: y}, l)
		y -= 0.18 * vg.Inch
	}
	legend, err := chartLegend(r.Workers, hasLoop)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	box := draw.Crop(dc, width-2.9*vg.Inch, -0.2*vg.Inch, height-header+0.1*vg.Inch, -0.15*vg.Inch)
	legend.Draw(box)

	body := draw.Crop(dc, 0, 0, 0, -header)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadX: 0.2 * vg.Inch, PadY: 0.25 * vg.Inch,
		PadLeft: 0.1 * vg.Inch, PadRight: 0.3 * vg.Inch, PadBottom: 0.1 * vg.Inch}
	canvases := plot.Align(panels, tiles, body)
	for i, row := range panels {
		row[0].Draw(canvases[i][0])
	}
	return tensorfile.WriteFile(path, func(out io.Writer) error {
		_, err := img.WriteTo(out)
		return err
	})
}

// ratioPanel is the panel of one dtype, with the number of cases in it.
func ratioPanel(r benchReport, dtype string, lo, hi float64) (*plot.Plot, int, error) {
	var names []string
	var lib, loop ratioPoints
	var cases []benchRow
	for _, row := range r.Rows {
		if row.DType == dtype && !row.ZeroCopy {
			cases = append(cases, row)
		}
	}
	n := len(cases)
	for i, row := range cases {
		y := float64(n - 1 - i) // the first case at the top
		names = append(names, row.Case)
		lib.add(row.RatioCeil, y+0.12, row.RatioCeilMin, row.RatioCeilMax)
		if row.LoopCeil > 0 {
			loop.add(row.LoopCeil, y-0.12, row.LoopCeilMin, row.LoopCeilMax)
		}
	}
	if n == 0 {
		return nil, 0, nil
	}
	// NominalY labels 0..n-1 from the bottom.
	labels := make([]string, n)
	for i, name := range names {
		labels[n-1-i] = name
	}

	p := plot.New()
	p.Title.Text = dtype
	if dtype == "bfloat16" && hasConversions(cases) {
		p.Title.Text = "bfloat16 (→f32: converted to float32 while reshaping)"
	}
	p.X.Label.Text = "ratio to the ceiling (log scale; 1 = as fast as a contiguous copy)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = ratioTicks{}
	p.X.Min, p.X.Max = lo, hi
	p.NominalY(labels...)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.Add(plotter.NewGrid())

	ceiling, err := plotter.NewLine(plotter.XYs{{X: 1, Y: p.Y.Min}, {X: 1, Y: p.Y.Max}})
	if err != nil {
		return nil, 0, err
	}
	ceiling.Color = colorCeiling
	ceiling.Width = vg.Points(1.5)
	ceiling.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(ceiling)
	for _, s := range []struct {
		pts   *ratioPoints
		c     color.RGBA
		shape draw.GlyphDrawer
	}{
		{&loop, colorLoop, draw.TriangleGlyph{}},
		{&lib, colorLib, draw.CircleGlyph{}},
	} {
		if s.pts.Len() == 0 {
			continue
		}
		bars, err := plotter.NewXErrorBars(s.pts)
		if err != nil {
			return nil, 0, err
		}
		bars.Color = s.c
		bars.Width = vg.Points(1.2)
		bars.CapWidth = vg.Points(5)
		dots, err := plotter.NewScatter(s.pts)
		if err != nil {
			return nil, 0, err
		}
		dots.GlyphStyle = draw.GlyphStyle{Color: s.c, Radius: vg.Points(3.5), Shape: s.shape}
		p.Add(bars, dots)
	}
	return p, n, nil
}

// hasConversions reports whether rows hold a conversion case.
func hasConversions(rows []benchRow) bool {
	for _, r := range rows {
		if strings.HasSuffix(r.Case, "→f32") {
			return true
		}
	}
	return false
}

// chartLegend is the legend of the chart: the dots and the ceiling line.
func chartLegend(workers int, loop bool) (plot.Legend, error) {
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.Padding = vg.Points(3)
	dot := func(c color.RGBA, shape draw.GlyphDrawer) (*plotter.Scatter, error) {
		s, err := plotter.NewScatter(plotter.XYs{{}})
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3.5), Shape: shape}
		return s, nil
	}
	lib, err := dot(colorLib, draw.CircleGlyph{})
	if err != nil {
		return l, err
	}
	l.Add("stridekit, "+countOf(workers, "worker"), lib)
	if loop {
		lp, err := dot(colorLoop, draw.TriangleGlyph{})
		if err != nil {
			return l, err
		}
		l.Add("plain Go loop, 1 goroutine", lp)
	}
	line, err := plotter.NewLine(plotter.XYs{{}})
	if err != nil {
		return l, err
	}
	line.Color, line.Width, line.Dashes = colorCeiling, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(3)}
	l.Add("ceiling", line)
	return l, nil
}

// ratioTicks labels a log axis of ratios at 1, 2 and 5 times the powers of
// ten, with unlabelled ticks between.
type ratioTicks struct{}

// Ticks implements plot.Ticker.
func (ratioTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
