package learner_test

import (
	"fmt"
	"slices"

	"github.com/clipfleet/clipfleet/learner"
)

// An unnamed shape has no text embedding; shown to "coleclip" it gets a
// text-side vector of its own, learned from its images.
func ExampleCoLeCLIP_Vocabulary() {
	cfg := learner.DefaultConfig()
	cfg.Method, cfg.Dim = "coleclip", 3
	labels := learner.NewLabels(cfg.Dim)
	m, err := learner.New(cfg, labels, nil)
	if err != nil {
		panic(err)
	}
	shape, _ := labels.AddUnnamed()
	_ = m.Learn([]learner.Example{{Emb: []float32{0, 1, 0.1}, Label: shape}, {Emb: []float32{0, 1, -0.1}, Label: shape}})
	v := m.(*learner.CoLeCLIP).Vocabulary(shape)
	fmt.Printf("%.2f %.2f %.2f\n", v[0], v[1], v[2])
	// Output: 0.00 1.00 0.00
}

// "taza" is Spanish for cup; the English text encoder's embedding of it
// is useless. "cllclip" gives it a learnable vector and learns it from a
// few images, leaving the English labels untouched.
func ExampleCLLCLIP() {
	cfg := learner.DefaultConfig()
	cfg.Method, cfg.Dim = "cllclip", 3
	labels := learner.NewLabels(cfg.Dim)
	for name, text := range map[string][]float32{"cup": {1, 0, 0}, "ball": {0, 1, 0}, "taza": {0, 0, 1}} {
		id, _ := labels.Add(name)
		_ = labels.SetText(id, text)
	}
	m, _ := learner.New(cfg, labels, nil)
	taza, _ := labels.Current().Lookup("taza")
	for range 5 {
		_ = m.Learn([]learner.Example{{Emb: []float32{1, 0.1, 0}, Label: taza}, {Emb: []float32{1, -0.1, 0.1}, Label: taza}})
	}
	logits, _ := m.Predict([]float32{1, 0.05, 0.02}, nil)
	s := labels.Current()
	score := func(name string) float32 { id, _ := s.Lookup(name); i, _ := s.Index(id); return logits[i] }
	fmt.Println("taza expanded:", m.(*learner.CLLCLIP).Expanded(taza))
	fmt.Println("a cup image scores taza above ball:", score("taza") > score("ball"))
	fmt.Println("cup still wins among English labels:", score("cup") > score("ball"))
	// Output:
	// taza expanded: true
	// a cup image scores taza above ball: true
	// cup still wins among English labels: true
}

// Regularisers combine: a head trained with SIT's loss, ZSCL's
// distillation and weight averaging, and Mod-X, under its own name.
func ExampleRegisterHead() {
	o := learner.ZSCLHeadOptions()
	o.Name, o.Loss, o.ModX = "zscl+modx+sit", learner.LossSIT, learner.DefaultModXOptions()
	if !slices.Contains(learner.Methods(), o.Name) { // examples may run more than once
		learner.RegisterHead(o)
	}
	cfg := learner.DefaultConfig()
	cfg.Method, cfg.Dim = o.Name, 4
	m, err := learner.New(cfg, learner.NewLabels(cfg.Dim), nil)
	fmt.Println(m.Name(), err)
	// Output: zscl+modx+sit <nil>
}
