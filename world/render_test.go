package world

import (
	"bytes"
	"math"
	"reflect"
	"testing"
)

func testScenes(n int, d Domain) []Scene {
	out := make([]Scene, n)
	for i := range out {
		var pairs []Pair
		for k := 0; k <= i%3; k++ {
			pairs = append(pairs, Pair{Colour((i + 3*k) % int(numColours)), Shape((i + 5*k) % int(numShapes))})
		}
		out[i] = NewScene(uint64(1000+i), SceneSpec{Domain: d, Pairs: pairs})
	}
	return out
}

func render(t testing.TB, s *Scene, w, h int) []byte {
	t.Helper()
	b, err := RenderRGB(s, w, h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRenderDeterministic(t *testing.T) {
	for _, d := range Domains() {
		scenes := testScenes(3, d)
		// A fresh scene from the same seed and spec is the same scene.
		again := testScenes(3, d)
		if !reflect.DeepEqual(scenes, again) {
			t.Fatalf("%v: NewScene is not deterministic", d)
		}
		var rd Renderer
		first := make([]byte, 224*224*3)
		other := make([]byte, 224*224*3)
		if err := rd.Render(&scenes[0], 224, 224, first); err != nil {
			t.Fatal(err)
		}
		// Reusing the renderer after another scene must not leak state.
		rd.Render(&scenes[1], 224, 224, other)
		second := make([]byte, 224*224*3)
		rd.Render(&again[0], 224, 224, second)
		if !bytes.Equal(first, second) {
			t.Errorf("%v: same scene rendered twice differs", d)
		}
		if bytes.Equal(first, other) {
			t.Errorf("%v: different scenes rendered identically", d)
		}
	}
}

// luma returns the mean and standard deviation of the luminance, in [0,255].
func luma(rgb []byte) (mean, std float64) {
	n := len(rgb) / 3
	var s, ss float64
	for i := 0; i < n; i++ {
		y := 0.299*float64(rgb[3*i]) + 0.587*float64(rgb[3*i+1]) + 0.114*float64(rgb[3*i+2])
		s += y
		ss += y * y
	}
	mean = s / float64(n)
	return mean, math.Sqrt(ss/float64(n) - mean*mean)
}

// The same scenes under each domain: night darker, glare brighter, fog lower
// in contrast, night noisier.
func TestDomainsDiffer(t *testing.T) {
	type stats struct{ mean, std, rough float64 }
	measure := func(d Domain) stats {
		var st stats
		scenes := testScenes(12, Day)
		for i := range scenes {
			s := scenes[i]
			s.Domain = d
			rgb := render(t, &s, 128, 128)
			m, sd := luma(rgb)
			st.mean += m / 12
			st.std += sd / 12
			st.rough += roughness(rgb, 128, 128) / 12
		}
		return st
	}
	day, night, fog, glare, rain := measure(Day), measure(Night), measure(Fog), measure(Glare), measure(Rain)
	t.Logf("day %+v night %+v fog %+v glare %+v rain %+v", day, night, fog, glare, rain)
	if night.mean > 0.6*day.mean {
		t.Errorf("night mean luminance %.1f not well below day %.1f", night.mean, day.mean)
	}
	if glare.mean < day.mean+20 {
		t.Errorf("glare mean luminance %.1f not well above day %.1f", glare.mean, day.mean)
	}
	if rain.mean >= day.mean {
		t.Errorf("rain mean luminance %.1f not below day %.1f", rain.mean, day.mean)
	}
	if fog.std > 0.7*day.std {
		t.Errorf("fog contrast (luminance std %.1f) not well below day %.1f", fog.std, day.std)
	}
	// Sensor noise shows as pixel-to-pixel roughness, relative to the
	// image's brightness.
	if night.rough/night.mean < 2*day.rough/day.mean {
		t.Errorf("night relative roughness %.3f not above twice day's %.3f", night.rough/night.mean, day.rough/day.mean)
	}
	if fog.rough > day.rough {
		t.Errorf("fog roughness %.2f above day %.2f although fog blurs", fog.rough, day.rough)
	}
}

// roughness is the mean absolute difference of horizontally adjacent luma.
func roughness(rgb []byte, w, h int) float64 {
	var s float64
	for y := 0; y < h; y++ {
		for x := 1; x < w; x++ {
			a, b := 3*(y*w+x-1), 3*(y*w+x)
			s += math.Abs(float64(rgb[a+1]) - float64(rgb[b+1]))
		}
	}
	return s / float64(h*(w-1))
}

func TestDriftCoolsTheLight(t *testing.T) {
	var early, late [3]float64
	for _, s := range testScenes(10, Day) {
		for _, c := range []struct {
			day int
			acc *[3]float64
		}{{0, &early}, {730, &late}} {
			s.Day = c.day
			rgb := render(t, &s, 64, 64)
			for i := 0; i < len(rgb); i++ {
				c.acc[i%3] += float64(rgb[i])
			}
		}
	}
	if late[2]/late[0] < 1.2*early[2]/early[0] {
		t.Errorf("blue/red ratio %.3f on day 730 is not well above %.3f on day 0", late[2]/late[0], early[2]/early[0])
	}
}

// Each object's paint shows at its centre, where the scene says it is.
func TestObjectsWhereTheSceneSaysTheyAre(t *testing.T) {
	solid := []Shape{Circle, Square, Hexagon, Heart, Star, Cross, Triangle,
		Pentagon, Octagon, Diamond, Oval, Trapezoid, Parallelogram, Kite, Rectangle, Drop, Clover, Capsule, House, Cloud}
	for i, sh := range solid {
		for _, c := range []Colour{Red, Blue, Yellow, Green} {
			s := NewScene(uint64(i*10+int(c)), SceneSpec{Domain: Day, Pairs: []Pair{{c, sh}}, Layout: Subject})
			o := s.Objects[0]
			rgb := render(t, &s, 224, 224)
			x, y := int(o.X*224), int(o.Y*224)
			px := rgb[3*(y*224+x) : 3*(y*224+x)+3]
			want := colours[c].rgb
			// Compare the dominant channel, robust to lighting and jitter.
			if argmax3(float64(px[0]), float64(px[1]), float64(px[2])) != argmax3(want[0], want[1], want[2]) {
				t.Errorf("%v %v: centre pixel %v has the wrong dominant channel", c, sh, px)
			}
		}
	}
}

func argmax3(a, b, c float64) int {
	switch {
	case a >= b && a >= c:
		return 0
	case b >= c:
		return 1
	}
	return 2
}

// Edges are anti-aliased: a circle's outline has pixels part way between
// the paint and the background, about one per pixel of circumference.
func TestAntiAliasedEdges(t *testing.T) {
	s := Scene{
		Domain:     Day,
		Background: Background{Kind: Gradient, A: [3]float64{0.1, 0.1, 0.1}, B: [3]float64{0.1, 0.1, 0.1}},
		Objects:    []Object{{Shape: Circle, Colour: White, X: 0.5, Y: 0.5, Radius: 0.25, Paint: [3]float64{0.9, 0.9, 0.9}}},
	}
	rgb := render(t, &s, 200, 200)
	lo, hi := 0.25*255, 0.75*255
	var partial int
	for i := 0; i < 200*200; i++ {
		if v := float64(rgb[3*i+1]); v > lo && v < hi {
			partial++
		}
	}
	circumference := 2 * math.Pi * 0.25 * 0.95 * 200
	if float64(partial) < 0.3*circumference || float64(partial) > 2*circumference {
		t.Errorf("%d partially covered pixels, want about the circumference %.0f", partial, circumference)
	}
}

// The scene is the centred square of any frame, so a wide frame's centre
// crop looks like the square render.
func TestRenderAspect(t *testing.T) {
	s := testScenes(2, Day)[1]
	sq := render(t, &s, 120, 120)
	wide := render(t, &s, 200, 120)
	var diff float64
	for y := 0; y < 120; y++ {
		for x := 0; x < 120; x++ {
			for c := 0; c < 3; c++ {
				diff += math.Abs(float64(sq[3*(y*120+x)+c]) - float64(wide[3*(y*200+x+40)+c]))
			}
		}
	}
	if mean := diff / (120 * 120 * 3); mean > 4 {
		t.Errorf("centre crop of a wide frame differs from the square render by %.1f levels on average", mean)
	}
}

func TestRenderErrors(t *testing.T) {
	s := testScenes(1, Day)[0]
	var rd Renderer
	if err := rd.Render(&s, 0, 10, make([]byte, 300)); err == nil {
		t.Error("zero width accepted")
	}
	if err := rd.Render(&s, 10, 10, make([]byte, 299)); err == nil {
		t.Error("short buffer accepted")
	}
}
