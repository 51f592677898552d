package learner

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
)

func init() {
	Register("moe", func(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
		return NewMoE(cfg, cfg.MoE, labels, log)
	})
}

var _ Routed = (*MoE)(nil)

// MoEConfig configures the mixture-of-experts adapters.
type MoEConfig struct {
	Experts int `yaml:"experts"` // residual adapters shared by all tasks
	Hidden  int `yaml:"hidden"`  // bottleneck width of each expert
	TopK    int `yaml:"top_k"`   // experts a router mixes per input
	// FreezeCoverage: when a task ends, its most-selected experts are
	// frozen until they account for this share of its selections; 0
	// freezes none, 1 every expert it used.
	FreezeCoverage float64 `yaml:"freeze_coverage"`
	LR             float32 `yaml:"lr"`           // Adam step size
	Steps          int     `yaml:"steps"`        // gradient steps per Learn call
	WeightDecay    float32 `yaml:"weight_decay"` // L2 on expert weights
	// Selector routes inputs to a task's router or to zero-shot CLIP.
	Selector SelectorConfig `yaml:"selector"`
}

// DefaultMoEConfig: 8 experts of width 32, top-2 routing, the experts
// covering 90% of a finished task's selections frozen, Adam 5e-3, 10 steps
// per Learn.
func DefaultMoEConfig() MoEConfig {
	return MoEConfig{Experts: 8, Hidden: 32, TopK: 2, FreezeCoverage: 0.9, LR: 5e-3, Steps: 10, Selector: DefaultSelectorConfig()}
}

// Validate checks the configuration without side effects.
func (c MoEConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: moe."+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Experts < 1 || c.Experts > 256 {
		bad("experts %d not in [1,256]", c.Experts)
	}
	if c.Hidden < 1 {
		bad("hidden %d < 1", c.Hidden)
	}
	if c.TopK < 1 || c.TopK > c.Experts {
		bad("top_k %d not in [1,experts=%d]", c.TopK, c.Experts)
	}
	if !(c.FreezeCoverage >= 0 && c.FreezeCoverage <= 1) {
		bad("freeze_coverage %v not in [0,1]", c.FreezeCoverage)
	}
	if !(c.LR > 0) || c.LR > 10 {
		bad("lr %v not in (0,10]", c.LR)
	}
	if c.Steps < 1 {
		bad("steps %d < 1", c.Steps)
	}
	if !(c.WeightDecay >= 0) {
		bad("weight_decay %v < 0", c.WeightDecay)
	}
	if err := c.Selector.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// moeExpert is one residual adapter e(x) = W2·relu(W1·x + b1) + b2.
type moeExpert struct {
	w1, b1, w2, b2 *param
	frozen         bool
}

func (e *moeExpert) params() []*param { return []*param{e.w1, e.b1, e.w2, e.b2} }

// moeRouter is a task's gate over the experts: s = W·x + b, softmax over
// the top-k scores.
type moeRouter struct{ w, b *param }

// MoE is MoE-Adapters (Yu et al., CVPR 2024) on the frozen embedding: a
// shared pool of residual adapters (experts) and one router per task,
//
//	u = x + Σ_{k ∈ top-K(s)} g_k·e_k(x),  g = softmax(s over the top K),
//	s = W_t·x + b_t,  z = u/‖u‖,  logit_c = scale·z·ŵ_c,
//
// trained with cross-entropy over cosine logits against the label text
// embeddings (learned class vectors only for classes without informative
// text, LabelSet.InformativeText). When a task ends, the experts its router
// used most are frozen, so later tasks can reuse but not overwrite them, and
// its router is not trained again unless the task is resumed (BeginTaskID).
// Experts start as the identity (W2 = 0).
//
// A Selector (the paper's distribution-discriminative auto-selector) picks
// the task whose router handles an input; inputs no task claims get the
// frozen CLIP's zero-shot logits unchanged, which preserves zero-shot
// ability outside the learned tasks.
//
// Fleet sync averages parameter changes (FedAvg; devices must share
// Config.Seed) and adds the selector's statistics exactly. Freezing is
// local: a merged delta still moves an expert this device froze.
type MoE struct {
	cfg    Config
	mc     MoEConfig
	labels *Labels
	log    *slog.Logger

	mu          sync.Mutex
	experts     []*moeExpert
	routers     map[int]*moeRouter
	class       map[ID]*param // learned vectors of classes without informative text
	classFrozen map[ID]bool
	usage       []float64   // top-k selections per expert in the current task
	taskClasses map[ID]bool // class vectors created or trained in the current task
	step        int

	base       map[string][]float32 // weights at the fleet base (missing: zeros)
	exported   map[string][]float32 // weights-base at the last export
	sinceBase  float64
	exportedEx float64
	sel        *Selector
	tasks      taskTracker
	sync       syncBase

	sc moeScratch
}

