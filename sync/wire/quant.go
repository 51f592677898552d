package wire

import (
	"math"
	"slices"
)

// compress encodes the dense values v of a tensor as c asks: optionally
// keeping the top-k entries by magnitude, then optionally quantising to
// int8 with one scale per row.
func compress(name string, shape []int, v []float32, c Compression) Tensor {
	t := Tensor{Name: name, Shape: slices.Clone(shape), DType: Float32}
	if c.TopK > 0 && c.TopK < 1 {
		k := int(math.Ceil(c.TopK * float64(len(v))))
		t.Index = topK(v, k)
	}
	if !c.Int8 {
		if t.Sparse() {
			t.F32 = make([]float32, len(t.Index))
			for i, pos := range t.Index {
				t.F32[i] = v[pos]
			}
		} else {
			t.F32 = slices.Clone(v)
		}
		return t
	}
	t.DType = Int8
	cols := max(len(v)/rows(shape), 1)
	t.Scales = make([]float32, rows(shape))
	each := func(f func(i, pos int)) {
		if t.Sparse() {
			for i, pos := range t.Index {
				f(i, int(pos))
			}
			return
		}
		for i := range v {
			f(i, i)
		}
	}
	each(func(_, pos int) {
		r := pos / cols
		t.Scales[r] = max(t.Scales[r], float32(math.Abs(float64(v[pos]))))
	})
	for r, m := range t.Scales {
		t.Scales[r] = m / 127
	}
	t.Q = make([]int8, t.values())
	each(func(i, pos int) {
		s := t.Scales[pos/cols]
		if s == 0 {
			return
		}
		q := math.Round(float64(v[pos]) / float64(s))
		t.Q[i] = int8(max(-127, min(127, q)))
	})
	return t
}

// topK returns the positions of the k entries of v largest in magnitude,
// ascending; ties go to the lower position so the choice is deterministic.
// The result is non-nil (a sparse tensor) even when k is 0.
func topK(v []float32, k int) []uint32 {
	k = max(0, min(k, len(v)))
	out := make([]uint32, 0, k)
	if k == 0 {
		return out
	}
	mag := make([]float32, len(v))
	for i, x := range v {
		mag[i] = float32(math.Abs(float64(x)))
	}
	thr := kthLargest(slices.Clone(mag), k)
	above := 0
	for _, m := range mag {
		if m > thr {
			above++
		}
	}
	ties := k - above
	for i, m := range mag {
		switch {
		case m > thr:
			out = append(out, uint32(i))
		case m == thr && ties > 0:
			out = append(out, uint32(i))
			ties--
		}
	}
	return out
}

// kthLargest returns the k-th largest value of a (1-based), reordering a.
// Quickselect (linear on average, where sorting a 32 k-entry adapter would
// dominate encoding time) with a three-way partition, because adapters are
// often full of equal values (zeros) that would make a two-way one
// quadratic.
func kthLargest(a []float32, k int) float32 {
	lo, hi, want := 0, len(a)-1, k-1
	for lo < hi {
		pivot := median3(a[lo], a[lo+(hi-lo)/2], a[hi])
		// Invariant: [lo,lt) > pivot, [lt,i) == pivot, (gt,hi] < pivot.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case a[i] > pivot:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case a[i] < pivot:
				a[i], a[gt] = a[gt], a[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case want < lt:
			hi = lt - 1
		case want > gt:
			lo = gt + 1
		default:
			return pivot
		}
	}
	return a[lo]
}

func median3(a, b, c float32) float32 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}
