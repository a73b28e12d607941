//go:build unix

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/tensorfile"
)

// TestInputShrinks truncates the input once the output's header is written,
// as numpy.save rewriting the input in place does: the run must fail with
// one line (exit 1) naming the changed file, not die of SIGBUS, and leave
// no temporary file and the existing output as it was.
func TestInputShrinks(t *testing.T) {
	for _, args := range [][]string{
		{"-permute", "2,1,0"},                   // a copy, block by block
		{},                                      // the map's bytes, written as they are
		{"-permute", "2,1,0", "-dtype", "int8"}, // converting
	} {
		dir := t.TempDir()
		in := writeNPY(t, dir, "in.npy", tensorfile.Float32, []int{64, 32, 16}, false)
		out := filepath.Join(dir, "out.npy")
		require.NoError(t, os.WriteFile(out, []byte("old contents"), 0o644))
		c := &cli{ctx: context.Background(), wrapOutput: func(w io.Writer) io.Writer {
			return &truncateAfter{w: w, path: in, t: t}
		}}
		r := runWith(c, append([]string{"reshape", "-in", in, "-out", out}, args...)...)
		assert.Equal(t, 1, r.code, "%v: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "file changed while in use", args)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), args)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, "old contents", string(b), args)
		assert.Equal(t, []string{"in.npy", "out.npy"}, files(t, dir), args)
	}
}

// truncateAfter passes writes on and truncates the file at path to 128
// bytes after the first one (the output's header).
type truncateAfter struct {
	w    io.Writer
	path string
	t    *testing.T
	done bool
}

func (w *truncateAfter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	if !w.done {
		w.done = true
		require.NoError(w.t, os.Truncate(w.path, 128))
	}
	return n, err
}
