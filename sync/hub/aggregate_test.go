package hub

import (
	"math"
	"slices"
	"testing"

	"github.com/clipfleet/clipfleet/learner"
)

func vecDelta(ex float64, vals ...float32) *learner.Delta {
	return &learner.Delta{Method: tMethod, Dim: tDim, Examples: ex, Tensors: []learner.Tensor{{Name: "w", Shape: []int{len(vals)}, Data: slices.Clone(vals)}}}
}

func TestAggregators(t *testing.T) {
	// Four honest devices near 1 and one attacker at 1000 on coordinate 0.
	mk := func() []*learner.Delta {
		return []*learner.Delta{
			vecDelta(1, 1.0, -1), vecDelta(1, 1.2, -1), vecDelta(1, 0.8, -1), vecDelta(1, 1.1, -1),
			vecDelta(1, 1000, -1),
		}
	}
	cases := []struct {
		name string
		m    Merge
		want []float32
	}{
		{"fedavg", Merge{Aggregator: FedAvg}, []float32{(1 + 1.2 + 0.8 + 1.1 + 1000) / 5, -1}},
		{"median", Merge{Aggregator: Median}, []float32{1.1, -1}},
		{"trimmed 20%", Merge{Aggregator: TrimmedMean, TrimFraction: 0.2}, []float32{(1 + 1.2 + 1.1) / 3, -1}},
		// Clipping to norm 2: the attacker's (1000, -1) becomes ≈ (2, -0.002).
		{"fedavg clipped", Merge{Aggregator: FedAvg, ClipNorm: 2}, []float32{
			float32((1 + 1.2 + 0.8 + 1.1 + 2*1000/math.Hypot(1000, 1)) / 5),
			float32((-1 - 1 - 1 - 1 - 2/math.Hypot(1000, 1)) / 5)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := aggregate(1, mk(), c.m)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.want {
				if d := math.Abs(float64(got.Tensors[0].Data[i] - w)); d > 1e-4 {
					t.Errorf("coordinate %d = %v, want %v", i, got.Tensors[0].Data[i], w)
				}
			}
		})
	}
}

func TestRobustTensorsMissingAndWeightless(t *testing.T) {
	a := vecDelta(1, 3, 3)
	b := vecDelta(2, 5, 5)
	noTensor := &learner.Delta{Method: tMethod, Dim: tDim, Examples: 1}
	weightless := vecDelta(0, 100, 100)
	got, err := robustTensors([]*learner.Delta{a, b, noTensor, weightless}, -1)
	if err != nil {
		t.Fatal(err)
	}
	// Voters 3, 5 and 0 (no tensor votes zero); the weightless delta is out.
	if !slices.Equal(got[0].Data, []float32{3, 3}) {
		t.Errorf("median = %v, want [3 3]", got[0].Data)
	}
	if _, err := robustTensors([]*learner.Delta{vecDelta(1, 1), vecDelta(1, 1, 2)}, -1); err == nil {
		t.Error("tensors of different sizes accepted")
	}
}

func TestClipKeepsClassStats(t *testing.T) {
	d := vecDelta(1, 30, 40)
	d.Classes = []learner.ClassStats{{Label: 5, Count: 1, Sum: []float64{100, 0, 0, 0}}}
	if f := clipDelta(d, 5); math.Abs(f-0.1) > 1e-12 {
		t.Errorf("factor %v, want 0.1", f)
	}
	if !slices.Equal(d.Tensors[0].Data, []float32{3, 4}) || d.Classes[0].Sum[0] != 100 {
		t.Errorf("after clip: %v, class sum %v", d.Tensors[0].Data, d.Classes[0].Sum)
	}
	if f := clipDelta(d, 5); f != 1 {
		t.Errorf("second clip factor %v", f)
	}
}

func TestMergeConfigValidate(t *testing.T) {
	ok := DefaultConfig().Merge
	for name, m := range map[string]Merge{
		"aggregator": {Aggregator: "mean", Interval: 1},
		"trim":       {Aggregator: TrimmedMean, TrimFraction: 0.5, Interval: 1},
		"clip":       {Aggregator: FedAvg, ClipNorm: math.Inf(1), Interval: 1},
		"interval":   {Aggregator: FedAvg},
		"every":      {Aggregator: FedAvg, Interval: 1, EveryDeltas: -1},
	} {
		if err := m.Validate(); err == nil {
			t.Errorf("%s: invalid merge accepted", name)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}
