// Package shapefmt formats the shapes, strides and axes that error messages
// of reshape and tensorfile print, cut so that a message stays one short
// line whatever a file's header claims.
package shapefmt

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxListed is how many values of a shape, strides or axes an error message
// lists: a file's header may give a tensor millions of axes.
const MaxListed = 16

// List formats v as fmt's %v does, [2 3 4], cut after MaxListed values:
// [1 1 1 ... 1] (3000000 values).
func List(v []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v[:min(len(v), MaxListed)] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(x))
	}
	if len(v) > MaxListed {
		fmt.Fprintf(&b, " ...] (%d values)", len(v))
		return b.String()
	}
	b.WriteByte(']')
	return b.String()
}
