package main

import (
	"math/big"
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
