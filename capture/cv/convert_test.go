package cv

import (
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

// pixel returns a distinct BGR(A) pixel for position i.
func pixel(i int) (b, g, r byte) { return byte(i * 7), byte(i*13 + 1), byte(i*29 + 2) }

func TestMatToFrame(t *testing.T) {
	const w, h = 5, 3
	tests := []struct {
		name string
		typ  gocv.MatType
		ch   int
		want func(i int) [3]byte // RGB expected at pixel i
	}{
		{"bgr", gocv.MatTypeCV8UC3, 3, func(i int) [3]byte { b, g, r := pixel(i); return [3]byte{r, g, b} }},
		{"bgra", gocv.MatTypeCV8UC4, 4, func(i int) [3]byte { b, g, r := pixel(i); return [3]byte{r, g, b} }},
		{"grey", gocv.MatTypeCV8UC1, 1, func(i int) [3]byte { b, _, _ := pixel(i); return [3]byte{b, b, b} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := make([]byte, w*h*tt.ch)
			for i := 0; i < w*h; i++ {
				b, g, r := pixel(i)
				copy(data[i*tt.ch:], []byte{b, g, r, 255}[:tt.ch])
			}
			m, err := gocv.NewMatFromBytes(h, w, tt.typ, data)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			scratch := gocv.NewMat()
			defer scratch.Close()
			f := capture.Frame{RGB: make([]byte, 1, 1000)} // big enough: must be reused
			backing := &f.RGB[:1][0]
			if err := matToFrame(&m, &scratch, &f); err != nil {
				t.Fatal(err)
			}
			if f.Width != w || f.Height != h || len(f.RGB) != w*h*3 {
				t.Fatalf("frame %dx%d with %d bytes", f.Width, f.Height, len(f.RGB))
			}
			if &f.RGB[0] != backing {
				t.Error("matToFrame allocated although dst.RGB had capacity")
			}
			for i := 0; i < w*h; i++ {
				if got := [3]byte(f.RGB[i*3 : i*3+3]); got != tt.want(i) {
					t.Fatalf("pixel %d = %v, want %v", i, got, tt.want(i))
				}
			}
		})
	}
}

func TestMatToFrameNonContinuous(t *testing.T) {
	data := make([]byte, 6*4*3)
	for i := range data {
		data[i] = byte(i)
	}
	m, err := gocv.NewMatFromBytes(4, 6, gocv.MatTypeCV8UC3, data)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	roi := m.Region(image.Rect(1, 1, 4, 3)) // columns 1..3, rows 1..2
	defer roi.Close()
	scratch := gocv.NewMat()
	defer scratch.Close()
	var f capture.Frame
	if err := matToFrame(&roi, &scratch, &f); err != nil {
		t.Fatal(err)
	}
	if f.Width != 3 || f.Height != 2 {
		t.Fatalf("ROI frame %dx%d, want 3x2", f.Width, f.Height)
	}
	// Top-left of the ROI is pixel (1,1) of the 6-wide image: BGR at offset (1*6+1)*3.
	if off := (1*6 + 1) * 3; f.RGB[0] != data[off+2] || f.RGB[2] != data[off] {
		t.Errorf("ROI first pixel %v, want RGB of BGR %v", f.RGB[:3], data[off:off+3])
	}
}

func TestMatToFrameRejects(t *testing.T) {
	empty := gocv.NewMat()
	defer empty.Close()
	scratch := gocv.NewMat()
	defer scratch.Close()
	var f capture.Frame
	if err := matToFrame(&empty, &scratch, &f); err == nil {
		t.Error("empty Mat converted")
	}
	float := gocv.NewMatWithSize(2, 2, gocv.MatTypeCV32FC3)
	defer float.Close()
	if err := matToFrame(&float, &scratch, &f); err == nil {
		t.Error("float Mat converted")
	}
}
