//go:build !amd64 || purego

package main

// hasRooflineAsm reports whether this build has the assembly streaming kernels.
const hasRooflineAsm = false

func rooflineReadAVX2(a, b []byte) uint64 { panic("bench: no assembly in this build") }

func rooflineReadWriteAVX2(dst, a, b []byte) { panic("bench: no assembly in this build") }

func rooflineRead3AVX2(a, b, c []byte) uint64 { panic("bench: no assembly in this build") }

func rooflineRead3WriteAVX2(dst, a, b, c []byte) { panic("bench: no assembly in this build") }

func rooflineReadQuarterAVX2(dst, a, b []byte) { panic("bench: no assembly in this build") }
