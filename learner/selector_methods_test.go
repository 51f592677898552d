package learner

import (
	"bytes"
	"errors"
	"testing"
)

// The selector-based methods (moe, analytic) against the Method contract,
// in the style of methods_test.go and fleet_test.go.

var selectorMethods = []string{"moe", "analytic"}

// testSelCfg is a small configuration of a selector-based method.
func testSelCfg(name string, dim int) (Config, func(*Labels) (Method, error)) {
	cfg := testCfg(name, dim)
	return cfg, func(l *Labels) (Method, error) {
		switch name {
		case "moe":
			return NewMoE(cfg, testMoEConfig(), l, nil)
		default:
			ac := DefaultAnalyticConfig()
			ac.Features = 64
			return NewAnalytic(cfg, ac, l, nil)
		}
	}
}

func newSel(t testing.TB, name string, l *Labels) Method {
	t.Helper()
	_, mk := testSelCfg(name, l.Dim())
	m, err := mk(l)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// selDevice is device() for the selector-based methods.
func selDevice(t *testing.T, w *world, name string) (Method, *Labels) {
	t.Helper()
	b, err := w.labels.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	l := NewLabels(w.labels.Dim())
	if err := l.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return newSel(t, name, l), l
}

func TestSelectorMethodsRegistered(t *testing.T) {
	for _, name := range selectorMethods {
		l := NewLabels(8)
		cfg := testCfg(name, 8)
		m, err := New(cfg, l, nil)
		if err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		if m.Name() != name || m.Dim() != 8 {
			t.Errorf("New(%s) = %s dim %d", name, m.Name(), m.Dim())
		}
		if _, ok := m.(Routed); !ok {
			t.Errorf("%s is not Routed", name)
		}
		if _, ok := m.(interface{ BeginTask() }); !ok {
			t.Errorf("%s has no BeginTask()", name)
		}
	}
}

func TestSelectorMethodsLearnUnnamedClasses(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 3, 32, 6, 10, false)
			m := newSel(t, name, w.labels)
			if acc := accuracy(t, m, w.labels, w.test, w.testY); acc != 0 {
				t.Fatalf("accuracy before learning unnamed classes = %v, want 0", acc)
			}
			mustLearn(t, m, w.batch())
			if acc := accuracy(t, m, w.labels, w.test, w.testY); acc < 0.9 {
				t.Fatalf("held-out accuracy %v < 0.9", acc)
			}
		})
	}
}

func TestSelectorMethodsZeroShotStart(t *testing.T) {
	w := newWorld(t, 4, 16, 5, 4, true)
	zs := predictAll(t, mustNew(t, testCfg("zeroshot", 16), w.labels), w.test)
	for _, name := range selectorMethods {
		got := predictAll(t, newSel(t, name, w.labels), w.test)
		if d := maxAbsDiff(got, zs); d != 0 {
			t.Errorf("%s differs from zeroshot before learning by %v", name, d)
		}
	}
}

func TestSelectorMethodsRejectBadInput(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 5, 8, 3, 3, false)
			m := newSel(t, name, w.labels)
			mustLearn(t, m, w.batch()[:3])
			before, _ := m.Snapshot()
			good := w.train[0]
			cases := []struct {
				name  string
				batch []Example
				want  error
			}{
				{"wrong dim", []Example{{Emb: good, Label: w.ids[0]}, {Emb: good[:4], Label: w.ids[0]}}, ErrDim},
				{"unknown label", []Example{{Emb: good, Label: w.ids[0]}, {Emb: good, Label: IDFor("never registered")}}, ErrUnknownLabel},
				{"zero id", []Example{{Emb: good}}, ErrInvalidID},
				{"nan", []Example{{Emb: append([]float32{float32(nan())}, good[1:]...), Label: w.ids[0]}}, ErrBadEmbedding},
				{"zero vector", []Example{{Emb: make([]float32, 8), Label: w.ids[0]}}, ErrBadEmbedding},
			}
			for _, tc := range cases {
				if err := m.Learn(tc.batch); !errors.Is(err, tc.want) {
					t.Errorf("%s: Learn = %v, want %v", tc.name, err, tc.want)
				}
			}
			if after, _ := m.Snapshot(); !bytes.Equal(before, after) {
				t.Errorf("a rejected batch changed the state")
			}
			if _, err := m.Predict(good[:3], nil); !errors.Is(err, ErrDim) {
				t.Errorf("Predict wrong dim = %v", err)
			}
			if _, err := m.(Routed).Route(good[:3]); !errors.Is(err, ErrDim) {
				t.Errorf("Route wrong dim = %v", err)
			}
			if _, err := m.Delta(m.BaseVersion() + 1); !errors.Is(err, ErrBaseMismatch) {
				t.Errorf("Delta wrong base = %v", err)
			}
		})
	}
}

