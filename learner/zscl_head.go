package learner

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
)

// The regularised trainable head: the finetune adapter (same parameters,
// same optimizer, same fleet deltas) trained with a loss built from
// options — plain or SIT cross-entropy, ZSCL distillation, an L2 pull to
// the start-of-task weights, weight averaging, Mod-X distillation. The
// methods "zscl", "modx" and "sit" are three presets of it; RegisterHead
// adds other combinations.

func init() {
	for _, o := range []HeadOptions{ZSCLHeadOptions(), ModXHeadOptions(), SITHeadOptions()} {
		RegisterHead(o)
	}
}

// Loss names the head's task loss.
type Loss string

const (
	// LossCE is cross-entropy over every class with a vector.
	LossCE Loss = "ce"
	// LossSIT is cross-entropy over the classes present in the batch
	// (a single-class batch adds the recent window's), after SIT (Wang et
	// al. 2024).
	LossSIT Loss = "sit"
)

// HeadOptions selects the losses of a regularised head. The zero values of
// the weights switch their term off. learner.Config has no section for
// them yet, so the registered presets run with these defaults; NewHead and
// RegisterHead take other values. The adapter itself (hidden size,
// optimizer, learning rate, steps, weight decay) is Config.Finetune.
type HeadOptions struct {
	// Name is the method name the head registers, snapshots and ships
	// deltas under.
	Name string `yaml:"name"`
	// Loss is the task loss, "ce" or "sit".
	Loss Loss `yaml:"loss"`
	// LabelSmoothing ε spreads ε of the target mass uniformly over the
	// classes in the softmax (ZSCL trains with it).
	LabelSmoothing float32 `yaml:"label_smoothing"`
	// SITWindow: a batch of a single class (one teach action) adds the
	// classes of the last SITWindow learned examples to its "present" set;
	// pure SIT would have nothing to contrast and learn nothing.
	SITWindow int `yaml:"sit_window"`
	// NewTaskOnNewClass calls BeginTask when a batch holds a class the head
	// never learned: the device has no task IDs, a new class is the
	// clearest sign a new task started.
	NewTaskOnNewClass bool `yaml:"new_task_on_new_class"`

	ZSCL ZSCLOptions `yaml:"zscl"`
	ModX ModXOptions `yaml:"modx"`
}

// ZSCLHeadOptions is the "zscl" preset: distillation on the reference set
// towards frozen CLIP, L2 to the start-of-task weights, weight averaging,
// label smoothing 0.2.
func ZSCLHeadOptions() HeadOptions {
	return HeadOptions{Name: "zscl", Loss: LossCE, LabelSmoothing: 0.2, NewTaskOnNewClass: true,
		ZSCL: DefaultZSCLOptions()}
}

// ModXHeadOptions is the "modx" preset: cross-entropy plus Mod-X's
// symmetric KL to the start-of-task model on the current batch.
func ModXHeadOptions() HeadOptions {
	return HeadOptions{Name: "modx", Loss: LossCE, NewTaskOnNewClass: true, ModX: DefaultModXOptions()}
}

// SITHeadOptions is the "sit" preset: softmax over present classes only.
func SITHeadOptions() HeadOptions {
	return HeadOptions{Name: "sit", Loss: LossSIT, SITWindow: 32, NewTaskOnNewClass: true}
}

// Validate checks the options without side effects; problems wrap
// ErrInvalidConfig.
func (o HeadOptions) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if o.Name == "" {
		bad("head name is empty")
	}
	if o.Loss != LossCE && o.Loss != LossSIT {
		bad("head loss %q is not ce or sit", o.Loss)
	}
	if !(o.LabelSmoothing >= 0 && o.LabelSmoothing < 1) {
		bad("head label_smoothing %v not in [0,1)", o.LabelSmoothing)
	}
	if o.SITWindow < 0 {
		bad("head sit_window %d < 0", o.SITWindow)
	}
	errs = append(errs, o.ZSCL.validate(), o.ModX.validate())
	return errors.Join(errs...)
}

func (o HeadOptions) needAnchor() bool { return o.ZSCL.L2 > 0 || o.ModX.Weight > 0 }

