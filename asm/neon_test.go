package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// TestSemantics translates one small kernel per operation kind with this backend,
// runs it under qemu-aarch64 (or natively on arm64) on every pair of special values
// (signed zeros, infinities, NaN, subnormals, ties) and compares each result bit
// for bit with the operation's definition in package kernel, evaluated here in Go:
// Max/Min return the second operand when either is NaN, FMS is a*b - c with one
// rounding (+0 where a*b == c), LT/LE are false and NE true with NaN. The last
// block is partial, so the tail wrapper is covered too; NaN payloads are not
// compared.
func TestSemantics(t *testing.T) {
	qemu := ""
	if !isArm64() {
		var err error
		if qemu, err = exec.LookPath("qemu-aarch64"); err != nil {
			t.Skip("qemu-aarch64 not found (Debian: qemu-user)")
		}
	}
	specials := []float64{0, math.Copysign(0, -1), 1, -1, 1.5, -2.25, 3, 0.1, math.Inf(1), math.Inf(-1), math.NaN(),
		5e-324, -5e-324, 0x1p-1022, math.MaxFloat64, -math.MaxFloat64, 1 + 0x1p-52, 0x1p27 + 1}
	var xs, ys, gs []float64
	for i, a := range specials {
		for j, b := range specials {
			xs, ys = append(xs, a), append(ys, b)
			gs = append(gs, specials[(i*7+j*3)%len(specials)])
		}
	}
	// Exact products to test FMS at a*b == c: x*y with g = the rounded product.
	for _, a := range []float64{3, -3, 0.5, 0, math.Copysign(0, -1)} {
		for _, b := range []float64{7, -0.25, 0, 1, 3} {
			xs, ys, gs = append(xs, a), append(ys, b), append(gs, a*b)
		}
	}
	n := len(xs)
	if n%kernel.Lanes == 0 {
		t.Fatal("want a partial last block")
	}

	type tcase struct {
		k    *kernel.Kernel
		want func(x, y, g float64) float64 // per element; nil for the accumulator kernels
		acc  func(acc, x float64) float64  // lane update of the accumulator kernels
	}
	op := func(kind kernel.Kind, args ...int) kernel.Op { return kernel.Op{Kind: kind, Args: args} }
	load := func(s string) kernel.Op { return kernel.Op{Kind: kernel.Load, Ref: s} }
	store := func(v int) kernel.Op { return kernel.Op{Kind: kernel.Store, Ref: "dst", Args: []int{v}} }
	names := map[*kernel.Kernel]string{} // the wrapper of each test kernel
	b2f, f2b := math.Float64frombits, math.Float64bits
	bin := map[kernel.Kind]func(a, b float64) float64{
		kernel.Add:    func(a, b float64) float64 { return a + b },
		kernel.Sub:    func(a, b float64) float64 { return a - b },
		kernel.Mul:    func(a, b float64) float64 { return float64(a * b) },
		kernel.Div:    func(a, b float64) float64 { return a / b },
		kernel.And:    func(a, b float64) float64 { return b2f(f2b(a) & f2b(b)) },
		kernel.AndNot: func(a, b float64) float64 { return b2f(^f2b(a) & f2b(b)) },
		kernel.Xor:    func(a, b float64) float64 { return b2f(f2b(a) ^ f2b(b)) },
		kernel.Max: func(a, b float64) float64 {
			if a > b {
				return a
			}
			return b
		},
		kernel.Min: func(a, b float64) float64 {
			if a < b {
				return a
			}
			return b
		},
	}
	masks := map[kernel.Kind]func(a, b float64) bool{
		kernel.LT:    func(a, b float64) bool { return a < b },
		kernel.LE:    func(a, b float64) bool { return a <= b },
		kernel.NE:    func(a, b float64) bool { return a != b },
		kernel.IsNaN: func(a, _ float64) bool { return a != a },
	}
	kindNames := map[kernel.Kind]string{kernel.Add: "Add", kernel.Sub: "Sub", kernel.Mul: "Mul", kernel.Div: "Div",
		kernel.And: "And", kernel.AndNot: "AndNot", kernel.Xor: "Xor", kernel.Max: "Max", kernel.Min: "Min",
		kernel.LT: "LT", kernel.LE: "LE", kernel.NE: "NE", kernel.IsNaN: "IsNaN", kernel.FMA: "FMA", kernel.FMS: "FMS"}
	var cases []tcase
	for _, typ := range []kernel.Type{kernel.F64, kernel.F32} {
		// Every test kernel has the signature of GradElementwise (dst, x, y, g) and
		// a name of its own.
		mk := func(name string, _ []string, ops ...kernel.Op) *kernel.Kernel {
			k := &kernel.Kernel{Family: kernel.GradElementwise, Type: typ, Ops: ops}
			names[k] = name + typ.Suffix()
			return k
		}
		xy := []string{"x", "y"}
		for kind, f := range bin {
			cases = append(cases, tcase{k: mk(kindNames[kind], xy, load("x"), load("y"), op(kind, 0, 1), store(2)),
				want: func(x, y, _ float64) float64 { return f(x, y) }})
			// The same with the first operand used again afterwards, so that the
			// result cannot overwrite it.
			cases = append(cases, tcase{k: mk(kindNames[kind]+"Keep", xy, load("x"), load("y"), op(kind, 0, 1), op(kernel.Add, 2, 0), store(3)),
				want: func(x, y, _ float64) float64 { return f(x, y) + x }})
		}
		for _, kind := range []kernel.Kind{kernel.FMA, kernel.FMS} {
			fms := kind == kernel.FMS
			want := func(x, y, g float64) float64 {
				if fms {
					return math.FMA(x, y, -g)
				}
				return math.FMA(x, y, g)
			}
			xyg := []string{"x", "y", "g"}
			cases = append(cases, tcase{k: mk(kindNames[kind], xyg, load("x"), load("y"), load("g"), op(kind, 0, 1, 2), store(3)), want: want})
			// The addend read again afterwards: the instruction must not overwrite it.
			// (Added, not xored: a NaN's bits differ between architectures.)
			cases = append(cases, tcase{k: mk(kindNames[kind]+"Keep", xyg, load("x"), load("y"), load("g"), op(kind, 0, 1, 2), op(kernel.Sub, 3, 2), store(4)),
				want: func(x, y, g float64) float64 { return want(x, y, g) - g }})
		}
		for kind, f := range masks {
			// m ? x : y, and a mask read by an And (a NOT where FCMEQ is inverted).
			cases = append(cases, tcase{k: mk(kindNames[kind]+"Sel", xy, load("x"), load("y"), op(kind, 0, 1), op(kernel.Select, 2, 0, 1), store(3)),
				want: func(x, y, _ float64) float64 {
					if f(x, y) {
						return x
					}
					return y
				}})
			cases = append(cases, tcase{k: mk(kindNames[kind]+"And", xy, load("x"), load("y"), op(kind, 0, 1), op(kernel.And, 2, 0), store(3)),
				want: func(x, y, _ float64) float64 {
					if f(x, y) {
						return x
					}
					return 0
				}})
		}
		// A parameter (H = 0.75) and a select of two values that both live on.
		cases = append(cases, tcase{k: mk("Param", xy, load("x"), load("y"), kernel.Op{Kind: kernel.Param, Ref: "H"},
			op(kernel.LT, 0, 1), op(kernel.Select, 3, 0, 2), op(kernel.Add, 4, 0), op(kernel.Add, 5, 1), store(6)),
			want: func(x, y, _ float64) float64 {
				s := 0.75
				if x < y {
					s = x
				}
				return (s + x) + y
			}})
		// Accumulators: a running sum and a running Max, per lane.
		for _, kind := range []kernel.Kind{kernel.Add, kernel.Max} {
			k := &kernel.Kernel{Family: kernel.Sum, Type: typ, Accs: []string{"a", "b"},
				Ops: []kernel.Op{{Kind: kernel.Acc, Ref: "a"}, load("x"), op(kind, 0, 1), {Kind: kernel.SetAcc, Ref: "a", Args: []int{2}},
					{Kind: kernel.Acc, Ref: "b"}, load("y"), op(kind, 5, 4), {Kind: kernel.SetAcc, Ref: "b", Args: []int{6}}}}
			names[k] = "Acc" + kindNames[kind] + typ.Suffix()
			f := bin[kind]
			cases = append(cases, tcase{k: k, acc: f})
		}
	}

	dir := t.TempDir()
	var ks []*kernel.Kernel
	for _, c := range cases {
		ks = append(ks, c.k)
	}
	s, g, err := neonFiles(ks, "TestSemantics", func(k *kernel.Kernel) string { return names[k] })
	if err != nil {
		t.Fatal(err)
	}
	gdir := filepath.Join(dir, "generated")
	must(t, os.MkdirAll(gdir, 0o755))
	must(t, os.WriteFile(filepath.Join(gdir, "kernels_arm64.s"), s, 0o644))
	must(t, os.WriteFile(filepath.Join(gdir, "kernels_arm64.go"), g, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module neontest\n\ngo 1.24\n"), 0o644))
	var m strings.Builder
	m.WriteString("package generated\n\nimport (\n\t\"fmt\"\n\t\"math\"\n)\n\n")
	fmt.Fprintf(&m, "var p = [%d]float64{%d: 0.75} // H\n\n", len(kernel.Params), kernel.ParamIndex("H"))
	for _, v := range []struct {
		name string
		s    []float64
	}{{"xs", xs}, {"ys", ys}, {"gs", gs}} {
		fmt.Fprintf(&m, "var %s = []uint64{", v.name)
		for _, x := range v.s {
			fmt.Fprintf(&m, "%#x, ", math.Float64bits(x))
		}
		m.WriteString("}\n")
	}
	m.WriteString(`
func f64(b []uint64) []float64 {
	s := make([]float64, len(b))
	for i, v := range b {
		s[i] = math.Float64frombits(v)
	}
	return s
}

func f32(b []uint64) []float32 {
	s := make([]float32, len(b))
	for i, v := range b {
		s[i] = float32(math.Float64frombits(v))
	}
	return s
}

func out[T float32 | float64](name string, s []T) {
	for i, v := range s {
		fmt.Printf("%s %d %016x\n", name, i, math.Float64bits(float64(v)))
	}
}

// Run runs every test kernel and prints the bits of its results.
func Run() {
	x, y, g := f64(xs), f64(ys), f64(gs)
	x32, y32, g32 := f32(xs), f32(ys), f32(gs)
	var acc [16]float64
`)
	for _, c := range cases {
		k := c.k
		args := map[string]string{"dst": "d", "x": "x", "y": "y", "g": "g"}
		name := names[k]
		if k.Type == kernel.F32 {
			args = map[string]string{"dst": "d", "x": "x32", "y": "y32", "g": "g32"}
		}
		call := []string{"&p"}
		for _, sl := range k.Slices() {
			call = append(call, args[sl])
		}
		fmt.Fprintf(&m, "\t{\n")
		if k.Info().Out != "" {
			fmt.Fprintf(&m, "\t\td := make([]%s, len(x))\n", k.Type.GoName())
		}
		if k.AccLen() > 0 {
			call = append(call, "&acc")
			fmt.Fprintf(&m, "\t\tacc = [16]float64{}\n")
		}
		fmt.Fprintf(&m, "\t\t%s(%s)\n", name, strings.Join(call, ", "))
		if k.AccLen() > 0 {
			fmt.Fprintf(&m, "\t\tout(%q, acc[:])\n", name)
		} else {
			fmt.Fprintf(&m, "\t\tout(%q, d)\n", name)
		}
		fmt.Fprintf(&m, "\t}\n")
	}
	m.WriteString("}\n")
	must(t, os.WriteFile(filepath.Join(gdir, "run.go"), []byte(m.String()), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport \"neontest/generated\"\n\nfunc main() { generated.Run() }\n"), 0o644))

	exe := filepath.Join(dir, "neontest")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not in PATH")
	}
	build := exec.Command(gobin, "build", "-o", exe, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test kernels: %v\n%s", err, out)
	}
	run := exec.Command(exe)
	if qemu != "" {
		run = exec.Command(qemu, exe)
	}
	outb, err := run.Output()
	if err != nil {
		t.Fatalf("running the test kernels: %v", err)
	}
	got := map[string][]uint64{}
	sc := bufio.NewScanner(strings.NewReader(string(outb)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		b, err := strconv.ParseUint(f[2], 16, 64)
		if err != nil || len(f) != 3 {
			t.Fatalf("bad output line %q", sc.Text())
		}
		got[f[0]] = append(got[f[0]], b)
	}

	// round converts a float64 result to the element type and back, as a store does.
	checked := 0
	for _, c := range cases {
		k := c.k
		round := func(v float64) float64 { return v }
		in := func(v float64) float64 { return v }
		if k.Type == kernel.F32 {
			round = func(v float64) float64 { return float64(float32(v)) }
			in = round // float32 inputs, widened exactly
		}
		name := names[k]
		res := got[name]
		var want []float64
		if c.want != nil {
			for i := range xs {
				want = append(want, round(c.want(in(xs[i]), in(ys[i]), in(gs[i]))))
			}
		} else {
			// Lane sums over zero-padded blocks: a over x, b over y.
			want = make([]float64, 16)
			nb := (n + kernel.Lanes - 1) / kernel.Lanes * kernel.Lanes
			for i := 0; i < nb; i++ {
				xv, yv := 0.0, 0.0
				if i < n {
					xv, yv = in(xs[i]), in(ys[i])
				}
				l := i % kernel.Lanes
				want[l] = c.acc(want[l], xv)
				want[8+l] = c.acc(yv, want[8+l]) // b = op(y, b)
			}
		}
		if len(res) != len(want) {
			t.Errorf("%s: %d results, want %d", name, len(res), len(want))
			continue
		}
		bad := 0
		for i, w := range want {
			gv := math.Float64frombits(res[i])
			if (w != w && gv != gv) || math.Float64bits(w) == res[i] {
				checked++
				continue
			}
			if bad++; bad <= 3 {
				if c.want != nil {
					t.Errorf("%s: x=%v y=%v g=%v: got %v (%#x), want %v (%#x)", name, xs[i], ys[i], gs[i], gv, res[i], w, math.Float64bits(w))
				} else {
					t.Errorf("%s: acc[%d] = %v, want %v", name, i, gv, w)
				}
			}
		}
	}
	t.Logf("%d kernels, %d results checked bit for bit", len(cases), checked)
}

// isArm64 reports whether the test runs on arm64 (the kernels run natively).
func isArm64() bool { return runtime.GOARCH == "arm64" }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoSpill checks that a description needing more registers than NEON has
// stops the generator with an error instead of producing wrong code, and that a
// slice loaded twice in a block (its pointer would advance twice) is refused.
func TestNoSpill(t *testing.T) {
	ops := []kernel.Op{{Kind: kernel.Load, Ref: "x"}, {Kind: kernel.Load, Ref: "y"}}
	// 40 values, all live until the chain of additions at the end.
	for i := 0; i < 40; i++ {
		ops = append(ops, kernel.Op{Kind: kernel.Add, Args: []int{0, len(ops) - 1}})
	}
	sum := len(ops) - 1
	for i := 2; i < 41; i++ {
		ops = append(ops, kernel.Op{Kind: kernel.Add, Args: []int{sum, i}})
		sum = len(ops) - 1
	}
	ops = append(ops, kernel.Op{Kind: kernel.Store, Ref: "dst", Args: []int{sum}})
	k := &kernel.Kernel{Family: kernel.Grad, Type: kernel.F64, Ops: ops}
	name := func(*kernel.Kernel) string { return "wideF64NEON" }
	if _, _, err := neonFiles([]*kernel.Kernel{k}, "TestNoSpill", name); err == nil || !strings.Contains(err.Error(), "out of vector registers") {
		t.Fatalf("neonFiles = %v, want an out of registers error", err)
	}
	// The same with a few values fits.
	k.Ops = append(ops[:6:6], kernel.Op{Kind: kernel.Store, Ref: "dst", Args: []int{5}})
	if _, _, err := neonFiles([]*kernel.Kernel{k}, "TestNoSpill", name); err != nil {
		t.Fatalf("a small kernel: %v", err)
	}
	k.Ops = []kernel.Op{{Kind: kernel.Load, Ref: "x"}, {Kind: kernel.Load, Ref: "x"}, {Kind: kernel.Add, Args: []int{0, 1}}, {Kind: kernel.Store, Ref: "dst", Args: []int{2}}}
	if _, _, err := neonFiles([]*kernel.Kernel{k}, "TestNoSpill", name); err == nil {
		t.Fatal("a slice loaded twice: no error")
	}
}
