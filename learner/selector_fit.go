package learner

import (
	"math"
	"math/rand/v2"

	"github.com/clipfleet/clipfleet/learner/linalg"
)

// taskModel is a task's two cross-fitted half Gaussians, rebuilt when its
// statistics change.
type taskModel struct {
	ready bool // both halves have enough examples
	half  [2]halfModel
}

// halfModel is the Gaussian fitted on one half of a task's examples, with
// the threshold calibrated on the other half.
type halfModel struct {
	mu   []float64 // mean
	l    []float64 // Cholesky factor of the shrunk covariance (packed)
	rho  float64   // shrinkage used
	mean float64   // mean held-out squared distance (on the other half)
	keff float64   // effective degrees of freedom of the held-out distances
	thr  float64   // squared-distance threshold
}

// hutchinsonProbes is the number of random probes of the held-out spread
// estimate: its relative error is about √(2/(probes·dof)).
const hutchinsonProbes = 32

// fit turns a task's statistics into its model.
func (s *Selector) fit(task int, v []float64) *taskModel {
	m := &taskModel{}
	if v == nil {
		return m
	}
	hl := s.halfLen()
	need := float64(max(2, (s.cfg.MinExamples+1)/2))
	for h := range m.half {
		st := v[h*hl : (h+1)*hl]
		if st[1] < need || !(st[0] > 0) {
			return m
		}
		if !s.fitHalf(st, &m.half[h]) {
			return m
		}
	}
	for h := range m.half {
		hm := &m.half[h]
		other := v[(1-h)*hl : (2-h)*hl]
		hm.mean, hm.keff = s.heldOut(hm, other, uint64(task)<<1|uint64(h))
		k := hm.keff
		c := 2 / (9 * k)
		q := k * math.Pow(math.Max(1-c+s.z*math.Sqrt(c), 0), 3)
		hm.thr = hm.mean / k * q * s.cfg.Margin
		if !(hm.thr > 0) || math.IsInf(hm.thr, 0) {
			return m
		}
	}
	m.ready = true
	return m
}

// fitHalf fits the shrunk Gaussian of one half's statistics
// [w, n, Σx, Σxxᵀ]; false if it cannot be factorised.
func (s *Selector) fitHalf(st []float64, hm *halfModel) bool {
	d := s.k
	w := st[0]
	q := st[2+d:]
	mu := make([]float64, d)
	var m float64
	for i := range mu {
		mu[i] = st[2+i] / w
		m += mu[i] * mu[i]
	}
	// S = Σxxᵀ/w − μμᵀ, the (weighted, maximum-likelihood) covariance.
	cov := make([]float64, len(q))
	for i := 0; i < d; i++ {
		off := linalg.RowOffset(i)
		for j := 0; j <= i; j++ {
			cov[off+j] = q[off+j]/w - mu[i]*mu[j]
		}
	}
	nu := linalg.Trace(cov, d) / float64(d)
	rho := s.cfg.Shrinkage
	if rho == 0 {
		rho = ledoitWolf(cov, q, mu, m, w, nu, d)
	}
	for i := range cov {
		cov[i] *= 1 - rho
	}
	// The floor keeps a half of identical examples factorisable.
	floor := 1e-9 + 1e-6*nu
	for try := 0; try < 8; try++ {
		l := append([]float64(nil), cov...)
		linalg.AddDiag(l, d, rho*nu+floor)
		if linalg.Cholesky(l, d) == nil {
			hm.mu, hm.l, hm.rho = mu, l, rho
			return true
		}
		floor *= 100
	}
	return false
}

// ledoitWolf is the Ledoit–Wolf (2004) intensity of shrinkage of S towards
// ν·I, computed from sufficient statistics: it needs the mean fourth power
// of the centred norms, which for unit-norm inputs is
// E‖x−μ‖⁴ = (1+m)² − 4(1+m)m + 4μᵀ(Σxxᵀ/w)μ with m = ‖μ‖².
func ledoitWolf(cov, q, mu []float64, m, w, nu float64, d int) float64 {
	fro := linalg.FrobeniusSq(cov, d)
	delta := fro - float64(d)*nu*nu // ‖S − νI‖²
	if !(delta > 1e-300) {
		return 1
	}
	fourth := (1+m)*(1+m) - 4*(1+m)*m + 4*linalg.QuadForm(q, mu)/w
	beta := (fourth - fro) / w
	return math.Min(math.Max(beta/delta, 0), 1)
}

// heldOut returns the mean and effective degrees of freedom of the squared
// distance d²(x) = (x−μ)ᵀΣ̂⁻¹(x−μ) of hm over the examples summarised by
// other. With C the second moment of those examples about μ and
// Y = L⁻¹CL⁻ᵀ, the mean is tr(Y) and, for Gaussian data, the variance is
// 2·tr(Y²), so d² ≈ (mean/k)·χ²_k with k = tr(Y)²/tr(Y²). Both traces are
// Hutchinson estimates with fixed-seed Rademacher probes, so every device
// computes the same value from the same statistics.
func (s *Selector) heldOut(hm *halfModel, other []float64, seed uint64) (mean, keff float64) {
	d := s.k
	w := other[0]
	q := other[2+d:]
	mo := make([]float64, d)
	for i := range mo {
		mo[i] = other[2+i] / w
	}
	mu := hm.mu
	c := make([]float64, len(q))
	for i := 0; i < d; i++ {
		off := linalg.RowOffset(i)
		for j := 0; j <= i; j++ {
			c[off+j] = q[off+j]/w - mo[i]*mu[j] - mu[i]*mo[j] + mu[i]*mu[j]
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x73656c6563746f72))
	z := make([]float64, d)
	u := make([]float64, d)
	y := make([]float64, d)
	var tr, tr2 float64
	for range hutchinsonProbes {
		for i := range z {
			z[i] = float64(int(rng.Uint32()&1)*2 - 1)
		}
		copy(u, z)
		linalg.SolveLowerT(hm.l, u)
		linalg.SymMatVec(c, u, y)
		linalg.SolveLower(hm.l, y)
		tr += linalg.Dot(z, y)
		tr2 += linalg.Dot(y, y)
	}
	tr /= hutchinsonProbes
	tr2 /= hutchinsonProbes
	if !(tr > 0) || !(tr2 > 0) {
		return math.Inf(1), 1
	}
	return tr, math.Min(math.Max(tr*tr/tr2, 1), float64(d))
}
