package smoothl1

import "fmt"

// The AVX-512 kernels skip their software prefetches when generated.NoPrefetch is
// set (those with a prefetching copy of their first loop, gen/kernel's LoopCopy, run
// the plain loop, or where their tuning says Short a copy that prefetches only 512
// bytes ahead; the Clamped ones a copy of their loop without). The prefetches are
// hints, so the results are the same bits either way; only the speed differs, and
// it differs by microarchitecture (docs/tuning.md): the copy gains on AMD Zen 5 and
// costs on Zen 4 (Sum and Mean 1.4x slower at 2^24 elements). At init the package
// turns the copy off on AMD family 0x19 (Zen 4; Zen 3, also 0x19, has no AVX-512)
// and leaves it on elsewhere; SMOOTHL1_PREFETCH=on or off overrides the choice.

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
