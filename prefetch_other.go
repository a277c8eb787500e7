//go:build !amd64 || purego

package smoothl1

// setNoPrefetch does nothing and reports false: this build has no x86 assembly
// kernels, hence no prefetching loop copy to switch.
func setNoPrefetch(bool) (was, ok bool) { return false, false }
