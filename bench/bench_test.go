package main

import (
	"fmt"
	"testing"

	"github.com/gokernels/smoothl1"
)

// The benchmarks: every operation x implementation (with the naive and roofline
// baselines) x element type x length x threads (1 to GOMAXPROCS from 2^20 elements,
// else 1), named so that benchstat can pivot them:
//
//	go test -run - -bench . | tee new.txt
//	benchstat -col /impl new.txt
//	benchstat -col /threads new.txt
func BenchmarkElementwise(b *testing.B)     { benchOp(b, "Elementwise") }
func BenchmarkSum(b *testing.B)             { benchOp(b, "Sum") }
func BenchmarkMean(b *testing.B)            { benchOp(b, "Mean") }
func BenchmarkGrad(b *testing.B)            { benchOp(b, "Grad") }
func BenchmarkGradElementwise(b *testing.B) { benchOp(b, "GradElementwise") }
func BenchmarkSumAndGrad(b *testing.B)      { benchOp(b, "SumAndGrad") }
func BenchmarkMeanAndGrad(b *testing.B)     { benchOp(b, "MeanAndGrad") }

func benchOp(b *testing.B, op string) {
	defer smoothl1.SetImplementation("")
	for _, dtype := range []string{"float32", "float64"} {
		for _, n := range allLengths {
			if testing.Short() && n > 1<<20 {
				continue
			}
			for _, impl := range implsFor() {
				if isPeer(impl) && !peerHas(impl, op) {
					continue
				}
				for _, t := range benchThreads(impl, n) {
					b.Run(fmt.Sprintf("impl=%s/dtype=%s/n=%d/threads=%d", impl, dtype, n, t), func(b *testing.B) {
						run, ops, size, err := benchRunner(op, impl, dtype, n, t)
						if err != nil {
							b.Fatal(err)
						}
						// A peer's run is a batch of ops operations (peers.go).
						b.SetBytes(int64(ops) * bytesMoved(op, n, size))
						b.ReportAllocs()
						for b.Loop() {
							run()
						}
						if ops > 1 {
							b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*ops), "ns/op")
						}
					})
				}
			}
		}
	}
}
