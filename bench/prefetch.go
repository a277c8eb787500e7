package main

import (
	"fmt"
	"strings"

	"github.com/gokernels/smoothl1"
)

// An implementation name may carry a prefetch variant, "avx512/prefetch=on" or
// "avx512/prefetch=off": that implementation with the AVX-512 kernels' prefetching
// loop copy forced on or off (generated.NoPrefetch; docs/tuning.md), so that one
// run compares the two on this CPU, interleaved round by round like any two
// implementations. Without the suffix the package's own choice for this CPU holds.

// splitPrefetch returns the implementation of impl and its prefetch variant ("",
// "on" or "off").
func splitPrefetch(impl string) (base, pf string, err error) {
	base, v, ok := strings.Cut(impl, "/prefetch=")
	if !ok {
		return impl, "", nil
	}
	if v != "on" && v != "off" {
		return "", "", fmt.Errorf("%q: the prefetch variant is on or off", impl)
	}
	return base, v, nil
}

// setImpl forces impl, with its prefetch variant, process-wide; "" restores
// automatic selection and this CPU's prefetch choice.
func setImpl(impl string) error {
	base, pf, err := splitPrefetch(impl)
	if err != nil {
		return err
	}
	if err := smoothl1.SetImplementation(base); err != nil {
		return err
	}
	return setPrefetch(pf)
}
