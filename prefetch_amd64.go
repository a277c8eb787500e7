//go:build amd64 && !purego

package smoothl1

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/gokernels/smoothl1/generated"
)

func init() {
	_, b, c, d := generated.CPUID(0)
	var v [12]byte // the vendor string is EBX, EDX, ECX
	binary.LittleEndian.PutUint32(v[0:], b)
	binary.LittleEndian.PutUint32(v[4:], d)
	binary.LittleEndian.PutUint32(v[8:], c)
	sig, _, _, _ := generated.CPUID(1)
	if choosePrefetch(string(v[:]), sig) {
		generated.NoPrefetch = 1
	}
}

// setNoPrefetch sets generated.NoPrefetch and returns its previous value and true.
// It is a test hook, not safe for concurrent use: call it only while no kernel runs
// (the assembly reads the variable without synchronisation).
func setNoPrefetch(off bool) (was, ok bool) {
	was = generated.NoPrefetch != 0
	generated.NoPrefetch = 0
	if off {
		generated.NoPrefetch = 1
	}
	return was, true
}

// choosePrefetch returns prefetchOff for this CPU and environment, reporting a bad
// SMOOTHL1_PREFETCH on stderr.
func choosePrefetch(vendor string, sig uint32) bool {
	off, err := prefetchOff(vendor, sig, os.Getenv("SMOOTHL1_PREFETCH"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v; using %s\n", err, map[bool]string{false: "on", true: "off"}[off])
	}
	return off
}
