package learner

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/clipfleet/clipfleet/learner/linalg"
)

// SelectorConfig configures the task selector that decides, per input,
// whether it comes from a task the method learned (use the learned head) or
// from elsewhere (use frozen zero-shot CLIP).
type SelectorConfig struct {
	// Shrinkage of each task's covariance towards a scaled identity:
	// 0 picks the Ledoit–Wolf intensity from the task's own statistics,
	// a value in (0,1] fixes it.
	Shrinkage float64 `yaml:"shrinkage"`
	// Percentile of in-task Mahalanobis distances a task accepts, in (0.5,1).
	Percentile float64 `yaml:"percentile"`
	// Margin multiplies every task's threshold (>= 1): real embeddings have
	// heavier tails than the Gaussian the threshold is derived from.
	Margin float64 `yaml:"margin"`
	// MinExamples a task needs before it can claim inputs.
	MinExamples int `yaml:"min_examples"`
	// Window is the number of consecutive frames Stream votes over.
	Window int `yaml:"window"`
	// Width of the fixed random orthonormal projection the Gaussians live
	// in; 0 (or >= the embedding dimension) uses the embedding itself. A
	// task costs O(Width²) memory and its fit O(Width³): 128 instead of
	// 512 makes a task 16× smaller while keeping the domain geometry.
	Width int `yaml:"width"`
}

// DefaultSelectorConfig: Ledoit–Wolf shrinkage, 99th percentile with a 1.5×
// margin, 6 examples before a task counts, a 5-frame vote, Gaussians in a
// 128-dimensional projection.
func DefaultSelectorConfig() SelectorConfig {
	return SelectorConfig{Percentile: 0.99, Margin: 1.5, MinExamples: 6, Window: 5, Width: 128}
}

// Validate checks the configuration without side effects.
func (c SelectorConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: selector."+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if !(c.Shrinkage >= 0 && c.Shrinkage <= 1) {
		bad("shrinkage %v not in [0,1]", c.Shrinkage)
	}
	if !(c.Percentile > 0.5 && c.Percentile < 1) {
		bad("percentile %v not in (0.5,1)", c.Percentile)
	}
	if !(c.Margin >= 1) || math.IsInf(c.Margin, 0) {
		bad("margin %v must be >= 1", c.Margin)
	}
	if c.MinExamples < 2 {
		bad("min_examples %d < 2", c.MinExamples)
	}
	if c.Window < 1 {
		bad("window %d < 1", c.Window)
	}
	if c.Width < 0 || c.Width > 4096 {
		bad("width %d not in [0,4096]", c.Width)
	}
	return errors.Join(errs...)
}

// Route is the selector's decision for one input.
type Route struct {
	Task  int     // closest task, -1 if no task can claim inputs yet
	Seen  bool    // the input lies within Task's distribution
	Score float64 // Mahalanobis² / threshold of Task: <= 1 when Seen, +Inf without a task
}

// unseen is the route of an input no task claims.
var unseen = Route{Task: -1, Score: math.Inf(1)}

// Selector is a distribution-discriminative task selector (the auto-selector
// of MoE-Adapters, with DIKI's per-task Gaussians): each task is a Gaussian
// on the frozen embedding — projected to Width dimensions by a fixed,
// seeded orthonormal projection and normalised — with covariance shrunk
// towards a scaled identity so that a few dozen examples still give an
// invertible estimate. An input belongs to the task of smallest
// Mahalanobis distance relative to that task's threshold, if that ratio is
// at most 1; otherwise it is unseen and goes to zero-shot CLIP.
//
// A task's state is sufficient statistics (weight, count, Σx, Σxxᵀ), which
// add exactly across devices and subtract exactly for undo. They are kept
// in two halves, each example going to the half chosen by a hash of its
// embedding, so the threshold can be calibrated on held-out data without
// storing any example: each half's Gaussian is scored on the other half's
// statistics, which give the exact mean held-out squared distance (and,
// through a fixed-seed Hutchinson estimate, its spread). The threshold is the
// Percentile quantile of a scaled χ² with those moments, times Margin, and
// an input's score is the mean of its two half-model ratios. Because the
// split depends only on the example, the selector's decisions depend only on
// which examples were learned — not on their order, batching, or which
// device of the fleet saw them.
//
// Selector is not safe for concurrent use; the methods that own one lock
// around it.
type Selector struct {
	cfg  SelectorConfig
	dim  int       // embedding dimension
	k    int       // dimension the Gaussians live in
	proj []float64 // k×dim orthonormal rows, nil when k == dim
	seed uint64    // of proj
	z    float64   // normal quantile of Percentile

	// per task: two halves of [w, n, Σx (D), Σxxᵀ (packed D×D)]
	base     map[int][]float64 // fleet state
	local    map[int][]float64 // learned here since base
	exported map[int][]float64 // local at the last Delta export
	models   map[int]*taskModel
	taskList []int // cache of Tasks(), nil when stale

	x, y []float64 // scratch
}

