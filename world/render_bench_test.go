package world

import "testing"

// BenchmarkRender measures one 224×224 frame per domain, with one to three
// objects, as the training export and the synthetic camera produce them.
func BenchmarkRender(b *testing.B) {
	for _, d := range Domains() {
		b.Run(d.String(), func(b *testing.B) {
			scenes := make([]Scene, 16)
			for i := range scenes {
				var pairs []Pair
				for k := 0; k <= i%3; k++ {
					pairs = append(pairs, Pair{Colour((i + k) % int(numColours)), Shape((i + 3*k) % int(numShapes))})
				}
				scenes[i] = NewScene(uint64(i), SceneSpec{Domain: d, Pairs: pairs})
			}
			var rd Renderer
			dst := make([]byte, 224*224*3)
			b.SetBytes(int64(len(dst)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := rd.Render(&scenes[i%len(scenes)], 224, 224, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderVGA is the synthetic camera's usual frame: 640×480.
func BenchmarkRenderVGA(b *testing.B) {
	for _, d := range []Domain{Day, Fog} {
		b.Run(d.String(), func(b *testing.B) {
			s := NewScene(7, SceneSpec{Domain: d, Pairs: []Pair{{Red, Star}, {Blue, Ring}}, Layout: Subject})
			var rd Renderer
			dst := make([]byte, 640*480*3)
			b.SetBytes(int64(len(dst)))
			for i := 0; i < b.N; i++ {
				if err := rd.Render(&s, 640, 480, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
