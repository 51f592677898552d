package replay

import "math"

// Quantize writes v as int8 into dst (len(dst) == len(v)) with a symmetric
// per-vector scale, v[i] ≈ dst[i]·scale, and returns the scale. The error
// per component is at most scale/2.
func Quantize(v []float32, dst []int8) float32 {
	var maxAbs float64
	for _, x := range v {
		maxAbs = math.Max(maxAbs, math.Abs(float64(x)))
	}
	if maxAbs == 0 || math.IsNaN(maxAbs) || math.IsInf(maxAbs, 0) {
		clear(dst)
		return 0
	}
	scale := maxAbs / 127
	for i, x := range v {
		q := math.Round(float64(x) / scale)
		dst[i] = int8(max(-127, min(127, q)))
	}
	return float32(scale)
}

// Dequantize writes q·scale into dst.
func Dequantize(q []int8, scale float32, dst []float32) {
	for i, x := range q {
		dst[i] = float32(x) * scale
	}
}
