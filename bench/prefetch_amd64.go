//go:build amd64 && !purego

package main

import "github.com/gokernels/smoothl1/generated"

// prefetchDefault is the package's choice for this CPU, read before any variant
// changes it.
var prefetchDefault = generated.NoPrefetch

// setPrefetch forces the prefetching loop copy on or off, or ("") restores this
// CPU's default. Only between measurements: the kernels read the flag unsynchronised.
func setPrefetch(pf string) error {
	switch pf {
	case "on":
		generated.NoPrefetch = 0
	case "off":
		generated.NoPrefetch = 1
	default:
		generated.NoPrefetch = prefetchDefault
	}
	return nil
}

// prefetchNote describes this CPU's prefetch choice for the report's header.
func prefetchNote() string {
	if prefetchDefault != 0 {
		return "off on this CPU (AMD family 0x19)"
	}
	return "on"
}
