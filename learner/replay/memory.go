package replay

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/clipfleet/clipfleet/learner"
)

// metaBytes is the per-example cost beside the quantized embedding:
// scale (4), weight (4), label (8), source (1).
const metaBytes = 17

// ItemBytes is what one stored example of dimension dim costs.
func ItemBytes(dim int) int64 { return int64(dim) + metaBytes }

// Memory is a class-balanced reservoir of quantized examples. Safe for
// concurrent use.
type Memory struct {
	cfg      Config
	dim      int
	capacity int

	mu      sync.Mutex
	q       []int8 // capacity×dim arena, slot i at i*dim
	scales  []float32
	weights []float32
	labels  []learner.ID
	sources []learner.Source
	stored  map[learner.ID]int
	seen    map[learner.ID]int64
	pcg     *rand.PCG
	rng     *rand.Rand
}

// New returns an empty memory for embeddings of dimension dim.
func New(cfg Config, dim int) (*Memory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if dim < 1 {
		return nil, fmt.Errorf("replay: dim %d < 1", dim)
	}
	capacity := int(cfg.MaxBytes / ItemBytes(dim))
	if capacity < 1 {
		return nil, fmt.Errorf("%w: max_bytes %d holds no %d-d example (%d bytes each)", ErrInvalidConfig, cfg.MaxBytes, dim, ItemBytes(dim))
	}
	pcg := rand.NewPCG(cfg.Seed, 0x7265706c6179)
	return &Memory{
		cfg: cfg, dim: dim, capacity: capacity,
		q:      make([]int8, 0, capacity*dim),
		stored: map[learner.ID]int{}, seen: map[learner.ID]int64{},
		pcg: pcg, rng: rand.New(pcg),
	}, nil
}

// Capacity is the number of examples MaxBytes holds.
func (m *Memory) Capacity() int { return m.capacity }

// Dim is the embedding dimension.
func (m *Memory) Dim() int { return m.dim }

// Len is the number of stored examples.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.labels)
}

// Bytes is the memory used by stored examples (≤ MaxBytes).
func (m *Memory) Bytes() int64 { return int64(m.Len()) * ItemBytes(m.dim) }

// PerClass returns the stored count of each class.
func (m *Memory) PerClass() map[learner.ID]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[learner.ID]int, len(m.stored))
	for k, v := range m.stored {
		out[k] = v
	}
	return out
}

// Seen returns how many examples of id were offered to Add.
func (m *Memory) Seen(id learner.ID) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen[id]
}

// Add offers an example to the reservoir and reports whether it was stored.
func (m *Memory) Add(e learner.Example) (bool, error) {
	if len(e.Emb) != m.dim {
		return false, fmt.Errorf("replay: %w: %d components, want %d", learner.ErrDim, len(e.Emb), m.dim)
	}
	if e.Label == 0 {
		return false, fmt.Errorf("replay: %w", learner.ErrInvalidID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen[e.Label]++
	if len(m.labels) < m.capacity {
		m.q = m.q[:len(m.q)+m.dim]
		m.scales = append(m.scales, 0)
		m.weights = append(m.weights, 0)
		m.labels = append(m.labels, 0)
		m.sources = append(m.sources, 0)
		m.put(len(m.labels)-1, e)
		return true, nil
	}
	largest := m.largest()
	if !largest[e.Label] {
		// Take room from the classes that have the most: pick uniformly
		// among their examples.
		m.put(m.pick(largest), e)
		return true, nil
	}
	// Reservoir sampling within the class: keep with prob stored/seen.
	if m.rng.Int64N(m.seen[e.Label]) >= int64(m.stored[e.Label]) {
		return false, nil
	}
	m.put(m.pick(map[learner.ID]bool{e.Label: true}), e)
	return true, nil
}

// largest returns the classes with the maximum stored count.
func (m *Memory) largest() map[learner.ID]bool {
	most := 0
	for _, n := range m.stored {
		most = max(most, n)
	}
	out := map[learner.ID]bool{}
	for id, n := range m.stored {
		if n == most {
			out[id] = true
		}
	}
	return out
}

// pick returns a uniformly random slot holding one of classes; the scan is
// in slot order so the choice depends only on the RNG, not on map order.
func (m *Memory) pick(classes map[learner.ID]bool) int {
	total := 0
	for id := range classes {
		total += m.stored[id]
	}
	k := m.rng.IntN(total)
	for i, l := range m.labels {
		if classes[l] {
			if k == 0 {
				return i
			}
			k--
		}
	}
	panic("replay: stored counts out of sync with slots")
}

// put writes e into slot i, replacing what was there.
func (m *Memory) put(i int, e learner.Example) {
	if old := m.labels[i]; old != 0 {
		m.stored[old]--
		if m.stored[old] == 0 {
			delete(m.stored, old)
		}
	}
	m.scales[i] = Quantize(e.Emb, m.q[i*m.dim:(i+1)*m.dim])
	m.weights[i] = e.W()
	m.labels[i] = e.Label
	src := e.Source
	if src == 0 {
		src = learner.Taught
	}
	m.sources[i] = src
	m.stored[e.Label]++
}

// Sample draws n distinct stored examples (fewer if the memory holds fewer)
// uniformly, dequantized, in a reproducible order for a given seed and
// history.
func (m *Memory) Sample(n int) []learner.Example {
	m.mu.Lock()
	defer m.mu.Unlock()
	n = min(n, len(m.labels))
	// Partial Fisher–Yates over slot indices.
	idx := make([]int, len(m.labels))
	for i := range idx {
		idx[i] = i
	}
	out := make([]learner.Example, n)
	for k := 0; k < n; k++ {
		j := k + m.rng.IntN(len(idx)-k)
		idx[k], idx[j] = idx[j], idx[k]
		out[k] = m.example(idx[k])
	}
	return out
}

// All returns every stored example, in slot order.
func (m *Memory) All() []learner.Example {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]learner.Example, len(m.labels))
	for i := range out {
		out[i] = m.example(i)
	}
	return out
}

func (m *Memory) example(i int) learner.Example {
	emb := make([]float32, m.dim)
	Dequantize(m.q[i*m.dim:(i+1)*m.dim], m.scales[i], emb)
	return learner.Example{Emb: emb, Label: m.labels[i], Weight: m.weights[i], Source: m.sources[i]}
}

// shrink evicts from the largest classes until at most capacity remain
// (used when a file saved under a larger budget is loaded).
func (m *Memory) shrink() {
	for len(m.labels) > m.capacity {
		i := m.pick(m.largest())
		last := len(m.labels) - 1
		m.stored[m.labels[i]]--
		if m.stored[m.labels[i]] == 0 {
			delete(m.stored, m.labels[i])
		}
		copy(m.q[i*m.dim:(i+1)*m.dim], m.q[last*m.dim:])
		m.scales[i], m.weights[i], m.labels[i], m.sources[i] = m.scales[last], m.weights[last], m.labels[last], m.sources[last]
		m.q = m.q[:last*m.dim]
		m.scales, m.weights, m.labels, m.sources = m.scales[:last], m.weights[:last], m.labels[:last], m.sources[:last]
	}
}

func sortedClasses(m map[learner.ID]int64) []learner.ID {
	ids := make([]learner.ID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
