package learner

import (
	"bytes"
	"errors"
	"testing"
)

// TestMethodsLearnSeparableClasses: every learning method must classify
// held-out examples of classes it was taught without any text embedding
// (zeroshot cannot: it must give NoLogit to all of them).
func TestMethodsLearnSeparableClasses(t *testing.T) {
	for _, name := range allMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 3, 32, 6, 10, false)
			m := mustNew(t, testCfg(name, 32), w.labels)
			before := accuracy(t, m, w.labels, w.test, w.testY)
			if before != 0 {
				t.Fatalf("accuracy before learning unnamed classes = %v, want 0", before)
			}
			for range 3 { // a few passes: finetune needs them, others are idempotent enough
				if err := m.Learn(w.batch()); err != nil {
					t.Fatal(err)
				}
				if name != "finetune" {
					break
				}
			}
			acc := accuracy(t, m, w.labels, w.test, w.testY)
			if name == "zeroshot" {
				if acc != 0 {
					t.Fatalf("zeroshot learned: accuracy %v", acc)
				}
				return
			}
			if acc < 0.9 {
				t.Fatalf("held-out accuracy %v < 0.9", acc)
			}
		})
	}
}

// TestMethodsZeroShotStart: before learning, with text embeddings, every
// method predicts what zeroshot predicts (the adapter starts as identity,
// NCM falls back to text, kNN has no votes and is excluded).
func TestMethodsZeroShotStart(t *testing.T) {
	w := newWorld(t, 4, 16, 5, 4, true)
	zs := predictAll(t, mustNew(t, testCfg("zeroshot", 16), w.labels), w.test)
	for _, name := range []string{"ncm", "finetune"} {
		got := predictAll(t, mustNew(t, testCfg(name, 16), w.labels), w.test)
		if d := maxAbsDiff(got, zs); d > 1e-3 {
			t.Errorf("%s differs from zeroshot before learning by %v", name, d)
		}
	}
	if acc := accuracy(t, mustNew(t, testCfg("zeroshot", 16), w.labels), w.labels, w.test, w.testY); acc < 0.9 {
		t.Errorf("zeroshot accuracy with text = centres: %v", acc)
	}
}

func TestMethodsRejectBadInput(t *testing.T) {
	for _, name := range allMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 5, 8, 3, 3, false)
			m := mustNew(t, testCfg(name, 8), w.labels)
			if err := m.Learn(w.batch()[:3]); err != nil {
				t.Fatal(err)
			}
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
			}
			for _, tc := range cases {
				if err := m.Learn(tc.batch); !errors.Is(err, tc.want) {
					t.Errorf("%s: Learn = %v, want %v", tc.name, err, tc.want)
				}
			}
			after, _ := m.Snapshot()
			if !bytes.Equal(before, after) {
				t.Errorf("a rejected batch changed the state")
			}
			if _, err := m.Predict(good[:3], nil); !errors.Is(err, ErrDim) {
				t.Errorf("Predict wrong dim = %v", err)
			}
			if _, err := m.Delta(m.BaseVersion() + 1); !errors.Is(err, ErrBaseMismatch) {
				t.Errorf("Delta wrong base = %v", err)
			}
		})
	}
}

func TestMethodsSnapshotRestore(t *testing.T) {
	for _, name := range allMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 6, 16, 4, 6, false)
			cfg := testCfg(name, 16)
			m := mustNew(t, cfg, w.labels)
			if err := m.Learn(w.batch()); err != nil {
				t.Fatal(err)
			}
			snap, err := m.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			want := predictAll(t, m, w.test)

			fresh := mustNew(t, cfg, w.labels)
			if err := fresh.Restore(snap); err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(predictAll(t, fresh, w.test), want); d != 0 {
				t.Errorf("restored method predicts differently (max diff %v)", d)
			}
			again, _ := fresh.Snapshot()
			if !bytes.Equal(again, snap) {
				t.Errorf("snapshot of restored method differs from original snapshot")
			}
			// Learning after restore behaves like learning before it.
			extra := []Example{{Emb: w.test[0], Label: w.testY[0]}}
			if err := m.Learn(extra); err != nil {
				t.Fatal(err)
			}
			if err := fresh.Learn(extra); err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(predictAll(t, fresh, w.test), predictAll(t, m, w.test)); d > 1e-6 {
				t.Errorf("after one more example restored and original differ by %v", d)
			}

			for _, other := range allMethods {
				if other == name {
					continue
				}
				if err := mustNew(t, testCfg(other, 16), w.labels).Restore(snap); !errors.Is(err, ErrIncompatible) {
					t.Errorf("%s restored a %s snapshot: %v", other, name, err)
				}
			}
			if err := mustNew(t, cfg, w.labels).Restore(snap[:len(snap)-1]); !errors.Is(err, ErrCorrupt) {
				t.Errorf("truncated snapshot: %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestFinetuneRestoreRejectsOtherHidden(t *testing.T) {
	w := newWorld(t, 6, 8, 2, 2, false)
	m := mustNew(t, testCfg("finetune", 8), w.labels)
	snap, _ := m.Snapshot()
	cfg := testCfg("finetune", 8)
	cfg.Finetune.Hidden = 4
	if err := mustNew(t, cfg, w.labels).Restore(snap); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("Restore with other hidden size = %v", err)
	}
}

func TestMethodsConcurrentPredictLearn(t *testing.T) {
	for _, name := range allMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 8, 16, 3, 8, true)
			m := mustNew(t, testCfg(name, 16), w.labels)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range w.train {
					_ = m.Learn([]Example{{Emb: w.train[i], Label: w.trainY[i]}})
				}
			}()
			var dst []float32
			for range 50 {
				var err error
				if dst, err = m.Predict(w.test[0], dst); err != nil {
					t.Error(err)
				}
			}
			<-done
		})
	}
}
