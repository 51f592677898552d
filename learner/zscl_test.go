package learner

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func newTestHead(t testing.TB, cfg Config, o HeadOptions, l *Labels) *Head {
	t.Helper()
	h, err := NewHead(cfg, o, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestZSCLCollectsReferenceBeforeLearning: frames predicted before the
// first Learn become reference images (a uniform sample of at most
// RefCapacity); afterwards Predict only reads.
func TestZSCLCollectsReferenceBeforeLearning(t *testing.T) {
	w := newWorld(t, 51, 16, 3, 10, true)
	o := ZSCLHeadOptions()
	o.ZSCL.RefCapacity = 8
	h := newTestHead(t, testCfg("zscl", 16), o, w.labels)
	predictAll(t, h, w.train[:5])
	if n, _ := h.ReferenceSize(); n != 5 {
		t.Fatalf("kept %d reference images of 5 frames", n)
	}
	predictAll(t, h, w.train) // 30 more: the reservoir stays at capacity
	if n, _ := h.ReferenceSize(); n != 8 || h.ref.offered != 35 {
		t.Fatalf("kept %d of %d offered, capacity 8", n, h.ref.offered)
	}
	late := 0
	for _, r := range h.ref.images {
		for _, x := range w.train[8:] {
			if maxAbsDiff([][]float32{r}, [][]float32{x}) < 1e-6 {
				late++
			}
		}
	}
	if late == 0 {
		t.Errorf("reservoir kept only the first frames")
	}
	mustLearn(t, h, w.batch()[:4])
	before, _ := h.Snapshot()
	predictAll(t, h, w.test)
	if after, _ := h.Snapshot(); string(after) != string(before) {
		t.Errorf("Predict changed the state after learning started")
	}
	if err := h.ObserveReference(w.test[0][:3]); !errors.Is(err, ErrDim) {
		t.Errorf("ObserveReference of a short embedding: %v", err)
	}
	if err := h.AddReferenceText(make([]float32, 16)); !errors.Is(err, ErrBadEmbedding) {
		t.Errorf("AddReferenceText of a zero vector: %v", err)
	}
	if _, texts := h.ReferenceSize(); texts != 0 {
		t.Errorf("a rejected text was kept")
	}
}

// TestZSCLDistillKeepsZeroShotTransfer: trained on a shifted domain, a head
// distilled on reference frames of an unseen domain keeps zero-shot
// accuracy on that domain's (never taught) classes far better than the
// same head without distillation.
func TestZSCLDistillKeepsZeroShotTransfer(t *testing.T) {
	l, tasks := dsStream(t, 61, 32, 2, 4, 20, 1.3, 1.2, 0.8)
	zs := mustNew(t, testCfg("zeroshot", 32), l)
	unseen := accuracy(t, zs, l, tasks[1].testX, tasks[1].testY)
	transfer := func(distill float32) float64 {
		o := ZSCLHeadOptions()
		o.ZSCL.L2, o.ZSCL.Average, o.LabelSmoothing = 0, false, 0 // only the feature-space term
		o.ZSCL.Distill = distill
		h := newTestHead(t, dsConfig("zscl", 32), o, l)
		if err := h.ObserveReference(tasks[1].frames...); err != nil {
			t.Fatal(err)
		}
		for range 8 {
			for s := 0; s < len(tasks[0].train); s += 8 {
				mustLearn(t, h, tasks[0].train[s:s+8])
			}
		}
		if acc := accuracy(t, h, l, tasks[0].testX, tasks[0].testY); acc < 0.9 {
			t.Fatalf("distill %v: learned task only to %v", distill, acc)
		}
		return accuracy(t, h, l, tasks[1].testX, tasks[1].testY)
	}
	plain, distilled := transfer(0), transfer(1)
	t.Logf("unseen-task accuracy: zero-shot %.3f, trained %.3f, trained+distill %.3f", unseen, plain, distilled)
	if !(distilled > plain+0.1) || distilled < unseen-0.1 {
		t.Errorf("distillation kept unseen-task accuracy at %.3f (without %.3f, zero-shot %.3f)", distilled, plain, unseen)
	}
}

// TestZSCLWeightAverage: Predict answers with the running mean of the
// weights since the task started (start weights included); BeginTask makes
// that mean the trained weights.
func TestZSCLWeightAverage(t *testing.T) {
	w := newWorld(t, 52, 12, 3, 6, false)
	o := HeadOptions{Name: "wc", Loss: LossCE, ZSCL: ZSCLOptions{Average: true}}
	cfg := testCfg("finetune", 12)
	cfg.Finetune.Steps = 1
	h := newTestHead(t, cfg, o, w.labels)
	mustLearn(t, h, w.batch()[:1]) // creates the first class vector; the average starts here
	h.BeginTask()
	var sum []float32
	add := func() {
		cur := h.f.w2.w
		if sum == nil {
			sum = make([]float32, len(cur))
		}
		for i, x := range cur {
			sum[i] += x
		}
	}
	add()
	const steps = 5
	for i := range steps {
		mustLearn(t, h, w.batch()[i*3:i*3+3])
		add()
	}
	for i := range sum {
		sum[i] /= steps + 1
	}
	if d := maxAbsDiff([][]float32{h.avg.adapter["W2"]}, [][]float32{sum}); d > 1e-5 {
		t.Fatalf("average W2 differs from the mean of the trajectory by %v", d)
	}
	if d := maxAbsDiff([][]float32{h.f.w2.w}, [][]float32{sum}); d < 1e-4 {
		t.Fatalf("trained weights equal their average: the test proves nothing")
	}
	got, _ := h.Predict(w.test[0], nil)
	adapterForward(h.avg, 12, cfg.Finetune.Hidden, w.test[0], &h.sc)
	h.sc.setVecs(w.labels.Current(), h.avg, cfg.TextDuplicate)
	want := cosineLogits(h.sc.vecs, h.sc.z, cfg.LogitScale, nil)
	if d := maxAbsDiff([][]float32{got}, [][]float32{want}); d != 0 {
		t.Fatalf("Predict is not the averaged model (diff %v)", d)
	}
	h.BeginTask()
	if d := maxAbsDiff([][]float32{h.f.w2.w}, [][]float32{sum}); d > 1e-5 {
		t.Errorf("BeginTask did not consolidate the average into the weights")
	}
	if again, _ := h.Predict(w.test[0], nil); maxAbsDiff([][]float32{again}, [][]float32{got}) > 1e-4 {
		t.Errorf("consolidation changed predictions")
	}
}

// TestZSCLL2PullsToTaskStart: with only the L2 term, the weights after a
// task stay closer to where it started than without it.
func TestZSCLL2PullsToTaskStart(t *testing.T) {
	l, tasks := dsStream(t, 53, 16, 1, 4, 10, 1.3, 1, 0.8)
	drift := func(l2 float32) float64 {
		o := HeadOptions{Name: "l2", Loss: LossCE, ZSCL: ZSCLOptions{L2: l2}}
		h := newTestHead(t, dsConfig("finetune", 16), o, l)
		start := h.copyWeights()
		for range 20 {
			mustLearn(t, h, tasks[0].train)
		}
		var d float64
		for _, p := range h.f.fixed() {
			for i, x := range p.w {
				d += float64(x-start.adapter[p.name][i]) * float64(x-start.adapter[p.name][i])
			}
		}
		return math.Sqrt(d)
	}
	free, pulled := drift(0), drift(5)
	t.Logf("weight drift over a task: %.3f free, %.3f with L2", free, pulled)
	if !(pulled < 0.7*free) {
		t.Errorf("weight drift with L2 %v, without %v", pulled, free)
	}
}

// TestModXAmend: when the head has not moved from the old model, the
// Mod-X term is zero — unless amendment corrected a row the old model got
// wrong, which then becomes the target.
func TestModXAmend(t *testing.T) {
	for _, amend := range []bool{false, true} {
		o := ModXHeadOptions()
		o.ModX.Amend = amend
		g := newHeadFixture(t, o)
		g.h.anchor = g.h.copyWeights() // old model = current model
		s := g.l.Current()
		for _, e := range g.batch {
			l, _ := g.h.Predict(e.Emb, nil)
			top, _ := Argmax(l)
			y, _ := s.Index(e.Label)
			loss := g.h.modx([]Example{e}, s, nil)
			wrong := top != y
			if want0 := !(amend && wrong); want0 != (loss == 0) {
				t.Errorf("amend %v, old row wrong %v: loss %v", amend, wrong, loss)
			}
		}
	}
}

func TestHeadOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*HeadOptions)
		field  string
	}{
		{"no name", func(o *HeadOptions) { o.Name = "" }, "name"},
		{"bad loss", func(o *HeadOptions) { o.Loss = "mse" }, "loss"},
		{"smoothing 1", func(o *HeadOptions) { o.LabelSmoothing = 1 }, "label_smoothing"},
		{"window", func(o *HeadOptions) { o.SITWindow = -1 }, "sit_window"},
		{"distill", func(o *HeadOptions) { o.ZSCL.Distill = -1 }, "zscl.distill"},
		{"temperature", func(o *HeadOptions) { o.ZSCL.Temperature = 0 }, "zscl.temperature"},
		{"ref batch", func(o *HeadOptions) { o.ZSCL.RefBatch = 0 }, "ref_batch"},
		{"l2", func(o *HeadOptions) { o.ZSCL.L2 = float32(math.NaN()) }, "zscl.l2"},
		{"window avg", func(o *HeadOptions) { o.ZSCL.AverageWindow = -2 }, "average_window"},
		{"modx weight", func(o *HeadOptions) { o.ModX.Weight = -1 }, "modx.weight"},
		{"modx temperature", func(o *HeadOptions) { o.ModX.Weight, o.ModX.Temperature = 1, 0 }, "modx.temperature"},
	}
	for _, p := range []HeadOptions{ZSCLHeadOptions(), ModXHeadOptions(), SITHeadOptions()} {
		if err := p.Validate(); err != nil {
			t.Errorf("preset %s: %v", p.Name, err)
		}
	}
	for _, tc := range tests {
		o := ZSCLHeadOptions()
		tc.mutate(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate = %v, want ErrInvalidConfig naming %s", tc.name, err, tc.field)
		}
	}
	cfg := testCfg("zscl", 8)
	cfg.Finetune.Hidden = 0
	if _, err := NewHead(cfg, ZSCLHeadOptions(), NewLabels(8), nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewHead with hidden 0: %v", err)
	}
	if _, err := NewHead(testCfg("zscl", 8), ZSCLHeadOptions(), NewLabels(4), nil); !errors.Is(err, ErrDim) {
		t.Errorf("NewHead with mismatched labels: %v", err)
	}
}

