//go:build cgo

// The same loops as plain.c with -ffast-math added, for these functions only
// (cgo's CFLAGS apply to the whole package). The pragma changes code generation
// only: unlike -ffast-math on a link command line it does not link crtfastmath.o,
// which would set flush-to-zero in the Go process's MXCSR.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fast-math")
#endif

// sl1_fastmath reports whether the pragma above took effect (GCC defines
// __FAST_MATH__ under it).
int sl1_fastmath(void) {
#ifdef __FAST_MATH__
	return 1;
#else
	return 0;
#endif
}

#define FABS fabsf
#define T float
#define F(name) sl1_##name##_f32_fast
#include "loop.h"
#undef T
#undef F
#undef FABS

#define FABS fabs
#define T double
#define F(name) sl1_##name##_f64_fast
#include "loop.h"
