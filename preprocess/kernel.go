package preprocess

import (
	"math"
	"sync"
)

// Fixed-point layout of PIL's 8-bit resampler (libImaging/Resample.c): 8 bits
// of pixel, 2 bits of headroom for the kernel's negative lobes, the rest for
// the weight fraction. Matching it is what makes our bytes equal PIL's.
const (
	precisionBits = 32 - 8 - 2
	roundHalf     = int32(1) << (precisionBits - 1)
	bicubicRadius = 2.0 // support of the a=-0.5 cubic kernel at scale 1
)

// axisTable holds PIL's resampling weights for output positions
// [first, first+len(start)) of one dimension resized from in to out samples.
// Only the positions the centre crop keeps are computed: each output sample
// depends on its own weights alone, so the window is bit-identical to the
// same window of a full resize. Tables are immutable once built and shared
// between goroutines.
type axisTable struct {
	start []int      // first input sample feeding each output
	k     [][]int32  // fixed-point weights, one slice (its tap count) per output
	lane  [][]uint64 // the same weights in lane arithmetic (see resampler)
}

// lo and hi bound the input samples the whole window reads: [lo, hi).
func (t *axisTable) lo() int { return t.start[0] }
func (t *axisTable) hi() int {
	n := len(t.start) - 1
	return t.start[n] + len(t.k[n])
}

// bicubic is PIL's cubic convolution kernel with a = -0.5. The explicit
// float64 conversions forbid fused multiply-add so the weights round the same
// way as PIL built for x86-64 (Go may fuse x*y+z on arm64 otherwise).
func bicubic(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		t := float64(1.5*x) - 2.5
		return float64(float64(t*x)*x) + 1
	}
	if x < 2 {
		t := float64((x-5)*x) + 8
		t = float64(t*x) - 4
		return t * -0.5
	}
	return 0
}

// newAxisTable mirrors PIL's precompute_coeffs + normalize_coeffs_8bpc for
// box (0, in): centre of output xx at (xx+0.5)*scale, support widened by the
// downscale factor (that is PIL's antialiasing), taps from
// int(centre-support+0.5) to int(centre+support+0.5) clamped to the image,
// weights normalised to sum 1 in float64, then rounded half away from zero to
// precisionBits.
func newAxisTable(in, out, first, n int) *axisTable {
	scale := float64(in) / float64(out)
	filterScale := math.Max(scale, 1)
	support := bicubicRadius * filterScale
	inv := 1 / filterScale

	t := &axisTable{start: make([]int, n), k: make([][]int32, n)}
	ksize := int(math.Ceil(support))*2 + 1
	flat := make([]int32, 0, n*ksize)
	w := make([]float64, ksize)
	for i := 0; i < n; i++ {
		center := float64(float64(first+i)+0.5) * scale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > in {
			xmax = in
		}
		count := xmax - xmin
		if count < 1 { // cannot happen for in >= 1, but keep one tap rather than none
			xmin, count = min(max(int(center), 0), in-1), 1
		}
		if count > len(w) {
			w = make([]float64, count)
		}
		sum := 0.0
		for x := 0; x < count; x++ {
			v := bicubic((float64(x+xmin) - center + 0.5) * inv)
			w[x] = v
			sum += v
		}
		off := len(flat)
		for x := 0; x < count; x++ {
			v := w[x]
			if sum != 0 {
				v /= sum
			}
			if v < 0 {
				flat = append(flat, int32(-0.5+v*(1<<precisionBits)))
			} else {
				flat = append(flat, int32(0.5+v*(1<<precisionBits)))
			}
		}
		t.start[i] = xmin
		t.k[i] = flat[off:len(flat):len(flat)]
	}
	lanes := make([]uint64, len(flat))
	for i, v := range flat {
		lanes[i] = weight(v)
	}
	t.lane = make([][]uint64, n)
	off := 0
	for i, k := range t.k {
		t.lane[i] = lanes[off : off+len(k) : off+len(k)]
		off += len(k)
	}
	return t
}

// tableKey identifies a window of an axis resize.
type tableKey struct{ in, out, first, n int }

// maxCachedTables bounds the shared table cache; a daemon sees one or two
// camera sizes, tests and tools see many, and a rebuild costs microseconds.
const maxCachedTables = 64

var tableCache = struct {
	sync.Mutex
	m map[tableKey]*axisTable
}{m: make(map[tableKey]*axisTable)}

// axisFor returns the (shared, immutable) table for a window, building and
// caching it on first use.
func axisFor(in, out, first, n int) *axisTable {
	key := tableKey{in, out, first, n}
	tableCache.Lock()
	t, ok := tableCache.m[key]
	tableCache.Unlock()
	if ok {
		return t
	}
	t = newAxisTable(in, out, first, n)
	tableCache.Lock()
	if len(tableCache.m) >= maxCachedTables {
		clear(tableCache.m)
	}
	tableCache.m[key] = t
	tableCache.Unlock()
	return t
}
