package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	out := `goos: linux
BenchmarkSum/impl=avx512/dtype=float32/n=4096-2   	  100	      1200 ns/op	 27000 MB/s	 0 B/op	 0 allocs/op
BenchmarkSum/impl=avx512/dtype=float32/n=4096-2   	  100	      1100.5 ns/op	 27000 MB/s
BenchmarkSum/impl=gcc/dtype=float32/n=16-2        	  100	        16 B/op	  8.5 ns/op
PASS
`
	got, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"BenchmarkSum/impl=avx512/dtype=float32/n=4096": 1100.5, "BenchmarkSum/impl=gcc/dtype=float32/n=16": 8.5}
	if len(got) != len(want) {
		t.Fatalf("parse = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
}

func TestBenchPattern(t *testing.T) {
	got := benchPattern([]string{"Sum", "Mean"}, []string{"avx512"}, []string{"float32"}, []string{"4096", "16"})
	want := `^Benchmark(Sum|Mean)$/^impl=(avx512)$/^dtype=(float32)$/^n=(4096|16)$`
	if got != want {
		t.Errorf("benchPattern = %s, want %s", got, want)
	}
}

// TestCompare runs two stand-in benchmark binaries (shell scripts whose times
// change from run to run) through the rounds and checks the table's figures,
// worked out by hand.
func TestCompare(t *testing.T) {
	dir := t.TempDir()
	// A prints 400 then 200 ns/op for n=4096 (best of its runs is what a round keeps),
	// alternating per run; B prints 100 then 300.
	script := func(tag, first, second string) string {
		f := filepath.Join(dir, tag)
		s := `#!/bin/sh
c=$(cat "` + f + `.count" 2>/dev/null || echo 0); echo $((c+1)) > "` + f + `.count"
if [ $((c % 2)) = 0 ]; then v=` + first + `; else v=` + second + `; fi
echo "BenchmarkSum/impl=avx512/dtype=float32/n=4096-2  10  $v ns/op"
echo "BenchmarkSum/impl=avx512/dtype=float32/n=4096-2  10  $((v+50)) ns/op"
echo "BenchmarkSum/impl=avx512/dtype=float32/n=4096/threads=2-2  10  $v ns/op"
echo "BenchmarkSum/impl=` + tag + `/dtype=float32/n=16-2  10  5 ns/op"
`
		if err := os.WriteFile(f, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
		return f
	}
	bins := [2]string{script("a", "400", "200"), script("b", "100", "300")}
	per, err := compare(bins, [][]string{nil}, 3)
	if err != nil {
		t.Fatal(err)
	}
	name := "BenchmarkSum/impl=avx512/dtype=float32/n=4096"
	if a, b := per[0][name], per[1][name]; len(a) != 3 || a[0] != 400 || a[1] != 200 || a[2] != 400 || b[0] != 100 || b[1] != 300 || b[2] != 100 {
		t.Fatalf("rounds: A %v, B %v", a, b)
	}
	tab := table(per)
	// Best: A 200/4096, B 100/4096, ratio 2; per round 4, 0.667, 4: median 4.
	for _, want := range []string{
		"| Sum/impl=avx512/dtype=float32/n=4096 | 0.0488 | 0.0244 | 2.000 | 4.000 [0.667, 4.000] |",
		"| Sum/impl=avx512/dtype=float32/n=4096/threads=2 | 0.0488 | 0.0244 | 2.000 | 4.000 [0.667, 4.000] |", // per element too
		"only in A (not compared): Sum/impl=a/dtype=float32/n=16",
		"only in B (not compared): Sum/impl=b/dtype=float32/n=16",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	if _, err := compare([2]string{bins[0], filepath.Join(dir, "missing")}, [][]string{nil}, 1); err == nil {
		t.Error("a missing binary: no error")
	}
}

func TestLessName(t *testing.T) {
	if !lessName("Sum/impl=a/n=16", "Sum/impl=a/n=4096") || lessName("Sum/impl=a/n=4096", "Sum/impl=a/n=16") {
		t.Error("lengths not ordered by value")
	}
}

// TestCompareArgSets checks that every round runs each argument set on both
// variants, A first and B first by turns, and that a variant that runs nothing
// is an error.
func TestCompareArgSets(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	mk := func(tag, line string) string {
		f := filepath.Join(dir, tag)
		s := "#!/bin/sh\necho " + tag + " \"$@\" >> " + log + "\necho '" + line + "'\n"
		if err := os.WriteFile(f, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
		return f
	}
	line := "BenchmarkSum/impl=x/dtype=float32/n=16-2  10  8 ns/op"
	bins := [2]string{mk("a", line), mk("b", line)}
	if _, err := compare(bins, [][]string{{"1"}, {"2"}}, 2); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(log)
	want := "a 1\nb 1\nb 2\na 2\nb 1\na 1\na 2\nb 2\n"
	if string(got) != want {
		t.Errorf("runs:\n%s\nwant:\n%s", got, want)
	}
	if _, err := compare([2]string{bins[0], mk("c", "PASS")}, [][]string{{"1"}}, 1); err == nil || !strings.Contains(err.Error(), "variant B ran no benchmark") {
		t.Errorf("a variant without benchmarks: %v", err)
	}
}
