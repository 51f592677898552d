package learner

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Gradient checks of the hand-written backward passes (finetune, moe, the
// zscl head's terms, cllclip) against central finite differences, with one
// fixture and one tolerance so the checks stay comparable.

// gradFixture registers the classes names at dim — each with a random text
// embedding except "r", which gets a learned class vector — and draws a
// batch of three weighted examples of p, r and q; all from rng, so a
// fixture is reproducible.
func gradFixture(t *testing.T, rng *rand.Rand, dim int, names ...string) (*Labels, []ID, []Example) {
	t.Helper()
	l := NewLabels(dim)
	var ids []ID
	for _, name := range names {
		id, err := l.Add(name)
		if err == nil && name != "r" {
			err = l.SetText(id, randUnit(rng, dim))
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	batch := []Example{
		{Emb: randUnit(rng, dim), Label: ids[0]},
		{Emb: randUnit(rng, dim), Label: ids[2], Weight: 2},
		{Emb: randUnit(rng, dim), Label: ids[1], Weight: 0.5},
	}
	return l, ids, batch
}

// jitter moves weights away from their identity start so every path
// carries gradient.
func jitter(rng *rand.Rand, params []*param) {
	for _, p := range params {
		for i := range p.w {
			p.w[i] += float32(rng.NormFloat64() * 0.3)
		}
	}
}

// gradEps is small enough for the loss to be near linear, large enough for
// float32 weights to resolve.
const gradEps = 1e-3

// numericGrad is the central difference of loss along w[i]; w is restored.
func numericGrad(w []float32, i int, loss func() float64) float64 {
	orig := w[i]
	w[i] = orig + gradEps
	lp := loss()
	w[i] = orig - gradEps
	lm := loss()
	w[i] = orig
	return (lp - lm) / (2 * gradEps)
}

// gradMismatch reports an analytic derivative that the numeric one does not
// confirm, allowing for float32 forward passes.
func gradMismatch(analytic, numeric float64) bool {
	return math.Abs(numeric-analytic) > 2e-3+2e-2*math.Abs(numeric)
}
