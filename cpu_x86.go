//go:build amd64 && !purego

package smoothl1

import "golang.org/x/sys/cpu"

// cpuHas reports whether the CPU and the OS support the feature, named as avo's
// "// Requires:" lines name it. golang.org/x/sys/cpu honours GODEBUG settings such
// as cpu.avx512f=off.
func cpuHas(feature string) bool {
	switch feature {
	case "AVX":
		return cpu.X86.HasAVX
	case "AVX2":
		return cpu.X86.HasAVX2
	case "FMA3":
		return cpu.X86.HasFMA
	case "AVX512F":
		return cpu.X86.HasAVX512F
	case "AVX512VL":
		return cpu.X86.HasAVX512VL
	case "AVX512DQ":
		return cpu.X86.HasAVX512DQ
	case "AVX512BW":
		return cpu.X86.HasAVX512BW
	}
	return false
}