// RegisterHead registers a head preset under opts.Name; like Register it
// panics on invalid options or a duplicate name (both are programming
// errors found at init time).
func RegisterHead(opts HeadOptions) {
	if err := opts.Validate(); err != nil {
		panic("learner: RegisterHead: " + err.Error())
	}
	Register(opts.Name, func(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
		return NewHead(cfg, opts, labels, log)
	})
}

// weightSet is a copy of every head parameter: start-of-task anchors and
// running averages.
type weightSet struct {
	adapter map[string][]float32 // W1, b1, W2, b2
	class   map[ID][]float32     // learned class vectors
}

// Head is the regularised trainable head. Safe for concurrent use.
type Head struct {
	opts   HeadOptions
	cfg    Config
	labels *Labels
	log    *slog.Logger

	mu     sync.Mutex // guards everything below, f's state included
	f      *Finetune  // parameters, optimizer, fleet bookkeeping
	anchor *weightSet // weights at the start of the task (nil if unused)
	avg    *weightSet // running average of the weights (nil if unused)
	avgN   int        // samples in the average (the task's start weights and each step since)
	seen   seenClasses
	recent []ID // labels of the last SITWindow examples, oldest first
	ref    refStore
	pcg    *rand.PCG
	rng    *rand.Rand

	sc headScratch
}

// headScratch holds buffers of the head's own passes (the second forward
// for old or averaged weights, distillation matrices).
type headScratch struct {
	x, h, a, u, z []float32
	vecs          [][]float32
	unit          [][]float32
	logits, dl    []float32
	mask, ok      []bool
	l0, l1, lp0   []float64
	lp1           []float64
	zr, xr        []float32 // reference features and inputs, R×D
	hr, ar        []float32 // reference hidden pre- and post-activations, R×H
	un            []float64 // reference ‖u‖
	s0, s1        []float64 // R×K teacher and student logits
	g             []float64 // R×K logit gradients
	row0, row1    []float64
	col0, col1    []float64
	perm          []int
	texts, chosen [][]float32
	refIdx        []int
	textIdx       []int
}

