package learner

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
)

func init() { Register("cllclip", newCLLCLIP) }

// CLL-CLIP (Yang et al. 2024, "Embracing Language Inclusivity and Diversity
// in CLIP through Continual Language Learning") extends CLIP to new
// languages with an expandable token embedding layer: new tokens get new
// embeddings, only embeddings train, and TEIR (token embedding
// initialisation and regularisation) keeps the new ones from disturbing
// the old. On frozen embeddings the token layer's counterpart is the label
// vocabulary: CLLCLIP gives a label whose text embedding is unreliable — a
// name in a language the English text encoder never learned ("triángulo",
// "三角形"), or no name at all — a new learnable class vector, and keeps
// every other label's text embedding frozen, so what the device already
// recognised in English cannot be forgotten.
//
// My reading of TEIR, adapted to class vectors (the paper works on token
// embeddings inside the text encoder; I could not check its exact formulas
// and follow the brief's description):
//
//   - initialisation: a new vector is drawn so its per-dimension
//     distribution matches the existing vocabulary's: v = μ + σ⊙z, with μ,
//     σ the per-dimension mean and spread of the frozen class vectors and z
//     the label's own evidence standardised across its dimensions: its
//     (noisy) text embedding, else its first example's image embedding
//     (else, for Expand without examples, a normal draw seeded by the class
//     ID). New vectors thus start inside the region the old ones occupy
//     instead of at arbitrary scale and offset (the covariate shift TEIR
//     avoids);
//   - regularisation: each vector takes plain gradient steps on the
//     cross-entropy over every class vector (frozen ones as negatives),
//     summed over the batch's examples, with the step scaled by 1/√freq,
//     freq being the example weight that has trained that vector. Rare
//     labels move quickly, labels learned from many examples barely move
//     per example (the frequency-dependent damping that keeps well-learned
//     embeddings stable under lexical overlap with later languages); a
//     vector's step does not depend on what else is in the batch. Steps
//     are also divided by LogitScale so LR does not depend on it.
//
// Which labels expand (CLLCLIPOptions.Expand): "auto" expands labels with
// no text embedding, names with non-ASCII letters, and labels whose text
// embedding does not pick them for their first example (the text encoder
// evidently does not know the word — this catches ASCII-spelled foreign
// words like "cuadrado"); "untexted" only labels without text; "manual"
// those without text plus what Expand is called for.
//
// Predict returns logits for every label, so an image of a triangle scores
// high for both "triangle" and "triángulo"; a caller serving one language
// compares that language's labels.
//
// Fleet merge: per-class vector changes, averaged per class weighted by the
// example weight each device trained the class with (ClassStats with
// Sum = weight·change, Count = weight; the merge's per-class sum makes the
// mean). A class not yet in the fleet base ships its absolute vector, so the
// fleet adopts the weighted mean of the devices' vectors. Averaging is not
// joint training: the merged vector is the mean of separately trained ones.
type CLLCLIP struct {
	cfg    Config
	opts   CLLCLIPOptions
	labels *Labels
	log    *slog.Logger

	mu       sync.Mutex
	vec      map[ID]*cllVec
	base     map[ID][]float32 // vector at the fleet base, for classes in it
	init     map[ID][]float32 // initial vector of classes not in the fleet base
	since    map[ID]*cllCount // example weight trained since the base
	exported map[ID]*cllExport
	sync     syncBase

	cacheGen   uint64
	cacheDirty bool
	vecs       [][]float32
	vref       []*cllVec
	vnorm      []float64
	unit       [][]float32
	x          []float32
	logits, p  []float32
}

type cllVec struct {
	w, g []float32
	freq float64 // example weight that trained it, fleet-wide at the base plus local
}

type cllCount struct {
	w float64
	n int64
}

type cllExport struct {
	vec []float32 // vector at the export
	cnt cllCount  // since at the export
}

// Expansion policies of CLLCLIPOptions.Expand.
const (
	ExpandAuto     = "auto"
	ExpandUntexted = "untexted"
	ExpandManual   = "manual"
)

// CLLCLIPOptions configures the "cllclip" vocabulary.
type CLLCLIPOptions struct {
	Expand string  `yaml:"expand"` // auto, untexted or manual
	LR     float32 `yaml:"lr"`     // step size at frequency 1
	Steps  int     `yaml:"steps"`  // gradient steps per Learn
}

// DefaultCLLCLIPOptions returns the registered method's settings.
func DefaultCLLCLIPOptions() CLLCLIPOptions {
	return CLLCLIPOptions{Expand: ExpandAuto, LR: 0.5, Steps: 3}
}

// Validate checks the options; problems wrap ErrInvalidConfig.
func (o CLLCLIPOptions) Validate() error {
	var errs []error
	if o.Expand != ExpandAuto && o.Expand != ExpandUntexted && o.Expand != ExpandManual {
		errs = append(errs, fmt.Errorf("%w: cllclip.expand %q is not auto, untexted or manual", ErrInvalidConfig, o.Expand))
	}
	if !(o.LR > 0) || o.LR > 100 {
		errs = append(errs, fmt.Errorf("%w: cllclip.lr %v not in (0,100]", ErrInvalidConfig, o.LR))
	}
	if o.Steps < 1 {
		errs = append(errs, fmt.Errorf("%w: cllclip.steps %d < 1", ErrInvalidConfig, o.Steps))
	}
	return errors.Join(errs...)
}

