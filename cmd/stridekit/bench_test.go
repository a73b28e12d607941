package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/benchmarks"
	"github.com/stridekit/stridekit/reshape"
)

// TestBench runs the whole case set at -size small with a tiny time budget,
// with one worker and with two, and checks the table, the JSON, the PNG and
// that reshape's worker settings are restored.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark case once or twice")
	}
	for _, workers := range []string{"1", "2"} {
		t.Run("workers="+workers, func(t *testing.T) {
			dir := t.TempDir()
			js, png := filepath.Join(dir, "b.json"), filepath.Join(dir, "b.png")
			prevW, prevT := reshape.SetMaxWorkers(5), reshape.SetParallelThreshold(12345)
			r := runWith(&cli{benchBudget: time.Millisecond}, "bench", "-size", "small", "-workers", workers, "-json", js, "-plot", png)
			assert.Equal(t, 5, reshape.SetMaxWorkers(prevW), "SetMaxWorkers not restored")
			assert.Equal(t, 12345, reshape.SetParallelThreshold(prevT), "SetParallelThreshold not restored")
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr)
			table, note, _ := strings.Cut(strings.TrimSpace(r.stdout), "\n\nnote: ")
			lines := strings.Split(table, "\n")
			cases := benchmarks.Cases()
			require.Len(t, lines, 3+2*len(cases)+2, r.stdout) // and two bfloat16 → float32 conversions
			if note != "" {                                   // 1 ms per implementation is noisy
				assert.Contains(t, note, "vary by more than 25% between rounds")
			}
			assert.True(t, strings.HasPrefix(lines[len(lines)-2], "heads→f32 "), lines[len(lines)-2])
			assert.True(t, strings.HasPrefix(lines[len(lines)-1], "transpose2d→f32 "), lines[len(lines)-1])
			assert.Contains(t, lines[0], "size small (1MiB)")
			assert.Contains(t, lines[0], map[string]string{"1": "1 worker,", "2": "2 workers,"}[workers])
			assert.Contains(t, lines[0], "median of 5 rounds")
			for _, col := range []string{"SIZE", "GB/s", "×ceiling", "spread", "×copy()", "×loop"} {
				assert.Contains(t, lines[2], col)
			}
			for i, c := range cases {
				for k, dt := range []string{"float32", "bfloat16"} {
					line := lines[3+2*i+k]
					assert.True(t, strings.HasPrefix(line, c.Name+" "), line)
					assert.Contains(t, line, dt)
					if c.ZeroCopy { // its time per call, no size or throughput
						assert.Regexp(t, `zero-copy +\d+ ns/call`, line)
						assert.NotContains(t, line, "MiB")
					} else {
						assert.Regexp(t, `\d+\.\d (MiB|KiB) +\d+\.\d\d +\d+\.\d\d +\d+% +\d+\.\d\d +\d+\.\d$`, line)
					}
				}
			}

			b, err := os.ReadFile(js)
			require.NoError(t, err)
			var rep benchReport
			require.NoError(t, json.Unmarshal(b, &rep))
			assert.Equal(t, "small", rep.Size)
			assert.Equal(t, workers, strconv.Itoa(rep.Workers))
			assert.Equal(t, 5, rep.Rounds)
			require.Len(t, rep.Rows, 2*len(cases)+2)
			for _, row := range rep.Rows {
				rt := row.Rounds
				require.Len(t, rt.Stridekit, 5, row.Case)
				require.Len(t, rt.Copy, 5, row.Case)
				require.Len(t, rt.Cached, 5, row.Case)
				// Every figure is the median over the rounds of that
				// round's own figure.
				ratios := make([]float64, 5)
				for i := range ratios {
					ratios[i] = min(rt.Copy[i], rt.Cached[i]) / rt.Stridekit[i]
				}
				assert.Equal(t, median(rt.Stridekit), row.NsPerOp, row.Case)
				assert.InDelta(t, median(ratios), row.RatioCeil, 1e-12, row.Case)
				assert.LessOrEqual(t, row.RatioCeilMin, row.RatioCeil, row.Case)
				assert.GreaterOrEqual(t, row.RatioCeilMax, row.RatioCeil, row.Case)
				assert.InDelta(t, float64(row.Bytes)/row.NsPerOp, row.GBps, 1e-9, row.Case)
				assert.Greater(t, row.CopyGBps, 0.0, row.Case)
				assert.Greater(t, row.CeilGBps, 0.0, row.Case)
				if strings.Contains(row.Case, "→") { // conversions have no loop
					assert.Empty(t, rt.Loop, row.Case)
				} else {
					require.Len(t, rt.Loop, 5, row.Case)
					assert.Greater(t, row.LoopGBps, 0.0, row.Case)
					assert.Greater(t, row.LoopSpeedup, 0.0, row.Case)
					assert.LessOrEqual(t, row.LoopCeilMin, row.LoopCeil, row.Case)
				}
				if !row.ZeroCopy && row.Case != "small-permuted" {
					assert.InDelta(t, 1, row.MiB, 0.04, row.Case) // sized to 1 MiB
				}
			}
			b, err = os.ReadFile(png)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n")))
		})
	}
}

// TestBenchUsage checks the flags bench refuses.
func TestBenchUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-size", "huge"}, `-size "huge": want tiny, small, cached, edge, medium or large`},
		{[]string{"-workers", "0"}, "-workers 0: want 1 or more"},
		{[]string{"-workers", "-2"}, "-workers -2: want 1 or more"},
		{[]string{"-rounds", "4"}, "-rounds 4: want 5 or more"},
		{[]string{"-plot", "x.jpg"}, "must end in .png"},
		{[]string{"-plot", "x.png/chart"}, "must end in .png"},
		{[]string{"-plot", "png"}, "must end in .png"},
		{[]string{"now"}, `unexpected argument "now"`},
	} {
		r := runCmd(append([]string{"bench"}, c.args...)...)
		assert.Equal(t, 2, r.code, "%v", c.args)
		assert.Contains(t, r.stderr, c.msg, "%v", c.args)
		assert.Contains(t, r.stderr, "usage: stridekit bench", "%v", c.args)
	}
}

