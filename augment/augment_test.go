package augment

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// frame is a deterministic w×h test picture: a smooth gradient with a
// bright off-centre block, so flips, crops and rotations all move pixels.
func frame(w, h int) []byte {
	out := make([]byte, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := (y*w + x) * 3
			out[o] = byte(255 * x / max(1, w-1))
			out[o+1] = byte(255 * y / max(1, h-1))
			out[o+2] = byte((x*7 + y*13) % 256)
			if x > w/5 && x < w/2 && y > h/6 && y < h/3 {
				out[o], out[o+1], out[o+2] = 250, 240, 30
			}
		}
	}
	return out
}

func TestIdentityIsExact(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {2, 3}, {17, 9}, {64, 48}} {
		src := frame(sz[0], sz[1])
		got, err := Apply(nil, src, sz[0], sz[1], Identity())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src) {
			t.Errorf("%dx%d: identity changed the frame", sz[0], sz[1])
		}
	}
}

func TestFlipMirrorsAndTwiceRestores(t *testing.T) {
	w, h := 13, 7
	src := frame(w, h)
	p := Identity()
	p.Flip = true
	once, err := Apply(nil, src, w, h, p)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a, b := (y*w+x)*3, (y*w+w-1-x)*3
			if !bytes.Equal(once[a:a+3], src[b:b+3]) {
				t.Fatalf("pixel (%d,%d) is %v, want the mirrored %v", x, y, once[a:a+3], src[b:b+3])
			}
		}
	}
	twice, err := Apply(nil, once, w, h, p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(twice, src) {
		t.Error("flipping twice did not restore the frame")
	}
}

// A quarter turn of a square frame about its centre moves pixels exactly
// (sin and cos are 1 and ~6e-17, far below a rounding step).
func TestQuarterTurnMovesPixels(t *testing.T) {
	n := 9
	src := frame(n, n)
	p := Identity()
	p.Rotate = math.Pi / 2
	got, err := Apply(nil, src, n, n, p)
	if err != nil {
		t.Fatal(err)
	}
	// Output (x,y) samples source (cx - v, cy + u) with u, v relative
	// to the centre: source column n-1-y, row x.
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			a, b := (y*n+x)*3, (x*n+n-1-y)*3
			if !bytes.Equal(got[a:a+3], src[b:b+3]) {
				t.Fatalf("pixel (%d,%d) is %v, want %v", x, y, got[a:a+3], src[b:b+3])
			}
		}
	}
}

