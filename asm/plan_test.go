package main

import (
	"reflect"
	"testing"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// opList builds an operation list.
func opList(list ...kernel.Op) []kernel.Op { return list }

func newOp(k kernel.Kind, ref string, args ...int) kernel.Op {
	return kernel.Op{Kind: k, Ref: ref, Args: args}
}

var (
	avx2Props   = Props{Regs: 2}
	avx512Props = Props{Regs: 1, MergeMask: true}
)

func TestPlan(t *testing.T) {
	// m ? x*y : x - y, stored: the product moves to the select, merge-masked into
	// the difference's register, where the ISA can merge-mask.
	selectMul := opList(
		newOp(kernel.Load, "x"), newOp(kernel.Load, "y"), // 0 1
		newOp(kernel.LT, "", 0, 1),        // 2
		newOp(kernel.Mul, "", 0, 1),       // 3
		newOp(kernel.Sub, "", 0, 1),       // 4
		newOp(kernel.Select, "", 2, 3, 4), // 5
		newOp(kernel.Store, "dst", 5),     // 6
	)
	// The same, but the difference is stored too, after the select: its register
	// must survive, so no merge.
	selectLive := append(append([]kernel.Op{}, selectMul...), newOp(kernel.Store, "dst", 4))
	// The product is also stored: it has two readers, so it stays.
	selectTwice := append(append([]kernel.Op{}, selectMul...), newOp(kernel.Store, "dst", 3))
	// Moving t2 (which reads f) to the later select makes f live after the first
	// select, which therefore must not merge into f's register: the undo.
	selectUndo := opList(
		newOp(kernel.Load, "x"), newOp(kernel.Load, "y"), // 0 1
		newOp(kernel.LT, "", 0, 1),        // 2 m
		newOp(kernel.Sub, "", 0, 1),       // 3 f
		newOp(kernel.Add, "", 3, 1),       // 4 t2 = f + y
		newOp(kernel.Mul, "", 0, 1),       // 5 t1
		newOp(kernel.Select, "", 2, 5, 3), // 6 m ? t1 : f
		newOp(kernel.Sub, "", 1, 0),       // 7 g
		newOp(kernel.Select, "", 2, 4, 7), // 8 m ? t2 : g
		newOp(kernel.Store, "dst", 6), newOp(kernel.Store, "dst", 8),
	)
	// A select of a bitwise operation: no merge-masked form.
	selectXor := opList(
		newOp(kernel.Load, "x"), newOp(kernel.Load, "y"),
		newOp(kernel.LT, "", 0, 1),
		newOp(kernel.Xor, "", 0, 1),
		newOp(kernel.Sub, "", 0, 1),
		newOp(kernel.Select, "", 2, 3, 4),
		newOp(kernel.Store, "dst", 5),
	)
	// h = h + x: the sum writes the accumulator in place; but not when the old h is
	// read after it.
	accIn := opList(newOp(kernel.Load, "x"), newOp(kernel.Acc, "h"), newOp(kernel.Add, "", 1, 0), newOp(kernel.SetAcc, "h", 2))
	accLate := opList(newOp(kernel.Load, "x"), newOp(kernel.Acc, "h"), newOp(kernel.Add, "", 1, 0),
		newOp(kernel.Max, "", 1, 0), newOp(kernel.SetAcc, "h", 2), newOp(kernel.SetAcc, "m", 3))
	// A division never writes an accumulator in place.
	accDiv := opList(newOp(kernel.Load, "x"), newOp(kernel.Acc, "h"), newOp(kernel.Div, "", 1, 0), newOp(kernel.SetAcc, "h", 2))

	none := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = -1
		}
		return s
	}
	with := func(s []int, i, v int) []int { s = append([]int{}, s...); s[i] = v; return s }
	tests := []struct {
		name   string
		ops    []kernel.Op
		props  Props
		masked []int
		toAcc  map[int]string
	}{
		{"select mul avx512", selectMul, avx512Props, with(none(7), 5, 3), nil},
		{"select mul avx2", selectMul, avx2Props, none(7), nil},
		{"select f live", selectLive, avx512Props, none(8), nil},
		{"select t twice", selectTwice, avx512Props, none(8), nil},
		{"select undo", selectUndo, avx512Props, with(none(11), 8, 4), nil},
		{"select xor", selectXor, avx512Props, none(7), nil},
		{"acc in place", accIn, avx2Props, none(4), map[int]string{2: "h"}},
		{"acc read late", accLate, avx512Props, none(6), map[int]string{3: "m"}},
		{"acc div", accDiv, avx512Props, none(4), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]kernel.Op{}, tc.ops...)
			p := plan(tc.ops, tc.props, 1)
			if !reflect.DeepEqual(tc.ops, before) {
				t.Fatal("plan changed its operations")
			}
			if !reflect.DeepEqual(p.Masked, tc.masked) {
				t.Errorf("Masked = %v, want %v", p.Masked, tc.masked)
			}
			for i, acc := range p.ToAcc {
				if acc != tc.toAcc[i] {
					t.Errorf("ToAcc[%d] = %q, want %q", i, acc, tc.toAcc[i])
				}
			}
			for i, m := range p.Masked {
				if want := i; m >= 0 && p.At[m] != want {
					t.Errorf("At[%d] = %d, want its select %d", m, p.At[m], i)
				}
			}
			if q := plan(tc.ops, tc.props, 1); !reflect.DeepEqual(p, q) {
				t.Error("plan is not a function of its arguments")
			}
		})
	}
}

