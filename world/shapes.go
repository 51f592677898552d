package world

import "math"

// Shapes are signed distance functions in the object's local frame, where
// the object's radius is 1 (y points down, as in the image). Every function
// is 1-Lipschitz, which the renderer relies on to classify whole blocks of
// pixels as inside or outside from one evaluation.

type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec       { return vec{a.x - b.x, a.y - b.y} }
func (a vec) dot(b vec) float64   { return a.x*b.x + a.y*b.y }
func (a vec) length() float64     { return math.Sqrt(a.x*a.x + a.y*a.y) }
func (a vec) scale(k float64) vec { return vec{a.x * k, a.y * k} }

// polygon is a simple polygon with precomputed edges.
type polygon struct {
	v     []vec
	e     []vec     // e[i] = v[j] - v[i], j = i-1 (wrapping)
	invEE []float64 // 1 / |e[i]|²
}

func newPolygon(v ...vec) polygon {
	p := polygon{v: v, e: make([]vec, len(v)), invEE: make([]float64, len(v))}
	for i := range v {
		j := (i + len(v) - 1) % len(v)
		p.e[i] = v[j].sub(v[i])
		p.invEE[i] = 1 / p.e[i].dot(p.e[i])
	}
	return p
}

// sdf is the exact signed distance to the polygon (negative inside): the
// nearest edge gives the magnitude, an even–odd crossing count the sign.
func (pg *polygon) sdf(p vec) float64 {
	d := math.Inf(1)
	inside := false
	for i, vi := range pg.v {
		e := pg.e[i]
		w := p.sub(vi)
		t := clamp01(w.dot(e) * pg.invEE[i])
		bx, by := w.x-e.x*t, w.y-e.y*t
		if dd := bx*bx + by*by; dd < d {
			d = dd
		}
		vj := vec{vi.x + e.x, vi.y + e.y}
		c1 := p.y >= vi.y
		c2 := p.y < vj.y
		c3 := e.x*w.y > e.y*w.x
		if (c1 && c2 && c3) || (!c1 && !c2 && !c3) {
			inside = !inside
		}
	}
	d = math.Sqrt(d)
	if inside {
		return -d
	}
	return d
}

func regular(n int, r, phase float64) polygon {
	v := make([]vec, n)
	for i := range v {
		a := phase + 2*math.Pi*float64(i)/float64(n)
		v[i] = vec{r * math.Cos(a), r * math.Sin(a)}
	}
	return newPolygon(v...)
}

func starPolygon(points int, outer, inner float64) polygon {
	v := make([]vec, 2*points)
	for i := range v {
		r := outer
		if i%2 == 1 {
			r = inner
		}
		a := -math.Pi/2 + math.Pi*float64(i)/float64(points)
		v[i] = vec{r * math.Cos(a), r * math.Sin(a)}
	}
	return newPolygon(v...)
}

var (
	triangleShape = regular(3, 1.0, -math.Pi/2)
	hexagonShape  = regular(6, 0.95, 0)
	starShape     = starPolygon(5, 1.0, 0.42)
	arrowShape    = newPolygon(
		vec{-0.95, -0.22}, vec{0.15, -0.22}, vec{0.15, -0.62}, vec{0.95, 0},
		vec{0.15, 0.62}, vec{0.15, 0.22}, vec{-0.95, 0.22})
	boltShape = newPolygon(
		vec{0.25, -1.0}, vec{-0.45, 0.1}, vec{0.0, 0.1}, vec{-0.25, 1.0},
		vec{0.5, -0.15}, vec{0.05, -0.15})

	// Pre-training-only shapes.
	pentagonShape      = regular(5, 0.95, -math.Pi/2)
	octagonShape       = regular(8, 0.95, math.Pi/8)
	diamondShape       = newPolygon(vec{0, -1}, vec{0.62, 0}, vec{0, 1}, vec{-0.62, 0})
	ovalShape          = ellipse(0.95, 0.58, 48)
	trapezoidShape     = newPolygon(vec{-0.45, -0.52}, vec{0.45, -0.52}, vec{0.85, 0.52}, vec{-0.85, 0.52})
	parallelogramShape = newPolygon(vec{-0.4, -0.5}, vec{0.88, -0.5}, vec{0.4, 0.5}, vec{-0.88, 0.5})
	kiteShape          = newPolygon(vec{0, -1}, vec{0.62, -0.3}, vec{0, 1}, vec{-0.62, -0.3})
	bowtieShape        = newPolygon(vec{-0.82, -0.55}, vec{0, -0.08}, vec{0.82, -0.55}, vec{0.82, 0.55}, vec{0, 0.08}, vec{-0.82, 0.55})
	houseShape         = newPolygon(vec{-0.7, 0.75}, vec{0.7, 0.75}, vec{0.7, -0.1}, vec{0, -0.85}, vec{-0.7, -0.1})
)