type moeScratch struct {
	x, u, z, dz, du []float32
	s               []float32   // router scores
	top             []int       // selected experts
	g, dg           []float32   // gates of top, and dL/dg
	h, a, e         [][]float32 // per selected expert: pre-activation, activation, output
	dh              []float32
	logits, p, dl   []float32 // dl: loss gradient w.r.t. the logits
	vecs            [][]float32
	vparam          []*param
	vnorm           []float64
	unit            [][]float32
}

// NewMoE builds the MoE adapters with explicit settings; New("moe") uses
// DefaultMoEConfig.
func NewMoE(cfg Config, mc MoEConfig, labels *Labels, log *slog.Logger) (*MoE, error) {
	if err := mc.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dim < 1 || labels == nil || labels.Dim() != cfg.Dim {
		return nil, fmt.Errorf("%w: moe needs dim >= 1 matching the labels", ErrDim)
	}
	if !(cfg.TextDuplicate > 0) {
		return nil, fmt.Errorf("%w: text_duplicate %v must be > 0", ErrInvalidConfig, cfg.TextDuplicate)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sel, err := NewSelector(mc.Selector, cfg.Dim, cfg.Seed)
	if err != nil {
		return nil, err
	}
	d, h, k := cfg.Dim, mc.Hidden, mc.TopK
	m := &MoE{cfg: cfg, mc: mc, labels: labels, log: log, routers: map[int]*moeRouter{},
		class: map[ID]*param{}, classFrozen: map[ID]bool{}, taskClasses: map[ID]bool{},
		usage: make([]float64, mc.Experts), base: map[string][]float32{}, sel: sel, tasks: newTaskTracker()}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d6f652d65787073))
	std := math.Sqrt(2 / float64(d)) // He init for the ReLU layer
	for i := range mc.Experts {
		p := "expert/" + strconv.Itoa(i) + "/"
		e := &moeExpert{w1: newParam(p+"W1", h, d), b1: newParam(p+"b1", h), w2: newParam(p+"W2", d, h), b2: newParam(p+"b2", d)}
		for j := range e.w1.w {
			e.w1.w[j] = float32(rng.NormFloat64() * std)
		}
		for _, q := range e.params() {
			m.base[q.name] = append([]float32(nil), q.w...)
		}
		m.experts = append(m.experts, e)
	}
	m.sc = moeScratch{
		x: make([]float32, d), u: make([]float32, d), z: make([]float32, d), dz: make([]float32, d), du: make([]float32, d),
		s: make([]float32, mc.Experts), top: make([]int, k), g: make([]float32, k), dg: make([]float32, k), dh: make([]float32, h),
		h: make([][]float32, k), a: make([][]float32, k), e: make([][]float32, k),
	}
	for i := range k {
		m.sc.h[i], m.sc.a[i], m.sc.e[i] = make([]float32, h), make([]float32, h), make([]float32, d)
	}
	return m, nil
}

// Name implements Method.
func (m *MoE) Name() string { return "moe" }

// Dim implements Method.
func (m *MoE) Dim() int { return m.cfg.Dim }

func routerName(task int) string { return "router/" + strconv.Itoa(task) + "/" }

