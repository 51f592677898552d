package augment

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ErrFrame is wrapped by errors about the frame handed in.
var ErrFrame = errors.New("augment: bad frame")

// Params is one view's transform. The zero value is not the identity;
// Identity is.
type Params struct {
	// Flip mirrors the frame horizontally (applied before the crop).
	Flip bool
	// CropW and CropH are the crop's size, and CropX and CropY its centre,
	// as fractions of the frame's width and height; the crop is resized
	// back to the frame's size. A centre near the border shifts the view
	// past the frame's edge, which repeats the edge pixels.
	CropW, CropH, CropX, CropY float64
	// Rotate turns the crop about its centre, in radians.
	Rotate float64
	// Brightness, Contrast and Saturation are colour factors (1: unchanged).
	// Contrast scales around the frame's mean grey, saturation around each
	// pixel's grey.
	Brightness, Contrast, Saturation float64
	// Hue rotates every colour about the grey axis, in radians.
	Hue float64
}

// Identity is the transform that returns the frame unchanged.
func Identity() Params {
	return Params{CropW: 1, CropH: 1, CropX: 0.5, CropY: 0.5, Brightness: 1, Contrast: 1, Saturation: 1}
}

// Sample draws one view's transform within c's ranges.
func (c Config) Sample(rng *rand.Rand) Params {
	p := Identity()
	p.Flip = rng.Float64() < c.Flip
	scale := c.MinScale + (c.MaxScale-c.MinScale)*rng.Float64()
	la := math.Log(max(c.MaxAspect, 1))
	aspect := math.Exp(la * (2*rng.Float64() - 1))
	p.CropW = min(1, math.Sqrt(scale*aspect))
	p.CropH = min(1, math.Sqrt(scale/aspect))
	p.CropX = p.CropW/2 + (1-p.CropW)*rng.Float64() + c.MaxShift*(2*rng.Float64()-1)
	p.CropY = p.CropH/2 + (1-p.CropH)*rng.Float64() + c.MaxShift*(2*rng.Float64()-1)
	p.Rotate = c.MaxRotate * math.Pi / 180 * (2*rng.Float64() - 1)
	p.Brightness = 1 + c.Brightness*(2*rng.Float64()-1)
	p.Contrast = 1 + c.Contrast*(2*rng.Float64()-1)
	p.Saturation = 1 + c.Saturation*(2*rng.Float64()-1)
	p.Hue = 2 * math.Pi * c.Hue * (2*rng.Float64() - 1)
	return p
}

// ViewParams is the transform of view i of a frame taught with seed: a
// pure function of c, seed and i, so every device and run makes the same
// views of the same teach event.
func (c Config) ViewParams(seed uint64, i int) Params {
	return c.Sample(rand.New(rand.NewPCG(seed, uint64(i))))
}

// View writes view i (0 ≤ i < c.Views) of the w×h packed RGB frame rgb,
// taught with seed, into dst (reused when large enough) and returns it.
func (c Config) View(dst, rgb []byte, w, h int, seed uint64, i int) ([]byte, error) {
	if i < 0 || i >= c.Views {
		return nil, fmt.Errorf("augment: view %d of %d", i, c.Views)
	}
	return Apply(dst, rgb, w, h, c.ViewParams(seed, i))
}