// NewSelector returns an empty selector for dim-dimensional embeddings.
// The projection is drawn from seed, which every device of a fleet must
// share (Config.Seed) so their statistics live in the same space.
func NewSelector(cfg SelectorConfig, dim int, seed uint64) (*Selector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if dim < 1 {
		return nil, fmt.Errorf("%w: selector dim %d", ErrInvalidConfig, dim)
	}
	s := &Selector{
		cfg: cfg, dim: dim, k: dim, seed: seed, z: math.Sqrt2 * math.Erfinv(2*cfg.Percentile-1),
		base: map[int][]float64{}, local: map[int][]float64{}, models: map[int]*taskModel{},
	}
	if cfg.Width > 0 && cfg.Width < dim {
		s.k, s.proj = cfg.Width, orthonormalRows(seed, cfg.Width, dim)
	}
	s.x, s.y = make([]float64, s.k), make([]float64, s.k)
	return s, nil
}

// orthonormalRows draws k orthonormal rows in dim dimensions (Gaussian rows,
// Gram–Schmidt), so the projection is an isometry on its subspace.
func orthonormalRows(seed uint64, k, dim int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x73656c70726f6a))
	r := make([]float64, k*dim)
	for i := 0; i < k; i++ {
		row := r[i*dim : (i+1)*dim]
		for {
			for j := range row {
				row[j] = rng.NormFloat64()
			}
			for p := 0; p < i; p++ {
				prev := r[p*dim : (p+1)*dim]
				c := linalg.Dot(prev, row)
				for j := range row {
					row[j] -= c * prev[j]
				}
			}
			if n := math.Sqrt(linalg.Dot(row, row)); n > 1e-6 {
				for j := range row {
					row[j] /= n
				}
				break
			}
		}
	}
	return r
}

// embed writes the unit-norm (projected) embedding into x; false if it has
// no direction there.
func (s *Selector) embed(emb []float32, x []float64) bool {
	if s.proj == nil {
		for i, e := range emb {
			x[i] = float64(e)
		}
	} else {
		for i := range x {
			row := s.proj[i*s.dim : (i+1)*s.dim]
			var v float64
			for j, e := range emb {
				v += row[j] * float64(e)
			}
			x[i] = v
		}
	}
	n := math.Sqrt(linalg.Dot(x, x))
	if !(n > 0) || math.IsInf(n, 0) {
		return false
	}
	for i := range x {
		x[i] /= n
	}
	return true
}

func (s *Selector) halfLen() int { return 2 + s.k + linalg.PackedLen(s.k) }
func (s *Selector) statLen() int { return 2 * s.halfLen() }

// half is the half an example's statistics go to: a hash of its bits, so
// Add and Remove of the same example agree on every device.
func half(emb []float32) int {
	h := uint32(2166136261)
	for _, v := range emb {
		h = (h ^ math.Float32bits(v)) * 16777619
	}
	return int(h>>16^h) & 1
}

func checkTask(task int) error {
	if task < 0 || task > MaxTaskID {
		return fmt.Errorf("learner: task id %d not in [0,%d]", task, MaxTaskID)
	}
	return nil
}

// Add learns emb (any norm; it is normalised) as an example of task with
// the given weight.
func (s *Selector) Add(task int, emb []float32, weight float64) error {
	if err := s.check(task, emb, weight); err != nil {
		return err
	}
	s.accumulate(task, emb, weight)
	return nil
}

// Remove exactly reverses Add of the same example.
func (s *Selector) Remove(task int, emb []float32, weight float64) error {
	if err := s.check(task, emb, weight); err != nil {
		return err
	}
	if s.count(task) < 1 {
		return fmt.Errorf("learner: selector: remove from task %d, which holds no examples", task)
	}
	s.accumulate(task, emb, -weight)
	return nil
}

func (s *Selector) check(task int, emb []float32, weight float64) error {
	if err := checkTask(task); err != nil {
		return err
	}
	if err := checkEmb(emb, s.dim); err != nil {
		return err
	}
	if !s.embed(emb, s.x) {
		return fmt.Errorf("%w: no direction in the selector's projection", ErrBadEmbedding)
	}
	if !(weight > 0) || math.IsInf(weight, 0) {
		return fmt.Errorf("learner: selector: weight %v", weight)
	}
	return nil
}

// count is the number of examples of task (fleet and local).
func (s *Selector) count(task int) float64 {
	var n float64
	for _, v := range [][]float64{s.base[task], s.local[task]} {
		if v != nil {
			n += v[1] + v[s.halfLen()+1]
		}
	}
	return n
}

