package shapefmt

import (
	"strings"
	"testing"
)

func TestList(t *testing.T) {
	for _, c := range []struct {
		v    []int
		want string
	}{
		{nil, "[]"},
		{[]int{1, 2, 3}, "[1 2 3]"},
		{[]int{-1, 0, 1 << 40}, "[-1 0 1099511627776]"},
		{make([]int, MaxListed), "[" + strings.TrimSpace(strings.Repeat("0 ", MaxListed)) + "]"},
		{make([]int, 100000), "[" + strings.Repeat("0 ", MaxListed) + "...] (100000 values)"},
	} {
		if got := List(c.v); got != c.want {
			t.Errorf("List(%d values) = %q, want %q", len(c.v), got, c.want)
		}
	}
}
