package learner

import (
	"encoding/json"
	"errors"
	"testing"
)

func embs(examples []Example) [][]float32 {
	out := make([][]float32, len(examples))
	for i, e := range examples {
		out[i] = e.Emb
	}
	return out
}

func TestTrainerCaps(t *testing.T) {
	w := newWorld(t, 31, 8, 2, 6, true)
	cfg := testCfg("ncm", 8)
	cfg.Caps.MaxTaughtPerClass = 4
	tr, err := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	xs := embs(w.split(0))
	act, err := tr.Teach(w.ids[0], xs[:3]...)
	if err != nil || act.Accepted != 3 || act.Dropped != 0 {
		t.Fatalf("first teach = %+v, %v", act, err)
	}
	act, err = tr.Teach(w.ids[0], xs[3:6]...)
	if err != nil || act.Accepted != 1 || act.Dropped != 2 {
		t.Fatalf("teach over the cap = %+v, %v; want 1 accepted, 2 dropped", act, err)
	}
	if _, err := tr.Teach(w.ids[0], xs[0]); !errors.Is(err, ErrClassFull) {
		t.Fatalf("teach a full class = %v, want ErrClassFull", err)
	}
	if _, n := tr.Method().(*NCM).Prototype(w.ids[0]); n != 4 {
		t.Fatalf("method holds %d examples, want the cap 4", n)
	}
	// Another class is unaffected; undo frees room again.
	if _, err := tr.Teach(w.ids[1], embs(w.split(1))[:2]...); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Undo(2); err != nil {
		t.Fatal(err)
	}
	if taught, _ := tr.Counts(w.ids[0]); taught != 3 {
		t.Fatalf("after undoing 1 accepted example of class 0, count = %d, want 3", taught)
	}
	if _, err := tr.Teach(w.ids[0], xs[0]); err != nil {
		t.Fatalf("teach after undo freed room: %v", err)
	}
	if _, err := tr.Teach(w.ids[0]); err == nil {
		t.Errorf("teach with no embeddings accepted")
	}
}

// TestTrainerUndo covers both undo paths: exact Unlearn (ncm, knn) and
// snapshot restore (finetune). After undoing the last actions the method
// must predict exactly as before them.
func TestTrainerUndo(t *testing.T) {
	for _, name := range []string{"ncm", "knn", "finetune"} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, 32, 16, 3, 4, false)
			cfg := testCfg(name, 16)
			cfg.Undo.Depth = 3
			tr, err := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			m := tr.Method()
			if _, err := tr.Teach(w.ids[0], embs(w.split(0))...); err != nil {
				t.Fatal(err)
			}
			before := predictAll(t, m, w.test)
			a1, _ := tr.Teach(w.ids[1], embs(w.split(1))...)
			a2, _ := tr.Teach(w.ids[2], embs(w.split(2))...)
			if maxAbsDiff(predictAll(t, m, w.test), before) == 0 {
				t.Fatal("teaching did not change predictions")
			}
			done, err := tr.Undo(2)
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != 2 || done[0].Seq != a2.Seq || done[1].Seq != a1.Seq {
				t.Errorf("undone = %+v, want a2 then a1", done)
			}
			if d := maxAbsDiff(predictAll(t, m, w.test), before); d > 1e-5 {
				t.Errorf("after undo predictions differ by %v", d)
			}
			if taught, _ := tr.Counts(w.ids[1]); taught != 0 {
				t.Errorf("count of undone class = %d", taught)
			}
			if _, err := tr.Undo(2); !errors.Is(err, ErrNothingToUndo) {
				t.Errorf("undo beyond journal = %v", err)
			}
			if h := tr.History(); len(h) != 1 {
				t.Errorf("history has %d actions, want 1", len(h))
			}
		})
	}
}

func TestTrainerUndoDepthBounded(t *testing.T) {
	w := newWorld(t, 33, 8, 1, 6, true)
	cfg := testCfg("ncm", 8)
	cfg.Undo.Depth = 2
	tr, _ := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
	for _, x := range embs(w.split(0))[:5] {
		if _, err := tr.Teach(w.ids[0], x); err != nil {
			t.Fatal(err)
		}
	}
	if h := tr.History(); len(h) != 2 || h[1].Seq != 5 {
		t.Fatalf("history = %+v, want the last 2 actions", h)
	}
	if _, err := tr.Undo(3); !errors.Is(err, ErrNothingToUndo) {
		t.Fatalf("undo 3 with depth 2 = %v", err)
	}
	cfg.Undo.Depth = 0
	tr, _ = NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
	_, _ = tr.Teach(w.ids[0], embs(w.split(0))[0])
	if _, err := tr.Undo(1); !errors.Is(err, ErrNothingToUndo) {
		t.Fatalf("undo with journal disabled = %v", err)
	}
}

