package learner

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ZSCL (Zheng et al., ICCV 2023, "Preventing Zero-Shot Transfer
// Degradation in Continual Learning of Vision-Language Models") protects
// zero-shot ability in two spaces:
//
//   - feature space: on a reference set of images and texts (unlabelled,
//     unrelated to the task), the trained model's image↔text similarity
//     distributions are distilled towards those of the frozen initial
//     CLIP. Here the encoder is frozen and only the head trains, so the
//     teacher is the identity head: its image features are the normalised
//     embeddings themselves. Both directions are distilled: each reference
//     image's softmax over the reference texts and each text's softmax over
//     the reference images, KL(teacher‖student) at temperature T scaled by
//     T² (Hinton) and averaged over rows;
//   - parameter space: weights are averaged over the iterations of a task
//     (ZSCL's weight ensemble; the average answers Predict), and an L2
//     penalty pulls the weights towards their start-of-task values
//     (L2-SP, the parameter-space counterpart of WiSE-FT's interpolation).
//
// The task cross-entropy uses label smoothing (HeadOptions.LabelSmoothing).
// Reference images are kept on the device: what Predict sees before the
// first Learn (frames the camera saw before anybody taught it), plus
// whatever ObserveReference is given. Reference texts are the registry's
// text embeddings (the vocabulary whose zero-shot behaviour matters) plus
// AddReferenceText's.

// ZSCLOptions configures the ZSCL terms of a head.
type ZSCLOptions struct {
	// Distill weighs the feature-space distillation (0: off).
	Distill float32 `yaml:"distill"`
	// Temperature of the distillation softmaxes (ZSCL uses 2).
	Temperature float32 `yaml:"temperature"`
	// RefCapacity bounds the reference images kept (reservoir sample).
	RefCapacity int `yaml:"ref_capacity"`
	// RefBatch reference images per optimizer step.
	RefBatch int `yaml:"ref_batch"`
	// RefTexts reference texts per step at most (sampled when more).
	RefTexts int `yaml:"ref_texts"`
	// CollectReference keeps Predict's inputs as reference images until the
	// first Learn.
	CollectReference bool `yaml:"collect_reference"`
	// L2 weighs ½‖θ-θ_task start‖² (0: off).
	L2 float32 `yaml:"l2"`
	// Average keeps a running average of the weights over the task's steps
	// and predicts with it.
	Average bool `yaml:"average"`
	// AverageWindow caps the average's memory at that many samples (an
	// exponential average afterwards); 0 averages the whole task.
	AverageWindow int `yaml:"average_window"`
}

// DefaultZSCLOptions returns the "zscl" preset's settings.
func DefaultZSCLOptions() ZSCLOptions {
	return ZSCLOptions{Distill: 1, Temperature: 2, RefCapacity: 256, RefBatch: 16, RefTexts: 64,
		CollectReference: true, L2: 1, Average: true}
}

func (o ZSCLOptions) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if !(o.Distill >= 0) || math.IsInf(float64(o.Distill), 0) {
		bad("zscl.distill %v must be >= 0", o.Distill)
	}
	if !(o.L2 >= 0) || math.IsInf(float64(o.L2), 0) {
		bad("zscl.l2 %v must be >= 0", o.L2)
	}
	if o.RefCapacity < 0 || o.AverageWindow < 0 {
		bad("zscl.ref_capacity and zscl.average_window must be >= 0")
	}
	if o.Distill > 0 {
		if !(o.Temperature > 0) || math.IsInf(float64(o.Temperature), 0) {
			bad("zscl.temperature %v must be > 0", o.Temperature)
		}
		if o.RefCapacity < 1 || o.RefBatch < 1 || o.RefTexts < 1 {
			bad("zscl.ref_capacity, ref_batch and ref_texts must be >= 1 with distillation on")
		}
	}
	return errors.Join(errs...)
}

// refStore is the on-device reference set.
type refStore struct {
	capacity int
	images   [][]float32 // normalised
	offered  int64       // images offered so far (reservoir sampling)
	texts    [][]float32 // extra reference vocabulary, normalised
}

// observe offers one image to the reservoir.
func (r *refStore) observe(emb []float32, rng *rand.Rand) {
	if r.capacity == 0 || norm(emb) == 0 {
		return
	}
	r.offered++
	if len(r.images) < r.capacity {
		v := make([]float32, len(emb))
		normalizeInto(v, emb)
		r.images = append(r.images, v)
		return
	}
	if j := rng.Int64N(r.offered); j < int64(r.capacity) {
		normalizeInto(r.images[j], emb)
	}
}

