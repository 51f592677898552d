package learner

import (
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"sync"
)

func init() { Register("knn", newKNN) }

// knnEntry is one stored example.
type knnEntry struct {
	emb    []float32 // normalised
	label  ID
	weight float32
	seq    uint64 // insertion order, for oldest-first eviction
	local  bool   // learned here since the fleet base, so not yet shipped
	key    uint64 // hash of label+embedding, to recognise it in deltas/undo
}

// KNN is Coral's teachable machine: k nearest stored examples vote (cosine
// similarity), and the logits are the log vote shares, so softmax(logits)
// is the vote distribution. Pair it with Smoother for majority smoothing
// over recent frames. The store is bounded: when full, the oldest example
// of the most populous class is evicted, which keeps rare classes alive.
type KNN struct {
	cfg    Config
	labels *Labels
	log    *slog.Logger

	mu       sync.Mutex
	entries  []knnEntry
	perClass map[ID]int
	seq      uint64
	exported map[uint64]int // keys of the last export, with multiplicity
	sync     syncBase

	sims  []float32
	top   []int
	votes []float64
}

func newKNN(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
	return &KNN{cfg: cfg, labels: labels, log: log, perClass: map[ID]int{}}, nil
}

// Name implements Method.
func (k *KNN) Name() string { return "knn" }

// Dim implements Method.
func (k *KNN) Dim() int { return k.cfg.Dim }

// Len is the number of stored examples.
func (k *KNN) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.entries)
}

func entryKey(label ID, emb []float32) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range 8 {
		b[i] = byte(uint64(label) >> (8 * i))
	}
	h.Write(b[:])
	for _, x := range emb {
		u := math.Float32bits(x)
		h.Write([]byte{byte(u), byte(u >> 8), byte(u >> 16), byte(u >> 24)})
	}
	return h.Sum64()
}

func (k *KNN) insert(e knnEntry) {
	if len(k.entries) >= k.cfg.KNN.Capacity {
		k.evict()
	}
	k.seq++
	e.seq = k.seq
	k.entries = append(k.entries, e)
	k.perClass[e.label]++
}

// evict removes the oldest entry of the class with the most entries (ties:
// the class whose oldest entry is older).
func (k *KNN) evict() {
	most := 0
	for _, n := range k.perClass {
		most = max(most, n)
	}
	victim := -1
	for i, e := range k.entries {
		if k.perClass[e.label] == most && (victim < 0 || e.seq < k.entries[victim].seq) {
			victim = i
		}
	}
	k.remove(victim)
}

func (k *KNN) remove(i int) {
	lab := k.entries[i].label
	k.perClass[lab]--
	if k.perClass[lab] == 0 {
		delete(k.perClass, lab)
	}
	last := len(k.entries) - 1
	k.entries[i] = k.entries[last]
	k.entries[last] = knnEntry{}
	k.entries = k.entries[:last]
}

// Learn stores each example (normalised copy).
func (k *KNN) Learn(batch []Example) error {
	if err := checkBatch(batch, k.cfg.Dim, k.labels.Current()); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, ex := range batch {
		v, _ := Normalized(ex.Emb)
		k.insert(knnEntry{emb: v, label: ex.Label, weight: ex.W(), local: true, key: entryKey(ex.Label, v)})
	}
	return nil
}

// Unlearn removes one stored copy of each example (newest first); examples
// already evicted are ignored, since they no longer influence predictions.
func (k *KNN) Unlearn(batch []Example) error {
	if err := checkBatch(batch, k.cfg.Dim, k.labels.Current()); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, ex := range batch {
		v, _ := Normalized(ex.Emb)
		key := entryKey(ex.Label, v)
		best := -1
		for i, e := range k.entries {
			if e.key == key && (best < 0 || e.seq > k.entries[best].seq) {
				best = i
			}
		}
		if best >= 0 {
			k.remove(best)
		}
	}
	return nil
}

// Predict implements Method.
func (k *KNN) Predict(emb, dst []float32) ([]float32, error) {
	if err := checkEmb(emb, k.cfg.Dim); err != nil {
		return dst, err
	}
	s := k.labels.Current()
	dst = resize(dst, s.Len())
	k.mu.Lock()
	defer k.mu.Unlock()
	n := norm(emb)
	kk := min(k.cfg.KNN.K, len(k.entries))
	k.top = k.top[:0]
	k.sims = resize(k.sims, len(k.entries))
	for i, e := range k.entries {
		k.sims[i] = float32(float64(dot(emb, e.emb)) / n)
		// keep top-k indices sorted by similarity, descending; k is small
		// so insertion beats a heap
		if len(k.top) < kk || k.sims[i] > k.sims[k.top[len(k.top)-1]] {
			if len(k.top) == kk {
				k.top = k.top[:kk-1]
			}
			j := len(k.top)
			k.top = append(k.top, i)
			for j > 0 && k.sims[k.top[j-1]] < k.sims[i] {
				k.top[j] = k.top[j-1]
				j--
			}
			k.top[j] = i
		}
	}
	if cap(k.votes) < len(dst) {
		k.votes = make([]float64, len(dst))
	}
	votes := k.votes[:len(dst)]
	clear(votes)
	var total float64
	for _, i := range k.top {
		e := k.entries[i]
		idx, ok := s.Index(e.label)
		if !ok {
			continue
		}
		v := float64(e.weight)
		if k.cfg.KNN.Weighted {
			// (1+cos)/2 keeps votes positive for dissimilar neighbours.
			v *= (1 + float64(k.sims[i])) / 2
		}
		votes[idx] += v
		total += v
	}
	for i := range dst {
		if votes[i] <= 0 || total <= 0 {
			dst[i] = NoLogit
			continue
		}
		dst[i] = float32(math.Log(votes[i] / total))
	}
	return dst, nil
}

