package learner

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
)

func init() { Register("coleclip", newCoLeCLIP) }

// CoLeCLIP (Li et al. 2024, "CoLeCLIP: Open-Domain Continual Learning via
// Joint Task Prompt and Vocabulary Learning") keeps one learnable text-side
// vector per class name, shared by every task and domain the class appears
// in, and updates it with momentum so a class seen again in a new domain
// does not lose what the old domains taught. This is its vocabulary half
// on frozen embeddings (task prompts need the encoder).
//
// A class's vector starts as its text embedding, its anchor; a class whose
// name the text encoder never saw (an unnamed shape) has none and gets one
// from its images. Examples move the vector towards the normalised mean μ̂
// of the class's image embeddings with momentum m per unit of example
// weight, while a share ρ always stays with the value at the start of the
// task:
//
//	v = normalize(κ·anchor + (1-κ)·μ̂),  κ = ρ + (1-ρ)·m^W
//
// W being the weight learned since the task started. This is the expected
// value of an exponential moving average with momentum m over W
// exchangeable examples, computed from their sum, so it does not depend on
// their order and merges exactly. BeginTask folds: every vector becomes its
// class's new anchor. Classes never taught keep their zero-shot text
// embedding.
//
// Fleet merge. Delta ships each class's image sums and weights since the
// fleet base (ClassStats), which add up exactly: the merged statistics are
// those of one device that saw every example. Every device then folds the
// merged statistics into the fleet anchors at the base, so all devices hold
// identical vectors after a merge — equal to those of one device that
// learned the round's examples as one task. What is not reproduced: task
// boundaries a device passed inside the round (its local folds are
// replaced by the fleet fold) and the order of examples (which the
// order-free update ignores anyway).
type CoLeCLIP struct {
	cfg    Config
	opts   CoLeCLIPOptions
	labels *Labels
	log    *slog.Logger

	mu       sync.Mutex
	fleet    map[ID][]float32 // anchors at the fleet base (unit)
	local    map[ID][]float32 // anchors after local task folds since the base
	seg      map[ID]*classSum // statistics since the last fold
	since    map[ID]*classSum // statistics since the base (exported)
	exported map[ID]*classSum // since at the last export
	seen     seenClasses
	sync     syncBase

	cacheGen   uint64
	cacheDirty bool
	vecs       [][]float32
}

// CoLeCLIPOptions configures the "coleclip" vocabulary.
type CoLeCLIPOptions struct {
	// Momentum m in (0,1): the share of the anchor one example of weight 1
	// leaves in place.
	Momentum float32 `yaml:"momentum"`
	// Anchor ρ in [0,1): the share of the start-of-task value a vector
	// keeps however many examples it sees (the pull-back's strength).
	Anchor float32 `yaml:"anchor"`
	// NewTaskOnNewClass folds (BeginTask) when a class never learned
	// before is taught.
	NewTaskOnNewClass bool `yaml:"new_task_on_new_class"`
}

// DefaultCoLeCLIPOptions returns the registered method's settings.
func DefaultCoLeCLIPOptions() CoLeCLIPOptions {
	return CoLeCLIPOptions{Momentum: 0.9, Anchor: 0.2, NewTaskOnNewClass: true}
}

// Validate checks the options; problems wrap ErrInvalidConfig.
func (o CoLeCLIPOptions) Validate() error {
	var errs []error
	if !(o.Momentum > 0 && o.Momentum < 1) {
		errs = append(errs, fmt.Errorf("%w: coleclip.momentum %v not in (0,1)", ErrInvalidConfig, o.Momentum))
	}
	if !(o.Anchor >= 0 && o.Anchor < 1) {
		errs = append(errs, fmt.Errorf("%w: coleclip.anchor %v not in [0,1)", ErrInvalidConfig, o.Anchor))
	}
	return errors.Join(errs...)
}

func newCoLeCLIP(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
	return NewCoLeCLIP(cfg, DefaultCoLeCLIPOptions(), labels, log)
}

