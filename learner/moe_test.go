package learner

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

func testMoEConfig() MoEConfig {
	mc := DefaultMoEConfig()
	mc.Experts, mc.Hidden, mc.TopK = 4, 8, 2
	mc.LR, mc.Steps = 1e-2, 20
	return mc
}

func newTestMoE(t testing.TB, dim int, labels *Labels, mc MoEConfig) *MoE {
	t.Helper()
	m, err := NewMoE(testCfg("moe", dim), mc, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMoEGradient checks the hand-written backward pass (experts, top-k
// softmax gates, router, learned class vectors, weight decay) against
// central finite differences of the loss for every trainable entry.
func TestMoEGradient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wd     float32
		frozen int // expert frozen before the check (-1: none)
	}{
		{"plain", 0, -1},
		{"weight decay", 0.05, -1},
		{"frozen expert", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const dim = 5
			rng := rand.New(rand.NewPCG(9, 9))
			l, _, batch := gradFixture(t, rng, dim, "p", "q", "r")
			mc := testMoEConfig()
			mc.Experts, mc.Hidden, mc.TopK, mc.WeightDecay = 3, 3, 2, tc.wd
			cfg := testCfg("moe", dim)
			cfg.LogitScale = 5
			m, err := NewMoE(cfg, mc, l, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := m.newRouter(0)
			m.routers[0] = r
			m.imprint(batch, l.Current(), r)
			// Move away from the identity init so every path carries gradient,
			// and spread router scores so ±eps never flips the top-k choice.
			jitter(rng, m.params())
			for i := range r.b.w {
				r.b.w[i] = float32(2 * i)
			}
			if tc.frozen >= 0 {
				m.experts[tc.frozen].frozen = true
			}
			s := l.Current()
			m.lossAndGrad(batch, r, s)
			grads := map[*param][]float32{}
			for _, p := range m.params() {
				grads[p] = append([]float32(nil), p.g...)
			}
			checked, nonzero := 0, 0
			for _, p := range m.trainable(r) {
				for i := range p.w {
					num := numericGrad(p.w, i, func() float64 { return m.lossAndGrad(batch, r, s) })
					got := float64(grads[p][i])
					if gradMismatch(got, num) {
						t.Errorf("%s[%d]: analytic %v, numeric %v", p.name, i, got, num)
					}
					if got != 0 {
						nonzero++
					}
					checked++
				}
			}
			// Frozen experts get no gradient at all.
			for _, e := range m.experts {
				if !e.frozen {
					continue
				}
				for _, p := range e.params() {
					for i, g := range grads[p] {
						if g != 0 {
							t.Fatalf("frozen %s[%d] has gradient %v", p.name, i, g)
						}
					}
				}
			}
			if checked == 0 || nonzero < checked/4 {
				t.Fatalf("checked %d entries, %d with gradient: the check is vacuous", checked, nonzero)
			}
		})
	}
}

func TestMoEConfigValidate(t *testing.T) {
	if err := DefaultMoEConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*MoEConfig)
	}{
		{"no experts", func(c *MoEConfig) { c.Experts = 0 }},
		{"no hidden", func(c *MoEConfig) { c.Hidden = 0 }},
		{"top-k above experts", func(c *MoEConfig) { c.TopK = c.Experts + 1 }},
		{"top-0", func(c *MoEConfig) { c.TopK = 0 }},
		{"coverage above 1", func(c *MoEConfig) { c.FreezeCoverage = 1.1 }},
		{"zero lr", func(c *MoEConfig) { c.LR = 0 }},
		{"no steps", func(c *MoEConfig) { c.Steps = 0 }},
		{"negative decay", func(c *MoEConfig) { c.WeightDecay = -1 }},
		{"bad selector", func(c *MoEConfig) { c.Selector.Percentile = 2 }},
	} {
		c := DefaultMoEConfig()
		tc.mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
}

// TestMoEContinual: (a) learning a task lifts its accuracy far above
// zero-shot, (b) the next task barely moves the first (its experts are
// frozen, its router untouched), (c) a task never learned gets exactly the
// zero-shot predictions.
func TestMoEContinual(t *testing.T) {
	for _, tc := range []struct {
		name string
		dim  int
	}{{"d64", 64}, {"d128", 128}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newCLWorld(t, 41, tc.dim, 3, 5, 20, defaultCL)
			mc := DefaultMoEConfig()
			mc.Hidden = 16
			m := newTestMoE(t, tc.dim, w.labels, mc)
			var frozen []int
			w.checkContinual(t, m, 0.05, 0.85, func() string {
				frozen = m.Frozen()
				return fmt.Sprintf("frozen %v", frozen)
			})
			if len(frozen) == 0 {
				t.Errorf("no expert frozen after task 0")
			}
		})
	}
}

