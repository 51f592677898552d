package world

import (
	"math/bits"
)

// rng is a small splitmix64 generator. The world uses its own generator
// rather than math/rand so that the stream of numbers, and therefore every
// rendered byte, is fixed by this file alone.
type rng struct{ s uint64 }

// newRNG derives a generator from any number of integers (seed, task index,
// split, item index...), so that item i of a set can be produced without
// producing items 0..i-1 first.
func newRNG(parts ...uint64) *rng {
	h := uint64(0x9e3779b97f4a7c15)
	for _, p := range parts {
		h = mix64(h ^ mix64(p+0x632be59bd9b4e019))
	}
	return &rng{s: h}
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float returns a uniform value in [0,1).
func (r *rng) float() float64 { return float64(r.uint64()>>11) / (1 << 53) }

// rangef returns a uniform value in [lo,hi).
func (r *rng) rangef(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// intn returns a uniform value in [0,n); n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.uint64(), uint64(n))
	return int(hi)
}

// pick returns an index drawn with the given non-negative weights.
func (r *rng) pick(weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.float() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	// Rounding can leave x just above the last bucket; return the last
	// positive weight.
	for i := len(weights) - 1; i >= 0; i-- {
		if weights[i] > 0 {
			return i
		}
	}
	return 0
}

// perm returns a permutation of [0,n) (Fisher–Yates).
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// hash2 gives a deterministic pseudo-random value in [0,1) for a lattice
// point, used by the background noise textures.
func hash2(seed uint64, x, y int) float64 {
	h := mix64(seed ^ mix64(uint64(int64(x))*0x9e3779b97f4a7c15^uint64(int64(y))))
	return float64(h>>11) / (1 << 53)
}

// clamp01 avoids math.Max/Min, whose NaN and signed-zero handling costs a
// third of the render time in the per-pixel loops.
func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

func clampf(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}
