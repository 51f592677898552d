package learner

import (
	"testing"
)

// Trainer state comes from a checkpoint file: whatever the bytes, restoring
// never panics, and a refused state leaves the trainer as it was.
func FuzzTrainerUnmarshal(f *testing.F) {
	w := newWorld(f, 38, 8, 2, 3, true)
	cfg := testCfg("ncm", 8)
	tr, _ := NewTrainer(mustNew(f, cfg, w.labels), w.labels, cfg, nil)
	_, _ = tr.Teach(w.ids[0], embs(w.split(0))...)
	good, err := tr.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"seq":1,"journal":[{"seq":1,"label":1,"accepted":1,"embs":""}]}`))
	f.Add([]byte(`{"seq":0,"counts":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, _ := NewTrainer(mustNew(t, cfg, w.labels), w.labels, cfg, nil)
		_, _ = tr.Teach(w.ids[1], embs(w.split(1))...)
		before := tr.History()
		if err := tr.UnmarshalBinary(b); err != nil {
			if after := tr.History(); len(after) != len(before) {
				t.Fatalf("refused state changed the journal: %v -> %v", before, after)
			}
			return
		}
		if _, err := tr.MarshalBinary(); err != nil {
			t.Fatalf("accepted state does not marshal: %v", err)
		}
	})
}