func TestSelectorMethodsSnapshotRestore(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 6, 16, 4, 6, false)
			m := newSel(t, name, w.labels)
			mustLearn(t, m, w.split(0, 1))
			m.(interface{ BeginTask() }).BeginTask()
			mustLearn(t, m, w.split(2, 3))
			if _, err := m.Delta(0); err != nil { // an export in flight is state too
				t.Fatal(err)
			}
			snap, err := m.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			want := predictAll(t, m, w.test)
			fresh := newSel(t, name, w.labels)
			if err := fresh.Restore(snap); err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(predictAll(t, fresh, w.test), want); d != 0 {
				t.Errorf("restored method predicts differently (max diff %v)", d)
			}
			if again, _ := fresh.Snapshot(); !bytes.Equal(again, snap) {
				t.Errorf("snapshot of restored method differs from original snapshot")
			}
			extra := []Example{{Emb: w.test[0], Label: w.testY[0]}}
			mustLearn(t, m, extra)
			mustLearn(t, fresh, extra)
			if d := maxAbsDiff(predictAll(t, fresh, w.test), predictAll(t, m, w.test)); d > 1e-6 {
				t.Errorf("after one more example restored and original differ by %v", d)
			}
			for _, other := range append([]string{"ncm", "finetune"}, selectorMethods...) {
				if other == name {
					continue
				}
				var o Method
				if other == "ncm" || other == "finetune" {
					o = mustNew(t, testCfg(other, 16), w.labels)
				} else {
					o = newSel(t, other, w.labels)
				}
				if err := o.Restore(snap); !errors.Is(err, ErrIncompatible) {
					t.Errorf("%s restored a %s snapshot: %v", other, name, err)
				}
			}
			for _, cut := range []int{1, len(snap) / 2} {
				if err := newSel(t, name, w.labels).Restore(snap[:len(snap)-cut]); !errors.Is(err, ErrCorrupt) {
					t.Errorf("truncated snapshot: %v, want ErrCorrupt", err)
				}
			}
		})
	}
}

func TestSelectorMethodsRestoreRejectsOtherShape(t *testing.T) {
	w := newWorld(t, 6, 8, 2, 2, false)
	a := newSel(t, "analytic", w.labels)
	snap, _ := a.Snapshot()
	cfg := testCfg("analytic", 8)
	for _, tc := range []struct {
		name string
		mod  func(*Config, *AnalyticConfig)
	}{
		{"features", func(_ *Config, ac *AnalyticConfig) { ac.Features = 32 }},
		{"seed", func(c *Config, _ *AnalyticConfig) { c.Seed = 99 }},
		{"selector width", func(_ *Config, ac *AnalyticConfig) { ac.Selector.Width = 4 }},
	} {
		c, ac := cfg, DefaultAnalyticConfig()
		ac.Features = 64
		tc.mod(&c, &ac)
		o, err := NewAnalytic(c, ac, w.labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Restore(snap); !errors.Is(err, ErrIncompatible) {
			t.Errorf("analytic with other %s restored: %v", tc.name, err)
		}
	}
	m := newSel(t, "moe", w.labels)
	snap, _ = m.Snapshot()
	mc := testMoEConfig()
	mc.Hidden = 3
	o, _ := NewMoE(testCfg("moe", 8), mc, w.labels, nil)
	if err := o.Restore(snap); !errors.Is(err, ErrIncompatible) {
		t.Errorf("moe with other hidden size restored: %v", err)
	}
}

func TestSelectorMethodsConcurrentPredictLearn(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 8, 16, 3, 8, true)
			m := newSel(t, name, w.labels)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range w.train {
					_ = m.Learn([]Example{{Emb: w.train[i], Label: w.trainY[i]}})
				}
				_, _ = m.Delta(m.BaseVersion())
			}()
			var dst []float32
			for range 50 {
				var err error
				if dst, err = m.Predict(w.test[0], dst); err != nil {
					t.Error(err)
				}
				_ = m.Footprint()
			}
			<-done
		})
	}
}

// TestSelectorMethodsMissedExportNotLost: if the server merged without this
// device's delta, its learning is kept and re-exported against the new base.
func TestSelectorMethodsMissedExportNotLost(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 23, 16, 3, 6, true)
			a, _ := selDevice(t, w, name)
			b, _ := selDevice(t, w, name)
			mustLearn(t, a, w.split(0))
			mustLearn(t, b, w.split(1))
			if _, err := a.Delta(0); err != nil { // exported, but the server never got it
				t.Fatal(err)
			}
			db, _ := b.Delta(0)
			merged, _ := MergeDeltas(1, db)
			if err := a.ApplyMerged(merged); err != nil {
				t.Fatal(err)
			}
			next, err := a.Delta(1)
			if err != nil {
				t.Fatal(err)
			}
			if next.Empty() {
				t.Fatalf("a's own learning vanished after a merge that did not include it")
			}
			if err := b.ApplyMerged(merged); err != nil {
				t.Fatal(err)
			}
			m2, _ := MergeDeltas(2, next)
			for _, d := range []Method{a, b} {
				if err := d.ApplyMerged(m2); err != nil {
					t.Fatal(err)
				}
			}
			if diff := maxAbsDiff(predictAll(t, a, w.test), predictAll(t, b, w.test)); diff > 1e-3 {
				t.Errorf("devices disagree after both rounds by %v", diff)
			}
		})
	}
}