// TestMoEFreezing: after a task ends, the experts it used most and its
// router do not change while the next task trains; the rest may.
func TestMoEFreezing(t *testing.T) {
	const dim = 32
	w := newCLWorld(t, 42, dim, 2, 4, 10, defaultCL)
	m := newTestMoE(t, dim, w.labels, testMoEConfig())
	mustLearn(t, m, w.tasks[0].batch())
	m.BeginTask()
	if m.Task() != 1 {
		t.Fatalf("BeginTask opened task %d", m.Task())
	}
	frozen := m.Frozen()
	if len(frozen) == 0 || len(frozen) == len(m.experts) {
		t.Fatalf("frozen experts %v of %d", frozen, len(m.experts))
	}
	copyOf := func(ps []*param) [][]float32 {
		var out [][]float32
		for _, p := range ps {
			out = append(out, append([]float32(nil), p.w...))
		}
		return out
	}
	var frozenParams []*param
	for _, i := range frozen {
		frozenParams = append(frozenParams, m.experts[i].params()...)
	}
	frozenParams = append(frozenParams, m.routers[0].w, m.routers[0].b)
	before := copyOf(frozenParams)
	var free []*param
	for i, e := range m.experts {
		if !e.frozen {
			free = append(free, m.experts[i].params()...)
		}
	}
	freeBefore := copyOf(free)
	mustLearn(t, m, w.tasks[1].batch())
	for i, p := range frozenParams {
		for j := range p.w {
			if p.w[j] != before[i][j] {
				t.Fatalf("frozen %s changed while task 1 trained", p.name)
			}
		}
	}
	changed := false
	for i, p := range free {
		for j := range p.w {
			changed = changed || p.w[j] != freeBefore[i][j]
		}
	}
	if !changed {
		t.Errorf("no free expert trained on task 1")
	}
	// Resuming task 0 keeps its frozen experts frozen.
	if err := m.BeginTaskID(0); err != nil {
		t.Fatal(err)
	}
	for _, i := range frozen {
		if !m.experts[i].frozen {
			t.Errorf("expert %d thawed", i)
		}
	}
}

// TestMoEFleetAverages: devices with the same seed agree after a merge, a
// fresh device applying the merge lands in the same place, and the
// selector statistics are added exactly.
func TestMoEFleetAverages(t *testing.T) {
	w := newWorld(t, 43, 16, 3, 8, true)
	a, _ := selDevice(t, w, "moe")
	b, _ := selDevice(t, w, "moe")
	fresh, _ := selDevice(t, w, "moe")
	mustLearn(t, a, w.split(0, 1))
	mustLearn(t, b, w.split(2))
	merged := syncRound(t, 1, a, b)
	if merged.Examples != float64(len(w.train)) {
		t.Errorf("merged example weight %v, want %d", merged.Examples, len(w.train))
	}
	if err := fresh.ApplyMerged(merged); err != nil {
		t.Fatal(err)
	}
	pa := predictAll(t, a, w.test)
	for name, d := range map[string]Method{"b": b, "fresh": fresh} {
		if diff := maxAbsDiff(predictAll(t, d, w.test), pa); diff > 1e-3 {
			t.Errorf("device %s differs from a after the merge by %v", name, diff)
		}
	}
	if n := fresh.(*MoE).sel.Examples(0); n != int64(len(w.train)) {
		t.Errorf("fresh device's selector holds %d examples, want %d", n, len(w.train))
	}
	if next, _ := a.Delta(1); len(next.Tensors) != 0 || len(next.Classes) != 0 {
		t.Errorf("delta right after a merge: %d tensors, %d chunks", len(next.Tensors), len(next.Classes))
	}
}

func TestMoELearnedClassVectorsFreezeWithTheirTask(t *testing.T) {
	w := newWorld(t, 44, 16, 4, 6, false)
	m := newTestMoE(t, 16, w.labels, testMoEConfig())
	mustLearn(t, m, w.split(0, 1))
	m.BeginTask()
	v := append([]float32(nil), m.class[w.ids[0]].w...)
	mustLearn(t, m, w.split(2, 3))
	for i, x := range m.class[w.ids[0]].w {
		if x != v[i] {
			t.Fatalf("class vector of task 0 changed while task 1 trained")
		}
	}
	if m.classFrozen[w.ids[2]] {
		t.Fatalf("class vector of the open task is frozen")
	}
}
