package main

import "testing"

// TestLoops runs every loop a few times: each must return (its registers and its
// cache line are its own), and the names the report prints must be unique.
func TestLoops(t *testing.T) {
	if len(tests) == 0 || !hasAVX512() {
		t.Skip("amd64 with AVX-512 only")
	}
	buf := make([]float32, 64)
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
		if v != 0 {
			t.Fatalf("buf[%d] = %v: a loop wrote to its data", i, v)
		}
	}
}
