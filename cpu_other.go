//go:build (!amd64 && !arm64) || purego

package smoothl1

// cpuHas reports false: without assembly only the generic implementation exists.
func cpuHas(string) bool { return false }