// accumulate adds w (negative: removes) times the example's statistics.
func (s *Selector) accumulate(task int, emb []float32, w float64) {
	v := s.local[task]
	if v == nil {
		v = make([]float64, s.statLen())
		s.local[task] = v
	}
	h := v[half(emb)*s.halfLen() : (half(emb)+1)*s.halfLen()]
	s.embed(emb, s.x) // check verified it has a direction
	h[0] += w
	if w > 0 {
		h[1]++
	} else {
		h[1]--
	}
	sum := h[2 : 2+s.k]
	for i, x := range s.x {
		sum[i] += w * x
	}
	linalg.AddOuter(h[2+s.k:], s.x, w)
	if v[1] == 0 && v[s.halfLen()+1] == 0 && s.exported[task] == nil && negligible(v) {
		// Everything learned here was removed again: drop the rounding
		// residue so a later delta does not ship noise.
		delete(s.local, task)
	}
	s.changed(task)
}

// changed drops what was derived from task's statistics.
func (s *Selector) changed(task int) {
	delete(s.models, task)
	s.taskList = nil
}

// Tasks lists the tasks with statistics, sorted.
func (s *Selector) Tasks() []int { return append([]int(nil), s.tasks()...) }

// tasks is Tasks without the copy (callers must not modify it).
func (s *Selector) tasks() []int {
	if s.taskList != nil {
		return s.taskList
	}
	seen := map[int]bool{}
	for t := range s.base {
		seen[t] = true
	}
	for t := range s.local {
		seen[t] = true
	}
	out := make([]int, 0, len(seen))
	for t := range seen {
		if s.count(t) > 0 {
			out = append(out, t)
		}
	}
	sort.Ints(out)
	s.taskList = out
	return out
}

// Examples is the number of examples task was fitted on.
func (s *Selector) Examples(task int) int64 { return int64(math.Round(s.count(task))) }

// stats returns base+local for task (a fresh slice), nil if it has none.
func (s *Selector) stats(task int) []float64 {
	b, l := s.base[task], s.local[task]
	if b == nil && l == nil {
		return nil
	}
	v := make([]float64, s.statLen())
	for _, src := range [][]float64{b, l} {
		for i, x := range src {
			v[i] += x
		}
	}
	return v
}

// model returns task's fitted model, fitting it if its statistics changed.
func (s *Selector) model(task int) *taskModel {
	if m, ok := s.models[task]; ok {
		return m
	}
	m := s.fit(task, s.stats(task))
	s.models[task] = m
	return m
}

// Route decides where emb belongs. A malformed embedding is unseen.
func (s *Selector) Route(emb []float32) Route {
	r, _ := s.routeClaims(emb, nil)
	return r
}

// routeClaims is Route that also appends to claims every task that would
// accept emb on its own (score <= 1), in task order. Tasks of one domain
// overlap (the same day-time pictures under labels in three languages), so
// the closest task alone would discard what the others learned about the
// input.
func (s *Selector) routeClaims(emb []float32, claims []int) (Route, []int) {
	claims = claims[:0]
	if len(emb) != s.dim || checkFinite(emb) != nil || !s.embed(emb, s.x) {
		return unseen, claims
	}
	best := unseen
	for _, t := range s.tasks() {
		m := s.model(t)
		if !m.ready {
			continue
		}
		r := s.score(m, s.x)
		if r <= 1 {
			claims = append(claims, t)
		}
		if best.Task < 0 || r < best.Score {
			best = Route{Task: t, Score: r}
		}
	}
	best.Seen = best.Task >= 0 && best.Score <= 1
	return best, claims
}

// Score is emb's score for task (<= 1: the task claims it); ok is false if
// the task cannot claim inputs yet.
func (s *Selector) Score(task int, emb []float32) (score float64, ok bool) {
	if len(emb) != s.dim || checkFinite(emb) != nil || !s.embed(emb, s.x) {
		return 0, false
	}
	m := s.model(task)
	if !m.ready {
		return 0, false
	}
	return s.score(m, s.x), true
}

// score is the mean over the two half models of Mahalanobis² / threshold
// for the embedded input x.
func (s *Selector) score(m *taskModel, x []float64) float64 {
	var r float64
	for h := range m.half {
		hm := &m.half[h]
		for i, v := range x {
			s.y[i] = v - hm.mu[i]
		}
		linalg.SolveLower(hm.l, s.y)
		r += linalg.Dot(s.y, s.y) / hm.thr
	}
	return r / 2
}

// --- fleet sync ------------------------------------------------------------

// appendDelta adds the per-task statistics learned since base to d and
// remembers them as exported.
func (s *Selector) appendDelta(d *Delta) {
	s.exported = map[int][]float64{}
	for _, t := range sortedInts(s.local) {
		v := s.local[t]
		d.Classes = appendChunks(d.Classes, v, s.dim, func(j int) ID { return statKey(statTagSelector, t, j) })
		s.exported[t] = append([]float64(nil), v...)
	}
}

