package preprocess

import "math"

// ResizedSize is the size torchvision's Resize(size) gives a w×h image
// (OpenAI CLIP's _transform uses Resize(n_px, BICUBIC)): the shorter side
// becomes size and the longer int(size*long/short). Python's int() truncates
// the true (float64) quotient; size*long is exact in float64 for all inputs we
// accept, so the Go quotient is bit-identical. A square image counts as
// "width is shorter" (torchvision tests w <= h), which only matters for which
// branch runs, not for the result. Same arithmetic in torchvision ≤0.7
// (functional.resize), 0.8–0.12 (functional_pil.resize) and ≥0.13
// (_compute_resized_output_size).
func ResizedSize(w, h, size int) (rw, rh int) {
	if w <= h {
		return size, int(float64(size*h) / float64(w))
	}
	return int(float64(size*w) / float64(h)), size
}

// CenterCropOffset is the top-left corner torchvision's CenterCrop(size)
// takes from a rw×rh image: int(round((rw-size)/2.0)) per axis, where
// Python 3's round() rounds halves to even (torchvision ≤0.7 and ≥0.10).
// Other pipelines differ by one pixel on some sizes: torchvision 0.8/0.9 used
// int((d+1)*0.5), i.e. halves up (differs when d = rw-size ≡ 1 mod 4), and
// Hugging Face's CLIPImageProcessor floors (differs when d ≡ 3 mod 4). After
// ResizedSize one of the two offsets is always 0.
func CenterCropOffset(rw, rh, size int) (left, top int) {
	return int(math.RoundToEven(float64(rw-size) / 2)), int(math.RoundToEven(float64(rh-size) / 2))
}
