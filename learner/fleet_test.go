package learner

import (
	"errors"
	"testing"
)

// device is one robot: its own registry (same named classes) and method.
func device(t *testing.T, w *world, cfg Config) (Method, *Labels) {
	t.Helper()
	l := cloneLabels(t, w)
	return mustNew(t, cfg, l), l
}

// split returns the training examples of the given class indices.
func (w *world) split(classes ...int) []Example {
	keep := map[ID]bool{}
	for _, c := range classes {
		keep[w.ids[c]] = true
	}
	var out []Example
	for _, e := range w.batch() {
		if keep[e.Label] {
			out = append(out, e)
		}
	}
	return out
}

func syncRound(t *testing.T, version uint64, devs ...Method) *Delta {
	t.Helper()
	var ds []*Delta
	for _, d := range devs {
		delta, err := d.Delta(d.BaseVersion())
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, delta)
	}
	merged, err := MergeDeltas(version, ds...)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if err := d.ApplyMerged(merged); err != nil {
			t.Fatal(err)
		}
	}
	return merged
}

// TestNCMFleetMergeIsExact: two devices that each saw part of the data end
// up, after one sync, with exactly the prototypes of one device that saw it
// all — the point of shipping sufficient statistics.
func TestNCMFleetMergeIsExact(t *testing.T) {
	w := newWorld(t, 21, 24, 4, 6, true)
	cfg := testCfg("ncm", 24)
	cfg.NCM.Alpha = 0.3
	a, _ := device(t, w, cfg)
	b, _ := device(t, w, cfg)
	ref, _ := device(t, w, cfg)
	mustLearn(t, a, w.split(0, 1))
	mustLearn(t, b, w.split(1, 2))
	mustLearn(t, ref, append(w.split(0, 1), w.split(1, 2)...))
	syncRound(t, 1, a, b)
	want := predictAll(t, ref, w.test)
	for name, d := range map[string]Method{"a": a, "b": b} {
		if diff := maxAbsDiff(predictAll(t, d, w.test), want); diff > 1e-4 {
			t.Errorf("device %s differs from the all-data reference by %v", name, diff)
		}
		if d.BaseVersion() != 1 {
			t.Errorf("device %s base = %d, want 1", name, d.BaseVersion())
		}
		next, err := d.Delta(1)
		if err != nil {
			t.Fatal(err)
		}
		if !next.Empty() {
			t.Errorf("device %s: delta right after a merge is not empty: %d classes", name, len(next.Classes))
		}
	}
}

