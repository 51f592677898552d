package learner

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/clipfleet/clipfleet/learner/linalg"
)

func init() {
	Register("analytic", func(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
		return NewAnalytic(cfg, cfg.Analytic, labels, log)
	})
}

var (
	_ Routed    = (*Analytic)(nil)
	_ Unlearner = (*Analytic)(nil)
)

// AnalyticConfig configures the analytic (closed-form ridge regression) head.
type AnalyticConfig struct {
	// Features is the width M of the fixed random ReLU projection
	// Φ = relu(R·x) (RanPAC; R seeded by Config.Seed, so every device of a
	// fleet draws the same R). 0 regresses on the embedding itself.
	Features int `yaml:"features"`
	// Lambda is the ridge penalty: W = (ΦᵀΦ + λI)⁻¹ΦᵀY.
	Lambda float64 `yaml:"lambda"`
	// Temperature turns regression outputs (≈1 for the right class, ≈0
	// otherwise) into logits before the softmax over learned classes.
	Temperature float32 `yaml:"temperature"`
	// ZeroShotMix β mixes zero-shot probabilities into inputs the selector
	// calls seen: p = (1-β)·p_analytic + β·p_zeroshot (RAIL's fusion).
	ZeroShotMix float32 `yaml:"zero_shot_mix"`
	// Selector decides which inputs are seen.
	Selector SelectorConfig `yaml:"selector"`
}

// DefaultAnalyticConfig: 1024 random features, λ = 1, temperature 10, 20%
// zero-shot in the fusion.
func DefaultAnalyticConfig() AnalyticConfig {
	return AnalyticConfig{Features: 1024, Lambda: 1, Temperature: 10, ZeroShotMix: 0.2, Selector: DefaultSelectorConfig()}
}

// Validate checks the configuration without side effects.
func (c AnalyticConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: analytic."+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Features < 0 || c.Features > 1<<14 {
		bad("features %d not in [0,16384]", c.Features)
	}
	if !(c.Lambda > 0) || math.IsInf(c.Lambda, 0) {
		bad("lambda %v must be > 0", c.Lambda)
	}
	if !(c.Temperature > 0) || math.IsInf(float64(c.Temperature), 0) {
		bad("temperature %v must be > 0", c.Temperature)
	}
	if !(c.ZeroShotMix >= 0 && c.ZeroShotMix <= 1) {
		bad("zero_shot_mix %v not in [0,1]", c.ZeroShotMix)
	}
	if err := c.Selector.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Analytic is the analytic-learning head of RAIL and RanPAC: ridge
// regression from (randomly projected) frozen embeddings to one-hot labels,
// solved in closed form,
//
//	G = Σ w·φφᵀ,  B = Σ w·φyᵀ,  W = (G + λI)⁻¹B,  ŷ = Wᵀφ,
//
// with φ = relu(R·x) for a fixed seeded R. G and B are sums, so the head
// never forgets (learning task after task gives exactly the head trained on
// everything at once), devices merge exactly by adding them, and Unlearn
// subtracts. W is solved by Cholesky lazily, on the first Predict after a
// change (or eagerly with Prepare).
//
// A Selector gates the head: inputs it calls seen get the fusion
// p = (1-β)·softmax(T·ŷ over learned classes) + β·softmax(zero-shot), and
// unseen inputs get exactly the zero-shot logits, so zero-shot ability on
// everything else is preserved by construction. In the seen case the logits
// are log p (Softmax of them gives p back).
type Analytic struct {
	cfg    Config
	ac     AnalyticConfig
	labels *Labels
	log    *slog.Logger

	mu   sync.Mutex
	m    int       // feature width
	proj []float32 // M×D, nil without projection

	// Gram matrix (packed M×M) and per-class vectors [w, n, Σw·φ (M)]:
	// fleet base, learned here since base, and the last export.
	gBase, gLocal, gExp []float64
	cBase, cLocal, cExp map[ID][]float64
	sel                 *Selector
	tasks               taskTracker
	sync                syncBase

	// solved head, rebuilt when statistics or labels change
	dirty    bool
	heads    map[ID][]float32
	vecGen   uint64
	vecDirty bool
	vecs     [][]float32 // head of each label in order, nil if none

	x, phi []float64
	zs, pz []float32
}

