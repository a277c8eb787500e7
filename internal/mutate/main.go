// Command mutate checks that the test suite catches broken kernels: it makes
// single-instruction or single-operator changes (mutants) to the generated assembly
// and the generated Go, runs the tests against each mutant in a scratch copy of the
// repository, and reports how many were caught.
//
// Run all mutants (an hour or more), or a random sample (as CI does):
//
//	go run ./internal/mutate -all                # every mutant, on all CPUs (-j)
//	go run ./internal/mutate -sample 8 -seed 1
//	go run ./internal/mutate -only generated/kernels_amd64.s:1845   # the mutants at a line
//	go run ./internal/mutate -arch arm64 -sample 8  # the NEON assembly, tests under qemu-aarch64
//
// With -arch arm64 the mutants are changes to the WORDs of the NEON assembly (one
// instruction encoding for another, the comment following), tested under
// qemu-aarch64, where automatic dispatch picks neon. The test binary is built once
// (GOARCH=arm64) and each mutant's word patched into a copy of it, at the offset
// the pcln table gives for its line (checked against the original word); the fuzz
// seeds run first, the full -run set only if they pass (and, for a mutant expected
// to survive, only for a spot-check of them: -spot). -rebuild builds a binary
// per mutant instead and runs the full set alone (the slow way, to compare).
//
//	go run ./internal/mutate -arch arm64 -list   # the mutants, without running any
//
// A mutant that changes results must be caught. The ones that cannot change
// results are listed with the reason (e.g. a dropped VZEROUPPER only costs speed).
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mutant is one change to one file.
type mutant struct {
	file   string
	line   int    // 1-based
	rule   string // the rule's desc
	desc   string // the rule and the function
	from   string
	to     string
	reason string // non-empty: cannot change results, and why
}

// The files the rules mutate.
const (
	asmFile  = "generated/kernels_amd64.s"
	goFile   = "generated/kernels.go"
	neonFile = "generated/kernels_arm64.s" // -arch arm64
)

type rule struct {
	re     *regexp.Regexp
	to     string
	desc   string
	reason string
	// fn, if set, rewrites a matching line instead of to (the arm64 WORD rules).
	fn func(line string) string
}

// The mutation rules. Assembly rules act on instructions; Go rules on the operators
// of the generated kernels.
var asmRules = []rule{
	{regexp.MustCompile(`\bVSUBPD\b`), "VADDPD", "VSUBPD -> VADDPD", "", nil},
	{regexp.MustCompile(`\bVADDPD\b`), "VSUBPD", "VADDPD -> VSUBPD", "", nil},
	{regexp.MustCompile(`\bVMULPD\b`), "VADDPD", "VMULPD -> VADDPD", "", nil},
	{regexp.MustCompile(`\bVFMADD231PD\b`), "VFMSUB231PD", "VFMADD231PD -> VFMSUB231PD", "", nil},
	{regexp.MustCompile(`\bVFMSUB231PD\b`), "VFMADD231PD", "VFMSUB231PD -> VFMADD231PD", "", nil},
	{regexp.MustCompile(`VCMPPD(\s+)\$0x11`), "VCMPPD${1}$$0x12", "compare < -> <=", "", nil},
	{regexp.MustCompile(`VCMPPD(\s+)\$0x12`), "VCMPPD${1}$$0x11", "compare <= -> <", "", nil},
	// (No != or unordered compare since the second edition of the canonical order:
	// the gradients take their branch by one mask, z >= Kg.)
	{regexp.MustCompile(`\bVPANDNQ\b`), "VPANDQ", "VPANDNQ -> VPANDQ", "", nil},
	{regexp.MustCompile(`\bVANDNPD\b`), "VANDPD", "VANDNPD -> VANDPD", "", nil},
	{regexp.MustCompile(`\bVPXORQ\b`), "VPORQ", "VPXORQ -> VPORQ", "", nil},
	{regexp.MustCompile(`\bVXORPD\b`), "VORPD", "VXORPD -> VORPD", "", nil},
	{regexp.MustCompile(`^(\s*)VZEROUPPER\b`), "${1}NOP", "drop VZEROUPPER", "VZEROUPPER only avoids AVX-SSE transition stalls: results cannot change", nil},
	{regexp.MustCompile(`(tailmaskk<>\+\d+\(SB\)/2, \$0x)([0-9a-f]+)`), "${1}0${2}1", "shift a tail opmask", "", nil},
	{regexp.MustCompile(`(tailmask64<>\+56\(SB\)/8, \$)0xffffffffffffffff`), "${1}0x0000000000000000", "shorten the AVX2 tail mask", "", nil},
	{regexp.MustCompile(`(tailmask32<>\+28\(SB\)/4, \$)0xffffffff`), "${1}0x00000000", "shorten the AVX2 float32 tail mask", "", nil},
	{regexp.MustCompile(`ADDQ(\s+)\$0x08`), "ADDQ${1}$$0x10", "skip a block", "", nil},
	{regexp.MustCompile(`ADDQ(\s+)\$0x10`), "ADDQ${1}$$0x08", "repeat a block (two-block loop)", "", nil},
	{regexp.MustCompile(`\bVMAXPD\b`), "VMINPD", "VMAXPD -> VMINPD", "", nil},
	{regexp.MustCompile(`\bVMINPD\b`), "VMAXPD", "VMINPD -> VMAXPD", "", nil},
	{regexp.MustCompile(`^(\s*)PREFETCH(NTA|T0|T1)\b.*`), "${1}NOP", "drop a prefetch", "a prefetch is a hint that loads no register: results cannot change", nil},
}

