package linalg

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotPositiveDefinite: Cholesky met a non-positive pivot; the matrix is
// singular or indefinite (or so ill-conditioned that rounding made it so).
var ErrNotPositiveDefinite = errors.New("linalg: matrix is not positive definite")

// Dot is the float64 dot product of a and b[:len(a)], unrolled by four.
func Dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Cholesky overwrites the packed symmetric positive-definite n×n matrix p
// with its lower-triangular factor L (p = L·Lᵀ), also packed. On error p is
// left partially factored.
func Cholesky(p []float64, n int) error {
	if len(p) != PackedLen(n) {
		return fmt.Errorf("linalg: cholesky: %d entries for n=%d", len(p), n)
	}
	for i := 0; i < n; i++ {
		ri := p[RowOffset(i) : RowOffset(i)+i+1]
		for j := 0; j < i; j++ {
			rj := p[RowOffset(j) : RowOffset(j)+j+1]
			ri[j] = (ri[j] - Dot(ri[:j], rj[:j])) / rj[j]
		}
		d := ri[i] - Dot(ri[:i], ri[:i])
		if !(d > 0) || math.IsInf(d, 0) {
			return fmt.Errorf("%w: pivot %d is %g", ErrNotPositiveDefinite, i, d)
		}
		ri[i] = math.Sqrt(d)
	}
	return nil
}

// SolveLower solves L·y = b in place (b becomes y) for a packed
// lower-triangular factor l.
func SolveLower(l []float64, b []float64) {
	for i := range b {
		ri := l[RowOffset(i) : RowOffset(i)+i+1]
		b[i] = (b[i] - Dot(ri[:i], b[:i])) / ri[i]
	}
}

// SolveLowerT solves Lᵀ·x = y in place (y becomes x). It walks L by rows,
// subtracting each solved component from the ones above it, so every
// access is unit-stride in packed lower storage.
func SolveLowerT(l []float64, y []float64) {
	for i := len(y) - 1; i >= 0; i-- {
		ri := l[RowOffset(i) : RowOffset(i)+i+1]
		xi := y[i] / ri[i]
		y[i] = xi
		if xi == 0 {
			continue
		}
		for j := 0; j < i; j++ {
			y[j] -= ri[j] * xi
		}
	}
}

// CholeskySolve solves A·x = b in place given A's factor l (from Cholesky).
func CholeskySolve(l []float64, b []float64) {
	SolveLower(l, b)
	SolveLowerT(l, b)
}

// LogDet is log det A given A's Cholesky factor l of size n.
func LogDet(l []float64, n int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		s += math.Log(l[RowOffset(i)+i])
	}
	return 2 * s
}
