package augment

import (
	"fmt"
	"testing"
)

// BenchmarkView is one teach-time view of a 640×480 camera frame; a teach
// event pays it Views times per taught frame, plus an encode each.
func BenchmarkView(b *testing.B) {
	for _, sz := range [][2]int{{224, 224}, {640, 480}} {
		w, h := sz[0], sz[1]
		src := frame(w, h)
		c := DefaultConfig()
		c.Hue = 0.1
		dst := make([]byte, len(src))
		b.Run(fmt.Sprintf("%dx%d", w, h), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for i := 0; b.Loop(); i++ {
				var err error
				if dst, err = c.View(dst, src, w, h, 1, i%c.Views); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
