package smoothl1_test

import (
	"fmt"

	"github.com/gokernels/smoothl1"
)

func ExampleSetThreads() {
	l, _ := smoothl1.Huber(1)
	n := 1 << 20 // long enough to run on several goroutines
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%1000) / 250
	}
	prev := smoothl1.SetThreads(1) // one goroutine
	one := smoothl1.Sum(l, x, y)
	smoothl1.SetThreads(4) // at most four
	four := smoothl1.Sum(l, x, y)
	smoothl1.SetThreads(prev) // back to the previous setting (0: automatic)
	// The exact sum is 1614249.33...; rounded to float32, 1614249.375.
	fmt.Println(one == four, one)
	// Output: true 1.6142494e+06
}
