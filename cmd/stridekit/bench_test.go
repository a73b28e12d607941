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
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			cases := benchmarks.Cases()
			require.Len(t, lines, 3+2*len(cases)+2, r.stdout) // and two bfloat16 → float32 conversions
			assert.True(t, strings.HasPrefix(lines[len(lines)-2], "heads→f32 "), lines[len(lines)-2])
			assert.True(t, strings.HasPrefix(lines[len(lines)-1], "transpose2d→f32 "), lines[len(lines)-1])
			assert.Contains(t, lines[0], "size small (1MiB)")
			assert.Contains(t, lines[0], workers+" worker")
			assert.Contains(t, lines[2], "GB/s")
			assert.Contains(t, lines[2], "×ceiling")
			assert.Contains(t, lines[2], "×copy()")
			assert.Contains(t, lines[2], "×generic")
			for i, c := range cases {
				assert.True(t, strings.HasPrefix(lines[3+2*i], c.Name+" "), lines[3+2*i])
				assert.Contains(t, lines[3+2*i], "float32")
				assert.Contains(t, lines[4+2*i], "bfloat16")
			}

			b, err := os.ReadFile(js)
			require.NoError(t, err)
			var rep benchReport
			require.NoError(t, json.Unmarshal(b, &rep))
			assert.Equal(t, "small", rep.Size)
			assert.Equal(t, workers, strconv.Itoa(rep.Workers))
			require.Len(t, rep.Rows, 2*len(cases)+2)
			for _, row := range rep.Rows {
				assert.Greater(t, row.GBps, 0.0, row.Case)
				assert.Greater(t, row.CopyGBps, 0.0, row.Case)
				assert.GreaterOrEqual(t, row.CeilGBps, row.CopyGBps, row.Case)
				assert.InDelta(t, row.RatioCeil, row.RatioCopy*row.CopyGBps/row.CeilGBps, 1e-9*row.RatioCeil, row.Case)
				if !strings.Contains(row.Case, "→") { // conversions have no generic-loop figure
					assert.Greater(t, row.NaiveGBps, 0.0, row.Case)
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