func newCLLCLIP(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
	return NewCLLCLIP(cfg, DefaultCLLCLIPOptions(), labels, log)
}

// NewCLLCLIP builds the expandable vocabulary with explicit options.
func NewCLLCLIP(cfg Config, opts CLLCLIPOptions, labels *Labels, log *slog.Logger) (*CLLCLIP, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dim < 1 || labels == nil || labels.Dim() != cfg.Dim {
		return nil, fmt.Errorf("%w: cllclip needs dim >= 1 matching the labels", ErrDim)
	}
	if !(cfg.LogitScale > 0) {
		return nil, fmt.Errorf("%w: logit_scale %v", ErrInvalidConfig, cfg.LogitScale)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CLLCLIP{cfg: cfg, opts: opts, labels: labels, log: log, vec: map[ID]*cllVec{},
		base: map[ID][]float32{}, init: map[ID][]float32{}, since: map[ID]*cllCount{},
		cacheDirty: true, x: make([]float32, cfg.Dim)}, nil
}

// Name implements Method.
func (m *CLLCLIP) Name() string { return "cllclip" }

// Dim implements Method.
func (m *CLLCLIP) Dim() int { return m.cfg.Dim }

// Expanded reports whether id has a learnable vector.
func (m *CLLCLIP) Expanded(id ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.vec[id] != nil
}

// Expand gives a registered label a learnable vector now (a no-op if it
// has one).
func (m *CLLCLIP) Expand(id ID) error {
	s := m.labels.Current()
	if _, ok := s.Index(id); !ok {
		return fmt.Errorf("%w: %v", ErrUnknownLabel, id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vec[id] == nil {
		m.expand(id, s, nil)
	}
	return nil
}

// shouldExpand applies the expansion policy to label index i, first seen
// with example emb.
func (m *CLLCLIP) shouldExpand(i int, emb []float32, s *LabelSet) bool {
	t := s.Text(i)
	if t == nil {
		return true
	}
	if m.opts.Expand != ExpandAuto {
		return false
	}
	if nonASCIIName(s.Name(i)) {
		return true
	}
	best, bv := -1, float32(math.Inf(-1))
	for j := 0; j < s.Len(); j++ {
		tj := s.Text(j)
		if tj == nil || m.vec[s.ID(j)] != nil {
			continue
		}
		if v := dot(emb, tj); v > bv {
			best, bv = j, v
		}
	}
	return best != i
}

// expand creates id's vector with TEIR's initialisation; first is the
// label's first example, the fallback evidence when it has no text.
func (m *CLLCLIP) expand(id ID, s *LabelSet, first []float32) {
	d := m.cfg.Dim
	mean, std := make([]float64, d), make([]float64, d)
	var frozen [][]float32
	for j := 0; j < s.Len(); j++ {
		if t := s.Text(j); t != nil && s.ID(j) != id && m.vec[s.ID(j)] == nil {
			frozen = append(frozen, t)
		}
	}
	if len(frozen) >= 2 {
		for _, t := range frozen {
			for q, x := range t {
				mean[q] += float64(x)
			}
		}
		for q := range mean {
			mean[q] /= float64(len(frozen))
		}
		for _, t := range frozen {
			for q, x := range t {
				dx := float64(x) - mean[q]
				std[q] += dx * dx
			}
		}
		for q := range std {
			std[q] = math.Max(math.Sqrt(std[q]/float64(len(frozen)-1)), 1e-6)
		}
	} else {
		for q := range std {
			std[q] = 1 / math.Sqrt(float64(d))
		}
	}
	z := make([]float64, d)
	i, _ := s.Index(id)
	evidence := s.Text(i)
	if evidence == nil {
		evidence = first
	}
	if evidence != nil {
		standardize(z, evidence)
	} else {
		rng := rand.New(rand.NewPCG(m.cfg.Seed, uint64(id)))
		for q := range z {
			z[q] = rng.NormFloat64()
		}
	}
	w := make([]float32, d)
	for q := range w {
		w[q] = float32(mean[q] + std[q]*z[q])
	}
	if norm(w) == 0 {
		w[0] = 1 // degenerate vocabulary: any direction beats none
	}
	m.vec[id] = &cllVec{w: w, g: make([]float32, d)}
	if _, inBase := m.base[id]; !inBase {
		m.init[id] = append([]float32(nil), w...)
	}
	m.cacheDirty = true
}

// standardize writes (v - mean(v)) / std(v) into z, zeros if v is
// constant.
func standardize(z []float64, v []float32) {
	var mu, sq float64
	for _, x := range v {
		mu += float64(x)
	}
	mu /= float64(len(v))
	for _, x := range v {
		sq += (float64(x) - mu) * (float64(x) - mu)
	}
	sd := math.Sqrt(sq / float64(len(v)))
	for q, x := range v {
		z[q] = 0
		if sd > 0 {
			z[q] = (float64(x) - mu) / sd
		}
	}
}

// refresh rebuilds the class vectors: learned ones normalised, frozen ones
// the text embedding.
func (m *CLLCLIP) refresh(s *LabelSet) {
	if !m.cacheDirty && m.cacheGen == s.Generation() && len(m.vecs) == s.Len() {
		return
	}
	n := s.Len()
	if cap(m.vecs) < n {
		m.vecs = make([][]float32, n)
		m.vref = make([]*cllVec, n)
		m.vnorm = make([]float64, n)
		m.unit = append(m.unit, make([][]float32, n-len(m.unit))...)
	}
	m.vecs, m.vref, m.vnorm = m.vecs[:n], m.vref[:n], m.vnorm[:n]
	for i := 0; i < n; i++ {
		m.vecs[i], m.vref[i], m.vnorm[i] = s.Text(i), nil, 1
		if v := m.vec[s.ID(i)]; v != nil {
			m.vecs[i] = nil
			if nv := norm(v.w); nv > 0 {
				m.vecs[i] = unitInto(&m.unit[i], v.w, nv)
				m.vref[i], m.vnorm[i] = v, nv
			}
		}
	}
	m.cacheGen, m.cacheDirty = s.Generation(), false
}

// Predict implements Method.
func (m *CLLCLIP) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, m.cfg.Dim); err != nil {
		return dst, err
	}
	s := m.labels.Current()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refresh(s)
	return cosineLogits(m.vecs, emb, m.cfg.LogitScale, dst), nil
}

// Learn implements Method: expands new labels as the policy says, then
// takes Steps frequency-scaled gradient steps on the batch's weighted
// cross-entropy. Examples of frozen labels still teach the learned vectors
// what they are not.
func (m *CLLCLIP) Learn(batch []Example) error {
	s := m.labels.Current()
	if err := checkBatch(batch, m.cfg.Dim, s); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range batch {
		i, _ := s.Index(e.Label)
		if m.vec[e.Label] == nil && m.shouldExpand(i, e.Emb, s) {
			m.expand(e.Label, s, e.Emb)
		}
		w := float64(e.W())
		if v := m.vec[e.Label]; v != nil {
			v.freq += w
			c := m.since[e.Label]
			if c == nil {
				c = &cllCount{}
				m.since[e.Label] = c
			}
			c.w += w
			c.n++
		}
	}
	for range m.opts.Steps {
		m.lossAndGrad(batch, s)
		m.step()
	}
	m.cacheDirty = true
	return nil
}

// lossAndGrad sets every learned vector's g to the gradient of the batch's
// cross-entropy, summed over examples by weight, and returns the loss.
func (m *CLLCLIP) lossAndGrad(batch []Example, s *LabelSet) float64 {
	m.cacheDirty = true
	m.refresh(s)
	for _, v := range m.vec {
		clear(v.g)
	}
	scale := m.cfg.LogitScale
	var loss float64
	for _, e := range batch {
		omega := e.W()
		normalizeInto(m.x, e.Emb)
		m.logits = cosineLogits(m.vecs, m.x, scale, m.logits)
		m.p = Softmax(m.logits, m.p)
		y, _ := s.Index(e.Label)
		if m.vecs[y] == nil {
			continue
		}
		loss -= float64(omega) * math.Log(math.Max(float64(m.p[y]), 1e-30))
		for c, v := range m.vref {
			if v == nil {
				continue
			}
			g := m.p[c]
			if c == y {
				g--
			}
			g *= omega
			if g == 0 {
				continue
			}
			u := m.vecs[c]
			proj := dot(u, m.x)
			k := scale * g / float32(m.vnorm[c])
			for q := range v.g {
				v.g[q] += k * (m.x[q] - u[q]*proj)
			}
		}
	}
	return loss
}

// step applies each vector's gradient with its frequency-scaled step.
func (m *CLLCLIP) step() {
	for _, v := range m.vec {
		lr := m.opts.LR / m.cfg.LogitScale / float32(math.Sqrt(math.Max(v.freq, 1)))
		for q, g := range v.g {
			v.w[q] -= lr * g
		}
	}
	m.cacheDirty = true
}

// Footprint implements Method: per learned vector its weights and gradient,
// and its base or initial value and last export.
func (m *CLLCLIP) Footprint() Footprint {
	m.mu.Lock()
	defer m.mu.Unlock()
	var total int64
	for id := range m.vec {
		total += 2*bytesF32(m.cfg.Dim) + 8
		if _, ok := m.base[id]; ok {
			total += bytesF32(m.cfg.Dim)
		}
		if _, ok := m.init[id]; ok {
			total += bytesF32(m.cfg.Dim)
		}
	}
	for range m.exported {
		total += bytesF32(m.cfg.Dim) + 16
	}
	return classFootprint(len(m.vec), total)
}
