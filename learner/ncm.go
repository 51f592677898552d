package learner

import (
	"fmt"
	"log/slog"
	"sync"
)

func init() { Register("ncm", newNCM) }

// NCM is nearest-class-mean with weight imprinting (Coral's on-device
// imprinting): each class vector is the normalised mean of its normalised
// examples, mixed with the text embedding:
//
//	logit_c = scale · cos(img, normalize(α·text_c + (1-α)·proto_c))
//
// Its state is per-class sums and counts, which merge exactly across
// devices and can be subtracted for undo.
type NCM struct {
	cfg    Config
	labels *Labels
	log    *slog.Logger

	mu       sync.Mutex
	cur      map[ID]*classSum
	base     map[ID]*classSum // state at the fleet base version
	exported map[ID]*classSum // cur-base at the last Delta export
	sync     syncBase

	// cache of mixed class vectors in label order, rebuilt when the label
	// set or the statistics change
	cacheGen   uint64
	cacheDirty bool
	vecs       [][]float32
	buf        []float32
}

func newNCM(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
	return &NCM{cfg: cfg, labels: labels, log: log, cur: map[ID]*classSum{}, base: map[ID]*classSum{}, cacheDirty: true}, nil
}

// Name implements Method.
func (m *NCM) Name() string { return "ncm" }

// Dim implements Method.
func (m *NCM) Dim() int { return m.cfg.Dim }

// Learn implements Method.
func (m *NCM) Learn(batch []Example) error { return m.accumulate(batch, 1) }

// Unlearn subtracts the batch's statistics: exact undo.
func (m *NCM) Unlearn(batch []Example) error { return m.accumulate(batch, -1) }

func (m *NCM) accumulate(batch []Example, sign float64) error {
	if err := checkBatch(batch, m.cfg.Dim, m.labels.Current()); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if sign < 0 {
		// Refuse to remove more than was learned: that would be a caller
		// bug and would leave negative counts behind.
		need := map[ID]int64{}
		for _, e := range batch {
			need[e.Label]++
		}
		for id, n := range need {
			if c, ok := m.cur[id]; !ok || c.n < n {
				return fmt.Errorf("learner: ncm: unlearn %d examples of %v, it holds fewer", n, id)
			}
		}
	}
	for _, e := range batch {
		if c := addExample(m.cur, e, sign, m.cfg.Dim); c.n <= 0 {
			// Everything this class learned was removed: reset to exact
			// zero so rounding residue does not leave a ghost prototype.
			delete(m.cur, e.Label)
		}
	}
	m.cacheDirty = true
	return nil
}

// Prototype returns the normalised mean embedding of a class and its
// example count (nil, 0 if it has none).
func (m *NCM) Prototype(id ID) ([]float32, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cur[id]
	if !ok || c.count <= 0 {
		return nil, 0
	}
	return protoOf(c), c.n
}

// refresh rebuilds the class vectors if labels or statistics changed.
func (m *NCM) refresh(s *LabelSet) {
	if !m.cacheDirty && m.cacheGen == s.Generation() && len(m.vecs) == s.Len() {
		return
	}
	if cap(m.vecs) < s.Len() {
		m.vecs = make([][]float32, s.Len())
	}
	m.vecs = m.vecs[:s.Len()]
	a := m.cfg.NCM.Alpha
	for i := range m.vecs {
		t := s.Text(i)
		var p []float32
		if c, ok := m.cur[s.ID(i)]; ok {
			p = protoOf(c)
		}
		if p != nil && s.InformativeText(i, m.cfg.TextDuplicate) == nil {
			// The <unk> embedding every unknown name shares says nothing
			// about this class; mixed in, it pulls all of them together.
			t = nil
		}
		switch {
		case t != nil && p != nil:
			v := make([]float32, len(t))
			for j := range v {
				v[j] = a*t[j] + (1-a)*p[j]
			}
			if normalizeInto(v, v) == 0 {
				v = nil // text and prototype exactly opposite: no direction
			}
			m.vecs[i] = v
		case t != nil:
			m.vecs[i] = t
		default:
			m.vecs[i] = p
		}
	}
	m.cacheGen, m.cacheDirty = s.Generation(), false
}

// Predict implements Method.
func (m *NCM) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, m.cfg.Dim); err != nil {
		return dst, err
	}
	s := m.labels.Current()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refresh(s)
	return cosineLogits(m.vecs, emb, m.cfg.LogitScale, dst), nil
}

