//go:build cgo

// The plain C loops, built with the package's flags: -O3 -march=native.

#define FABS fabsf
#define T float
#define F(name) sl1_##name##_f32_plain
#include "loop.h"
#undef T
#undef F
#undef FABS

#define FABS fabs
#define T double
#define F(name) sl1_##name##_f64_plain
#include "loop.h"

// sl1_compiler names the C compiler and its version.
const char *sl1_compiler(void) {
#if defined(__clang__)
	return "clang " __clang_version__;
#elif defined(__GNUC__)
	return "gcc " __VERSION__;
#else
	return "cc";
#endif
}
