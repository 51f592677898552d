package learner

import (
	"math/rand/v2"
	"testing"
)

// seedBenchSetup is benchSetup (D=512, 50 named classes, 20 examples
// each) for the seed-article methods; zscl also gets 256 reference frames,
// as Predict would collect them before the first Learn.
func seedBenchSetup(b *testing.B, name string) (Method, []Example) {
	b.Helper()
	m, ex := benchSetup(b, name)
	if h, ok := m.(*Head); ok && h.opts.ZSCL.Distill > 0 {
		rng := rand.New(rand.NewPCG(5, 5))
		for range h.opts.ZSCL.RefCapacity {
			if err := h.ObserveReference(randUnit(rng, benchDim)); err != nil {
				b.Fatal(err)
			}
		}
	}
	return m, ex
}

// BenchmarkSeedLearn: cost of learning one example (a batch of one) with
// the default configuration (adapter hidden 64, one step), D=512, 50
// classes. zscl's step includes distilling 16 reference images against
// the 50 label texts.
func BenchmarkSeedLearn(b *testing.B) {
	for _, name := range seedMethods {
		b.Run(name, func(b *testing.B) {
			m, ex := seedBenchSetup(b, name)
			// One example of every class first, so the timed loop measures
			// steady state, not first-sight setup (task boundaries,
			// expansion).
			seen := map[ID]bool{}
			var first []Example
			for _, e := range ex {
				if !seen[e.Label] {
					seen[e.Label] = true
					first = append(first, e)
				}
			}
			if err := m.Learn(first); err != nil {
				b.Fatal(err)
			}
			benchLearnOne(b, m, ex)
		})
	}
}

// BenchmarkSeedPredict: cost of one prediction over 50 classes after
// learning 20 examples per class.
func BenchmarkSeedPredict(b *testing.B) {
	for _, name := range seedMethods {
		b.Run(name, func(b *testing.B) {
			m, ex := seedBenchSetup(b, name)
			if err := m.Learn(ex); err != nil {
				b.Fatal(err)
			}
			benchPredict(b, m, embeddings(ex))
		})
	}
}

// BenchmarkSeedFootprint reports memory per class and fixed bytes for
// named and unnamed classes (20 classes, 10 examples each).
func BenchmarkSeedFootprint(b *testing.B) {
	for _, name := range seedMethods {
		for _, named := range []bool{true, false} {
			sub := name + "/named"
			if !named {
				sub = name + "/unnamed"
			}
			b.Run(sub, func(b *testing.B) {
				benchFootprint(b, name, named)
			})
		}
	}
}
