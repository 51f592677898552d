package daemon

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/accel/acceltest"
	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/capture"
)

// patternFrames are 64×48 frames with a coloured off-centre square, so
// that turned, cropped and recoloured views differ from the frame.
type patternFrames struct{ seq uint64 }

func (p *patternFrames) Next(ctx context.Context, dst *capture.Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.seq++
	const w, h = 64, 48
	dst.Seq, dst.Time, dst.Width, dst.Height = p.seq, time.Now(), w, h
	dst.RGB = make([]byte, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := 3 * (y*w + x)
			dst.RGB[o], dst.RGB[o+1], dst.RGB[o+2] = byte(4*x), byte(5*y), 60
			if x > 8 && x < 30 && y > 10 && y < 26 {
				dst.RGB[o], dst.RGB[o+1], dst.RGB[o+2] = 230, 40, 30
			}
		}
	}
	return nil
}

// viewRecorder wants views of the first `frames` frames it is asked about.
type viewRecorder struct {
	mu     sync.Mutex
	aug    augment.Config
	frames int
	fed    [][][]float32
}

func (v *viewRecorder) WantViews() augment.Config {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.fed) < v.frames {
		return v.aug
	}
	return augment.Config{}
}

func (v *viewRecorder) FeedViews(views [][]float32) {
	v.mu.Lock()
	defer v.mu.Unlock()
	kept := make([][]float32, len(views)) // the pipeline reuses its buffers
	for i, e := range views {
		kept[i] = append([]float32(nil), e...)
	}
	v.fed = append(v.fed, kept)
}

// The encode stage makes, preprocesses and encodes the views a teacher
// wants, before Classify sees the frame, and only for the frames it wants.
func TestPipelineMakesTeachViews(t *testing.T) {
	forEachSchedule(t, func(t *testing.T, sch func(Options) Options) {
		g := &patternFrames{}
		enc := acceltest.New(acceltest.Config{Dim: 16})
		aug := augment.ShapeConfig()
		aug.Views = 3
		rec := &viewRecorder{aug: aug, frames: 2}
		var classified int
		d, err := New(sch(Options{Frames: g, Encoder: enc, MaxFrames: 5, Views: rec,
			Classify: func(emb []float32) []Label {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				classified++
				// The views of frame k arrive before frame k is classified.
				if classified <= 2 && len(rec.fed) != classified {
					t.Errorf("frame %d classified with %d view batches fed", classified, len(rec.fed))
				}
				if classified <= 2 {
					for i, v := range rec.fed[classified-1] {
						if reflect.DeepEqual(v, emb) {
							t.Errorf("frame %d: view %d is the frame itself", classified, i)
						}
					}
				}
				return nil
			}}))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Run(context.Background()); !errors.Is(err, ErrStopped) {
			t.Fatalf("Run = %v", err)
		}
		if len(rec.fed) != 2 || enc.ImageCalls() != 5+2*3 {
			t.Fatalf("%d view batches, %d encoder calls; want 2 and 5 frames + 2×3 views", len(rec.fed), enc.ImageCalls())
		}
		for k, views := range rec.fed {
			if len(views) != 3 || reflect.DeepEqual(views[0], views[1]) || reflect.DeepEqual(views[1], views[2]) {
				t.Errorf("frame %d: views %v are not 3 distinct views", k, views)
			}
		}
	})
}

// A learner's teach request with views collects each frame followed by
// the views fed for it; a request without views takes the frames alone.
func TestLearnerTeachFramesWithViews(t *testing.T) {
	l := openTestLearner(t, "", nil)
	classify := l.ClassifyFunc(nil)
	aug := augment.DefaultConfig()
	aug.Views = 2
	withViews := &frameTeach{want: 2, aug: aug, done: make(chan struct{})}
	plain := &frameTeach{want: 2, done: make(chan struct{})}
	l.pending = []*frameTeach{plain, withViews}
	if got := l.WantViews(); got.Views != 2 {
		t.Fatalf("WantViews = %+v", got)
	}
	frame, v1, v2 := make([]float32, learnDim), make([]float32, learnDim), make([]float32, learnDim)
	frame[0], v1[1], v2[2] = 1, 1, 1
	for i := 0; i < 2; i++ {
		l.FeedViews([][]float32{v1, v2, {1, 2}}) // a wrong-sized view is dropped
		classify(frame)
	}
	want := [][]float32{frame, v1, v2, frame, v1, v2}
	if !reflect.DeepEqual(withViews.embs, want) || !reflect.DeepEqual(plain.embs, [][]float32{frame, frame}) {
		t.Errorf("with views %d embeddings, plain %d", len(withViews.embs), len(plain.embs))
	}
	if len(l.pending) != 0 || l.WantViews().Views != 0 {
		t.Error("finished requests still pending")
	}
	// Views fed for one frame do not leak into the next.
	late := &frameTeach{want: 1, aug: aug, done: make(chan struct{})}
	l.pending = []*frameTeach{late}
	classify(frame)
	if len(late.embs) != 1 {
		t.Errorf("a frame without fed views brought %d embeddings", len(late.embs))
	}
	bad := augment.Config{Views: 2} // zero scales
	if _, err := l.TeachFramesWithViews(context.Background(), "x", 1, bad); err == nil {
		t.Error("invalid augmentation accepted")
	}
}