// NEON instruction encodings (see asm/neonenc.go): the base word with all
// register fields zero. The arm64 rules replace one base by another in a WORD,
// keeping the registers (bits 0-9 and 16-20), and rename the comment's mnemonic.
var neonBase = map[string]uint32{
	"FADD": 0x4e60d400, "FSUB": 0x4ee0d400, "FMUL": 0x6e60dc00, "FDIV": 0x6e60fc00,
	"FMLA": 0x4e60cc00, "FMLS": 0x4ee0cc00,
	"FCMEQ": 0x4e60e400, "FCMGE": 0x6e60e400, "FCMGT": 0x6ee0e400,
	"AND": 0x4e201c00, "BIC": 0x4e601c00, "ORR": 0x4ea01c00, "EOR": 0x6e201c00,
	"BSL": 0x6e601c00, "BIT": 0x6ea01c00, "BIF": 0x6ee01c00,
	"FNEG": 0x6ee0f800, "FABS": 0x4ee0f800,
	"FCVTL": 0x0e617800, "FCVTL2": 0x4e617800,
}

var neonWord = regexp.MustCompile(`^(\s*WORD \$)0x([0-9a-f]{8})( // )([A-Z0-9]+)( .*)$`)

// neonRule replaces instruction from by to in a WORD.
func neonRule(from, to, desc, reason string) rule {
	return rule{
		re:     regexp.MustCompile(`WORD \$0x[0-9a-f]{8} // ` + from + ` `),
		desc:   desc,
		reason: reason,
		fn: func(line string) string {
			m := neonWord.FindStringSubmatch(line)
			w, err := strconv.ParseUint(m[2], 16, 32)
			check(err)
			nw := neonBase[to] | uint32(w)&0x001f03ff
			return fmt.Sprintf("%s0x%08x%s%s%s", m[1], nw, m[3], to, m[5])
		},
	}
}

var armRules = []rule{
	neonRule("FADD", "FSUB", "FADD -> FSUB", ""),
	neonRule("FSUB", "FADD", "FSUB -> FADD", ""),
	neonRule("FMUL", "FADD", "FMUL -> FADD", ""),
	neonRule("FDIV", "FMUL", "FDIV -> FMUL", ""),
	neonRule("FMLA", "FMLS", "FMLA -> FMLS", ""),
	neonRule("FCMGT", "FCMGE", "compare > -> >=", ""),
	neonRule("FCMGE", "FCMGT", "compare >= -> >", ""),
	// (No FCMEQ, NE or IsNaN, since the second edition of the canonical order.)
	neonRule("BIC", "AND", "BIC -> AND", ""),
	neonRule("AND", "BIC", "AND -> BIC", ""),
	neonRule("EOR", "ORR", "EOR -> ORR", ""),
	neonRule("BSL", "BIF", "BSL -> BIF", ""),
	neonRule("BIT", "BIF", "BIT -> BIF", ""),
	neonRule("BIF", "BIT", "BIF -> BIT", ""),
	neonRule("FNEG", "FABS", "FNEG -> FABS", ""),
	neonRule("FCVTL", "FCVTL2", "FCVTL -> FCVTL2", ""),
	neonRule("FCVTL2", "FCVTL", "FCVTL2 -> FCVTL", ""),
	{re: regexp.MustCompile(`^(\s*)WORD \$0x[0-9a-f]{8} // MOV .*`), to: "${1}NOP", desc: "drop a MOV"},
}

