package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a progress bar of a conversion on stderr, when stderr is a
// terminal and the conversion is large; otherwise it only checks for
// cancellation. It counts the bytes copied and then the bytes written, so
// the bar runs once from 0 to 100% over both.
type progress struct {
	c     *cli
	show  bool
	total int64 // bytes to copy plus bytes to write
	base  int64 // bytes of earlier arrays and phases
	cur   int64 // bytes of the current phase
	last  time.Time
	drawn bool
}

// newProgress returns the progress of a conversion of total input bytes.
func (c *cli) newProgress(total int64) *progress {
	return &progress{c: c, show: c.terminal && total > c.progressMin, total: 2 * total}
}

// copying is the Progress of tensorfile.Reshape for one array.
func (p *progress) copying(done, _ int64) error {
	p.cur = done
	return p.tick()
}

// finishArray moves past an array of n bytes, copied or aliased.
func (p *progress) finishArray(n int64) {
	p.base += n
	p.cur = 0
	_ = p.tick()
}

// wrote counts n more bytes written.
func (p *progress) wrote(n int) error {
	p.cur += int64(n)
	return p.tick()
}

// tick checks for cancellation and redraws the bar at most 10 times a
// second.
func (p *progress) tick() error {
	if err := p.c.ctx.Err(); err != nil {
		return errInterrupted
	}
	if !p.show {
		return nil
	}
	now := time.Now()
	if p.drawn && now.Sub(p.last) < 100*time.Millisecond {
		return nil
	}
	p.last, p.drawn = now, true
	p.draw()
	return nil
}

func (p *progress) draw() {
	const width = 40
	done := min(p.base+p.cur, p.total)
	frac := 1.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	}
	n := int(frac * width)
	fmt.Fprintf(p.c.stderr, "\r[%s%s] %3.0f%% of %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac, mib(p.total/2))
}

// done draws the full bar and ends its line.
func (p *progress) done() {
	if p.show {
		p.base, p.cur = p.total, 0
		p.draw()
		fmt.Fprintln(p.c.stderr)
	}
}

// abort ends the bar's line so that the error starts on its own.
func (p *progress) abort() {
	if p.show && p.drawn {
		fmt.Fprintln(p.c.stderr)
	}
}

// chunkWriter passes writes on in pieces of at most chunk bytes, so that a
// large tensor written in one call still updates the bar and can be
// interrupted.
type chunkWriter struct {
	w   io.Writer
	bar *progress
}

const chunk = 4 << 20

func (cw *chunkWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		if err := cw.bar.tick(); err != nil {
			return written, err
		}
		n, err := cw.w.Write(b[:min(len(b), chunk)])
		written += n
		_ = cw.bar.wrote(n)
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}
