package hub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// The history is what catch-up adapters are composed from: every version's
// global adapter as published (an increment against the version before),
// plus, once old versions are folded (CatchUp.MaxVersions), one adapter
// from version 0 to the oldest kept version. It is written in the same
// bbolt transaction as the version it records, so it never disagrees with
// the version counter, whatever kills the process.

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// initHistory gives a state file from before catch-up existed its history
// start: no increment was recorded, so catch-up starts at the current
// version.
func initHistory(tx *bolt.Tx) error {
	m := tx.Bucket(bMeta)
	if m.Get(kHistFrom) != nil {
		return nil
	}
	var v uint64
	if b := m.Get(kVersion); len(b) == 8 {
		v = binary.LittleEndian.Uint64(b)
	}
	return m.Put(kHistFrom, u64(v))
}

// recordHistory stores the adapter taking base to version, inside the
// caller's transaction, before h.st.version moves to version.
// An adapter that does not follow the current version (a standby hub that
// missed versions while it was down) restarts the history at its base:
// the increments in between are unknown, so older devices cannot catch up.
func (h *Hub) recordHistory(tx *bolt.Tx, base, version uint64, global []byte) error {
	hb, m := tx.Bucket(bHistory), tx.Bucket(bMeta)
	if base != h.st.version {
		h.log.Warn("hub: versions missing from the catch-up history; devices older than this version cannot catch up",
			"have", h.st.version, "base", base, "version", version)
		if err := tx.DeleteBucket(bHistory); err != nil {
			return err
		}
		var err error
		if hb, err = tx.CreateBucket(bHistory); err != nil {
			return err
		}
		if err := m.Delete(kHistBase); err != nil {
			return err
		}
		if err := m.Put(kHistFrom, u64(base)); err != nil {
			return err
		}
		h.st.histFrom, h.st.hasBase = base, base == 0
	}
	if err := hb.Put(be64(version), global); err != nil {
		return err
	}
	for keep := uint64(h.cfg.CatchUp.MaxVersions); keep > 0 && version-h.st.histFrom > keep; {
		if err := h.foldOldest(tx); err != nil {
			return err
		}
	}
	return nil
}

// foldOldest moves the oldest kept increment into hist_base. If the
// composition cannot be stored (it outgrew the wire limits), catch-up
// from version 0 ends rather than the merge failing.
func (h *Hub) foldOldest(tx *bolt.Tx) error {
	hb, m := tx.Bucket(bHistory), tx.Bucket(bMeta)
	oldest := h.st.histFrom + 1
	inc := hb.Get(be64(oldest))
	if inc == nil {
		return fmt.Errorf("hub: history lacks version %d", oldest)
	}
	if h.st.hasBase {
		var raw [][]byte
		if h.st.histFrom > 0 {
			raw = append(raw, m.Get(kHistBase))
		}
		b, err := h.composeStored(append(raw, inc), false)
		if err == nil {
			err = m.Put(kHistBase, b)
		}
		if err != nil {
			h.log.Warn("hub: catch-up from version 0 no longer possible", "version", oldest, "err", err)
			if err := m.Delete(kHistBase); err != nil {
				return err
			}
			h.st.hasBase = false
		}
	}
	if err := hb.Delete(be64(oldest)); err != nil {
		return err
	}
	h.st.histFrom = oldest
	return m.Put(kHistFrom, u64(oldest))
}

// composeStored decodes stored adapters (their signatures are checked
// again: the file is not trusted more than the wire) and signs their
// composition; with expire it expires after GlobalTTL like every
// published adapter, without it is for storage.
func (h *Hub) composeStored(raw [][]byte, expire bool) ([]byte, error) {
	parts := make([]*learner.Delta, 0, len(raw))
	for _, b := range raw {
		p, err := wire.Decode(b, h.adoptPol)
		if err != nil {
			return nil, fmt.Errorf("hub: stored adapter: %w", err)
		}
		d, err := p.Delta()
		if err != nil {
			return nil, err
		}
		parts = append(parts, d)
	}
	d, err := compose(parts)
	if err != nil {
		return nil, err
	}
	return h.sealAdapter(d, expire)
}

// sealAdapter encodes a composed adapter exactly (float32 tensors: the
// sum of the increments as the devices dequantised them) and signs it.
// It refuses what the hub's own wire limits would refuse.
func (h *Hub) sealAdapter(d *learner.Delta, expire bool) ([]byte, error) {
	p, err := wire.FromDelta(d, wire.Compression{}, nil)
	if err != nil {
		return nil, fmt.Errorf("hub: catch-up adapter: %w", err)
	}
	now := h.now()
	p.Fleet, p.Device, p.Seq, p.CreatedAt = h.cfg.Fleet, h.cfg.ID, h.nextSeq(), now
	p.PreprocessHash = h.cfg.Model.PreprocessHash
	if p.ModelID == "" {
		p.ModelID = h.cfg.Model.ModelID
	}
	if expire {
		p.ExpiresAt = now.Add(h.cfg.GlobalTTL)
	}
	b, err := wire.Encode(p, h.priv)
	if err != nil {
		return nil, fmt.Errorf("hub: catch-up adapter: %w", err)
	}
	if len(b) > h.cfg.Wire.MaxBytes {
		return nil, fmt.Errorf("%w: catch-up adapter of %d bytes > wire.max_bytes %d", wire.ErrOversize, len(b), h.cfg.Wire.MaxBytes)
	}
	return b, nil
}