// A value of the generated Go is named as in the description, then its index
// (x0, d2, z8, v11; gen/kernel's ValueName); accumulator lanes are accs0 ... accl7.
var goRules = []rule{
	{regexp.MustCompile(`:= ([A-Za-z]+\d+) - ([A-Za-z]+\d+)$`), ":= $1 + $2", "- -> +", "", nil},
	{regexp.MustCompile(`:= ([A-Za-z]+\d+) \+ ([A-Za-z]+\d+)$`), ":= $1 - $2", "+ -> -", "", nil},
	{regexp.MustCompile(`if ([A-Za-z]+\d+) < ([A-Za-z]+\d+) \{`), "if $1 <= $2 {", "< -> <=", "", nil},
	{regexp.MustCompile(`if ([A-Za-z]+\d+) <= ([A-Za-z]+\d+) \{`), "if $1 < $2 {", "<= -> <", "", nil},
	// (No != since the second edition: see the compares above.)
	{regexp.MustCompile(`math\.FMA\(([A-Za-z]+\d+), ([A-Za-z]+\d+), -([A-Za-z]+\d+)\)`), "math.FMA($1, $2, $3)", "FMS -> FMA", "", nil},
	{regexp.MustCompile(`float64\(([A-Za-z]+\d+) \* ([A-Za-z]+\d+)\)`), "($1 * $2 * 1.0000001)", "perturb a product", "", nil},
	{regexp.MustCompile(`\) \^ math\.Float64bits`), ") | math.Float64bits", "xor -> or", "", nil},
	{regexp.MustCompile(`(i \+= )8`), "${1}16", "skip a block", "", nil},
	{regexp.MustCompile(`if ([A-Za-z]+\d+) > ([A-Za-z]+\d+) \{`), "if $1 < $2 {", "max -> min", "", nil},
}

