package world

import (
	"fmt"
	"math"
)

// Renderer draws scenes into packed RGB bytes. It keeps scratch buffers
// between calls, so one Renderer should serve a stream of frames; it is not
// safe for concurrent use.
type Renderer struct {
	buf, tmp []float32 // linear float RGB, interleaved, w*h*3
	acc      []float32 // one row of running sums for the vertical blur
	lattice  []float64 // background value-noise lattice
}

// Render draws s at w×h into dst (len(dst) >= w*h*3, packed RGB, row-major).
func (rd *Renderer) Render(s *Scene, w, h int, dst []byte) error {
	if w < 1 || h < 1 || w > 1<<14 || h > 1<<14 {
		return fmt.Errorf("world: render size %dx%d outside [1,16384]", w, h)
	}
	if len(dst) < w*h*3 {
		return fmt.Errorf("world: render buffer holds %d bytes, need %d", len(dst), w*h*3)
	}
	n := w * h * 3
	if cap(rd.buf) < n {
		rd.buf = make([]float32, n)
		rd.tmp = make([]float32, n)
	}
	rd.buf, rd.tmp = rd.buf[:n], rd.tmp[:n]

	f := newFrame(w, h)
	lk := lookFor(s, f.side)
	rd.background(f, &s.Background)
	for i := range s.Objects {
		rd.object(f, &s.Objects[i])
	}
	rd.light(f, &lk)
	for i := 0; i < lk.blurPasses; i++ {
		rd.blur(f, lk.blur)
	}
	if lk.rain > 0 {
		rd.rain(f, &lk, s.Seed)
	}
	rd.finish(f, &lk, s.Seed, dst)
	return nil
}

