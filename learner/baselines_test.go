package learner

import (
	"math"
	"math/rand/v2"
	"testing"
)

// twoD builds a 2-d registry with classes a=(1,0) text and b without text.
func twoD(t *testing.T) (*Labels, ID, ID) {
	t.Helper()
	l := NewLabels(2)
	a, _ := l.Add("a")
	b, _ := l.Add("b")
	if err := l.SetText(a, []float32{1, 0}); err != nil {
		t.Fatal(err)
	}
	return l, a, b
}

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-3 }

func TestZeroShotLogits(t *testing.T) {
	l, a, b := twoD(t)
	_ = l.SetText(b, []float32{0, 1})
	cfg := testCfg("zeroshot", 2)
	m := mustNew(t, cfg, l)
	tests := []struct {
		img  []float32
		want []float32 // background has no text → NoLogit; a, b = 100·cos
	}{
		{[]float32{0.6, 0.8}, []float32{NoLogit, 60, 80}},
		{[]float32{3, 4}, []float32{NoLogit, 60, 80}}, // not normalised: same cosine
		{[]float32{-1, 0}, []float32{NoLogit, -100, 0}},
	}
	for _, tc := range tests {
		got, err := m.Predict(tc.img, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tc.want {
			if got[i] != tc.want[i] && !near(got[i], tc.want[i]) {
				t.Errorf("Predict(%v)[%d] = %v, want %v", tc.img, i, got[i], tc.want[i])
			}
		}
	}
	before, _ := m.Snapshot()
	if err := m.Learn([]Example{{Emb: []float32{0, 1}, Label: a}}); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Predict([]float32{0.6, 0.8}, nil)
	after, _ := m.Snapshot()
	if !near(got[1], 60) || string(before) != string(after) {
		t.Errorf("zeroshot Learn changed something")
	}
}

func TestNCMMixing(t *testing.T) {
	// Class a: text (1,0); taught examples all at (0,1) → prototype (0,1).
	// Class b: no text; one example at (0.6,-0.8) → prototype itself.
	// Image (1,0), scale 100:
	tests := []struct {
		alpha float32
		wantA float32 // 100·cos((1,0), normalize(α(1,0)+(1-α)(0,1)))
	}{
		{1, 100},                         // pure text
		{0, 0},                           // pure prototype (0,1)
		{0.5, 100 / float32(math.Sqrt2)}, // (0.5,0.5)/0.7071 → cos 0.7071
		{0.75, 75 / float32(math.Sqrt(0.75*0.75+0.25*0.25))}, // 0.75/0.7906 = 0.9487
	}
	for _, tc := range tests {
		l, a, b := twoD(t)
		cfg := testCfg("ncm", 2)
		cfg.NCM.Alpha = tc.alpha
		m := mustNew(t, cfg, l)
		err := m.Learn([]Example{{Emb: []float32{0, 2}, Label: a}, {Emb: []float32{0, 1}, Label: a}, {Emb: []float32{0.6, -0.8}, Label: b}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := m.Predict([]float32{1, 0}, nil)
		if got[0] != NoLogit {
			t.Errorf("α=%v: background logit %v, want NoLogit", tc.alpha, got[0])
		}
		if !near(got[1], tc.wantA) {
			t.Errorf("α=%v: logit a = %v, want %v", tc.alpha, got[1], tc.wantA)
		}
		if !near(got[2], 60) { // b: prototype only, cos((1,0),(0.6,-0.8)) = 0.6
			t.Errorf("α=%v: logit b = %v, want 60", tc.alpha, got[2])
		}
	}
}

func TestNCMUnlearnExact(t *testing.T) {
	w := newWorld(t, 11, 32, 3, 8, false)
	m := mustNew(t, testCfg("ncm", 32), w.labels).(*NCM)
	first := w.batch()[:5] // all class 0
	if err := m.Learn(first); err != nil {
		t.Fatal(err)
	}
	want, n := m.Prototype(w.ids[0])
	if n != 5 {
		t.Fatalf("examples = %d, want 5", n)
	}
	more := []Example{{Emb: w.test[0], Label: w.ids[0], Weight: 2}, {Emb: w.test[9], Label: w.ids[1]}}
	if err := m.Learn(more); err != nil {
		t.Fatal(err)
	}
	if p, _ := m.Prototype(w.ids[0]); maxAbsDiff([][]float32{p}, [][]float32{want}) < 1e-4 {
		t.Fatalf("learning a weighted example did not move the prototype")
	}
	if err := m.Unlearn(more); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Prototype(w.ids[0])
	if d := maxAbsDiff([][]float32{got}, [][]float32{want}); d > 1e-6 {
		t.Errorf("prototype after unlearn differs by %v", d)
	}
	if p, n := m.Prototype(w.ids[1]); p != nil || n != 0 {
		t.Errorf("class fully unlearned still has prototype (%d examples)", n)
	}
	if err := m.Unlearn(more[1:]); err == nil {
		t.Errorf("unlearning an example the class no longer holds succeeded")
	}
}

func TestKNNVotes(t *testing.T) {
	l := NewLabels(2)
	a, _ := l.Add("a")
	b, _ := l.Add("b")
	cfg := testCfg("knn", 2)
	cfg.KNN.K, cfg.KNN.Weighted = 3, false
	m := mustNew(t, cfg, l)
	// a at 0°, 10°, b at 20°, 90°. Query at 15°: 3 nearest = a0°? no:
	// distances 15°,5°,5°,75° → neighbours 10°(a), 20°(b), 0°(a).
	deg := func(d float64) []float32 {
		r := d * math.Pi / 180
		return []float32{float32(math.Cos(r)), float32(math.Sin(r))}
	}
	err := m.Learn([]Example{{Emb: deg(0), Label: a}, {Emb: deg(10), Label: a}, {Emb: deg(20), Label: b}, {Emb: deg(90), Label: b}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.Predict(deg(15), nil)
	p := Softmax(got, nil)
	// unweighted: a has 2 of 3 votes, b 1 of 3, background none
	if got[0] != NoLogit || math.Abs(float64(p[1])-2.0/3) > 1e-6 || math.Abs(float64(p[2])-1.0/3) > 1e-6 {
		t.Errorf("vote shares = %v (logits %v), want [0 2/3 1/3]", p, got)
	}
	// weighted by (1+cos)/2: a: (1+cos5°)/2+(1+cos15°)/2, b: (1+cos5°)/2
	cfg.KNN.Weighted = true
	mw := mustNew(t, cfg, l)
	_ = mw.Learn([]Example{{Emb: deg(0), Label: a}, {Emb: deg(10), Label: a}, {Emb: deg(20), Label: b}, {Emb: deg(90), Label: b}})
	got, _ = mw.Predict(deg(15), nil)
	p = Softmax(got, nil)
	c5, c15 := (1+math.Cos(5*math.Pi/180))/2, (1+math.Cos(15*math.Pi/180))/2
	wantA := (c5 + c15) / (2*c5 + c15)
	if math.Abs(float64(p[1])-wantA) > 1e-5 {
		t.Errorf("weighted share of a = %v, want %v", p[1], wantA)
	}
}

func TestKNNEvictionKeepsRareClass(t *testing.T) {
	l := NewLabels(2)
	a, _ := l.Add("a")
	b, _ := l.Add("b")
	cfg := testCfg("knn", 2)
	cfg.KNN.K, cfg.KNN.Capacity = 1, 4
	m := mustNew(t, cfg, l).(*KNN)
	for _, e := range []Example{{Emb: []float32{1, 0}, Label: a}, {Emb: []float32{0, 1}, Label: b},
		{Emb: []float32{1, 0.1}, Label: a}, {Emb: []float32{1, 0.2}, Label: a}, {Emb: []float32{1, 0.3}, Label: a}} {
		if err := m.Learn([]Example{e}); err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != 4 {
		t.Fatalf("store holds %d, capacity 4", m.Len())
	}
	// b survived (a was the most populous), and a's oldest (1,0) went.
	got, _ := m.Predict([]float32{0, 1}, nil)
	if j, _ := Argmax(got); l.Current().ID(j) != b {
		t.Errorf("rare class b was evicted")
	}
	for _, e := range m.entries {
		if e.label == a && e.emb[1] == 0 {
			t.Errorf("oldest example of a not evicted")
		}
	}
	// Unlearn removes a stored example.
	if err := m.Unlearn([]Example{{Emb: []float32{0, 1}, Label: b}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Predict([]float32{0, 1}, nil); got[2] != NoLogit {
		t.Errorf("unlearned example still votes")
	}
}

// TestFinetuneGradient checks the hand-written backward pass against
// central finite differences of the loss, for every parameter entry.
func TestFinetuneGradient(t *testing.T) {
	for _, wd := range []float32{0, 0.05} {
		const dim, hidden = 5, 3
		rng := rand.New(rand.NewPCG(9, 9))
		l, _, batch := gradFixture(t, rng, dim, "p", "q", "r")
		cfg := testCfg("finetune", dim)
		cfg.Finetune.Hidden, cfg.Finetune.WeightDecay, cfg.LogitScale = hidden, wd, 5
		f := mustNew(t, cfg, l).(*Finetune)
		f.imprint(batch, l.Current())
		jitter(rng, f.params())
		s := l.Current()
		f.lossAndGrad(batch, s)
		analytic := map[*param][]float32{}
		for _, p := range f.params() {
			analytic[p] = append([]float32(nil), p.g...)
		}
		checked := 0
		for _, p := range f.params() {
			for i := range p.w {
				num := numericGrad(p.w, i, func() float64 { return f.lossAndGrad(batch, s) })
				got := float64(analytic[p][i])
				if gradMismatch(got, num) {
					t.Errorf("wd=%v %s[%d]: analytic %v, numeric %v", wd, p.name, i, got, num)
				}
				checked++
			}
		}
		if want := 2*hidden*dim + hidden + dim + dim; checked != want {
			t.Fatalf("checked %d entries, want %d", checked, want)
		}
	}
}

func TestFinetuneLearningReducesLoss(t *testing.T) {
	for _, opt := range []string{"sgd", "adam"} {
		w := newWorld(t, 12, 16, 4, 8, true)
		cfg := testCfg("finetune", 16)
		cfg.Finetune.Optimizer, cfg.Finetune.Steps = opt, 1
		cfg.LogitScale = 3 // soft enough that the starting loss is far from 0
		cfg.Finetune.LR = 0.5
		if opt == "adam" {
			cfg.Finetune.LR = 0.01
		}
		f := mustNew(t, cfg, w.labels).(*Finetune)
		b := w.batch()
		start := f.lossAndGrad(b, w.labels.Current())
		for range 30 {
			if err := f.Learn(b); err != nil {
				t.Fatal(err)
			}
		}
		end := f.lossAndGrad(b, w.labels.Current())
		if !(end < 0.7*start) {
			t.Errorf("%s: loss %v → %v, expected a clear decrease", opt, start, end)
		}
	}
}

func TestSmoother(t *testing.T) {
	a, b, c := ID(10), ID(11), ID(12)
	tests := []struct {
		frames int
		seq    []ID
		want   ID
		share  float32
	}{
		{3, []ID{a}, a, 1},
		{3, []ID{a, b}, b, 0.5},              // tie: most recent wins
		{3, []ID{a, a, b}, a, 2.0 / 3},       // one flicker ignored
		{3, []ID{a, a, b, b}, b, 2.0 / 3},    // window slid past the first a
		{5, []ID{a, b, c, a, c}, c, 2.0 / 5}, // tie a/c: c was later
		{1, []ID{a, b}, b, 1},
	}
	for _, tc := range tests {
		s := NewSmoother(tc.frames)
		var got ID
		var share float32
		for _, id := range tc.seq {
			got, share = s.Add(id)
		}
		if got != tc.want || math.Abs(float64(share-tc.share)) > 1e-6 {
			t.Errorf("frames=%d %v: got %v/%v, want %v/%v", tc.frames, tc.seq, got, share, tc.want, tc.share)
		}
	}
	s := NewSmoother(3)
	s.Add(a)
	s.Add(a)
	s.Reset()
	if got, share := s.Add(b); got != b || share != 1 {
		t.Errorf("after Reset: %v/%v", got, share)
	}
}
