package learner

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func newTestCoLeCLIP(t *testing.T, l *Labels, o CoLeCLIPOptions) *CoLeCLIP {
	t.Helper()
	m, err := NewCoLeCLIP(testCfg("coleclip", l.Dim()), o, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCoLeCLIPMomentumTable: class a has text (1,0) and is taught images
// at (0,1) of total weight W, so v = normalize(κ(1,0) + (1-κ)(0,1)) with
// κ = ρ + (1-ρ)m^W; the logit of image (1,0) is 100·κ/√(κ²+(1-κ)²).
func TestCoLeCLIPMomentumTable(t *testing.T) {
	tests := []struct {
		m, rho float64
		batch  []float32 // example weights
	}{
		{0.5, 0.2, []float32{1}},
		{0.5, 0.2, []float32{1, 1}},
		{0.5, 0.2, []float32{2}}, // one example of weight 2 = two of weight 1
		{0.9, 0, []float32{1, 1, 1}},
		{0.9, 0.5, make([]float32, 40)}, // many examples: κ → ρ
	}
	for _, tc := range tests {
		l, a, b := twoD(t)
		m := newTestCoLeCLIP(t, l, CoLeCLIPOptions{Momentum: float32(tc.m), Anchor: float32(tc.rho)})
		var batch []Example
		var w float64
		for _, x := range tc.batch {
			batch = append(batch, Example{Emb: []float32{0, 3}, Label: a, Weight: x})
			w += float64(Example{Weight: x}.W())
		}
		if err := m.Learn(batch); err != nil {
			t.Fatal(err)
		}
		k := tc.rho + (1-tc.rho)*math.Pow(tc.m, w)
		want := 100 * k / math.Hypot(k, 1-k)
		got, _ := m.Predict([]float32{1, 0}, nil)
		if math.Abs(float64(got[1])-want) > 1e-3 {
			t.Errorf("m=%v ρ=%v W=%v: logit %v, want %v", tc.m, tc.rho, w, got[1], want)
		}
		if got[2] != NoLogit { // b: no text, never taught
			t.Errorf("untaught class without text has logit %v", got[2])
		}
		_ = b
	}
}

func TestCoLeCLIPUnnamedAndUnseen(t *testing.T) {
	l, a, b := twoD(t)
	c, _ := l.Add("c")
	_ = l.SetText(c, []float32{0.6, 0.8})
	m := newTestCoLeCLIP(t, l, DefaultCoLeCLIPOptions())
	if err := m.Learn([]Example{{Emb: []float32{1, -1}, Label: b}, {Emb: []float32{1, -2}, Label: b, Weight: 0.5}}); err != nil {
		t.Fatal(err)
	}
	// b has no text: its vocabulary is the normalised mean of its
	// normalised examples.
	s1 := []float64{1 / math.Sqrt2, -1 / math.Sqrt2}
	s2 := []float64{1 / math.Sqrt(5), -2 / math.Sqrt(5)}
	mean := []float64{s1[0] + 0.5*s2[0], s1[1] + 0.5*s2[1]}
	n := math.Hypot(mean[0], mean[1])
	got := m.Vocabulary(b)
	if len(got) != 2 || math.Abs(float64(got[0])-mean[0]/n) > 1e-6 || math.Abs(float64(got[1])-mean[1]/n) > 1e-6 {
		t.Errorf("unnamed class vocabulary %v, want %v", got, []float64{mean[0] / n, mean[1] / n})
	}
	// a and c were never taught: their text embedding.
	if v := m.Vocabulary(c); !near(v[0], 0.6) || !near(v[1], 0.8) {
		t.Errorf("unseen class vocabulary %v, want its text", v)
	}
	if v := m.Vocabulary(a); !near(v[0], 1) || !near(v[1], 0) {
		t.Errorf("unseen class vocabulary %v, want its text", v)
	}
}

// TestCoLeCLIPBeginTaskAnchors: a task boundary freezes the vector as the
// new anchor; the next task moves it from there and, however much it sees,
// keeps ρ of it.
func TestCoLeCLIPBeginTaskAnchors(t *testing.T) {
	l, a, _ := twoD(t)
	o := CoLeCLIPOptions{Momentum: 0.5, Anchor: 0.3}
	m := newTestCoLeCLIP(t, l, o)
	mustLearn(t, m, []Example{{Emb: []float32{0, 1}, Label: a}})
	v1 := m.Vocabulary(a)
	m.BeginTask()
	if v := m.Vocabulary(a); maxAbsDiff([][]float32{v}, [][]float32{v1}) > 1e-7 {
		t.Fatalf("BeginTask moved the vector: %v → %v", v1, v)
	}
	many := make([]Example, 60)
	for i := range many {
		many[i] = Example{Emb: []float32{-1, 0}, Label: a}
	}
	mustLearn(t, m, many)
	// κ = 0.3 + 0.7·0.5^60 ≈ 0.3: v = normalize(0.3·v1 + 0.7·(-1,0))
	want := mix(v1, []float32{-1, 0}, 0.3+0.7*math.Pow(0.5, 60))
	if v := m.Vocabulary(a); maxAbsDiff([][]float32{v}, [][]float32{want}) > 1e-6 {
		t.Errorf("after task 2: %v, want %v (anchored at the task-1 value)", v, want)
	}
	// Without the boundary the anchor would still be the text (1,0).
	m2 := newTestCoLeCLIP(t, l, o)
	mustLearn(t, m2, []Example{{Emb: []float32{0, 1}, Label: a}})
	mustLearn(t, m2, many)
	if v := m2.Vocabulary(a); maxAbsDiff([][]float32{v}, [][]float32{want}) < 1e-3 {
		t.Errorf("no task boundary, same result: the anchor does not matter")
	}
}

// TestCoLeCLIPOrderFree: within a task the update depends on the examples,
// not their order or batching.
func TestCoLeCLIPOrderFree(t *testing.T) {
	w := newWorld(t, 31, 16, 3, 8, true)
	o := DefaultCoLeCLIPOptions()
	o.NewTaskOnNewClass = false
	m1 := newTestCoLeCLIP(t, w.labels, o)
	m2 := newTestCoLeCLIP(t, w.labels, o)
	b := w.batch()
	mustLearn(t, m1, b)
	rng := rand.New(rand.NewPCG(1, 1))
	rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	for _, e := range b {
		mustLearn(t, m2, []Example{e})
	}
	if d := maxAbsDiff(predictAll(t, m1, w.test), predictAll(t, m2, w.test)); d > 1e-4 {
		t.Errorf("order or batching changed predictions by %v", d)
	}
}

// TestCoLeCLIPFleetMergeExact: after one round every device holds the
// vocabulary of one device that learned all the round's examples as one
// task — named classes (anchored at text) and an unnamed one alike.
func TestCoLeCLIPFleetMergeExact(t *testing.T) {
	w := newWorld(t, 32, 24, 4, 8, true)
	u, _ := w.labels.AddUnnamed()
	rng := rand.New(rand.NewPCG(3, 3))
	extra := SyntheticClasses(rng, 24, 1, 6, 0.5)[0].Examples
	var ue []Example
	for _, x := range extra {
		ue = append(ue, Example{Emb: x, Label: u, Weight: 1.5})
	}
	cfg := testCfg("coleclip", 24)
	a, la := device(t, w, cfg)
	b, _ := device(t, w, cfg)
	ref, _ := device(t, w, cfg)
	mustLearn(t, a, w.split(0, 1))
	mustLearn(t, a, ue[:2])
	mustLearn(t, b, w.split(1, 2))
	mustLearn(t, b, ue[2:])
	all := append(append(append(w.split(0, 1), ue[:2]...), w.split(1, 2)...), ue[2:]...)
	mustLearn(t, ref, all)
	syncRound(t, 1, a, b)
	want := predictAll(t, ref, w.test)
	for name, d := range map[string]Method{"a": a, "b": b} {
		if diff := maxAbsDiff(predictAll(t, d, w.test), want); diff > 1e-4 {
			t.Errorf("device %s differs from the single-device reference by %v", name, diff)
		}
	}
	va, vr := a.(*CoLeCLIP).Vocabulary(u), ref.(*CoLeCLIP).Vocabulary(u)
	if len(va) == 0 || maxAbsDiff([][]float32{va}, [][]float32{vr}) > 1e-5 {
		t.Errorf("unnamed class vocabulary after merge %v, reference %v", va, vr)
	}
	if _, ok := la.Current().Index(u); !ok {
		t.Errorf("merge did not register the unnamed class")
	}
}

func TestCoLeCLIPOptionsValidate(t *testing.T) {
	tests := []struct {
		o  CoLeCLIPOptions
		ok bool
	}{
		{DefaultCoLeCLIPOptions(), true},
		{CoLeCLIPOptions{Momentum: 0.5}, true},
		{CoLeCLIPOptions{Momentum: 0, Anchor: 0.1}, false},
		{CoLeCLIPOptions{Momentum: 1, Anchor: 0.1}, false},
		{CoLeCLIPOptions{Momentum: 0.5, Anchor: 1}, false},
		{CoLeCLIPOptions{Momentum: 0.5, Anchor: -0.1}, false},
	}
	for _, tc := range tests {
		err := tc.o.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%+v: Validate = %v", tc.o, err)
		}
	}
}
