//go:build amd64 && !purego

package main

// hasRooflineAsm reports whether this build has the assembly streaming kernels.
const hasRooflineAsm = true