func main() {
	all := flag.Bool("all", false, "run every mutant")
	sample := flag.Int("sample", 8, "number of mutants to run (without -all)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the sample")
	workers := flag.Int("j", runtime.NumCPU(), "mutants tested at once")
	only := flag.String("only", "", "run only the mutants at these comma-separated file:line locations (e.g. the survivors of an earlier run)")
	tests := flag.String("run", "Golden|Agree|Digest|Fuzz|InPlace|LaneAcc|Boundary|Float32Overflow|Weighted|Rows|RowKernels", "tests to run against each mutant (go test -run)")
	funcRe := flag.String("func", "", "only the mutants in functions whose name matches this regexp (e.g. (?i)weight for the weighted kernels)")
	arch := flag.String("arch", "amd64", "amd64: the AVX assembly and the generated Go, tested natively; arm64: the NEON assembly, tested under qemu-aarch64")
	list := flag.Bool("list", false, "list the mutants (after -func and -only) without running any")
	spotEvery := flag.Int("spot", 8, "arm64: an expected-equivalent mutant that survives stage 1 skips the full set, except the first of each rule and reason and every n-th (1: all run it, for the verdicts of the full set alone)")
	rebuild := flag.Bool("rebuild", false, "arm64: rebuild the test binary for each mutant and run the tests in one stage (the slow way, to check the patching against)")
	flag.Parse()
	start := time.Now()

	root, err := os.Getwd()
	check(err)
	if _, err := os.Stat(filepath.Join(root, asmFile)); err != nil {
		fail("run from the repository root")
	}
	var sets []ruleSet
	switch *arch {
	case "amd64":
		sets = []ruleSet{{asmFile, asmRules}, {goFile, goRules}}
	case "arm64":
		if _, err := exec.LookPath("qemu-aarch64"); err != nil && !*list {
			fail("-arch arm64 runs the tests under qemu-aarch64, which is not installed (Debian: qemu-user)")
		}
		sets = []ruleSet{{neonFile, armRules}}
	default:
		fail("unknown -arch " + *arch)
	}
	var ms []mutant
	funcs := map[string]bool{}
	for _, set := range sets {
		ms = append(ms, mutants(root, set.file, set.rules, funcs)...)
	}
	names := checkCoverage(root, ms, funcs, *tests, sets, *arch)
	fmt.Printf("%d mutants\n", len(ms))
	if *funcRe != "" {
		re := regexp.MustCompile(*funcRe)
		var sel []mutant
		for _, m := range ms {
			if _, fn, _ := strings.Cut(m.desc, " in "); re.MatchString(fn) {
				sel = append(sel, m)
			}
		}
		ms = sel
		fmt.Printf("%d mutants in functions matching %s\n", len(ms), *funcRe)
	}
	if *only != "" {
		want := map[string]bool{}
		for _, loc := range strings.Split(*only, ",") {
			want[strings.TrimSpace(loc)] = true
		}
		var sel []mutant
		for _, m := range ms {
			if want[fmt.Sprintf("%s:%d", m.file, m.line)] {
				sel = append(sel, m)
			}
		}
		ms = sel
		fmt.Printf("running the %d mutants at %d locations\n", len(ms), len(want))
	} else if !*all && !*list {
		r := rand.New(rand.NewPCG(*seed, 1))
		r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		ms = ms[:min(*sample, len(ms))]
		fmt.Printf("running a sample of %d (seed %d)\n", len(ms), *seed)
	}
	if *list {
		listMutants(ms)
		return
	}
	// arm64: stage 1 runs the quick tests that the -run pattern selects.
	var stage1 string
	if *arch == "arm64" && !*rebuild {
		stage1 = stage1Pattern(names, *tests)
		if stage1 == "" {
			fmt.Println("no stage 1: -run selects none of the quick tests, or has a /")
		} else {
			fmt.Println("stage 1: -run " + stage1)
		}
	}
	spot := spotChecks(ms, *spotEvery)
	if stage1 != "" {
		expected := 0
		for _, m := range ms {
			if m.reason != "" {
				expected++
			}
		}
		fmt.Printf("stage 2 (-run %s) for every stage-1 survivor, except the expected-equivalent ones: of those %d, only %d run it (the first of each rule and reason and every %d-th: -spot); the others are reported \"survived stage 1 (expected: ...)\"\n", *tests, expected, len(spot), max(1, *spotEvery))
	}
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	check(err)
	files := strings.Split(strings.TrimSpace(string(out)), "\n")
	jobs := make(chan int)
	results := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	caught, survived, explained := 0, 0, 0
	// arm64 (unless -rebuild): the unmutated test binary, built once, and where
	// each mutant's word is in it; each worker patches its own copy.
	var pristine string
	var patches map[int]patch
	for w := 0; w < max(1, *workers); w++ {
		// Each worker mutates its own scratch copy of the repository.
		scratch, err := os.MkdirTemp("", "smoothl1-mutate-")
		check(err)
		scratchMu.Lock()
		scratches = append(scratches, scratch)
		scratchMu.Unlock()
		defer os.RemoveAll(scratch)
		for _, f := range files {
			copyFile(filepath.Join(root, f), filepath.Join(scratch, f))
		}
		var bin string
		if *arch == "arm64" && !*rebuild {
			if pristine == "" {
				pristine = filepath.Join(scratch, "pristine-arm64.test")
				t := time.Now()
				if err := buildARM(scratch, pristine); err != nil {
					fail("the unmutated arm64 test binary does not build: " + err.Error())
				}
				patches, err = findPatches(pristine, ms)
				if err != nil {
					fail("cannot patch the arm64 test binary: " + err.Error())
				}
				fmt.Printf("built the arm64 test binary in %v; %d of the %d mutants are patched into it, the others rebuilt\n", time.Since(t).Round(time.Millisecond), len(patches), len(ms))
				// A stage that fails unmutated would call every mutant caught.
				// (-all also checks the full set: minutes, against hours.)
				checks := []string{stage1}
				if *all {
					checks = append(checks, *tests)
				}
				for _, pattern := range checks {
					if pattern == "" {
						continue
					}
					t := time.Now()
					if failed, why := runQemu(scratch, pristine, pattern); failed {
						fail("the unmutated arm64 test binary fails -run " + pattern + " " + why)
					}
					fmt.Printf("the unmutated binary passes -run %s (%v)\n", pattern, time.Since(t).Round(100*time.Millisecond))
				}
			}
			bin = filepath.Join(scratch, "mutant-arm64.test")
			copyFile(pristine, bin)
			check(os.Chmod(bin, 0o755))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				m := ms[j]
				t := time.Now()
				var status string
				if bin != "" {
					var p *patch
					if q, ok := patches[j]; ok {
						p = &q
					}
					status = runARM(scratch, bin, m, p, stage1, *tests, spot[j])
				} else {
					status = run(scratch, m, *tests)
				}
				mu.Lock()
				switch {
				case strings.HasPrefix(status, "CAUGHT"):
					caught++
				case strings.HasPrefix(status, "survived"):
					explained++
				default:
					survived++
				}
				mu.Unlock()
				results <- fmt.Sprintf("%-32s %s:%d %s [%.1fs]", status, m.file, m.line, m.desc, time.Since(t).Seconds())
			}
		}()
	}
	go func() {
		for j := range ms {
			jobs <- j
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	for r := range results {
		fmt.Println(r)
	}
	fmt.Printf("\n%d mutants: %d caught, %d survived as expected (cannot change results), %d survived\n", len(ms), caught, explained, survived)
	fmt.Printf("elapsed %v\n", time.Since(start).Round(time.Second))
	if survived > 0 {
		os.Exit(1)
	}
}

// funcStart matches the first line of a function: TEXT in assembly, func in Go.
var funcStart = regexp.MustCompile(`^(?:TEXT ·|func )(\w+)\(`)

// equivalence names mutants that cannot change any result: those of the rules
// descs in the functions whose names (lower case) start with one of prefixes.
type equivalence struct {
	descs    []string
	prefixes []string
	reason   string
	arch     string // the -arch whose files it is about
}

// ruleSet is the rules of one file.
type ruleSet struct {
	file  string
	rules []rule
}

// equivalences are the known mutants that cannot change results. At |x - y| ==
// beta both branches of the loss agree mathematically; the float32 kernels compute
// them in float64, where they differ by a float64 ulp at most, and round to the
// same float32. (The float32 Sum kernels keep float64 lanes, where it shows.)
var equivalences = []equivalence{
	// GradElementwise xors only the sign of d into B (1 or delta), which is never negative.
	{[]string{"VPXORQ -> VPORQ", "VXORPD -> VORPD", "xor -> or"}, []string{"gradelementwise"},
		"the only xor puts sign(d) on B = 1 or delta > 0, whose sign bit is clear: or is the same", "amd64"},
	{[]string{"compare < -> <=", "< -> <="}, []string{"elementwisef32", "gradf32", "gradelementwisef32"},
		"z < beta vs z <= beta in a float32 kernel: both branches round to the same float32 at z == beta", "amd64"},
	{[]string{"EOR -> ORR"}, []string{"gradelementwise"},
		"the only xor puts sign(d) on B = 1 or delta > 0, whose sign bit is clear: or is the same", "arm64"},
	// On arm64, z < K is FCMGT K, z: the only > of these kernels.
	{[]string{"compare > -> >="}, []string{"elementwisef32", "gradf32", "gradelementwisef32"},
		"z < beta vs z <= beta in a float32 kernel: both branches round to the same float32 at z == beta", "arm64"},
}

// equivalent returns why a mutant of rule desc in function fn cannot change any
// result, or "".
func equivalent(fn, desc string) string {
	f := strings.ToLower(fn)
	for _, e := range equivalences {
		if slices.Contains(e.descs, desc) && slices.ContainsFunc(e.prefixes, func(p string) bool { return strings.HasPrefix(f, p) }) {
			return e.reason
		}
	}
	return ""
}

// checkCoverage fails the tool when a rule made no mutant in the files it scans,
// an equivalence names no function or rule there, or an alternative of the tests
// pattern names no test: a renamed instruction, kernel, variable or test must not
// quietly leave fewer mutants, or fewer tests to catch them.
func checkCoverage(root string, ms []mutant, funcs map[string]bool, tests string, sets []ruleSet, arch string) []string {
	var problems []string
	made, madeIn := map[string]bool{}, map[[2]string]bool{}
	for _, m := range ms {
		made[m.rule] = true
		madeIn[[2]string{m.file, m.rule}] = true
	}
	for _, set := range sets {
		for _, r := range set.rules {
			if !madeIn[[2]string{set.file, r.desc}] {
				problems = append(problems, fmt.Sprintf("rule %q (%s) matches nothing in %s", r.desc, r.re, set.file))
			}
		}
	}
	for _, e := range equivalences {
		if e.arch != arch {
			continue
		}
		for _, p := range e.prefixes {
			found := false
			for f := range funcs {
				found = found || strings.HasPrefix(strings.ToLower(f), p)
			}
			if !found {
				problems = append(problems, fmt.Sprintf("equivalence %q: no function starts with %q", e.reason, p))
			}
		}
		for _, d := range e.descs {
			if !made[d] {
				problems = append(problems, fmt.Sprintf("equivalence %q: rule %q made no mutant", e.reason, d))
			}
		}
	}
	cmd := exec.Command("go", "test", "-list", ".", ".")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		problems = append(problems, fmt.Sprintf("go test -list: %v", err))
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Test") || strings.HasPrefix(l, "Fuzz") || strings.HasPrefix(l, "Example") {
			names = append(names, l)
		}
	}
	for _, alt := range alternatives(tests) {
		re, err := regexp.Compile(alt)
		if err != nil {
			problems = append(problems, fmt.Sprintf("-run alternative %q: %v", alt, err))
			continue
		}
		if !slices.ContainsFunc(names, re.MatchString) {
			problems = append(problems, fmt.Sprintf("-run alternative %q matches no test of the root package", alt))
		}
	}
	if len(problems) > 0 {
		fail("the mutation rules no longer fit the code (rename the rule, or drop it on purpose):\n  " + strings.Join(problems, "\n  "))
	}
	return names
}

