package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// gaussSolve is the naive reference: Gaussian elimination with partial
// pivoting on a square row-major copy of a.
func gaussSolve(a []float64, n int, b []float64) []float64 {
	m := append([]float64(nil), a...)
	x := append([]float64(nil), b...)
	for k := 0; k < n; k++ {
		p := k
		for i := k + 1; i < n; i++ {
			if math.Abs(m[i*n+k]) > math.Abs(m[p*n+k]) {
				p = i
			}
		}
		if p != k {
			for j := 0; j < n; j++ {
				m[k*n+j], m[p*n+j] = m[p*n+j], m[k*n+j]
			}
			x[k], x[p] = x[p], x[k]
		}
		for i := k + 1; i < n; i++ {
			f := m[i*n+k] / m[k*n+k]
			for j := k; j < n; j++ {
				m[i*n+j] -= f * m[k*n+j]
			}
			x[i] -= f * x[k]
		}
	}
	for i := n - 1; i >= 0; i-- {
		s := x[i]
		for j := i + 1; j < n; j++ {
			s -= m[i*n+j] * x[j]
		}
		x[i] = s / m[i*n+i]
	}
	return x
}

// randSPD returns a packed SPD matrix Σ xxᵀ + ridge·I from k random vectors.
func randSPD(rng *rand.Rand, n, k int, ridge float64) []float64 {
	p := make([]float64, PackedLen(n))
	x := make([]float64, n)
	for range k {
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		AddOuter(p, x, 1)
	}
	AddDiag(p, n, ridge)
	return p
}

func TestCholeskyMatchesGaussianElimination(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n, k     int
		ridge    float64
		tol      float64
		rankDefi bool
	}{
		{"tiny", 1, 1, 0.5, 1e-12, false},
		{"full rank", 12, 40, 0, 1e-9, false},
		{"rank deficient plus ridge", 30, 5, 1e-2, 1e-7, true},
		{"bigger", 80, 200, 1, 1e-9, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.n), 3))
			a := randSPD(rng, tc.n, tc.k, tc.ridge)
			sq := Unpack(a, tc.n)
			b := make([]float64, tc.n)
			for i := range b {
				b[i] = rng.NormFloat64()
			}
			want := gaussSolve(sq, tc.n, b)
			l := append([]float64(nil), a...)
			if err := Cholesky(l, tc.n); err != nil {
				t.Fatal(err)
			}
			// L·Lᵀ reconstructs A.
			for i := 0; i < tc.n; i++ {
				for j := 0; j <= i; j++ {
					var s float64
					for k := 0; k <= j; k++ {
						s += l[RowOffset(i)+k] * l[RowOffset(j)+k]
					}
					if d := math.Abs(s - sq[i*tc.n+j]); d > 1e-9*(1+math.Abs(sq[i*tc.n+j])) {
						t.Fatalf("(LLᵀ)[%d,%d] = %v, A = %v", i, j, s, sq[i*tc.n+j])
					}
				}
			}
			got := append([]float64(nil), b...)
			CholeskySolve(l, got)
			scale := 0.0
			for _, v := range want {
				scale = math.Max(scale, math.Abs(v))
			}
			for i := range got {
				if d := math.Abs(got[i] - want[i]); d > tc.tol*(1+scale) {
					t.Fatalf("x[%d] = %v, Gaussian elimination %v (diff %v)", i, got[i], want[i], d)
				}
			}
		})
	}
}

func TestCholeskyRejects(t *testing.T) {
	cases := []struct {
		name string
		p    []float64
		n    int
		want error
	}{
		{"zero matrix", make([]float64, PackedLen(3)), 3, ErrNotPositiveDefinite},
		{"indefinite", []float64{1, 2, 1}, 2, ErrNotPositiveDefinite}, // [[1,2],[2,1]]
		{"nan", []float64{math.NaN()}, 1, ErrNotPositiveDefinite},
		{"wrong length", []float64{1, 0}, 2, nil},
	}
	for _, tc := range cases {
		err := Cholesky(tc.p, tc.n)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: Cholesky = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestPackedHelpersMatchSquare(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n = 7
	p := make([]float64, PackedLen(n))
	x := make([]float64, n)
	x32 := make([]float32, n)
	p32 := make([]float64, PackedLen(n))
	for range 5 {
		for i := range x {
			x[i] = float64(float32(rng.NormFloat64()))
			x32[i] = float32(x[i])
		}
		x[2], x32[2] = 0, 0 // exercise the zero skip
		AddOuter(p, x, 0.5)
		AddOuter32(p32, x32, 0.5)
	}
	for i := range p {
		if p[i] != p32[i] {
			t.Fatalf("AddOuter32 differs at %d", i)
		}
	}
	sq := Unpack(p, n)
	var tr, fro, qf float64
	for i := 0; i < n; i++ {
		tr += sq[i*n+i]
		for j := 0; j < n; j++ {
			fro += sq[i*n+j] * sq[i*n+j]
			qf += x[i] * sq[i*n+j] * x[j]
			if At(p, i, j) != sq[i*n+j] {
				t.Fatalf("At(%d,%d)", i, j)
			}
		}
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"trace", Trace(p, n), tr},
		{"frobenius", FrobeniusSq(p, n), fro},
		{"quadform", QuadForm(p, x), qf},
	} {
		if math.Abs(c.got-c.want) > 1e-12*(1+math.Abs(c.want)) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLogDet(t *testing.T) {
	// diag(2,3) + tiny off-diagonal-free: det 6
	p := []float64{2, 0, 3}
	if err := Cholesky(p, 2); err != nil {
		t.Fatal(err)
	}
	if d := LogDet(p, 2); math.Abs(d-math.Log(6)) > 1e-12 {
		t.Fatalf("logdet = %v", d)
	}
}

func TestDotUnrolled(t *testing.T) {
	for n := range 11 {
		a, b := make([]float64, n), make([]float64, n+3)
		var want float64
		for i := range a {
			a[i], b[i] = float64(i+1), float64(2*i-3)
			want += a[i] * b[i]
		}
		if got := Dot(a, b); got != want {
			t.Fatalf("n=%d: Dot = %v, want %v", n, got, want)
		}
	}
}

func TestSymMatVec(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const n = 6
	p := randSPD(rng, n, 3, 0.1)
	sq := Unpack(p, n)
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	y := make([]float64, n)
	SymMatVec(p, x, y)
	for i := 0; i < n; i++ {
		var want float64
		for j := 0; j < n; j++ {
			want += sq[i*n+j] * x[j]
		}
		if math.Abs(y[i]-want) > 1e-12*(1+math.Abs(want)) {
			t.Fatalf("y[%d] = %v, want %v", i, y[i], want)
		}
	}
}
