//go:build !race

package smoothl1

// raceEnabled reports a -race build (see race_test.go).
const raceEnabled = false
