package capture_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/synthetic"
)

// BenchmarkGrabber compares reading the synthetic source directly with
// taking frames through a Grabber: the difference per frame is the cost of
// the reader goroutine, the buffer swaps and the wake-ups. The source runs
// unpaced, so a Next waits for the next frame to be drawn plus a goroutine
// wake-up, and frames drawn meanwhile are dropped (reported per op); ns/read
// is the reader's time per frame, comparable with direct's ns/op.
func BenchmarkGrabber(b *testing.B) {
	for _, sz := range [][2]int{{64, 48}, {640, 480}} {
		cfg := capture.DefaultConfig()
		cfg.Source, cfg.Width, cfg.Height, cfg.FPS = capture.KindSynthetic, sz[0], sz[1], 0
		name := fmt.Sprintf("%dx%d", sz[0], sz[1])

		b.Run("direct/"+name, func(b *testing.B) {
			src, err := synthetic.New(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if err := src.Open(ctx); err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			var f capture.Frame
			b.ReportAllocs()
			for b.Loop() {
				if err := src.Read(ctx, &f); err != nil {
					b.Fatal(err)
				}
			}
		})

		b.Run("grabber/"+name, func(b *testing.B) {
			src, err := synthetic.New(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g, err := capture.NewGrabber(ctx, src, cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			var f capture.Frame
			if err := g.Next(ctx, &f); err != nil { // warm up: buffers allocated
				b.Fatal(err)
			}
			before := g.Stats()
			b.ReportAllocs()
			for b.Loop() {
				if err := g.Next(ctx, &f); err != nil {
					b.Fatal(err)
				}
			}
			s := g.Stats()
			b.ReportMetric(float64(s.Dropped-before.Dropped)/float64(b.N), "dropped/op")
			// Comparable with direct's ns/op: the reader side's cost per frame.
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(s.Read-before.Read), "ns/read")
		})
	}
}
