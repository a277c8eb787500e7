// Command ab compares two variants of smoothl1 on this machine: it builds the
// benchmark binary of bench/ for each (from a git revision, a directory holding a
// checkout, or an already built test binary), then runs the two alternately,
// round after round, each run the best of -k, and prints per operation,
// implementation, type and length the two ns/element and the speed ratio, with
// its spread over the rounds.
//
//	go run -C bench ./ab -a main -b HEAD -ops Sum,Mean -n 4096,16777216 -impls avx512
//	go run -C bench ./ab -a main -b /work/wt/mybranch -rounds 10
//
// A revision is exported with git archive (nothing is checked out or registered
// in the repository) and its bench module built with go test -c; a directory is
// built as it is, uncommitted changes included. Alternating the binaries round by
// round (and which goes first) spreads the machine's changes in speed over both:
// the per-round ratios A/B, paired, show how steady the comparison was. Each
// benchmark runs in a process of its own, A's right next to B's (-together runs
// them all in one process per variant and round: fewer processes, looser
// pairs). Ratios above 1 mean B is faster.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	a := flag.String("a", "main", "variant A: git revision, directory of a checkout, or benchmark binary")
	b := flag.String("b", "HEAD", "variant B: git revision, directory of a checkout, or benchmark binary")
	ops := flag.String("ops", "Sum", "operations (benchmark names without Benchmark), comma-separated")
	impls := flag.String("impls", "avx512", "impl= values, comma-separated (e.g. avx512,avx2,gcc-fastmath)")
	types := flag.String("types", "float32,float64", "dtype= values")
	ns := flag.String("n", "4096,16777216", "n= values")
	rounds := flag.Int("rounds", 6, "rounds; each runs A and B once, alternately first")
	k := flag.Int("k", 3, "runs of each benchmark per round (-test.count); the round keeps the best")
	benchtime := flag.String("benchtime", "100ms", "-test.benchtime of each run")
	together := flag.Bool("together", false, "run all the benchmarks in each process, instead of one process per benchmark (and variant) per round")
	repo := flag.String("repo", "", "the git repository for revisions (default: the one containing the current directory)")
	flag.Parse()

	tmp, err := os.MkdirTemp("", "smoothl1-ab")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(tmp)
	var bins [2]string
	for i, v := range []string{*a, *b} {
		bins[i], err = binary(v, *repo, tmp, "ab"[i:i+1])
		if err != nil {
			os.RemoveAll(tmp)
			fatalf("variant %s (%s): %v", "AB"[i:i+1], v, err)
		}
	}
	pattern := benchPattern(split(*ops), split(*impls), split(*types), split(*ns))
	fmt.Printf("A = %s\nB = %s\nbenchmarks %s, %d rounds of best-of-%d, %s each\n%s\n", *a, *b, pattern, *rounds, *k, *benchtime, cpuModel())
	// By default each benchmark runs in its own process, A and B one right after
	// the other, so the pair compared sees the machine as alike as it can.
	var patterns []string
	if *together {
		patterns = []string{pattern}
	} else {
		for _, op := range split(*ops) {
			for _, impl := range split(*impls) {
				for _, dtype := range split(*types) {
					for _, n := range split(*ns) {
						patterns = append(patterns, benchPattern([]string{op}, []string{impl}, []string{dtype}, []string{n}))
					}
				}
			}
		}
	}
	var argSets [][]string
	for _, p := range patterns {
		argSets = append(argSets, []string{"-test.run=^$", "-test.bench=" + p, "-test.benchtime=" + *benchtime, "-test.count=" + strconv.Itoa(*k)})
	}

	per, err := compare(bins, argSets, *rounds)
	if err != nil {
		os.RemoveAll(tmp)
		fatalf("%v", err)
	}
	fmt.Fprintln(os.Stderr)
	fmt.Print(table(per))
}

// compare runs the two binaries alternately, in each round once with each of
// argSets (which of A and B goes first alternating), and returns per variant and
// benchmark the best ns/op of each round.
func compare(bins [2]string, argSets [][]string, rounds int) ([2]map[string][]float64, error) {
	per := [2]map[string][]float64{{}, {}}
	for r := 0; r < rounds; r++ {
		for i, args := range argSets {
			for j := 0; j < 2; j++ {
				v := (j + r + i) % 2
				fmt.Fprintf(os.Stderr, "\rround %d/%d, run %d/%d: %s   ", r+1, rounds, i+1, len(argSets), "AB"[v:v+1])
				out, err := exec.Command(bins[v], args...).CombinedOutput()
				if err != nil {
					return per, fmt.Errorf("%s %s: %v\n%s", bins[v], strings.Join(args, " "), err, out)
				}
				best, err := parse(bytes.NewReader(out))
				if err != nil {
					return per, err
				}
				for name, ns := range best {
					per[v][name] = append(per[v][name], ns)
				}
			}
		}
	}
	for v := range per {
		if len(per[v]) == 0 {
			return per, fmt.Errorf("variant %s ran no benchmark", "AB"[v:v+1])
		}
	}
	return per, nil
}