// discs is the union of discs (centre, radius): a minimum of 1-Lipschitz
// distances.
func discs(p vec, d ...[3]float64) float64 {
	out := math.Inf(1)
	for _, c := range d {
		out = math.Min(out, p.sub(vec{c[0], c[1]}).length()-c[2])
	}
	return out
}

// segment is the distance from p to the segment a–b.
func segment(p, a, b vec) float64 {
	ab, ap := b.sub(a), p.sub(a)
	t := clamp01(ap.dot(ab) / ab.dot(ab))
	return ap.sub(ab.scale(t)).length()
}

// ellipse is an n-gon inscribed in the ellipse with semi-axes a and b:
// exact polygon distances instead of an ellipse's costly closed form.
func ellipse(a, b float64, n int) polygon {
	v := make([]vec, n)
	for i := range v {
		t := 2 * math.Pi * float64(i) / float64(n)
		v[i] = vec{a * math.Cos(t), b * math.Sin(t)}
	}
	return newPolygon(v...)
}

// drop is a disc with a point on top: the union of a disc and the
// triangle tangent to it.
var dropShape = newPolygon(vec{0, -1}, vec{0.56, 0.05}, vec{-0.56, 0.05})

func drop(p vec) float64 {
	return math.Min(p.sub(vec{0, 0.35}).length()-0.6, dropShape.sdf(p))
}

func box(p vec, hx, hy float64) float64 {
	qx, qy := math.Abs(p.x)-hx, math.Abs(p.y)-hy
	ox, oy := max(qx, 0), max(qy, 0)
	return math.Sqrt(ox*ox+oy*oy) + min(max(qx, qy), 0)
}

// heart is a diamond (a square turned 45°) with two discs on its upper
// edges, centred vertically.
func heart(p vec) float64 {
	const a = 0.5
	const shift = -0.027 // centres the 1.56-high outline on the origin
	p.y -= shift
	q := vec{p.x, p.y - 0.1}
	// Rotate by 45° into the square's frame.
	c := math.Sqrt2 / 2
	r := vec{c * (q.x + q.y), c * (q.y - q.x)}
	d := box(r, a, a)
	d = math.Min(d, p.sub(vec{-0.354, -0.254}).length()-a)
	return math.Min(d, p.sub(vec{0.354, -0.254}).length()-a)
}

// polygonShapes are the shapes whose outline is a single polygon.
var polygonShapes = [numShapes]*polygon{
	Triangle: &triangleShape, Star: &starShape, Hexagon: &hexagonShape, Arrow: &arrowShape, Bolt: &boltShape,
	Pentagon: &pentagonShape, Octagon: &octagonShape, Diamond: &diamondShape, Oval: &ovalShape,
	Trapezoid: &trapezoidShape, Parallelogram: &parallelogramShape, Kite: &kiteShape, Bowtie: &bowtieShape,
	House: &houseShape,
}

// sdf evaluates the shape at local point p.
func (s Shape) sdf(p vec) float64 {
	if s < numShapes && polygonShapes[s] != nil {
		return polygonShapes[s].sdf(p)
	}
	switch s {
	case Circle:
		return p.length() - 0.95
	case Square:
		return box(p, 0.74, 0.74)
	case Cross:
		return math.Min(box(p, 0.95, 0.3), box(p, 0.3, 0.95))
	case Ring:
		return math.Abs(p.length()-0.7) - 0.24
	case Heart:
		return heart(p)
	case Crescent:
		return math.Max(p.length()-0.95, 0.78-p.sub(vec{0.42, -0.2}).length())
	case Frame:
		// A square with a square hole; max(a, -b) stays 1-Lipschitz.
		return math.Max(box(p, 0.74, 0.74), -box(p, 0.4, 0.4))
	case Rectangle:
		return box(p, 0.88, 0.48)
	case Drop:
		return drop(p)
	case Clover:
		return discs(p, [3]float64{0, -0.5, 0.42}, [3]float64{0.433, 0.25, 0.42}, [3]float64{-0.433, 0.25, 0.42}, [3]float64{0, 0, 0.3})
	case Capsule:
		return segment(p, vec{-0.5, 0}, vec{0.5, 0}) - 0.45
	case Cloud:
		return discs(p, [3]float64{-0.45, 0.1, 0.4}, [3]float64{0, -0.2, 0.5}, [3]float64{0.45, 0.1, 0.4}, [3]float64{0, 0.2, 0.4})
	}
	return math.Inf(1)
}
