package labels_test

import (
	"fmt"

	"github.com/clipfleet/clipfleet/labels"
)

func ExampleClassifier() {
	// Label embeddings normally come from the text encoder (Manager) or an
	// embeddings file; here they are written out by hand.
	set, err := labels.NewSet("demo", 3, []labels.Entry{
		{Name: "Circle", Vector: []float32{1, 0, 0}},
		{Name: "triángulo", Vector: []float32{0, 1, 0}},
		{Name: "三角形", Vector: []float32{0, 0.9, 0.1}},
		{Name: "star", Vector: []float32{0, 0, 1}},
	})
	if err != nil {
		panic(err)
	}
	c := labels.NewClassifier(3, 10, 2) // dim 3, logit scale 10, top 2
	if err := c.Store(set); err != nil {
		panic(err)
	}
	buf := make([]labels.Scored, 0, 2) // reused every frame: no allocation
	image := []float32{0.2, 0.95, 0.1}
	top, _ := c.Classify(image, buf)
	for _, s := range top {
		fmt.Printf("%s %.2f\n", s.Name, s.Prob)
	}
	// Output:
	// 三角形 0.51
	// triángulo 0.49
}
