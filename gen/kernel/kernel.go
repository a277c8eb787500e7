package kernel

import (
	"fmt"
	"strings"
)

// Lanes is the number of float64 lanes of the canonical layout: one AVX-512 register,
// two AVX2 registers.
const Lanes = 8

// Params are the names of the kernel parameters, in the order of the generated
// Params array. Every parameter is a float64, whatever the element type.
var Params = []string{
	"K",       // threshold: beta (SmoothL1) or delta (Huber), converted to T; float32: at most Ovf
	"H",       // K/2 (before the float32 clamp: +Inf for delta = +Inf)
	"Ah",      // quadratic factor, high part: 0.5/beta or 0.5
	"Al",      // quadratic factor, low part (float64 kernels)
	"B",       // linear slope: 1 or delta
	"Dq",      // divisor of the quadratic gradient in GradElementwise: beta or 1
	"GA",      // scale of the quadratic gradient: scale/beta or scale
	"GB",      // scale of the linear gradient: scale or scale*delta
	"NegZero", // -0.0: the sign bit
	"Inf",     // +Inf
	"Zero",    // +0.0
	"Ovf",     // float32 kernels: |d| at or above this rounds to +Inf in float32
	"P",       // float64 sums: slope of the linear part of V, 2K (1 for K = 0)
	"One",     // 1.0
	"Di",      // float64 sums, in the root package only: 1/D, D the divisor of the sum of V (high part)
	"Dl",      // and its low part: Di + Dl = 1/D to 2^-106
	"BH",      // float32 Elementwise: B*H, rounded
	"Kg",      // gradients: z >= Kg is linear; K, or the least subnormal for K = 0
	"RowCols", // float64 row sums: the number of columns where K > 0, else 0 (no K*K to subtract)
	"RowDiv",  // row means: the number of columns
	"KKh",     // float64 row sums: K*K rounded
	"KKl",     // and its error, fma(K, K, -KKh): KKh + KKl = K*K exactly
	"BInf",    // float32 row sums: B*(Inf - H), the loss at z = +Inf
}

// ParamIndex returns the index of parameter n in Params; it panics for an unknown name.
func ParamIndex(n string) int {
	for i, p := range Params {
		if p == n {
			return i
		}
	}
	panic("kernel: unknown parameter " + n)
}

// Type is an element type.
type Type int

// The element types.
const (
	F32 Type = iota
	F64
)

// GoName is the Go name of the type.
func (t Type) GoName() string {
	if t == F32 {
		return "float32"
	}
	return "float64"
}

// Suffix is the suffix of kernel names for the type.
func (t Type) Suffix() string {
	if t == F32 {
		return "F32"
	}
	return "F64"
}

// Size is the size of an element in bytes.
func (t Type) Size() int {
	if t == F32 {
		return 4
	}
	return 8
}

// Kind is an operation kind.
type Kind int

// The operation kinds. Arithmetic is on float64 lanes; masks are lane-wise booleans.
const (
	Load   Kind = iota // Ref: input slice; widened to float64
	Param              // Ref: parameter
	Acc                // Ref: accumulator, value at the start of the block
	Add                // a + b
	Sub                // a - b
	Mul                // a * b (never fused)
	Div                // a / b
	FMA                // a*b + c, one rounding
	FMS                // a*b - c, one rounding
	And                // a & b, bitwise
	AndNot             // ^a & b, bitwise
	Xor                // a ^ b, bitwise
	LT                 // mask a < b (false if either is NaN)
	LE                 // mask a <= b (false if either is NaN)
	NE                 // mask a != b (true if either is NaN)
	IsNaN              // mask: a is NaN
	Max                // a > b ? a : b (b if either is NaN)
	Min                // a < b ? a : b (b if either is NaN)
	Select             // a ? b : c, with a mask
	SetAcc             // Ref: accumulator = a, at the end of the block
	Store              // Ref: output slice; rounded to T
)

var kindNames = [...]string{"load", "param", "acc", "add", "sub", "mul", "div", "fma", "fms",
	"and", "andnot", "xor", "lt", "le", "ne", "isnan", "max", "min", "select", "setacc", "store"}

// String returns the lower-case name of the kind, as in the generated comments.
func (k Kind) String() string { return kindNames[k] }

// IsMask reports whether the kind produces a mask.
func (k Kind) IsMask() bool { return k == LT || k == LE || k == NE || k == IsNaN }

// Op is one operation of a kernel; the value it defines is its index in Kernel.Ops.
type Op struct {
	Kind Kind
	Args []int  // the values it reads
	Ref  string // the slice, parameter or accumulator of Load, Param, Acc, SetAcc, Store
	Name string // the name of its value in the description (letters only), or ""
	Col  int    // Load in a row family: the column (FamilyInfo.Cols)
}

