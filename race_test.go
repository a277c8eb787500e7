//go:build race

package smoothl1

// raceEnabled reports a -race build: the race detector slows the portable kernels
// tenfold and more, so the thread tests then run fewer inputs.
const raceEnabled = true