// spotChecks returns the indexes of the expected-equivalent mutants of ms that
// still run the full set after surviving stage 1: the first of each rule and
// reason, and every n-th of them (in the order of ms).
func spotChecks(ms []mutant, n int) map[int]bool {
	spot := map[int]bool{}
	seen := map[[2]string]bool{}
	k := 0
	for i, m := range ms {
		if m.reason == "" {
			continue
		}
		if g := [2]string{m.rule, m.reason}; !seen[g] || k%max(1, n) == 0 {
			seen[g] = true
			spot[i] = true
		}
		k++
	}
	return spot
}

// stage1Pattern returns the -run pattern of the quick tests (stage1Tests) among
// names that tests selects, or "" if none is, or if tests has a / (a subtest
// pattern, which a test name alone cannot be matched against).
func stage1Pattern(names []string, tests string) string {
	re := regexp.MustCompile(tests)
	if strings.Contains(tests, "/") {
		return ""
	}
	var sel []string
	for _, n := range names {
		if stage1Tests.MatchString(n) && re.MatchString(n) {
			sel = append(sel, regexp.QuoteMeta(n))
		}
	}
	if len(sel) == 0 {
		return ""
	}
	return "^(" + strings.Join(sel, "|") + ")$"
}

// listMutants prints the mutants, with the reason of those that cannot change
// results, and the counts.
func listMutants(ms []mutant) {
	explained := 0
	for _, m := range ms {
		fmt.Printf("%s:%d %s", m.file, m.line, m.desc)
		if m.reason != "" {
			explained++
			fmt.Printf(" (expected to survive: %s)", m.reason)
		}
		fmt.Println()
	}
	fmt.Printf("\n%d mutants: %d expected to survive (cannot change results), %d must be caught\n", len(ms), explained, len(ms)-explained)
}

