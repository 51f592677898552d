package learner

import "fmt"

// Per-class sufficient statistics — sums of normalised embeddings and their
// weights — shared by ncm and coleclip: how they grow, how they combine,
// the prototype they define and their snapshot form. Their fleet exchange
// is in class_delta.go.

// classSum is a class's sufficient statistics. Sums are float64 so that
// adding and later subtracting an example (undo, fleet merge) returns the
// exact previous prototype up to rounding far below float32 resolution.
type classSum struct {
	sum   []float64
	count float64 // total weight
	n     int64   // examples
}

func (c *classSum) zero() bool { return c.n == 0 && c.count == 0 }

// addExample adds the normalised embedding of e, weighted by sign·weight, to
// the sums of e's class (sign -1 removes it again) and returns them.
func addExample(m map[ID]*classSum, e Example, sign float64, dim int) *classSum {
	c, ok := m[e.Label]
	if !ok {
		c = &classSum{sum: make([]float64, dim)}
		m[e.Label] = c
	}
	w := sign * float64(e.W())
	inv := w / norm(e.Emb)
	for i, x := range e.Emb {
		c.sum[i] += float64(x) * inv
	}
	c.count += w
	c.n += int64(sign)
	return c
}

// addSum adds sign·src to dst.
func addSum(dst, src *classSum, sign float64) {
	for i, v := range src.sum {
		dst.sum[i] += sign * v
	}
	dst.count += sign * src.count
	dst.n += int64(sign) * src.n
}

func cloneSums(m map[ID]*classSum) map[ID]*classSum {
	out := make(map[ID]*classSum, len(m))
	for id, c := range m {
		out[id] = &classSum{sum: append([]float64(nil), c.sum...), count: c.count, n: c.n}
	}
	return out
}

// protoOf is the class's normalised mean embedding (nil: no direction).
func protoOf(c *classSum) []float32 {
	if c.count <= 0 {
		return nil
	}
	p := make([]float32, len(c.sum))
	var s float64
	for _, v := range c.sum {
		s += v * v
	}
	if s == 0 {
		return nil
	}
	inv := 1 / sqrt(s)
	for i, v := range c.sum {
		p[i] = float32(v * inv)
	}
	return p
}

// sumStat is a class's count and weight in a snapshot's meta; its sums are
// tensor prefix+ID.
type sumStat struct {
	ID    ID      `json:"id"`
	Count float64 `json:"count"`
	N     int64   `json:"n"`
}

// encodeSums appends one float64 tensor per class of m (sorted by ID) and
// returns the classes' counts for the snapshot meta.
func encodeSums(prefix string, m map[ID]*classSum, e *Envelope) []sumStat {
	var stats []sumStat
	for _, id := range sortedIDs(m) {
		c := m[id]
		stats = append(stats, sumStat{id, c.count, c.n})
		e.Tensors64 = append(e.Tensors64, Tensor64{Name: prefix + id.String(), Shape: []int{len(c.sum)}, Data: c.sum})
	}
	return stats
}

// decodeSums is the inverse of encodeSums; every sum must have dim
// components.
func decodeSums(prefix string, stats []sumStat, e *Envelope, dim int) (map[ID]*classSum, error) {
	out := make(map[ID]*classSum, len(stats))
	for _, st := range stats {
		t, ok := e.F64(prefix + st.ID.String())
		if !ok || len(t.Data) != dim {
			return nil, fmt.Errorf("%w: missing sums %s%v", ErrCorrupt, prefix, st.ID)
		}
		out[st.ID] = &classSum{sum: t.Data, count: st.Count, n: st.N}
	}
	return out, nil
}
