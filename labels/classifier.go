package labels

import (
	"sync/atomic"
)

// DefaultLogitScale is CLIP's trained logit scale, used when a model
// declares none.
const DefaultLogitScale = 100

// Classifier scores image embeddings against the current label Set. The Set
// is swapped atomically, so Classify never blocks and never sees a half-
// updated vocabulary; it is safe for concurrent use.
type Classifier struct {
	dim   int
	scale float32
	k     int
	set   atomic.Pointer[Set]
}

// NewClassifier returns a classifier for embeddings of length dim with the
// model's logit scale (≤ 0: DefaultLogitScale), reporting the topK best
// labels. It starts with an empty set.
func NewClassifier(dim int, logitScale float32, topK int) *Classifier {
	if !(logitScale > 0) {
		logitScale = DefaultLogitScale
	}
	c := &Classifier{dim: dim, scale: logitScale, k: topK}
	c.set.Store(&Set{dim: dim})
	return c
}

// Store makes s the current set; in-flight Classify calls finish with the
// previous one.
func (c *Classifier) Store(s *Set) error {
	if s.Dim() != c.dim {
		return errorf(ErrDimMismatch, "labels: set of dimension %d for a classifier of dimension %d", s.Dim(), c.dim)
	}
	c.set.Store(s)
	return nil
}

// Current returns the current set (never nil).
func (c *Classifier) Current() *Set { return c.set.Load() }

// TopK is the number of labels Classify reports.
func (c *Classifier) TopK() int { return c.k }

// LogitScale is the multiplier on cosine similarity.
func (c *Classifier) LogitScale() float32 { return c.scale }

// Classify returns the TopK most probable labels for emb, best first, in
// dst[:0] (no allocation when cap(dst) ≥ TopK). With an empty set it
// returns no labels.
func (c *Classifier) Classify(emb []float32, dst []Scored) ([]Scored, error) {
	if len(emb) != c.dim {
		return dst[:0], errorf(ErrDimMismatch, "labels: image embedding has %d values, want %d", len(emb), c.dim)
	}
	return c.Current().TopK(emb, c.scale, c.k, dst), nil
}
