package learner

import (
	"log/slog"
	"sync"
)

func init() { Register("zeroshot", newZeroShot) }

// ZeroShot is Continual-CLIP: logits = scale·cos(image, text_c), nothing is
// learned. It is the reference every other method must not fall below on
// classes it was never taught.
type ZeroShot struct {
	cfg    Config
	labels *Labels
	mu     sync.Mutex
	sync   syncBase
}

func newZeroShot(cfg Config, labels *Labels, _ *slog.Logger) (Method, error) {
	return &ZeroShot{cfg: cfg, labels: labels}, nil
}

// Name implements Method.
func (z *ZeroShot) Name() string { return "zeroshot" }

// Dim implements Method.
func (z *ZeroShot) Dim() int { return z.cfg.Dim }

// Predict implements Method.
func (z *ZeroShot) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, z.cfg.Dim); err != nil {
		return dst, err
	}
	return textLogits(z.labels.Current(), emb, z.cfg.LogitScale, dst), nil
}

// textLogits is scale·cos(emb, text_c) per class; NoLogit without text.
func textLogits(s *LabelSet, emb []float32, scale float32, dst []float32) []float32 {
	dst = resize(dst, s.Len())
	n := norm(emb)
	for i := range dst {
		t := s.Text(i)
		if t == nil || n == 0 {
			dst[i] = NoLogit
			continue
		}
		dst[i] = scale * float32(float64(dot(emb, t))/n)
	}
	return dst
}

// Learn validates the batch and learns nothing.
func (z *ZeroShot) Learn(batch []Example) error {
	return checkBatch(batch, z.cfg.Dim, z.labels.Current())
}

// Unlearn is a no-op, so Trainer's undo works uniformly.
func (z *ZeroShot) Unlearn(batch []Example) error { return z.Learn(batch) }

// Snapshot implements Method.
func (z *ZeroShot) Snapshot() ([]byte, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	e := &Envelope{Kind: "method", Method: z.Name(), Dim: z.cfg.Dim, Version: stateVersion}
	return sealState(e, z.sync.meta())
}

// Restore implements Method.
func (z *ZeroShot) Restore(b []byte) error {
	var m syncMeta
	_, err := openState(b, z.Name(), z.cfg.Dim, stateVersion, &m)
	if err != nil {
		return err
	}
	z.mu.Lock()
	z.sync.setMeta(m)
	z.mu.Unlock()
	return nil
}

// BaseVersion implements Method.
func (z *ZeroShot) BaseVersion() uint64 {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.sync.version
}

// Delta exports nothing but the labels, so names still spread through the
// fleet.
func (z *ZeroShot) Delta(base uint64) (*Delta, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	d, err := z.sync.startExport(base, z.Name(), z.cfg.Dim, z.cfg.ModelID)
	if err != nil {
		return nil, err
	}
	s := z.labels.Current()
	d.Labels = labelInfos(s, s.IDs()[1:])
	return d, nil
}

// ApplyMerged implements Method.
func (z *ZeroShot) ApplyMerged(d *Delta) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if _, err := z.sync.checkMerged(d, z.Name(), z.cfg.Dim, z.cfg.ModelID); err != nil {
		return err
	}
	if err := z.labels.Ensure(d.Labels); err != nil {
		return err
	}
	z.sync.version, z.sync.exportID = d.Version, 0
	return nil
}

// Footprint implements Method: the text embeddings belong to Labels.
func (z *ZeroShot) Footprint() Footprint { return Footprint{} }
