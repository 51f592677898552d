package daemon

import (
	"context"
	"fmt"

	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/preprocess"
)

// ViewTeacher receives augmented views of the frames it is being taught
// (the Learner implements it). After each frame is encoded the pipeline
// asks WantViews; when it returns Views > 0 the views of that frame are
// made, encoded and handed to FeedViews before Classify sees the frame.
// The views are the pipeline's buffers, valid only during the call:
// FeedViews copies what it keeps.
type ViewTeacher interface {
	WantViews() augment.Config
	FeedViews(views [][]float32)
}

// viewMaker makes and encodes the augmented views of a frame on the encode
// stage. It has its own preprocessor: the capture stage's is busy with the
// next frame meanwhile.
type viewMaker struct {
	pre    *preprocess.Preprocessor
	tensor preprocess.Tensor
	rgb    []byte
	embs   [][]float32 // reused: FeedViews copies
}

// teachViews gives opts.Views the views of slot s's frame if it wants any.
// A failure is logged and the frame is taught without views: the frame
// itself is fine, and the pipeline must not stop for a teach request.
func (d *Daemon) teachViews(ctx context.Context, s *slot) {
	if d.opts.Views == nil {
		return
	}
	aug := d.opts.Views.WantViews()
	if aug.Views < 1 {
		return
	}
	views, err := d.makeViews(ctx, s, aug)
	if err != nil {
		d.metrics.errors.WithLabelValues("views").Inc()
		d.log.Warn("teach views not made; the frame is taught alone", "frame", s.frame.Seq, "err", err)
	}
	d.opts.Views.FeedViews(views)
}

func (d *Daemon) makeViews(ctx context.Context, s *slot, aug augment.Config) ([][]float32, error) {
	if d.views == nil {
		pre, err := preprocess.NewPreprocessor(d.info.Image)
		if err != nil {
			return nil, err
		}
		d.views = &viewMaker{pre: pre}
	}
	vm := d.views
	f := &s.frame
	for len(vm.embs) < aug.Views {
		vm.embs = append(vm.embs, make([]float32, d.info.EmbeddingDim))
	}
	out := vm.embs[:aug.Views]
	for i, emb := range out {
		var err error
		// Seeded by the frame's sequence number: the same views of the
		// same frame on every run.
		if vm.rgb, err = aug.View(vm.rgb, f.RGB, f.Width, f.Height, f.Seq, i); err != nil {
			return nil, fmt.Errorf("daemon: view %d of frame %d: %w", i, f.Seq, err)
		}
		if err := vm.pre.Image(&vm.tensor, vm.rgb, f.Width, f.Height); err != nil {
			return nil, fmt.Errorf("daemon: preprocess view %d of frame %d: %w", i, f.Seq, err)
		}
		if err := d.opts.Encoder.EncodeImage(ctx, &vm.tensor, emb); err != nil {
			return nil, fmt.Errorf("daemon: encode view %d of frame %d: %w", i, f.Seq, err)
		}
	}
	return out, nil
}
