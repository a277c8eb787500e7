package main

import (
	"testing"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// TestShortBound checks that the short copy of a loop never names an address past
// the end of the full blocks: for every pair of distances validate accepts (whole
// cache lines), each element size and loop stride, and ends of the full blocks
// from 0 to 4096 elements, the last iteration the copy runs (i < end - shortBound,
// i a multiple of the stride) prefetches only inside [0, end) with each distance,
// as shortCopy emits its prefetches (one per cache line of an iteration).
func TestShortBound(t *testing.T) {
	for _, sz := range []int{4, 8} {
		for _, stride := range []int{kernel.Lanes, 2 * kernel.Lanes} {
			for short := 64; short <= 1024; short += 64 {
				for _, far := range []int{0, 2048, 2112, 4096, 4160} {
					tu := kernel.Tuning{Unroll: stride / kernel.Lanes, Prefetch: kernel.LoopCopy, Short: short, ShortFar: far}
					if far != 0 && far <= short {
						continue
					}
					bound := shortBound(tu, sz, stride)
					for end := 0; end <= 4096; end += stride {
						last := -1
						for i := 0; i < end-bound; i += stride {
							last = i
						}
						if last < 0 {
							continue
						}
						for _, d := range []int{short, far} {
							if d == 0 {
								continue
							}
							for off := 0; off < max(stride*sz, 64); off += 64 {
								if at := last*sz + d + off; at >= end*sz {
									t.Fatalf("size %d, stride %d, distances %d and %d, end %d: the iteration at %d prefetches byte %d, past %d",
										sz, stride, short, far, end, last, at, end*sz)
								}
							}
						}
					}
				}
			}
		}
	}
}
