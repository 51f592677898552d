package learner

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Action describes one teach action.
type Action struct {
	Seq      uint64 // increasing id of the action on this device
	Label    ID
	Accepted int // examples learned
	Dropped  int // examples refused by the per-class cap
}

// journalEntry is what is needed to reverse an action: the examples (for an
// Unlearner) or the snapshot taken just before it (for other methods).
type journalEntry struct {
	Action
	examples []Example
	before   []byte        // method snapshot before the action; nil for Unlearners
	counts   countsByClass // caps counters before the action (snapshot undo)
}

type countsByClass map[ID][2]int // [taught, pseudo]

func (c countsByClass) clone() countsByClass {
	out := make(countsByClass, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Trainer wraps a Method with the safeguards every method needs: per-class
// example caps, an undo journal of teach actions, and pseudo-labelling
// gated by consensus. Safe for concurrent use.
//
// Undo is exact for methods implementing Unlearner (statistics are
// subtracted; later learning is kept). For other methods the snapshot taken
// before the oldest undone action is restored, which also rolls back
// anything learned after it (pseudo labels included); a fleet merge clears
// such a journal, because restoring would also undo the merge.
type Trainer struct {
	cfg    Config
	m      Method
	labels *Labels
	log    *slog.Logger

	mu      sync.Mutex
	counts  countsByClass
	journal []journalEntry
	seq     uint64
	pseudo  *PseudoLabeler
	probs   []float32
	logits  []float32
}

// NewTrainer wraps m. labels must be the registry m was built with.
func NewTrainer(m Method, labels *Labels, cfg Config, log *slog.Logger) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Trainer{cfg: cfg, m: m, labels: labels, log: log, counts: countsByClass{}, pseudo: NewPseudoLabeler(cfg.Pseudo)}, nil
}

// Method returns the wrapped method (for Predict, Snapshot, Delta).
func (t *Trainer) Method() Method { return t.m }

// Counts returns how many taught and pseudo examples of id the method holds.
func (t *Trainer) Counts(id ID) (taught, pseudo int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counts[id]
	return c[0], c[1]
}

// Teach learns the embeddings as taught examples of label, up to the
// per-class cap. It returns ErrClassFull if the cap left room for none.
func (t *Trainer) Teach(label ID, embs ...[]float32) (Action, error) {
	if len(embs) == 0 {
		return Action{Label: label}, fmt.Errorf("learner: teach %v with no embeddings", label)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	room := len(embs)
	if limit := t.cfg.Caps.MaxTaughtPerClass; limit > 0 {
		room = min(room, limit-t.counts[label][0])
	}
	if room <= 0 {
		return Action{Label: label, Dropped: len(embs)}, fmt.Errorf("%w: %v has %d taught examples", ErrClassFull, label, t.counts[label][0])
	}
	batch := make([]Example, room)
	for i := range batch {
		batch[i] = Example{Emb: append([]float32(nil), embs[i]...), Label: label, Source: Taught}
	}
	var entry journalEntry
	if t.cfg.Undo.Depth > 0 {
		if _, ok := t.m.(Unlearner); !ok {
			snap, err := t.m.Snapshot()
			if err != nil {
				return Action{}, fmt.Errorf("learner: snapshot for undo: %w", err)
			}
			entry.before, entry.counts = snap, t.counts.clone()
		}
	}
	if err := t.m.Learn(batch); err != nil {
		return Action{}, err
	}
	t.seq++
	act := Action{Seq: t.seq, Label: label, Accepted: room, Dropped: len(embs) - room}
	c := t.counts[label]
	c[0] += room
	t.counts[label] = c
	if t.cfg.Undo.Depth > 0 {
		entry.Action, entry.examples = act, batch
		if len(t.journal) == t.cfg.Undo.Depth {
			t.journal[0] = journalEntry{}
			t.journal = t.journal[1:]
		}
		t.journal = append(t.journal, entry)
	}
	t.log.Debug("taught", "label", label, "accepted", act.Accepted, "dropped", act.Dropped)
	return act, nil
}

// History returns the undoable actions, oldest first.
func (t *Trainer) History() []Action {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Action, len(t.journal))
	for i, e := range t.journal {
		out[i] = e.Action
	}
	return out
}

// Undo reverts the last n teach actions and returns them, newest first. It
// fails with ErrNothingToUndo (and changes nothing) if fewer are journaled.
func (t *Trainer) Undo(n int) ([]Action, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n < 1 || n > len(t.journal) {
		return nil, fmt.Errorf("%w: asked %d, journal holds %d", ErrNothingToUndo, n, len(t.journal))
	}
	undo := t.journal[len(t.journal)-n:]
	var done []Action
	if u, ok := t.m.(Unlearner); ok {
		for i := len(undo) - 1; i >= 0; i-- {
			e := undo[i]
			if err := u.Unlearn(e.examples); err != nil {
				// Actions undone so far stay undone; keep the journal
				// consistent with what was reverted.
				t.journal = t.journal[:len(t.journal)-n+i+1]
				return done, fmt.Errorf("learner: undo action %d: %w", e.Seq, err)
			}
			c := t.counts[e.Label]
			c[0] -= e.Accepted
			t.counts[e.Label] = c
			done = append(done, e.Action)
		}
	} else {
		if err := t.m.Restore(undo[0].before); err != nil {
			return nil, fmt.Errorf("learner: undo by restore: %w", err)
		}
		t.counts = undo[0].counts
		for i := len(undo) - 1; i >= 0; i-- {
			done = append(done, undo[i].Action)
		}
	}
	for i := len(t.journal) - n; i < len(t.journal); i++ {
		t.journal[i] = journalEntry{}
	}
	t.journal = t.journal[:len(t.journal)-n]
	t.log.Info("undone", "actions", len(done))
	return done, nil
}

// Observation is the result of Trainer.Observe.
type Observation struct {
	Label      ID
	Confidence float32
	Verdict    Verdict
	Learned    int // pseudo examples learned from this observation
}

// Observe predicts emb and, if pseudo-labelling is enabled, feeds the
// prediction to the consensus for track and learns the emitted examples
// (within the pseudo cap).
func (t *Trainer) Observe(track string, emb []float32) (Observation, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	t.logits, err = t.m.Predict(emb, t.logits)
	if err != nil {
		return Observation{}, err
	}
	t.probs = Softmax(t.logits, t.probs)
	i, p := Argmax(t.probs)
	s := t.labels.Current()
	var o Observation
	if i < 0 || i >= s.Len() || t.logits[i] == NoLogit {
		return o, nil
	}
	o.Label, o.Confidence = s.ID(i), p
	if !t.cfg.Pseudo.Enabled {
		return o, nil
	}
	v, examples := t.pseudo.Observe(track, emb, o.Label, p)
	o.Verdict = v
	if len(examples) == 0 {
		return o, nil
	}
	if limit := t.cfg.Caps.MaxPseudoPerClass; limit > 0 {
		examples = examples[:max(0, min(len(examples), limit-t.counts[v.Label][1]))]
	}
	if len(examples) == 0 {
		return o, nil
	}
	if err := t.m.Learn(examples); err != nil {
		return o, err
	}
	c := t.counts[v.Label]
	c[1] += len(examples)
	t.counts[v.Label] = c
	o.Learned = len(examples)
	t.log.Debug("pseudo-labelled", "track", track, "label", v.Label, "examples", len(examples), "agreement", v.Agreement)
	return o, nil
}

// ApplyMerged applies a fleet delta to the method. A snapshot-based undo
// journal is cleared, since restoring an older snapshot would undo the merge.
func (t *Trainer) ApplyMerged(d *Delta) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.m.ApplyMerged(d); err != nil {
		return err
	}
	if _, ok := t.m.(Unlearner); !ok {
		clear(t.journal)
		t.journal = t.journal[:0]
	}
	return nil
}

