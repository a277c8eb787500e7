//go:build amd64 && !purego

package smoothl1

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/gokernels/smoothl1/generated"
)

// TestPrefetchDefault checks that init set generated.NoPrefetch as the rule says
// for this CPU (CPUID read independently here) and SMOOTHL1_PREFETCH.
func TestPrefetchDefault(t *testing.T) {
	_, b, c, d := generated.CPUID(0)
	v := binary.LittleEndian.AppendUint32(nil, b)
	v = binary.LittleEndian.AppendUint32(v, d)
	v = binary.LittleEndian.AppendUint32(v, c)
	sig, _, _, _ := generated.CPUID(1)
	want, _ := prefetchOff(string(v), sig, os.Getenv("SMOOTHL1_PREFETCH"))
	if got := generated.NoPrefetch != 0; got != want {
		t.Errorf("generated.NoPrefetch = %v, want %v (vendor %q, family %#x)", got, want, v, cpuFamily(sig))
	}
	t.Logf("vendor %q, signature %#08x, family %#x: prefetching loop copy off = %v", v, sig, cpuFamily(sig), want)
}
