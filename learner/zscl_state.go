package learner

import (
	"encoding/json"
	"fmt"
	"strings"
)

// headStateVersion is the layout version of a head snapshot: the finetune
// snapshot's tensors and meta, plus the head's own under the prefixes below.
const headStateVersion = 1

const (
	anchorPrefix = "anchor/"
	avgPrefix    = "avg/"
	refImgTensor = "ref/img"
	refTxtTensor = "ref/txt"
)

type headMeta struct {
	Finetune     json.RawMessage `json:"finetune"`
	AnchorClass  []ID            `json:"anchor_classes,omitempty"`
	AvgClass     []ID            `json:"avg_classes,omitempty"`
	HasAnchor    bool            `json:"has_anchor"`
	HasAvg       bool            `json:"has_avg"`
	AvgN         int             `json:"avg_n"`
	Seen         []ID            `json:"seen"`
	Recent       []ID            `json:"recent,omitempty"`
	RefOffered   int64           `json:"ref_offered"`
	RNG          []byte          `json:"rng"`
	FinetuneVers int             `json:"finetune_version"`
}

func (ws *weightSet) encode(prefix string, e *Envelope) []ID {
	for _, name := range sortedKeys(ws.adapter) {
		w := ws.adapter[name]
		e.Tensors = append(e.Tensors, Tensor{Name: prefix + name, Shape: []int{len(w)}, Data: w})
	}
	return encodeVecs(prefix+classParamPrefix, ws.class, e)
}

func decodeWeightSet(prefix string, classes []ID, e *Envelope, f *Finetune) (*weightSet, error) {
	ws := &weightSet{adapter: map[string][]float32{}}
	for _, p := range f.fixed() {
		t, ok := e.F32(prefix + p.name)
		if !ok || len(t.Data) != len(p.w) {
			return nil, fmt.Errorf("%w: tensor %s%s", ErrCorrupt, prefix, p.name)
		}
		ws.adapter[p.name] = t.Data
	}
	cls, err := decodeVecs(prefix+classParamPrefix, classes, e, f.cfg.Dim)
	if err != nil {
		return nil, err
	}
	ws.class = cls
	return ws, nil
}

func matrix(name string, rows [][]float32, dim int) Tensor {
	data := make([]float32, 0, len(rows)*dim)
	for _, r := range rows {
		data = append(data, r...)
	}
	return Tensor{Name: name, Shape: []int{len(rows), dim}, Data: data}
}

func rowsOf(e *Envelope, name string, dim int) ([][]float32, error) {
	t, ok := e.F32(name)
	if !ok {
		return nil, nil
	}
	if len(t.Shape) != 2 || t.Shape[1] != dim {
		return nil, fmt.Errorf("%w: tensor %s has shape %v", ErrCorrupt, name, t.Shape)
	}
	out := make([][]float32, t.Shape[0])
	for i := range out {
		out[i] = t.Data[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out, nil
}

// Snapshot implements Method: the finetune state plus anchors, averages,
// the reference set, the SIT window and the sampling RNG.
func (h *Head) Snapshot() ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	inner, err := h.f.Snapshot()
	if err != nil {
		return nil, err
	}
	ie, err := DecodeEnvelope(inner)
	if err != nil {
		return nil, err
	}
	rng, err := h.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("learner: %s rng: %w", h.Name(), err)
	}
	meta := headMeta{Finetune: ie.Meta, AvgN: h.avgN, Seen: h.seen.ids(), Recent: h.recent,
		RefOffered: h.ref.offered, RNG: rng, FinetuneVers: ie.Version}
	e := &Envelope{Kind: "method", Method: h.Name(), Dim: h.cfg.Dim, Version: headStateVersion, Tensors: ie.Tensors}
	if h.anchor != nil {
		meta.HasAnchor, meta.AnchorClass = true, h.anchor.encode(anchorPrefix, e)
	}
	if h.avg != nil {
		meta.HasAvg, meta.AvgClass = true, h.avg.encode(avgPrefix, e)
	}
	if len(h.ref.images) > 0 {
		e.Tensors = append(e.Tensors, matrix(refImgTensor, h.ref.images, h.cfg.Dim))
	}
	if len(h.ref.texts) > 0 {
		e.Tensors = append(e.Tensors, matrix(refTxtTensor, h.ref.texts, h.cfg.Dim))
	}
	return sealState(e, meta)
}

