//go:build arm64 && !purego

package smoothl1

import "golang.org/x/sys/cpu"

// cpuHas reports whether the CPU supports the feature, named as the "// Requires:"
// lines of the generated arm64 assembly name it. golang.org/x/sys/cpu honours
// GODEBUG settings such as cpu.asimd=off.
func cpuHas(feature string) bool {
	switch feature {
	case "ASIMD":
		return cpu.ARM64.HasASIMD
	}
	return false
}