// alternatives splits a regular expression at its top-level |.
func alternatives(re string) []string {
	var alts []string
	depth, start := 0, 0
	for i := 0; i < len(re); i++ {
		switch re[i] {
		case '\\':
			i++
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '|':
			if depth == 0 {
				alts = append(alts, re[start:i])
				start = i + 1
			}
		}
	}
	return append(alts, re[start:])
}

// neonInst reads the instruction and registers of a NEON WORD's comment.
var neonInst = regexp.MustCompile(`// ([A-Z0-9]+) V(\d+)\.\w+, V(\d+)\.\w+(?:, V(\d+)\.\w+)?$`)

// neonEquivalent returns why an arm64 compare mutant cannot change any result, or
// "": a compare whose next instruction selects by it between its own two operands
// is a Max or Min (asm/neon.go), and the kernels take the Max/Min only of lane sums
// and of |x - y|, never -0, so where the two are equal they have the same bits and
// > and >= pick the same.
func neonEquivalent(line, next, desc string) string {
	if desc != "compare > -> >=" && desc != "compare >= -> >" {
		return ""
	}
	c, sel := neonInst.FindStringSubmatch(line), neonInst.FindStringSubmatch(next)
	if c == nil || sel == nil {
		return ""
	}
	var mask string
	var data [2]string
	switch sel[1] {
	case "BSL": // d = d ? n : m
		mask, data = sel[2], [2]string{sel[3], sel[4]}
	case "BIT", "BIF": // d = m ? n : d, d = m ? d : n
		mask, data = sel[4], [2]string{sel[2], sel[3]}
	default:
		return ""
	}
	if mask != c[2] || !(data == [2]string{c[3], c[4]} || data == [2]string{c[4], c[3]}) {
		return ""
	}
	return "the compare of a Max/Min, which the kernels take only of sums and |x - y| (never -0): equal values have the same bits, so > and >= pick the same"
}

