package smoothl1

import "testing"

// TestCPUFamily decodes CPUID leaf 1 signatures of known CPUs.
func TestCPUFamily(t *testing.T) {
	for _, c := range []struct {
		name string
		sig  uint32
		want uint32
	}{
		{"AMD Zen 4 (EPYC 9004)", 0x00A10F11, 0x19},
		{"AMD Zen 3 (EPYC 7003)", 0x00A00F11, 0x19},
		{"AMD Zen 5 (EPYC 9005)", 0x00B00F21, 0x1A},
		{"AMD Zen 2 (EPYC 7002)", 0x00830F10, 0x17},
		{"Intel Sapphire Rapids", 0x000806F8, 6},
		{"Intel Pentium 4", 0x00000F29, 0xF},
	} {
		if got := cpuFamily(c.sig); got != c.want {
			t.Errorf("%s: cpuFamily(%#08x) = %#x, want %#x", c.name, c.sig, got, c.want)
		}
	}
}

// TestPrefetchChoice checks the rule (the loop copy off on AMD family 0x19 only)
// and the SMOOTHL1_PREFETCH override.
func TestPrefetchChoice(t *testing.T) {
	const zen4, zen5, intel = 0x00A10F11, 0x00B00F21, 0x000806F8
	for _, c := range []struct {
		vendor string
		sig    uint32
		env    string
		off    bool
		bad    bool
	}{
		{"AuthenticAMD", zen4, "", true, false},
		{"AuthenticAMD", zen5, "", false, false},
		{"GenuineIntel", intel, "", false, false},
		{"GenuineIntel", zen4, "", false, false}, // family 0x19 means Zen only on AMD
		{"AuthenticAMD", zen4, "on", false, false},
		{"AuthenticAMD", zen5, "off", true, false},
		{"GenuineIntel", intel, "off", true, false},
		{"AuthenticAMD", zen4, "yes", true, true},
		{"AuthenticAMD", zen5, "OFF", false, true},
	} {
		off, err := prefetchOff(c.vendor, c.sig, c.env)
		if off != c.off || (err != nil) != c.bad {
			t.Errorf("prefetchOff(%q, %#08x, %q) = %v, %v; want off=%v, error %v", c.vendor, c.sig, c.env, off, err, c.off, c.bad)
		}
	}
}
