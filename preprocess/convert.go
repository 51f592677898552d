package preprocess

import "math"

// lut maps each 8-bit channel value straight to its tensor element. With
// only 256 possible inputs per channel, a table is both the fastest
// normalisation and an exact one: each entry is computed with the same
// float32 operations torchvision performs (ToTensor's x/255, then Normalize's
// (x-mean)/std), so no per-pixel rounding differs from the reference.
type lut struct {
	f32 [3][256]float32
	u8  [3][256]uint8
	i8  [3][256]int8
}

func (l *lut) build(s Spec) {
	for c := 0; c < 3; c++ {
		for v := 0; v < 256; v++ {
			n := normalized(s, c, uint8(v))
			switch s.DType {
			case Float32:
				l.f32[c][v] = n
			case Uint8:
				l.u8[c][v] = uint8(quantize(s, n))
			case Int8:
				l.i8[c][v] = int8(quantize(s, n))
			}
		}
	}
}

// normalized is channel value v of channel c after ToTensor and Normalize:
// (float32(v)/255 - Mean[c]) / Std[c], every step rounded to float32.
func normalized(s Spec, c int, v uint8) float32 {
	x := float32(v) / 255
	return (x - s.Mean[c]) / s.Std[c]
}

// quantize maps a normalised value to the model's integer input:
// clamp(round(real/Scale) + ZeroPoint) with the division in float32 and
// halves rounded away from zero, as TensorFlow Lite's reference quantizer
// (TfLiteRound, i.e. std::round) does; the clamp range is that of s.DType.
// It returns the value as int32; callers convert to uint8/int8.
func quantize(s Spec, real float32) int32 {
	lo, hi := int32(0), int32(255)
	if s.DType == Int8 {
		lo, hi = -128, 127
	}
	q := math.Round(float64(real / s.Scale))
	// Clamp in float64 first so huge quotients cannot overflow the int32 conversion.
	q = math.Max(float64(lo-s.ZeroPoint), math.Min(float64(hi-s.ZeroPoint), q))
	return int32(q) + s.ZeroPoint
}

// fill writes the size×size RGB image sq into t, already shaped by prepare.
func (l *lut) fill(t *Tensor, sq []byte) {
	l.fillRows(t, sq, 0, t.Spec.Size)
}

// fillRows writes rows [y0, y1) of the size×size RGB image sq into t.
func (l *lut) fillRows(t *Tensor, sq []byte, y0, y1 int) {
	n := t.Spec.Size * t.Spec.Size
	lo, hi := y0*t.Spec.Size, y1*t.Spec.Size
	sq = sq[:n*3]
	switch t.Spec.DType {
	case Float32:
		fillTable(t.F32, sq, &l.f32, t.Spec.Layout, n, lo, hi)
	case Uint8:
		fillTable(t.U8, sq, &l.u8, t.Spec.Layout, n, lo, hi)
	case Int8:
		fillTable(t.I8, sq, &l.i8, t.Spec.Layout, n, lo, hi)
	}
}

// fillTable converts pixels [lo, hi) of sq (n pixels).
func fillTable[T float32 | uint8 | int8](dst []T, sq []byte, tab *[3][256]T, layout Layout, n, lo, hi int) {
	if layout == NHWC {
		dst = dst[lo*3 : hi*3]
		sq = sq[lo*3 : hi*3]
		dst = dst[:len(sq)]
		for i := 0; i+2 < len(sq); i += 3 {
			p := sq[i : i+3 : i+3]
			d := dst[i : i+3 : i+3]
			d[0], d[1], d[2] = tab[0][p[0]], tab[1][p[1]], tab[2][p[2]]
		}
		return
	}
	r, g, b := dst[lo:hi], dst[n+lo:n+hi], dst[2*n+lo:2*n+hi]
	sq = sq[lo*3 : hi*3]
	for i := range r {
		p := sq[i*3 : i*3+3 : i*3+3]
		r[i], g[i], b[i] = tab[0][p[0]], tab[1][p[1]], tab[2][p[2]]
	}
}

// prepare shapes t for spec, reusing its buffer for the spec's dtype; the
// slices of the other dtypes are released so exactly one is in use.
func (t *Tensor) prepare(spec Spec) {
	t.Spec = spec
	n := spec.Elements()
	switch spec.DType {
	case Float32:
		t.F32, t.U8, t.I8 = grow(t.F32, n), nil, nil
	case Uint8:
		t.F32, t.U8, t.I8 = nil, grow(t.U8, n), nil
	case Int8:
		t.F32, t.U8, t.I8 = nil, nil, grow(t.I8, n)
	}
}