// newRouter is task's initial router, seeded by (Seed, task) so every
// device starts a task alike. Its bias dominates its small weights, so at
// first all of the task's inputs go to the same K experts — the task starts
// on few experts, which keeps what freezes at its end small — and the bias
// favours experts not frozen yet (+1), so a new task starts on free
// capacity and only leans on frozen experts if training finds it useful.
func (m *MoE) newRouter(task int) *moeRouter {
	n := routerName(task)
	r := &moeRouter{w: newParam(n+"W", m.mc.Experts, m.cfg.Dim), b: newParam(n+"b", m.mc.Experts)}
	rng := rand.New(rand.NewPCG(m.cfg.Seed, 0x726f75746572^uint64(task)))
	for i := range r.w.w {
		r.w.w[i] = float32(rng.NormFloat64() * 0.01)
	}
	for i, e := range m.experts {
		r.b.w[i] = float32(0.1 * rng.Float64())
		if !e.frozen {
			r.b.w[i]++
		}
	}
	return r
}

// params returns every parameter in a stable order.
func (m *MoE) params() []*param {
	var out []*param
	for _, e := range m.experts {
		out = append(out, e.params()...)
	}
	for _, t := range sortedInts(m.routers) {
		out = append(out, m.routers[t].w, m.routers[t].b)
	}
	for _, id := range sortedIDs(m.class) {
		out = append(out, m.class[id])
	}
	return out
}

// --- tasks ---------------------------------------------------------------------

// BeginTask implements TaskBoundary: the current task ends (its most used
// experts and its class vectors freeze) and a new one, numbered after every
// task known here, begins.
func (m *MoE) BeginTask() {
	m.mu.Lock()
	defer m.mu.Unlock()
	known := m.sel.tasks()
	for t := range m.routers {
		known = append(known, t)
	}
	if n, err := m.tasks.next(known); err == nil {
		m.switchTask(n)
	}
}

// BeginTaskID switches to task id (>= 0), ending the current one if it is
// another; an earlier task resumes with its router (its frozen experts stay
// frozen). Use ids that mean the same on every device.
func (m *MoE) BeginTaskID(id int) error {
	if err := checkTask(id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if id != m.tasks.cur {
		m.switchTask(id)
	}
	return nil
}

// Task is the task later examples belong to.
func (m *MoE) Task() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tasks.cur
}

// Frozen lists the frozen experts.
func (m *MoE) Frozen() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int
	for i, e := range m.experts {
		if e.frozen {
			out = append(out, i)
		}
	}
	return out
}

// switchTask ends the current task: freeze the experts it selected most,
// until they cover FreezeCoverage of its selections (MoE-Adapters'
// activate-freeze), and its class vectors.
func (m *MoE) switchTask(next int) {
	idx := make([]int, 0, len(m.experts))
	var total float64
	for i, u := range m.usage {
		if u > 0 {
			idx = append(idx, i)
			total += u
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return m.usage[idx[a]] > m.usage[idx[b]] })
	var covered float64
	for _, i := range idx {
		if m.mc.FreezeCoverage == 0 || covered >= m.mc.FreezeCoverage*total {
			break
		}
		covered += m.usage[i]
		if !m.experts[i].frozen {
			m.log.Debug("moe: freezing expert", "expert", i, "task", m.tasks.cur, "share", m.usage[i]/total)
		}
		m.experts[i].frozen = true
	}
	for id := range m.taskClasses {
		m.classFrozen[id] = true
	}
	clear(m.usage)
	clear(m.taskClasses)
	m.tasks.cur = next
}

// --- forward / backward ----------------------------------------------------------