// binary returns the benchmark binary of a variant, building it in dir if need be.
func binary(v, repo, dir, tag string) (string, error) {
	if st, err := os.Stat(v); err == nil {
		if !st.IsDir() {
			return filepath.Abs(v) // a built benchmark binary
		}
		root, err := filepath.Abs(v)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(filepath.Join(root, "bench", "go.mod")); err != nil {
			// The bench directory itself (go run -C bench makes "." mean it)?
			if _, err := os.Stat(filepath.Join(root, "..", "bench", "go.mod")); err != nil || filepath.Base(root) != "bench" {
				return "", fmt.Errorf("%s holds no bench/go.mod: not a checkout of smoothl1", v)
			}
			root = filepath.Dir(root)
		}
		return build(root, dir, tag)
	}
	if repo == "" {
		out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
		if err != nil {
			return "", fmt.Errorf("not a directory or file, and no git repository here to find it as a revision in")
		}
		repo = strings.TrimSpace(string(out))
	}
	src := filepath.Join(dir, "src-"+tag)
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	archive := exec.Command("git", "-C", repo, "archive", "--format=tar", v)
	untar := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var aerr bytes.Buffer
	archive.Stderr = &aerr
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		untar.Wait()
		return "", fmt.Errorf("git archive %s: %v: %s", v, err, strings.TrimSpace(aerr.String()))
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("tar: %v", err)
	}
	return build(src, dir, tag)
}

// build compiles the benchmark binary of the checkout at src.
func build(src, dir, tag string) (string, error) {
	bin := filepath.Join(dir, tag+".test")
	cmd := exec.Command("go", "test", "-c", "-o", bin, ".")
	cmd.Dir = filepath.Join(src, "bench")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go test -c in %s: %v\n%s", cmd.Dir, err, out)
	}
	return bin, nil
}

// benchPattern returns the -test.bench pattern selecting the benchmarks: one
// regular expression per level of their names.
func benchPattern(ops, impls, types, ns []string) string {
	alt := func(prefix string, vs []string) string {
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = regexp.QuoteMeta(v)
		}
		return "^" + prefix + "(" + strings.Join(q, "|") + ")$"
	}
	return strings.Join([]string{alt("Benchmark", ops), alt("impl=", impls), alt("dtype=", types), alt("n=", ns)}, "/")
}

var procs = regexp.MustCompile(`-\d+$`)

// parse returns the best ns/op of each benchmark in go test output.
func parse(r io.Reader) (map[string]float64, error) {
	best := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		for i := 2; i+1 < len(f); i += 2 {
			if f[i+1] != "ns/op" {
				continue
			}
			ns, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("bad benchmark line %q", sc.Text())
			}
			// A benchmark on one goroutine compares with one from before the
			// threads level of the names (BenchmarkX/.../n=N/threads=1).
			name := strings.TrimSuffix(procs.ReplaceAllString(f[0], ""), "/threads=1")
			if v, ok := best[name]; !ok || ns < v {
				best[name] = ns
			}
		}
	}
	return best, sc.Err()
}

// table writes per benchmark the best ns/element of A and B over the rounds, the
// ratio of those, and the median and range of the per-round ratios.
func table(per [2]map[string][]float64) string {
	var names []string
	for name := range per[0] {
		if _, ok := per[1][name]; ok {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool { return lessName(names[i], names[j]) })
	var w strings.Builder
	for v := range per {
		var only []string
		for name := range per[v] {
			if _, ok := per[1-v][name]; !ok {
				only = append(only, strings.TrimPrefix(name, "Benchmark"))
			}
		}
		if len(only) > 0 {
			slices.Sort(only)
			fmt.Fprintf(&w, "only in %s (not compared): %s\n\n", "AB"[v:v+1], strings.Join(only, ", "))
		}
	}
	fmt.Fprintf(&w, "| benchmark | A ns/element | B ns/element | A/B (best) | A/B per round: median [min, max] |\n")
	fmt.Fprintf(&w, "| --- | ---: | ---: | ---: | ---: |\n")
	for _, name := range names {
		a, b := per[0][name], per[1][name]
		n := 1.0
		if i := strings.LastIndex(name, "/n="); i >= 0 {
			// n=N may be followed by a level of its own (/threads=2).
			num, _, _ := strings.Cut(name[i+3:], "/")
			if v, err := strconv.ParseFloat(num, 64); err == nil {
				n = v
			}
		}
		var ratios []float64
		for r := 0; r < min(len(a), len(b)); r++ {
			ratios = append(ratios, a[r]/b[r])
		}
		slices.Sort(ratios)
		fmt.Fprintf(&w, "| %s | %.4f | %.4f | %.3f | %.3f [%.3f, %.3f] |\n", strings.TrimPrefix(name, "Benchmark"),
			slices.Min(a)/n, slices.Min(b)/n, slices.Min(a)/slices.Min(b), median(ratios), ratios[0], ratios[len(ratios)-1])
	}
	fmt.Fprintf(&w, "\nA/B above 1: B is faster.\n")
	return w.String()
}

func median(s []float64) float64 {
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// lessName orders benchmark names by their parts, numbers by value.
func lessName(a, b string) bool {
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < min(len(pa), len(pb)); i++ {
		if pa[i] == pb[i] {
			continue
		}
		na, ea := strconv.Atoi(strings.TrimPrefix(pa[i], "n="))
		nb, eb := strconv.Atoi(strings.TrimPrefix(pb[i], "n="))
		if ea == nil && eb == nil {
			return na < nb
		}
		return pa[i] < pb[i]
	}
	return len(pa) < len(pb)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	var model, fam, mod string
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "model name" && model == "":
			model = v
		case k == "cpu family" && fam == "":
			fam = v
		case k == "model" && mod == "":
			mod = v
		}
	}
	if model == "" {
		return "CPU: unknown"
	}
	return fmt.Sprintf("CPU: %s (family %s, model %s)", model, fam, mod)
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "ab: "+format+"\n", a...)
	os.Exit(1)
}