// NewHead builds a head with explicit options; New builds the registered
// presets. cfg.Finetune configures the adapter and optimizer.
func NewHead(cfg Config, opts HeadOptions, labels *Labels, log *slog.Logger) (*Head, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := cfg
	c.Method = "finetune" // the adapter's settings are validated like finetune's
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dim < 1 {
		return nil, fmt.Errorf("%w: dim must be set", ErrInvalidConfig)
	}
	if labels == nil || labels.Dim() != cfg.Dim {
		return nil, fmt.Errorf("%w: labels dim does not match config dim %d", ErrDim, cfg.Dim)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fm, err := newFinetune(cfg, labels, log)
	if err != nil {
		return nil, err
	}
	d, hd := cfg.Dim, cfg.Finetune.Hidden
	pcg := rand.NewPCG(cfg.Seed, 0x7a73636c) // "zscl"
	h := &Head{opts: opts, cfg: cfg, labels: labels, log: log, f: fm.(*Finetune), seen: seenClasses{},
		pcg: pcg, rng: rand.New(pcg), ref: refStore{capacity: opts.ZSCL.RefCapacity}}
	h.sc = headScratch{x: make([]float32, d), h: make([]float32, hd), a: make([]float32, hd),
		u: make([]float32, d), z: make([]float32, d)}
	if opts.needAnchor() {
		h.anchor = h.copyWeights()
	}
	if opts.ZSCL.Average {
		h.avg, h.avgN = h.copyWeights(), 1
	}
	return h, nil
}

// Name implements Method.
func (h *Head) Name() string { return h.opts.Name }

// Dim implements Method.
func (h *Head) Dim() int { return h.cfg.Dim }

// Options returns the head's options.
func (h *Head) Options() HeadOptions { return h.opts }

func (h *Head) copyWeights() *weightSet {
	f := h.f
	ws := &weightSet{adapter: map[string][]float32{}, class: map[ID][]float32{}}
	for _, p := range f.fixed() {
		ws.adapter[p.name] = append([]float32(nil), p.w...)
	}
	for id, p := range f.class {
		ws.class[id] = append([]float32(nil), p.w...)
	}
	return ws
}

// adapterForward is Finetune.forward with explicit weights (old or
// averaged ones) and buffers; it returns ‖u‖.
func adapterForward(ws *weightSet, d, hd int, emb []float32, sc *headScratch) float64 {
	w1, b1, w2, b2 := ws.adapter["W1"], ws.adapter["b1"], ws.adapter["W2"], ws.adapter["b2"]
	normalizeInto(sc.x, emb)
	for j := 0; j < hd; j++ {
		v := float64(b1[j]) + float64(dot(w1[j*d:(j+1)*d], sc.x))
		sc.h[j] = float32(v)
		sc.a[j] = float32(math.Max(v, 0))
	}
	for i := 0; i < d; i++ {
		sc.u[i] = sc.x[i] + b2[i] + dot(w2[i*hd:(i+1)*hd], sc.a)
	}
	return normalizeInto(sc.z, sc.u)
}

// setVecs fills sc.vecs with each label's unit class vector under ws: the
// informative text embedding, else ws's learned vector, else the text, else
// nil (the same rule as Finetune.classVecs); dup is Config.TextDuplicate.
func (sc *headScratch) setVecs(s *LabelSet, ws *weightSet, dup float32) {
	n := s.Len()
	if cap(sc.vecs) < n {
		sc.vecs = make([][]float32, n)
		sc.unit = append(sc.unit, make([][]float32, n-len(sc.unit))...)
	}
	sc.vecs = sc.vecs[:n]
	for i := range sc.vecs {
		sc.vecs[i] = nil
		if t := s.InformativeText(i, dup); t != nil {
			sc.vecs[i] = t
			continue
		}
		if w, ok := ws.class[s.ID(i)]; ok {
			if nv := norm(w); nv > 0 {
				sc.vecs[i] = unitInto(&sc.unit[i], w, nv)
				continue
			}
		}
		sc.vecs[i] = s.Text(i)
	}
}

// Predict implements Method. With weight averaging the averaged weights
// answer (ZSCL's weight consolidation); before the first Learn the input
// may be kept as a reference image.
func (h *Head) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, h.cfg.Dim); err != nil {
		return dst, err
	}
	s := h.labels.Current()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.opts.ZSCL.CollectReference && h.f.step == 0 {
		h.ref.observe(emb, h.rng)
	}
	if h.avg != nil {
		adapterForward(h.avg, h.cfg.Dim, h.cfg.Finetune.Hidden, emb, &h.sc)
		h.sc.setVecs(s, h.avg, h.cfg.TextDuplicate)
		return cosineLogits(h.sc.vecs, h.sc.z, h.cfg.LogitScale, dst), nil
	}
	h.f.forward(emb)
	h.f.classVecs(s)
	return cosineLogits(h.f.sc.vecs, h.f.sc.z, h.cfg.LogitScale, dst), nil
}

// BeginTask implements TaskBoundary: the averaged weights (if any) become
// the trained weights — the model the finished task leaves behind — and
// anchors and averages restart from them.
func (h *Head) BeginTask() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.beginTask()
}

func (h *Head) beginTask() {
	h.consolidate()
	if h.anchor != nil {
		h.anchor = h.copyWeights()
	}
	if h.avg != nil {
		h.avgN = 1 // the start weights are the average's first sample
	}
}

// consolidate makes the averaged weights the trained ones (ZSCL keeps the
// weight ensemble as the model a task leaves behind). The average itself
// is unchanged, so predictions do not move.
func (h *Head) consolidate() {
	if h.avg == nil {
		return
	}
	for _, p := range h.f.fixed() {
		copy(p.w, h.avg.adapter[p.name])
	}
	for id, p := range h.f.class {
		if w, ok := h.avg.class[id]; ok {
			copy(p.w, w)
		}
	}
}

