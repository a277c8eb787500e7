package smoothl1

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gokernels/smoothl1/generated"
)

// TestExpectedImplementation fails when automatic selection did not choose the
// implementation named by SMOOTHL1_EXPECT: CI runs the tests natively and under
// CPU emulation with the implementation each CPU must get.
func TestExpectedImplementation(t *testing.T) {
	want := os.Getenv("SMOOTHL1_EXPECT")
	if want == "" {
		t.Skip("SMOOTHL1_EXPECT not set")
	}
	if os.Getenv("SMOOTHL1_IMPL") != "" {
		t.Fatal("SMOOTHL1_IMPL is set: the automatic choice is not being tested")
	}
	if got := implName(auto); got != want {
		t.Fatalf("automatic dispatch chose %s, want %s (usable: %v)", got, want, Implementations())
	}
	t.Logf("automatic dispatch chose %s (usable: %v)", implName(auto), Implementations())
}

// TestRequiresGated parses the generated assembly of every architecture and fails
// when a function needs a CPU feature (its "// Requires:" line) that the dispatch
// gate of its implementation does not check.
func TestRequiresGated(t *testing.T) {
	gates := map[string][]string{}
	for _, in := range impls {
		gates[strings.ToUpper(in.name)] = in.features
	}
	gates["ROOFLINE"] = gates["AVX2"] // the benchmarks' streaming kernels run where avx2 is usable
	for _, file := range []string{"kernels_amd64.s", "kernels_arm64.s"} {
		f, err := os.Open(filepath.Join("generated", file))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		funcs, required := 0, 0
		var fn string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "// func ") { // the header of each function, before its Requires line
				fn = strings.TrimPrefix(line, "// func ")
				fn = fn[:strings.Index(fn, "(")]
				funcs++
				continue
			}
			if !strings.HasPrefix(line, "// Requires: ") {
				continue
			}
			required++
			var gate []string
			switch {
			case fn == "CPUID": // read once at init (prefetch_amd64.go); every x86-64 CPU has it
				gate = []string{"CPUID"}
			case strings.HasPrefix(fn, "roofline"):
				gate = gates["ROOFLINE"]
			case strings.HasSuffix(fn, "AVX512"):
				gate = gates["AVX512"]
			case strings.HasSuffix(fn, "AVX2"):
				gate = gates["AVX2"]
			case strings.HasSuffix(fn, "NEONBlocks"):
				gate = gates["NEON"]
			default:
				t.Errorf("%s: no implementation for this function", fn)
			}
			for _, feat := range strings.Split(strings.TrimPrefix(line, "// Requires: "), ", ") {
				// Go's amd64 baseline (GOAMD64=v1, every x86-64 CPU) includes CMOV and
				// SSE2, and with it the prefetch instructions, which avo files under
				// AMD's name MMX+.
				found := feat == "MMX+" || feat == "CMOV"
				for _, g := range gate {
					found = found || g == feat
				}
				if !found {
					t.Errorf("%s requires %s, which its dispatch gate %v does not check", fn, feat, gate)
				}
			}
		}
		if funcs < 10 || required < 10 {
			t.Fatalf("%s: found %d functions, %d Requires lines", file, funcs, required)
		}
	}
}

// TestEnvironmentOverride runs this test binary again with SMOOTHL1_IMPL set and
// checks what it chose and what it reported. Where the binary cannot be executed
// again (exec format error: under qemu-user without binfmt_misc), it skips.
func TestEnvironmentOverride(t *testing.T) {
	if os.Getenv("SMOOTHL1_CHILD") != "" {
		t.Logf("child chose %s", Implementation())
		os.Stdout.WriteString("IMPL=" + Implementation() + "\n")
		return
	}
	if testing.Short() {
		t.Skip("spawns the test binary")
	}
	run := func(env string) (impl, stderr string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvironmentOverride$", "-test.v")
		cmd.Env = append(os.Environ(), "SMOOTHL1_CHILD=1", "SMOOTHL1_IMPL="+env)
		var errb strings.Builder
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if errors.Is(err, syscall.ENOEXEC) {
			// The kernel cannot run this binary by itself: a foreign-architecture
			// test binary under qemu-user, without binfmt_misc to start the child.
			t.Skipf("cannot re-execute the test binary here (%v): qemu-user without binfmt_misc?", err)
		}
		if err != nil {
			t.Fatalf("child: %v\n%s%s", err, out, errb.String())
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "IMPL=") {
				impl = strings.TrimPrefix(l, "IMPL=")
			}
		}
		return impl, errb.String()
	}
	for _, in := range eachImpl(t) {
		if in.name != implName(in.id) {
			continue // avx512 again with the prefetch flag flipped (eachImpl)
		}
		if got, _ := run(in.name); got != in.name {
			t.Errorf("SMOOTHL1_IMPL=%s: chose %s", in.name, got)
		}
	}
	got, stderr := run("quantum")
	if got != implName(auto) || !strings.Contains(stderr, `smoothl1: unknown implementation "quantum"`) {
		t.Errorf("SMOOTHL1_IMPL=quantum: chose %s, stderr %q", got, stderr)
	}
	if !usable(impls[0]) && generated.HasAsm {
		got, stderr := run(impls[0].name)
		if got != implName(auto) || !strings.Contains(stderr, "not usable") {
			t.Errorf("SMOOTHL1_IMPL=%s on a CPU without it: chose %s, stderr %q", impls[0].name, got, stderr)
		}
	}
}
