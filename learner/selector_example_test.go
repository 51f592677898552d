package learner_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/clipfleet/clipfleet/learner"
)

// The analytic head learns a task in closed form; inputs from elsewhere
// keep CLIP's zero-shot logits exactly, and a Stream votes the selector's
// decision over camera frames.
func ExampleNewAnalytic() {
	const dim = 32
	labels := learner.NewLabels(dim)
	rng := rand.New(rand.NewPCG(1, 2))
	kitchen := learner.SyntheticClasses(rng, dim, 3, 20, 0.4)
	garden := learner.SyntheticClasses(rng, dim, 2, 20, 0.4)
	var batch []learner.Example
	for i, c := range kitchen {
		id, _ := labels.Add(fmt.Sprintf("kitchen thing %d", i))
		for _, e := range c.Examples[:10] {
			batch = append(batch, learner.Example{Emb: e, Label: id})
		}
	}
	for i, c := range garden {
		id, _ := labels.Add(fmt.Sprintf("garden thing %d", i))
		_ = labels.SetText(id, c.Center) // known to zero-shot, never taught
	}
	cfg := learner.DefaultConfig()
	cfg.Method, cfg.Dim = "analytic", dim
	ac := learner.DefaultAnalyticConfig()
	ac.Features = 128
	head, err := learner.NewAnalytic(cfg, ac, labels, nil)
	if err != nil {
		panic(err)
	}
	if err := head.Learn(batch); err != nil {
		panic(err)
	}
	stream, _ := learner.NewStream(head, 3)
	// One garden frame in a kitchen scene is outvoted; the head answers.
	for _, frame := range [][]float32{kitchen[1].Examples[15], kitchen[2].Examples[15], garden[0].Examples[15]} {
		logits, route, _ := stream.Predict(frame, nil)
		best, _ := learner.Argmax(logits)
		fmt.Printf("seen=%v → %s\n", route.Seen, labels.Current().Name(best))
	}
	// A new scene: the selector alone says unseen, zero-shot answers.
	stream.Reset()
	logits, route, _ := stream.Predict(garden[1].Examples[15], nil)
	best, _ := learner.Argmax(logits)
	fmt.Printf("seen=%v → %s\n", route.Seen, labels.Current().Name(best))
	// Output:
	// seen=true → kitchen thing 1
	// seen=true → kitchen thing 2
	// seen=true → kitchen thing 2
	// seen=false → garden thing 1
}

// A selector alone: which learned task, if any, an embedding belongs to.
func ExampleSelector() {
	const dim = 16
	rng := rand.New(rand.NewPCG(3, 4))
	a := learner.SyntheticClasses(rng, dim, 1, 40, 0.3)[0]
	b := learner.SyntheticClasses(rng, dim, 1, 40, 0.3)[0]
	s, err := learner.NewSelector(learner.DefaultSelectorConfig(), dim, 1)
	if err != nil {
		panic(err)
	}
	for _, e := range a.Examples[:30] {
		_ = s.Add(4, e, 1)
	}
	fmt.Printf("%+v\n", s.Route(a.Examples[35]).Seen)
	fmt.Printf("%+v\n", s.Route(b.Examples[35]).Seen)
	// Output:
	// true
	// false
}