// TestFleetLocalLearningAfterExportKept: what a device learns between its
// export and the merge survives the merge and goes out with the next delta.
func TestFleetLocalLearningAfterExportKept(t *testing.T) {
	w := newWorld(t, 22, 16, 3, 6, true)
	cfg := testCfg("ncm", 16)
	a, _ := device(t, w, cfg)
	b, _ := device(t, w, cfg)
	ref, _ := device(t, w, cfg)
	mustLearn(t, a, w.split(0))
	mustLearn(t, b, w.split(1))
	da, _ := a.Delta(0)
	db, _ := b.Delta(0)
	late := w.split(2)
	mustLearn(t, a, late)
	merged, err := MergeDeltas(5, da, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ApplyMerged(merged); err != nil {
		t.Fatal(err)
	}
	mustLearn(t, ref, append(append(w.split(0), w.split(1)...), late...))
	if diff := maxAbsDiff(predictAll(t, a, w.test), predictAll(t, ref, w.test)); diff > 1e-4 {
		t.Errorf("device after merge differs from reference by %v", diff)
	}
	next, _ := a.Delta(5)
	if len(next.Classes) != 1 || next.Classes[0].Label != w.ids[2] || next.Classes[0].Examples != int64(len(late)) {
		t.Errorf("next delta = %+v, want only the %d late examples of class 2", next.Classes, len(late))
	}
}

// TestFleetMissedExportNotLost: if the server merged without this device's
// delta, its learning is kept and re-exported against the new base.
func TestFleetMissedExportNotLost(t *testing.T) {
	for _, name := range append([]string{"ncm", "knn", "finetune"}, selectorMethods...) {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 23, 16, 3, 6, true)
			a := testMethod(t, name, cloneLabels(t, w))
			b := testMethod(t, name, cloneLabels(t, w))
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

func TestKNNFleetUnion(t *testing.T) {
	w := newWorld(t, 24, 16, 3, 5, true)
	cfg := testCfg("knn", 16)
	a, _ := device(t, w, cfg)
	b, _ := device(t, w, cfg)
	mustLearn(t, a, w.split(0, 1))
	mustLearn(t, b, w.split(2))
	syncRound(t, 1, a, b)
	for name, d := range map[string]Method{"a": a, "b": b} {
		if n := d.(*KNN).Len(); n != len(w.train) {
			t.Errorf("device %s stores %d examples, want the union %d without duplicates", name, n, len(w.train))
		}
		if acc := accuracy(t, d, d.(*KNN).labels, w.test, w.testY); acc < 0.9 {
			t.Errorf("device %s accuracy after merge %v", name, acc)
		}
	}
	if next, _ := a.Delta(1); !next.Empty() {
		t.Errorf("merged samples were re-exported: %d", len(next.Samples))
	}
}

func TestFinetuneFleetAverages(t *testing.T) {
	w := newWorld(t, 25, 16, 3, 5, true)
	cfg := testCfg("finetune", 16)
	a, _ := device(t, w, cfg)
	b, _ := device(t, w, cfg)
	fresh, _ := device(t, w, cfg)
	mustLearn(t, a, w.split(0, 1))
	mustLearn(t, b, w.split(2))
	merged := syncRound(t, 1, a, b)
	if merged.Examples != float64(len(w.train)) {
		t.Errorf("merged example weight %v, want %d", merged.Examples, len(w.train))
	}
	pa, pb := predictAll(t, a, w.test), predictAll(t, b, w.test)
	if diff := maxAbsDiff(pa, pb); diff > 1e-3 {
		t.Errorf("devices with the same seed disagree after a merge by %v", diff)
	}
	// A device that learned nothing and applies the merge lands in the same place.
	if err := fresh.ApplyMerged(merged); err != nil {
		t.Fatal(err)
	}
	if diff := maxAbsDiff(predictAll(t, fresh, w.test), pa); diff > 1e-3 {
		t.Errorf("fresh device after merge differs by %v", diff)
	}
}

func TestZeroShotDeltaSpreadsLabels(t *testing.T) {
	w := newWorld(t, 26, 8, 2, 2, true)
	cfg := testCfg("zeroshot", 8)
	a, la := device(t, w, cfg)
	b, lb := device(t, w, cfg)
	id, _ := la.Add("new gadget")
	_ = la.SetText(id, w.test[0])
	syncRound(t, 1, a, b)
	i, ok := lb.Current().Index(id)
	if !ok || lb.Current().Name(i) != "new gadget" || lb.Current().Text(i) == nil {
		t.Fatalf("label taught on a did not reach b with its name and text")
	}
}

func TestNCMUndoPropagatesThroughFleet(t *testing.T) {
	w := newWorld(t, 27, 16, 2, 4, true)
	cfg := testCfg("ncm", 16)
	a, _ := device(t, w, cfg)
	b, _ := device(t, w, cfg)
	batch := w.split(1)
	mustLearn(t, a, batch)
	syncRound(t, 1, a, b)
	if p, _ := b.(*NCM).Prototype(w.ids[1]); p == nil {
		t.Fatal("b did not receive a's class")
	}
	if err := a.(Unlearner).Unlearn(batch); err != nil {
		t.Fatal(err)
	}
	syncRound(t, 2, a, b)
	if p, n := b.(*NCM).Prototype(w.ids[1]); p != nil || n != 0 {
		t.Errorf("undo on a did not propagate: b still has %d examples", n)
	}
}

func TestMergeAndApplyRefuseMismatches(t *testing.T) {
	w := newWorld(t, 28, 8, 2, 2, true)
	a, _ := device(t, w, testCfg("ncm", 8))
	mustLearn(t, a, w.batch())
	da, _ := a.Delta(0)
	other := *da
	other.BaseVersion = 3
	if _, err := MergeDeltas(4, da, &other); !errors.Is(err, ErrBaseMismatch) {
		t.Errorf("merge of different bases: %v", err)
	}
	if _, err := MergeDeltas(0, da); err == nil {
		t.Errorf("merge to a version not above the base accepted")
	}
	m, _ := MergeDeltas(1, da)
	stale := *m
	stale.BaseVersion, stale.Version = 7, 8
	if err := a.ApplyMerged(&stale); !errors.Is(err, ErrBaseMismatch) {
		t.Errorf("apply against wrong base: %v", err)
	}
	wrongModel := *m
	wrongModel.ModelID = "other-model"
	cfg := testCfg("ncm", 8)
	cfg.ModelID = "clip-b32"
	c, _ := device(t, w, cfg)
	if err := c.ApplyMerged(&wrongModel); !errors.Is(err, ErrIncompatible) {
		t.Errorf("apply from another model: %v", err)
	}
	k, _ := device(t, w, testCfg("knn", 8))
	if err := k.ApplyMerged(m); !errors.Is(err, ErrIncompatible) {
		t.Errorf("knn applied an ncm delta: %v", err)
	}
}

// TestSnapshotKeepsSyncState: a restart between export and merge must not
// double-count this device's contribution.
func TestSnapshotKeepsSyncState(t *testing.T) {
	for _, name := range []string{"ncm", "knn", "finetune"} {
		t.Run(name, func(t *testing.T) {
			checkSnapshotKeepsSyncState(t, name, newWorld(t, 29, 16, 2, 4, true))
		})
	}
}

func mustLearn(t *testing.T, m Method, batch []Example) {
	t.Helper()
	if err := m.Learn(batch); err != nil {
		t.Fatal(err)
	}
}