// forward computes u, z for emb through router r into the scratch buffers
// and returns ‖u‖. With r nil the adapters are bypassed (z = x).
func (m *MoE) forward(emb []float32, r *moeRouter) float64 {
	sc := &m.sc
	d, hd := m.cfg.Dim, m.mc.Hidden
	normalizeInto(sc.x, emb)
	copy(sc.u, sc.x)
	if r == nil {
		return normalizeInto(sc.z, sc.u)
	}
	for j := range sc.s {
		sc.s[j] = r.b.w[j] + dot(r.w.w[j*d:(j+1)*d], sc.x)
	}
	topK(sc.s, sc.top)
	maxs := sc.s[sc.top[0]]
	var sum float64
	for i, k := range sc.top {
		v := math.Exp(float64(sc.s[k] - maxs))
		sc.g[i] = float32(v)
		sum += v
	}
	for i, k := range sc.top {
		sc.g[i] = float32(float64(sc.g[i]) / sum)
		e := m.experts[k]
		h, a, out := sc.h[i], sc.a[i], sc.e[i]
		for j := 0; j < hd; j++ {
			v := e.b1.w[j] + dot(e.w1.w[j*d:(j+1)*d], sc.x)
			h[j], a[j] = v, max(v, 0)
		}
		for j := 0; j < d; j++ {
			out[j] = e.b2.w[j] + dot(e.w2.w[j*hd:(j+1)*hd], a)
			sc.u[j] += sc.g[i] * out[j]
		}
	}
	return normalizeInto(sc.z, sc.u)
}

// topK writes the indices of the len(top) largest scores into top, largest
// first; ties go to the lower index so every device routes alike.
func topK(s []float32, top []int) {
	for i := range top {
		best := -1
		for j, v := range s {
			taken := false
			for _, t := range top[:i] {
				if t == j {
					taken = true
					break
				}
			}
			if !taken && (best < 0 || v > s[best]) {
				best = j
			}
		}
		top[i] = best
	}
}

// classVecs fills sc.vecs with each label's unit class vector, by
// Finetune.classVecs's rule.
func (m *MoE) classVecs(s *LabelSet) {
	sc := &m.sc
	n := s.Len()
	if cap(sc.vecs) < n {
		sc.vecs, sc.vparam, sc.vnorm = make([][]float32, n), make([]*param, n), make([]float64, n)
		sc.unit = append(sc.unit, make([][]float32, n-len(sc.unit))...)
	}
	sc.vecs, sc.vparam, sc.vnorm = sc.vecs[:n], sc.vparam[:n], sc.vnorm[:n]
	for i := 0; i < n; i++ {
		sc.vparam[i], sc.vnorm[i], sc.vecs[i] = nil, 1, nil
		if t := s.InformativeText(i, m.cfg.TextDuplicate); t != nil {
			sc.vecs[i] = t
			continue
		}
		if p, ok := m.class[s.ID(i)]; ok {
			if nv := norm(p.w); nv > 0 {
				sc.vecs[i] = unitInto(&sc.unit[i], p.w, nv)
				sc.vparam[i], sc.vnorm[i] = p, nv
				continue
			}
		}
		sc.vecs[i] = s.Text(i)
	}
}