// TestBenchSizes checks -size names the sizes of package benchmarks.
func TestBenchSizes(t *testing.T) {
	assert.Equal(t, map[string]benchmarks.Size{
		"tiny":   benchmarks.Tiny,
		"small":  benchmarks.Small,
		"cached": benchmarks.Cached,
		"edge":   benchmarks.Edge,
		"medium": benchmarks.Medium,
		"large":  benchmarks.Large,
	}, benchSizes)
	assert.Len(t, benchSizes, len(benchmarks.Sizes()), "every size of package benchmarks has a name")
	assert.Equal(t, int64(1<<20), benchSizes["small"].Bytes)
	assert.Equal(t, int64(1<<30), benchSizes["large"].Bytes)
}

// TestInterleave checks the timing schedule: every contender is calibrated,
// then runs one turn per round, the first of each round rotating, with its
// setup before each turn; each gets one time per round.
func TestInterleave(t *testing.T) {
	var log []string
	mk := func(name string) *contender {
		return &contender{setup: func() { log = append(log, name+".setup") }, f: func() { log = append(log, name) }}
	}
	a, b, c := mk("a"), mk("b"), mk("c")
	interleave(benchTiming{rounds: 5, budget: 5 * time.Nanosecond}, a, b, c)
	for _, x := range []*contender{a, b, c} {
		assert.Len(t, x.times, 5)
		for _, d := range x.times {
			assert.Positive(t, d)
		}
	}
	// After calibration, the rounds: each turn is a setup and n calls.
	var firsts []string
	turns := log[len(log)-(3*5*(1+a.n)):]
	for r := range 5 {
		round := turns[r*3*(1+a.n) : (r+1)*3*(1+a.n)]
		firsts = append(firsts, round[0])
		seen := map[string]int{}
		for _, e := range round {
			seen[e]++
		}
		assert.Equal(t, map[string]int{"a.setup": 1, "b.setup": 1, "c.setup": 1, "a": a.n, "b": b.n, "c": c.n}, seen, "round %d", r)
	}
	assert.Equal(t, []string{"a.setup", "b.setup", "c.setup", "a.setup", "b.setup"}, firsts)
}

// TestMedian checks the statistics of the rows.
func TestMedian(t *testing.T) {
	assert.Equal(t, 3.0, median([]float64{5, 1, 3}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
	xs := []float64{9, 1, 5}
	median(xs)
	assert.Equal(t, []float64{9, 1, 5}, xs, "median sorts a copy")
	assert.InDelta(t, 0.5, benchRow{RatioCeil: 0.8, RatioCeilMin: 0.6, RatioCeilMax: 1.0}.Spread(), 1e-12)
	assert.Equal(t, 1, noisyRows([]benchRow{
		{RatioCeil: 0.8, RatioCeilMin: 0.6, RatioCeilMax: 1.0},             // 50%
		{RatioCeil: 1, RatioCeilMin: 0.9, RatioCeilMax: 1.1},               // 20%
		{ZeroCopy: true, RatioCeil: 1, RatioCeilMin: 0.1, RatioCeilMax: 9}, // no ratio to trust
	}))
}

// TestFormatRow checks the zero-copy line and the size units.
func TestFormatRow(t *testing.T) {
	line := formatRow(benchRow{Case: "small", DType: "float32", ZeroCopy: true, NsPerOp: 41.3, GBps: 99})
	assert.Contains(t, line, "zero-copy 41 ns/call")
	assert.NotContains(t, line, "GB/s")
	assert.NotContains(t, line, "99")
	assert.Equal(t, "3.5 KiB", formatSize(3600.0/(1<<20)))
	assert.Equal(t, "64.0 MiB", formatSize(64))
}

// TestRatioTicks checks the labels of the log axis: 1, 2 and 5 times the
// powers of ten inside the range, every one in order.
func TestRatioTicks(t *testing.T) {
	var labels []string
	prev := 0.0
	for _, tk := range (ratioTicks{}).Ticks(0.015, 3) {
		assert.Greater(t, tk.Value, prev)
		assert.GreaterOrEqual(t, tk.Value, 0.015)
		assert.LessOrEqual(t, tk.Value, 3.0)
		prev = tk.Value
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	assert.Equal(t, []string{"0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"}, labels)
}

// TestPlotWithoutLoop draws the chart of a -size large run, which has no
// loop figures, and of one with no cases besides the zero-copy one.
func TestPlotWithoutLoop(t *testing.T) {
	dir := t.TempDir()
	rep := benchReport{Size: "large", Workers: 2, Rounds: 5, CPUs: 2, Rows: []benchRow{
		{Case: "heads", DType: "float32", RatioCeil: 0.9, RatioCeilMin: 0.8, RatioCeilMax: 1},
		{Case: "small", DType: "float32", ZeroCopy: true, NsPerOp: 40},
		{Case: "heads→f32", DType: "bfloat16", RatioCeil: 0.5, RatioCeilMin: 0.4, RatioCeilMax: 0.6},
	}}
	for _, name := range []string{"a.png", "b.png"} {
		path := filepath.Join(dir, name)
		require.NoError(t, writePlot(path, rep))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n")))
		rep.Rows = rep.Rows[1:2]
	}
}
