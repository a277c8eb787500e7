package main

import (
	"testing"

	"github.com/gokernels/smoothl1"
)

// TestRoofline checks the benchmarks' streaming kernels against a plain loop.
func TestRoofline(t *testing.T) {
	for _, n := range []int{0, 8, 16, 128, 144, 1000, 4096 + 48} {
		a, b, c, d := make([]byte, n), make([]byte, n), make([]byte, n), make([]byte, n)
		for i := range a {
			a[i], b[i], c[i] = byte(i*7+1), byte(i*13+5), byte(i*29+3)
		}
		var want, want3 uint64
		for i := 0; i+8 <= n; i += 8 {
			for k := 0; k < 8; k++ {
				want ^= uint64(a[i+k]^b[i+k]) << (8 * k)
				want3 ^= uint64(a[i+k]^b[i+k]^c[i+k]) << (8 * k)
			}
		}
		for _, asm := range []bool{false, true} {
			if asm && smoothl1.Implementations()[0] == "generic" {
				continue
			}
			if got := rooflineRead(asm, a, b); got != want {
				t.Errorf("rooflineRead(%v, n=%d) = %x, want %x", asm, n, got, want)
			}
			rooflineReadWrite(asm, d, a, b)
			for i := 0; i+8 <= n; i++ {
				if d[i] != a[i]^b[i] {
					t.Fatalf("rooflineReadWrite(%v, n=%d)[%d] = %x", asm, n, i, d[i])
				}
			}
			if got := rooflineRead(asm, a, b, c); got != want3 {
				t.Errorf("rooflineRead(%v, a, b, c, n=%d) = %x, want %x", asm, n, got, want3)
			}
			rooflineReadWrite(asm, d, a, b, c)
			for i := 0; i+8 <= n; i++ {
				if d[i] != a[i]^b[i]^c[i] {
					t.Fatalf("rooflineReadWrite(%v, a, b, c, n=%d)[%d] = %x", asm, n, i, d[i])
				}
			}
			// A quarter of the length: byte j of the 32 written for the
			// 128 bytes at g is the XOR of a ^ b at g+j, g+32+j, g+64+j and
			// g+96+j (those within n), for n a multiple of 16.
			if n%16 == 0 {
				for i := range d {
					d[i] = 0xee
				}
				rooflineReadQuarter(asm, d, a, b)
				for i := range d {
					var want byte = 0xee
					if i < n/4 {
						g, j := i/32*128, i%32
						want = 0
						for k := g + j; k < min(g+128, n); k += 32 {
							want ^= a[k] ^ b[k]
						}
					}
					if d[i] != want {
						t.Fatalf("rooflineReadQuarter(%v, n=%d)[%d] = %x, want %x", asm, n, i, d[i], want)
					}
				}
			}
		}
	}
}
