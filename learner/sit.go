package learner

// SIT (Symmetric Image-Text tuning, Wang et al. 2024, "CLIP model is an
// Efficient Online Lifelong Learner"): in online learning the softmax of the
// image-to-text loss runs only over the classes present in the current
// batch, as CLIP's own contrastive loss does. Classes absent from the
// stream are not pushed down by every new batch, which is where a plain
// cross-entropy head forgets them; their logits get exactly zero gradient.
//
// A device learns from teach actions that usually hold one class, and a
// softmax over one class has nothing to contrast (zero loss, zero
// gradient). So a batch of a single class borrows the classes of the last
// HeadOptions.SITWindow learned examples — the online stream's recent
// past; a batch of two classes or more uses exactly SIT's batch rule (a
// window there measurably dilutes SIT: in the domain-shift test of
// vocab_cl_test.go a 32-example window on every batch took BWT from -0.06
// to -0.25).

// presentMask returns, for the SIT loss, which label indices take part in
// the softmax: the batch's classes, plus the recent window's if the batch
// has only one. It returns nil (every class) for the plain cross-entropy
// loss.
func (h *Head) presentMask(batch []Example, s *LabelSet) []bool {
	if h.opts.Loss != LossSIT {
		return nil
	}
	m := resizeBool(h.sc.mask, s.Len())
	clear(m)
	classes := 0
	for _, e := range batch {
		if i, ok := s.Index(e.Label); ok && !m[i] {
			m[i] = true
			classes++
		}
	}
	if classes < 2 {
		for _, id := range h.recent {
			if i, ok := s.Index(id); ok {
				m[i] = true
			}
		}
	}
	h.sc.mask = m
	return m
}

// remember pushes the batch's labels into the recent window.
func (h *Head) remember(batch []Example) {
	w := h.opts.SITWindow
	if h.opts.Loss != LossSIT || w == 0 {
		return
	}
	for _, e := range batch {
		h.recent = append(h.recent, e.Label)
	}
	if n := len(h.recent); n > w {
		h.recent = append(h.recent[:0], h.recent[n-w:]...)
	}
}
