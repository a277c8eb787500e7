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
		{Unroll: 2, Short: ShortDist}, // two blocks: only in a loop copy
		{Unroll: 1, Prefetch: LoopCopy, Short: 100}, // not whole cache lines
		{Unroll: 1, Prefetch: LoopCopy, Short: -64},
		{Unroll: 1, Prefetch: LoopCopy, ShortFar: ShortFarDist},                    // no short copy
		{Unroll: 1, Short: RowShortDist, ShortFar: ShortFarDist},                   // the rows' prefetch in the loop
		{Unroll: 1, Prefetch: LoopCopy, Short: ShortDist, ShortFar: ShortDist},     // not beyond Short
		{Unroll: 1, Prefetch: LoopCopy, Short: ShortDist, ShortFar: ShortDist + 8}, // not whole cache lines
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

// TestRowFamilyNoPrefetch checks that a row family with a loop copy, a near prefetch
// or a far short prefetch, or another family with a short prefetch in its loop,
// fails at go generate: the row loops count rows, and only the prefetches of their
// one loop (rowPrefetches), far and short, convert that index to elements; the short
// prefetch in the loop is written for rows only.
func TestRowFamilyNoPrefetch(t *testing.T) {
	for _, k := range []Kernel{
		{Family: RowSums4, Tuning: Tuning{Unroll: 1, Prefetch: LoopCopy}},
		{Family: RowSums4, Tuning: Tuning{Unroll: 1, Prefetch: LoopCopy, Short: RowShortDist}},
		{Family: RowSums4, Tuning: Tuning{Unroll: 1, Prefetch: Clamped, Near: true}},
		{Family: RowSums4, Tuning: Tuning{Unroll: 1, Prefetch: Clamped, Short: RowShortDist, ShortFar: ShortFarDist}},
		{Family: Sum, Tuning: Tuning{Unroll: 1, Short: ShortDist}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%v with %+v: no panic", k.Family, k.Tuning)
				}
			}()
			k.validate()
		}()
	}
	// Must not panic:
	(&Kernel{Family: RowSums4, Tuning: Tuning{Unroll: 1}}).validate()
	(&Kernel{Family: RowSums4, Tuning: Tuning{Unroll: 1, Short: RowShortDist}}).validate()
	(&Kernel{Family: RowSums4, Tuning: Tuning{Unroll: 1, Prefetch: Clamped}}).validate()
	(&Kernel{Family: RowSums4, Tuning: Tuning{Unroll: 1, Prefetch: Clamped, Short: RowShortDist}}).validate()
}

// TestRowTrees pins the order in which the row families add their columns: Sum's
// tree over a row's lanes, ((0+1)+(2+3)) for 4 columns, (0+1)+2 for 3, 0+1 for 2
// (rows.go). A float64 row sums double-doubles, whose order shows in the result
// only at rounding ties, so the bit-for-bit tests cannot see a wrong order there;
// this test reads it off the description: every addition (Add, or FMA by One) of
// two values that depend on disjoint, non-empty sets of columns is a merge of the
// tree, and the merges must be those of Sum's tree, for the h parts and the l
// parts (float64) or for q and z - w (float32).
func TestRowTrees(t *testing.T) {
	type merge struct{ a, b uint }
	want := map[int][]merge{
		2: {{0b1, 0b10}},
		3: {{0b1, 0b10}, {0b11, 0b100}},
		4: {{0b1, 0b10}, {0b100, 0b1000}, {0b11, 0b1100}},
	}
	for _, k := range Kernels() {
		cols := k.Info().Cols
		if cols == 0 {
			continue
		}
		dep := make([]uint, len(k.Ops)) // the columns each value depends on
		got := map[merge]int{}
		for i, op := range k.Ops {
			if op.Kind == Load {
				dep[i] = 1 << op.Col
			}
			for _, a := range op.Args {
				dep[i] |= dep[a]
			}
			var x, y int
			switch {
			case op.Kind == Add:
				x, y = op.Args[0], op.Args[1]
			case op.Kind == FMA && k.Ops[op.Args[1]].Kind == Param && k.Ops[op.Args[1]].Ref == "One":
				x, y = op.Args[0], op.Args[2]
			default:
				continue
			}
			a, b := dep[x], dep[y]
			if a == 0 || b == 0 || a&b != 0 {
				continue
			}
			got[merge{min(a, b), max(a, b)}]++
		}
		if len(got) != len(want[cols]) {
			t.Errorf("%s: merges %v, want %v", k.GoName(), got, want[cols])
			continue
		}
		for _, m := range want[cols] {
			if got[m] != 2 { // h and l (float64), q and z - w (float32)
				t.Errorf("%s: merges %v, want each of %v twice", k.GoName(), got, want[cols])
				break
			}
		}
	}
}
