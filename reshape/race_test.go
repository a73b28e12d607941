//go:build race

package reshape

// raceEnabled reports a -race build, whose sync.Pool drops items at random:
// allocation counts of pooled paths are not pinned there.
const raceEnabled = true