// describedLinear matches the comment of the NEON Elementwise float64 kernels'
// operation lh = B * mh (asm/neon.go writes each operation's line of the
// description before its instructions).
var describedLinear = regexp.MustCompile(`^\s*// lh\d+ = mul B\d+, mh\d+:`)

// describedNegCh matches, in the float64 row kernels, the value negch = xor ch,
// NegZero (negqd in the means), in the line of the description before the assembly
// (asm and asm/neon.go write it as a comment) or in the Go line itself
// (generated/kernels.go names the values); describedNotFin and describedCl match
// the means' nf and the finish's cl the same way.
var (
	describedNegCh  = regexp.MustCompile(`neg(ch|qd)\d+ (= xor|:= )`)
	describedNotFin = regexp.MustCompile(`nf\d+ = div q\d+, RowDiv\d+`)
	rowKernel       = regexp.MustCompile(`^row(sums|means)\d`) // the row kernels' functions, lower case
	describedCl     = regexp.MustCompile(`cl\d+ = fma v\d+, One\d+, v\d+`)
)

// describedEquivalent returns why a mutant cannot change any result, from the line
// of the description before it (prev) or its own line, or "":
//   - in the float64 Elementwise kernels (second edition of the canonical order),
//     lh = B * mh is the loss only where z is +Inf or NaN (elsewhere the
//     double-double result is selected), and there, with B > 0, B * mh and B + mh
//     are both +Inf or both NaN;
//   - in the float64 kernels of rows of 2 columns, cl = fms(lin, kh, ch) +
//     lin*kl: lin is 0, 1 or 2, so lin*kh is exact and the fms is +0, and
//     subtracting it instead changes nothing;
//   - in the float64 row means, nf = q/RowDiv, the result where hi is +Inf or NaN,
//     where q*RowDiv is the same;
//   - in the float64 row kernels, negch = -ch by an xor of the sign bit: ch =
//     lin*K*K >= +0 has it clear, so or sets it the same.
func describedEquivalent(fn, prev, line, desc string) string {
	f := strings.ToLower(fn)
	if desc == "FMUL -> FADD" && strings.HasPrefix(f, "elementwisef64") && describedLinear.MatchString(prev) {
		return "lh = B * mh is selected only where z is +Inf or NaN, where B + mh (B > 0) is the same +Inf or NaN"
	}
	if !rowKernel.MatchString(f) || !strings.Contains(f, "f64") {
		return ""
	}
	switch desc {
	case "VPXORQ -> VPORQ", "VXORPD -> VORPD", "EOR -> ORR", "xor -> or":
		if describedNegCh.MatchString(prev) || describedNegCh.MatchString(line) {
			return "negch = -ch (negqd = -qd) flips the sign bit of ch = lin*K*K >= +0 (of qd = hi*Di/RowDiv >= +0 where it is read), which is clear: or sets it the same"
		}
	case "FDIV -> FMUL":
		if describedNotFin.MatchString(prev) {
			return "nf = q/RowDiv is read only where hi is +Inf or NaN, where q*RowDiv is the same +Inf or NaN"
		}
	case "FMLA -> FMLS":
		// NEON's FMLA adds the product fms(lin, kh, ch)*1 to lin*kl. (On amd64 the
		// VFMADD231PD's addend is lin*kl, which VFMSUB231PD negates: not equivalent.)
		if strings.HasPrefix(f, "rowsums2") || strings.HasPrefix(f, "rowmeans2") || strings.HasPrefix(f, "rowsums1") {
			if describedCl.MatchString(prev) {
				return "cl = fms(lin, kh, ch) + lin*kl: with 1 or 2 columns lin is 0, 1 or 2, lin*kh is exact and its error +0, so adding or subtracting it is the same"
			}
		}
	}
	return ""
}