// lossAndGrad sets the gradient of every trainable parameter to that of the
// weighted mean cross-entropy of batch through router r (plus weight decay
// on unfrozen experts) and returns the loss. Frozen experts and frozen
// class vectors get no gradient.
func (m *MoE) lossAndGrad(batch []Example, r *moeRouter, s *LabelSet) float64 {
	d, hd := m.cfg.Dim, m.mc.Hidden
	sc := &m.sc
	m.clearGrads()
	m.classVecs(s)
	var wsum float64
	for _, e := range batch {
		wsum += float64(e.W())
	}
	scale := m.cfg.LogitScale
	frozen := func(c int) bool { return m.classFrozen[s.ID(c)] }
	var loss float64
	for _, ex := range batch {
		omega := float32(float64(ex.W()) / wsum)
		un := m.forward(ex.Emb, r)
		sc.logits = cosineLogits(sc.vecs, sc.z, scale, sc.logits)
		sc.p = Softmax(sc.logits, sc.p)
		y, _ := s.Index(ex.Label)
		if sc.vecs[y] == nil {
			continue
		}
		sc.dl = growF32(sc.dl, len(sc.p))
		loss += crossEntropyGrad(sc.dl, sc.p, y, omega)
		clear(sc.dz)
		cosineLogitsBackward(sc.dl, sc.vecs, sc.vparam, sc.vnorm, sc.z, sc.dz, scale, frozen)
		zdz := dot(sc.z, sc.dz)
		inv := float32(1 / un)
		for i := range sc.du {
			sc.du[i] = (sc.dz[i] - sc.z[i]*zdz) * inv
		}
		// Experts and gates. dL/dg_i = e_i·du; through the softmax over the
		// top K: dL/ds_i = g_i·(dL/dg_i − Σ_j g_j·dL/dg_j).
		var gdg float64
		for i, k := range sc.top {
			e, a, h, out := m.experts[k], sc.a[i], sc.h[i], sc.e[i]
			sc.dg[i] = dot(out, sc.du)
			gdg += float64(sc.g[i]) * float64(sc.dg[i])
			if e.frozen {
				continue
			}
			gi := sc.g[i]
			clear(sc.dh)
			for j := 0; j < d; j++ {
				de := gi * sc.du[j]
				e.b2.g[j] += de
				row := e.w2.w[j*hd : (j+1)*hd]
				grow := e.w2.g[j*hd : (j+1)*hd]
				for q := range row {
					grow[q] += de * a[q]
					sc.dh[q] += row[q] * de
				}
			}
			for q := 0; q < hd; q++ {
				if h[q] <= 0 {
					continue
				}
				gq := sc.dh[q]
				e.b1.g[q] += gq
				grow := e.w1.g[q*d : (q+1)*d]
				for j := range grow {
					grow[j] += gq * sc.x[j]
				}
			}
		}
		for i, k := range sc.top {
			ds := sc.g[i] * (sc.dg[i] - float32(gdg))
			r.b.g[k] += ds
			grow := r.w.g[k*d : (k+1)*d]
			for j := range grow {
				grow[j] += ds * sc.x[j]
			}
		}
	}
	if wd := m.mc.WeightDecay; wd > 0 {
		for _, e := range m.experts {
			if e.frozen {
				continue
			}
			loss += e.w1.decay(wd)
			loss += e.w2.decay(wd)
		}
	}
	return loss
}

// clearGrads zeroes every gradient without building a parameter list.
func (m *MoE) clearGrads() {
	for _, e := range m.experts {
		clear(e.w1.g)
		clear(e.b1.g)
		clear(e.w2.g)
		clear(e.b2.g)
	}
	for _, r := range m.routers {
		clear(r.w.g)
		clear(r.b.g)
	}
	for _, p := range m.class {
		clear(p.g)
	}
}

// trainable lists the parameters an optimizer step may change while
// training task's router.
func (m *MoE) trainable(r *moeRouter) []*param {
	out := []*param{r.w, r.b}
	for _, e := range m.experts {
		if !e.frozen {
			out = append(out, e.params()...)
		}
	}
	for _, id := range sortedIDs(m.class) {
		if !m.classFrozen[id] {
			out = append(out, m.class[id])
		}
	}
	return out
}

// adam is one Adam step on ps (bias correction folded into the step size).
func (m *MoE) adam(ps []*param) {
	m.step++
	const b1, b2, eps = 0.9, 0.999, 1e-8
	c1 := 1 - math.Pow(b1, float64(m.step))
	c2 := 1 - math.Pow(b2, float64(m.step))
	lrT := float32(float64(m.mc.LR) * math.Sqrt(c2) / c1)
	epsT := float32(eps * math.Sqrt(c2))
	for _, p := range ps {
		mm, v, w := p.m[:len(p.g)], p.v[:len(p.g)], p.w[:len(p.g)]
		for i, g := range p.g {
			mi := b1*mm[i] + (1-b1)*g
			vi := b2*v[i] + (1-b2)*g*g
			mm[i], v[i] = mi, vi
			w[i] -= lrT * mi / (float32(math.Sqrt(float64(vi))) + epsT)
		}
	}
}

