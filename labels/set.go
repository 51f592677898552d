package labels

import (
	"fmt"
	"math"

	"github.com/clipfleet/clipfleet/learner"
)

// Source says where a label's embedding came from.
type Source uint8

const (
	// SourceUnavailable: no embedding can be had (no tokenizer, no text
	// encoder and not in the embeddings file); the label is left out.
	SourceUnavailable Source = iota
	// SourcePending: not cached yet; the text encoder will compute it
	// (shown by `edge labels list` without --encode).
	SourcePending
	// SourceFile: from labels.embeddings_file.
	SourceFile
	// SourceCache: from the embedding cache.
	SourceCache
	// SourceEncoded: computed by the text encoder just now.
	SourceEncoded
)

func (s Source) String() string {
	switch s {
	case SourcePending:
		return "pending"
	case SourceFile:
		return "from-file"
	case SourceCache:
		return "cached"
	case SourceEncoded:
		return "fresh"
	}
	return "unavailable"
}

// MarshalText makes Source print as its name in JSON.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a name printed by MarshalText.
func (s *Source) UnmarshalText(b []byte) error {
	for c := SourceUnavailable; c <= SourceEncoded; c++ {
		if c.String() == string(b) {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("labels: unknown embedding source %q", b)
}

// Entry is one label given to NewSet.
type Entry struct {
	Name   string
	Vector []float32
	Source Source
}

// Set is an immutable label set ready for scoring: names, fleet-wide ids
// and unit-length text embeddings of one model, stored as one row-major
// matrix so scoring walks memory once.
type Set struct {
	modelID string
	dim     int
	names   []string
	ids     []learner.ID
	sources []Source
	vecs    []float32 // len(names) × dim
}

// NewSet validates and copies entries (names are canonicalised, vectors
// normalised).
func NewSet(modelID string, dim int, entries []Entry) (*Set, error) {
	if dim < 1 {
		return nil, fmt.Errorf("%w: set dimension %d", ErrDimMismatch, dim)
	}
	s := &Set{
		modelID: modelID, dim: dim,
		names:   make([]string, len(entries)),
		ids:     make([]learner.ID, len(entries)),
		sources: make([]Source, len(entries)),
		vecs:    make([]float32, len(entries)*dim),
	}
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		c, err := CheckName(e.Name)
		if err != nil {
			return nil, err
		}
		if seen[c] {
			return nil, errorf(ErrInvalidName, "labels: %q appears twice in the set", c)
		}
		seen[c] = true
		if len(e.Vector) != dim {
			return nil, errorf(ErrDimMismatch, "labels: %q has %d values, the set's dimension is %d", c, len(e.Vector), dim)
		}
		row := s.vecs[i*dim : (i+1)*dim]
		copy(row, e.Vector)
		if err := normalize(row); err != nil {
			return nil, errorf(ErrInvalidEmbeddings, "labels: %q: %w", c, err)
		}
		s.names[i], s.ids[i], s.sources[i] = c, learner.IDFor(c), e.Source
	}
	return s, nil
}

// Len is the number of labels.
func (s *Set) Len() int { return len(s.names) }

// Dim is the embedding dimension.
func (s *Set) Dim() int { return s.dim }

// ModelID is the model whose text encoder (or embeddings file) made the set.
func (s *Set) ModelID() string { return s.modelID }

// Name returns label i's canonical name.
func (s *Set) Name(i int) string { return s.names[i] }

// ID returns label i's fleet-wide id.
func (s *Set) ID(i int) learner.ID { return s.ids[i] }

// Source says where label i's embedding came from.
func (s *Set) Source(i int) Source { return s.sources[i] }

// Vector returns label i's unit-length embedding; it is shared, do not
// modify it.
func (s *Set) Vector(i int) []float32 { return s.vecs[i*s.dim : (i+1)*s.dim : (i+1)*s.dim] }

// Index returns the position of a name (any spelling of its canonical
// form), or -1.
func (s *Set) Index(name string) int {
	c := learner.CanonicalName(name)
	for i, n := range s.names {
		if n == c {
			return i
		}
	}
	return -1
}

// Scored is one label with its score for an image.
type Scored struct {
	Index int        // position in the Set
	ID    learner.ID // fleet-wide id
	Name  string
	Logit float32 // logit_scale · cosine
	Prob  float32 // softmax over every label of the set
}

// TopK scores emb against every label, softmax(logitScale · cos), and
// returns the k most probable, best first (ties: earlier label first), in
// dst[:0]. It allocates only when cap(dst) < min(k, Len()). A zero or
// non-finite emb scores nothing.
func (s *Set) TopK(emb []float32, logitScale float32, k int, dst []Scored) []Scored {
	dst = dst[:0]
	n := len(s.names)
	if k > n {
		k = n
	}
	if k <= 0 || len(emb) != s.dim {
		return dst
	}
	var ss float32
	for _, x := range emb {
		ss += x * x
	}
	if !(ss > 0) || math.IsInf(float64(ss), 0) {
		return dst
	}
	if cap(dst) < k {
		dst = make([]Scored, 0, k)
	}
	scale := logitScale / float32(math.Sqrt(float64(ss)))
	// One pass: the softmax denominator is accumulated online (rescaled
	// whenever a new maximum appears), and the k best are kept sorted in
	// dst, so no per-label scratch is needed.
	maxLogit, sum := math.Inf(-1), 0.0
	for i := 0; i < n; i++ {
		l := scale * dot(emb, s.vecs[i*s.dim:(i+1)*s.dim])
		if lf := float64(l); lf > maxLogit {
			sum = sum*math.Exp(maxLogit-lf) + 1
			maxLogit = lf
		} else {
			sum += math.Exp(lf - maxLogit)
		}
		pos := len(dst)
		if pos < k {
			dst = dst[:pos+1]
		} else if l > dst[k-1].Logit {
			pos = k - 1
		} else {
			continue
		}
		for pos > 0 && dst[pos-1].Logit < l {
			dst[pos] = dst[pos-1]
			pos--
		}
		dst[pos] = Scored{Index: i, Logit: l}
	}
	for j := range dst {
		i := dst[j].Index
		dst[j].ID, dst[j].Name = s.ids[i], s.names[i]
		dst[j].Prob = float32(math.Exp(float64(dst[j].Logit)-maxLogit) / sum)
	}
	return dst
}

// dot is the inner product, unrolled by four: label sets are scored every
// frame and this loop is all of it.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
