package learner_test

import (
	"fmt"

	"github.com/clipfleet/clipfleet/learner"
)

// Two names the tokenizer does not know both become "a photo of a <unk>",
// so their text embeddings coincide: neither text is informative, and the
// gradient-trained heads learn class vectors for them from examples.
func ExampleLabelSet_InformativeText() {
	labels := learner.NewLabels(3)
	for name, text := range map[string][]float32{
		"cup":      {1, 0, 0},
		"crescent": {0, 1, 1}, // <unk>
		"bolt":     {0, 1, 1}, // <unk>
	} {
		id, _ := labels.Add(name)
		_ = labels.SetText(id, text)
	}
	s := labels.Current()
	for _, name := range []string{"cup", "crescent", "bolt"} {
		id, _ := s.Lookup(name)
		i, _ := s.Index(id)
		fmt.Printf("%s: text %v, informative %v\n", name, s.Text(i) != nil,
			s.InformativeText(i, learner.DefaultTextDuplicate) != nil)
	}
	// Output:
	// cup: text true, informative true
	// crescent: text true, informative false
	// bolt: text true, informative false
}
