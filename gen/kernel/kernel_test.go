package kernel

import (
	"strings"
	"testing"
)

func TestKernels(t *testing.T) {
	ks := Kernels()
	if len(ks) != 2*len(Families) {
		t.Fatalf("%d kernels, want %d", len(ks), 2*len(Families))
	}
	seen := map[string]bool{}
	for _, k := range ks {
		if seen[k.GoName()] {
			t.Errorf("two kernels named %s", k.GoName())
		}
		seen[k.GoName()] = true
		if got, want := k.AccLen() > 0, k.Info().Accumulates; got != want {
			t.Errorf("%s: has accumulators %v, Accumulates %v", k.GoName(), got, want)
		}
		stores := 0
		for i, op := range k.Ops {
			if op.Kind == Store {
				stores++
			}
			if !strings.Contains(k.Describe(i), op.Kind.String()) {
				t.Errorf("%s: %q does not name its kind", k.GoName(), k.Describe(i))
			}
		}
		if (stores > 0) != (k.Info().Out != "") {
			t.Errorf("%s: %d stores, output %q", k.GoName(), stores, k.Info().Out)
		}
	}
	if last := Impls[len(Impls)-1]; last.Num != Generic || last.Suffix != "" {
		t.Error("generic, the portable Go, must be the last implementation")
	}
	for n := ImplNum(0); int(n) < len(Impls); n++ {
		if n.Impl().Num != n {
			t.Errorf("implementation %d listed as %d", n, n.Impl().Num)
		}
	}
}

// TestTuningValidated checks that a tuning no loop implements fails at go generate.
func TestTuningValidated(t *testing.T) {
	bad := []Tuning{
		{},                      // no unroll factor
		{Unroll: 3},             // no such loop
		{Unroll: 1, Near: true}, // a near prefetch without a prefetch mode
		{Unroll: 2, Prefetch: Clamped},
		{Unroll: 1, Prefetch: PrefetchMode(7)},
		{Unroll: 1, Short: true}, // a short prefetch without a loop copy
		{Unroll: 1, Prefetch: Clamped, Short: true}, // nor with the clamped one
	}
	for _, tu := range bad {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: no panic", tu)
				}
			}()
			tu.validate("test")
		}()
	}
	for _, f := range Families {
		for _, ty := range []Type{F32, F64} {
			tuning(f, ty).validate(f.String()) // must not panic
		}
	}
}

func TestValueNames(t *testing.T) {
	k := &Kernel{Ops: []Op{{Kind: Load, Ref: "x", Name: "x"}, {Kind: Load, Ref: "y"}, {Kind: Sub, Args: []int{0, 1}, Name: "d"}}, Tuning: Tuning{Unroll: 1}}
	if got := k.ValueName(1); got != "v1" {
		t.Errorf("ValueName(1) = %s, want v1", got)
	}
	if got := k.Describe(2); got != "d2 = sub x0, v1" {
		t.Errorf("Describe(2) = %q", got)
	}
	k.Ops[2].Name = "d2"
	defer func() {
		if recover() == nil {
			t.Error("a value name with a digit (which could collide with another value's) did not panic")
		}
	}()
	k.validate()
}

// TestRowFamilyNoPrefetch checks that a row family with a prefetching tuning fails at
// go generate: its loops count rows, so the prefetch addresses would be wrong.
func TestRowFamilyNoPrefetch(t *testing.T) {
	for _, tu := range []Tuning{{Unroll: 1, Prefetch: LoopCopy}, {Unroll: 1, Prefetch: LoopCopy, Short: true}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RowSums4 with %+v: no panic", tu)
				}
			}()
			(&Kernel{Family: RowSums4, Tuning: tu}).validate()
		}()
	}
	(&Kernel{Family: RowSums4, Tuning: Tuning{Unroll: 1}}).validate() // must not panic
}
