package smoothl1

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// TestGolden checks every case of the PyTorch golden file, with every operation that
// the case's reduction has, on every implementation. Results are held within the
// ulp bounds of docs/SEMANTICS.md of the file's exact results where it has them, and of
// this package's own exact rational reference (reference_test.go) wherever the
// inputs are finite; where they are not (special values), they must equal PyTorch's
// (NaN equal to NaN, +0 to -0).
func TestGolden(t *testing.T) {
	cases := loadGolden(t)
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			for i, c := range cases {
				name := fmt.Sprintf("%d:%s/%s/%s/%s", i, c.Name, c.Loss, c.Dtype, c.Reduction)
				if c.Dtype == "float32" {
					checkGolden[float32](t, name, c)
				} else {
					checkGolden[float64](t, name, c)
				}
			}
		})
	}
}

type expect[T Float] struct {
	exact, ref, torch []T // exact and ref may be nil
	refOK             []bool
}

func checkGolden[T Float](t *testing.T, name string, c goldenCase) {
	t.Helper()
	beta := fromHex[float64](t, c.Beta)
	l := mustLoss(t, c.Loss, beta)
	x, y := hexSlice[T](t, c.X), hexSlice[T](t, c.Y)
	n := len(x)
	torchOne, torchMany, _ := rawHex[T](t, c.TorchOut)
	exactOne, exactMany, hasExact := rawHex[T](t, c.ExactOut)
	gOne, gMany, _ := rawHex[T](t, c.GradOut)
	mean := c.Reduction == "mean"
	check := func(what string, got []T, e expect[T], bound uint64) {
		t.Helper()
		for i := range got {
			ok := true
			if e.exact != nil && ulps(got[i], e.exact[i]) > bound {
				ok = false
			}
			hasRef := e.ref != nil && e.refOK[i]
			if hasRef && ulps(got[i], e.ref[i]) > bound {
				ok = false
			}
			if e.exact == nil && !hasRef && !same(got[i], e.torch[i]) {
				ok = false
			}
			if !ok {
				t.Errorf("%s: %s[%d] = %v; exact %v, reference %v, PyTorch %v (bound %d ulp; x=%v y=%v)",
					name, what, i, got[i], at(e.exact, i), at(e.ref, i), e.torch[i], bound, at(x, i), at(y, i))
			}
		}
	}
	var gradE expect[T]
	gradE.torch = hexSlice[T](t, c.TorchGradX)
	if c.ExactGradX != nil {
		gradE.exact = hexSlice[T](t, c.ExactGradX)
	}
	gs := gMany
	if gs == nil {
		gs = fill(gOne, n)
	}
	gradE.ref, gradE.refOK = refGrad(l, x, y, gs, mean)

	dst := make([]T, n)
	switch c.Reduction {
	case "none":
		var e expect[T]
		e.torch = torchMany
		if hasExact {
			e.exact = exactMany
		}
		e.ref, e.refOK = refElem(l, x, y)
		Elementwise(l, dst, x, y)
		check("Elementwise", dst, e, 2)
		red := make([]T, n)
		if r := Reduce(l, ReductionNone, red, x, y); r != 0 {
			t.Errorf("%s: Reduce none returned %v", name, r)
		}
		for i := range red {
			if !sameBits(red[i], dst[i]) {
				t.Errorf("%s: Reduce none [%d] = %v, Elementwise %v", name, i, red[i], dst[i])
			}
		}
		GradElementwise(l, dst, x, y, gMany)
		check("GradElementwise", dst, gradE, 2)
	case "sum", "mean":
		var e expect[T]
		e.torch = []T{torchOne}
		if hasExact {
			e.exact = []T{exactOne}
		}
		if r, ok := refSum(l, x, y, mean); ok {
			e.ref, e.refOK = []T{r}, []bool{true}
		}
		var got T
		r := ReductionSum
		if mean {
			got = Mean(l, x, y)
			r = ReductionMean
		} else {
			got = Sum(l, x, y)
		}
		check("out", []T{got}, e, 1)
		if red := Reduce(l, r, nil, x, y); !sameBits(red, got) {
			t.Errorf("%s: Reduce = %v, want %v", name, red, got)
		}
		var fused T
		if mean {
			fused = MeanAndGrad(l, dst, x, y, gOne)
		} else {
			fused = SumAndGrad(l, dst, x, y, gOne)
		}
		if !sameBits(fused, got) {
			t.Errorf("%s: fused forward = %v, want %v (bit-identical)", name, fused, got)
		}
		check("fused grad", dst, gradE, 2)
		if !mean || n > 0 {
			scale := gOne
			if mean {
				scale = T(float64(gOne) / float64(n))
			}
			Grad(l, dst, x, y, scale)
			check("Grad", dst, gradE, 2)
		}
	}
}

func at[T Float](s []T, i int) T {
	if i < len(s) {
		return s[i]
	}
	return T(math.NaN())
}

type goldenCase struct {
	Name       string          `json:"name"`
	Loss       string          `json:"loss"`
	Dtype      string          `json:"dtype"`
	Beta       string          `json:"beta"`
	Reduction  string          `json:"reduction"`
	X          []string        `json:"x"`
	Y          []string        `json:"y"`
	GradOut    json.RawMessage `json:"grad_out"`
	TorchOut   json.RawMessage `json:"torch_out"`
	TorchGradX []string        `json:"torch_grad_x"`
	ExactOut   json.RawMessage `json:"exact_out"`
	ExactGradX []string        `json:"exact_grad_x"`
}

func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	return readCases[goldenCase](t, "testdata/torch-golden.json.gz", 500)
}

// readCases reads the "cases" of a gzipped JSON golden file, and fails the test if
// there are fewer than min.
func readCases[C any](t testing.TB, path string, min int) []C {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []C `json:"cases"`
	}
	if err := json.NewDecoder(z).Decode(&doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(doc.Cases) < min {
		t.Fatalf("%s has %d cases, want at least %d", path, len(doc.Cases), min)
	}
	return doc.Cases
}

// fromHex decodes an IEEE-754 bit pattern in hex as a T.
func fromHex[T Float](t testing.TB, h string) T {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatalf("bad hex %q: %v", h, err)
	}
	var u uint64
	for _, c := range b {
		u = u<<8 | uint64(c)
	}
	switch len(b) {
	case 4:
		return T(math.Float32frombits(uint32(u)))
	case 8:
		if isF32[T]() {
			t.Fatalf("8-byte value %q for float32", h)
		}
		return T(math.Float64frombits(u))
	}
	t.Fatalf("bad length %q", h)
	return 0
}

func hexSlice[T Float](t testing.TB, hs []string) []T {
	out := make([]T, len(hs))
	for i, h := range hs {
		out[i] = fromHex[T](t, h)
	}
	return out
}

// rawHex decodes a JSON value that is a hex string or a list of them.
func rawHex[T Float](t testing.TB, raw json.RawMessage) (one T, many []T, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return fromHex[T](t, s), nil, true
	}
	var ss []string
	if err := json.Unmarshal(raw, &ss); err != nil {
		t.Fatalf("bad value %s", raw)
	}
	return 0, hexSlice[T](t, ss), true
}