// Kernel is one kernel: a family for one element type.
type Kernel struct {
	Family Family
	Type   Type
	Accs   []string // accumulators, each Lanes float64s in the acc array, in this order
	Ops    []Op
	Tuning Tuning // of the loops on wide-register ISAs (AVX-512)
}

// Info returns the facts of the kernel's family.
func (k *Kernel) Info() *FamilyInfo { return k.Family.Info() }

// GoName is the name of the portable Go kernel, e.g. "SumAndGradF64".
func (k *Kernel) GoName() string { return k.Family.String() + k.Type.Suffix() }

// AsmName is the name of the assembly kernel for an implementation's suffix, e.g.
// "sumAndGradF64AVX512".
func (k *Kernel) AsmName(suffix string) string {
	n := k.GoName()
	return strings.ToLower(n[:1]) + n[1:] + suffix
}

// Slices returns the slice parameters in signature order: the output, then the inputs.
func (k *Kernel) Slices() []string {
	var s []string
	if out := k.Info().Out; out != "" {
		s = append(s, out)
	}
	return append(s, k.Info().Ins...)
}

// AccLen is the length of the acc array (0: the kernel has none).
func (k *Kernel) AccLen() int { return Lanes * len(k.Accs) }

// ValueName returns the name of value i in generated code: its name in the
// description (or v) followed by i, e.g. z8.
func (k *Kernel) ValueName(i int) string {
	n := k.Ops[i].Name
	if n == "" {
		n = "v"
	}
	return fmt.Sprintf("%s%d", n, i)
}

// Describe returns operation i as a line of the description, e.g. "z8 = andnot NegZero7, d4".
func (k *Kernel) Describe(i int) string {
	op := k.Ops[i]
	var args []string
	for _, a := range op.Args {
		args = append(args, k.ValueName(a))
	}
	s := op.Kind.String()
	if op.Ref != "" {
		s += " " + op.Ref
	}
	if op.Kind == Load && k.Info().Cols > 0 {
		s += fmt.Sprintf("[col %d]", op.Col)
	}
	if len(args) > 0 {
		s += " " + strings.Join(args, ", ")
	}
	if op.Kind == SetAcc || op.Kind == Store {
		return s
	}
	return k.ValueName(i) + " = " + s
}

// Uses reports how many operations read each value.
func (k *Kernel) Uses() []int {
	u := make([]int, len(k.Ops))
	for _, op := range k.Ops {
		for _, a := range op.Args {
			u[a]++
		}
	}
	return u
}

// validate panics (at go generate) on a malformed kernel.
func (k *Kernel) validate() {
	k.Tuning.validate(k.GoName())
	if rows := k.Info().Cols > 0; rows && (k.Tuning.Prefetch == LoopCopy || k.Tuning.Near || k.Tuning.ShortFar != 0) {
		// The loops count rows, not elements: only the prefetches of the one loop
		// convert their index (rowPrefetches in the assembly generator), and a loop
		// copy or a near prefetch would not; nor does that loop have a far short
		// prefetch.
		panic(fmt.Sprintf("kernel: %s: a row family with a loop copy, a near prefetch or a far short prefetch", k.GoName()))
	} else if !rows && k.Tuning.Short != 0 && k.Tuning.Prefetch == NoPrefetch {
		// The short prefetch in the loop itself is written for rows.
		panic(fmt.Sprintf("kernel: %s: a short prefetch without a loop copy", k.GoName()))
	}
	for i, op := range k.Ops {
		for _, a := range op.Args {
			if a < 0 || a >= i {
				panic(fmt.Sprintf("kernel: %s: op %d reads %d", k.GoName(), i, a))
			}
		}
		for _, c := range op.Name {
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
				panic(fmt.Sprintf("kernel: %s: value name %q (letters only)", k.GoName(), op.Name))
			}
		}
		if op.Kind == Param {
			ParamIndex(op.Ref)
		}
	}
}

// prune removes the operations whose values no store or accumulator update needs,
// renumbering the rest.
func (k *Kernel) prune() {
	live := make([]bool, len(k.Ops))
	for i := len(k.Ops) - 1; i >= 0; i-- {
		op := k.Ops[i]
		if op.Kind == Store || op.Kind == SetAcc {
			live[i] = true
		}
		if live[i] {
			for _, a := range op.Args {
				live[a] = true
			}
		}
	}
	index := make([]int, len(k.Ops))
	var ops []Op
	for i, op := range k.Ops {
		if !live[i] {
			continue
		}
		args := make([]int, len(op.Args))
		for j, a := range op.Args {
			args[j] = index[a]
		}
		op.Args = args
		index[i] = len(ops)
		ops = append(ops, op)
	}
	k.Ops = ops
}
