package learner

import (
	"fmt"
	"math"
)

// The fleet exchange of per-class statistics (Delta.Classes), shared by the
// methods that ship them as ClassStats: ncm and coleclip (sums of
// normalised embeddings) and cllclip (weighted vector changes).

// exportSums appends sums to d as ClassStats, sorted by label and copied so
// the delta does not alias live state, with the classes' labels. The FedAvg
// weight d.Examples adds |count|, so undone examples (negative counts) weigh
// too.
func exportSums(d *Delta, sums map[ID]*classSum, labels *Labels) {
	ids := sortedIDs(sums)
	for _, id := range ids {
		c := sums[id]
		d.Classes = append(d.Classes, ClassStats{Label: id, Count: c.count, Examples: c.n, Sum: append([]float64(nil), c.sum...)})
		d.Examples += math.Abs(c.count)
	}
	d.Labels = labelInfos(labels.Current(), ids)
}

// acceptClasses checks a merged delta's class statistics before anything
// changes — every sum has dim components and, with weights, every count is
// a weight (>= 0; ncm's may be negative: undo) — and then registers every
// class it carries, named by d.Labels where the fleet knows a name, so
// the merged classes can be predicted here.
func acceptClasses(labels *Labels, d *Delta, dim int, weights bool) error {
	for _, c := range d.Classes {
		if len(c.Sum) != dim {
			return fmt.Errorf("%w: class %v sum has %d components", ErrDim, c.Label, len(c.Sum))
		}
		if weights && !(c.Count >= 0) {
			return fmt.Errorf("%w: class %v has weight %v", ErrIncompatible, c.Label, c.Count)
		}
	}
	if err := labels.Ensure(d.Labels); err != nil {
		return err
	}
	for _, c := range d.Classes {
		if _, ok := labels.Current().Index(c.Label); !ok {
			if err := labels.AddID(c.Label, ""); err != nil {
				return err
			}
		}
	}
	return nil
}
