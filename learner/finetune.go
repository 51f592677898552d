package learner

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
)

func init() { Register("finetune", newFinetune) }

// param is one trainable tensor with its gradient and optimizer moments.
type param struct {
	name  string
	shape []int
	w     []float32
	g     []float32
	m     []float32 // adam first moment, or sgd velocity
	v     []float32 // adam second moment
}

func newParam(name string, shape ...int) *param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &param{name: name, shape: shape, w: make([]float32, n), g: make([]float32, n), m: make([]float32, n), v: make([]float32, n)}
}

// decay adds the gradient of the L2 penalty wd/2·‖w‖² to g and returns the
// penalty; the adapters decay their matrices, not biases or class vectors.
func (p *param) decay(wd float32) float64 {
	var sq float64
	for i, w := range p.w {
		p.g[i] += wd * w
		sq += float64(w) * float64(w)
	}
	return 0.5 * float64(wd) * sq
}

const classParamPrefix = "class/"

// Finetune is the naive baseline: a residual bottleneck adapter on the
// frozen image embedding,
//
//	u = x + W2·relu(W1·x + b1) + b2,  z = u/‖u‖,  logit_c = scale·z·ŵ_c
//
// trained with plain cross-entropy against the class vectors ŵ_c: the text
// embedding when the class has an informative one (kept fixed), otherwise a
// learned vector imprinted from the first example — also for classes whose
// text coincides with another class's (LabelSet.InformativeText: names the
// tokenizer does not know), which the text could never tell apart. W2 starts at zero so the adapter starts
// as the identity (zero-shot behaviour); nothing protects old classes, so it
// forgets — which is what it is here to show.
//
// Devices of a fleet must share Config.Seed so their adapters start from the
// same weights and averaged deltas mean the same thing.
type Finetune struct {
	cfg    Config
	labels *Labels
	log    *slog.Logger

	mu     sync.Mutex
	w1, b1 *param // H×D, H
	w2, b2 *param // D×H, D
	class  map[ID]*param
	step   int // optimizer steps taken (adam bias correction)

	base       map[string][]float32 // weights at the fleet base (missing: zeros)
	exported   map[string][]float32 // weights-base at the last export
	sinceBase  float64              // example weight learned since base
	exportedEx float64              // sinceBase at the last export
	sync       syncBase

	sc scratch
}

// scratch holds per-example buffers so Predict and Learn do not allocate.
type scratch struct {
	x, u, z, dz, du []float32
	h, a, da        []float32
	logits, p, dl   []float32 // dl: loss gradient w.r.t. the logits
	vecs            [][]float32
	vparam          []*param // class param behind vecs[i], nil for text
	vnorm           []float64
	unit            [][]float32 // owned buffers for learned class vectors
}

func newFinetune(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
	d, h := cfg.Dim, cfg.Finetune.Hidden
	f := &Finetune{cfg: cfg, labels: labels, log: log, class: map[ID]*param{}, base: map[string][]float32{}}
	f.w1, f.b1 = newParam("W1", h, d), newParam("b1", h)
	f.w2, f.b2 = newParam("W2", d, h), newParam("b2", d)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x66696e6574756e65))
	std := math.Sqrt(2 / float64(d)) // He init for the ReLU layer
	for i := range f.w1.w {
		f.w1.w[i] = float32(rng.NormFloat64() * std)
	}
	for _, p := range f.fixed() {
		f.base[p.name] = append([]float32(nil), p.w...)
	}
	f.sc = scratch{
		x: make([]float32, d), u: make([]float32, d), z: make([]float32, d),
		dz: make([]float32, d), du: make([]float32, d),
		h: make([]float32, h), a: make([]float32, h), da: make([]float32, h),
	}
	return f, nil
}

func (f *Finetune) fixed() []*param { return []*param{f.w1, f.b1, f.w2, f.b2} }

// params returns every parameter in a stable order.
func (f *Finetune) params() []*param {
	out := f.fixed()
	for _, id := range sortedIDs(f.class) {
		out = append(out, f.class[id])
	}
	return out
}