// Learn implements Method: Finetune.Steps optimizer steps on the combined
// loss of the batch.
func (h *Head) Learn(batch []Example) error {
	s := h.labels.Current()
	if err := checkBatch(batch, h.cfg.Dim, s); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.opts.NewTaskOnNewClass && h.seen.anyNew(batch) && len(h.seen) > 0 {
		h.beginTask()
	}
	h.seen.add(batch)
	f := h.f
	f.imprint(batch, s)
	h.trackNewClasses()
	mask := h.presentMask(batch, s)
	for range h.cfg.Finetune.Steps {
		refIdx, texts := h.sampleReference(s)
		h.lossAndGrad(batch, s, mask, refIdx, texts)
		f.update()
		h.average()
	}
	h.remember(batch)
	for _, e := range batch {
		f.sinceBase += float64(e.W())
	}
	return nil
}

// trackNewClasses gives class vectors created since the last call an
// anchor and an average equal to their current value.
func (h *Head) trackNewClasses() {
	for id, p := range h.f.class {
		for _, ws := range []*weightSet{h.anchor, h.avg} {
			if ws == nil {
				continue
			}
			if _, ok := ws.class[id]; !ok {
				ws.class[id] = append([]float32(nil), p.w...)
			}
		}
	}
}

// lossAndGrad sets every parameter's gradient to that of the full loss and
// returns the loss. refIdx and texts fix the reference batch so repeated
// calls (finite differences) see the same one.
func (h *Head) lossAndGrad(batch []Example, s *LabelSet, mask []bool, refIdx []int, texts [][]float32) float64 {
	for _, p := range h.f.params() {
		clear(p.g)
	}
	loss := h.taskLoss(batch, s, mask)
	loss += h.weightDecay()
	if h.opts.ZSCL.Distill > 0 {
		loss += h.distill(refIdx, texts)
	}
	if h.opts.ZSCL.L2 > 0 {
		loss += h.l2()
	}
	if h.opts.ModX.Weight > 0 {
		loss += h.modx(batch, s, mask)
	}
	return loss
}

// logitBackward adds to sc.dz and to the learned class vectors' gradients
// the effect of dl, the loss gradient with respect to the logits
// scale·z·ŵ_c of the last forward (f.classVecs must be current).
func (h *Head) logitBackward(dl []float32) {
	sc := &h.f.sc
	cosineLogitsBackward(dl, sc.vecs, sc.vparam, sc.vnorm, sc.z, sc.dz, h.cfg.LogitScale, nil)
}

// taskLoss adds the gradient of the weighted mean cross-entropy over
// batch, with label smoothing and restricted to mask (nil: every class),
// and returns it.
func (h *Head) taskLoss(batch []Example, s *LabelSet, mask []bool) float64 {
	f := h.f
	sc := &f.sc
	f.classVecs(s)
	var wsum float64
	for _, e := range batch {
		wsum += float64(e.W())
	}
	eps := float64(h.opts.LabelSmoothing)
	var loss float64
	for _, e := range batch {
		omega := float64(e.W()) / wsum
		un := f.forward(e.Emb)
		sc.logits = cosineLogits(sc.vecs, sc.z, h.cfg.LogitScale, sc.logits)
		if mask != nil {
			for c := range sc.logits {
				if !mask[c] {
					sc.logits[c] = NoLogit
				}
			}
		}
		y, _ := s.Index(e.Label)
		if sc.vecs[y] == nil || sc.logits[y] == NoLogit {
			continue // cannot happen after imprint; guard against label races
		}
		sc.p = Softmax(sc.logits, sc.p)
		nv := 0
		for _, l := range sc.logits {
			if l != NoLogit {
				nv++
			}
		}
		h.sc.dl = resize(h.sc.dl, len(sc.logits))
		for c, l := range sc.logits {
			if l == NoLogit {
				h.sc.dl[c] = 0
				continue
			}
			q := eps / float64(nv)
			if c == y {
				q += 1 - eps
			}
			if q > 0 {
				loss -= omega * q * math.Log(math.Max(float64(sc.p[c]), 1e-30))
			}
			h.sc.dl[c] = float32(omega * (float64(sc.p[c]) - q))
		}
		clear(sc.dz)
		h.logitBackward(h.sc.dl)
		f.backward(un)
	}
	return loss
}

// weightDecay is finetune's L2 on the adapter matrices.
func (h *Head) weightDecay() float64 {
	wd := h.cfg.Finetune.WeightDecay
	if wd == 0 {
		return 0
	}
	return h.f.w1.decay(wd) + h.f.w2.decay(wd)
}
