package smoothl1

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/gokernels/smoothl1/generated"
)

// implInfo describes an implementation: its name, its number in package generated,
// and the CPU features it needs (the names of the "// Requires:" lines of the
// generated assembly; a test checks that every required feature is listed here).
type implInfo struct {
	name     string
	id       int
	features []string
}

// impls lists the implementations, fastest first; generic is always last. The table
// is generated from gen/kernel (Impls), which the assembly generator also reads.
var impls = func() []implInfo {
	var ins []implInfo
	for _, in := range generated.Impls {
		ins = append(ins, implInfo{in.Name, in.ID, in.Features})
	}
	return ins
}()

// usable reports whether implementation in can run here: the build has assembly (for
// the assembly paths) and the CPU and OS support every feature it needs.
func usable(in implInfo) bool {
	if in.id == generated.ImplGeneric {
		return true
	}
	if !generated.HasAsm {
		return false
	}
	for _, f := range in.features {
		if !cpuHas(f) {
			return false
		}
	}
	return true
}

// avx512MinSum32 is the shortest float32 Sum or Mean that the avx512 path runs with
// the AVX-512 kernel; shorter ones run the AVX2 kernel, a few percent faster there
// (docs/tuning.md).
const avx512MinSum32 = 32

// current is the implementation in use, as a generated.Impl* number.
var current atomic.Int32

// auto is the implementation that automatic selection chose.
var auto int

func impl() int { return int(current.Load()) }

// implName returns the name of implementation id, from the table.
func implName(id int) string {
	for _, in := range impls {
		if in.id == id {
			return in.name
		}
	}
	return "generic"
}

func init() {
	for _, in := range impls {
		if usable(in) {
			auto = in.id
			break
		}
	}
	current.Store(int32(auto))
	if env := os.Getenv("SMOOTHL1_IMPL"); env != "" {
		if err := SetImplementation(env); err != nil {
			fmt.Fprintf(os.Stderr, "%v (from SMOOTHL1_IMPL); using %s\n", err, implName(auto))
		}
	}
}

// Implementations returns the names of the implementations usable on this CPU,
// fastest first: some of "avx512", "avx2", and always "generic", last.
func Implementations() []string {
	var names []string
	for _, in := range impls {
		if usable(in) {
			names = append(names, in.name)
		}
	}
	return names
}

// Implementation returns the name of the implementation in use.
func Implementation() string { return implName(impl()) }

// SetImplementation forces the implementation with the given name process-wide, or
// restores automatic selection (the fastest usable) for "". An unknown name, or one
// not usable on this CPU, is an error and changes nothing. It is safe for
// concurrent use; calls already running finish on the implementation they started
// with. All implementations return the same bits, so this changes only the speed.
func SetImplementation(name string) error {
	if name == "" {
		current.Store(int32(auto))
		return nil
	}
	for _, in := range impls {
		if in.name != name {
			continue
		}
		if !usable(in) {
			return fmt.Errorf("smoothl1: implementation %q is not usable on this CPU or build (usable: %s)", name, strings.Join(Implementations(), ", "))
		}
		current.Store(int32(in.id))
		return nil
	}
	var known []string
	for _, in := range impls {
		known = append(known, in.name)
	}
	return fmt.Errorf("smoothl1: unknown implementation %q (known: %s; usable here: %s)", name, strings.Join(known, ", "), strings.Join(Implementations(), ", "))
}
