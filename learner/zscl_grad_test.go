package learner

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// headFixture is a tiny head moved away from its identity start, with
// three text classes (p, q, s), one learned class vector (r) and a batch.
type headFixture struct {
	h     *Head
	l     *Labels
	ids   []ID
	batch []Example
	rng   *rand.Rand
}

func newHeadFixture(t *testing.T, opts HeadOptions) *headFixture {
	t.Helper()
	const dim, hidden = 5, 3
	rng := rand.New(rand.NewPCG(17, 3))
	l, ids, batch := gradFixture(t, rng, dim, "p", "q", "r", "s")
	cfg := testCfg("finetune", dim)
	cfg.Finetune.Hidden, cfg.LogitScale, cfg.Finetune.WeightDecay = hidden, 5, 0.03
	h, err := NewHead(cfg, opts, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.f.imprint(batch, l.Current())
	h.trackNewClasses()
	jitter(rng, h.f.params())
	return &headFixture{h: h, l: l, ids: ids, batch: batch, rng: rng}
}

// jitter moves the anchor away from the current weights so the L2 and
// Mod-X terms are not at their minimum.
func (g *headFixture) jitterAnchor() {
	g.h.anchor = g.h.copyWeights()
	for _, w := range g.h.anchor.adapter {
		for i := range w {
			w[i] += float32(g.rng.NormFloat64() * 0.3)
		}
	}
	for _, w := range g.h.anchor.class {
		for i := range w {
			w[i] += float32(g.rng.NormFloat64() * 0.3)
		}
	}
}

// checkHeadGrad compares the gradient term leaves in the params with central
// finite differences of term's value, for every parameter entry.
func checkHeadGrad(t *testing.T, h *Head, name string, term func() float64) {
	t.Helper()
	params := h.f.params()
	for _, p := range params {
		clear(p.g)
	}
	term()
	analytic := map[*param][]float32{}
	nonzero := false
	for _, p := range params {
		analytic[p] = append([]float32(nil), p.g...)
		for _, g := range p.g {
			nonzero = nonzero || g != 0
		}
	}
	if !nonzero {
		t.Fatalf("%s: gradient is all zero; the fixture does not exercise the term", name)
	}
	bad := 0
	for _, p := range params {
		for i := range p.w {
			num := numericGrad(p.w, i, term)
			got := float64(analytic[p][i])
			if gradMismatch(got, num) {
				if bad++; bad < 10 {
					t.Errorf("%s: %s[%d]: analytic %v, numeric %v", name, p.name, i, got, num)
				}
			}
		}
	}
}

func TestHeadLossGradients(t *testing.T) {
	s := func(g *headFixture) *LabelSet { return g.l.Current() }
	tests := []struct {
		name string
		opts func() HeadOptions
		term func(g *headFixture) float64
	}{
		{"ce", func() HeadOptions { o := ModXHeadOptions(); o.ModX.Weight = 0; return o },
			func(g *headFixture) float64 { return g.h.taskLoss(g.batch, s(g), nil) }},
		{"ce+label smoothing", func() HeadOptions { o := ZSCLHeadOptions(); o.LabelSmoothing = 0.3; return o },
			func(g *headFixture) float64 { return g.h.taskLoss(g.batch, s(g), nil) }},
		{"sit", func() HeadOptions { o := SITHeadOptions(); o.LabelSmoothing = 0.1; return o },
			func(g *headFixture) float64 { return g.h.taskLoss(g.batch, s(g), g.h.presentMask(g.batch, s(g))) }},
		{"weight decay", ZSCLHeadOptions, func(g *headFixture) float64 { return g.h.weightDecay() }},
		{"zscl distill", ZSCLHeadOptions, func(g *headFixture) float64 {
			texts := [][]float32{s(g).Text(1), s(g).Text(2), headFixtureUnit(g, 11)}
			return g.h.distill([]int{0, 1, 2, 3}, texts)
		}},
		{"zscl l2", ZSCLHeadOptions, func(g *headFixture) float64 { return g.h.l2() }},
		{"modx", ModXHeadOptions, func(g *headFixture) float64 { return g.h.modx(g.batch, s(g), nil) }},
		{"modx no amend", func() HeadOptions { o := ModXHeadOptions(); o.ModX.Amend = false; o.ModX.Temperature = 1; return o },
			func(g *headFixture) float64 { return g.h.modx(g.batch, s(g), nil) }},
		{"modx+sit", func() HeadOptions { o := ModXHeadOptions(); o.Loss = LossSIT; return o },
			func(g *headFixture) float64 { return g.h.modx(g.batch, s(g), g.h.presentMask(g.batch, s(g))) }},
		{"all terms", func() HeadOptions { o := ZSCLHeadOptions(); o.ModX = DefaultModXOptions(); return o },
			func(g *headFixture) float64 {
				texts := [][]float32{s(g).Text(1), s(g).Text(4)}
				return g.h.lossAndGrad(g.batch, s(g), nil, []int{1, 3}, texts)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newHeadFixture(t, tc.opts())
			if g.h.anchor != nil {
				g.jitterAnchor()
			}
			for range 4 {
				if err := g.h.ObserveReference(randUnit(g.rng, 5)); err != nil {
					t.Fatal(err)
				}
			}
			checkHeadGrad(t, g.h, tc.name, func() float64 { return tc.term(g) })
		})
	}
}

func headFixtureUnit(g *headFixture, seed uint64) []float32 {
	return randUnit(rand.New(rand.NewPCG(seed, seed)), 5)
}

// TestSITAbsentClassesGetNoGradient: with the SIT loss, classes absent
// from the batch (and window) take no part: a learned vector of an absent
// class gets exactly zero gradient, and moving it or an absent class's
// text does not change the loss.
func TestSITAbsentClassesGetNoGradient(t *testing.T) {
	g := newHeadFixture(t, SITHeadOptions())
	ls := g.l.Current()
	// Only p and r (learned vector) are present.
	batch := []Example{g.batch[0], g.batch[1]}
	mask := g.h.presentMask(batch, ls)
	for i, want := range []bool{false, true, false, true, false} { // bg, p, q, r, s
		if mask[i] != want {
			t.Fatalf("present mask %v", mask)
		}
	}
	// Make q (text) absent and give the test a learned absent class too:
	// imprint a vector for an unnamed class u.
	u, _ := g.l.AddUnnamed()
	ls = g.l.Current()
	g.h.f.imprint([]Example{{Emb: randUnit(g.rng, 5), Label: u}}, ls)
	mask = g.h.presentMask(batch, ls)
	for _, p := range g.h.f.params() {
		clear(p.g)
	}
	loss := g.h.taskLoss(batch, ls, mask)
	for _, v := range g.h.f.class[u].g {
		if v != 0 {
			t.Fatalf("absent learned class got gradient %v", g.h.f.class[u].g)
		}
	}
	rp := g.h.f.class[g.ids[2]]
	nonzero := false
	for _, v := range rp.g {
		nonzero = nonzero || v != 0
	}
	if !nonzero {
		t.Fatal("present learned class got no gradient")
	}
	for i := range g.h.f.class[u].w {
		g.h.f.class[u].w[i] += 0.7
	}
	if err := g.l.SetText(g.ids[1], randUnit(g.rng, 5)); err != nil { // q's text changes
		t.Fatal(err)
	}
	if again := g.h.taskLoss(batch, g.l.Current(), mask); math.Abs(again-loss) > 1e-12 {
		t.Fatalf("loss depends on absent classes: %v then %v", loss, again)
	}
	// The plain cross-entropy does depend on them.
	ce := g.h.taskLoss(batch, g.l.Current(), nil)
	for i := range g.h.f.class[u].w {
		g.h.f.class[u].w[i] -= 1.5
	}
	if ce2 := g.h.taskLoss(batch, g.l.Current(), nil); ce2 == ce {
		t.Fatal("plain CE ignores an absent class; the SIT check above proves nothing")
	}
}

func TestSITWindow(t *testing.T) {
	tests := []struct {
		window int
		past   []int // fixture label indices learned before
		want   []bool
	}{
		{0, []int{1, 3}, []bool{false, true, false, false, false}},
		{1, []int{1, 3}, []bool{false, true, false, false, true}},
		{2, []int{1, 3}, []bool{false, true, true, false, true}},
		{5, nil, []bool{false, true, false, false, false}},
	}
	for _, tc := range tests {
		o := SITHeadOptions()
		o.SITWindow = tc.window
		g := newHeadFixture(t, o)
		for _, i := range tc.past {
			g.h.remember([]Example{{Label: g.ids[i]}})
		}
		got := g.h.presentMask(g.batch[:1], g.l.Current()) // p only
		for i := range tc.want {
			if got[i] != tc.want[i] {
				t.Errorf("window %d after %v: mask %v, want %v", tc.window, tc.past, got, tc.want)
				break
			}
		}
	}
	// A batch of two classes is pure SIT: the window does not count.
	o := SITHeadOptions()
	g := newHeadFixture(t, o)
	g.h.remember([]Example{{Label: g.ids[3]}})
	got := g.h.presentMask(g.batch[:2], g.l.Current()) // p and r
	if want := []bool{false, true, false, true, false}; !slices.Equal(got, want) {
		t.Errorf("two-class batch: mask %v, want %v", got, want)
	}
	if m := newHeadFixture(t, ZSCLHeadOptions()).h.presentMask(nil, NewLabels(5).Current()); m != nil {
		t.Errorf("cross-entropy head built a SIT mask")
	}
}

// TestAdapterForwardMatchesFinetune guards the duplicated forward pass used
// for old and averaged weights.
func TestAdapterForwardMatchesFinetune(t *testing.T) {
	g := newHeadFixture(t, ZSCLHeadOptions())
	ws := g.h.copyWeights()
	for _, e := range g.batch {
		un := g.h.f.forward(e.Emb)
		un2 := adapterForward(ws, 5, 3, e.Emb, &g.h.sc)
		if un != un2 || maxAbsDiff([][]float32{g.h.f.sc.z}, [][]float32{g.h.sc.z}) != 0 {
			t.Fatalf("forward passes differ")
		}
	}
}
