package learner

import (
	"encoding/json"
	"fmt"
)

const labelsVersion = 1

// MarshalBinary snapshots the registry (order, names, text embeddings) as an
// Envelope of kind "labels".
func (l *Labels) MarshalBinary() ([]byte, error) {
	s := l.Current()
	infos := make([]LabelInfo, s.Len())
	e := &Envelope{Kind: "labels", Dim: s.dim, Version: labelsVersion}
	for i := range infos {
		infos[i] = s.Info(i)
		if t := s.text[i]; t != nil {
			e.Tensors = append(e.Tensors, Tensor{Name: "text/" + s.ids[i].String(), Shape: []int{len(t)}, Data: t})
		}
	}
	meta, err := json.Marshal(infos)
	if err != nil {
		return nil, fmt.Errorf("learner: encode labels: %w", err)
	}
	e.Meta = meta
	return e.MarshalBinary()
}

// UnmarshalBinary replaces the registry's content with a snapshot. The
// order of classes is restored exactly, so logits keep their meaning.
func (l *Labels) UnmarshalBinary(b []byte) error {
	e, err := DecodeEnvelope(b)
	if err != nil {
		return err
	}
	if e.Kind != "labels" || e.Version != labelsVersion {
		return fmt.Errorf("%w: not a labels snapshot (kind %q version %d)", ErrIncompatible, e.Kind, e.Version)
	}
	var infos []LabelInfo
	if err := json.Unmarshal(e.Meta, &infos); err != nil {
		return fmt.Errorf("%w: labels meta: %v", ErrCorrupt, err)
	}
	if len(infos) == 0 || infos[0].ID != Background {
		return fmt.Errorf("%w: labels snapshot does not start with Background", ErrCorrupt)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.Current()
	n := &LabelSet{gen: old.gen + 1, dim: e.Dim, index: map[ID]int{}, byNm: map[string]ID{}}
	for _, in := range infos {
		if in.ID == 0 {
			return fmt.Errorf("%w: zero id", ErrCorrupt)
		}
		if _, dup := n.index[in.ID]; dup {
			return fmt.Errorf("%w: duplicate id %v", ErrCorrupt, in.ID)
		}
		n.add(in.ID, CanonicalName(in.Name))
	}
	for _, t := range e.Tensors {
		var id ID
		if _, err := fmt.Sscanf(t.Name, "text/%x", (*uint64)(&id)); err != nil {
			return fmt.Errorf("%w: tensor %q", ErrCorrupt, t.Name)
		}
		i, ok := n.index[id]
		if !ok || len(t.Data) != e.Dim {
			return fmt.Errorf("%w: text tensor %q", ErrCorrupt, t.Name)
		}
		n.text[i] = t.Data
	}
	l.cur.Store(n)
	return nil
}