// cosineLogits is scale·cos(emb, v) for unit vectors v; nil → NoLogit.
func cosineLogits(vecs [][]float32, emb []float32, scale float32, dst []float32) []float32 {
	dst = resize(dst, len(vecs))
	n := norm(emb)
	for i, v := range vecs {
		if v == nil || n == 0 {
			dst[i] = NoLogit
			continue
		}
		dst[i] = scale * float32(float64(dot(emb, v))/n)
	}
	return dst
}

type ncmMeta struct {
	syncMeta
	Alpha    float32   `json:"alpha"`
	Cur      []sumStat `json:"cur"`
	Base     []sumStat `json:"base"`
	Exported []sumStat `json:"exported,omitempty"`
}

// Snapshot implements Method.
func (m *NCM) Snapshot() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := &Envelope{Kind: "method", Method: m.Name(), Dim: m.cfg.Dim, Version: stateVersion}
	meta := ncmMeta{syncMeta: m.sync.meta(), Alpha: m.cfg.NCM.Alpha}
	meta.Cur = encodeSums("cur/", m.cur, e)
	meta.Base = encodeSums("base/", m.base, e)
	meta.Exported = encodeSums("exp/", m.exported, e)
	return sealState(e, meta)
}

// Restore implements Method. The mixing weight α is configuration, not
// state, so a snapshot restores under a different α.
func (m *NCM) Restore(b []byte) error {
	var meta ncmMeta
	e, err := openState(b, m.Name(), m.cfg.Dim, stateVersion, &meta)
	if err != nil {
		return err
	}
	cur, err := decodeSums("cur/", meta.Cur, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	base, err := decodeSums("base/", meta.Base, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	exp, err := decodeSums("exp/", meta.Exported, e, m.cfg.Dim)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur, m.base, m.exported = cur, base, exp
	if len(exp) == 0 {
		m.exported = nil
	}
	m.sync.setMeta(meta.syncMeta)
	m.cacheDirty = true
	return nil
}

// BaseVersion implements Method.
func (m *NCM) BaseVersion() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sync.version
}

// diff returns cur-base per class, skipping unchanged classes.
func (m *NCM) diff() map[ID]*classSum {
	out := map[ID]*classSum{}
	ids := map[ID]bool{}
	for id := range m.cur {
		ids[id] = true
	}
	for id := range m.base {
		ids[id] = true
	}
	for id := range ids {
		d := &classSum{sum: make([]float64, m.cfg.Dim)}
		if c, ok := m.cur[id]; ok {
			addSum(d, c, 1)
		}
		if b, ok := m.base[id]; ok {
			addSum(d, b, -1)
		}
		if !d.zero() {
			out[id] = d
		}
	}
	return out
}

// Delta implements Method: per-class sums and counts learned since base.
func (m *NCM) Delta(base uint64) (*Delta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.sync.startExport(base, m.Name(), m.cfg.Dim, m.cfg.ModelID)
	if err != nil {
		return nil, err
	}
	diff := m.diff()
	exportSums(d, diff, m.labels)
	m.exported = diff
	return d, nil
}

// ApplyMerged implements Method: base += merged; cur += merged - own export
// (if the merge included it).
func (m *NCM) ApplyMerged(d *Delta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	included, err := m.sync.checkMerged(d, m.Name(), m.cfg.Dim, m.cfg.ModelID)
	if err != nil {
		return err
	}
	if err := acceptClasses(m.labels, d, m.cfg.Dim, false); err != nil {
		return err
	}
	apply := func(dst map[ID]*classSum, id ID, src *classSum, sign float64) {
		t, ok := dst[id]
		if !ok {
			t = &classSum{sum: make([]float64, m.cfg.Dim)}
			dst[id] = t
		}
		addSum(t, src, sign)
		if t.n == 0 {
			delete(dst, id)
		}
	}
	for _, c := range d.Classes {
		src := &classSum{sum: c.Sum, count: c.Count, n: c.Examples}
		apply(m.base, c.Label, src, 1)
		apply(m.cur, c.Label, src, 1)
	}
	if included {
		for id, e := range m.exported {
			apply(m.cur, id, e, -1)
		}
	}
	m.exported = nil
	m.sync.version, m.sync.exportID = d.Version, 0
	m.cacheDirty = true
	return nil
}

// Footprint implements Method: cur and base sums per class.
func (m *NCM) Footprint() Footprint {
	m.mu.Lock()
	defer m.mu.Unlock()
	per := bytesF64(m.cfg.Dim) + 16
	total := int64(len(m.cur)+len(m.base)+len(m.exported)) * per
	return classFootprint(len(m.cur), total)
}
