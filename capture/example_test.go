package capture_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/clipfleet/clipfleet/capture"
	_ "github.com/clipfleet/clipfleet/capture/synthetic" // registers "synthetic"
)

func ExampleGrabber() {
	log := slog.New(slog.DiscardHandler)
	cfg := capture.DefaultConfig()
	cfg.Source, cfg.Width, cfg.Height, cfg.FPS = capture.KindSynthetic, 64, 48, 30

	src, err := capture.New(cfg, log)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := capture.NewGrabber(ctx, src, cfg, log)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close() // releases the source

	var f capture.Frame // reused: Next swaps buffers instead of allocating
	var last uint64
	for i := 0; i < 3; i++ {
		if err := g.Next(ctx, &f); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%dx%d frame, newer than the last: %v\n", f.Width, f.Height, f.Seq > last)
		last = f.Seq
	}
	fmt.Println("delivered:", g.Stats().Delivered)
	// Output:
	// 64x48 frame, newer than the last: true
	// 64x48 frame, newer than the last: true
	// 64x48 frame, newer than the last: true
	// delivered: 3
}