// NewAnalytic builds the analytic head with explicit settings; New("analytic")
// uses DefaultAnalyticConfig.
func NewAnalytic(cfg Config, ac AnalyticConfig, labels *Labels, log *slog.Logger) (*Analytic, error) {
	if err := ac.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dim < 1 || labels == nil || labels.Dim() != cfg.Dim {
		return nil, fmt.Errorf("%w: analytic needs dim >= 1 matching the labels", ErrDim)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sel, err := NewSelector(ac.Selector, cfg.Dim, cfg.Seed)
	if err != nil {
		return nil, err
	}
	a := &Analytic{cfg: cfg, ac: ac, labels: labels, log: log, sel: sel, tasks: newTaskTracker(),
		cBase: map[ID][]float64{}, cLocal: map[ID][]float64{}, dirty: true, vecDirty: true}
	a.m = cfg.Dim
	if ac.Features > 0 {
		a.m = ac.Features
		a.proj = randomProjection(cfg.Seed, ac.Features, cfg.Dim)
	}
	a.gBase = make([]float64, linalg.PackedLen(a.m))
	a.x, a.phi = make([]float64, cfg.Dim), make([]float64, a.m)
	return a, nil
}

// randomProjection is RanPAC's fixed Gaussian matrix. It depends only on
// the seed and shape, so it is regenerated rather than stored or shipped.
func randomProjection(seed uint64, m, d int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x616e616c79746963))
	r := make([]float32, m*d)
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	return r
}

// Name implements Method.
func (a *Analytic) Name() string { return "analytic" }

// Dim implements Method.
func (a *Analytic) Dim() int { return a.cfg.Dim }

// Features is the width of the regression's input.
func (a *Analytic) Features() int { return a.m }

func (a *Analytic) classLen() int { return 2 + a.m }

// features writes φ(emb) into a.phi.
func (a *Analytic) features(emb []float32) {
	inv := 1 / norm(emb)
	for i, e := range emb {
		a.x[i] = float64(e) * inv
	}
	if a.proj == nil {
		copy(a.phi, a.x)
		return
	}
	d := a.cfg.Dim
	for i := range a.phi {
		row := a.proj[i*d : (i+1)*d]
		var s float64
		for j, r := range row {
			s += float64(r) * a.x[j]
		}
		a.phi[i] = math.Max(s, 0)
	}
}

// Learn implements Method.
func (a *Analytic) Learn(batch []Example) error {
	if err := checkBatch(batch, a.cfg.Dim, a.labels.Current()); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	task := a.tasks.cur
	for _, e := range batch {
		a.accumulate(task, e, float64(e.W()))
		a.tasks.add(task, e.Label, 1)
	}
	return nil
}

// Unlearn implements Unlearner: subtracts exactly what Learn added, from the
// task each example was learned in. Only examples learned on this device
// can be unlearned here (a fleet merge brings sums, not examples).
func (a *Analytic) Unlearn(batch []Example) error {
	if err := checkBatch(batch, a.cfg.Dim, a.labels.Current()); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	plan, err := a.tasks.planUnlearn(batch)
	if err != nil {
		return fmt.Errorf("learner: analytic: %w", err)
	}
	for i, e := range batch {
		a.accumulate(plan[i], e, -float64(e.W()))
		a.tasks.add(plan[i], e.Label, -1)
	}
	return nil
}

// accumulate adds (w > 0) or removes (w < 0) one example's statistics.
func (a *Analytic) accumulate(task int, e Example, w float64) {
	a.features(e.Emb)
	if a.gLocal == nil {
		a.gLocal = make([]float64, len(a.gBase))
	}
	linalg.AddOuter(a.gLocal, a.phi, w)
	v := a.cLocal[e.Label]
	if v == nil {
		v = make([]float64, a.classLen())
		a.cLocal[e.Label] = v
	}
	v[0] += w
	if w > 0 {
		v[1]++
	} else {
		v[1]--
	}
	for i, p := range a.phi {
		v[2+i] += w * p
	}
	if v[1] == 0 && a.cExp[e.Label] == nil && negligible(v) {
		delete(a.cLocal, e.Label)
	}
	if w > 0 {
		_ = a.sel.Add(task, e.Emb, w) // cannot fail: checkBatch validated e
	} else {
		_ = a.sel.Remove(task, e.Emb, -w)
	}
	a.dirty = true
}