// Apply writes rgb (w×h packed RGB) transformed by p into dst (reused when
// large enough; it must not overlap rgb) and returns it. Pixels are sampled
// bilinearly; samples outside the frame repeat its edge.
func Apply(dst, rgb []byte, w, h int, p Params) ([]byte, error) {
	if w < 1 || h < 1 || w > 1<<14 || h > 1<<14 {
		return nil, fmt.Errorf("%w: size %dx%d", ErrFrame, w, h)
	}
	n := w * h * 3
	if len(rgb) < n {
		return nil, fmt.Errorf("%w: %d bytes for %dx%d RGB", ErrFrame, len(rgb), w, h)
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	fw, fh := float64(w), float64(h)
	cos, sin := math.Cos(p.Rotate), math.Sin(p.Rotate)
	// Output pixel centre (x+½, y+½), taken relative to the frame's
	// centre in pixels, is flipped, scaled to the crop, rotated and moved
	// to the crop's centre; -½ turns the source point back into pixel
	// indices. The identity maps every pixel onto itself exactly.
	sx, sy := p.CropW, p.CropH
	if p.Flip {
		sx = -sx
	}
	cx, cy := p.CropX*fw-0.5, p.CropY*fh-0.5
	colour := p.Brightness != 1 || p.Contrast != 1 || p.Saturation != 1 || p.Hue != 0
	hue := hueMatrix(p.Hue)
	var meanGrey float64
	if colour {
		meanGrey = p.Brightness * greyMean(rgb[:n])
	}
	for y := 0; y < h; y++ {
		v := (float64(y) + 0.5 - fh/2) * sy
		o := y * w * 3
		for x := 0; x < w; x++ {
			u := (float64(x) + 0.5 - fw/2) * sx
			px := cx + cos*u - sin*v
			py := cy + sin*u + cos*v
			r, g, b := bilinear(rgb, w, h, px, py)
			if colour {
				r, g, b = jitter(r, g, b, p, meanGrey, &hue)
			}
			dst[o], dst[o+1], dst[o+2] = clampByte(r), clampByte(g), clampByte(b)
			o += 3
		}
	}
	return dst, nil
}

func bilinear(rgb []byte, w, h int, px, py float64) (r, g, b float64) {
	x0, y0 := math.Floor(px), math.Floor(py)
	fx, fy := px-x0, py-y0
	ix0, iy0 := clampInt(int(x0), w), clampInt(int(y0), h)
	ix1, iy1 := clampInt(int(x0)+1, w), clampInt(int(y0)+1, h)
	p00, p01 := rgb[(iy0*w+ix0)*3:][:3], rgb[(iy0*w+ix1)*3:][:3]
	p10, p11 := rgb[(iy1*w+ix0)*3:][:3], rgb[(iy1*w+ix1)*3:][:3]
	w00, w01 := (1-fx)*(1-fy), fx*(1-fy)
	w10, w11 := (1-fx)*fy, fx*fy
	r = w00*float64(p00[0]) + w01*float64(p01[0]) + w10*float64(p10[0]) + w11*float64(p11[0])
	g = w00*float64(p00[1]) + w01*float64(p01[1]) + w10*float64(p10[1]) + w11*float64(p11[1])
	b = w00*float64(p00[2]) + w01*float64(p01[2]) + w10*float64(p10[2]) + w11*float64(p11[2])
	return r, g, b
}

func jitter(r, g, b float64, p Params, meanGrey float64, m *[9]float64) (float64, float64, float64) {
	if p.Hue != 0 {
		r, g, b = m[0]*r+m[1]*g+m[2]*b, m[3]*r+m[4]*g+m[5]*b, m[6]*r+m[7]*g+m[8]*b
	}
	r, g, b = r*p.Brightness, g*p.Brightness, b*p.Brightness
	r = meanGrey + (r-meanGrey)*p.Contrast
	g = meanGrey + (g-meanGrey)*p.Contrast
	b = meanGrey + (b-meanGrey)*p.Contrast
	grey := luma(r, g, b)
	return grey + (r-grey)*p.Saturation, grey + (g-grey)*p.Saturation, grey + (b-grey)*p.Saturation
}

// hueMatrix rotates RGB by theta about the grey axis (1,1,1)/√3
// (Rodrigues' formula): greys stay grey, saturation and brightness are
// kept up to clamping.
func hueMatrix(theta float64) [9]float64 {
	c, s := math.Cos(theta), math.Sin(theta)
	a, b := (1-c)/3, s/math.Sqrt(3)
	return [9]float64{c + a, a - b, a + b, a + b, c + a, a - b, a - b, a + b, c + a}
}

// luma is ITU-R BT.601's, as torchvision's and PIL's grey conversion.
func luma(r, g, b float64) float64 { return 0.299*r + 0.587*g + 0.114*b }

func greyMean(rgb []byte) float64 {
	var s float64
	for i := 0; i+2 < len(rgb); i += 3 {
		s += luma(float64(rgb[i]), float64(rgb[i+1]), float64(rgb[i+2]))
	}
	return s / float64(len(rgb)/3)
}

func clampInt(v, n int) int {
	if v < 0 {
		return 0
	}
	if v >= n {
		return n - 1
	}
	return v
}

func clampByte(v float64) byte {
	if !(v > 0) { // also NaN
		return 0
	}
	if v >= 255 {
		return 255
	}
	return byte(v + 0.5)
}
