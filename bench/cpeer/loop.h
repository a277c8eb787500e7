//go:build cgo

// The plain C loops of the loss, included once per element type and variant by
// plain.c (-O3 -march=native) and fastmath.c (the same, plus -ffast-math through
// #pragma GCC optimize). Before including, define T (float or double), FABS
// (fabsf or fabs) and F(name), the exported name of each function.
//
// Each function runs its loop over k windows of n elements, the w-th starting at
// element offs[w] of x, y (and dst), so that one cgo call (30-50 ns) is shared by
// many short loops: the Go side sizes k so that a call covers 2^15 to 2^16
// elements. The loops are the ones a C user writes: the difference, its absolute
// value, the branchy formula, and the sum accumulated in T itself (a float for
// float data), in element order. Only the total over the windows is in double,
// outside the timed loop's body.

#include <math.h>

double F(sum)(const T *x, const T *y, const long long *offs, long long k, long long n, T beta) {
	double total = 0;
	for (long long w = 0; w < k; w++) {
		const T *xs = x + offs[w], *ys = y + offs[w];
		T sum = 0;
		for (long long i = 0; i < n; i++) {
			T d = xs[i] - ys[i];
			T z = FABS(d);
			T loss = z < beta ? (T)0.5 * z * z / beta : z - (T)0.5 * beta;
			sum += loss;
		}
		total += sum;
	}
	return total;
}

double F(mean)(const T *x, const T *y, const long long *offs, long long k, long long n, T beta) {
	double total = 0;
	for (long long w = 0; w < k; w++) {
		const T *xs = x + offs[w], *ys = y + offs[w];
		T sum = 0;
		for (long long i = 0; i < n; i++) {
			T d = xs[i] - ys[i];
			T z = FABS(d);
			T loss = z < beta ? (T)0.5 * z * z / beta : z - (T)0.5 * beta;
			sum += loss;
		}
		total += sum / (T)n;
	}
	return total;
}

// elem writes each element's loss to dst.
double F(elem)(T *dst, const T *x, const T *y, const long long *offs, long long k, long long n, T beta) {
	for (long long w = 0; w < k; w++) {
		T *ds = dst + offs[w];
		const T *xs = x + offs[w], *ys = y + offs[w];
		for (long long i = 0; i < n; i++) {
			T d = xs[i] - ys[i];
			T z = FABS(d);
			ds[i] = z < beta ? (T)0.5 * z * z / beta : z - (T)0.5 * beta;
		}
	}
	return 0;
}

// sumgrad returns the sum of the losses (divided by n if mean) and writes the
// gradient with respect to x, scaled by g (and by 1/n if mean), to dst, in one pass:
// PyTorch's backward formula.
static double F(sumgrad_)(T *dst, const T *x, const T *y, const long long *offs, long long k, long long n, T beta, T g, int mean) {
	double total = 0;
	T scale = mean ? g / (T)n : g;
	for (long long w = 0; w < k; w++) {
		T *ds = dst + offs[w];
		const T *xs = x + offs[w], *ys = y + offs[w];
		T sum = 0;
		for (long long i = 0; i < n; i++) {
			T d = xs[i] - ys[i];
			T z = FABS(d);
			sum += z < beta ? (T)0.5 * z * z / beta : z - (T)0.5 * beta;
			ds[i] = d <= -beta ? -scale : d >= beta ? scale : scale * d / beta;
		}
		total += mean ? sum / (T)n : sum;
	}
	return total;
}

double F(sumgrad)(T *dst, const T *x, const T *y, const long long *offs, long long k, long long n, T beta, T g) {
	return F(sumgrad_)(dst, x, y, offs, k, n, beta, g, 0);
}

double F(meangrad)(T *dst, const T *x, const T *y, const long long *offs, long long k, long long n, T beta, T g) {
	return F(sumgrad_)(dst, x, y, offs, k, n, beta, g, 1);
}