// RenderRGB renders s into a new w×h packed RGB slice.
func RenderRGB(s *Scene, w, h int) ([]byte, error) {
	dst := make([]byte, w*h*3)
	var rd Renderer
	if err := rd.Render(s, w, h, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// frame maps pixels to scene units: the scene is the centred square whose
// side is the shorter frame side.
type frame struct {
	w, h   int
	side   float64 // pixels per scene unit
	ox, oy float64 // pixel position of the scene's origin
}

func newFrame(w, h int) frame {
	side := float64(min(w, h))
	return frame{w: w, h: h, side: side, ox: (float64(w) - side) / 2, oy: (float64(h) - side) / 2}
}

func (f *frame) u(x int) float64 { return (float64(x) + 0.5 - f.ox) / f.side }
func (f *frame) v(y int) float64 { return (float64(y) + 0.5 - f.oy) / f.side }

// tri is a triangle wave with period 1 and range [-1,1]; cheaper than sin
// and just as good for soft patterns.
func tri(x float64) float64 { return 4*math.Abs(x-math.Floor(x)-0.5) - 1 }

const latticeN = 32 // lattice side; patterns tile every latticeN cells

func (rd *Renderer) background(f frame, b *Background) {
	ca, sa := math.Cos(b.Angle), math.Sin(b.Angle)
	rcx, rcy := 0.5+0.3*ca, 0.5+0.3*sa
	if b.Kind == Noise {
		if cap(rd.lattice) < latticeN*latticeN {
			rd.lattice = make([]float64, latticeN*latticeN)
		}
		rd.lattice = rd.lattice[:latticeN*latticeN]
		for j := 0; j < latticeN; j++ {
			for i := 0; i < latticeN; i++ {
				rd.lattice[j*latticeN+i] = hash2(b.Seed, i, j)
			}
		}
	}
	dr, dg, db := b.B[0]-b.A[0], b.B[1]-b.A[1], b.B[2]-b.A[2]
	for y := 0; y < f.h; y++ {
		v := f.v(y)
		row := rd.buf[y*f.w*3 : (y+1)*f.w*3]
		for x := 0; x < f.w; x++ {
			u := f.u(x)
			var t float64
			switch b.Kind {
			case Gradient:
				t = (u-0.5)*ca + (v-0.5)*sa + 0.5
			case Radial:
				t = math.Sqrt((u-rcx)*(u-rcx)+(v-rcy)*(v-rcy)) * 1.2
			case Checker:
				t = 0.5 + 0.5*clampf(3*tri(u*b.Freq/2)*tri(v*b.Freq/2), -1, 1)
			case Stripes:
				t = 0.5 + 0.5*clampf(2.5*tri((u*ca+v*sa)*b.Freq/2), -1, 1)
			case Noise:
				t = rd.valueNoise(u*b.Freq, v*b.Freq)*0.67 + rd.valueNoise(u*b.Freq*2.3+7.1, v*b.Freq*2.3+3.7)*0.33
			}
			t = clamp01(t)
			row[3*x] = float32(b.A[0] + dr*t)
			row[3*x+1] = float32(b.A[1] + dg*t)
			row[3*x+2] = float32(b.A[2] + db*t)
		}
	}
}

// valueNoise is smooth noise in [0,1] from the lattice, tiled.
func (rd *Renderer) valueNoise(x, y float64) float64 {
	fx, fy := math.Floor(x), math.Floor(y)
	tx, ty := x-fx, y-fy
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	i0 := int(fx) & (latticeN - 1)
	j0 := int(fy) & (latticeN - 1)
	i1, j1 := (i0+1)&(latticeN-1), (j0+1)&(latticeN-1)
	l := rd.lattice
	a := l[j0*latticeN+i0] + (l[j0*latticeN+i1]-l[j0*latticeN+i0])*tx
	b := l[j1*latticeN+i0] + (l[j1*latticeN+i1]-l[j1*latticeN+i0])*tx
	return a + (b-a)*ty
}

const (
	block       = 8 // pixels per side of the blocks classified as a whole
	shadowAlpha = 0.35
)

// object draws one shape and its soft shadow with analytic anti-aliasing:
// coverage is the signed distance in pixels mapped through a one-pixel ramp.
// Because the distance functions are 1-Lipschitz, one evaluation at a
// block's centre decides whole blocks that are far from any edge, so only
// edge blocks pay for per-pixel evaluation.
func (rd *Renderer) object(f frame, o *Object) {
	R := o.Radius * f.side
	if R <= 0 {
		return
	}
	cx, cy := f.ox+o.X*f.side, f.oy+o.Y*f.side
	sdx, sdy := 0.018*f.side, 0.025*f.side
	soft := math.Max(1.5, 0.02*f.side)
	cr, sr := math.Cos(-o.Rotation), math.Sin(-o.Rotation)
	local := func(px, py float64) vec {
		dx, dy := (px-cx)/R, (py-cy)/R
		return vec{dx*cr - dy*sr, dx*sr + dy*cr}
	}
	x0 := max(0, int(math.Floor(cx-R*1.05-2)))
	y0 := max(0, int(math.Floor(cy-R*1.05-2)))
	x1 := min(f.w, int(math.Ceil(cx+R*1.05+sdx+soft+2)))
	y1 := min(f.h, int(math.Ceil(cy+R*1.05+sdy+soft+2)))
	halfDiag := block * math.Sqrt2 / 2
	paint := o.Paint
	for by := y0; by < y1; by += block {
		for bx := x0; bx < x1; bx += block {
			ex, ey := min(bx+block, x1), min(by+block, y1)
			mx, my := float64(bx+ex)/2, float64(by+ey)/2
			dObj := o.Shape.sdf(local(mx, my)) * R
			dSh := o.Shape.sdf(local(mx-sdx, my-sdy)) * R
			objOut, objIn := dObj > halfDiag+0.5, dObj < -halfDiag-0.5
			shOut, shIn := dSh > halfDiag+soft/2, dSh < -halfDiag-soft/2
			if objOut && shOut {
				continue
			}
			for y := by; y < ey; y++ {
				py := float64(y) + 0.5
				row := rd.buf[y*f.w*3:]
				for x := bx; x < ex; x++ {
					px := float64(x) + 0.5
					var sc, oc float64
					switch {
					case shIn:
						sc = 1
					case !shOut:
						sc = clamp01(0.5 - o.Shape.sdf(local(px-sdx, py-sdy))*R/soft)
					}
					p := local(px, py)
					switch {
					case objIn:
						oc = 1
					case !objOut:
						oc = clamp01(0.5 - o.Shape.sdf(p)*R)
					}
					i := 3 * x
					if sc > 0 {
						k := float32(1 - shadowAlpha*sc)
						row[i] *= k
						row[i+1] *= k
						row[i+2] *= k
					}
					if oc > 0 {
						// Light from the upper left gives the flat shapes
						// a little relief.
						shade := 1 - 0.09*(p.x+p.y)
						for c := 0; c < 3; c++ {
							col := clamp01(paint[c] * shade)
							row[i+c] += float32((col - float64(row[i+c])) * oc)
						}
					}
				}
			}
		}
	}
}

// light applies illumination, colour cast, contrast, fog and flare. It
// works in float32 with the channels unrolled: it touches every pixel.
func (rd *Renderer) light(f frame, lk *look) {
	sat, con := float32(lk.saturation), float32(lk.contrast)
	g0, g1, g2 := float32(lk.gain[0]), float32(lk.gain[1]), float32(lk.gain[2])
	fc0, fc1, fc2 := float32(lk.fogCol[0]), float32(lk.fogCol[1]), float32(lk.fogCol[2])
	lift := float32(lk.lift)
	invLamp := 1 / (lk.lampR * lk.lampR)
	for y := 0; y < f.h; y++ {
		v := f.v(y)
		row := rd.buf[y*f.w*3 : (y+1)*f.w*3]
		fog := float32(lk.fog * (0.75 + 0.5*(1-clamp01(v))))
		dv := v - 0.5
		for x := 0; x < f.w; x++ {
			u := f.u(x)
			du := u - 0.5
			illum := 1 - lk.vignette*(du*du+dv*dv)*2
			if lk.lamp > 0 {
				lu, lv := u-lk.lampX, v-lk.lampY
				q := 1 + (lu*lu+lv*lv)*invLamp
				illum *= lk.ambient + lk.lamp/(q*q)
			}
			add := lift
			if lk.flare > 0 {
				fu, fv := u-lk.flareX, v-lk.flareY
				q := 1 + (fu*fu+fv*fv)/0.09
				add += float32(lk.flare / (q * q))
			}
			il := float32(illum)
			p := row[3*x : 3*x+3 : 3*x+3]
			lum := 0.299*p[0] + 0.587*p[1] + 0.114*p[2]
			r := (lum+(p[0]-lum)*sat-0.45)*con + 0.45
			g := (lum+(p[1]-lum)*sat-0.45)*con + 0.45
			b := (lum+(p[2]-lum)*sat-0.45)*con + 0.45
			r = r*g0*il + add
			g = g*g1*il + add
			b = b*g2*il + add
			p[0] = r + (fc0-r)*fog
			p[1] = g + (fc1-g)*fog
			p[2] = b + (fc2-b)*fog
		}
	}
}

// blur is a separable box blur of the given radius (running sums, edge
// samples repeated); two passes approximate a Gaussian. Both passes walk
// memory in order: the vertical one keeps a running sum per column.
func (rd *Renderer) blur(f frame, radius int) {
	if radius < 1 {
		return
	}
	n := f.w * 3
	if cap(rd.acc) < n {
		rd.acc = make([]float32, n)
	}
	boxH(rd.buf, rd.tmp, f.w, f.h, radius)
	boxV(rd.tmp, rd.buf, f.w, f.h, radius, rd.acc[:n])
}

func boxH(src, dst []float32, w, h, radius int) {
	norm := 1 / float32(2*radius+1)
	for y := 0; y < h; y++ {
		s := src[y*w*3 : (y+1)*w*3]
		d := dst[y*w*3 : (y+1)*w*3]
		var r, g, b float32
		for i := -radius; i <= radius; i++ {
			k := 3 * min(max(i, 0), w-1)
			r, g, b = r+s[k], g+s[k+1], b+s[k+2]
		}
		for x := 0; x < w; x++ {
			d[3*x], d[3*x+1], d[3*x+2] = r*norm, g*norm, b*norm
			in, out := 3*min(x+radius+1, w-1), 3*max(x-radius, 0)
			r += s[in] - s[out]
			g += s[in+1] - s[out+1]
			b += s[in+2] - s[out+2]
		}
	}
}

func boxV(src, dst []float32, w, h, radius int, acc []float32) {
	n := w * 3
	norm := 1 / float32(2*radius+1)
	clear(acc)
	for i := -radius; i <= radius; i++ {
		row := src[min(max(i, 0), h-1)*n:][:n]
		for k, v := range row {
			acc[k] += v
		}
	}
	for y := 0; y < h; y++ {
		d := dst[y*n : (y+1)*n]
		for k, v := range acc {
			d[k] = v * norm
		}
		in := src[min(y+radius+1, h-1)*n:][:n]
		out := src[max(y-radius, 0)*n:][:n]
		for k := range acc {
			acc[k] += in[k] - out[k]
		}
	}
}

// rain draws thin bright streaks at a common slant.
func (rd *Renderer) rain(f frame, lk *look, seed uint64) {
	r := newRNG(seed, 0x4a17)
	slant := r.rangef(0.12, 0.35)
	count := int(float64(lk.rain)*float64(f.w*f.h)/(224*224) + 0.5)
	width := 0.35 + 0.25*f.side/224
	for k := 0; k < count; k++ {
		a := slant + r.rangef(-0.04, 0.04)
		length := r.rangef(0.04, 0.10) * f.side
		x0, y0 := r.rangef(-10, float64(f.w)+10), r.rangef(-20, float64(f.h))
		x1, y1 := x0+math.Sin(a)*length, y0+math.Cos(a)*length
		alpha := r.rangef(0.12, 0.28)
		seg := vec{x1 - x0, y1 - y0}
		inv := 1 / seg.dot(seg)
		xa, xb := max(0, int(math.Min(x0, x1)-2)), min(f.w, int(math.Max(x0, x1)+3))
		ya, yb := max(0, int(math.Min(y0, y1)-2)), min(f.h, int(math.Max(y0, y1)+3))
		for y := ya; y < yb; y++ {
			for x := xa; x < xb; x++ {
				w := vec{float64(x) + 0.5 - x0, float64(y) + 0.5 - y0}
				t := clamp01(w.dot(seg) * inv)
				d := w.sub(seg.scale(t)).length()
				cov := clamp01(width+0.5-d) * alpha
				if cov <= 0 {
					continue
				}
				i := (y*f.w + x) * 3
				for c := 0; c < 3; c++ {
					rd.buf[i+c] += float32((lk.rainCol[c] - float64(rd.buf[i+c])) * cov)
				}
			}
		}
	}
}

// finish adds sensor noise and quantizes to bytes. One 64-bit hash per
// pixel feeds all three channels.
func (rd *Renderer) finish(f frame, lk *look, seed uint64, dst []byte) {
	// The triangular sum of two uniforms has std 1/sqrt(6) on [-1,1].
	k := float32(lk.noise * math.Sqrt(6) / 1023 * 255)
	off := float32(lk.noise*math.Sqrt(6)*255) - 0.5
	buf := rd.buf
	for i := 0; i < f.w*f.h; i++ {
		h := mix64(seed ^ uint64(i)*0x9e3779b97f4a7c15)
		for c := 0; c < 3; c++ {
			ab := float32((h>>(20*c))&1023 + (h>>(20*c+10))&1023)
			val := buf[3*i+c]*255 + ab*k - off
			switch {
			case val <= 0:
				dst[3*i+c] = 0
			case val >= 255:
				dst[3*i+c] = 255
			default:
				dst[3*i+c] = byte(val)
			}
		}
	}
}
