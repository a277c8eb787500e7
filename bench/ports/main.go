// Command ports measures, on this amd64 core, the throughput and latency of the
// AVX-512 instructions the kernels are made of, alone and in pairs, the float32 Sum
// kernel's loop in variants, and the loops of some generated kernels: which
// execution units an instruction shares with which, and what bounds a loop
// (docs/tuning.md). Every loop runs on registers and a few cache lines of its own,
// so memory plays no part. Cycles are derived from the latency of a dependent
// VFMADD231PD chain, 4 cycles on Zen 4 and on Zen 5 (a VADDPD chain is not: 3
// cycles on Zen 4, 2 on Zen 5).
//
//	go run -C bench ./ports
//
// gen.go writes the loops (go run gen.go in this directory).
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

// bufLen is the length of the loops' data: the kernels' loops read x and y at
// bytes 0 and 512 of it, their parameters at 2048, and the weights at 1536, where
// the row kernels write; the weighted gradients write at 1792.
const bufLen = 1024

// fmaLatency is the latency of VFMADD231PD on a zmm register in cycles, on Zen 4
// and on Zen 5 alike (AMD's optimization guides): the unit of the cycles column.
const fmaLatency = 4

// test is one loop: its body is run n times; per is the instructions (or elements)
// one run of it covers.
type test struct {
	name, doc string
	f         func(n int, p *float32)
	per       int
	unit      string
}

func main() {
	if runtime.GOARCH != "amd64" || len(tests) == 0 {
		fmt.Fprintln(os.Stderr, "ports: amd64 with AVX-512 only")
		os.Exit(1)
	}
	if !hasAVX512() {
		fmt.Fprintln(os.Stderr, "ports: this CPU has no AVX-512")
		os.Exit(1)
	}
	buf := make([]float32, bufLen)
	const n = 1 << 21
	// Every loop is timed first: the cycle comes from the fmachain line, and the
	// table prints it beside the lines before it too.
	ns := make([]float64, len(tests))
	cycle := 0.0
	for i, t := range tests {
		best := 1e18
		for range 7 {
			start := time.Now()
			t.f(n, &buf[0])
			best = min(best, float64(time.Since(start).Nanoseconds()))
		}
		ns[i] = best / float64(n*t.per)
		if t.name == "fmachain" {
			cycle = ns[i] / fmaLatency
		}
	}
	fmt.Printf("| loop | what | ns per unit | cycles per unit |\n| --- | --- | ---: | ---: |\n")
	for i, t := range tests {
		fmt.Printf("| %s | %s | %.3f per %s | %.2f |\n", t.name, t.doc, ns[i], t.unit, ns[i]/cycle)
	}
	fmt.Printf("\nclock (from the VFMADD231PD chain): %.2f GHz\n", 1/cycle)
}
