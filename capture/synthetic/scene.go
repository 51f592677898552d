package synthetic

import "github.com/clipfleet/clipfleet/capture"

// Renderer draws frame seq into dst. dst.Width and dst.Height are set and
// len(dst.RGB) == Width*Height*3 when it is called; it must write every byte
// and depend only on seq and how it was built, so that runs repeat exactly.
// It must not keep dst.
type Renderer func(seq uint64, dst *capture.Frame)

// fixed-point unit for positions and sizes relative to the frame, so that a
// scene is the same picture at any resolution and uses no floating point
// (whose fused multiply-add differs between amd64 and arm64 robots).
const one = 1 << 16

type shapeKind int

const (
	circle shapeKind = iota
	rect
)

type shape struct {
	kind   shapeKind
	rgb    [3]byte
	size   int64 // half-extent, in units of one = min(width, height)
	x, y   int64 // start of the centre, in units of one = width / height
	vx, vy int64 // per frame, same units
}

// palette holds saturated colours with plain names, so that a frame can be
// described in words ("a red circle") to a vision-language model.
var palette = [][3]byte{
	{220, 30, 30},   // red
	{30, 170, 50},   // green
	{30, 60, 220},   // blue
	{240, 210, 20},  // yellow
	{245, 130, 20},  // orange
	{140, 40, 180},  // purple
	{250, 250, 250}, // white
	{15, 15, 15},    // black
}

// Scene is the default Renderer: a diagonal gradient with a few coloured
// circles and rectangles bouncing around it, all derived from a seed. Not
// safe for concurrent use (it caches the background per frame size).
type Scene struct {
	top, bottom [3]byte
	shapes      []shape

	bgW, bgH int
	bg       []byte
}

// NewScene derives a scene from seed: equal seeds give byte-identical frames.
func NewScene(seed int64) *Scene {
	r := splitmix{state: uint64(seed)}
	s := &Scene{top: r.colour(40, 200), bottom: r.colour(40, 200)}
	n := 3 + int(r.intn(3))
	for i := 0; i < n; i++ {
		sh := shape{
			kind: shapeKind(r.intn(2)),
			rgb:  palette[r.intn(int64(len(palette)))],
			size: one/14 + r.intn(one/7),
			x:    r.intn(one),
			y:    r.intn(one),
			vx:   r.velocity(),
			vy:   r.velocity(),
		}
		s.shapes = append(s.shapes, sh)
	}
	return s
}

// Render implements Renderer.
func (s *Scene) Render(seq uint64, dst *capture.Frame) {
	w, h := dst.Width, dst.Height
	if s.bgW != w || s.bgH != h {
		s.paintBackground(w, h)
	}
	copy(dst.RGB, s.bg)
	short := int64(min(w, h))
	t := int64(seq % (1 << 40)) // keeps products in range; the motion repeats long before
	for _, sh := range s.shapes {
		half := sh.size * short / one
		cx := bounce(sh.x+sh.vx*t, one) * int64(w) / one
		cy := bounce(sh.y+sh.vy*t, one) * int64(h) / one
		switch sh.kind {
		case circle:
			fillCircle(dst, int(cx), int(cy), int(half), sh.rgb)
		case rect:
			fillRect(dst, int(cx-half), int(cy-half*2/3), int(cx+half), int(cy+half*2/3), sh.rgb)
		}
	}
}

// paintBackground caches a top-left to bottom-right gradient, so a frame
// costs one copy plus the shapes.
func (s *Scene) paintBackground(w, h int) {
	s.bgW, s.bgH = w, h
	s.bg = make([]byte, w*h*3)
	span := max(w+h-2, 1)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := (y*w + x) * 3
			d := x + y
			for c := 0; c < 3; c++ {
				a, b := int(s.top[c]), int(s.bottom[c])
				s.bg[i+c] = byte(a + (b-a)*d/span)
			}
		}
	}
}

// bounce folds an unbounded coordinate into [0, limit] as if it reflected
// off both ends.
func bounce(v, limit int64) int64 {
	m := v % (2 * limit)
	if m < 0 {
		m += 2 * limit
	}
	if m > limit {
		m = 2*limit - m
	}
	return m
}

func fillRect(dst *capture.Frame, x0, y0, x1, y1 int, rgb [3]byte) {
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, dst.Width-1), min(y1, dst.Height-1)
	for y := y0; y <= y1; y++ {
		fillSpan(dst, y, x0, x1, rgb)
	}
}

func fillCircle(dst *capture.Frame, cx, cy, r int, rgb [3]byte) {
	for dy := -r; dy <= r; dy++ {
		y := cy + dy
		if y < 0 || y >= dst.Height {
			continue
		}
		dx := isqrt(r*r - dy*dy)
		fillSpan(dst, y, max(cx-dx, 0), min(cx+dx, dst.Width-1), rgb)
	}
}

func fillSpan(dst *capture.Frame, y, x0, x1 int, rgb [3]byte) {
	if x1 < x0 {
		return
	}
	row := dst.RGB[(y*dst.Width+x0)*3 : (y*dst.Width+x1+1)*3]
	row[0], row[1], row[2] = rgb[0], rgb[1], rgb[2]
	for n := 3; n < len(row); n *= 2 { // doubling copy: memmove instead of a per-pixel loop
		copy(row[n:], row[:n])
	}
}

func isqrt(n int) int {
	if n <= 0 {
		return 0
	}
	x := n
	y := (x + 1) / 2
	for y < x {
		x = y
		y = (x + n/x) / 2
	}
	return x
}

// splitmix is SplitMix64, written out so that scenes stay the same whatever
// the Go version's math/rand does.
type splitmix struct{ state uint64 }

func (r *splitmix) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *splitmix) intn(n int64) int64 { return int64(r.next() % uint64(n)) }

func (r *splitmix) colour(lo, hi int64) [3]byte {
	var c [3]byte
	for i := range c {
		c[i] = byte(lo + r.intn(hi-lo+1))
	}
	return c
}

// velocity is up to 1/60 of the frame per frame, never still, so that every
// shape crosses the frame in a few seconds at 30 fps.
func (r *splitmix) velocity() int64 {
	v := one/600 + r.intn(one/60-one/600)
	if r.intn(2) == 0 {
		v = -v
	}
	return v
}
