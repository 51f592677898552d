package learner

import (
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
			switch name {
			case "zeroshot":
				if acc := accuracy(t, m, w.labels, w.test, w.testY); acc != 0 {
					t.Fatalf("accuracy before learning unnamed classes = %v, want 0", acc)
				}
				mustLearn(t, m, w.batch())
				if acc := accuracy(t, m, w.labels, w.test, w.testY); acc != 0 {
					t.Fatalf("zeroshot learned: accuracy %v", acc)
				}
			case "finetune": // a few passes: finetune needs them
				checkLearnsUnnamed(t, m, w, 3)
			default: // the others are idempotent enough
				checkLearnsUnnamed(t, m, w, 1)
			}
		})
	}
}

// TestMethodsZeroShotStart: before learning, with text embeddings, every
// method predicts what zeroshot predicts (the adapter starts as identity,
// NCM falls back to text, kNN has no votes and is excluded).
func TestMethodsZeroShotStart(t *testing.T) {
	w := checkZeroShotStart(t, []string{"ncm", "finetune"}, 1e-3)
	if acc := accuracy(t, mustNew(t, testCfg("zeroshot", 16), w.labels), w.labels, w.test, w.testY); acc < 0.9 {
		t.Errorf("zeroshot accuracy with text = centres: %v", acc)
	}
}

func TestMethodsRejectBadInput(t *testing.T) {
	for _, name := range everyMethod() {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 5, 8, 3, 3, false)
			checkRejectsBadInput(t, testMethod(t, name, w.labels), w)
		})
	}
}

func TestMethodsSnapshotRestore(t *testing.T) {
	for _, name := range allMethods {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 6, 16, 4, 6, false)
			m := mustNew(t, testCfg(name, 16), w.labels)
			mustLearn(t, m, w.batch())
			checkSnapshotRoundTrip(t, name, m, w, []Example{{Emb: w.test[0], Label: w.testY[0]}}, allMethods)
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
	for _, name := range everyMethod() {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 8, 16, 3, 8, true)
			checkConcurrentPredictLearn(t, testMethod(t, name, w.labels), w)
		})
	}
}
