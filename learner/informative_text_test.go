package learner

import (
	"math"
	"testing"
)

// TestPrototypeHeadsIgnoreUninformativeText: ncm and coleclip must not mix
// the text embedding into the class vector of a class that has examples
// when that text is the one several names share (the tokenizer's <unk>):
// the vector is the examples' prototype alone. Classes without examples
// still score by their text, informative or not, so zero-shot scoring of
// untaught classes is unchanged.
func TestPrototypeHeadsIgnoreUninformativeText(t *testing.T) {
	const dim = 8
	unit := func(i int) []float32 {
		v := make([]float32, dim)
		v[i] = 1
		return v
	}
	unk := []float32{0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0}
	for _, name := range []string{"ncm", "coleclip"} {
		t.Run(name, func(t *testing.T) {
			l := NewLabels(dim)
			ids := map[string]ID{}
			for n, text := range map[string][]float32{"crescent": unk, "arrow": unk, "bolt": unk, "circle": unit(5)} {
				id, err := l.Add(n)
				if err == nil {
					err = l.SetText(id, text)
				}
				if err != nil {
					t.Fatal(err)
				}
				ids[n] = id
			}
			cfg := testCfg(name, dim)
			m := mustNew(t, cfg, l)
			mustLearn(t, m, []Example{{Emb: unit(0), Label: ids["crescent"]}, {Emb: unit(1), Label: ids["arrow"]}})
			s := l.Current()
			logit := func(x []float32, n string) float64 {
				out, err := m.Predict(x, nil)
				if err != nil {
					t.Fatal(err)
				}
				i, _ := s.Index(ids[n])
				return float64(out[i])
			}
			scale := float64(cfg.LogitScale)
			for _, tc := range []struct {
				x     []float32
				class string
				want  float64 // cosine
			}{
				{unit(0), "crescent", 1}, // its prototype, not a mix with <unk>
				{unit(1), "crescent", 0},
				{unit(1), "arrow", 1},
				{unit(0), "bolt", 0.5}, // untaught: its (shared) text
				{unit(5), "circle", 1}, // untaught, informative text
				{unit(2), "arrow", 0},
			} {
				if got := logit(tc.x, tc.class); math.Abs(got-scale*tc.want) > 1e-3*scale {
					t.Errorf("%s logit %v, want %v·%v", tc.class, got, scale, tc.want)
				}
			}
		})
	}
}
