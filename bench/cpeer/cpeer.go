//go:build cgo

// Package cpeer is the benchmarks' C peer: the plain C loop of the loss, as a C
// user writes it, compiled by the system C compiler at -O3 -march=native, once as
// is and once with -ffast-math (for those functions only, by #pragma GCC optimize
// in fastmath.c). See loop.h for the loops and how calls are batched.
//
// Without cgo (CGO_ENABLED=0, or no C compiler) Available is false and the
// benchmarks leave the peer out.
package cpeer

/*
#cgo CFLAGS: -O3 -march=native
const char *sl1_compiler(void);
int sl1_fastmath(void);
double sl1_run(int type, int fast, int op, void *dst, const void *x, const void *y,
               const long long *offs, long long k, long long n, double beta, double g);
*/
import "C"

import (
	"slices"
	"strings"
	"unsafe"
)

// Available reports whether this build has the C loops (it needs cgo).
const Available = true

// Compiler returns the C compiler's name and version, as the C code saw it.
func Compiler() string { return C.GoString(C.sl1_compiler()) }

// Name returns the name of a variant as the benchmarks show it: the compiler's
// name ("gcc"), with "-fastmath" appended for the fast-math build. Name(true) is
// "" when the compiler ignored the fast-math pragma (any compiler but GCC).
func Name(fast bool) string {
	name := strings.Fields(Compiler())[0]
	if fast {
		if C.sl1_fastmath() == 0 {
			return ""
		}
		name += "-fastmath"
	}
	return name
}

// Ops lists the operations the C loops cover.
var Ops = []string{"Sum", "Mean", "Elementwise", "SumAndGrad", "MeanAndGrad"}

// Windows is a validated list of windows of n elements: the offsets of their
// first elements in slices of at least Len elements.
type Windows struct {
	offs []int64
	n    int
	len  int
}

// NewWindows returns the windows of n elements at offs in slices of length
// elements; it panics if one does not fit.
func NewWindows(offs []int64, n, length int) Windows {
	for _, o := range offs {
		if n < 0 || o < 0 || o+int64(n) > int64(length) {
			panic("cpeer: window out of range")
		}
	}
	return Windows{slices.Clone(offs), n, length}
}

// Kernel returns the C loop of op (one of Ops) for T, plain or fast-math, or nil
// if there is none. The function runs the loop once per window of w, over the
// window's elements of x, y (and dst), and returns the total of the results (0
// for Elementwise). beta is the loss's parameter and g scales the gradient. It
// panics if a slice is shorter than the windows require. C retains no pointer.
func Kernel[T float32 | float64](op string, fast bool) func(dst, x, y []T, w Windows, beta, g T) float64 {
	code := slices.Index(Ops, op)
	if code < 0 {
		return nil
	}
	var z T
	typ := C.int(0)
	if _, ok := any(z).(float64); ok {
		typ = 1
	}
	var variant C.int
	if fast {
		variant = 1
	}
	writes := op == "Elementwise" || op == "SumAndGrad" || op == "MeanAndGrad"
	return func(dst, x, y []T, w Windows, beta, g T) float64 {
		if len(x) < w.len || len(y) < w.len || writes && len(dst) < w.len {
			panic("cpeer: slices shorter than the windows")
		}
		if len(w.offs) == 0 || w.n == 0 {
			return 0
		}
		return float64(C.sl1_run(typ, variant, C.int(code), unsafe.Pointer(unsafe.SliceData(dst)),
			unsafe.Pointer(unsafe.SliceData(x)), unsafe.Pointer(unsafe.SliceData(y)),
			(*C.longlong)(unsafe.Pointer(unsafe.SliceData(w.offs))), C.longlong(len(w.offs)), C.longlong(w.n),
			C.double(beta), C.double(g)))
	}
}

// Slice returns windows i to j-1.
func (w Windows) Slice(i, j int) Windows { return Windows{w.offs[i:j:j], w.n, w.len} }

// Len returns the number of windows.
func (w Windows) Len() int { return len(w.offs) }