// Name implements Method.
func (f *Finetune) Name() string { return "finetune" }

// Dim implements Method.
func (f *Finetune) Dim() int { return f.cfg.Dim }

// forward computes h, a, u, z for emb into the scratch buffers and returns ‖u‖.
func (f *Finetune) forward(emb []float32) float64 {
	d, hd := f.cfg.Dim, f.cfg.Finetune.Hidden
	sc := &f.sc
	normalizeInto(sc.x, emb)
	for j := 0; j < hd; j++ {
		v := float64(f.b1.w[j]) + float64(dot(f.w1.w[j*d:(j+1)*d], sc.x))
		sc.h[j] = float32(v)
		sc.a[j] = float32(math.Max(v, 0))
	}
	for i := 0; i < d; i++ {
		sc.u[i] = sc.x[i] + f.b2.w[i] + dot(f.w2.w[i*hd:(i+1)*hd], sc.a)
	}
	return normalizeInto(sc.z, sc.u)
}

// classVecs fills sc.vecs with the unit class vector of each label: its
// informative text embedding, else its learned vector, else its text
// (zero-shot scoring until examples give it a vector), else nil.
func (f *Finetune) classVecs(s *LabelSet) {
	sc := &f.sc
	n := s.Len()
	if cap(sc.vecs) < n {
		sc.vecs = make([][]float32, n)
		sc.vparam = make([]*param, n)
		sc.vnorm = make([]float64, n)
		sc.unit = append(sc.unit, make([][]float32, n-len(sc.unit))...)
	}
	sc.vecs, sc.vparam, sc.vnorm = sc.vecs[:n], sc.vparam[:n], sc.vnorm[:n]
	for i := 0; i < n; i++ {
		sc.vparam[i], sc.vnorm[i] = nil, 1
		if t := s.InformativeText(i, f.cfg.TextDuplicate); t != nil {
			sc.vecs[i] = t
			continue
		}
		p, ok := f.class[s.ID(i)]
		if !ok {
			sc.vecs[i] = s.Text(i)
			continue
		}
		nv := norm(p.w)
		if nv == 0 {
			sc.vecs[i] = s.Text(i)
			continue
		}
		sc.vecs[i] = unitInto(&sc.unit[i], p.w, nv)
		sc.vparam[i], sc.vnorm[i] = p, nv
	}
}

func unitInto(dst *[]float32, w []float32, n float64) []float32 {
	if cap(*dst) < len(w) {
		*dst = make([]float32, len(w))
	}
	out := (*dst)[:len(w)]
	for i, x := range w {
		out[i] = float32(float64(x) / n)
	}
	return out
}

// Predict implements Method.
func (f *Finetune) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, f.cfg.Dim); err != nil {
		return dst, err
	}
	s := f.labels.Current()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forward(emb)
	f.classVecs(s)
	return cosineLogits(f.sc.vecs, f.sc.z, f.cfg.LogitScale, dst), nil
}

// Learn implements Method: Steps optimizer steps on the batch's weighted
// mean cross-entropy.
func (f *Finetune) Learn(batch []Example) error {
	s := f.labels.Current()
	if err := checkBatch(batch, f.cfg.Dim, s); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imprint(batch, s)
	for range f.cfg.Finetune.Steps {
		f.lossAndGrad(batch, s)
		f.update()
	}
	for _, e := range batch {
		f.sinceBase += float64(e.W())
	}
	return nil
}

// imprint creates a class vector for labels that have no informative text
// embedding (LabelSet.InformativeText), from the adapter's output for their
// first example.
func (f *Finetune) imprint(batch []Example, s *LabelSet) {
	for _, e := range batch {
		i, _ := s.Index(e.Label)
		if s.InformativeText(i, f.cfg.TextDuplicate) != nil {
			continue
		}
		if _, ok := f.class[e.Label]; ok {
			continue
		}
		f.forward(e.Emb)
		p := newParam(classParamPrefix+e.Label.String(), f.cfg.Dim)
		copy(p.w, f.sc.z)
		f.class[e.Label] = p
	}
}

