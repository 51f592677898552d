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
	l := cloneLabels(t, w)
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
			checkLearnsUnnamed(t, newSel(t, name, w.labels), w, 1)
		})
	}
}

func TestSelectorMethodsZeroShotStart(t *testing.T) {
	checkZeroShotStart(t, selectorMethods, 0)
}

func TestSelectorMethodsSnapshotRestore(t *testing.T) {
	others := append([]string{"ncm", "finetune"}, selectorMethods...)
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
			checkSnapshotRoundTrip(t, name, m, w, []Example{{Emb: w.test[0], Label: w.testY[0]}}, others)
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

// TestSelectorMethodsSnapshotKeepsSyncState: a restart between export and
// merge must not double-count this device's contribution.
func TestSelectorMethodsSnapshotKeepsSyncState(t *testing.T) {
	for _, name := range selectorMethods {
		t.Run(name, func(t *testing.T) {
			a := checkSnapshotKeepsSyncState(t, name, newWorld(t, 29, 16, 2, 6, true))
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
