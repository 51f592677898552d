package learner

import (
	"encoding/binary"
	"fmt"
	"math"
)

// journalState is one undoable teach action as checkpointed: only for
// Unlearner methods, whose undo needs the examples alone (a snapshot-based
// journal would put a whole method snapshot per action in every
// checkpoint). Embeddings are little-endian float32, base64 in the JSON.
type journalState struct {
	Seq      uint64 `json:"seq"`
	Label    ID     `json:"label"`
	Accepted int    `json:"accepted"`
	Dropped  int    `json:"dropped"`
	Embs     []byte `json:"embs"`
}

func (t *Trainer) journalStates() []journalState {
	if _, ok := t.m.(Unlearner); !ok {
		return nil
	}
	out := make([]journalState, 0, len(t.journal))
	for _, e := range t.journal {
		b := make([]byte, 0, len(e.examples)*t.m.Dim()*4)
		for _, ex := range e.examples {
			for _, v := range ex.Emb {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			}
		}
		out = append(out, journalState{Seq: e.Seq, Label: e.Label, Accepted: e.Accepted, Dropped: e.Dropped, Embs: b})
	}
	return out
}

// restoreJournal rebuilds the journal from a checkpoint, keeping the newest
// Undo.Depth actions; it checks every entry first and changes nothing on
// error.
func (t *Trainer) restoreJournal(states []journalState) ([]journalEntry, error) {
	if _, ok := t.m.(Unlearner); !ok || t.cfg.Undo.Depth == 0 {
		return nil, nil
	}
	if len(states) > t.cfg.Undo.Depth {
		states = states[len(states)-t.cfg.Undo.Depth:]
	}
	dim := t.m.Dim()
	var out []journalEntry
	var prev uint64
	for i, s := range states {
		switch {
		case s.Label == 0 || s.Accepted < 1 || s.Dropped < 0:
			return nil, fmt.Errorf("%w: undo journal entry %d: label %v, accepted %d, dropped %d", ErrCorrupt, i, s.Label, s.Accepted, s.Dropped)
		case s.Seq <= prev || s.Seq > t.seq:
			return nil, fmt.Errorf("%w: undo journal entry %d: seq %d out of order (previous %d, last %d)", ErrCorrupt, i, s.Seq, prev, t.seq)
		case len(s.Embs) != s.Accepted*dim*4:
			return nil, fmt.Errorf("%w: undo journal entry %d: %d bytes for %d examples of dimension %d", ErrCorrupt, i, len(s.Embs), s.Accepted, dim)
		}
		prev = s.Seq
		ex := make([]Example, s.Accepted)
		for j := range ex {
			emb := make([]float32, dim)
			for k := range emb {
				v := math.Float32frombits(binary.LittleEndian.Uint32(s.Embs[(j*dim+k)*4:]))
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("%w: undo journal entry %d: non-finite embedding value", ErrCorrupt, i)
				}
				emb[k] = v
			}
			ex[j] = Example{Emb: emb, Label: s.Label, Source: Taught}
		}
		out = append(out, journalEntry{Action: Action{Seq: s.Seq, Label: s.Label, Accepted: s.Accepted, Dropped: s.Dropped}, examples: ex})
	}
	return out, nil
}
