package synthetic_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/synthetic"
)

func config(seed int64, w, h int) capture.Config {
	cfg := capture.DefaultConfig()
	cfg.Source, cfg.Seed, cfg.Width, cfg.Height, cfg.FPS = capture.KindSynthetic, seed, w, h, 0
	return cfg
}

// frames reads n frames from a fresh default-scene source.
func frames(t *testing.T, cfg capture.Config, n int) []capture.Frame {
	t.Helper()
	src, err := synthetic.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := make([]capture.Frame, n)
	for i := range out {
		if err := src.Read(ctx, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestSameSeedSameBytes(t *testing.T) {
	a := frames(t, config(7, 96, 64), 40)
	b := frames(t, config(7, 96, 64), 40)
	c := frames(t, config(8, 96, 64), 40)
	differs := 0
	for i := range a {
		if a[i].Seq != uint64(i+1) || a[i].Width != 96 || a[i].Height != 64 || len(a[i].RGB) != 96*64*3 {
			t.Fatalf("frame %d: seq %d, %dx%d, %d bytes", i, a[i].Seq, a[i].Width, a[i].Height, len(a[i].RGB))
		}
		if !bytes.Equal(a[i].RGB, b[i].RGB) {
			t.Fatalf("seed 7 frame %d differs between two sources", a[i].Seq)
		}
		if !bytes.Equal(a[i].RGB, c[i].RGB) {
			differs++
		}
	}
	if differs != len(a) {
		t.Errorf("seeds 7 and 8 drew %d identical frames of %d", len(a)-differs, len(a))
	}
}

func TestSceneMoves(t *testing.T) {
	fs := frames(t, config(3, 96, 64), 30)
	for i := 1; i < len(fs); i++ {
		if bytes.Equal(fs[i-1].RGB, fs[i].RGB) {
			t.Errorf("frames %d and %d are identical: nothing moves", fs[i-1].Seq, fs[i].Seq)
		}
	}
	// Background gradient plus shapes: many colours, not a flat fill.
	colours := map[[3]byte]bool{}
	rgb := fs[0].RGB
	for i := 0; i < len(rgb); i += 3 {
		colours[[3]byte{rgb[i], rgb[i+1], rgb[i+2]}] = true
	}
	if len(colours) < 20 {
		t.Errorf("frame has %d distinct colours, want a gradient with shapes", len(colours))
	}
}

// TestRenderWritesEveryByte checks a frame does not depend on what the
// reused buffer held before, which determinism with buffer reuse needs.
func TestRenderWritesEveryByte(t *testing.T) {
	scene := synthetic.NewScene(11)
	render := func(fill byte) []byte {
		f := capture.Frame{Width: 50, Height: 30, RGB: bytes.Repeat([]byte{fill}, 50*30*3)}
		scene.Render(9, &f)
		return f.RGB
	}
	if !bytes.Equal(render(0x00), render(0xff)) {
		t.Error("Render left bytes of the previous buffer contents in place")
	}
}

func TestSceneAnySize(t *testing.T) {
	scene := synthetic.NewScene(5)
	for _, sz := range [][2]int{{1, 1}, {2, 3}, {640, 480}, {17, 301}, {224, 224}} {
		f := capture.Frame{Width: sz[0], Height: sz[1], RGB: make([]byte, sz[0]*sz[1]*3)}
		for seq := uint64(0); seq < 200; seq += 37 { // shapes at many positions, edges included
			scene.Render(seq, &f)
		}
	}
}

func TestCustomRenderer(t *testing.T) {
	var seqs []uint64
	render := func(seq uint64, dst *capture.Frame) {
		seqs = append(seqs, seq)
		if dst.Width != 4 || dst.Height != 2 || len(dst.RGB) != 24 {
			t.Errorf("renderer got %dx%d with %d bytes", dst.Width, dst.Height, len(dst.RGB))
		}
		for i := range dst.RGB {
			dst.RGB[i] = byte(seq)
		}
	}
	src, err := synthetic.New(config(0, 4, 2), render)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var f capture.Frame
	if err := src.Read(ctx, &f); !errors.Is(err, synthetic.ErrNotOpen) {
		t.Errorf("Read before Open = %v, want ErrNotOpen", err)
	}
	for round := 0; round < 2; round++ { // a reopened source carries on
		if err := src.Open(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := src.Read(ctx, &f); err != nil {
				t.Fatal(err)
			}
			if f.RGB[0] != byte(f.Seq) {
				t.Errorf("frame %d holds pixels of %d", f.Seq, f.RGB[0])
			}
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if want := []uint64{1, 2, 3, 4}; !slices.Equal(seqs, want) {
		t.Errorf("renderer called with %v, want %v", seqs, want)
	}
	if src.Name() != "synthetic:4x2" {
		t.Errorf("Name() = %q", src.Name())
	}
}

func TestReadHonoursCancel(t *testing.T) {
	cfg := config(1, 8, 8)
	cfg.FPS = 0.001 // the second frame is due in 1000 s
	src, err := synthetic.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var f capture.Frame
	if err := src.Read(ctx, &f); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- src.Read(ctx, &f) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("paced Read after cancel = %v, want context.Canceled", err)
	}
}

func TestNewRejectsBadSize(t *testing.T) {
	for _, cfg := range []capture.Config{config(1, 0, 10), config(1, 10, -1)} {
		if _, err := synthetic.New(cfg, nil); err == nil {
			t.Errorf("New(%dx%d) succeeded", cfg.Width, cfg.Height)
		}
	}
}

func BenchmarkSceneRender(b *testing.B) {
	for _, sz := range [][2]int{{224, 224}, {640, 480}} {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			scene := synthetic.NewScene(1)
			f := capture.Frame{Width: sz[0], Height: sz[1], RGB: make([]byte, sz[0]*sz[1]*3)}
			b.SetBytes(int64(len(f.RGB)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				scene.Render(uint64(i), &f)
			}
		})
	}
}