// BeginTask implements TaskBoundary: later examples form a new task of the
// selector, numbered after every task known here. The head itself has no
// task state: its statistics never forget.
func (a *Analytic) BeginTask() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n, err := a.tasks.next(a.sel.tasks()); err == nil {
		a.tasks.cur = n
	}
}

// BeginTaskID makes later examples belong to task id (>= 0), which may be
// an earlier task to resume. Use ids that mean the same on every device.
func (a *Analytic) BeginTaskID(id int) error {
	if err := checkTask(id); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tasks.cur = id
	return nil
}

// Task is the task later examples belong to.
func (a *Analytic) Task() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tasks.cur
}

// classVec is id's statistics, fleet and local (a fresh slice), nil if none.
func (a *Analytic) classVec(id ID) []float64 {
	b, l := a.cBase[id], a.cLocal[id]
	if b == nil && l == nil {
		return nil
	}
	v := make([]float64, a.classLen())
	for _, src := range [][]float64{b, l} {
		for i, x := range src {
			v[i] += x
		}
	}
	return v
}

// Prepare solves the head and fits the selector now, so the next Predict
// does not pay for it (call it from the goroutine that taught).
func (a *Analytic) Prepare() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.sel.tasks() {
		a.sel.model(t)
	}
	return a.solve()
}

// solve recomputes W = (G + λI)⁻¹B if the statistics changed.
func (a *Analytic) solve() error {
	if !a.dirty {
		return nil
	}
	ids := map[ID]bool{}
	for id := range a.cBase {
		ids[id] = true
	}
	for id := range a.cLocal {
		ids[id] = true
	}
	heads := map[ID][]float32{}
	var l []float64
	for _, id := range sortedIDs(ids) {
		v := a.classVec(id)
		if v[1] < 0.5 {
			continue // every example of the class was unlearned
		}
		if l == nil {
			var err error
			if l, err = a.factor(); err != nil {
				return err
			}
		}
		b := v[2:]
		linalg.CholeskySolve(l, b)
		h := make([]float32, a.m)
		for i, x := range b {
			h[i] = float32(x)
		}
		heads[id] = h
	}
	a.heads, a.dirty, a.vecDirty = heads, false, true
	return nil
}

// factor returns the Cholesky factor of G + λI. Rounding can make G a hair
// indefinite only if λ is tiny relative to G; then λ grows until it works.
func (a *Analytic) factor() ([]float64, error) {
	lambda := a.ac.Lambda
	for try := 0; try < 6; try++ {
		l := append([]float64(nil), a.gBase...)
		for i, x := range a.gLocal {
			l[i] += x
		}
		linalg.AddDiag(l, a.m, lambda)
		err := linalg.Cholesky(l, a.m)
		if err == nil {
			if lambda != a.ac.Lambda {
				a.log.Warn("analytic: raised ridge penalty to factorise", "lambda", lambda)
			}
			return l, nil
		}
		if !errors.Is(err, linalg.ErrNotPositiveDefinite) {
			return nil, fmt.Errorf("learner: analytic: %w", err)
		}
		lambda *= 10
	}
	return nil, fmt.Errorf("learner: analytic: Gram matrix cannot be factorised: %w", linalg.ErrNotPositiveDefinite)
}

// refreshVecs lays the heads out in label order.
func (a *Analytic) refreshVecs(s *LabelSet) {
	if !a.vecDirty && a.vecGen == s.Generation() && len(a.vecs) == s.Len() {
		return
	}
	if cap(a.vecs) < s.Len() {
		a.vecs = make([][]float32, s.Len())
	}
	a.vecs = a.vecs[:s.Len()]
	for i := range a.vecs {
		a.vecs[i] = a.heads[s.ID(i)]
	}
	a.vecGen, a.vecDirty = s.Generation(), false
}

