package world

import "math"

// look is how a domain and the day's drift change a scene's appearance.
type look struct {
	gain       [3]float64 // exposure × illuminant colour, per channel
	saturation float64
	contrast   float64
	vignette   float64
	lift       float64 // black level added after exposure (glare)

	lamp, ambient         float64 // night: lamp strength and ambient light
	lampX, lampY, lampR   float64
	flare, flareX, flareY float64 // glare: bright bloom centre

	fog    float64 // fog density in [0,1]
	fogCol [3]float64

	blur, blurPasses int // box-blur radius (pixels) and passes

	rain    int // streaks per 224×224 pixels
	rainCol [3]float64

	noise float64 // sensor noise standard deviation, in [0,1] units
}

// lookFor derives the look from the scene's domain, day and seed. side is
// the frame's scene size in pixels, which scales blur radii.
func lookFor(s *Scene, side float64) look {
	r := newRNG(s.Seed, 0x100c)
	t := drift(s.Day)
	// Drift: the illuminant cools, contrast fades and the lens darkens at
	// the corners as the days go by.
	lk := look{
		gain:       [3]float64{1 - 0.16*t, 1 - 0.03*t, 1 + 0.12*t},
		saturation: 1 - 0.1*math.Min(t, 1),
		contrast:   1 - 0.12*math.Min(t, 1.5),
		vignette:   0.12 + 0.2*math.Min(t, 1.5),
		noise:      0.012,
	}
	exposure := r.rangef(0.95, 1.08)
	scale := side / 224
	switch s.Domain {
	case Night:
		exposure = r.rangef(0.75, 0.95)
		lk.gain = mul3(lk.gain, [3]float64{0.72, 0.85, 1.2})
		lk.saturation *= 0.6
		lk.ambient = r.rangef(0.25, 0.35)
		lk.lamp = r.rangef(0.45, 0.7)
		lk.lampX, lk.lampY = r.rangef(0.2, 0.8), r.rangef(0.1, 0.6)
		lk.lampR = r.rangef(0.25, 0.45)
		lk.noise = r.rangef(0.035, 0.06)
	case Fog:
		lk.fog = r.rangef(0.45, 0.65)
		g := r.rangef(0.72, 0.86)
		lk.fogCol = [3]float64{g, g + 0.01, g + 0.03}
		lk.contrast *= 0.85
		lk.blur = max(1, int(2*scale+0.5))
		lk.blurPasses = 2
		lk.noise = 0.01
	case Rain:
		exposure = r.rangef(0.65, 0.8)
		lk.gain = mul3(lk.gain, [3]float64{0.93, 0.97, 1.05})
		lk.saturation *= 0.7
		lk.blur = max(1, int(scale+0.5))
		lk.blurPasses = 1
		lk.rain = 140
		lk.rainCol = [3]float64{0.82, 0.84, 0.88}
		lk.noise = 0.02
	case Glare:
		exposure = r.rangef(1.45, 1.8)
		lk.saturation *= 0.8
		lk.lift = r.rangef(0.03, 0.08)
		lk.flare = r.rangef(0.25, 0.5)
		lk.flareX, lk.flareY = r.rangef(0.1, 0.9), r.rangef(0.05, 0.5)
		lk.noise = 0.01
	}
	for c := range lk.gain {
		lk.gain[c] *= exposure
	}
	return lk
}

func mul3(a, b [3]float64) [3]float64 { return [3]float64{a[0] * b[0], a[1] * b[1], a[2] * b[2]} }
