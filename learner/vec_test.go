package learner

import (
	"math"
	"testing"
)

func TestSoftmax(t *testing.T) {
	inf := NoLogit
	tests := []struct {
		name   string
		logits []float32
		want   []float64
	}{
		// e^0/(e^0+e^0) = 0.5
		{"equal", []float32{3, 3}, []float64{0.5, 0.5}},
		// 1/(1+e^-ln3)= 1/(1+1/3) = 0.75
		{"ln3 apart", []float32{float32(math.Log(3)), 0}, []float64{0.75, 0.25}},
		{"no-logit is zero", []float32{inf, 1, 1}, []float64{0, 0.5, 0.5}},
		{"all no-logit is uniform", []float32{inf, inf, inf, inf}, []float64{0.25, 0.25, 0.25, 0.25}},
		// large logits must not overflow: shifted by the max
		{"large", []float32{1000, 1000 + float32(math.Log(3))}, []float64{0.25, 0.75}},
	}
	for _, tc := range tests {
		got := Softmax(tc.logits, nil)
		for i := range tc.want {
			if math.Abs(float64(got[i])-tc.want[i]) > 1e-5 {
				t.Errorf("%s: p[%d] = %v, want %v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

func TestArgmax(t *testing.T) {
	tests := []struct {
		in   []float32
		want int
	}{
		{nil, -1},
		{[]float32{NoLogit, NoLogit}, 0},
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 5}, 0},
	}
	for _, tc := range tests {
		if got, _ := Argmax(tc.in); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNormalizedRejects(t *testing.T) {
	for _, v := range [][]float32{{0, 0}, {float32(math.NaN()), 1}, {float32(math.Inf(1)), 0}} {
		if _, err := Normalized(v); err == nil {
			t.Errorf("Normalized(%v) accepted", v)
		}
	}
}
