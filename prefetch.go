package smoothl1

import "fmt"

// The AVX-512 kernels have two prefetch profiles, chosen by generated.NoPrefetch.
// Unset (the far profile): the kernels with a prefetching copy of their first loop
// (gen/kernel's LoopCopy) or a prefetching loop (Clamped: also the row kernels of 2
// to 4 columns) prefetch 8 KiB (and 1 KiB) ahead. Set (the Zen 4 profile): they skip
// those prefetches, and those whose tuning says Short prefetch a short distance
// instead (the weighted sums and float64 Sum and SumAndGrad 512 bytes, from a copy of
// their loop, float64 WeightedSum, Sum and SumAndGrad also 4 KiB into L2; the row
// kernels 2 KiB, in their loop). The prefetches are hints, so the results are the
// same bits either way; only the speed differs, and it differs by microarchitecture
// (docs/tuning.md): the far prefetches gain on AMD Zen 5 and cost on Zen 4 (Sum and
// Mean 1.4x slower at 2^24 elements). At init the package takes the Zen 4 profile
// on AMD family 0x19 (Zen 4; Zen 3, also 0x19, has no AVX-512) and the far one
// elsewhere; SMOOTHL1_PREFETCH=on (far) or off (Zen 4) overrides the choice.

// cpuFamily returns the x86 family of a CPUID leaf 1 signature (EAX): the base
// family (bits 8-11), plus the extended family (bits 20-27) when the base is 0xF.
func cpuFamily(sig uint32) uint32 {
	fam := sig >> 8 & 0xF
	if fam == 0xF {
		fam += sig >> 20 & 0xFF
	}
	return fam
}

// prefetchOff reports whether the AVX-512 kernels should skip their prefetching
// loop copy on a CPU of this vendor (the 12 bytes of CPUID leaf 0) and signature,
// unless env (SMOOTHL1_PREFETCH) says otherwise: "on" or "off" force the choice, ""
// keeps it, anything else is reported in err and ignored.
func prefetchOff(vendor string, sig uint32, env string) (off bool, err error) {
	off = vendor == "AuthenticAMD" && cpuFamily(sig) == 0x19
	switch env {
	case "":
	case "on":
		off = false
	case "off":
		off = true
	default:
		err = fmt.Errorf("smoothl1: SMOOTHL1_PREFETCH=%q: want on or off", env)
	}
	return off, err
}
