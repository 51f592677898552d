package learner

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
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
	// CrossTask γ in [0,1] weighs, in each class's regression, the
	// examples of tasks that never taught the class (they are negatives
	// for it). With one shared Gram matrix (γ = 1) every example is a
	// negative for every class it is not labelled with — also for classes
	// of other tasks that name the same picture differently (círculo, 圆,
	// "red circle"), so learning Chinese erased Spanish. With γ = 0 a
	// class sees only its own tasks' examples, which loses the other
	// tasks' pictures as a background estimate of the feature covariance.
	// Below 1 it costs one M×M matrix per task.
	CrossTask float64 `yaml:"cross_task"`
}

// DefaultAnalyticConfig: 512 random features, λ = 1, temperature 10, 20%
// zero-shot in the fusion, other tasks' examples at 3% weight. On the eval
// scenario (eval/README.md) 1024 features scored within half a point of
// 512 at 3.7× the memory once every task has its own Gram matrix; γ
// between 0.01 and 0.05 scored alike, γ = 1 (one shared matrix) forgot. A
// larger β (0.5–0.7) kept more zero-shot accuracy on classes no task
// taught there, but lets a confidently wrong zero-shot overrule what the
// head learned (TestAnalyticContinual's world, whose texts point at the
// wrong class, falls from 100% to 39–87% on a learned task with β = 0.5
// and temperature 10 or 30).
func DefaultAnalyticConfig() AnalyticConfig {
	return AnalyticConfig{Features: 512, Lambda: 1, Temperature: 10, ZeroShotMix: 0.2, Selector: DefaultSelectorConfig(), CrossTask: 0.03}
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
	if !(c.CrossTask >= 0 && c.CrossTask <= 1) {
		bad("cross_task %v not in [0,1]", c.CrossTask)
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
//	G_t = Σ_{x in task t} w·φφᵀ,  b_c = Σ w·φ·[y = c],
//	w_c = (Σ_t γ_{t,c}·G_t + λI)⁻¹ b_c,  ŷ_c = w_cᵀφ,
//
// with φ = relu(R·x) for a fixed seeded R, and γ_{t,c} = 1 if task t
// taught class c, else CrossTask. G_t and b_c are sums, so the head never
// forgets (learning task after task gives exactly the head trained on
// everything at once), devices merge exactly by adding them, and Unlearn
// subtracts. W is solved by Cholesky lazily — one factorisation per
// distinct set of teaching tasks — on the first Predict after a change (or
// eagerly with Prepare).
//
// A Selector gates the head: inputs it calls seen get the fusion
// p = (1-β)·softmax(T·ŷ over the classes taught by the tasks that claim the
// input) + β·softmax(zero-shot), and unseen inputs get exactly the
// zero-shot logits, so zero-shot ability on everything else is preserved by
// construction; so is it, on a seen input, for every class its tasks never
// taught (see predict).
type Analytic struct {
	cfg    Config
	ac     AnalyticConfig
	labels *Labels
	log    *slog.Logger

	mu   sync.Mutex
	m    int       // feature width
	proj []float32 // M×D, nil without projection

	// Gram matrices (packed M×M, per task with TaskGram, else all under
	// task 0) and per-class vectors [w, n, Σw·φ (M)]: fleet base, learned
	// here since base, and the last export.
	gBase, gLocal, gExp map[int][]float64
	cBase, cLocal, cExp map[ID][]float64
	sel                 *Selector
	tasks               taskTracker
	taught              taskClasses // classes each task was taught
	sync                syncBase

	// solved head, rebuilt when statistics or labels change
	dirty    bool
	heads    map[ID][]float32
	vecGen   uint64
	vecDirty bool
	vecs     [][]float32 // head of each label in order, nil if none

	x, phi []float64
	zs     []float32
	claims []int
	allow  []bool
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
	a := &Analytic{cfg: cfg, ac: ac, labels: labels, log: log, sel: sel, tasks: newTaskTracker(), taught: newTaskClasses(),
		cBase: map[ID][]float64{}, cLocal: map[ID][]float64{}, dirty: true, vecDirty: true}
	a.m = cfg.Dim
	if ac.Features > 0 {
		a.m = ac.Features
		a.proj = randomProjection(cfg.Seed, ac.Features, cfg.Dim)
	}
	a.gBase, a.gLocal = map[int][]float64{}, map[int][]float64{}
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

// gramTask is the Gram matrix an example of task goes to.
func (a *Analytic) gramTask(task int) int {
	if a.ac.CrossTask < 1 {
		return task
	}
	return 0
}

// accumulate adds (w > 0) or removes (w < 0) one example's statistics.
func (a *Analytic) accumulate(task int, e Example, w float64) {
	a.features(e.Emb)
	g := a.gLocal[a.gramTask(task)]
	if g == nil {
		g = make([]float64, linalg.PackedLen(a.m))
		a.gLocal[a.gramTask(task)] = g
	}
	linalg.AddOuter(g, a.phi, w)
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
		addTaskClass(a.taught.local, task, e.Label, 1)
	} else {
		_ = a.sel.Remove(task, e.Emb, -w)
		addTaskClass(a.taught.local, task, e.Label, -1)
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
	factors := map[string][]float64{}
	for _, id := range sortedIDs(ids) {
		v := a.classVec(id)
		if v[1] < 0.5 {
			continue // every example of the class was unlearned
		}
		grams := a.classGrams(id)
		key := fmt.Sprint(grams)
		l := factors[key]
		if l == nil {
			var err error
			if l, err = a.factor(grams); err != nil {
				return err
			}
			factors[key] = l
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

// gramTasks lists the tasks with a Gram matrix, sorted.
func (a *Analytic) gramTasks() []int {
	seen := map[int]bool{}
	for _, m := range []map[int][]float64{a.gBase, a.gLocal} {
		for t := range m {
			seen[t] = true
		}
	}
	return sortedInts(seen)
}

// classGrams lists the Gram matrices id's regression is solved over with
// full weight: the tasks that taught it (CrossTask < 1), else all of them.
func (a *Analytic) classGrams(id ID) []int {
	all := a.gramTasks()
	if a.ac.CrossTask == 1 || a.taught.empty() {
		return all
	}
	var out []int
	for _, t := range all {
		if a.taught.has(t, id) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return all // the class's task is unknown here (merged sums only)
	}
	return out
}

// factor returns the Cholesky factor of Σ_t w_t·G_t + λI, w_t = 1 for
// the given tasks and CrossTask for the others. Rounding can make G a hair
// indefinite only if λ is tiny relative to G; then λ grows until it works.
func (a *Analytic) factor(tasks []int) ([]float64, error) {
	lambda := a.ac.Lambda
	for try := 0; try < 6; try++ {
		l := make([]float64, linalg.PackedLen(a.m))
		for _, t := range a.gramTasks() {
			w := a.ac.CrossTask
			if slices.Contains(tasks, t) {
				w = 1
			}
			if w == 0 {
				continue
			}
			for _, g := range [][]float64{a.gBase[t], a.gLocal[t]} {
				for i, x := range g {
					l[i] += w * x
				}
			}
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
	var r Route
	r, a.claims = a.sel.routeClaims(emb, a.claims)
	return a.predict(s, emb, r, a.claims, dst)
}

// PredictRoute implements Routed.
func (a *Analytic) PredictRoute(emb []float32, r Route, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, a.cfg.Dim); err != nil {
		return dst, err
	}
	s := a.labels.Current()
	a.mu.Lock()
	defer a.mu.Unlock()
	_, a.claims = a.sel.routeClaims(emb, a.claims)
	if r.Seen && !slices.Contains(a.claims, r.Task) {
		a.claims = append(a.claims, r.Task)
	}
	return a.predict(s, emb, r, a.claims, dst)
}

// predict fuses the head with zero-shot CLIP for a seen input. Only the
// classes taught in the tasks that claim the input (claims, which includes
// r.Task) get the head's probabilities: the regression has an output for
// every class learned anywhere, but for an input of, say, a day-time task
// its outputs for classes only ever taught at night are extrapolation, and
// letting them compete cost accuracy on tasks not learned yet. Every other
// class keeps exactly its zero-shot logit, so a task none of whose classes
// were taught where the input lies is scored exactly as zero-shot CLIP
// scores it. The logits are log p shifted by a constant (Softmax of them
// gives the fusion p back), the constant chosen so that classes outside the
// head keep their zero-shot logits bit for bit.
func (a *Analytic) predict(s *LabelSet, emb []float32, r Route, claims []int, dst []float32) ([]float32, error) {
	if !r.Seen || norm(emb) == 0 {
		return textLogits(s, emb, a.cfg.LogitScale, dst), nil
	}
	if err := a.solve(); err != nil {
		return dst, err
	}
	a.refreshVecs(s)
	a.features(emb)
	dst = resize(dst, s.Len())
	if cap(a.allow) < s.Len() {
		a.allow = make([]bool, s.Len())
	}
	a.allow = a.allow[:s.Len()]
	all := a.taught.empty() // state from before tasks recorded their classes
	maxv, found := math.Inf(-1), false
	t := float64(a.ac.Temperature)
	for i, h := range a.vecs {
		a.allow[i] = false
		if h == nil {
			continue
		}
		if !all {
			id := s.ID(i)
			for _, task := range claims {
				if a.taught.has(task, id) {
					a.allow[i] = true
					break
				}
			}
		} else {
			a.allow[i] = true
		}
		if !a.allow[i] {
			continue
		}
		var y float64
		for j, p := range a.phi {
			y += float64(h[j]) * p
		}
		dst[i] = float32(t * y)
		maxv, found = math.Max(maxv, t*y), true
	}
	a.zs = textLogits(s, emb, a.cfg.LogitScale, a.zs)
	if !found {
		return append(dst[:0], a.zs...), nil
	}
	var sum float64
	for i, v := range dst {
		if a.allow[i] {
			sum += math.Exp(float64(v) - maxv)
		}
	}
	// lse is the log-partition of the zero-shot logits, -Inf without text.
	zmax := math.Inf(-1)
	for _, v := range a.zs {
		if v != NoLogit {
			zmax = math.Max(zmax, float64(v))
		}
	}
	beta := float64(a.ac.ZeroShotMix)
	lse := math.Inf(-1)
	if !math.IsInf(zmax, -1) {
		var zsum float64
		for _, v := range a.zs {
			if v != NoLogit {
				zsum += math.Exp(float64(v) - zmax)
			}
		}
		lse = zmax + math.Log(zsum)
	} else {
		beta = 0 // Softmax would spread β uniformly: no information
	}
	// shift makes β·pz_i come out as exactly zs_i for classes outside the
	// head; without zero-shot mass the head's log-probabilities stand alone.
	shift := 0.0
	if beta > 0 {
		shift = lse - math.Log(beta)
	}
	for i, v := range dst {
		if !a.allow[i] {
			if beta > 0 {
				dst[i] = a.zs[i]
			} else {
				dst[i] = NoLogit
			}
			continue
		}
		p := (1 - beta) * math.Exp(float64(v)-maxv) / sum
		if beta > 0 && a.zs[i] != NoLogit {
			p += beta * math.Exp(float64(a.zs[i])-lse)
		}
		if p > 0 {
			dst[i] = float32(math.Log(p) + shift)
		} else {
			dst[i] = NoLogit
		}
	}
	return dst, nil
}

// --- snapshot ----------------------------------------------------------------

type analyticMeta struct {
	syncMeta
	Features int    `json:"features"`
	Seed     uint64 `json:"seed"`
	GLocal   bool   `json:"g_local"`    // version 1 only
	GExp     bool   `json:"g_exported"` // version 1 only
	// Tasks of the Gram matrices in each map (version 2).
	GBaseTasks  []int        `json:"g_base_tasks,omitempty"`
	GLocalTasks []int        `json:"g_local_tasks,omitempty"`
	GExpTasks   []int        `json:"g_exp_tasks,omitempty"`
	HasGExp     bool         `json:"has_g_exported,omitempty"`
	CBase       []ID         `json:"c_base"`
	CLocal      []ID         `json:"c_local"`
	CExp        []ID         `json:"c_exported,omitempty"`
	HasCExp     bool         `json:"has_c_exported,omitempty"`
	Selector    selectorMeta `json:"selector"`
	Tasks       taskMeta     `json:"tasks"`
	// Taught is absent in snapshots written before it was recorded; the
	// head then fuses over every learned class.
	Taught taskClassesMeta `json:"taught"`
}

// analyticVersion is the layout version of Analytic snapshots: 2 has a
// Gram matrix per task; 1 (one matrix, restored as task 0's) is still read.
const analyticVersion = 2

// Snapshot implements Method. R is not stored: it is regenerated from the
// seed, which the snapshot records so another seed is refused.
func (a *Analytic) Snapshot() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := &Envelope{Kind: "method", Method: a.Name(), Dim: a.cfg.Dim, Version: analyticVersion}
	meta := analyticMeta{syncMeta: a.sync.meta(), Features: a.ac.Features, Seed: a.cfg.Seed,
		HasCExp: a.cExp != nil, HasGExp: a.gExp != nil}
	put := func(name string, v []float64) {
		e.Tensors64 = append(e.Tensors64, Tensor64{Name: name, Shape: []int{len(v)}, Data: v})
	}
	grams := func(prefix string, m map[int][]float64) []int {
		ts := sortedInts(m)
		for _, t := range ts {
			put(prefix+strconv.Itoa(t), m[t])
		}
		return ts
	}
	meta.GBaseTasks = grams("g/base/", a.gBase)
	meta.GLocalTasks = grams("g/local/", a.gLocal)
	meta.GExpTasks = grams("g/exp/", a.gExp)
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
	meta.Taught = a.taught.meta()
	return sealState(e, meta)
}

// Restore implements Method. Features and Seed must match the
// configuration (they define φ); λ, temperature and the selector's
// thresholds are configuration and may differ.
func (a *Analytic) Restore(b []byte) error {
	var meta analyticMeta
	version := analyticVersion
	if e, err := DecodeEnvelope(b); err == nil && e.Version == 1 {
		version = 1
	}
	e, err := openState(b, a.Name(), a.cfg.Dim, version, &meta)
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
	gBase, gLocal, gExp := map[int][]float64{}, map[int][]float64{}, map[int][]float64{}
	if version == 1 {
		g, err := get("g/base", p)
		if err != nil {
			return err
		}
		gBase[0] = g
		if meta.GLocal {
			if gLocal[0], err = get("g/local", p); err != nil {
				return err
			}
		}
		if meta.GExp {
			if gExp[0], err = get("g/exp", p); err != nil {
				return err
			}
		}
	}
	for _, part := range []struct {
		prefix string
		tasks  []int
		dst    map[int][]float64
	}{{"g/base/", meta.GBaseTasks, gBase}, {"g/local/", meta.GLocalTasks, gLocal}, {"g/exp/", meta.GExpTasks, gExp}} {
		for _, t := range part.tasks {
			if err := checkTask(t); err != nil {
				return fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			if part.dst[t], err = get(part.prefix+strconv.Itoa(t), p); err != nil {
				return err
			}
		}
	}
	if version == 1 {
		if !meta.GExp {
			gExp = nil
		}
	} else if !meta.HasGExp {
		gExp = nil
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
	taught, err := taskClassesFrom(meta.Taught)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gBase, a.gLocal, a.gExp = gBase, gLocal, gExp
	a.cBase, a.cLocal, a.cExp = cBase, cLocal, cExp
	a.sel, a.tasks, a.taught = sel, tasks, taught
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

func gramKey(task int) func(j int) ID {
	return func(j int) ID { return statKey(statTagGram, task, j) }
}

// Delta implements Method: G, per-class sums and selector statistics
// learned since base, as exact float64 chunks in Delta.Classes.
func (a *Analytic) Delta(base uint64) (*Delta, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, err := a.sync.startExport(base, a.Name(), a.cfg.Dim, a.cfg.ModelID)
	if err != nil {
		return nil, err
	}
	a.gExp = map[int][]float64{}
	for _, t := range sortedInts(a.gLocal) {
		d.Classes = appendChunks(d.Classes, a.gLocal[t], a.cfg.Dim, gramKey(t))
		a.gExp[t] = append([]float64(nil), a.gLocal[t]...)
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
	a.taught.appendDelta(d, a.cfg.Dim)
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
	grams := map[int][]float64{}
	for _, t := range cs.owners(statTagGram) {
		grams[t], _ = cs.vector(linalg.PackedLen(a.m), gramKey(t))
	}
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
	taskSet := map[int]bool{}
	for _, ts := range [][]int{sortedInts(selMerged), a.sel.tasks(), a.taught.tasks()} {
		for _, t := range ts {
			taskSet[t] = true
		}
	}
	taughtMerged, err := a.taught.decodeMerged(cs, sortedInts(taskSet), sortedIDs(candidates))
	if err != nil {
		return err
	}
	if err := cs.unclaimed(); err != nil {
		return err
	}
	for _, v := range append(mapValues(grams), mapValues(classes)...) {
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
	for t, g := range grams {
		if a.gBase[t] == nil {
			a.gBase[t] = make([]float64, len(g))
		}
		addTo(a.gBase[t], g, 1)
	}
	for id, v := range classes {
		if a.cBase[id] == nil {
			a.cBase[id] = make([]float64, a.classLen())
		}
		addTo(a.cBase[id], v, 1)
	}
	if included {
		for t, g := range a.gExp {
			if a.gLocal[t] != nil {
				addTo(a.gLocal[t], g, -1)
			}
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
	for t, g := range a.gLocal {
		if negligible(g) {
			delete(a.gLocal, t)
		}
	}
	a.sel.applyMerged(selMerged, included)
	a.taught.applyMerged(taughtMerged, included)
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

func mapValues[K comparable](m map[K][]float64) [][]float64 {
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
	for _, m := range []map[int][]float64{a.gBase, a.gLocal, a.gExp} {
		for _, g := range m {
			fixed += bytesF64(len(g))
		}
	}
	sel, _ := a.sel.footprint()
	fixed += sel + a.taught.footprint()
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
