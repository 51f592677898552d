package wire

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/clipfleet/clipfleet/learner"
)

// FromDelta converts a learner delta into a payload: KindDeviceDelta for a
// device export (Version 0), KindGlobalAdapter for a merged one. Tensors
// are compressed as c says; with ef (device exports only) each tensor is
// sent with the due residual added and the new residual is recorded as
// pending on ef. Tensors with a due residual but no change in d are sent
// too, so a residual is never stranded. Class statistics, samples and
// labels are copied exactly.
//
// The caller fills in Fleet, Device, Seq, PreprocessHash, CreatedAt and
// (for hub payloads) ExpiresAt before Encode.
func FromDelta(d *learner.Delta, c Compression, ef *ErrorFeedback) (*Payload, error) {
	if d == nil {
		return nil, errors.New("wire: nil delta")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	kind := KindDeviceDelta
	if d.Version != 0 {
		kind = KindGlobalAdapter
	}
	if ef != nil && (kind != KindDeviceDelta || d.ID == 0) {
		return nil, errors.New("wire: error feedback needs a device export with an ID")
	}
	p := &Payload{
		Kind: kind, BaseVersion: d.BaseVersion, Version: d.Version, DeltaID: d.ID,
		Merged: slices.Clone(d.Merged), Method: d.Method, ModelID: d.ModelID, Dim: d.Dim,
		Examples: d.Examples, Classes: cloneClasses(d.Classes), Samples: cloneSamples(d.Samples),
		Labels: cloneLabels(d.Labels),
	}
	var due map[string]residual
	pending := map[string]residual{}
	if ef != nil {
		ef.mu.Lock()
		defer ef.mu.Unlock()
		due = ef.residual
	}
	add := func(name string, shape []int, v []float32) {
		t := compress(name, shape, v, c)
		if ef != nil {
			res := t.Dense()
			nonzero := false
			for i := range res {
				res[i] = v[i] - res[i]
				nonzero = nonzero || res[i] != 0
			}
			if nonzero {
				pending[name] = residual{shape: slices.Clone(shape), data: res}
			}
		}
		p.Tensors = append(p.Tensors, t)
	}
	inDelta := map[string]bool{}
	for _, t := range d.Tensors {
		n, ok := shapeLen(t.Shape, math.MaxInt32)
		if !ok || n != len(t.Data) {
			return nil, fmt.Errorf("wire: tensor %q: shape %v does not hold %d values", t.Name, t.Shape, len(t.Data))
		}
		if inDelta[t.Name] {
			return nil, fmt.Errorf("wire: duplicate tensor %q", t.Name)
		}
		inDelta[t.Name] = true
		for i, x := range t.Data {
			if !finite32(x) {
				return nil, fmt.Errorf("%w: tensor %q value %d is %v", ErrNonFinite, t.Name, i, x)
			}
		}
		v := t.Data
		if r, ok := due[t.Name]; ok {
			if !slices.Equal(r.shape, t.Shape) {
				return nil, fmt.Errorf("wire: tensor %q has shape %v, its residual %v (Reset the error feedback after a model change)", t.Name, t.Shape, r.shape)
			}
			v = make([]float32, n)
			for i := range v {
				v[i] = t.Data[i] + r.data[i]
			}
		}
		add(t.Name, t.Shape, v)
	}
	for _, name := range sortedKeys(due) {
		if !inDelta[name] {
			add(name, due[name].shape, due[name].data)
		}
	}
	if ef != nil {
		ef.pendingID, ef.pending = d.ID, pending
	}
	return p, nil
}

// Delta converts a device delta or global adapter back into a learner
// delta: float32 tensors exactly, int8 ones dequantised, sparse ones
// expanded with zeros. Everything is copied.
func (p *Payload) Delta() (*learner.Delta, error) {
	if p.Kind != KindDeviceDelta && p.Kind != KindGlobalAdapter {
		return nil, fmt.Errorf("wire: a %v payload carries no delta", p.Kind)
	}
	d := &learner.Delta{
		Method: p.Method, Dim: p.Dim, ModelID: p.ModelID, BaseVersion: p.BaseVersion,
		Version: p.Version, ID: p.DeltaID, Merged: slices.Clone(p.Merged), Examples: p.Examples,
		Classes: cloneClasses(p.Classes), Samples: cloneSamples(p.Samples), Labels: cloneLabels(p.Labels),
	}
	for i := range p.Tensors {
		t := &p.Tensors[i]
		d.Tensors = append(d.Tensors, learner.Tensor{Name: t.Name, Shape: slices.Clone(t.Shape), Data: t.Dense()})
	}
	return d, nil
}

func cloneClasses(cs []learner.ClassStats) []learner.ClassStats {
	if cs == nil {
		return nil
	}
	out := make([]learner.ClassStats, len(cs))
	for i, c := range cs {
		c.Sum = slices.Clone(c.Sum)
		out[i] = c
	}
	return out
}

func cloneSamples(ss []learner.Example) []learner.Example {
	if ss == nil {
		return nil
	}
	out := make([]learner.Example, len(ss))
	for i, s := range ss {
		s.Emb = slices.Clone(s.Emb)
		out[i] = s
	}
	return out
}

func cloneLabels(ls []learner.LabelInfo) []learner.LabelInfo {
	if ls == nil {
		return nil
	}
	out := make([]learner.LabelInfo, len(ls))
	for i, l := range ls {
		l.Text = slices.Clone(l.Text)
		out[i] = l
	}
	return out
}
