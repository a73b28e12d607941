//go:build !race

package reshape

// raceEnabled reports a -race build (see race_test.go).
const raceEnabled = false
