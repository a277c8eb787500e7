package smoothl1_test

import (
	"fmt"

	"github.com/gokernels/smoothl1"
)

func ExampleSum() {
	l, err := smoothl1.SmoothL1(1) // nn.SmoothL1Loss(beta=1, reduction='sum')
	if err != nil {
		panic(err)
	}
	x := []float32{0.5, 2, -3}
	y := []float32{0, 0, 0}
	// 0.5*0.5*0.5/1 + (2 - 0.5) + (3 - 0.5)
	fmt.Println(smoothl1.Sum(l, x, y))
	// Output: 4.125
}

func ExampleElementwise() {
	l, _ := smoothl1.Huber(2) // nn.HuberLoss(delta=2, reduction='none')
	x := []float64{1, 3, -5}
	y := []float64{0, 0, 0}
	dst := make([]float64, len(x))
	smoothl1.Elementwise(l, dst, x, y)
	fmt.Println(dst)
	// Output: [0.5 4 8]
}

func ExampleSumAndGrad() {
	l, _ := smoothl1.SmoothL1(1)
	x := []float64{0.5, 2, -3}
	y := []float64{0, 0, 0}
	grad := make([]float64, len(x))
	loss := smoothl1.SumAndGrad(l, grad, x, y, 1) // forward and backward in one pass
	fmt.Println(loss, grad)
	// The gradient with respect to y is the negation.
	// Output: 4.125 [0.5 1 -1]
}

func ExampleReduce() {
	// nn.SmoothL1Loss(size_average=False): the legacy arguments select 'sum'.
	sizeAverage := false
	r := smoothl1.LegacyReduction(&sizeAverage, nil)
	var l smoothl1.Loss // the zero Loss is SmoothL1Loss(beta=1)
	x := []float32{1, 2, 3}
	y := []float32{1, 1, 1}
	fmt.Println(r, l, smoothl1.Reduce(l, r, nil, x, y))
	// Output: sum SmoothL1Loss(beta=1) 2
}

func ExampleParseReduction() {
	r, err := smoothl1.ParseReduction("elementwise_mean")
	fmt.Println(r, err)
	_, err = smoothl1.ParseReduction("avg")
	fmt.Println(err)
	// Output:
	// mean <nil>
	// smoothl1: "avg" is not a valid value for reduction: valid names are "mean", "sum", "none" (and the deprecated "elementwise_mean")
}

func ExampleSetImplementation() {
	// Every implementation returns the same bits; forcing one changes only the speed.
	if err := smoothl1.SetImplementation("generic"); err != nil {
		panic(err)
	}
	fmt.Println(smoothl1.Implementation())
	_ = smoothl1.SetImplementation("") // back to automatic selection
	// Output: generic
}