// apply writes mutant m's line into the scratch copy of its file and returns the
// function that restores the file.
func apply(scratch string, m mutant) (restore func()) {
	path := filepath.Join(scratch, m.file)
	orig, err := os.ReadFile(path)
	check(err)
	lines := strings.Split(string(orig), "\n")
	lines[m.line-1] = m.to
	check(os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644))
	return func() { check(os.WriteFile(path, orig, 0o644)) }
}

// run applies one mutant to the scratch copy, runs the tests and restores the file.
func run(scratch string, m mutant, tests string) string {
	defer apply(scratch, m)()
	var res []byte
	var err error
	if m.file == neonFile {
		// Build for arm64, run under qemu: automatic dispatch picks neon.
		bin := filepath.Join(scratch, "mutant-arm64.test")
		build := exec.Command("go", "test", "-c", "-o", bin, ".")
		build.Dir = scratch
		build.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return "CAUGHT (does not build: " + strings.TrimSpace(string(out)) + ")"
		}
		cmd := exec.Command("qemu-aarch64", bin, "-test.count=1", "-test.short", "-test.failfast", "-test.run", tests)
		cmd.Dir = scratch
		cmd.Env = append(os.Environ(), "SMOOTHL1_IMPL=", "SMOOTHL1_EXPECT=neon")
		res, err = cmd.CombinedOutput()
	} else {
		cmd := exec.Command("go", "test", "-count=1", "-short", "-failfast", "-run", tests, ".")
		cmd.Dir = scratch
		cmd.Env = append(os.Environ(), "SMOOTHL1_IMPL=")
		res, err = cmd.CombinedOutput()
	}
	switch {
	case err != nil && (strings.Contains(string(res), "build failed") || strings.Contains(string(res), "[setup failed]")):
		return "CAUGHT (does not build)"
	case err != nil:
		return "CAUGHT"
	case m.reason != "":
		return "survived (expected: " + m.reason + ")"
	}
	return "SURVIVED"
}

// mutants returns one mutant per match of each rule in the file, and records the
// names of the file's functions in funcs.
func mutants(root, file string, rules []rule, funcs map[string]bool) []mutant {
	b, err := os.ReadFile(filepath.Join(root, file))
	check(err)
	var ms []mutant
	fn := ""
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		if m := funcStart.FindStringSubmatch(line); m != nil {
			fn = m[1]
			funcs[fn] = true
		}
		for _, r := range rules {
			loc := r.re.FindStringIndex(line)
			if loc == nil {
				continue
			}
			to := line[:loc[0]] + r.re.ReplaceAllString(line[loc[0]:loc[1]], r.to) + line[loc[1]:]
			if r.fn != nil {
				to = r.fn(line)
			}
			if to != line {
				reason := r.reason
				if reason == "" {
					reason = equivalent(fn, r.desc)
				}
				if reason == "" && i+1 < len(lines) {
					reason = neonEquivalent(line, lines[i+1], r.desc)
				}
				if reason == "" && i > 0 {
					reason = describedEquivalent(fn, lines[i-1], line, r.desc)
				}
				ms = append(ms, mutant{file: file, line: i + 1, rule: r.desc, desc: r.desc + " in " + fn, from: line, to: to, reason: reason})
			}
		}
	}
	return ms
}

func copyFile(src, dst string) {
	b, err := os.ReadFile(src)
	check(err)
	check(os.MkdirAll(filepath.Dir(dst), 0o755))
	check(os.WriteFile(dst, b, 0o644))
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

// scratches are the scratch copies, which fail removes (os.Exit runs no defers).
var (
	scratchMu sync.Mutex
	scratches []string
)

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "mutate:", msg)
	scratchMu.Lock()
	for _, s := range scratches {
		os.RemoveAll(s)
	}
	os.Exit(2)
}
