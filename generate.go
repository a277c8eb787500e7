package smoothl1

// The kernels in generated/ are written by two generators from one description
// (gen/kernel): portable Go by gen/ (jennifer), and AVX2/AVX-512 assembly (avo) and
// NEON assembly (its own emitter: avo has no arm64) by asm/. Each generator is its
// own module, so importers of this package do not inherit their dependencies. The
// last line writes the benchmarks' streaming kernels, which are benchmark code,
// into bench/.

//go:generate go run -C gen . -out ../generated
//go:generate go run -C asm . -out ../generated/kernels_amd64.s -stubs ../generated/kernels_amd64.go -pkg generated
//go:generate go run -C asm . -arm64 ../generated
//go:generate go run -C asm . -roofline -out ../bench/roofline_amd64.s -stubs ../bench/roofline_amd64.go -pkg main
