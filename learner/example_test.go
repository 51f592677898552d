package learner_test

import (
	"fmt"

	"github.com/clipfleet/clipfleet/learner"
)

// A robot with a 3-d toy encoder knows "cup" by its text embedding, is
// taught an unnamed class by showing it, and the fleet contract moves what
// it learned to another robot.
func Example() {
	cfg := learner.DefaultConfig()
	cfg.Method, cfg.Dim = "ncm", 3

	labels := learner.NewLabels(cfg.Dim)
	cup, _ := labels.Add("cup")
	_ = labels.SetText(cup, []float32{1, 0, 0}) // from the text encoder

	m, err := learner.New(cfg, labels, nil)
	if err != nil {
		panic(err)
	}
	tr, _ := learner.NewTrainer(m, labels, cfg, nil)

	thing, _ := labels.AddUnnamed() // shown, not named
	_, _ = tr.Teach(thing, []float32{0, 1, 0.1}, []float32{0, 1, -0.1})

	name := func(logits []float32) string {
		i, _ := learner.Argmax(logits)
		if id := labels.Current().ID(i); id == thing {
			return "the taught thing"
		}
		return labels.Current().Name(i)
	}
	l, _ := m.Predict([]float32{0.9, 0.1, 0}, nil)
	fmt.Println(name(l))
	l, _ = m.Predict([]float32{0.1, 0.9, 0}, nil)
	fmt.Println(name(l))

	// Fleet: export, merge (normally on the server), apply elsewhere.
	d, _ := m.Delta(m.BaseVersion())
	merged, _ := learner.MergeDeltas(1, d)
	otherLabels := learner.NewLabels(cfg.Dim)
	other, _ := learner.New(cfg, otherLabels, nil)
	if err := other.ApplyMerged(merged); err != nil {
		panic(err)
	}
	l, _ = other.Predict([]float32{0.1, 0.9, 0}, nil)
	i, _ := learner.Argmax(l)
	fmt.Println(otherLabels.Current().ID(i) == thing)
	// Output:
	// cup
	// the taught thing
	// true
}

func ExampleSmoother() {
	s := learner.NewSmoother(3)
	a, b := learner.IDFor("cup"), learner.IDFor("spoon")
	for _, id := range []learner.ID{a, a, b, a} {
		winner, share := s.Add(id)
		fmt.Printf("%v %.2f\n", winner == a, share)
	}
	// Output:
	// true 1.00
	// true 1.00
	// true 0.67
	// true 0.67
}

func ExampleMergeDeltas() {
	id := learner.IDFor("cup")
	a := &learner.Delta{Method: "ncm", Dim: 2, Examples: 2,
		Classes: []learner.ClassStats{{Label: id, Count: 2, Examples: 2, Sum: []float64{2, 0}}}}
	b := &learner.Delta{Method: "ncm", Dim: 2, Examples: 1,
		Classes: []learner.ClassStats{{Label: id, Count: 1, Examples: 1, Sum: []float64{0, 1}}}}
	m, _ := learner.MergeDeltas(1, a, b)
	fmt.Println(m.Version, m.Classes[0].Count, m.Classes[0].Sum)
	// Output: 1 3 [2 1]
}
