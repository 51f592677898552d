package learner

import (
	"errors"
	"slices"
	"testing"
)

// seedMethods are the continual-learning methods of the seed article;
// these tests hold them to the contract methods_test.go holds the
// baselines to.
var seedMethods = []string{"zscl", "modx", "sit", "coleclip", "cllclip"}

func TestSeedMethodsRegistered(t *testing.T) {
	have := Methods()
	for _, name := range seedMethods {
		if !slices.Contains(have, name) {
			t.Fatalf("%s not registered (have %v)", name, have)
		}
		m := mustNew(t, testCfg(name, 8), NewLabels(8))
		if m.Name() != name || m.Dim() != 8 {
			t.Errorf("%s: Name %q Dim %d", name, m.Name(), m.Dim())
		}
		if _, ok := m.(TaskBoundary); !ok && name != "cllclip" {
			t.Errorf("%s does not take task boundaries", name)
		}
	}
}

func TestSeedMethodsLearnSeparableClasses(t *testing.T) {
	for _, name := range seedMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 3, 32, 6, 10, false)
			checkLearnsUnnamed(t, mustNew(t, testCfg(name, 32), w.labels), w, 3)
		})
	}
}

// TestSeedMethodsZeroShotStart: before learning every method predicts what
// zeroshot predicts.
func TestSeedMethodsZeroShotStart(t *testing.T) {
	checkZeroShotStart(t, seedMethods, 1e-3)
}

func TestSeedMethodsSnapshotRestore(t *testing.T) {
	others := append([]string{"finetune", "ncm"}, seedMethods...)
	for _, name := range seedMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 6, 16, 4, 6, false)
			m := mustNew(t, testCfg(name, 16), w.labels)
			if h, ok := m.(*Head); ok { // give zscl a reference set and text
				if err := h.ObserveReference(w.test[:5]...); err != nil {
					t.Fatal(err)
				}
				if err := h.AddReferenceText(w.test[7]); err != nil {
					t.Fatal(err)
				}
			}
			mustLearn(t, m, w.batch())
			seedBeginTask(m)
			mustLearn(t, m, w.batch()[:5])
			extra := []Example{{Emb: w.test[0], Label: w.testY[0]}, {Emb: w.test[9], Label: w.testY[9]}}
			checkSnapshotRoundTrip(t, name, m, w, extra, others)
		})
	}
}

// TestSeedMethodsFleetRound: two devices learn different classes, sync;
// both then know every class, agree on every prediction, and a second
// round without learning changes nothing.
func TestSeedMethodsFleetRound(t *testing.T) {
	for _, name := range seedMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 9, 24, 4, 8, false)
			cfg := testCfg(name, 24)
			a, la := device(t, w, cfg)
			b, _ := device(t, w, cfg)
			for range 3 {
				mustLearn(t, a, w.split(0, 1))
				mustLearn(t, b, w.split(2, 3))
			}
			merged := syncRound(t, 1, a, b)
			if merged.Method != name || len(merged.Classes)+len(merged.Tensors) == 0 {
				t.Fatalf("merged delta %s with %d classes, %d tensors", merged.Method, len(merged.Classes), len(merged.Tensors))
			}
			pa, pb := predictAll(t, a, w.test), predictAll(t, b, w.test)
			if d := maxAbsDiff(pa, pb); d > 1e-3 {
				t.Errorf("devices disagree after the merge by %v", d)
			}
			if acc := accuracy(t, a, la, w.test, w.testY); acc < 0.6 {
				t.Errorf("accuracy over both devices' classes after merge %v", acc)
			}
			syncRound(t, 2, a, b)
			if d := maxAbsDiff(predictAll(t, a, w.test), pa); d > 1e-5 {
				t.Errorf("an empty round changed predictions by %v", d)
			}
			if a.BaseVersion() != 2 || b.BaseVersion() != 2 {
				t.Errorf("base versions %d %d", a.BaseVersion(), b.BaseVersion())
			}
			d, err := a.Delta(2)
			if err != nil {
				t.Fatal(err)
			}
			d.Method = "other"
			d.BaseVersion, d.Version = 2, 3
			if err := a.ApplyMerged(d); !errors.Is(err, ErrIncompatible) {
				t.Errorf("delta of another method applied: %v", err)
			}
		})
	}
}

// TestSeedMethodsFleetKeepsLateLearning: what a device learns after its
// export survives the merge that includes the export.
func TestSeedMethodsFleetKeepsLateLearning(t *testing.T) {
	for _, name := range seedMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 10, 24, 4, 8, false)
			cfg := testCfg(name, 24)
			a, la := device(t, w, cfg)
			b, _ := device(t, w, cfg)
			mustLearn(t, a, w.split(0, 1))
			mustLearn(t, b, w.split(2))
			da, _ := a.Delta(0)
			db, _ := b.Delta(0)
			for range 3 {
				mustLearn(t, a, w.split(3)) // after the export
			}
			merged, err := MergeDeltas(1, da, db)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.ApplyMerged(merged); err != nil {
				t.Fatal(err)
			}
			var xs [][]float32
			var ys []ID
			for i, y := range w.testY {
				if y == w.ids[3] {
					xs, ys = append(xs, w.test[i]), append(ys, y)
				}
			}
			if acc := accuracy(t, a, la, xs, ys); acc < 0.8 {
				t.Errorf("class learned after the export: accuracy %v after merge", acc)
			}
			next, err := a.Delta(1)
			if err != nil {
				t.Fatal(err)
			}
			if next.Empty() {
				t.Errorf("learning after the export is not in the next delta")
			}
		})
	}
}

func TestSeedMethodsFootprintGrows(t *testing.T) {
	for _, name := range seedMethods {
		cfg := testCfg(name, 16)
		small, err := MeasureFootprint(cfg, 2, 3, false)
		if err != nil {
			t.Fatal(err)
		}
		big, err := MeasureFootprint(cfg, 6, 3, false)
		if err != nil {
			t.Fatal(err)
		}
		if big.Classes != 6 || small.Classes != 2 || big.Total <= small.Total || big.PerClass <= 0 {
			t.Errorf("%s footprint 2 classes %+v, 6 classes %+v", name, small, big)
		}
	}
}

// seedBeginTask tells m a new task starts, if it cares.
func seedBeginTask(m Method) {
	if tb, ok := m.(TaskBoundary); ok {
		tb.BeginTask()
	}
}