type knnMeta struct {
	syncMeta
	Seq      uint64         `json:"seq"`
	Labels   []ID           `json:"labels"`
	Weights  []float32      `json:"weights"`
	Seqs     []uint64       `json:"seqs"`
	Local    []bool         `json:"local"`
	Exported map[uint64]int `json:"exported,omitempty"`
}

// Snapshot implements Method.
func (k *KNN) Snapshot() ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	meta := knnMeta{syncMeta: k.sync.meta(), Seq: k.seq, Exported: k.exported}
	data := make([]float32, 0, len(k.entries)*k.cfg.Dim)
	for _, e := range k.entries {
		meta.Labels = append(meta.Labels, e.label)
		meta.Weights = append(meta.Weights, e.weight)
		meta.Seqs = append(meta.Seqs, e.seq)
		meta.Local = append(meta.Local, e.local)
		data = append(data, e.emb...)
	}
	e := &Envelope{Kind: "method", Method: k.Name(), Dim: k.cfg.Dim, Version: stateVersion,
		Tensors: []Tensor{{Name: "emb", Shape: []int{len(k.entries), k.cfg.Dim}, Data: data}}}
	return sealState(e, meta)
}

// Restore implements Method. A snapshot larger than this configuration's
// capacity is refused rather than silently truncated.
func (k *KNN) Restore(b []byte) error {
	var meta knnMeta
	e, err := openState(b, k.Name(), k.cfg.Dim, stateVersion, &meta)
	if err != nil {
		return err
	}
	t, ok := e.F32("emb")
	n := len(meta.Labels)
	if !ok || len(t.Data) != n*k.cfg.Dim || len(meta.Weights) != n || len(meta.Seqs) != n || len(meta.Local) != n {
		return fmt.Errorf("%w: knn store sizes disagree", ErrCorrupt)
	}
	if n > k.cfg.KNN.Capacity {
		return fmt.Errorf("%w: snapshot holds %d examples, capacity is %d", ErrIncompatible, n, k.cfg.KNN.Capacity)
	}
	entries := make([]knnEntry, n)
	per := map[ID]int{}
	for i := range entries {
		emb := t.Data[i*k.cfg.Dim : (i+1)*k.cfg.Dim : (i+1)*k.cfg.Dim]
		entries[i] = knnEntry{emb: emb, label: meta.Labels[i], weight: meta.Weights[i], seq: meta.Seqs[i],
			local: meta.Local[i], key: entryKey(meta.Labels[i], emb)}
		per[meta.Labels[i]]++
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.entries, k.perClass, k.seq, k.exported = entries, per, meta.Seq, meta.Exported
	k.sync.setMeta(meta.syncMeta)
	return nil
}

// BaseVersion implements Method.
func (k *KNN) BaseVersion() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sync.version
}

// Delta exports the examples stored locally since base, as Samples.
func (k *KNN) Delta(base uint64) (*Delta, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	d, err := k.sync.startExport(base, k.Name(), k.cfg.Dim, k.cfg.ModelID)
	if err != nil {
		return nil, err
	}
	k.exported = map[uint64]int{}
	seen := map[ID]bool{}
	var ids []ID
	for _, e := range k.entries {
		if !e.local {
			continue
		}
		d.Samples = append(d.Samples, Example{Emb: append([]float32(nil), e.emb...), Label: e.label, Weight: e.weight})
		d.Examples += float64(e.weight)
		k.exported[e.key]++
		if !seen[e.label] {
			seen[e.label] = true
			ids = append(ids, e.label)
		}
	}
	d.Labels = labelInfos(k.labels.Current(), ids)
	return d, nil
}

// ApplyMerged stores the fleet's samples; this device's own exported
// samples (if the merge included them) are recognised and become base.
func (k *KNN) ApplyMerged(d *Delta) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	included, err := k.sync.checkMerged(d, k.Name(), k.cfg.Dim, k.cfg.ModelID)
	if err != nil {
		return err
	}
	for _, s := range d.Samples {
		if err := checkEmb(s.Emb, k.cfg.Dim); err != nil {
			return err
		}
	}
	if err := k.labels.Ensure(d.Labels); err != nil {
		return err
	}
	own := map[uint64]int{}
	if included {
		for key, n := range k.exported {
			own[key] = n
		}
		for i := range k.entries {
			if e := &k.entries[i]; e.local && own[e.key] > 0 {
				// shipped and merged: now part of the base
				e.local = false
			}
		}
	}
	for _, s := range d.Samples {
		v, err := Normalized(s.Emb)
		if err != nil {
			return err
		}
		key := entryKey(s.Label, v)
		if own[key] > 0 {
			own[key]--
			continue
		}
		if _, ok := k.labels.Current().Index(s.Label); !ok {
			if err := k.labels.AddID(s.Label, ""); err != nil {
				return err
			}
		}
		k.insert(knnEntry{emb: v, label: s.Label, weight: Example{Weight: s.Weight}.W(), key: key})
	}
	k.exported = nil
	k.sync.version, k.sync.exportID = d.Version, 0
	return nil
}

// Footprint implements Method: D float32 plus bookkeeping per stored example.
func (k *KNN) Footprint() Footprint {
	k.mu.Lock()
	defer k.mu.Unlock()
	per := bytesF32(k.cfg.Dim) + 8 + 4 + 8 + 8 + 1
	return classFootprint(len(k.perClass), int64(len(k.entries))*per)
}
