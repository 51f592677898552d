package accel

import (
	"fmt"
	"math"
)

// Normalize writes src scaled to unit L2 norm into dst (which may alias
// src). A NaN, an infinity or an all-zero vector is an ErrBadOutput: such an
// embedding means a broken model or runtime, and letting it through would
// poison every similarity computed from it.
func Normalize(dst, src []float32) error {
	if len(dst) != len(src) {
		return fmt.Errorf("accel: normalize: dst has %d values, src %d", len(dst), len(src))
	}
	var ss float64
	for i, v := range src {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: value %d is %v", ErrBadOutput, i, v)
		}
		ss += f * f
	}
	if ss == 0 {
		return fmt.Errorf("%w: all %d values are zero", ErrBadOutput, len(src))
	}
	inv := 1 / math.Sqrt(ss)
	for i, v := range src {
		dst[i] = float32(float64(v) * inv)
	}
	return nil
}

// Cosine returns the cosine similarity of a and b (0 if either is zero).
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
