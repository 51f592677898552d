package world

import "math"

// Scene is everything needed to render one picture. Rendering is a pure
// function of a Scene and the output size.
//
// Coordinates are in scene units: the scene is the unit square centred in
// the frame (its side is the frame's shorter side), so a frame of any aspect
// ratio, resized and centre-cropped as CLIP does, shows the same scene.
type Scene struct {
	Domain     Domain
	Day        int // day index; appearance drifts slowly as it grows
	Background Background
	Objects    []Object
	// Seed drives render-time randomness: sensor noise, grain, rain streaks,
	// the night lamp and fog density.
	Seed uint64
}

// Object is one shape in a scene.
type Object struct {
	Shape    Shape
	Colour   Colour
	X, Y     float64    // centre, scene units
	Radius   float64    // scene units
	Rotation float64    // radians
	Paint    [3]float64 // the colour's base RGB jittered for this instance
}

// Size words used in captions.
const (
	smallBelow = 0.14 // radius under which an object is "small"
	largeAbove = 0.22 // radius over which an object is "large"
)

// SizeWord is "small", "large" or "" (medium), as used in captions.
func (o Object) SizeWord() string {
	switch {
	case o.Radius < smallBelow:
		return "small"
	case o.Radius > largeAbove:
		return "large"
	}
	return ""
}

// Pair returns the object's colour–shape pair.
func (o Object) Pair() Pair { return Pair{o.Colour, o.Shape} }

// BackgroundKind selects the background pattern.
type BackgroundKind uint8

const (
	Gradient BackgroundKind = iota
	Radial
	Checker
	Stripes
	Noise
	numBackgrounds
)

// Background is a two-colour pattern behind the objects.
type Background struct {
	Kind  BackgroundKind
	A, B  [3]float64
	Angle float64 // direction of gradients and stripes
	Freq  float64 // cycles per scene side for checker, stripes and noise
	Seed  uint64  // noise lattice
}

// Layout says how a scene's objects are sized.
type Layout uint8

const (
	// Even sizes all objects alike, as in the training export.
	Even Layout = iota
	// Subject makes the first object large and the others small
	// distractors, so that a scene has one unambiguous class label.
	Subject
)

// SceneSpec is what a scene must show; NewScene fills in the rest.
type SceneSpec struct {
	Domain Domain
	Day    int
	Pairs  []Pair // at most 3; the first is the subject under Subject layout
	Layout Layout
}

// NewScene places the spec's objects and draws a background, all from seed.
func NewScene(seed uint64, spec SceneSpec) Scene {
	r := newRNG(seed, 0x5ce4e)
	s := Scene{Domain: spec.Domain, Day: spec.Day, Seed: r.uint64()}
	s.Background = newBackground(r, spec.Day)
	n := len(spec.Pairs)
	for i, p := range spec.Pairs {
		var lo, hi float64
		switch {
		case spec.Layout == Subject && i == 0:
			lo, hi = 0.15, 0.30
		case spec.Layout == Subject:
			lo, hi = 0.08, 0.12
		case n == 1:
			lo, hi = 0.09, 0.30
		default:
			lo, hi = 0.09, 0.22
		}
		s.Objects = append(s.Objects, place(r, p, lo, hi, s.Objects))
	}
	return s
}

// place puts an object where it does not overlap the others, shrinking it
// when the scene is crowded. The number of attempts is fixed so the result
// stays a function of the generator state.
func place(r *rng, p Pair, lo, hi float64, others []Object) Object {
	o := Object{Shape: p.Shape, Colour: p.Colour, Radius: r.rangef(lo, hi)}
	o.Rotation = r.rangef(-1, 1) * shapes[p.Shape].maxRot
	o.Paint = jitter(r, colours[p.Colour].rgb)
	for attempt := 0; attempt < 40; attempt++ {
		if attempt > 0 && attempt%10 == 0 {
			o.Radius = math.Max(0.06, o.Radius*0.85)
		}
		m := o.Radius + 0.02
		o.X, o.Y = r.rangef(m, 1-m), r.rangef(m, 1-m)
		if !overlaps(o, others) {
			return o
		}
	}
	return o
}

func overlaps(o Object, others []Object) bool {
	for _, q := range others {
		if math.Hypot(o.X-q.X, o.Y-q.Y) < o.Radius+q.Radius+0.02 {
			return true
		}
	}
	return false
}

// jitter varies a paint a little so that "red" is a range, not one value.
func jitter(r *rng, c [3]float64) [3]float64 {
	gain := r.rangef(0.88, 1.08)
	var out [3]float64
	for i := range c {
		out[i] = clamp01(c[i]*gain + r.rangef(-0.035, 0.035))
	}
	return out
}

// drift is the day index as a fraction of a year, saturating at MaxDay.
func drift(day int) float64 {
	if day < 0 {
		day = 0
	}
	if day > MaxDay {
		day = MaxDay
	}
	return float64(day) / 365
}

// newBackground draws a muted two-colour pattern. With the days, textures
// crowd out plain gradients and the palette's hue rotates: the content drift
// that time-continual evaluation measures.
func newBackground(r *rng, day int) Background {
	t := drift(day)
	weights := []float64{
		Gradient: 3 * math.Max(0.2, 1-t),
		Radial:   2 * math.Max(0.2, 1-t),
		Checker:  0.6 + t,
		Stripes:  0.6 + t,
		Noise:    1 + t,
	}
	b := Background{Kind: BackgroundKind(r.pick(weights))}
	hue := r.float() + 0.25*t
	sat := r.rangef(0.04, 0.24)
	val := r.rangef(0.35, 0.80)
	b.A = hsv(hue, sat, val)
	b.B = hsv(hue+r.rangef(-0.08, 0.08), sat*r.rangef(0.6, 1.3), clamp01(val+r.rangef(-0.28, 0.28)))
	b.Angle = r.rangef(0, 2*math.Pi)
	b.Freq = r.rangef(3, 9) * (1 + 0.5*t)
	b.Seed = r.uint64()
	return b
}

// hsv converts hue (turns, wrapped), saturation and value to RGB.
func hsv(h, s, v float64) [3]float64 {
	h -= math.Floor(h)
	h *= 6
	i := int(h)
	f := h - float64(i)
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch i {
	case 0:
		return [3]float64{v, t, p}
	case 1:
		return [3]float64{q, v, p}
	case 2:
		return [3]float64{p, v, t}
	case 3:
		return [3]float64{p, q, v}
	case 4:
		return [3]float64{t, p, v}
	}
	return [3]float64{v, p, q}
}
