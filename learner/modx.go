package learner

import (
	"errors"
	"fmt"
	"math"
)

// Mod-X (Ni et al., ICML 2023, "Continual Vision-Language Representation
// Learning with Off-Diagonal Information"): besides the matched pairs (the
// diagonal of the contrastive matrix), the old model's similarities to the
// non-matching texts (the off-diagonal entries) carry what it knew; Mod-X
// keeps them by aligning the rows of the new model's contrastive matrix on
// the current batch with the old model's.
//
// Here a row is one batch image's logits over the class vectors. The old
// model is the head at the start of the task (the anchor weights); the term
// is the symmetric KL between the two rows' softmaxes at temperature T,
// scaled by T², weighted by example weight. With Amend, a row the old model
// gets wrong is corrected first by swapping the old logits of the true
// class and of the old winner, so the distillation keeps the old model's
// off-diagonal structure without teaching its mistake (Mod-X's matrix
// amendment).

// ModXOptions configures the Mod-X term of a head.
type ModXOptions struct {
	// Weight of the symmetric KL term (0: off).
	Weight float32 `yaml:"weight"`
	// Temperature of both softmaxes.
	Temperature float32 `yaml:"temperature"`
	// Amend corrects old rows whose top class is wrong before distilling.
	Amend bool `yaml:"amend"`
}

// DefaultModXOptions returns the "modx" preset's settings. The temperature
// is high because the logits carry CLIP's scale of 100: at T=2 a row's
// softmax is nearly one-hot and the off-diagonal entries Mod-X is about
// vanish (in vocab_cl_test.go's domain-shift stream BWT went from -0.14 at
// T=2 to -0.01 at T=8).
func DefaultModXOptions() ModXOptions { return ModXOptions{Weight: 1, Temperature: 8, Amend: true} }

func (o ModXOptions) validate() error {
	var errs []error
	if !(o.Weight >= 0) || math.IsInf(float64(o.Weight), 0) {
		errs = append(errs, fmt.Errorf("%w: modx.weight %v must be >= 0", ErrInvalidConfig, o.Weight))
	}
	if o.Weight > 0 && (!(o.Temperature > 0) || math.IsInf(float64(o.Temperature), 0)) {
		errs = append(errs, fmt.Errorf("%w: modx.temperature %v must be > 0", ErrInvalidConfig, o.Temperature))
	}
	return errors.Join(errs...)
}

// modx adds the gradient of the Mod-X term over batch (restricted to mask,
// nil for every class) and returns it:
//
//	Weight·T²/2 · Σ_e ω_e [KL(p⁰_e‖p_e) + KL(p_e‖p⁰_e)]
//
// with p = softmax(logits/T) of the new head and p⁰ of the anchor head.
func (h *Head) modx(batch []Example, s *LabelSet, mask []bool) float64 {
	if h.anchor == nil {
		return 0
	}
	f := h.f
	sc := &h.sc
	d, hd := h.cfg.Dim, h.cfg.Finetune.Hidden
	scale := h.cfg.LogitScale
	temp := float64(h.opts.ModX.Temperature)
	wt := float64(h.opts.ModX.Weight) * temp * temp / 2
	f.classVecs(s)
	var wsum float64
	for _, e := range batch {
		wsum += float64(e.W())
	}
	n := s.Len()
	var loss float64
	for _, e := range batch {
		omega := float64(e.W()) / wsum
		// old row
		adapterForward(h.anchor, d, hd, e.Emb, sc)
		sc.setVecs(s, h.anchor, h.cfg.TextDuplicate)
		sc.logits = cosineLogits(sc.vecs, sc.z, scale, sc.logits)
		un := f.forward(e.Emb)
		f.sc.logits = cosineLogits(f.sc.vecs, f.sc.z, scale, f.sc.logits)
		sc.l0, sc.l1 = resize64(sc.l0, n), resize64(sc.l1, n)
		sc.ok = resizeBool(sc.ok, n)
		ok := sc.ok
		count := 0
		for c := 0; c < n; c++ {
			ok[c] = sc.logits[c] != NoLogit && f.sc.logits[c] != NoLogit && (mask == nil || mask[c])
			if ok[c] {
				count++
				sc.l0[c] = float64(sc.logits[c]) / temp
				sc.l1[c] = float64(f.sc.logits[c]) / temp
			}
		}
		if count < 2 {
			continue
		}
		if h.opts.ModX.Amend {
			if y, found := s.Index(e.Label); found && ok[y] {
				top := -1
				for c := 0; c < n; c++ {
					if ok[c] && (top < 0 || sc.l0[c] > sc.l0[top]) {
						top = c
					}
				}
				if top != y {
					sc.l0[y], sc.l0[top] = sc.l0[top], sc.l0[y]
				}
			}
		}
		lp0 := logSoftmax(sc.l0, ok, sc.lp0)
		sc.lp0 = lp0
		lp1 := logSoftmax(sc.l1, ok, sc.lp1)
		sc.lp1 = lp1
		var kl1, kl2 float64
		for c := 0; c < n; c++ {
			if !ok[c] {
				continue
			}
			p0, p1 := math.Exp(lp0[c]), math.Exp(lp1[c])
			kl1 += p0 * (lp0[c] - lp1[c])
			kl2 += p1 * (lp1[c] - lp0[c])
		}
		loss += wt * omega * (kl1 + kl2)
		h.sc.dl = resize(h.sc.dl, n)
		for c := 0; c < n; c++ {
			if !ok[c] {
				h.sc.dl[c] = 0
				continue
			}
			p0, p1 := math.Exp(lp0[c]), math.Exp(lp1[c])
			g := (p1 - p0) + p1*((lp1[c]-lp0[c])-kl2)
			h.sc.dl[c] = float32(wt * omega * g / temp)
		}
		clear(f.sc.dz) // the old pass used h.sc, so f.sc still holds this example's forward
		h.logitBackward(h.sc.dl)
		f.backward(un)
	}
	return loss
}