// lossAndGrad sets every param's g to the gradient of the weighted mean
// cross-entropy (plus weight decay) over batch and returns the loss.
func (f *Finetune) lossAndGrad(batch []Example, s *LabelSet) float64 {
	sc := &f.sc
	for _, p := range f.params() {
		clear(p.g)
	}
	f.classVecs(s)
	var wsum float64
	for _, e := range batch {
		wsum += float64(e.W())
	}
	scale := f.cfg.LogitScale
	var loss float64
	for _, e := range batch {
		omega := float32(float64(e.W()) / wsum)
		un := f.forward(e.Emb)
		sc.logits = cosineLogits(sc.vecs, sc.z, scale, sc.logits)
		sc.p = Softmax(sc.logits, sc.p)
		y, _ := s.Index(e.Label)
		if sc.vecs[y] == nil {
			continue // cannot happen after imprint; guard against label races
		}
		sc.dl = growF32(sc.dl, len(sc.p))
		loss += crossEntropyGrad(sc.dl, sc.p, y, omega)
		clear(sc.dz)
		cosineLogitsBackward(sc.dl, sc.vecs, sc.vparam, sc.vnorm, sc.z, sc.dz, scale, nil)
		f.backward(un)
	}
	if wd := f.cfg.Finetune.WeightDecay; wd > 0 {
		loss += f.w1.decay(wd)
		loss += f.w2.decay(wd)
	}
	return loss
}

// backward adds to the adapter's gradients the gradient of a loss whose
// gradient with respect to z, the output of the last forward, is sc.dz; un
// is the ‖u‖ that forward returned. Heads with other losses (zscl, modx,
// sit) fill sc.dz their own way and share this pass.
func (f *Finetune) backward(un float64) {
	d, hd := f.cfg.Dim, f.cfg.Finetune.Hidden
	sc := &f.sc
	// through the normalisation z = u/‖u‖
	zdz := dot(sc.z, sc.dz)
	inv := float32(1 / un)
	for i := range sc.du {
		sc.du[i] = (sc.dz[i] - sc.z[i]*zdz) * inv
	}
	clear(sc.da)
	for i := 0; i < d; i++ {
		gi := sc.du[i]
		f.b2.g[i] += gi
		row := f.w2.w[i*hd : (i+1)*hd]
		grow := f.w2.g[i*hd : (i+1)*hd]
		for j := range row {
			grow[j] += gi * sc.a[j]
			sc.da[j] += row[j] * gi
		}
	}
	for j := 0; j < hd; j++ {
		if sc.h[j] <= 0 {
			continue
		}
		gj := sc.da[j]
		f.b1.g[j] += gj
		grow := f.w1.g[j*d : (j+1)*d]
		for i := range grow {
			grow[i] += gj * sc.x[i]
		}
	}
}

func (f *Finetune) update() {
	f.step++
	ft := f.cfg.Finetune
	lr := ft.LR
	if ft.Optimizer == "sgd" {
		for _, p := range f.params() {
			for i, g := range p.g {
				p.m[i] = ft.Momentum*p.m[i] + g
				p.w[i] -= lr * p.m[i]
			}
		}
		return
	}
	const b1, b2, eps = 0.9, 0.999, 1e-8
	// Bias correction folded into the step size (Kingma & Ba, sec. 2):
	// w -= lr·√(1-β2^t)/(1-β1^t) · m/(√v + ε̂), all in float32 so the
	// update costs a few ns per parameter.
	c1 := 1 - math.Pow(b1, float64(f.step))
	c2 := 1 - math.Pow(b2, float64(f.step))
	lrT := float32(float64(lr) * math.Sqrt(c2) / c1)
	epsT := float32(eps * math.Sqrt(c2))
	for _, p := range f.params() {
		m, v, w := p.m[:len(p.g)], p.v[:len(p.g)], p.w[:len(p.g)]
		for i, g := range p.g {
			mi := b1*m[i] + (1-b1)*g
			vi := b2*v[i] + (1-b2)*g*g
			m[i], v[i] = mi, vi
			w[i] -= lrT * mi / (float32(math.Sqrt(float64(vi))) + epsT)
		}
	}
}