// A centred half-size crop of a 2× nearest-upscaled frame is the original
// frame's centre, upscaled: zooming keeps content where it belongs.
func TestCropZoomsIntoTheCentre(t *testing.T) {
	w, h := 8, 8
	src := make([]byte, w*h*3)
	for i := range src {
		src[i] = byte(i * 37 % 251)
	}
	p := Identity()
	p.CropW, p.CropH = 0.5, 0.5
	got, err := Apply(nil, src, w, h, p)
	if err != nil {
		t.Fatal(err)
	}
	// The central output pixels (3,3),(4,4) sample source points 3.25 and
	// 3.75: between source pixels 3 and 4 of the centre.
	for _, xy := range [][2]int{{3, 3}, {4, 4}, {3, 4}} {
		o := (xy[1]*w + xy[0]) * 3
		for k := 0; k < 3; k++ {
			lo, hi := 255, 0
			for _, sy := range []int{3, 4} {
				for _, sx := range []int{3, 4} {
					v := int(src[(sy*w+sx)*3+k])
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			if v := int(got[o+k]); v < lo || v > hi {
				t.Errorf("pixel %v channel %d = %d outside the centre's [%d,%d]", xy, k, v, lo, hi)
			}
		}
	}
}

func TestColourFactors(t *testing.T) {
	grey := bytes.Repeat([]byte{100, 100, 100}, 16)
	cases := []struct {
		name string
		set  func(*Params)
		want func(in, out []byte) bool
	}{
		{"brightness doubles", func(p *Params) { p.Brightness = 2 }, func(in, out []byte) bool { return out[0] == 200 && out[1] == 200 }},
		{"saturation keeps grey", func(p *Params) { p.Saturation = 1.5 }, func(in, out []byte) bool { return bytes.Equal(in, out) }},
		{"hue keeps grey", func(p *Params) { p.Hue = 2 }, func(in, out []byte) bool { return bytes.Equal(in, out) }},
		{"contrast keeps a flat frame", func(p *Params) { p.Contrast = 0.5 }, func(in, out []byte) bool { return bytes.Equal(in, out) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Identity()
			c.set(&p)
			out, err := Apply(nil, grey, 4, 4, p)
			if err != nil {
				t.Fatal(err)
			}
			if !c.want(grey, out) {
				t.Errorf("got %v", out[:6])
			}
		})
	}
	// A third of a turn of hue maps pure red onto pure green.
	red := bytes.Repeat([]byte{200, 0, 0}, 4)
	p := Identity()
	p.Hue = 2 * math.Pi / 3
	out, err := Apply(nil, red, 2, 2, p)
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != 0 || out[1] != 200 || out[2] != 0 {
		t.Errorf("red turned a third: %v, want [0 200 0]", out[:3])
	}
}

func TestViewsAreDeterministicAndDistinct(t *testing.T) {
	w, h := 32, 24
	src := frame(w, h)
	c := DefaultConfig()
	a, err := c.View(nil, src, w, h, 42, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.View(make([]byte, 5), src, w, h, 42, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the same seed and view gave different pixels")
	}
	for _, other := range [][2]int{{42, 4}, {43, 3}} {
		d, err := c.View(nil, src, w, h, uint64(other[0]), other[1])
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, d) {
			t.Errorf("seed %d view %d equals seed 42 view 3", other[0], other[1])
		}
	}
	if _, err := c.View(nil, src, w, h, 1, c.Views); err == nil {
		t.Error("view past Views accepted")
	}
}

func TestSampleStaysInRange(t *testing.T) {
	c := DefaultConfig()
	c.Hue = 0.1
	rng := rand.New(rand.NewPCG(1, 2))
	flips := 0
	for range 2000 {
		p := c.Sample(rng)
		if p.Flip {
			flips++
		}
		area := p.CropW * p.CropH
		if area < c.MinScale-1e-9 && p.CropW < 1 && p.CropH < 1 || area > c.MaxScale+1e-9 {
			t.Fatalf("crop area %v outside [%v,%v]", area, c.MinScale, c.MaxScale)
		}
		if math.Abs(p.Rotate) > c.MaxRotate*math.Pi/180 || math.Abs(p.Hue) > 2*math.Pi*c.Hue {
			t.Fatalf("rotation %v / hue %v out of range", p.Rotate, p.Hue)
		}
		for _, f := range []struct{ v, a float64 }{{p.Brightness, c.Brightness}, {p.Contrast, c.Contrast}, {p.Saturation, c.Saturation}} {
			if math.Abs(f.v-1) > f.a {
				t.Fatalf("colour factor %v beyond ±%v", f.v, f.a)
			}
		}
		lo, hi := p.CropW/2-c.MaxShift, 1-p.CropW/2+c.MaxShift
		if p.CropX < lo-1e-9 || p.CropX > hi+1e-9 {
			t.Fatalf("crop centre %v outside [%v,%v]", p.CropX, lo, hi)
		}
	}
	if flips < 900 || flips > 1100 {
		t.Errorf("%d flips in 2000 at probability %v", flips, c.Flip)
	}
}

func TestApplyRejectsBadFrames(t *testing.T) {
	cases := []struct {
		name string
		rgb  []byte
		w, h int
	}{
		{"short buffer", make([]byte, 11), 2, 2},
		{"zero width", nil, 0, 2},
		{"huge", nil, 1 << 15, 1},
	}
	for _, c := range cases {
		if _, err := Apply(nil, c.rgb, c.w, c.h, Identity()); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: err %v, want ErrFrame", c.name, err)
		}
	}
}
