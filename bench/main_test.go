package main

import (
	"math/big"
	"runtime"
	"testing"

	"github.com/gokernels/smoothl1"
)

// TestVerify runs the report's self-check on every usable implementation: the
// report refuses to show a path that fails it.
func TestVerify(t *testing.T) {
	for _, impl := range smoothl1.Implementations() {
		if err := verify(impl); err != nil {
			t.Errorf("%s: %v", impl, err)
		}
	}
}

// TestUlpsTo checks the distance the self-check measures.
func TestUlpsTo(t *testing.T) {
	one := new(big.Rat).SetInt64(1)
	if u := ulpsTo(float32(1), one); u != 0 {
		t.Errorf("ulpsTo(1, 1) = %v", u)
	}
	if u := ulpsTo(float64(1+0x1p-50), one); u != 4 {
		t.Errorf("ulpsTo(1+2^-50, 1) = %v, want 4", u)
	}
}

// TestEmulated checks the emulation detection on the /proc/cpuinfo of each
// architecture: a binary is emulated when the file describes the other one.
func TestEmulated(t *testing.T) {
	x86 := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n"
	arm := "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n"
	var want map[string]bool // cpuinfo -> emulated
	switch runtime.GOARCH {
	case "amd64":
		want = map[string]bool{x86: false, arm: true}
	case "arm64":
		want = map[string]bool{x86: true, arm: false}
	default:
		t.Skip("no expectation for " + runtime.GOARCH)
	}
	for info, w := range want {
		if got := emulated(info); got != w {
			t.Errorf("emulated(%q) = %v on %s, want %v", info, got, runtime.GOARCH, w)
		}
	}
}

// TestPairedMedian checks the paired ratio on rounds whose best times disagree with
// the rounds' own ratios: the best of each is 1 and 2 (ratio 0.5), but in every
// round but one the second took 4x or 3x the first.
func TestPairedMedian(t *testing.T) {
	base := []float64{1, 1.5, 2, 0.5, 3}
	other := []float64{4, 6, 6, 2, 12}
	// Ratios base/other per round: 0.25, 0.25, 1/3, 0.25, 0.25.
	if got := pairedMedian(base, other); got != 0.25 {
		t.Errorf("odd count: %v, want 0.25", got)
	}
	if got := pairedMedian(base[:4], other[:4]); got != 0.25 {
		t.Errorf("even count: %v, want 0.25", got)
	}
	if got := pairedMedian([]float64{1, 3}, []float64{2, 2}); got != 1 {
		t.Errorf("even count: %v, want the mean of 0.5 and 1.5", got)
	}
}
