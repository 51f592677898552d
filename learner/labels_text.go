package learner

import "math"

// DefaultTextDuplicate is Config.TextDuplicate's default: texts this close
// are the same embedding up to float rounding.
const DefaultTextDuplicate = 0.999

// TextOverlap returns the largest cosine between the text embedding of the
// class at index i and that of any other class in the set, or -Inf if it
// or every other class has none. Computed once per set (O(n²·dim)), so
// methods may call it on every Predict.
func (s *LabelSet) TextOverlap(i int) float32 {
	s.overlapOnce.Do(s.computeOverlap)
	return s.overlap[i]
}

func (s *LabelSet) computeOverlap() {
	n := len(s.text)
	ov := make([]float32, n)
	for i := range ov {
		ov[i] = float32(math.Inf(-1))
	}
	for i := 0; i < n; i++ {
		if s.text[i] == nil {
			continue
		}
		for j := i + 1; j < n; j++ {
			if s.text[j] == nil {
				continue
			}
			c := dot(s.text[i], s.text[j])
			ov[i] = max(ov[i], c)
			ov[j] = max(ov[j], c)
		}
	}
	s.overlap = ov
}

// InformativeText returns the text embedding of the class at index i, or
// nil if it has none or if it coincides (cosine ≥ dup) with another
// class's: the text encoder could not tell the names apart — a tokenizer
// maps every word it does not know to the same <unk> token — so the text
// says nothing about which of those classes an image shows. Methods that
// use text as a fixed class vector learn one instead for such classes; the
// text itself (Text) is unchanged, so zero-shot scoring still sees it.
func (s *LabelSet) InformativeText(i int, dup float32) []float32 {
	t := s.text[i]
	if t == nil || s.TextOverlap(i) >= dup {
		return nil
	}
	return t
}
