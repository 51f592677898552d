package augment

import (
	"math"
	"testing"
)

// Apply never panics or writes outside dst, whatever the transform
// (including NaN and infinite parameters, which clamp to the edge).
func FuzzApply(f *testing.F) {
	f.Add(uint8(5), uint8(3), false, 0.5, 0.5, 1.0, 1.0, 0.0, 1.0, 0.0)
	f.Add(uint8(1), uint8(1), true, -3.0, 9.0, 0.01, 4.0, 3.0, 0.2, 7.0)
	f.Add(uint8(7), uint8(2), true, math.NaN(), math.Inf(1), math.Inf(-1), 1e300, math.NaN(), math.Inf(1), math.NaN())
	f.Fuzz(func(t *testing.T, w, h uint8, flip bool, cx, cy, cw, ch, rot, bright, hue float64) {
		W, H := int(w%32)+1, int(h%32)+1
		src := frame(W, H)
		p := Params{Flip: flip, CropX: cx, CropY: cy, CropW: cw, CropH: ch, Rotate: rot,
			Brightness: bright, Contrast: 1, Saturation: 1, Hue: hue}
		dst := make([]byte, W*H*3, W*H*3+8)
		out, err := Apply(dst, src, W, H, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != W*H*3 || &out[0] != &dst[0] {
			t.Fatalf("output %d bytes, not written into dst", len(out))
		}
		if ext := dst[:cap(dst)][W*H*3:]; string(ext) != string(make([]byte, 8)) {
			t.Fatal("wrote past the frame")
		}
	})
}
