package learner

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// The Method contract as checks on one method, shared by the tests of each
// family (methods_test.go: baselines, vocab_methods_test.go: the seed
// article's methods, selector_methods_test.go: moe and analytic), so every
// method is held to the same contract and a new clause reaches all of them.
// Checks that need no family-specific setup run over everyMethod in
// methods_test.go.

// everyMethod lists the methods of every family.
func everyMethod() []string {
	return slices.Concat(allMethods, seedMethods, selectorMethods)
}

// testMethod builds name over l with the test configuration of its family.
func testMethod(t testing.TB, name string, l *Labels) Method {
	t.Helper()
	if slices.Contains(selectorMethods, name) {
		return newSel(t, name, l)
	}
	return mustNew(t, testCfg(name, l.Dim()), l)
}

// cloneLabels is another device's registry with the same classes as w's.
func cloneLabels(t *testing.T, w *world) *Labels {
	t.Helper()
	b, err := w.labels.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	l := NewLabels(w.labels.Dim())
	if err := l.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return l
}

// checkLearnsUnnamed: m knows none of w's classes, which have no text,
// before learning, and classifies their held-out examples after passes
// over w's training set.
func checkLearnsUnnamed(t *testing.T, m Method, w *world, passes int) {
	t.Helper()
	if acc := accuracy(t, m, w.labels, w.test, w.testY); acc != 0 {
		t.Fatalf("accuracy before learning unnamed classes = %v, want 0", acc)
	}
	for range passes {
		mustLearn(t, m, w.batch())
	}
	if acc := accuracy(t, m, w.labels, w.test, w.testY); acc < 0.9 {
		t.Fatalf("held-out accuracy %v < 0.9", acc)
	}
}

// checkZeroShotStart: before learning, each of names predicts what zeroshot
// predicts, within tol, on a world of named classes, which it returns.
func checkZeroShotStart(t *testing.T, names []string, tol float64) *world {
	t.Helper()
	w := newWorld(t, 4, 16, 5, 4, true)
	zs := predictAll(t, mustNew(t, testCfg("zeroshot", 16), w.labels), w.test)
	for _, name := range names {
		got := predictAll(t, testMethod(t, name, w.labels), w.test)
		if d := maxAbsDiff(got, zs); d > tol {
			t.Errorf("%s differs from zeroshot before learning by %v", name, d)
		}
	}
	return w
}

// checkRejectsBadInput: m, which has learned from w, refuses malformed
// batches without changing state, and a query or delta of the wrong shape.
func checkRejectsBadInput(t *testing.T, m Method, w *world) {
	t.Helper()
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
		{"zero vector", []Example{{Emb: make([]float32, len(good)), Label: w.ids[0]}}, ErrBadEmbedding},
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
	if r, ok := m.(Routed); ok {
		if _, err := r.Route(good[:3]); !errors.Is(err, ErrDim) {
			t.Errorf("Route wrong dim = %v", err)
		}
	}
	if _, err := m.Delta(m.BaseVersion() + 1); !errors.Is(err, ErrBaseMismatch) {
		t.Errorf("Delta wrong base = %v", err)
	}
}

// checkSnapshotRoundTrip: a snapshot of m (method name over w's labels)
// restores into a fresh instance that predicts, snapshots and keeps
// learning (extra) exactly like m; the methods others, a truncated copy and
// another dimension refuse it.
func checkSnapshotRoundTrip(t *testing.T, name string, m Method, w *world, extra []Example, others []string) {
	t.Helper()
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := predictAll(t, m, w.test)
	fresh := testMethod(t, name, w.labels)
	if err := fresh.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(predictAll(t, fresh, w.test), want); d != 0 {
		t.Errorf("restored method predicts differently (max diff %v)", d)
	}
	if again, _ := fresh.Snapshot(); !bytes.Equal(again, snap) {
		t.Errorf("snapshot of restored method differs from original snapshot")
	}
	mustLearn(t, m, extra)
	mustLearn(t, fresh, extra)
	if d := maxAbsDiff(predictAll(t, fresh, w.test), predictAll(t, m, w.test)); d > 1e-6 {
		t.Errorf("after more learning restored and original differ by %v", d)
	}
	for _, other := range others {
		if other == name {
			continue
		}
		if err := testMethod(t, other, w.labels).Restore(snap); !errors.Is(err, ErrIncompatible) {
			t.Errorf("%s restored a %s snapshot: %v", other, name, err)
		}
	}
	for _, cut := range []int{1, len(snap) / 2} {
		if err := testMethod(t, name, w.labels).Restore(snap[:len(snap)-cut]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("snapshot cut by %d bytes: %v, want ErrCorrupt", cut, err)
		}
	}
	if dim := w.labels.Dim() / 2; dim > 0 {
		if err := testMethod(t, name, NewLabels(dim)).Restore(snap); !errors.Is(err, ErrIncompatible) {
			t.Errorf("snapshot of dim %d restored at dim %d: %v", w.labels.Dim(), dim, err)
		}
	}
}

// checkConcurrentPredictLearn: predictions and footprints may be asked for
// while another goroutine learns, crosses a task boundary and exports
// (run with -race).
func checkConcurrentPredictLearn(t *testing.T, m Method, w *world) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range w.train {
			_ = m.Learn([]Example{{Emb: w.train[i], Label: w.trainY[i]}})
			if i == 5 {
				seedBeginTask(m)
			}
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
}

// checkSnapshotKeepsSyncState: a device restarted from a snapshot taken
// between its export and the merge ends up where the device that kept
// running does, its export subtracted once. It returns the latter.
func checkSnapshotKeepsSyncState(t *testing.T, name string, w *world) Method {
	t.Helper()
	la := cloneLabels(t, w)
	a := testMethod(t, name, la)
	mustLearn(t, a, w.batch())
	da, _ := a.Delta(0)
	snap, _ := a.Snapshot()
	restarted := testMethod(t, name, la)
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
	return a
}