// Route implements Routed.
func (a *Analytic) Route(emb []float32) (Route, error) {
	if err := checkEmb(emb, a.cfg.Dim); err != nil {
		return unseen, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sel.Route(emb), nil
}

// Predict implements Method.
func (a *Analytic) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, a.cfg.Dim); err != nil {
		return dst, err
	}
	s := a.labels.Current()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.predict(s, emb, a.sel.Route(emb), dst)
}

// PredictRoute implements Routed.
func (a *Analytic) PredictRoute(emb []float32, r Route, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, a.cfg.Dim); err != nil {
		return dst, err
	}
	s := a.labels.Current()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.predict(s, emb, r, dst)
}

func (a *Analytic) predict(s *LabelSet, emb []float32, r Route, dst []float32) ([]float32, error) {
	if !r.Seen || norm(emb) == 0 {
		return textLogits(s, emb, a.cfg.LogitScale, dst), nil
	}
	if err := a.solve(); err != nil {
		return dst, err
	}
	a.refreshVecs(s)
	a.features(emb)
	dst = resize(dst, s.Len())
	maxv, found := math.Inf(-1), false
	t := float64(a.ac.Temperature)
	for i, h := range a.vecs {
		if h == nil {
			dst[i] = NoLogit
			continue
		}
		var y float64
		for j, p := range a.phi {
			y += float64(h[j]) * p
		}
		dst[i] = float32(t * y)
		maxv, found = math.Max(maxv, t*y), true
	}
	if !found {
		return textLogits(s, emb, a.cfg.LogitScale, dst), nil
	}
	var sum float64
	for _, v := range dst {
		if v != NoLogit {
			sum += math.Exp(float64(v) - maxv)
		}
	}
	beta := float64(a.ac.ZeroShotMix)
	a.zs = textLogits(s, emb, a.cfg.LogitScale, a.zs)
	hasText := false
	for _, v := range a.zs {
		hasText = hasText || v != NoLogit
	}
	if !hasText {
		beta = 0 // Softmax would spread β uniformly: no information
	}
	a.pz = Softmax(a.zs, a.pz)
	for i, v := range dst {
		var p float64
		if v != NoLogit {
			p = (1 - beta) * math.Exp(float64(v)-maxv) / sum
		}
		p += beta * float64(a.pz[i])
		if p > 0 {
			dst[i] = float32(math.Log(p))
		} else {
			dst[i] = NoLogit
		}
	}
	return dst, nil
}

// --- snapshot ----------------------------------------------------------------

type analyticMeta struct {
	syncMeta
	Features int          `json:"features"`
	Seed     uint64       `json:"seed"`
	GLocal   bool         `json:"g_local"`
	GExp     bool         `json:"g_exported"`
	CBase    []ID         `json:"c_base"`
	CLocal   []ID         `json:"c_local"`
	CExp     []ID         `json:"c_exported,omitempty"`
	HasCExp  bool         `json:"has_c_exported,omitempty"`
	Selector selectorMeta `json:"selector"`
	Tasks    taskMeta     `json:"tasks"`
}

// analyticVersion is the layout version of Analytic snapshots.
const analyticVersion = 1

// Snapshot implements Method. R is not stored: it is regenerated from the
// seed, which the snapshot records so another seed is refused.
func (a *Analytic) Snapshot() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := &Envelope{Kind: "method", Method: a.Name(), Dim: a.cfg.Dim, Version: analyticVersion}
	meta := analyticMeta{syncMeta: a.sync.meta(), Features: a.ac.Features, Seed: a.cfg.Seed,
		GLocal: a.gLocal != nil, GExp: a.gExp != nil, HasCExp: a.cExp != nil}
	put := func(name string, v []float64) {
		e.Tensors64 = append(e.Tensors64, Tensor64{Name: name, Shape: []int{len(v)}, Data: v})
	}
	put("g/base", a.gBase)
	if a.gLocal != nil {
		put("g/local", a.gLocal)
	}
	if a.gExp != nil {
		put("g/exp", a.gExp)
	}
	classes := func(prefix string, m map[ID][]float64) []ID {
		ids := sortedIDs(m)
		for _, id := range ids {
			put(prefix+id.String(), m[id])
		}
		return ids
	}
	meta.CBase = classes("c/base/", a.cBase)
	meta.CLocal = classes("c/local/", a.cLocal)
	meta.CExp = classes("c/exp/", a.cExp)
	meta.Selector = a.sel.encode(e)
	meta.Tasks = a.tasks.meta()
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("learner: analytic meta: %w", err)
	}
	e.Meta = b
	return e.MarshalBinary()
}

