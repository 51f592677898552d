package learner

import (
	"fmt"
	"math"
	"unicode"
)

// Helpers shared by the vocabulary learners (coleclip, cllclip) and the
// regularised heads (zscl, modx, sit): which classes are new (for task
// boundaries, see TaskBoundary in task.go), per-class vector tables in
// snapshots, and small vector arithmetic.

// seenClasses remembers which classes a method has learned, so the first
// example of a new class can open a new task.
type seenClasses map[ID]bool

// anyNew reports whether batch holds a class not seen yet.
func (s seenClasses) anyNew(batch []Example) bool {
	for _, e := range batch {
		if !s[e.Label] {
			return true
		}
	}
	return false
}

func (s seenClasses) add(batch []Example) {
	for _, e := range batch {
		s[e.Label] = true
	}
}

func (s seenClasses) ids() []ID { return sortedIDs(s) }

func seenFrom(ids []ID) seenClasses {
	s := make(seenClasses, len(ids))
	for _, id := range ids {
		s[id] = true
	}
	return s
}

// encodeVecs appends one tensor per class of m (sorted by ID) and returns
// the IDs, for the snapshot meta.
func encodeVecs(prefix string, m map[ID][]float32, e *Envelope) []ID {
	ids := sortedIDs(m)
	for _, id := range ids {
		e.Tensors = append(e.Tensors, Tensor{Name: prefix + id.String(), Shape: []int{len(m[id])}, Data: m[id]})
	}
	return ids
}

// decodeVecs is the inverse of encodeVecs; every vector must have dim
// components.
func decodeVecs(prefix string, ids []ID, e *Envelope, dim int) (map[ID][]float32, error) {
	out := make(map[ID][]float32, len(ids))
	for _, id := range ids {
		t, ok := e.F32(prefix + id.String())
		if !ok || len(t.Data) != dim {
			return nil, fmt.Errorf("%w: missing vector %s%v", ErrCorrupt, prefix, id)
		}
		if err := checkFinite(t.Data); err != nil {
			return nil, fmt.Errorf("%w: vector %s%v: %v", ErrCorrupt, prefix, id, err)
		}
		out[id] = t.Data
	}
	return out, nil
}

// mix returns normalize(k·a + (1-k)·b) for unit a and b, or nil when the
// two cancel out.
func mix(a, b []float32, k float64) []float32 {
	out := make([]float32, len(a))
	for i := range out {
		out[i] = float32(k*float64(a[i]) + (1-k)*float64(b[i]))
	}
	if normalizeInto(out, out) == 0 {
		return nil
	}
	return out
}

// nonASCIIName reports whether a label name has letters outside ASCII —
// the cheap hint that it is not English, the only language the stock CLIP
// text encoder was trained on.
func nonASCIIName(name string) bool {
	for _, r := range name {
		if r > unicode.MaxASCII && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// logSoftmax writes log softmax(l) into dst for the entries with valid[i]
// (all if valid is nil) and -Inf elsewhere; it returns dst.
func logSoftmax(l []float64, valid []bool, dst []float64) []float64 {
	if cap(dst) < len(l) {
		dst = make([]float64, len(l))
	}
	dst = dst[:len(l)]
	maxv := math.Inf(-1)
	for i, v := range l {
		if valid == nil || valid[i] {
			maxv = math.Max(maxv, v)
		}
	}
	var sum float64
	for i, v := range l {
		if valid == nil || valid[i] {
			sum += math.Exp(v - maxv)
		}
	}
	lse := maxv + math.Log(sum)
	for i, v := range l {
		if valid == nil || valid[i] {
			dst[i] = v - lse
		} else {
			dst[i] = math.Inf(-1)
		}
	}
	return dst
}

func resize64(dst []float64, n int) []float64 {
	if cap(dst) < n {
		return make([]float64, n)
	}
	return dst[:n]
}

func resizeBool(dst []bool, n int) []bool {
	if cap(dst) < n {
		return make([]bool, n)
	}
	return dst[:n]
}
