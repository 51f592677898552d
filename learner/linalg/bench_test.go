package linalg

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// BenchmarkCholesky: factorisation cost of the analytic head's Gram matrix
// (M = 512 without projection, 1024 with RanPAC's default projection).
func BenchmarkCholesky(b *testing.B) {
	for _, n := range []int{256, 512, 1024} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			a := randSPD(rand.New(rand.NewPCG(1, 1)), n, n, 1)
			l := make([]float64, len(a))
			for b.Loop() {
				copy(l, a)
				if err := Cholesky(l, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAddOuter: one example's Gram update.
func BenchmarkAddOuter(b *testing.B) {
	for _, n := range []int{512, 1024} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			p := make([]float64, PackedLen(n))
			x := make([]float32, n)
			rng := rand.New(rand.NewPCG(2, 2))
			for i := range x {
				if v := rng.NormFloat64(); v > 0 { // ReLU-like: half zeros
					x[i] = float32(v)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				AddOuter32(p, x, 1)
			}
		})
	}
}
