package cv

import (
	"fmt"
	"testing"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

// BenchmarkMatToFrame measures turning a captured BGR Mat into the Frame's
// RGB bytes with matToFrame (cvtColor plus a copy out of C memory), against
// the alternative it replaced: swapping channels in Go straight from the
// Mat's memory ("go-swap").
func BenchmarkMatToFrame(b *testing.B) {
	for _, sz := range [][2]int{{640, 480}, {1280, 720}} {
		w, h := sz[0], sz[1]
		bgr := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 20, 30, 0), h, w, gocv.MatTypeCV8UC3)
		b.Run(fmt.Sprintf("cvtcolor/%dx%d", w, h), func(b *testing.B) {
			scratch := gocv.NewMat()
			defer scratch.Close()
			var f capture.Frame
			b.SetBytes(int64(w * h * 3))
			b.ReportAllocs()
			for b.Loop() {
				if err := matToFrame(&bgr, &scratch, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("go-swap/%dx%d", w, h), func(b *testing.B) {
			out := make([]byte, w*h*3)
			b.SetBytes(int64(w * h * 3))
			b.ReportAllocs()
			for b.Loop() {
				src, err := bgr.DataPtrUint8()
				if err != nil {
					b.Fatal(err)
				}
				swapBGR(out, src)
			}
		})
		bgr.Close()
	}
}

func swapBGR(dst, src []byte) {
	for i := 0; i+2 < len(src) && i+2 < len(dst); i += 3 {
		s, d := src[i:i+3:i+3], dst[i:i+3:i+3]
		d[0], d[1], d[2] = s[2], s[1], s[0]
	}
}
