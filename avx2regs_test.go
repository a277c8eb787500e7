package smoothl1

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAVX2Registers checks that no AVX2 kernel uses a vector register that only
// AVX-512 has (X16-X31, Y16-Y31, Z, K): avo's allocator hands them out when a
// kernel needs more than 16 registers, and the assembler then emits EVEX
// instructions that fault (or, worse, run) on a CPU without AVX-512, which the
// avx2 dispatch gate does not check. (A weighted float64 kernel with four
// accumulators did exactly that; see gen/kernel/weighted.go.)
func TestAVX2Registers(t *testing.T) {
	b, err := os.ReadFile("generated/kernels_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	high := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[1-7])\b`)
	fn := ""
	kernels := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "TEXT ") {
			fn = line
			if strings.Contains(fn, "AVX2(SB)") {
				kernels++
			}
			continue
		}
		code, _, _ := strings.Cut(line, "//")
		if strings.Contains(fn, "AVX2(SB)") && high.MatchString(code) {
			t.Errorf("%s uses an AVX-512 register: %s", strings.Fields(fn)[1], strings.TrimSpace(line))
		}
	}
	if kernels < 16 {
		t.Errorf("found %d AVX2 kernels", kernels)
	}
}
