package learner

import (
	"fmt"
	"math"
)

// dot is accumulated in float64: with D=512 float32 accumulation loses
// enough precision to flip near-tied top-1 predictions between devices.
func dot(a, b []float32) float32 {
	var s float64
	for i, x := range a {
		s += float64(x) * float64(b[i])
	}
	return float32(s)
}

func norm(a []float32) float64 {
	var s float64
	for _, x := range a {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// normalizeInto writes a/||a|| into dst and returns the norm; a zero vector
// is copied unchanged and reports 0.
func normalizeInto(dst, a []float32) float64 {
	n := norm(a)
	if n == 0 {
		copy(dst, a)
		return 0
	}
	inv := 1 / n
	for i, x := range a {
		dst[i] = float32(float64(x) * inv)
	}
	return n
}

// Normalized returns a fresh L2-normalised copy of v, or an error wrapping
// ErrBadEmbedding for a non-finite or zero vector.
func Normalized(v []float32) ([]float32, error) {
	if err := checkFinite(v); err != nil {
		return nil, err
	}
	out := make([]float32, len(v))
	if normalizeInto(out, v) == 0 {
		return nil, fmt.Errorf("%w: zero norm", ErrBadEmbedding)
	}
	return out, nil
}

func checkFinite(v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: component %d is %v", ErrBadEmbedding, i, x)
		}
	}
	return nil
}

// checkEmb validates an incoming embedding: dimension and finiteness.
func checkEmb(v []float32, dim int) error {
	if len(v) != dim {
		return fmt.Errorf("%w: embedding has %d components, want %d", ErrDim, len(v), dim)
	}
	return checkFinite(v)
}

// NoLogit is the logit of a class the method knows nothing about (no text
// embedding, no examples); its softmax probability is exactly zero.
var NoLogit = float32(math.Inf(-1))

// Softmax writes the softmax of logits into dst (resized) and returns it.
// NoLogit entries get probability 0; if every entry is NoLogit the result is
// uniform, because "no information" must not look like a confident answer.
func Softmax(logits, dst []float32) []float32 {
	dst = resize(dst, len(logits))
	maxv := math.Inf(-1)
	for _, l := range logits {
		maxv = math.Max(maxv, float64(l))
	}
	if math.IsInf(maxv, -1) {
		for i := range dst {
			dst[i] = 1 / float32(len(dst))
		}
		return dst
	}
	var sum float64
	for i, l := range logits {
		e := math.Exp(float64(l) - maxv)
		dst[i] = float32(e)
		sum += e
	}
	for i := range dst {
		dst[i] = float32(float64(dst[i]) / sum)
	}
	return dst
}

// Argmax returns the index of the largest value and the value; -1 for an
// empty slice.
func Argmax(v []float32) (int, float32) {
	best, bv := -1, float32(math.Inf(-1))
	for i, x := range v {
		if best < 0 || x > bv {
			best, bv = i, x
		}
	}
	return best, bv
}

func resize(dst []float32, n int) []float32 {
	if cap(dst) < n {
		return make([]float32, n)
	}
	return dst[:n]
}