// ObserveReference offers image embeddings (frames seen outside teaching)
// to the ZSCL reference set; the set keeps a uniform sample of at most
// RefCapacity of everything offered.
func (h *Head) ObserveReference(embs ...[]float32) error {
	for _, e := range embs {
		if err := checkEmb(e, h.cfg.Dim); err != nil {
			return fmt.Errorf("learner: reference image: %w", err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range embs {
		h.ref.observe(e, h.rng)
	}
	return nil
}

// AddReferenceText adds text embeddings (a reference vocabulary beyond the
// device's labels) to the ZSCL reference set.
func (h *Head) AddReferenceText(embs ...[]float32) error {
	vs := make([][]float32, len(embs))
	for i, e := range embs {
		v, err := Normalized(e)
		if err == nil && len(e) != h.cfg.Dim {
			err = ErrDim
		}
		if err != nil {
			return fmt.Errorf("learner: reference text: %w", err)
		}
		vs[i] = v
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ref.texts = append(h.ref.texts, vs...)
	return nil
}

// ReferenceSize returns how many reference images and extra texts the head
// keeps.
func (h *Head) ReferenceSize() (images, texts int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ref.images), len(h.ref.texts)
}

// sampleReference draws this step's reference images (indices) and texts;
// nil when distillation is off or the set is empty.
func (h *Head) sampleReference(s *LabelSet) ([]int, [][]float32) {
	o := h.opts.ZSCL
	if o.Distill == 0 || len(h.ref.images) == 0 {
		return nil, nil
	}
	sc := &h.sc
	sc.texts = sc.texts[:0]
	for i := 0; i < s.Len(); i++ {
		if t := s.Text(i); t != nil {
			sc.texts = append(sc.texts, t)
		}
	}
	sc.texts = append(sc.texts, h.ref.texts...)
	if len(sc.texts) == 0 {
		return nil, nil
	}
	sc.refIdx = h.pick(sc.refIdx, len(h.ref.images), o.RefBatch)
	if len(sc.texts) > o.RefTexts {
		sc.textIdx = h.pick(sc.textIdx, len(sc.texts), o.RefTexts)
		sc.chosen = sc.chosen[:0]
		for _, j := range sc.textIdx {
			sc.chosen = append(sc.chosen, sc.texts[j])
		}
		sc.texts, sc.chosen = sc.chosen, sc.texts
	}
	return sc.refIdx, sc.texts
}

// pick returns k distinct indices of [0,n) (all of them if k >= n), drawn
// by a partial Fisher-Yates shuffle.
func (h *Head) pick(dst []int, n, k int) []int {
	if cap(h.sc.perm) < n {
		h.sc.perm = make([]int, n)
	}
	perm := h.sc.perm[:n]
	for i := range perm {
		perm[i] = i
	}
	if k >= n {
		return append(dst[:0], perm...)
	}
	for i := 0; i < k; i++ {
		j := i + h.rng.IntN(n-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return append(dst[:0], perm[:k]...)
}

// distill adds the gradient of the ZSCL feature-space distillation on the
// reference images refIdx and texts, and returns its value:
//
//	Distill·T²/2 · [ 1/R Σ_i KL(P⁰_i‖P_i) + 1/K Σ_k KL(Q⁰_k‖Q_k) ]
//
// with P_i = softmax_k(s·z_i·t_k/T) (image→text) and Q_k = softmax_i of the
// same logits (text→image); ⁰ is the frozen model, z⁰_i = x̂_i.
func (h *Head) distill(refIdx []int, texts [][]float32) float64 {
	r, k := len(refIdx), len(texts)
	if r == 0 || k == 0 {
		return 0
	}
	f := h.f
	sc := &h.sc
	d, hd := h.cfg.Dim, h.cfg.Finetune.Hidden
	scale := float64(h.cfg.LogitScale)
	temp := float64(h.opts.ZSCL.Temperature)
	// Keep each image's activations for its backward pass instead of a
	// second forward.
	sc.zr, sc.xr = resize(sc.zr, r*d), resize(sc.xr, r*d)
	sc.hr, sc.ar = resize(sc.hr, r*hd), resize(sc.ar, r*hd)
	sc.un = resize64(sc.un, r)
	sc.s0, sc.s1, sc.g = resize64(sc.s0, r*k), resize64(sc.s1, r*k), resize64(sc.g, r*k)
	for i, j := range refIdx {
		x := h.ref.images[j]
		sc.un[i] = f.forward(x)
		copy(sc.zr[i*d:(i+1)*d], f.sc.z)
		copy(sc.xr[i*d:(i+1)*d], f.sc.x)
		copy(sc.hr[i*hd:(i+1)*hd], f.sc.h)
		copy(sc.ar[i*hd:(i+1)*hd], f.sc.a)
		for c, t := range texts {
			sc.s0[i*k+c] = scale * float64(dot(x, t)) / temp
			sc.s1[i*k+c] = scale * float64(dot(f.sc.z, t)) / temp
		}
	}
	clear(sc.g)
	var kl float64
	// image→text: rows
	sc.row0, sc.row1 = resize64(sc.row0, k), resize64(sc.row1, k)
	sc.lp0, sc.lp1 = resize64(sc.lp0, k), resize64(sc.lp1, k)
	for i := 0; i < r; i++ {
		copy(sc.row0, sc.s0[i*k:(i+1)*k])
		copy(sc.row1, sc.s1[i*k:(i+1)*k])
		lp0 := logSoftmax(sc.row0, nil, sc.lp0)
		lp1 := logSoftmax(sc.row1, nil, sc.lp1)
		for c := 0; c < k; c++ {
			p0, p1 := math.Exp(lp0[c]), math.Exp(lp1[c])
			kl += p0 * (lp0[c] - lp1[c]) / float64(r)
			sc.g[i*k+c] += (p1 - p0) / float64(r)
		}
	}
	// text→image: columns
	sc.col0, sc.col1 = resize64(sc.col0, r), resize64(sc.col1, r)
	sc.l0, sc.l1 = resize64(sc.l0, r), resize64(sc.l1, r)
	for c := 0; c < k; c++ {
		for i := 0; i < r; i++ {
			sc.col0[i], sc.col1[i] = sc.s0[i*k+c], sc.s1[i*k+c]
		}
		lq0 := logSoftmax(sc.col0, nil, sc.l0)
		lq1 := logSoftmax(sc.col1, nil, sc.l1)
		for i := 0; i < r; i++ {
			q0, q1 := math.Exp(lq0[i]), math.Exp(lq1[i])
			kl += q0 * (lq0[i] - lq1[i]) / float64(k)
			sc.g[i*k+c] += (q1 - q0) / float64(k)
		}
	}
	// d/d(s·z·t) = weight·T²/2 · g / T
	w := float64(h.opts.ZSCL.Distill) * temp * temp / 2
	gscale := w / temp * scale
	for i := range refIdx {
		copy(f.sc.z, sc.zr[i*d:(i+1)*d])
		copy(f.sc.x, sc.xr[i*d:(i+1)*d])
		copy(f.sc.h, sc.hr[i*hd:(i+1)*hd])
		copy(f.sc.a, sc.ar[i*hd:(i+1)*hd])
		clear(f.sc.dz)
		for c, t := range texts {
			g := float32(gscale * sc.g[i*k+c])
			if g == 0 {
				continue
			}
			for q := range f.sc.dz {
				f.sc.dz[q] += g * t[q]
			}
		}
		f.backward(sc.un[i])
	}
	return w * kl
}

// l2 adds the gradient of L2/2·‖θ-θ_anchor‖² over every parameter with an
// anchor and returns it.
func (h *Head) l2() float64 {
	if h.anchor == nil {
		return 0
	}
	lambda := h.opts.ZSCL.L2
	var sq float64
	pull := func(p *param, a []float32) {
		for i, w := range p.w {
			diff := w - a[i]
			p.g[i] += lambda * diff
			sq += float64(diff) * float64(diff)
		}
	}
	for _, p := range h.f.fixed() {
		pull(p, h.anchor.adapter[p.name])
	}
	for id, p := range h.f.class {
		if a, ok := h.anchor.class[id]; ok {
			pull(p, a)
		}
	}
	return 0.5 * float64(lambda) * sq
}

// average folds the current weights into the running average.
func (h *Head) average() {
	if h.avg == nil {
		return
	}
	h.avgN++
	n := h.avgN
	if w := h.opts.ZSCL.AverageWindow; w > 0 && n > w {
		n = w
	}
	rate := 1 / float32(n)
	fold := func(avg, w []float32) {
		for i, x := range w {
			avg[i] += rate * (x - avg[i])
		}
	}
	for _, p := range h.f.fixed() {
		fold(h.avg.adapter[p.name], p.w)
	}
	for id, p := range h.f.class {
		if a, ok := h.avg.class[id]; ok {
			fold(a, p.w)
		}
	}
}