type finetuneMeta struct {
	syncMeta
	Hidden     int      `json:"hidden"`
	Step       int      `json:"step"`
	Classes    []ID     `json:"classes"`
	Base       []string `json:"base"`
	Exported   []string `json:"exported,omitempty"`
	SinceBase  float64  `json:"since_base"`
	ExportedEx float64  `json:"exported_examples"`
}

func sortedKeys(m map[string][]float32) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Snapshot implements Method: weights, optimizer moments, the sync base and
// the last export.
func (f *Finetune) Snapshot() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	meta := finetuneMeta{syncMeta: f.sync.meta(), Hidden: f.cfg.Finetune.Hidden, Step: f.step,
		Classes: sortedIDs(f.class), Base: sortedKeys(f.base), Exported: sortedKeys(f.exported),
		SinceBase: f.sinceBase, ExportedEx: f.exportedEx}
	e := &Envelope{Kind: "method", Method: f.Name(), Dim: f.cfg.Dim, Version: stateVersion}
	for _, p := range f.params() {
		e.Tensors = append(e.Tensors,
			Tensor{"w/" + p.name, p.shape, p.w}, Tensor{"m/" + p.name, p.shape, p.m}, Tensor{"v/" + p.name, p.shape, p.v})
	}
	for _, k := range meta.Base {
		e.Tensors = append(e.Tensors, Tensor{"base/" + k, []int{len(f.base[k])}, f.base[k]})
	}
	for _, k := range meta.Exported {
		e.Tensors = append(e.Tensors, Tensor{"exp/" + k, []int{len(f.exported[k])}, f.exported[k]})
	}
	return sealState(e, meta)
}

// Restore implements Method; the hidden size must match the configuration.
func (f *Finetune) Restore(b []byte) error {
	var meta finetuneMeta
	e, err := openState(b, f.Name(), f.cfg.Dim, stateVersion, &meta)
	if err != nil {
		return err
	}
	if meta.Hidden != f.cfg.Finetune.Hidden {
		return fmt.Errorf("%w: snapshot hidden %d, config %d", ErrIncompatible, meta.Hidden, f.cfg.Finetune.Hidden)
	}
	d, h := f.cfg.Dim, f.cfg.Finetune.Hidden
	load := func(p *param) error {
		for _, slot := range []struct {
			prefix string
			dst    []float32
		}{{"w/", p.w}, {"m/", p.m}, {"v/", p.v}} {
			t, ok := e.F32(slot.prefix + p.name)
			if !ok || len(t.Data) != len(slot.dst) {
				return fmt.Errorf("%w: tensor %s%s", ErrCorrupt, slot.prefix, p.name)
			}
			copy(slot.dst, t.Data)
		}
		return nil
	}
	w1, b1, w2, b2 := newParam("W1", h, d), newParam("b1", h), newParam("W2", d, h), newParam("b2", d)
	class := map[ID]*param{}
	for _, p := range []*param{w1, b1, w2, b2} {
		if err := load(p); err != nil {
			return err
		}
	}
	for _, id := range meta.Classes {
		p := newParam(classParamPrefix+id.String(), d)
		if err := load(p); err != nil {
			return err
		}
		class[id] = p
	}
	tensorMap := func(prefix string, names []string) (map[string][]float32, error) {
		out := map[string][]float32{}
		for _, k := range names {
			t, ok := e.F32(prefix + k)
			if !ok {
				return nil, fmt.Errorf("%w: tensor %s%s", ErrCorrupt, prefix, k)
			}
			out[k] = t.Data
		}
		return out, nil
	}
	base, err := tensorMap("base/", meta.Base)
	if err != nil {
		return err
	}
	exp, err := tensorMap("exp/", meta.Exported)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.w1, f.b1, f.w2, f.b2, f.class, f.step = w1, b1, w2, b2, class, meta.Step
	f.base, f.sinceBase, f.exportedEx = base, meta.SinceBase, meta.ExportedEx
	f.exported = exp
	if len(exp) == 0 {
		f.exported = nil
	}
	f.sync.setMeta(meta.syncMeta)
	return nil
}

