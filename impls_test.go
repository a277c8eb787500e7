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
// kernels of package generated pass in.id.
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
		for k, in := range list {
			if err := SetImplementation(in.name); err != nil {
				t.Fatal(err)
			}
			if !yield(k, in) {
				return
			}
		}
	}
}
