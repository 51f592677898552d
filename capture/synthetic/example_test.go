package synthetic_test

import (
	"context"
	"fmt"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/synthetic"
)

// A renderer of your own replaces the default scene; here every frame is a
// flat grey that brightens with the frame number.
func ExampleNew() {
	cfg := capture.DefaultConfig()
	cfg.Source, cfg.Width, cfg.Height, cfg.FPS = capture.KindSynthetic, 4, 4, 0

	fade := func(seq uint64, dst *capture.Frame) {
		for i := range dst.RGB {
			dst.RGB[i] = byte(seq * 10)
		}
	}
	src, err := synthetic.New(cfg, fade)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := src.Open(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	var f capture.Frame
	for i := 0; i < 3; i++ {
		if err := src.Read(ctx, &f); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(f.Seq, f.RGB[0])
	}
	// Output:
	// 1 10
	// 2 20
	// 3 30
}

// The default scene is a pure function of seed and frame number.
func ExampleNewScene() {
	a, b := synthetic.NewScene(42), synthetic.NewScene(42)
	fa := capture.Frame{Width: 32, Height: 24, RGB: make([]byte, 32*24*3)}
	fb := capture.Frame{Width: 32, Height: 24, RGB: make([]byte, 32*24*3)}
	a.Render(100, &fa)
	b.Render(100, &fb)
	fmt.Println(string(fa.RGB) == string(fb.RGB))
	// Output: true
}