// Delta exports the method's delta (see Method.Delta). A snapshot-based
// undo journal is cleared: once shipped, an action can no longer be undone
// by restoring an older snapshot without the fleet counting it twice.
// Unlearner methods keep their journal; the undo goes out in the next delta.
func (t *Trainer) Delta(base uint64) (*Delta, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.m.Delta(base)
	if err != nil {
		return nil, err
	}
	if _, ok := t.m.(Unlearner); !ok {
		clear(t.journal)
		t.journal = t.journal[:0]
	}
	return d, nil
}

type trainerState struct {
	Seq     uint64         `json:"seq"`
	Counts  []counts       `json:"counts"`
	Journal []journalState `json:"journal,omitempty"` // trainer_journal.go
}

type counts struct {
	ID     ID  `json:"id"`
	Taught int `json:"taught"`
	Pseudo int `json:"pseudo"`
}

// MarshalBinary saves the caps counters (JSON), so caps survive restarts,
// and, for Unlearner methods, the undo journal, so an operator can still
// undo a wrong teach after the daemon restarted. A snapshot-based journal
// is not saved: undo of those methods does not reach across a restart.
func (t *Trainer) MarshalBinary() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := trainerState{Seq: t.seq, Journal: t.journalStates()}
	for _, id := range sortedIDs(t.counts) {
		c := t.counts[id]
		st.Counts = append(st.Counts, counts{id, c[0], c[1]})
	}
	return json.Marshal(st)
}

// UnmarshalBinary restores the counters saved by MarshalBinary.
func (t *Trainer) UnmarshalBinary(b []byte) error {
	var st trainerState
	if err := json.Unmarshal(b, &st); err != nil {
		return errors.Join(ErrCorrupt, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	seq := t.seq
	t.seq = st.Seq
	journal, err := t.restoreJournal(st.Journal)
	if err != nil {
		t.seq = seq
		return err
	}
	t.counts = countsByClass{}
	for _, c := range st.Counts {
		t.counts[c.ID] = [2]int{c.Taught, c.Pseudo}
	}
	t.journal = journal
	return nil
}
