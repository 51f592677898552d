package preprocess

import (
	"math"
	"testing"
)

// FuzzImage: any small frame and any valid spec must produce a tensor of
// Elements() values, all finite, without panicking; a flat frame must stay
// flat through resize and crop.
func FuzzImage(f *testing.F) {
	f.Add(uint8(4), uint8(3), uint8(5), uint8(0), uint8(0), uint16(300), int16(0), []byte{1, 2, 3, 250, 251, 252})
	f.Add(uint8(1), uint8(1), uint8(16), uint8(1), uint8(1), uint16(78), int16(128), []byte{255})
	f.Add(uint8(63), uint8(2), uint8(7), uint8(2), uint8(2), uint16(1), int16(-128), []byte{0, 255})
	f.Add(uint8(9), uint8(40), uint8(1), uint8(3), uint8(1), uint16(65535), int16(255), []byte{})
	f.Fuzz(func(t *testing.T, w8, h8, size8, layoutDtype, meanStd uint8, scale16 uint16, zp16 int16, data []byte) {
		w, h, size := 1+int(w8%64), 1+int(h8%64), 1+int(size8%48)
		spec := Spec{
			Size:   size,
			Layout: []Layout{NCHW, NHWC}[layoutDtype&1],
			DType:  []DType{Float32, Uint8, Int8, Float32}[(layoutDtype>>1)&3],
			Scale:  float32(1+int(scale16)) / 4096,
		}
		for c := 0; c < 3; c++ {
			spec.Mean[c] = float32(int(meanStd)+c*37)/255 - 0.5
			spec.Std[c] = float32(1+int(meanStd>>2)+c) / 64
		}
		switch spec.DType {
		case Uint8:
			spec.ZeroPoint = int32(uint8(zp16))
		case Int8:
			spec.ZeroPoint = int32(int8(zp16))
		}
		if err := spec.Validate(); err != nil {
			t.Fatalf("the fuzz harness built an invalid spec: %v", err)
		}

		rgb := make([]byte, w*h*3)
		for i := range rgb {
			if len(data) > 0 {
				rgb[i] = data[i%len(data)] ^ byte(i*131)
			}
		}
		var dst Tensor
		if err := Image(&dst, rgb, w, h, spec); err != nil {
			t.Fatalf("Image(%dx%d, %+v): %v", w, h, spec, err)
		}
		var n int
		switch spec.DType {
		case Float32:
			n = len(dst.F32)
			for i, v := range dst.F32 {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("element %d = %v", i, v)
				}
			}
		case Uint8:
			n = len(dst.U8)
		case Int8:
			n = len(dst.I8)
		}
		if n != spec.Elements() {
			t.Fatalf("%d elements, want %d", n, spec.Elements())
		}

		// Flat frame in, flat square out.
		var col [3]byte
		copy(col[:], data)
		for i := range rgb {
			rgb[i] = col[i%3]
		}
		sq, err := ResizeCrop(nil, rgb, w, h, size)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range sq {
			if v != col[i%3] {
				t.Fatalf("flat colour %v became %d at byte %d (%dx%d -> %d)", col, v, i, w, h, size)
			}
		}
	})
}
