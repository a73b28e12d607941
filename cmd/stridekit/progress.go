package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a progress bar of a conversion on stderr, when stderr is a
// terminal and the conversion is large; otherwise it only checks for
// cancellation. It counts the bytes written to the output, which are made
// (copied from the input's view) as they are written.
type progress struct {
	c     *cli
	show  bool
	total int64 // bytes of the output's data
	done  int64 // bytes written so far, headers included
	start time.Time
	last  time.Time
	drawn bool
}

// newProgress returns the progress of a conversion of total bytes.
func (c *cli) newProgress(total int64) *progress {
	return &progress{c: c, show: c.terminal && total > c.progressMin, total: total, start: time.Now()}
}

// wrote counts n more bytes written.
func (p *progress) wrote(n int) error {
	p.done += int64(n)
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
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	n := int(frac * width)
	line := fmt.Sprintf("\r[%s%s] %3.0f%% of %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac, mib(p.total))
	if el := time.Since(p.start).Seconds(); el > 0.2 && p.done > 0 {
		rate := float64(p.done) / el
		line += fmt.Sprintf(", %s done, %s/s", mib(p.done), mib(int64(rate)))
		if left := p.total - p.done; left > 0 {
			line += ", ETA " + time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second).String()
		}
	}
	fmt.Fprint(p.c.stderr, line+"\x1b[K") // clear what a longer line left
}

// finish draws the full bar and ends its line.
func (p *progress) finish() {
	if p.show {
		p.done = p.total
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
