package learner

import (
	"fmt"
	"sort"
)

// Delta is what one device learned since a fleet base version, or (after
// MergeDeltas) what the whole fleet learned. It is a plain struct; package
// sync defines its wire encoding.
//
// Merge contract (MergeDeltas implements it, sync's server must too):
//   - Tensors: parameter changes since the base; merged as the mean weighted
//     by Examples (FedAvg). A device without a tensor contributes zero change.
//   - Classes: additive sufficient statistics; merged by summing per label,
//     which is exact: the merged prototypes equal those of one device that
//     saw every example.
//   - Samples: stored examples (k-NN); merged by concatenation.
//   - Labels: union by ID, so a class taught on one device becomes known on
//     all of them.
//
// A device must send only its latest Delta for a base version: each export
// replaces the previous one for that base.
type Delta struct {
	Method      string
	Dim         int
	ModelID     string
	BaseVersion uint64 // fleet version the changes are relative to
	Version     uint64 // 0 in a device export; the new fleet version once merged
	// ID is a random nonce of a device export. Merged lists the IDs of the
	// exports a merged delta includes: a device subtracts its own export
	// only if it was included, so a delta the server missed is not lost but
	// sent again against the next base.
	ID       uint64
	Merged   []uint64
	Examples float64
	Tensors  []Tensor
	Classes  []ClassStats
	Samples  []Example
	Labels   []LabelInfo
}

// ClassStats are per-class sufficient statistics: the weighted sum of the
// normalised embeddings and the total weight. Prototype = Sum / Count.
type ClassStats struct {
	Label    ID
	Count    float64 // total example weight
	Examples int64   // number of examples (unweighted), for reporting
	Sum      []float64
}

// Empty reports whether the delta carries no change.
func (d *Delta) Empty() bool {
	return len(d.Tensors) == 0 && len(d.Classes) == 0 && len(d.Samples) == 0
}

// compatible checks that d can be applied to a method with these settings.
func (d *Delta) compatible(method string, dim int, modelID string) error {
	if d == nil {
		return fmt.Errorf("%w: nil delta", ErrIncompatible)
	}
	if d.Method != method || d.Dim != dim {
		return fmt.Errorf("%w: delta is %s dim %d, want %s dim %d", ErrIncompatible, d.Method, d.Dim, method, dim)
	}
	if d.ModelID != "" && modelID != "" && d.ModelID != modelID {
		return fmt.Errorf("%w: delta from model %q, this device runs %q", ErrIncompatible, d.ModelID, modelID)
	}
	return nil
}

// MergeDeltas merges device deltas against the same base into one fleet
// delta with the given new version. It is the reference implementation of
// the merge contract documented on Delta.
func MergeDeltas(version uint64, deltas ...*Delta) (*Delta, error) {
	if len(deltas) == 0 {
		return nil, fmt.Errorf("learner: merge of no deltas")
	}
	first := deltas[0]
	out := &Delta{Method: first.Method, Dim: first.Dim, ModelID: first.ModelID, BaseVersion: first.BaseVersion, Version: version}
	if version <= first.BaseVersion {
		return nil, fmt.Errorf("learner: merged version %d must exceed base %d", version, first.BaseVersion)
	}
	type acc struct {
		shape []int
		sum   []float64
	}
	tensors := map[string]*acc{}
	var tensorOrder []string
	classes := map[ID]*ClassStats{}
	labels := map[ID]int{}
	for _, d := range deltas {
		if err := d.compatible(first.Method, first.Dim, first.ModelID); err != nil {
			return nil, err
		}
		if d.BaseVersion != first.BaseVersion {
			return nil, fmt.Errorf("%w: deltas against bases %d and %d", ErrBaseMismatch, first.BaseVersion, d.BaseVersion)
		}
		if d.Examples < 0 {
			return nil, fmt.Errorf("learner: delta with negative example weight %v", d.Examples)
		}
		out.Examples += d.Examples
		if d.ID != 0 {
			out.Merged = append(out.Merged, d.ID)
		}
		for _, t := range d.Tensors {
			a, ok := tensors[t.Name]
			if !ok {
				a = &acc{shape: t.Shape, sum: make([]float64, len(t.Data))}
				tensors[t.Name] = a
				tensorOrder = append(tensorOrder, t.Name)
			}
			if len(a.sum) != len(t.Data) {
				return nil, fmt.Errorf("%w: tensor %q sizes %d and %d", ErrIncompatible, t.Name, len(a.sum), len(t.Data))
			}
			for i, v := range t.Data {
				a.sum[i] += d.Examples * float64(v)
			}
		}
		for _, c := range d.Classes {
			m, ok := classes[c.Label]
			if !ok {
				m = &ClassStats{Label: c.Label, Sum: make([]float64, len(c.Sum))}
				classes[c.Label] = m
			}
			if len(m.Sum) != len(c.Sum) {
				return nil, fmt.Errorf("%w: class %v sums of sizes %d and %d", ErrIncompatible, c.Label, len(m.Sum), len(c.Sum))
			}
			m.Count += c.Count
			m.Examples += c.Examples
			for i, v := range c.Sum {
				m.Sum[i] += v
			}
		}
		for _, s := range d.Samples {
			out.Samples = append(out.Samples, Example{Emb: append([]float32(nil), s.Emb...), Label: s.Label, Weight: s.Weight, Source: s.Source})
		}
		for _, l := range d.Labels {
			if i, ok := labels[l.ID]; ok {
				if out.Labels[i].Name == "" {
					out.Labels[i].Name = l.Name
				}
				if out.Labels[i].Text == nil && l.Text != nil {
					out.Labels[i].Text = append([]float32(nil), l.Text...)
				}
				continue
			}
			labels[l.ID] = len(out.Labels)
			out.Labels = append(out.Labels, LabelInfo{ID: l.ID, Name: l.Name, Text: append([]float32(nil), l.Text...)})
		}
	}
	if out.Examples > 0 {
		for _, name := range tensorOrder {
			a := tensors[name]
			data := make([]float32, len(a.sum))
			for i, v := range a.sum {
				data[i] = float32(v / out.Examples)
			}
			out.Tensors = append(out.Tensors, Tensor{Name: name, Shape: append([]int(nil), a.shape...), Data: data})
		}
	}
	ids := make([]ID, 0, len(classes))
	for id := range classes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		out.Classes = append(out.Classes, *classes[id])
	}
	return out, nil
}

// includes reports whether the merged delta includes the export with id.
func (d *Delta) includes(id uint64) bool {
	if id == 0 {
		return false
	}
	for _, m := range d.Merged {
		if m == id {
			return true
		}
	}
	return false
}

// labelInfos returns the LabelInfo of each id known to s, for a Delta.
func labelInfos(s *LabelSet, ids []ID) []LabelInfo {
	out := make([]LabelInfo, 0, len(ids))
	for _, id := range ids {
		if i, ok := s.Index(id); ok {
			in := s.Info(i)
			if in.Text != nil {
				in.Text = append([]float32(nil), in.Text...)
			}
			out = append(out, in)
		}
	}
	return out
}
