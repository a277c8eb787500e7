package smoothl1

import (
	"fmt"
	"unsafe"

	"github.com/gokernels/smoothl1/generated"
)

// This file holds the per-row reductions of a row-major matrix (RowSums, RowMeans)
// and their backward pass (RowGrad). Their canonical order is defined by the
// whole-slice operations, so that a reader can reason about a row alone: RowSums
// gives each row exactly the bits of Sum over that row, RowMeans those of Mean,
// and RowGrad those of GradElementwise with every element's upstream gradient that
// of its row.

// RowSums writes the sum of the per-element losses of each row of the row-major
// matrices x and y, with cols columns, to dst: dst[r] = Sum(l, x[r*cols:(r+1)*cols],
// y[r*cols:(r+1)*cols]), bit for bit, so within 1 ulp of each row's exact sum. It is
// PyTorch's loss(x, y, reduction='none').sum(dim=1) on a [rows, cols] matrix. dst
// may be x or y only where it is exactly that slice (cols == 1). It panics if cols
// <= 0, x and y differ in length, len(x) is not a multiple of cols, len(dst) is not
// len(x)/cols, or dst overlaps x or y otherwise.
func RowSums[T Float](l Loss, dst, x, y []T, cols int) {
	checkRows("RowSums", dst, x, y, cols)
	rowSums(l, dst, x, y, cols, false)
}

// RowMeans writes the mean of the per-element losses of each row to dst: dst[r] =
// Mean(l, row r of x, row r of y), bit for bit, which is RowSums' dst[r] / cols
// computed in extended precision and rounded once. It is PyTorch's loss(x, y,
// reduction='none').mean(dim=1). It panics as RowSums does.
func RowMeans[T Float](l Loss, dst, x, y []T, cols int) {
	checkRows("RowMeans", dst, x, y, cols)
	rowSums(l, dst, x, y, cols, true)
}

func rowSums[T Float](l Loss, dst, x, y []T, cols int, mean bool) {
	if p, ok := rowsDirect(l, isF32[T](), cols); ok { // rows_short.go
		// At least parallelMin elements run on the threads (run), each taking runs of
		// whole rows: the rows are independent, so the bits do not change.
		c := call{impl: impl(), n: len(dst), cols: cols, mean: mean}
		if isF32[T]() {
			if len(x) < parallelMin {
				rowsShort32(c.impl, p, f32(dst), f32(x), f32(y), cols, mean)
				return
			}
			c.op, c.p, c.d32, c.x32, c.y32 = opRows32, *p, f32(dst), f32(x), f32(y)
		} else {
			if len(x) < parallelMin {
				rowsShort64(c.impl, p, f64(dst), f64(x), f64(y), cols, mean)
				return
			}
			c.op, c.p, c.d64, c.x64, c.y64 = opRows64, *p, f64(dst), f64(x), f64(y)
		}
		run(&c)
		return
	}
	if isF32[T]() {
		d, xs, ys := f32(dst), f32(x), f32(y)
		for r := range d {
			i := r * cols
			d[r] = sum32(l, xs[i:i+cols], ys[i:i+cols], mean)
		}
		return
	}
	d, xs, ys := f64(dst), f64(x), f64(y)
	for r := range d {
		i := r * cols
		d[r] = sum64(l, xs[i:i+cols], ys[i:i+cols], mean)
	}
}

// rowGradBuf is the number of upstream gradients RowGrad expands at a time, on the
// stack.
const rowGradBuf = 1024

