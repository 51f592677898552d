package learner

// paramDeltas returns, for every parameter whose weights moved since base
// (the weights at the last sync; a parameter missing there started at
// zero), the change as a tensor, and records the same slices in exported so
// ApplyMerged can subtract this device's own contribution.
func paramDeltas(params []*param, base map[string][]float32, exported map[string][]float32) []Tensor {
	var out []Tensor
	for _, p := range params {
		diff := make([]float32, len(p.w))
		b := base[p.name]
		changed := false
		for i, w := range p.w {
			if b != nil {
				w -= b[i]
			}
			diff[i] = w
			changed = changed || w != 0
		}
		if !changed {
			continue
		}
		out = append(out, Tensor{Name: p.name, Shape: append([]int(nil), p.shape...), Data: diff})
		exported[p.name] = diff
	}
	return out
}