// compose chains increments parts[0], parts[1], ... (each against the
// version the previous one produced) into one adapter from the first base
// to the last version, following learner.Delta's merge contract as a
// device applying them in order sees it:
//   - tensors are weight changes added to the base: summed;
//   - class statistics are additive sufficient statistics: summed;
//   - samples are concatenated, labels united;
//   - Merged is the first increment's only: a device's outstanding export
//     is against its own version (learner.Method.Delta), so only the
//     version right after it can have merged that export;
//   - Examples, for reporting, is the total.
func compose(parts []*learner.Delta) (*learner.Delta, error) {
	if len(parts) == 0 {
		return nil, errors.New("hub: compose of no adapters")
	}
	first := parts[0]
	out := &learner.Delta{
		Method: first.Method, Dim: first.Dim, ModelID: first.ModelID,
		BaseVersion: first.BaseVersion, Version: first.BaseVersion, Merged: slices.Clone(first.Merged),
	}
	type acc struct {
		shape []int
		sum   []float64
	}
	var tensorOrder []string
	tensors := map[string]*acc{}
	classes := map[learner.ID]*learner.ClassStats{}
	labels := map[learner.ID]int{}
	for _, d := range parts {
		switch {
		case d.BaseVersion != out.Version:
			return nil, fmt.Errorf("hub: compose: adapter %d is against %d, not %d", d.Version, d.BaseVersion, out.Version)
		case d.Version <= d.BaseVersion:
			return nil, fmt.Errorf("hub: compose: adapter version %d not above its base %d", d.Version, d.BaseVersion)
		case d.Method != first.Method || d.Dim != first.Dim:
			return nil, fmt.Errorf("hub: compose: %s dim %d after %s dim %d", d.Method, d.Dim, first.Method, first.Dim)
		}
		out.Version = d.Version
		out.Examples += d.Examples
		if out.ModelID == "" {
			out.ModelID = d.ModelID
		}
		for _, t := range d.Tensors {
			a, ok := tensors[t.Name]
			if !ok {
				a = &acc{shape: slices.Clone(t.Shape), sum: make([]float64, len(t.Data))}
				tensors[t.Name] = a
				tensorOrder = append(tensorOrder, t.Name)
			}
			if len(a.sum) != len(t.Data) {
				return nil, fmt.Errorf("hub: compose: tensor %q sizes %d and %d", t.Name, len(a.sum), len(t.Data))
			}
			for i, v := range t.Data {
				a.sum[i] += float64(v)
			}
		}
		for _, c := range d.Classes {
			m, ok := classes[c.Label]
			if !ok {
				m = &learner.ClassStats{Label: c.Label, Sum: make([]float64, len(c.Sum))}
				classes[c.Label] = m
			}
			if len(m.Sum) != len(c.Sum) {
				return nil, fmt.Errorf("hub: compose: class %v sums of sizes %d and %d", c.Label, len(m.Sum), len(c.Sum))
			}
			m.Count += c.Count
			m.Examples += c.Examples
			for i, v := range c.Sum {
				m.Sum[i] += v
			}
		}
		for _, s := range d.Samples {
			out.Samples = append(out.Samples, learner.Example{Emb: slices.Clone(s.Emb), Label: s.Label, Weight: s.Weight, Source: s.Source})
		}
		for _, l := range d.Labels {
			if i, ok := labels[l.ID]; ok {
				if out.Labels[i].Name == "" {
					out.Labels[i].Name = l.Name
				}
				if out.Labels[i].Text == nil && l.Text != nil {
					out.Labels[i].Text = slices.Clone(l.Text)
				}
				continue
			}
			labels[l.ID] = len(out.Labels)
			out.Labels = append(out.Labels, learner.LabelInfo{ID: l.ID, Name: l.Name, Text: slices.Clone(l.Text)})
		}
	}
	for _, name := range tensorOrder {
		a := tensors[name]
		data := make([]float32, len(a.sum))
		for i, v := range a.sum {
			data[i] = float32(v)
		}
		out.Tensors = append(out.Tensors, learner.Tensor{Name: name, Shape: a.shape, Data: data})
	}
	for _, id := range slices.Sorted(maps.Keys(classes)) {
		out.Classes = append(out.Classes, *classes[id])
	}
	return out, nil
}