// Restore implements Method. Features and Seed must match the
// configuration (they define φ); λ, temperature and the selector's
// thresholds are configuration and may differ.
func (a *Analytic) Restore(b []byte) error {
	var meta analyticMeta
	e, err := openState(b, a.Name(), a.cfg.Dim, analyticVersion, &meta)
	if err != nil {
		return err
	}
	if meta.Features != a.ac.Features || (meta.Features > 0 && meta.Seed != a.cfg.Seed) {
		return fmt.Errorf("%w: snapshot has %d features seed %d, config %d features seed %d",
			ErrIncompatible, meta.Features, meta.Seed, a.ac.Features, a.cfg.Seed)
	}
	p := linalg.PackedLen(a.m)
	get := func(name string, n int) ([]float64, error) {
		t, ok := e.F64(name)
		if !ok || len(t.Data) != n {
			return nil, fmt.Errorf("%w: analytic tensor %s", ErrCorrupt, name)
		}
		return t.Data, nil
	}
	gBase, err := get("g/base", p)
	if err != nil {
		return err
	}
	var gLocal, gExp []float64
	if meta.GLocal {
		if gLocal, err = get("g/local", p); err != nil {
			return err
		}
	}
	if meta.GExp {
		if gExp, err = get("g/exp", p); err != nil {
			return err
		}
	}
	classes := func(prefix string, ids []ID) (map[ID][]float64, error) {
		out := map[ID][]float64{}
		for _, id := range ids {
			v, err := get(prefix+id.String(), a.classLen())
			if err != nil {
				return nil, err
			}
			out[id] = v
		}
		return out, nil
	}
	cBase, err := classes("c/base/", meta.CBase)
	if err != nil {
		return err
	}
	cLocal, err := classes("c/local/", meta.CLocal)
	if err != nil {
		return err
	}
	cExp, err := classes("c/exp/", meta.CExp)
	if err != nil {
		return err
	}
	if !meta.HasCExp {
		cExp = nil
	}
	sel, err := NewSelector(a.ac.Selector, a.cfg.Dim, a.cfg.Seed)
	if err != nil {
		return err
	}
	if err := sel.decode(meta.Selector, e); err != nil {
		return err
	}
	tasks, err := taskTrackerFrom(meta.Tasks)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gBase, a.gLocal, a.gExp = gBase, gLocal, gExp
	a.cBase, a.cLocal, a.cExp = cBase, cLocal, cExp
	a.sel, a.tasks = sel, tasks
	a.sync.setMeta(meta.syncMeta)
	a.dirty = true
	return nil
}

// --- fleet sync --------------------------------------------------------------

// BaseVersion implements Method.
func (a *Analytic) BaseVersion() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sync.version
}

func gramKey(j int) ID { return statKey(statTagGram, 0, j) }

// Delta implements Method: G, per-class sums and selector statistics
// learned since base, as exact float64 chunks in Delta.Classes.
func (a *Analytic) Delta(base uint64) (*Delta, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.sync.checkBase(base); err != nil {
		return nil, err
	}
	d := &Delta{Method: a.Name(), Dim: a.cfg.Dim, ModelID: a.cfg.ModelID, BaseVersion: base, ID: a.sync.newExport()}
	a.gExp = nil
	if a.gLocal != nil {
		d.Classes = appendChunks(d.Classes, a.gLocal, a.cfg.Dim, gramKey)
		a.gExp = append([]float64(nil), a.gLocal...)
	}
	a.cExp = map[ID][]float64{}
	ids := sortedIDs(a.cLocal)
	for _, id := range ids {
		v := a.cLocal[id]
		d.Classes = appendChunks(d.Classes, v, a.cfg.Dim, func(j int) ID { return classChunkKey(id, j) })
		a.cExp[id] = append([]float64(nil), v...)
		d.Examples += math.Abs(v[0])
	}
	a.sel.appendDelta(d)
	d.Labels = labelInfos(a.labels.Current(), ids)
	return d, nil
}

