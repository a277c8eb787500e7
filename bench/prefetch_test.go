package main

import "testing"

// TestSplitPrefetch parses the prefetch variants of implementation names.
func TestSplitPrefetch(t *testing.T) {
	for _, c := range []struct{ in, base, pf string }{
		{"avx512", "avx512", ""},
		{"avx512/prefetch=on", "avx512", "on"},
		{"avx512/prefetch=off", "avx512", "off"},
		{"generic", "generic", ""},
	} {
		base, pf, err := splitPrefetch(c.in)
		if err != nil || base != c.base || pf != c.pf {
			t.Errorf("splitPrefetch(%q) = %q, %q, %v; want %q, %q", c.in, base, pf, err, c.base, c.pf)
		}
	}
	if _, _, err := splitPrefetch("avx512/prefetch=maybe"); err == nil {
		t.Error("splitPrefetch accepted prefetch=maybe")
	}
	if err := setImpl("nosuch/prefetch=on"); err == nil {
		t.Error("setImpl accepted an unknown implementation")
	}
	setImpl("")
}
