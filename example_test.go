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

func ExampleWeightedSum() {
	l, _ := smoothl1.SmoothL1(1)
	x := []float64{0.5, 2, -3, 7}
	y := []float64{0, 0, 0, 0}
	// A mask: the last element does not count. (A NaN there would still make the
	// sum NaN: 0*NaN is NaN, as in PyTorch's (loss * w).sum().)
	w := []float64{1, 1, 2, 0}
	// 0.125*1 + 1.5*1 + 2.5*2 + 6.5*0
	fmt.Println(smoothl1.WeightedSum(l, x, y, w))
	// Output: 6.625
}

func ExampleWeightedMean() {
	l, _ := smoothl1.Huber(1)
	x := []float32{0.5, 2, -3}
	y := []float32{0, 0, 0}
	w := []float32{2, 1, 1}
	// (0.125*2 + 1.5*1 + 2.5*1) / (2 + 1 + 1)
	fmt.Println(smoothl1.WeightedMean(l, x, y, w))
	// Output: 1.0625
}

func ExampleWeightedSumAndGrad() {
	l, _ := smoothl1.SmoothL1(1)
	x := []float64{0.5, 2, -3}
	y := []float64{0, 0, 0}
	w := []float64{2, 0, 0.5}
	grad := make([]float64, len(x))
	loss := smoothl1.WeightedSumAndGrad(l, grad, x, y, w, 1)
	fmt.Println(loss, grad)
	// Output: 1.5 [1 0 -0.5]
}

func ExampleWeightedMeanAndGrad() {
	l, _ := smoothl1.SmoothL1(1)
	x := []float64{0.5, 2, -3}
	y := []float64{0, 0, 0}
	w := []float64{2, 0, 0.5}
	grad := make([]float64, len(x))
	// (0.125*2 + 2.5*0.5) / 2.5, and the gradient scaled by 1/2.5
	loss := smoothl1.WeightedMeanAndGrad(l, grad, x, y, w, 1)
	fmt.Println(loss, grad)
	// Output: 0.6 [0.4 0 -0.2]
}

func ExampleRowSums() {
	l, _ := smoothl1.SmoothL1(1)
	// Two boxes of 4 coordinates each, row-major: one loss per box.
	pred := []float32{0.5, 0, 0, 0, 2, -3, 0, 0}
	target := make([]float32, 8)
	sums := make([]float32, 2)
	smoothl1.RowSums(l, sums, pred, target, 4)
	means := make([]float32, 2)
	smoothl1.RowMeans(l, means, pred, target, 4)
	fmt.Println(sums, means)
	// Output: [0.125 4] [0.03125 1]
}

func ExampleRowGrad() {
	l, _ := smoothl1.SmoothL1(1)
	pred := []float64{0.5, 0, 2, -3}
	target := make([]float64, 4)
	// The backward pass of RowSums with upstream gradients 1 and 0.5, one per row.
	grad := make([]float64, 4)
	smoothl1.RowGrad(l, grad, pred, target, []float64{1, 0.5}, 2)
	fmt.Println(grad)
	// Output: [0.5 0 0.5 -0.5]
}
