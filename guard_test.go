//go:build linux

package smoothl1

import (
	"syscall"
	"testing"
	"unsafe"
)

// guarded returns a slice of n elements that starts right after a page which may not
// be read or written (atEnd false) or ends right before one (atEnd true), filled
// from src: a kernel that touches an element before or after its slice crashes
// the test with a fault. (The guard bands of inputs_test.go catch writes only, and
// a read inside a band returns a value without a trace.)
func guarded[T Float](t *testing.T, src []T, atEnd bool) []T {
	t.Helper()
	n, size, ps := len(src), int(unsafe.Sizeof(T(0))), syscall.Getpagesize()
	data := (n*size + ps - 1) / ps * ps
	mem, err := syscall.Mmap(-1, 0, ps+data+ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	for _, g := range [][]byte{mem[:ps], mem[ps+data:]} {
		if err := syscall.Mprotect(g, syscall.PROT_NONE); err != nil {
			t.Fatal(err)
		}
	}
	off := ps
	if atEnd {
		off = ps + data - n*size
	}
	if n == 0 {
		return nil
	}
	s := unsafe.Slice((*T)(unsafe.Pointer(&mem[off])), n)
	copy(s, src)
	return s
}

// TestGuardPages runs every operation on every implementation with its inputs and
// outputs next to pages that fault on any access, at lengths around the kernels'
// blocks and their tails, and rows of 1 to 9 columns around the row kernels' blocks
// of 8 rows: no kernel may read or write outside its slices (the package promises
// never to crash in assembly). It checks no result: the other tests do. It runs
// natively and under qemu-aarch64; not under qemu-x86_64, whose VMASKMOVPS faults on
// a masked-out lane in a guarded page, which the processor does not (Intel's
// manual: a lane whose mask bit is 0 raises no fault), so the AVX2 kernels' masked
// tails would fail there alone.
func TestGuardPages(t *testing.T) {
	testGuardPages[float32](t)
	testGuardPages[float64](t)
}

func testGuardPages[T Float](t *testing.T) {
	r := newRand(71)
	lengths := []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4099}
	l, _ := SmoothL1(1)
	for _, atEnd := range []bool{false, true} {
		for _, n := range lengths {
			xs, ys := randomInputs[T](r, n, 1, n%3 == 1)
			ws := makeWeights[T](r, "uniform", n)
			x, y, w := guarded(t, xs, atEnd), guarded(t, ys, atEnd), guarded(t, ws, atEnd)
			dst := guarded(t, make([]T, n), atEnd)
			for range eachImpl(t) {
				Elementwise(l, dst, x, y)
				_ = Sum(l, x, y)
				_ = Mean(l, x, y)
				Grad(l, dst, x, y, 1)
				GradElementwise(l, dst, x, y, w)
				_ = SumAndGrad(l, dst, x, y, 1)
				_ = WeightedSum(l, x, y, w)
				_ = WeightedMean(l, x, y, w)
				_ = WeightedSumAndGrad(l, dst, x, y, w, 1)
			}
		}
		for cols := 1; cols <= 9; cols++ {
			for _, rows := range []int{1, 7, 8, 9, 15, 16, 17, 64, 65} {
				n := rows * cols
				xs, ys := randomInputs[T](r, n, 1, rows%2 == 1)
				gs, _ := randomInputs[T](r, rows, 1, false)
				x, y, g := guarded(t, xs, atEnd), guarded(t, ys, atEnd), guarded(t, gs, atEnd)
				sums, grad := guarded(t, make([]T, rows), atEnd), guarded(t, make([]T, n), atEnd)
				for range eachImpl(t) {
					RowSums(l, sums, x, y, cols)
					RowMeans(l, sums, x, y, cols)
					RowGrad(l, grad, x, y, g, cols)
				}
			}
		}
	}
}
