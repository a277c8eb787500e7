//go:build cgo

// sl1_run calls one of the loops of plain.c and fastmath.c, chosen by element
// type (0 float, 1 double), variant (0 plain, 1 fast-math) and operation (0 Sum,
// 1 Mean, 2 Elementwise, 3 SumAndGrad, 4 MeanAndGrad), so that Go needs one cgo
// entry point. beta and g are converted to the element type.

#define DECL(T, S) \
	double sl1_sum_##S(const T *x, const T *y, const long long *offs, long long k, long long n, T beta); \
	double sl1_mean_##S(const T *x, const T *y, const long long *offs, long long k, long long n, T beta); \
	double sl1_elem_##S(T *dst, const T *x, const T *y, const long long *offs, long long k, long long n, T beta); \
	double sl1_sumgrad_##S(T *dst, const T *x, const T *y, const long long *offs, long long k, long long n, T beta, T g); \
	double sl1_meangrad_##S(T *dst, const T *x, const T *y, const long long *offs, long long k, long long n, T beta, T g);
DECL(float, f32_plain)
DECL(float, f32_fast)
DECL(double, f64_plain)
DECL(double, f64_fast)

#define CASES(T, S) \
	switch (op) { \
	case 0: return sl1_sum_##S(x, y, offs, k, n, (T)beta); \
	case 1: return sl1_mean_##S(x, y, offs, k, n, (T)beta); \
	case 2: return sl1_elem_##S(dst, x, y, offs, k, n, (T)beta); \
	case 3: return sl1_sumgrad_##S(dst, x, y, offs, k, n, (T)beta, (T)g); \
	case 4: return sl1_meangrad_##S(dst, x, y, offs, k, n, (T)beta, (T)g); \
	} \
	break;

double sl1_run(int type, int fast, int op, void *dst, const void *x, const void *y,
               const long long *offs, long long k, long long n, double beta, double g) {
	switch (type * 2 + fast) {
	case 0: CASES(float, f32_plain)
	case 1: CASES(float, f32_fast)
	case 2: CASES(double, f64_plain)
	case 3: CASES(double, f64_fast)
	}
	return __builtin_nan("");
}