// BaseVersion implements Method.
func (f *Finetune) BaseVersion() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sync.version
}

// Delta implements Method: every weight's change since base.
func (f *Finetune) Delta(base uint64) (*Delta, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.sync.startExport(base, f.Name(), f.cfg.Dim, f.cfg.ModelID)
	if err != nil {
		return nil, err
	}
	d.Examples = f.sinceBase
	f.exported = map[string][]float32{}
	d.Tensors = paramDeltas(f.params(), f.base, f.exported)
	d.Labels = labelInfos(f.labels.Current(), sortedIDs(f.class))
	f.exportedEx = f.sinceBase
	return d, nil
}

// ApplyMerged implements Method: base += merged, weights += merged - own
// export (if included). Optimizer moments stay local.
func (f *Finetune) ApplyMerged(d *Delta) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	included, err := f.sync.checkMerged(d, f.Name(), f.cfg.Dim, f.cfg.ModelID)
	if err != nil {
		return err
	}
	byName := map[string]*param{}
	for _, p := range f.params() {
		byName[p.name] = p
	}
	var newClasses []ID
	for _, t := range d.Tensors {
		p, ok := byName[t.Name]
		if !ok {
			idStr, isClass := strings.CutPrefix(t.Name, classParamPrefix)
			id, perr := ParseID(idStr)
			if !isClass || perr != nil || len(t.Data) != f.cfg.Dim {
				return fmt.Errorf("%w: unknown tensor %q", ErrIncompatible, t.Name)
			}
			newClasses = append(newClasses, id)
			continue
		}
		if len(t.Data) != len(p.w) {
			return fmt.Errorf("%w: tensor %q has %d values, want %d", ErrIncompatible, t.Name, len(t.Data), len(p.w))
		}
	}
	if err := f.labels.Ensure(d.Labels); err != nil {
		return err
	}
	for _, id := range newClasses {
		if _, ok := f.labels.Current().Index(id); !ok {
			if err := f.labels.AddID(id, ""); err != nil {
				return err
			}
		}
		p := newParam(classParamPrefix+id.String(), f.cfg.Dim)
		f.class[id] = p
		byName[p.name] = p
	}
	for _, t := range d.Tensors {
		p := byName[t.Name]
		b := f.base[t.Name]
		if b == nil {
			b = make([]float32, len(p.w))
			f.base[t.Name] = b
		}
		for i, v := range t.Data {
			b[i] += v
			p.w[i] += v
		}
	}
	if included {
		for name, e := range f.exported {
			if p := byName[name]; p != nil {
				for i, v := range e {
					p.w[i] -= v
				}
			}
		}
		f.sinceBase -= f.exportedEx
	}
	f.exported, f.exportedEx = nil, 0
	f.sync.version, f.sync.exportID = d.Version, 0
	return nil
}

// Footprint implements Method: adapter weights, moments and base copy are
// fixed; learned class vectors (with moments and base) are per class.
func (f *Finetune) Footprint() Footprint {
	f.mu.Lock()
	defer f.mu.Unlock()
	var fixed int64
	for _, p := range f.fixed() {
		fixed += 4 * bytesF32(len(p.w)) // w, g, m, v
	}
	fixed += bytesF32(len(f.w1.w) + len(f.b1.w) + len(f.w2.w) + len(f.b2.w)) // base
	nc := len(f.class)
	var per int64
	if nc > 0 { // classes with an informative text embedding cost nothing here
		per = 5 * bytesF32(f.cfg.Dim) // w, g, m, v, base
	}
	return Footprint{Classes: nc, Fixed: fixed, PerClass: per, Total: fixed + int64(nc)*per}
}