// TestSelectorMethodsSnapshotKeepsSyncState: a restart between export and
// merge must not double-count this device's contribution.
func TestSelectorMethodsSnapshotKeepsSyncState(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 29, 16, 2, 6, true)
			a, la := selDevice(t, w, name)
			mustLearn(t, a, w.batch())
			da, _ := a.Delta(0)
			snap, _ := a.Snapshot()
			restarted := newSel(t, name, la)
			if err := restarted.Restore(snap); err != nil {
				t.Fatal(err)
			}
			m, _ := MergeDeltas(1, da)
			for _, d := range []Method{a, restarted} {
				if err := d.ApplyMerged(m); err != nil {
					t.Fatal(err)
				}
			}
			if diff := maxAbsDiff(predictAll(t, restarted, w.test), predictAll(t, a, w.test)); diff > 1e-5 {
				t.Errorf("restarted device differs after merge by %v", diff)
			}
			if next, _ := a.Delta(1); !next.Empty() && name == "analytic" {
				t.Errorf("delta right after a merge that included everything is not empty: %d chunks", len(next.Classes))
			}
		})
	}
}

// TestSelectorMethodsApplyRefuses: deltas of another method, against
// another base, or carrying statistics the method does not know are
// refused without changing anything.
func TestSelectorMethodsApplyRefuses(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 28, 8, 2, 6, true)
			a, _ := selDevice(t, w, name)
			b, _ := selDevice(t, w, name)
			mustLearn(t, a, w.batch())
			da, _ := a.Delta(0)
			good, _ := MergeDeltas(1, da)
			before, _ := b.Snapshot()
			bad := func(mod func(d *Delta)) *Delta {
				c := *good
				c.Classes = append([]ClassStats(nil), good.Classes...)
				c.Tensors = append([]Tensor(nil), good.Tensors...)
				mod(&c)
				return &c
			}
			cases := []struct {
				name string
				d    *Delta
				want error
			}{
				{"other method", bad(func(d *Delta) { d.Method = "ncm" }), ErrIncompatible},
				{"other base", bad(func(d *Delta) { d.BaseVersion, d.Version = 4, 5 }), ErrBaseMismatch},
				{"unknown statistics", bad(func(d *Delta) {
					d.Classes = append(d.Classes, ClassStats{Label: statKey(0x1234, 0, 0), Sum: make([]float64, 8)})
				}), ErrIncompatible},
				{"short chunk", bad(func(d *Delta) {
					d.Classes[0] = ClassStats{Label: d.Classes[0].Label, Sum: d.Classes[0].Sum[:3]}
				}), ErrDim},
			}
			if name == "moe" {
				cases = append(cases, struct {
					name string
					d    *Delta
					want error
				}{"unknown tensor", bad(func(d *Delta) {
					d.Tensors = append(d.Tensors, Tensor{Name: "nope", Shape: []int{1}, Data: []float32{1}})
				}), ErrIncompatible})
			}
			for _, tc := range cases {
				if err := b.ApplyMerged(tc.d); !errors.Is(err, tc.want) {
					t.Errorf("%s: ApplyMerged = %v, want %v", tc.name, err, tc.want)
				}
			}
			if after, _ := b.Snapshot(); !bytes.Equal(before, after) {
				t.Errorf("a refused delta changed the state")
			}
			if err := b.ApplyMerged(good); err != nil {
				t.Fatalf("the unmodified delta: %v", err)
			}
		})
	}
}

func TestSelectorMethodsFootprint(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			cfg := testCfg(name, 16)
			named, err := MeasureFootprint(cfg, 4, 6, true)
			if err != nil {
				t.Fatal(err)
			}
			unnamed, err := MeasureFootprint(cfg, 8, 6, false)
			if err != nil {
				t.Fatal(err)
			}
			if named.Fixed <= 0 || named.Total < named.Fixed {
				t.Errorf("named footprint %+v", named)
			}
			if unnamed.Total <= named.Total || unnamed.Classes == 0 || unnamed.PerClass <= 0 {
				t.Errorf("footprints named %+v unnamed %+v: more learned classes must cost more", named, unnamed)
			}
		})
	}
}