// NewCoLeCLIP builds the vocabulary learner with explicit options.
func NewCoLeCLIP(cfg Config, opts CoLeCLIPOptions, labels *Labels, log *slog.Logger) (*CoLeCLIP, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dim < 1 || labels == nil || labels.Dim() != cfg.Dim {
		return nil, fmt.Errorf("%w: coleclip needs dim >= 1 matching the labels", ErrDim)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CoLeCLIP{cfg: cfg, opts: opts, labels: labels, log: log, fleet: map[ID][]float32{},
		local: map[ID][]float32{}, seg: map[ID]*classSum{}, since: map[ID]*classSum{}, seen: seenClasses{},
		cacheDirty: true}, nil
}

// Name implements Method.
func (m *CoLeCLIP) Name() string { return "coleclip" }

// Dim implements Method.
func (m *CoLeCLIP) Dim() int { return m.cfg.Dim }

// anchorOf is the class's value at the start of the task: the last local
// fold, else the fleet's, else the text embedding (nil: none) — unless the
// text is not informative (LabelSet.InformativeText: the <unk> embedding
// every unknown word shares) and st has examples to go by: mixing that
// text in would pull every such class towards the same vector.
func (m *CoLeCLIP) anchorOf(id ID, s *LabelSet, st *classSum) []float32 {
	if a, ok := m.local[id]; ok {
		return a
	}
	if a, ok := m.fleet[id]; ok {
		return a
	}
	if i, ok := s.Index(id); ok {
		return m.textAnchor(s, i, st)
	}
	return nil
}

func (m *CoLeCLIP) textAnchor(s *LabelSet, i int, st *classSum) []float32 {
	if st != nil && st.count > 0 && s.InformativeText(i, m.cfg.TextDuplicate) == nil {
		return nil
	}
	return s.Text(i)
}

// fold mixes statistics st into anchor a (either may be missing).
func (m *CoLeCLIP) fold(a []float32, st *classSum) []float32 {
	if st == nil || st.count <= 0 {
		return a
	}
	mu := protoOf(st)
	if mu == nil {
		return a
	}
	if a == nil {
		return mu
	}
	k := float64(m.opts.Anchor) + (1-float64(m.opts.Anchor))*math.Pow(float64(m.opts.Momentum), st.count)
	if v := mix(a, mu, k); v != nil {
		return v
	}
	return a
}

// vector is class id's current vocabulary entry (nil: none).
func (m *CoLeCLIP) vector(id ID, s *LabelSet) []float32 {
	return m.fold(m.anchorOf(id, s, m.seg[id]), m.seg[id])
}

// Vocabulary returns a copy of the class's learned text-side vector (nil
// if it has neither examples nor a text embedding) — for unnamed classes,
// the text embedding their name never had.
func (m *CoLeCLIP) Vocabulary(id ID) []float32 {
	s := m.labels.Current()
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]float32(nil), m.vector(id, s)...)
}

// Learn implements Method.
func (m *CoLeCLIP) Learn(batch []Example) error {
	if err := checkBatch(batch, m.cfg.Dim, m.labels.Current()); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.opts.NewTaskOnNewClass && len(m.seen) > 0 && m.seen.anyNew(batch) {
		m.beginTask()
	}
	m.seen.add(batch)
	for _, e := range batch {
		addExample(m.seg, e, 1, m.cfg.Dim)
		addExample(m.since, e, 1, m.cfg.Dim)
	}
	m.cacheDirty = true
	return nil
}

// BeginTask implements TaskBoundary: every vector becomes its class's
// anchor.
func (m *CoLeCLIP) BeginTask() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.beginTask()
}

func (m *CoLeCLIP) beginTask() {
	s := m.labels.Current()
	for id, st := range m.seg {
		if st.count > 0 {
			if v := m.vector(id, s); v != nil {
				m.local[id] = v
			}
		}
	}
	m.seg = map[ID]*classSum{}
	m.cacheDirty = true
}

func (m *CoLeCLIP) refresh(s *LabelSet) {
	if !m.cacheDirty && m.cacheGen == s.Generation() && len(m.vecs) == s.Len() {
		return
	}
	if cap(m.vecs) < s.Len() {
		m.vecs = make([][]float32, s.Len())
	}
	m.vecs = m.vecs[:s.Len()]
	for i := range m.vecs {
		m.vecs[i] = m.vector(s.ID(i), s)
	}
	m.cacheGen, m.cacheDirty = s.Generation(), false
}

// Predict implements Method: scale·cos(image, vocabulary vector).
func (m *CoLeCLIP) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, m.cfg.Dim); err != nil {
		return dst, err
	}
	s := m.labels.Current()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refresh(s)
	return cosineLogits(m.vecs, emb, m.cfg.LogitScale, dst), nil
}

// Footprint implements Method: per class, up to two anchors (float32) and
// three sets of sums (float64).
func (m *CoLeCLIP) Footprint() Footprint {
	m.mu.Lock()
	defer m.mu.Unlock()
	classes := map[ID]bool{}
	var total int64
	for id := range m.fleet {
		classes[id] = true
		total += bytesF32(m.cfg.Dim)
	}
	for id := range m.local {
		classes[id] = true
		total += bytesF32(m.cfg.Dim)
	}
	for _, mp := range []map[ID]*classSum{m.seg, m.since, m.exported} {
		for id := range mp {
			classes[id] = true
			total += bytesF64(m.cfg.Dim) + 16
		}
	}
	return classFootprint(len(classes), total)
}
