package smoothl1

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// neonWord is one WORD of the generated arm64 assembly and the instruction its
// comment says it is.
type neonWord struct {
	fn   string
	word uint32
	text string
}

var (
	asmTextRe  = regexp.MustCompile(`^TEXT ·(\w+)\(SB\)`)
	asmWordRe  = regexp.MustCompile(`^\s*WORD\s+\$0x([0-9a-f]{8})\s*//\s*(.+)$`)
	dumpFuncRe = regexp.MustCompile(`^[0-9a-f]+ <(.*)>:$`)
	dumpInstRe = regexp.MustCompile(`^\s*[0-9a-f]+:\s+([0-9a-f]{8})\s+(.+)$`)
)

// normInst puts an instruction in one spelling: lower case, single spaces.
func normInst(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(s, ",", ", "))), " ")
}

// TestNEONWords disassembles the arm64 test binary with binutils' objdump and checks
// that every WORD of the generated NEON assembly (instructions the Go assembler
// lacks, written by asm/neonenc.go) is in its function, in order, and is the
// instruction its comment names. On arm64 it disassembles itself; elsewhere it
// builds the arm64 test binary first (not with -short).
func TestNEONWords(t *testing.T) {
	objdump, err := exec.LookPath("aarch64-linux-gnu-objdump")
	if err != nil && runtime.GOARCH == "arm64" {
		objdump, err = exec.LookPath("objdump")
	}
	if err != nil {
		t.Skip("aarch64-linux-gnu-objdump not found (Debian: binutils-aarch64-linux-gnu); CI installs it")
	}
	// The words of the assembly, per function.
	f, err := os.Open(filepath.Join("generated", "kernels_arm64.s"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]neonWord{}
	var fn string
	nwords := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := asmTextRe.FindStringSubmatch(line); m != nil {
			fn = m[1]
		}
		if strings.Contains(line, "WORD") {
			m := asmWordRe.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: a WORD without the instruction as its comment: %q", fn, line)
			}
			w, _ := strconv.ParseUint(m[1], 16, 32)
			want[fn] = append(want[fn], neonWord{fn, uint32(w), normInst(m[2])})
			nwords++
		}
	}
	if nwords < 100 {
		t.Fatalf("found %d WORDs in the assembly", nwords)
	}

	bin := os.Args[0]
	if runtime.GOARCH != "arm64" {
		if testing.Short() {
			t.Skip("builds the arm64 test binary")
		}
		gobin, err := exec.LookPath("go")
		if err != nil {
			t.Skip("the go command is not in PATH: cannot build the arm64 test binary")
		}
		bin = filepath.Join(t.TempDir(), "arm64.test")
		cmd := exec.Command(gobin, "test", "-c", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building the arm64 test binary: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(objdump, "-d", bin).Output()
	if err != nil {
		t.Fatalf("%s -d %s: %v", objdump, bin, err)
	}
	type dumped struct {
		word uint32
		text string
	}
	got := map[string][]dumped{}
	fn = ""
	for _, line := range strings.Split(string(out), "\n") {
		if m := dumpFuncRe.FindStringSubmatch(line); m != nil {
			fn = strings.TrimSuffix(m[1], ".abi0")
			fn = fn[strings.LastIndex(fn, ".")+1:]
			if _, ok := want[fn]; !ok {
				fn = ""
			}
			continue
		}
		if fn == "" {
			continue
		}
		if m := dumpInstRe.FindStringSubmatch(line); m != nil {
			w, _ := strconv.ParseUint(m[1], 16, 32)
			got[fn] = append(got[fn], dumped{uint32(w), normInst(m[2])})
		}
	}
	checked := 0
	for fn, ws := range want {
		dis := got[fn]
		if len(dis) == 0 {
			t.Errorf("%s: not in the disassembly of %s", fn, bin)
			continue
		}
		j := 0
		for _, w := range ws {
			for j < len(dis) && dis[j].word != w.word {
				j++
			}
			if j == len(dis) {
				t.Errorf("%s: WORD $0x%08x (%s) not found in order in the binary", fn, w.word, w.text)
				break
			}
			if dis[j].text != w.text {
				t.Errorf("%s: WORD $0x%08x says %q, objdump says %q", fn, w.word, w.text, dis[j].text)
			}
			checked++
			j++
		}
	}
	t.Logf("%d WORDs in %d functions checked against %s", checked, len(want), objdump)
}
