// Command covermerge merges Go coverage profiles (one per forced implementation)
// and fails when the statement coverage of their union is below -min percent.
//
//	go run ./internal/covermerge -min 90 a.out b.out c.out
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	minPct := flag.Float64("min", 90, "minimum statement coverage in percent")
	flag.Parse()
	type block struct{ stmts, count int }
	blocks := map[string]*block{}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "covermerge:", err)
			os.Exit(2)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "mode:") || line == "" {
				continue
			}
			// file:start,end stmts count
			fs := strings.Fields(line)
			if len(fs) != 3 {
				continue
			}
			stmts, _ := strconv.Atoi(fs[1])
			count, _ := strconv.Atoi(fs[2])
			b := blocks[fs[0]]
			if b == nil {
				b = &block{stmts: stmts}
				blocks[fs[0]] = b
			}
			b.count += count
		}
		f.Close()
	}
	perFile := map[string][2]int{}
	total, covered := 0, 0
	for k, b := range blocks {
		file := k[:strings.LastIndex(k, ":")]
		pf := perFile[file]
		pf[0] += b.stmts
		total += b.stmts
		if b.count > 0 {
			pf[1] += b.stmts
			covered += b.stmts
		}
		perFile[file] = pf
	}
	files := make([]string, 0, len(perFile))
	for f := range perFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		pf := perFile[f]
		fmt.Printf("%6.1f%%  %s\n", 100*float64(pf[1])/float64(max(pf[0], 1)), f)
	}
	pct := 100 * float64(covered) / float64(max(total, 1))
	fmt.Printf("total: %.1f%% of %d statements (minimum %.0f%%)\n", pct, total, *minPct)
	if pct < *minPct {
		os.Exit(1)
	}
}