// ApplyMerged implements Method: base += merged; local -= own export if
// the merge included it. The delta is fully decoded and checked before
// anything changes.
func (a *Analytic) ApplyMerged(d *Delta) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	included, err := a.sync.checkMerged(d, a.Name(), a.cfg.Dim, a.cfg.ModelID)
	if err != nil {
		return err
	}
	cs, err := newChunkSet(d.Classes, a.cfg.Dim)
	if err != nil {
		return err
	}
	g, _ := cs.vector(len(a.gBase), gramKey)
	// Every class a delta carries is in its label list (Delta adds it and
	// MergeDeltas keeps the union), so a chunk of no known class is refused.
	candidates := map[ID]bool{}
	for _, l := range d.Labels {
		candidates[l.ID] = true
	}
	for id := range a.cBase {
		candidates[id] = true
	}
	for id := range a.cLocal {
		candidates[id] = true
	}
	classes := map[ID][]float64{}
	for _, id := range sortedIDs(candidates) {
		if v, ok := cs.vector(a.classLen(), func(j int) ID { return classChunkKey(id, j) }); ok {
			classes[id] = v
		}
	}
	selMerged, err := a.sel.decodeMerged(cs)
	if err != nil {
		return err
	}
	if err := cs.unclaimed(); err != nil {
		return err
	}
	for _, v := range append([][]float64{g}, mapValues(classes)...) {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: analytic delta has non-finite statistics", ErrIncompatible)
			}
		}
	}
	if err := a.labels.Ensure(d.Labels); err != nil {
		return err
	}
	for id := range classes {
		if _, ok := a.labels.Current().Index(id); !ok {
			if err := a.labels.AddID(id, ""); err != nil {
				return err
			}
		}
	}
	addTo(a.gBase, g, 1)
	for id, v := range classes {
		if a.cBase[id] == nil {
			a.cBase[id] = make([]float64, a.classLen())
		}
		addTo(a.cBase[id], v, 1)
	}
	if included {
		if a.gExp != nil {
			addTo(a.gLocal, a.gExp, -1)
		}
		for id, v := range a.cExp {
			addTo(a.cLocal[id], v, -1)
		}
	}
	for id, v := range a.cLocal {
		if v[1] == 0 && negligible(v) {
			delete(a.cLocal, id)
		}
	}
	if len(a.cLocal) == 0 && a.gLocal != nil && negligible(a.gLocal) {
		a.gLocal = nil
	}
	a.sel.applyMerged(selMerged, included)
	a.gExp, a.cExp = nil, nil
	a.sync.version, a.sync.exportID = d.Version, 0
	a.dirty = true
	return nil
}

func addTo(dst, src []float64, sign float64) {
	for i, x := range src {
		dst[i] += sign * x
	}
}

func mapValues(m map[ID][]float64) [][]float64 {
	out := make([][]float64, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Footprint implements Method. Fixed: the projection and Gram matrices
// (base, local, last export) and the selector; per class: its sums and its
// solved head.
func (a *Analytic) Footprint() Footprint {
	a.mu.Lock()
	defer a.mu.Unlock()
	fixed := bytesF32(len(a.proj))
	for _, g := range [][]float64{a.gBase, a.gLocal, a.gExp} {
		fixed += bytesF64(len(g))
	}
	sel, _ := a.sel.footprint()
	fixed += sel
	ids := map[ID]bool{}
	var per int64
	for _, m := range []map[ID][]float64{a.cBase, a.cLocal, a.cExp} {
		for id, v := range m {
			ids[id] = true
			per += bytesF64(len(v))
		}
	}
	per += int64(len(a.heads)) * bytesF32(a.m)
	f := Footprint{Classes: len(ids), Fixed: fixed, Total: fixed + per}
	if f.Classes > 0 {
		f.PerClass = per / int64(f.Classes)
	}
	return f
}