// RowGrad is the backward pass of RowSums: it writes the gradient with respect to
// x of each element's loss, times the upstream gradient of its row, to dst:
// dst[r*cols+c] = gradOut[r] * d loss(x[r*cols+c], y[r*cols+c]) / d x[r*cols+c],
// bit for bit GradElementwise with gradOut[r] repeated cols times. For RowMeans
// pass gradOut[r]/cols. The gradient with respect to y is -dst. dst may be x or y;
// gradOut may be dst only where it is exactly that slice (cols == 1). It panics if
// cols <= 0, x, y and dst differ in length, len(x) is not a multiple of cols,
// len(gradOut) is not len(x)/cols, or dst overlaps an input otherwise.
func RowGrad[T Float](l Loss, dst, x, y, gradOut []T, cols int) {
	checkRows("RowGrad", gradOut, x, y, cols)
	if len(dst) != len(x) {
		panic(fmt.Sprintf("smoothl1: RowGrad: dst has the wrong length: len(dst) = %d, len(x) = %d", len(dst), len(x)))
	}
	rowOverlap("RowGrad", dst, "x", x)
	rowOverlap("RowGrad", dst, "y", y)
	rowOverlap("RowGrad", dst, "gradOut", gradOut)
	// The upstream gradients of a stretch of elements are expanded into g, then
	// GradElementwise's kernel runs on that stretch: a kernel's result for an element
	// does not depend on where the element is (gen/kernel), so neither the stretches
	// nor the threads change the bits. From parallelMin elements the threads take
	// runs of whole rows (run), each expanding into a buffer on its own stack.
	// Rows of one column need no expansion: gradOut is each element's upstream
	// gradient, so this is GradElementwise itself (gradOut may be dst exactly, as
	// there; checked above).
	if cols == 1 {
		gradElem(l, dst, x, y, gradOut)
		return
	}
	p, deg := setup(l, isF32[T]())
	switch {
	case deg:
		var g [rowGradBuf]T
		for i := 0; i < len(x); i += rowGradBuf {
			e := min(i+rowGradBuf, len(x))
			expandRows(g[:e-i], gradOut, cols, i)
			degGradElementwise(T(l.param()), dst[i:e], x[i:e], y[i:e], g[:e-i])
		}
	case len(x) < parallelMin:
		rowGradSpan(impl(), p, dst, x, y, gradOut, cols)
	default:
		c := call{impl: impl(), n: len(gradOut), cols: cols}
		if isF32[T]() {
			c.op, c.p, c.d32, c.x32, c.y32, c.g32 = opRowGrad32, *p, f32(dst), f32(x), f32(y), f32(gradOut)
		} else {
			c.op, c.p, c.d64, c.x64, c.y64, c.g64 = opRowGrad64, *p, f64(dst), f64(x), f64(y), f64(gradOut)
		}
		run(&c)
	}
}

// expandRows writes to g the upstream gradients of the elements i..i+len(g)-1 of
// rows of cols columns: gradOut of each element's row. Rows of 16 columns and more
// are filled a row at a time, eight stores at once (fillRow); shorter rows whole
// rows at a time too, with stores of a fixed count for 2 to 4 columns: a
// division and a call per row of 4 cost more than the kernel's work on it. (Rows
// of one column need no expansion: RowGrad.)
func expandRows[T Float](g, gradOut []T, cols, i int) {
	r, c := i/cols, i%cols
	k := 0
	if c != 0 { // the rest of the first row
		k = min(cols-c, len(g))
		fillRow(g[:k], gradOut[r])
		r++
	}
	switch {
	case cols >= 16:
		for ; k+cols <= len(g); k, r = k+cols, r+1 {
			fillRow(g[k:k+cols], gradOut[r])
		}
	case cols == 2:
		for ; k+2 <= len(g); k, r = k+2, r+1 {
			v := gradOut[r]
			b := (*[2]T)(g[k : k+2])
			b[0], b[1] = v, v
		}
	case cols == 3:
		for ; k+3 <= len(g); k, r = k+3, r+1 {
			v := gradOut[r]
			b := (*[3]T)(g[k : k+3])
			b[0], b[1], b[2] = v, v, v
		}
	case cols == 4:
		for ; k+4 <= len(g); k, r = k+4, r+1 {
			v := gradOut[r]
			b := (*[4]T)(g[k : k+4])
			b[0], b[1], b[2], b[3] = v, v, v, v
		}
	default:
		for ; k+cols <= len(g); k, r = k+cols, r+1 {
			v := gradOut[r]
			for j := k; j < k+cols; j++ {
				g[j] = v
			}
		}
	}
	if k < len(g) { // the start of the last row
		fillRow(g[k:], gradOut[r])
	}
}

