package learner

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
)

func init() { Register("ncm", newNCM) }

// classSum is a class's sufficient statistics. Sums are float64 so that
// adding and later subtracting an example (undo, fleet merge) returns the
// exact previous prototype up to rounding far below float32 resolution.
type classSum struct {
	sum   []float64
	count float64 // total weight
	n     int64   // examples
}

func (c *classSum) zero() bool { return c.n == 0 && c.count == 0 }

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

func (m *NCM) class(id ID) *classSum {
	c, ok := m.cur[id]
	if !ok {
		c = &classSum{sum: make([]float64, m.cfg.Dim)}
		m.cur[id] = c
	}
	return c
}

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
		c := m.class(e.Label)
		w := sign * float64(e.W())
		inv := w / norm(e.Emb)
		for i, x := range e.Emb {
			c.sum[i] += float64(x) * inv
		}
		c.count += w
		c.n += int64(sign)
		if c.n <= 0 {
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

func protoOf(c *classSum) []float32 {
	if c.count <= 0 {
		return nil
	}
	p := make([]float32, len(c.sum))
	var s float64
	for _, v := range c.sum {
		s += v * v
	}
	if s == 0 {
		return nil
	}
	inv := 1 / sqrt(s)
	for i, v := range c.sum {
		p[i] = float32(v * inv)
	}
	return p
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
	Cur      []ncmStat `json:"cur"`
	Base     []ncmStat `json:"base"`
	Exported []ncmStat `json:"exported,omitempty"`
}

type ncmStat struct {
	ID    ID      `json:"id"`
	Count float64 `json:"count"`
	N     int64   `json:"n"`
}

func sortedIDs[V any](m map[ID]V) []ID {
	ids := make([]ID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func encodeSums(prefix string, m map[ID]*classSum, e *Envelope) []ncmStat {
	var stats []ncmStat
	for _, id := range sortedIDs(m) {
		c := m[id]
		stats = append(stats, ncmStat{id, c.count, c.n})
		e.Tensors64 = append(e.Tensors64, Tensor64{Name: prefix + id.String(), Shape: []int{len(c.sum)}, Data: c.sum})
	}
	return stats
}

func decodeSums(prefix string, stats []ncmStat, e *Envelope, dim int) (map[ID]*classSum, error) {
	out := make(map[ID]*classSum, len(stats))
	for _, st := range stats {
		t, ok := e.F64(prefix + st.ID.String())
		if !ok || len(t.Data) != dim {
			return nil, fmt.Errorf("%w: missing sums %s%v", ErrCorrupt, prefix, st.ID)
		}
		out[st.ID] = &classSum{sum: t.Data, count: st.Count, n: st.N}
	}
	return out, nil
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
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("learner: ncm meta: %w", err)
	}
	e.Meta = b
	return e.MarshalBinary()
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

func addSum(dst, src *classSum, sign float64) {
	for i, v := range src.sum {
		dst.sum[i] += sign * v
	}
	dst.count += sign * src.count
	dst.n += int64(sign) * src.n
}

// Delta implements Method: per-class sums and counts learned since base.
func (m *NCM) Delta(base uint64) (*Delta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.sync.checkBase(base); err != nil {
		return nil, err
	}
	diff := m.diff()
	d := &Delta{Method: m.Name(), Dim: m.cfg.Dim, ModelID: m.cfg.ModelID, BaseVersion: base, ID: m.sync.newExport()}
	ids := sortedIDs(diff)
	for _, id := range ids {
		c := diff[id]
		d.Classes = append(d.Classes, ClassStats{Label: id, Count: c.count, Examples: c.n, Sum: append([]float64(nil), c.sum...)})
		d.Examples += math.Abs(c.count) // FedAvg weight: undo counts too
	}
	d.Labels = labelInfos(m.labels.Current(), ids)
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
	for _, c := range d.Classes {
		if len(c.Sum) != m.cfg.Dim {
			return fmt.Errorf("%w: class %v sum has %d components", ErrDim, c.Label, len(c.Sum))
		}
	}
	if err := m.labels.Ensure(d.Labels); err != nil {
		return err
	}
	s := m.labels.Current()
	for _, c := range d.Classes {
		if _, ok := s.Index(c.Label); !ok {
			if err := m.labels.AddID(c.Label, ""); err != nil {
				return err
			}
		}
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
	f := Footprint{Classes: len(m.cur), Total: total}
	if f.Classes > 0 {
		f.PerClass = total / int64(f.Classes)
	}
	return f
}
