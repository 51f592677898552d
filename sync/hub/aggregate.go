package hub

import (
	"fmt"
	"math"
	"slices"

	"github.com/clipfleet/clipfleet/learner"
)

// clipDelta scales d's tensors in place so that their joint L2 norm is at
// most maxNorm, and reports the factor applied (1 if none). Class
// statistics are sums that must add up exactly across the fleet, so they
// are never scaled.
func clipDelta(d *learner.Delta, maxNorm float64) float64 {
	if maxNorm <= 0 {
		return 1
	}
	var s float64
	for _, t := range d.Tensors {
		for _, v := range t.Data {
			s += float64(v) * float64(v)
		}
	}
	n := math.Sqrt(s)
	if n <= maxNorm {
		return 1
	}
	f := maxNorm / n
	for _, t := range d.Tensors {
		for i, v := range t.Data {
			t.Data[i] = float32(float64(v) * f)
		}
	}
	return f
}

// robustTensors combines the tensors of deltas coordinate by coordinate
// with the median (trim < 0) or the mean after cutting trim of the values
// at each end. Deltas without example weight take no part (as in FedAvg,
// where their weight is 0); a participating delta without some tensor
// votes zero for it (the merge contract: no tensor, no change).
func robustTensors(deltas []*learner.Delta, trim float64) ([]learner.Tensor, error) {
	var voters []*learner.Delta
	for _, d := range deltas {
		if d.Examples > 0 {
			voters = append(voters, d)
		}
	}
	if len(voters) == 0 {
		return nil, nil
	}
	type slot struct {
		shape []int
		n     int
	}
	var names []string
	slots := map[string]slot{}
	for _, d := range voters {
		for _, t := range d.Tensors {
			s, ok := slots[t.Name]
			if !ok {
				slots[t.Name] = slot{shape: t.Shape, n: len(t.Data)}
				names = append(names, t.Name)
				continue
			}
			if s.n != len(t.Data) {
				return nil, fmt.Errorf("hub: tensor %q sizes %d and %d", t.Name, s.n, len(t.Data))
			}
		}
	}
	out := make([]learner.Tensor, 0, len(names))
	col := make([]float64, len(voters))
	for _, name := range names {
		s := slots[name]
		srcs := make([][]float32, len(voters))
		for i, d := range voters {
			for _, t := range d.Tensors {
				if t.Name == name {
					srcs[i] = t.Data
				}
			}
		}
		data := make([]float32, s.n)
		for j := range data {
			for i, src := range srcs {
				col[i] = 0
				if src != nil {
					col[i] = float64(src[j])
				}
			}
			if trim < 0 {
				data[j] = float32(median(col))
			} else {
				data[j] = float32(trimmedMean(col, trim))
			}
		}
		out = append(out, learner.Tensor{Name: name, Shape: slices.Clone(s.shape), Data: data})
	}
	return out, nil
}

// median sorts xs in place; the mean of the two middle values for an even
// count.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// trimmedMean sorts xs in place and averages what is left after dropping
// floor(trim·n) values at each end.
func trimmedMean(xs []float64, trim float64) float64 {
	slices.Sort(xs)
	k := int(math.Floor(trim * float64(len(xs))))
	xs = xs[k : len(xs)-k]
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// aggregate merges one round: learner.MergeDeltas for the weighted mean
// and the exact merge of class statistics, samples and labels, after
// optional clipping; a robust aggregator then replaces the tensors. The
// deltas are modified (clipped) in place.
func aggregate(version uint64, deltas []*learner.Delta, m Merge) (*learner.Delta, int, error) {
	clipped := 0
	for _, d := range deltas {
		if clipDelta(d, m.ClipNorm) < 1 {
			clipped++
		}
	}
	merged, err := learner.MergeDeltas(version, deltas...)
	if err != nil {
		return nil, clipped, fmt.Errorf("hub: merge: %w", err)
	}
	switch m.Aggregator {
	case Median:
		merged.Tensors, err = robustTensors(deltas, -1)
	case TrimmedMean:
		merged.Tensors, err = robustTensors(deltas, m.TrimFraction)
	}
	if err != nil {
		return nil, clipped, err
	}
	return merged, clipped, nil
}