func TestPseudoLabelerConsensus(t *testing.T) {
	a, b, c := ID(100), ID(200), ID(300)
	cfg := DefaultConfig().Pseudo // 3 attempts, 60% agreement, 0.7 confidence, window 8
	type obs struct {
		label ID
		conf  float32
	}
	tests := []struct {
		name    string
		seq     []obs
		trusted bool
		emitted int
	}{
		{"two agreeing is too few", []obs{{a, .9}, {a, .9}}, false, 0},
		{"three agreeing", []obs{{a, .9}, {a, .9}, {a, .9}}, true, 3},
		{"2 of 3 = 67% >= 60%", []obs{{a, .9}, {b, .9}, {a, .9}}, true, 2},
		// a third label keeps any 3-window below 60%: a 1/3, then 2/4 = 50%
		{"2 of 4 = 50%", []obs{{a, .9}, {b, .9}, {c, .9}, {a, .9}}, false, 0},
		{"low confidence", []obs{{a, .6}, {a, .6}, {a, .6}}, false, 0},
		// mean confidence of the winner's votes: (.9+.9+.4)/3 = 0.733 ≥ 0.7
		{"mean confidence above", []obs{{a, .9}, {a, .9}, {a, .4}}, true, 3},
		{"background never", []obs{{Background, .99}, {Background, .99}, {Background, .99}}, false, 0},
		{"three-way split", []obs{{a, .9}, {b, .9}, {c, .9}, {b, .9}, {a, .9}, {c, .9}}, false, 0},
	}
	for _, tc := range tests {
		p := NewPseudoLabeler(cfg)
		var v Verdict
		var ex []Example
		for i, o := range tc.seq {
			v, ex = p.Observe("track", []float32{float32(i), 1}, o.label, o.conf)
			if v.Trusted && i < len(tc.seq)-1 {
				t.Errorf("%s: trusted early, at observation %d", tc.name, i)
			}
		}
		if v.Trusted != tc.trusted || len(ex) != tc.emitted {
			t.Errorf("%s: trusted=%v emitted=%d (verdict %+v), want %v/%d", tc.name, v.Trusted, len(ex), v, tc.trusted, tc.emitted)
		}
		for _, e := range ex {
			if e.Source != Pseudo || e.Weight != cfg.Weight || e.Label != v.Label {
				t.Errorf("%s: emitted example %+v", tc.name, e)
			}
		}
	}
	// "2 of 4" then a fifth agreeing observation: 3/5 = 60% reaches consensus.
	p := NewPseudoLabeler(cfg)
	for _, o := range []obs{{a, .9}, {b, .9}, {c, .9}, {a, .9}} {
		p.Observe("t", []float32{1}, o.label, o.conf)
	}
	if v, ex := p.Observe("t", []float32{1}, a, .9); !v.Trusted || len(ex) != 3 || v.Agreement != 0.6 {
		t.Errorf("3 of 5: %+v, %d examples", v, len(ex))
	}
	// Once emitted, the track starts afresh.
	if v, _ := p.Observe("t", []float32{1}, a, .9); v.Trusted || v.Attempts != 1 {
		t.Errorf("after consensus the track was not reset: %+v", v)
	}
}

func TestPseudoLabelerTracksBounded(t *testing.T) {
	cfg := DefaultConfig().Pseudo
	cfg.MaxTracks = 2
	p := NewPseudoLabeler(cfg)
	p.Observe("a", []float32{1}, 5, 1)
	p.Observe("b", []float32{1}, 5, 1)
	p.Observe("a", []float32{1}, 5, 1) // a is now the most recent
	p.Observe("c", []float32{1}, 5, 1) // evicts b
	if p.Tracks() != 2 {
		t.Fatalf("tracks = %d, want 2", p.Tracks())
	}
	if v, _ := p.Observe("a", []float32{1}, 5, 1); !v.Trusted {
		t.Errorf("track a lost its history: %+v", v)
	}
	if v, _ := p.Observe("b", []float32{1}, 5, 1); v.Attempts != 1 {
		t.Errorf("evicted track b kept %d attempts", v.Attempts)
	}
}