// Restore implements Method. Everything is decoded and checked before the
// state changes.
func (h *Head) Restore(b []byte) error {
	var meta headMeta
	e, err := openState(b, h.Name(), h.cfg.Dim, headStateVersion, &meta)
	if err != nil {
		return err
	}
	if meta.HasAnchor != (h.anchor != nil) || meta.HasAvg != (h.avg != nil) {
		return fmt.Errorf("%w: snapshot made with other %s options", ErrIncompatible, h.Name())
	}
	inner := &Envelope{Kind: "method", Method: h.f.Name(), Dim: h.cfg.Dim, Version: meta.FinetuneVers, Meta: meta.Finetune}
	for _, t := range e.Tensors {
		if !strings.HasPrefix(t.Name, anchorPrefix) && !strings.HasPrefix(t.Name, avgPrefix) && !strings.HasPrefix(t.Name, "ref/") {
			inner.Tensors = append(inner.Tensors, t)
		}
	}
	innerBytes, err := inner.MarshalBinary()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var anchor, avg *weightSet
	if meta.HasAnchor {
		if anchor, err = decodeWeightSet(anchorPrefix, meta.AnchorClass, e, h.f); err != nil {
			return err
		}
	}
	if meta.HasAvg {
		if avg, err = decodeWeightSet(avgPrefix, meta.AvgClass, e, h.f); err != nil {
			return err
		}
	}
	images, err := rowsOf(e, refImgTensor, h.cfg.Dim)
	if err != nil {
		return err
	}
	texts, err := rowsOf(e, refTxtTensor, h.cfg.Dim)
	if err != nil {
		return err
	}
	if len(images) > h.ref.capacity {
		return fmt.Errorf("%w: %d reference images, capacity %d", ErrIncompatible, len(images), h.ref.capacity)
	}
	if meta.AvgN < 0 || meta.RefOffered < int64(len(images)) {
		return fmt.Errorf("%w: %s counters", ErrCorrupt, h.Name())
	}
	pcg := *h.pcg
	if err := pcg.UnmarshalBinary(meta.RNG); err != nil {
		return fmt.Errorf("%w: %s rng: %v", ErrCorrupt, h.Name(), err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.f.Restore(innerBytes); err != nil {
		return err
	}
	h.anchor, h.avg, h.avgN = anchor, avg, meta.AvgN
	h.seen, h.recent = seenFrom(meta.Seen), meta.Recent
	h.ref.images, h.ref.texts, h.ref.offered = images, texts, meta.RefOffered
	*h.pcg = pcg
	return nil
}

// BaseVersion implements Method.
func (h *Head) BaseVersion() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.f.sync.version
}

// Delta implements Method: the adapter's delta (every weight's change since
// base, averaged across the fleet), under the head's name. With weight
// averaging the averaged weights are consolidated first, so the fleet
// merges the model the device predicts with. Anchors, averages and the
// reference set stay on the device.
func (h *Head) Delta(base uint64) (*Delta, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.f.sync.checkBase(base); err != nil {
		return nil, err
	}
	h.consolidate()
	d, err := h.f.Delta(base)
	if err != nil {
		return nil, err
	}
	d.Method = h.Name()
	return d, nil
}

// ApplyMerged implements Method. The fleet's change to each weight is also
// added to its anchor and average, so the regularisers hold the device to
// "where the task started plus what the fleet learned" instead of pulling
// the fleet's knowledge back out.
func (h *Head) ApplyMerged(d *Delta) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := d.compatible(h.Name(), h.cfg.Dim, h.cfg.ModelID); err != nil {
		return err
	}
	before := h.copyWeights()
	inner := *d
	inner.Method = h.f.Name()
	if err := h.f.ApplyMerged(&inner); err != nil {
		return err
	}
	shift := func(ws *weightSet) {
		if ws == nil {
			return
		}
		for _, p := range h.f.fixed() {
			a, b := ws.adapter[p.name], before.adapter[p.name]
			for i, w := range p.w {
				a[i] += w - b[i]
			}
		}
		for id, p := range h.f.class {
			a, ok := ws.class[id]
			b, had := before.class[id]
			if !ok || !had {
				ws.class[id] = append([]float32(nil), p.w...)
				continue
			}
			for i, w := range p.w {
				a[i] += w - b[i]
			}
		}
	}
	shift(h.anchor)
	shift(h.avg)
	return nil
}

// Footprint implements Method: finetune's state, plus an anchor and an
// average copy of every weight (when used) and the reference set (fixed).
func (h *Head) Footprint() Footprint {
	h.mu.Lock()
	defer h.mu.Unlock()
	fp := h.f.Footprint()
	copies := int64(0)
	if h.anchor != nil {
		copies++
	}
	if h.avg != nil {
		copies++
	}
	var adapter int64
	for _, p := range h.f.fixed() {
		adapter += bytesF32(len(p.w))
	}
	fp.Fixed += copies*adapter + bytesF32((len(h.ref.images)+len(h.ref.texts))*h.cfg.Dim)
	if fp.Classes > 0 {
		fp.PerClass += copies * bytesF32(h.cfg.Dim)
	}
	fp.Total = fp.Fixed + int64(fp.Classes)*fp.PerClass
	return fp
}