// rowGradSpan is RowGrad on whole rows (non-degenerate parameters p, implementation
// id): GradElementwise's kernel on stretches of at most rowGradBuf elements, their
// upstream gradients expanded on the stack. It calls the kernel directly: through
// gradElem32/64 a long input could go to the thread pool, which would move the
// buffer to the heap.
func rowGradSpan[T Float](id int, p *generated.Params, dst, x, y, gradOut []T, cols int) {
	var g [rowGradBuf]T
	for i := 0; i < len(x); i += rowGradBuf {
		e := min(i+rowGradBuf, len(x))
		expandRows(g[:e-i], gradOut, cols, i)
		if isF32[T]() {
			generated.GradElementwiseF32Impl(id, p, f32(dst[i:e]), f32(x[i:e]), f32(y[i:e]), f32(g[:e-i]))
		} else {
			generated.GradElementwiseF64Impl(id, p, f64(dst[i:e]), f64(x[i:e]), f64(y[i:e]), f64(g[:e-i]))
		}
	}
}

// fillRow sets every element of s to v, eight at a time (stores the compiler pairs).
func fillRow[T Float](s []T, v T) {
	k := 0
	for ; k+8 <= len(s); k += 8 {
		b := s[k : k+8 : k+8]
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7] = v, v, v, v, v, v, v, v
	}
	for ; k < len(s); k++ {
		s[k] = v
	}
}

// checkRows checks the shapes of a per-row operation whose per-row slice (dst of
// RowSums, gradOut of RowGrad) is rowsArg, and that a dst does not overlap x or y.
func checkRows[T Float](op string, rowsArg, x, y []T, cols int) {
	name := "dst"
	if op == "RowGrad" {
		name = "gradOut"
	}
	switch {
	case cols <= 0:
		panic(fmt.Sprintf("smoothl1: %s: cols must be positive, got %d", op, cols))
	case len(x) != len(y):
		panic(fmt.Sprintf("smoothl1: %s: length mismatch: len(x) = %d, len(y) = %d", op, len(x), len(y)))
	case len(x)%cols != 0:
		panic(fmt.Sprintf("smoothl1: %s: len(x) = %d is not a multiple of cols = %d", op, len(x), cols))
	case len(rowsArg) != len(x)/cols:
		panic(fmt.Sprintf("smoothl1: %s: %s has the wrong length: len(%s) = %d, want len(x)/cols = %d/%d = %d", op, name, name, len(rowsArg), len(x), cols, len(x)/cols))
	}
	if name == "dst" {
		rowOverlap(op, rowsArg, "x", x)
		rowOverlap(op, rowsArg, "y", y)
	}
}

// rowOverlap is checkOverlap for slices of different lengths (the per-row slices
// against the matrices): it panics if dst and the input in (named name) share an
// element without being the same slice (the same first element and length).
func rowOverlap[T Float](op string, dst []T, name string, in []T) {
	if len(dst) == 0 || len(in) == 0 {
		return
	}
	size := unsafe.Sizeof(dst[0])
	d, s := addr(dst), addr(in)
	dn, sn := uintptr(len(dst))*size, uintptr(len(in))*size
	if d < s+sn && s < d+dn && (d != s || dn != sn) {
		var where string
		if d >= s {
			where = fmt.Sprintf("dst[0] is %s[%d]", name, (d-s)/size)
		} else {
			where = fmt.Sprintf("%s[0] is dst[%d]", name, (s-d)/size)
		}
		panic(fmt.Sprintf("smoothl1: %s: dst partially overlaps %s: %s (len(dst) = %d, len(%s) = %d); dst must be exactly %s or share no element with it",
			op, name, where, len(dst), name, len(in), name))
	}
}