// Learn implements Method: Steps Adam steps on the batch through the
// current task's router, and the batch's statistics into the selector.
func (m *MoE) Learn(batch []Example) error {
	s := m.labels.Current()
	if err := checkBatch(batch, m.cfg.Dim, s); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	task := m.tasks.cur
	r := m.routers[task]
	if r == nil {
		r = m.newRouter(task)
		m.routers[task] = r
	}
	m.imprint(batch, s, r)
	ps := m.trainable(r)
	for range m.mc.Steps {
		m.lossAndGrad(batch, r, s)
		m.adam(ps)
	}
	m.countUsage(batch, r)
	for _, e := range batch {
		_ = m.sel.Add(task, e.Emb, float64(e.W())) // cannot fail: checkBatch validated e
		m.tasks.add(task, e.Label, 1)
		m.sinceBase += float64(e.W())
		if _, learned := m.class[e.Label]; learned {
			m.taskClasses[e.Label] = true
		}
	}
	return nil
}

// countUsage adds the experts the trained router selects for batch to the
// task's usage: what freezes at the task's end is what inference will use.
func (m *MoE) countUsage(batch []Example, r *moeRouter) {
	sc := &m.sc
	d := m.cfg.Dim
	for _, e := range batch {
		normalizeInto(sc.x, e.Emb)
		for j := range sc.s {
			sc.s[j] = r.b.w[j] + dot(r.w.w[j*d:(j+1)*d], sc.x)
		}
		topK(sc.s, sc.top)
		for _, k := range sc.top {
			m.usage[k] += float64(e.W())
		}
	}
}

// imprint creates a class vector for labels without informative text
// (LabelSet.InformativeText), from the adapters' output for their first
// example.
func (m *MoE) imprint(batch []Example, s *LabelSet, r *moeRouter) {
	for _, e := range batch {
		i, _ := s.Index(e.Label)
		if s.InformativeText(i, m.cfg.TextDuplicate) != nil {
			continue
		}
		if _, ok := m.class[e.Label]; ok {
			continue
		}
		m.forward(e.Emb, r)
		p := newParam(classParamPrefix+e.Label.String(), m.cfg.Dim)
		copy(p.w, m.sc.z)
		m.class[e.Label] = p
		m.taskClasses[e.Label] = true
	}
}

// Route implements Routed.
func (m *MoE) Route(emb []float32) (Route, error) {
	if err := checkEmb(emb, m.cfg.Dim); err != nil {
		return unseen, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sel.Route(emb), nil
}

// Predict implements Method.
func (m *MoE) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, m.cfg.Dim); err != nil {
		return dst, err
	}
	s := m.labels.Current()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.predict(s, emb, m.sel.Route(emb), dst), nil
}

// PredictRoute implements Routed.
func (m *MoE) PredictRoute(emb []float32, r Route, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, m.cfg.Dim); err != nil {
		return dst, err
	}
	s := m.labels.Current()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.predict(s, emb, r, dst), nil
}

func (m *MoE) predict(s *LabelSet, emb []float32, r Route, dst []float32) []float32 {
	router := m.routers[r.Task]
	if !r.Seen || router == nil || norm(emb) == 0 {
		return textLogits(s, emb, m.cfg.LogitScale, dst)
	}
	m.forward(emb, router)
	m.classVecs(s)
	return cosineLogits(m.sc.vecs, m.sc.z, m.cfg.LogitScale, dst)
}

// Footprint implements Method: experts (weights, gradients, Adam moments,
// base copy), routers and the selector are fixed costs; learned class
// vectors are per class.
func (m *MoE) Footprint() Footprint {
	m.mu.Lock()
	defer m.mu.Unlock()
	var fixed int64
	for _, e := range m.experts {
		for _, p := range e.params() {
			fixed += 5 * bytesF32(len(p.w)) // w, g, m, v, base
		}
	}
	for _, r := range m.routers {
		fixed += 4 * bytesF32(len(r.w.w)+len(r.b.w)) // w, g, m, v (+ base after a merge)
	}
	sel, _ := m.sel.footprint()
	fixed += sel
	nc := len(m.class)
	var per int64
	if nc > 0 {
		per = 5 * bytesF32(m.cfg.Dim)
	}
	return Footprint{Classes: nc, Fixed: fixed, PerClass: per, Total: fixed + int64(nc)*per}
}
