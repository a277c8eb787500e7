package main

import (
	"fmt"
	"testing"

	"github.com/gokernels/smoothl1"
)

func BenchmarkZZSweep(b *testing.B) {
	l, _ := smoothl1.SmoothL1(1)
	defer smoothl1.SetThreads(smoothl1.SetThreads(1))
	for _, cols := range []int{4, 5, 6, 7, 8, 9, 12, 16, 17, 24, 32, 33, 64, 128} {
		n := (1 << 20) / cols * cols
		x, y := wInputs[float32](n)
		dst := make([]float32, n/cols)
		b.Run(fmt.Sprintf("dtype=float32/cols=%d", cols), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				smoothl1.RowSums(l, dst, x, y, cols)
			}
		})
		x6, y6 := wInputs[float64](n)
		dst6 := make([]float64, n/cols)
		b.Run(fmt.Sprintf("dtype=float64/cols=%d", cols), func(b *testing.B) {
			b.SetBytes(int64(16 * n))
			for b.Loop() {
				smoothl1.RowSums(l, dst6, x6, y6, cols)
			}
		})
	}
	x, y := wInputs[float32](1 << 20)
	b.Run("dtype=float32/sum", func(b *testing.B) {
		b.SetBytes(8 << 20)
		for b.Loop() {
			smoothl1.Sum(l, x, y)
		}
	})
	x6, y6 := wInputs[float64](1 << 20)
	b.Run("dtype=float64/sum", func(b *testing.B) {
		b.SetBytes(16 << 20)
		for b.Loop() {
			smoothl1.Sum(l, x6, y6)
		}
	})
}
