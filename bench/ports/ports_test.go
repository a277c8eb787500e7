package main

import "testing"

// TestLoops runs every loop a few times: each must return, write nothing but the
// kernels' output area (bytes 1536 to 2047), and the names the report prints must
// be unique.
func TestLoops(t *testing.T) {
	if len(tests) == 0 || !hasAVX512() {
		t.Skip("amd64 with AVX-512 only")
	}
	buf := make([]float32, bufLen)
	for i := range buf {
		buf[i] = float32(i%7 + 1) // a store outside the output area changes some
	}
	seen := map[string]bool{}
	for _, l := range tests {
		if seen[l.name] {
			t.Errorf("two loops named %s", l.name)
		}
		seen[l.name] = true
		if l.per <= 0 {
			t.Errorf("%s: %d units per run", l.name, l.per)
		}
		l.f(3, &buf[0])
	}
	for i, v := range buf {
		if v != float32(i%7+1) && (i < 1536/4 || i >= 2048/4) {
			t.Fatalf("buf[%d] = %v: a loop wrote to its data", i, v)
		}
	}
}