func TestTrainerObservePseudoLabels(t *testing.T) {
	w := newWorld(t, 34, 16, 3, 4, true)
	cfg := testCfg("ncm", 16)
	cfg.Pseudo.Enabled = true
	cfg.Pseudo.MinConfidence = 0.5
	cfg.Caps.MaxPseudoPerClass = 4
	tr, _ := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
	learned := 0
	for i := range 3 {
		o, err := tr.Observe("cup-track", w.test[i]) // class 0's held-out examples
		if err != nil {
			t.Fatal(err)
		}
		if o.Label != w.ids[0] {
			t.Fatalf("observation %d predicted %v, want %v", i, o.Label, w.ids[0])
		}
		learned += o.Learned
	}
	if learned != 3 {
		t.Fatalf("pseudo-learned %d examples after 3 agreeing observations, want 3", learned)
	}
	if _, pseudo := tr.Counts(w.ids[0]); pseudo != 3 {
		t.Errorf("pseudo count = %d", pseudo)
	}
	for i := range 3 {
		o, _ := tr.Observe("cup-track", w.test[i])
		learned += o.Learned
	}
	if learned != 4 {
		t.Errorf("pseudo cap 4 exceeded: learned %d", learned)
	}
	if _, n := tr.Method().(*NCM).Prototype(w.ids[0]); n != 4 {
		t.Errorf("method holds %d pseudo examples, want 4", n)
	}
	// Disabled: predictions only.
	cfg.Pseudo.Enabled = false
	tr2, _ := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
	for i := range 5 {
		if o, _ := tr2.Observe("x", w.test[i%3]); o.Learned != 0 {
			t.Fatal("learned with pseudo-labelling disabled")
		}
	}
}

func TestTrainerCountsPersist(t *testing.T) {
	w := newWorld(t, 35, 8, 2, 3, true)
	cfg := testCfg("ncm", 8)
	tr, _ := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
	_, _ = tr.Teach(w.ids[1], embs(w.split(1))...)
	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tr2, _ := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
	if err := tr2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if taught, _ := tr2.Counts(w.ids[1]); taught != 3 {
		t.Errorf("restored taught count = %d, want 3", taught)
	}
	if err := tr2.UnmarshalBinary([]byte("{")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt counters: %v", err)
	}
}

func TestTrainerDeltaClearsSnapshotJournal(t *testing.T) {
	for _, tc := range []struct {
		method  string
		history int
	}{{"finetune", 0}, {"ncm", 1}} {
		w := newWorld(t, 36, 8, 1, 2, true)
		cfg := testCfg(tc.method, 8)
		tr, _ := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
		if _, err := tr.Teach(w.ids[0], embs(w.split(0))...); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Delta(0); err != nil {
			t.Fatal(err)
		}
		if h := tr.History(); len(h) != tc.history {
			t.Errorf("%s: %d undoable actions after export, want %d", tc.method, len(h), tc.history)
		}
	}
}

// An Unlearner's undo journal survives a checkpoint: after a restart the
// last teach can still be undone exactly; a snapshot-based journal is not
// saved; a damaged journal is refused and changes nothing.
func TestTrainerJournalPersists(t *testing.T) {
	w := newWorld(t, 37, 8, 2, 3, true)
	cfg := testCfg("ncm", 8)
	m := mustNew(t, cfg, w.labels)
	tr, _ := NewTrainer(m, w.labels, cfg, nil)
	_, _ = tr.Teach(w.ids[0], embs(w.split(0))...)
	_, _ = tr.Teach(w.ids[1], embs(w.split(1))...)
	b, err := tr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// The restarted device: method from its snapshot, trainer from b.
	m2 := mustNew(t, cfg, w.labels)
	if err := m2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	tr2, _ := NewTrainer(m2, w.labels, cfg, nil)
	if err := tr2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if h := tr2.History(); len(h) != 2 || h[1].Label != w.ids[1] || h[1].Accepted != 3 {
		t.Fatalf("restored history %+v", h)
	}
	done, err := tr2.Undo(1)
	if err != nil || len(done) != 1 || done[0].Label != w.ids[1] {
		t.Fatalf("undo after restart: %+v, %v", done, err)
	}
	if _, n := m2.(*NCM).Prototype(w.ids[1]); n != 0 {
		t.Fatalf("class still holds %d examples after undo", n)
	}
	if taught, _ := tr2.Counts(w.ids[1]); taught != 0 {
		t.Fatalf("taught count %d after undo", taught)
	}
	if _, n := m2.(*NCM).Prototype(w.ids[0]); n != 3 {
		t.Fatalf("the earlier action lost examples: %d", n)
	}

	// Damaged: embeddings cut short. Refused, state unchanged.
	var st trainerState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	st.Journal[0].Embs = st.Journal[0].Embs[:8]
	bad, _ := json.Marshal(st)
	tr3, _ := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
	if err := tr3.UnmarshalBinary(bad); !errors.Is(err, ErrCorrupt) || len(tr3.History()) != 0 {
		t.Fatalf("damaged journal: %v, history %v", err, tr3.History())
	}

	// A snapshot-undo method saves no journal.
	fcfg := testCfg("finetune", 8)
	ftr, _ := NewTrainer(mustNew(t, fcfg, w.labels), w.labels, fcfg, nil)
	_, _ = ftr.Teach(w.ids[0], embs(w.split(0))...)
	fb, _ := ftr.MarshalBinary()
	var fst trainerState
	if err := json.Unmarshal(fb, &fst); err != nil || fst.Journal != nil {
		t.Fatalf("finetune trainer state carries a journal: %s", fb)
	}
}