// TestPlanKernels checks what plan promises on every kernel: an operation moves only
// to a later select that reads it; a moved operation's arguments still hold their
// values there (no select before has overwritten them).
func TestPlanKernels(t *testing.T) {
	for _, k := range kernel.Kernels() {
		for _, props := range []Props{avx2Props, avx512Props} {
			blocks := 1
			if props.MergeMask {
				blocks = k.Tuning.Unroll
			}
			p := plan(k.Ops, props, blocks)
			for i, m := range p.Masked {
				if m < 0 {
					continue
				}
				if !props.MergeMask {
					t.Errorf("%s: merge without MergeMask", k.GoName())
				}
				if k.Ops[i].Kind != kernel.Select || k.Ops[i].Args[1] != m || p.At[m] != i {
					t.Errorf("%s: op %d merged into %d", k.GoName(), m, i)
				}
				for _, a := range k.Ops[m].Args {
					for j := m + 1; j < i; j++ {
						if t2 := p.Masked[j]; t2 >= 0 && k.Ops[j].Args[2] == a {
							t.Errorf("%s: op %d reads %d, overwritten by select %d", k.GoName(), m, a, j)
						}
					}
				}
			}
		}
	}
}

func TestSchedule(t *testing.T) {
	// x, y, d = x - y, h, h + d, setacc: two blocks interleave 0-2, then the
	// accumulator chain of block 0, then of block 1.
	o := opList(newOp(kernel.Load, "x"), newOp(kernel.Load, "y"), newOp(kernel.Sub, "", 0, 1),
		newOp(kernel.Acc, "h"), newOp(kernel.Add, "", 3, 2), newOp(kernel.SetAcc, "h", 4))
	p := plan(o, avx512Props, 2)
	want2 := []step{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 2}, {1, 2}, {0, 3}, {0, 4}, {0, 5}, {1, 3}, {1, 4}, {1, 5}}
	if got := p.schedule(2); !reflect.DeepEqual(got, want2) {
		t.Errorf("schedule(2) = %v, want %v", got, want2)
	}
	want1 := []step{{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}}
	if got := p.schedule(1); !reflect.DeepEqual(got, want1) {
		t.Errorf("schedule(1) = %v, want %v", got, want1)
	}
}

// TestPlanUnrolledOrder: in an unrolled kernel the operations that read an
// accumulator are emitted after the others, so a value they read is not free to be
// overwritten by a reader that comes later in the description but earlier in the
// emission: here the FMS y*1 - x may not take x's register, which the FMA into
// the accumulator still reads (it did, before Pos).
func TestPlanUnrolledOrder(t *testing.T) {
	o := opList(newOp(kernel.Load, "x"), newOp(kernel.Param, "One"), newOp(kernel.Acc, "q"),
		newOp(kernel.FMA, "", 0, 0, 2), newOp(kernel.SetAcc, "q", 3), newOp(kernel.Load, "y"),
		newOp(kernel.FMS, "", 5, 1, 0), newOp(kernel.Store, "dst", 6))
	if p := plan(o, avx512Props, 2); p.Temp(o, 0, 6) {
		t.Error("unrolled: the FMS may overwrite x, which the accumulation reads after it")
	}
	if p := plan(o, avx512Props, 1); !p.Temp(o, 0, 6) {
		t.Error("one block: the FMS, x's last reader, should be free to overwrite it")
	}
	p := plan(o, avx512Props, 2)
	want := []step{{0, 0}, {0, 1}, {0, 5}, {0, 6}, {0, 7}, {0, 2}, {0, 3}, {0, 4}}
	if got := p.schedule(1); !reflect.DeepEqual(got, want) {
		t.Errorf("unrolled schedule(1) = %v, want %v", got, want)
	}
	if p.ToAcc[3] != "q" {
		t.Errorf("the FMA into q should accumulate in place: ToAcc[3] = %q", p.ToAcc[3])
	}
}
