package linalg_test

import (
	"fmt"

	"github.com/clipfleet/clipfleet/learner/linalg"
)

// Solve the ridge system (XᵀX + λI)·w = Xᵀy accumulated one row at a time.
func Example() {
	const n = 2
	g := make([]float64, linalg.PackedLen(n))
	rhs := make([]float64, n)
	for _, row := range []struct {
		x []float64
		y float64
	}{
		{[]float64{1, 0}, 2}, {[]float64{0, 1}, 3}, {[]float64{1, 1}, 5},
	} {
		linalg.AddOuter(g, row.x, 1)
		for i, v := range row.x {
			rhs[i] += v * row.y
		}
	}
	linalg.AddDiag(g, n, 1e-9)
	if err := linalg.Cholesky(g, n); err != nil {
		panic(err)
	}
	linalg.CholeskySolve(g, rhs)
	fmt.Printf("w = [%.3f %.3f]\n", rhs[0], rhs[1])
	// Output: w = [2.000 3.000]
}