// decodeMerged extracts the per-task statistics of a merged delta.
func (s *Selector) decodeMerged(cs *chunkSet) (map[int][]float64, error) {
	out := map[int][]float64{}
	for _, t := range cs.owners(statTagSelector) {
		v, _ := cs.vector(s.statLen(), func(j int) ID { return statKey(statTagSelector, t, j) })
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%w: selector statistics of task %d are not finite", ErrIncompatible, t)
			}
		}
		out[t] = v
	}
	return out, nil
}

// applyMerged: base += merged; local -= exported if the merge included it.
func (s *Selector) applyMerged(merged map[int][]float64, included bool) {
	add := func(dst map[int][]float64, t int, src []float64, sign float64) {
		v := dst[t]
		if v == nil {
			v = make([]float64, s.statLen())
			dst[t] = v
		}
		for i, x := range src {
			v[i] += sign * x
		}
	}
	for t, v := range merged {
		add(s.base, t, v, 1)
		s.changed(t)
	}
	if included {
		for t, v := range s.exported {
			add(s.local, t, v, -1)
			s.changed(t)
		}
	}
	s.exported = nil
	for t, v := range s.local {
		if v[1] == 0 && v[s.halfLen()+1] == 0 && negligible(v) {
			delete(s.local, t)
		}
	}
}

// negligible reports whether v is rounding residue: statistics of real,
// distinct unit-norm examples differ by far more than 1e-10.
func negligible(v []float64) bool {
	for _, x := range v {
		if math.Abs(x) > 1e-10 {
			return false
		}
	}
	return true
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// --- snapshot --------------------------------------------------------------

// selectorMeta lists the tasks of each statistics map in a snapshot.
type selectorMeta struct {
	Width    int    `json:"width"`
	Seed     uint64 `json:"seed,omitempty"` // of the projection
	Base     []int  `json:"base"`
	Local    []int  `json:"local"`
	Exported []int  `json:"exported,omitempty"`
	HasExp   bool   `json:"has_exported,omitempty"`
}

func (s *Selector) encode(e *Envelope) selectorMeta {
	put := func(prefix string, m map[int][]float64) []int {
		ts := sortedInts(m)
		for _, t := range ts {
			e.Tensors64 = append(e.Tensors64, Tensor64{Name: fmt.Sprintf("%s%d", prefix, t), Shape: []int{len(m[t])}, Data: m[t]})
		}
		return ts
	}
	meta := selectorMeta{Width: s.k}
	if s.proj != nil {
		meta.Seed = s.seed
	}
	meta.Base = put("sel/base/", s.base)
	meta.Local = put("sel/local/", s.local)
	meta.Exported = put("sel/exp/", s.exported)
	meta.HasExp = s.exported != nil
	return meta
}

// decode loads a snapshot's statistics into s, which must be fresh (it is
// built by the caller's Restore and swapped in only on success).
func (s *Selector) decode(meta selectorMeta, e *Envelope) error {
	if meta.Width != s.k || (s.proj != nil && meta.Seed != s.seed) {
		return fmt.Errorf("%w: selector statistics of width %d seed %d, configured %d seed %d",
			ErrIncompatible, meta.Width, meta.Seed, s.k, s.seed)
	}
	get := func(prefix string, ts []int) (map[int][]float64, error) {
		out := map[int][]float64{}
		for _, t := range ts {
			if err := checkTask(t); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			v, ok := e.F64(fmt.Sprintf("%s%d", prefix, t))
			if !ok || len(v.Data) != s.statLen() {
				return nil, fmt.Errorf("%w: selector statistics %s%d", ErrCorrupt, prefix, t)
			}
			out[t] = v.Data
		}
		return out, nil
	}
	var err error
	if s.base, err = get("sel/base/", meta.Base); err != nil {
		return err
	}
	if s.local, err = get("sel/local/", meta.Local); err != nil {
		return err
	}
	if s.exported, err = get("sel/exp/", meta.Exported); err != nil {
		return err
	}
	if !meta.HasExp {
		s.exported = nil
	}
	s.models = map[int]*taskModel{}
	s.taskList = nil
	return nil
}

// footprint is the bytes of statistics and fitted models.
func (s *Selector) footprint() (bytes int64, tasks int) {
	for _, m := range []map[int][]float64{s.base, s.local, s.exported} {
		for _, v := range m {
			bytes += bytesF64(len(v))
		}
	}
	for _, m := range s.models {
		for _, h := range m.half {
			bytes += bytesF64(len(h.mu) + len(h.l))
		}
	}
	bytes += bytesF64(len(s.proj))
	return bytes, len(s.Tasks())
}