// TestRegisterHeadCombination: a custom combination registers, builds by
// name and trains; duplicates and invalid options panic.
func TestRegisterHeadCombination(t *testing.T) {
	o := ZSCLHeadOptions()
	o.Name, o.Loss, o.ModX = "zscl+modx+sit (test)", LossSIT, DefaultModXOptions()
	if !slices.Contains(Methods(), o.Name) { // -count=N reruns in one process
		RegisterHead(o)
	}
	w := newWorld(t, 54, 16, 3, 6, false)
	m := mustNew(t, testCfg(o.Name, 16), w.labels)
	for range 3 {
		mustLearn(t, m, w.batch())
	}
	if acc := accuracy(t, m, w.labels, w.test, w.testY); acc < 0.9 {
		t.Errorf("combined head accuracy %v", acc)
	}
	for _, bad := range []HeadOptions{o, {Name: "broken", Loss: "nope"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterHead(%q) did not panic", bad.Name)
				}
			}()
			RegisterHead(bad)
		}()
	}
}

// TestZSCLSampleReference: each step distils on RefBatch distinct reference
// images (all if fewer) and at most RefTexts distinct texts drawn from the
// labels' texts and the extra vocabulary.
func TestZSCLSampleReference(t *testing.T) {
	tests := []struct {
		images, extraTexts, refBatch, refTexts int
		wantImages, wantTexts                  int
	}{
		{0, 0, 4, 8, 0, 0},  // no reference images: no distillation
		{3, 0, 4, 8, 3, 5},  // fewer images than a batch; 5 label texts
		{10, 2, 4, 8, 4, 7}, // 5 label texts + 2 extra
		{10, 9, 4, 8, 4, 8}, // 14 texts, 8 per step
		{10, 9, 10, 1, 10, 1},
	}
	w := newWorld(t, 55, 8, 5, 2, true)
	for _, tc := range tests {
		o := ZSCLHeadOptions()
		o.ZSCL.RefBatch, o.ZSCL.RefTexts = tc.refBatch, tc.refTexts
		h := newTestHead(t, testCfg("zscl", 8), o, w.labels)
		for i := range tc.images {
			_ = h.ObserveReference(w.train[i%len(w.train)])
		}
		for i := range tc.extraTexts {
			_ = h.AddReferenceText(w.test[i%len(w.test)])
		}
		for range 3 {
			idx, texts := h.sampleReference(w.labels.Current())
			if len(idx) != tc.wantImages || len(texts) != tc.wantTexts {
				t.Errorf("%+v: %d images, %d texts", tc, len(idx), len(texts))
			}
			if !distinct(idx) {
				t.Errorf("%+v: repeated reference images %v", tc, idx)
			}
			seen := map[*float32]bool{}
			for _, x := range texts {
				if seen[&x[0]] {
					t.Errorf("%+v: a text drawn twice", tc)
				}
				seen[&x[0]] = true
			}
		}
	}
}

func distinct(xs []int) bool {
	seen := map[int]bool{}
	for _, x := range xs {
		if seen[x] {
			return false
		}
		seen[x] = true
	}
	return true
}
