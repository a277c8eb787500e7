//go:build cgo && amd64

package cpeer

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFastMathVectorises compiles plain.c and fastmath.c as cgo does (cgo's
// default -g -O2, then this package's -O3 -march=native) and reads the machine
// code: the fast-math loops must add packed vectors (the compiler reassociated
// the sum) and the plain loops must not (each loss added in element order). A
// compiler that ignored the pragma, or one that reassociated without leave,
// fails it.
func TestFastMathVectorises(t *testing.T) {
	if !strings.HasPrefix(Compiler(), "gcc ") {
		t.Skipf("compiler %s: the fast-math pragma is GCC's", Compiler())
	}
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("no objdump")
	}
	cc, err := exec.Command("go", "env", "CC").Output()
	if err != nil {
		t.Skip("go env CC: ", err)
	}
	packed := regexp.MustCompile(`\svaddp[sd]\s`)
	for _, v := range []string{"plain", "fast"} {
		src := map[string]string{"plain": "plain.c", "fast": "fastmath.c"}[v]
		obj := filepath.Join(t.TempDir(), v+".o")
		ccArgs := append(strings.Fields(string(cc)), "-g", "-O2", "-O3", "-march=native", "-c", "-o", obj, src)
		if out, err := exec.Command(ccArgs[0], ccArgs[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(ccArgs, " "), err, out)
		}
		for _, fn := range []string{"sum", "mean", "meangrad"} {
			for _, ty := range []string{"f32", "f64"} {
				sym := "sl1_" + fn + "_" + ty + "_" + v
				out, err := exec.Command(objdump, "-d", "--no-show-raw-insn", "--disassemble="+sym, obj).Output()
				if err != nil || !strings.Contains(string(out), "<"+sym+">:") {
					t.Fatalf("objdump %s in %s: %v", sym, obj, err)
				}
				n := len(packed.FindAllIndex(out, -1))
				if v == "fast" && n == 0 {
					t.Errorf("%s: no packed add: the fast-math loop does not vectorise its sum", sym)
				}
				if v == "plain" && n != 0 {
					t.Errorf("%s: %d packed adds: the plain loop reassociates its sum", sym, n)
				}
			}
		}
	}
}
