package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/benchmarks"
)

// TestBench runs the whole case set at -size small with a tiny time budget
// and checks the table, the JSON and the PNG.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark case once or twice")
	}
	dir := t.TempDir()
	js, png := filepath.Join(dir, "b.json"), filepath.Join(dir, "b.png")
	r := runWith(&cli{benchBudget: time.Millisecond}, "bench", "-size", "small", "-json", js, "-plot", png)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	cases := benchmarks.Cases()
	require.Len(t, lines, 3+2*len(cases), r.stdout)
	assert.Contains(t, lines[2], "GB/s")
	assert.Contains(t, lines[2], "×copy()")
	assert.Contains(t, lines[2], "×generic")
	for i, c := range cases {
		assert.True(t, strings.HasPrefix(lines[3+2*i], c.Name), lines[3+2*i])
		assert.Contains(t, lines[3+2*i], "float32")
		assert.Contains(t, lines[4+2*i], "bfloat16")
	}

	b, err := os.ReadFile(js)
	require.NoError(t, err)
	var rep benchReport
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.Equal(t, "small", rep.Size)
	require.Len(t, rep.Rows, 2*len(cases))
	for _, row := range rep.Rows {
		assert.Greater(t, row.GBps, 0.0, row.Case)
		assert.Greater(t, row.CopyGBps, 0.0, row.Case)
		assert.Greater(t, row.NaiveGBps, 0.0, row.Case)
	}
	b, err = os.ReadFile(png)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n")))
}

// TestBenchUsage checks the flags bench refuses.
func TestBenchUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-size", "huge"}, `-size "huge": want small, medium or large`},
		{[]string{"-workers", "4"}, "only 1 until the parallel copy path lands"},
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

// TestScaleCase checks the sizes scale the batch axis and keep the
// zero-copy case as it is.
func TestScaleCase(t *testing.T) {
	for _, c := range benchmarks.Cases() {
		small := scaleCase(c, 1, 8)
		large := scaleCase(c, 4, 1)
		if c.ZeroCopy {
			assert.Equal(t, c.Elements(), small.Elements())
			assert.Equal(t, c.Elements(), large.Elements())
			continue
		}
		assert.Less(t, small.Elements(), c.Elements(), c.Name)
		assert.Equal(t, 4*c.Elements(), large.Elements(), c.Name)
		_, err := benchmarks.Build[uint8](small)
		assert.NoError(t, err, c.Name)
	}
}
