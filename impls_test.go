package smoothl1

import (
	"iter"
	"testing"

	"github.com/gokernels/smoothl1/generated"
)

// eachImpl is the one way the tests run something on every implementation. It
// yields the implementations usable here, generic first (tests that compare
// results take the first as the reference), each forced with SetImplementation
// while the loop body runs, and restores automatic selection when the loop ends.
// Tests of the public API run under the forced implementation; tests of the raw
// kernels of package generated pass in.id. On amd64 avx512 comes twice: with this
// CPU's generated.NoPrefetch, then with it flipped (named "avx512(prefetch on)" or
// "avx512(prefetch off)"), so that both loops of the prefetching kernels run on
// every machine; the flag is restored when the loop ends.
//
//	for _, in := range eachImpl(t) {
//		t.Run("impl="+in.name, func(t *testing.T) { ... })
//	}
func eachImpl(t testing.TB) iter.Seq2[int, implInfo] {
	var list []implInfo
	for _, in := range impls {
		switch {
		case !usable(in):
		case in.id == generated.ImplGeneric:
			list = append([]implInfo{in}, list...)
		default:
			list = append(list, in)
		}
	}
	return func(yield func(int, implInfo) bool) {
		defer SetImplementation("")
		def, hasPf := setNoPrefetch(false) // this CPU's default, restored at the end
		setNoPrefetch(def)
		defer setNoPrefetch(def)
		k := 0
		for _, in := range list {
			if err := SetImplementation(in.name); err != nil {
				t.Fatal(err)
			}
			if !yield(k, in) {
				return
			}
			k++
			if in.id != generated.ImplAVX512 || !hasPf {
				continue
			}
			// The AVX-512 kernels again with generated.NoPrefetch flipped, so that
			// both the prefetching loop copy and the plain loop run on every
			// machine, whichever this CPU uses by default (prefetch.go).
			setNoPrefetch(!def)
			flipped := in
			flipped.name = map[bool]string{false: in.name + "(prefetch on)", true: in.name + "(prefetch off)"}[!def]
			more := yield(k, flipped)
			setNoPrefetch(def)
			if !more {
				return
			}
			k++
		}
	}
}
