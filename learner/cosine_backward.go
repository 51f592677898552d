package learner

import "math"

// cosineLogitsBackward propagates dl, the loss gradient with respect to the
// logits scale·z·ŵ_c (ŵ_c the unit class vectors, z the unit output), into
// dz and into the gradients of the learnable class vectors behind vecs
// (vparam[c], with norm vnorm[c]; nil for a fixed text embedding). Classes
// for which frozen returns true keep their vector's gradient untouched;
// frozen may be nil. Every trainable head shares it so the projected
// derivative d(v/‖v‖) is written once.
func cosineLogitsBackward(dl []float32, vecs [][]float32, vparam []*param, vnorm []float64, z, dz []float32, scale float32, frozen func(c int) bool) {
	for c, v := range vecs {
		g := dl[c]
		if v == nil || g == 0 {
			continue
		}
		for i := range dz {
			dz[i] += scale * g * v[i]
		}
		if p := vparam[c]; p != nil && (frozen == nil || !frozen(c)) {
			// d/dv of v/‖v‖ projected: (dŵ - ŵ(ŵ·dŵ))/‖v‖ with dŵ = scale·g·z
			proj := dot(v, z)
			k := scale * g / float32(vnorm[c])
			for i := range p.g {
				p.g[i] += k * (z[i] - v[i]*proj)
			}
		}
	}
}

// crossEntropyGrad writes into dl the gradient of omega·(−log p[y]) with
// respect to the logits behind the softmax p, and returns that loss term.
func crossEntropyGrad(dl, p []float32, y int, omega float32) float64 {
	for c := range dl {
		dl[c] = omega * p[c]
	}
	dl[y] -= omega
	return -float64(omega) * logClamped(p[y])
}

func logClamped(p float32) float64 { return math.Log(math.Max(float64(p), 1e-30)) }

// growF32 returns buf resized to n, reallocating only when it is too small,
// so steady-state training does not allocate.
func growF32(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
