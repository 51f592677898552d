package camera

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/world"
)

func TestRenderFillsFrame(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Task, cfg.Split, cfg.Width, cfg.Height = "night", world.TestSplit, 80, 60
	render, st, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The source did not set a size: the configured one is used.
	var f capture.Frame
	render(3, &f)
	if f.Width != 80 || f.Height != 60 || len(f.RGB) != 80*60*3 {
		t.Fatalf("frame %dx%d with %d bytes", f.Width, f.Height, len(f.RGB))
	}
	want := make([]byte, 80*60*3)
	if _, err := st.Render(3, 80, 60, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.RGB, want) {
		t.Error("camera frame 3 differs from stream frame 3")
	}
	// The source's size wins, and the buffer is reused when large enough.
	g := capture.Frame{Width: 32, Height: 24, RGB: make([]byte, 0, 32*24*3)}
	buf := &g.RGB[:1][0]
	render(4, &g)
	if g.Width != 32 || len(g.RGB) != 32*24*3 || &g.RGB[0] != buf {
		t.Errorf("frame %dx%d, %d bytes, reused=%v", g.Width, g.Height, len(g.RGB), &g.RGB[0] == buf)
	}
	prev := append([]byte(nil), g.RGB...)
	render(5, &g)
	if bytes.Equal(prev, g.RGB) {
		t.Error("frames 4 and 5 are identical")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.Width = 0
	if err := bad.Validate(); err == nil {
		t.Error("zero width accepted")
	}
	bad = DefaultConfig()
	bad.Scenario = ""
	if err := bad.Validate(); err == nil {
		t.Error("empty scenario accepted")
	}
	bad = DefaultConfig()
	bad.Scenario = "nosuch"
	if _, _, err := New(bad); err == nil {
		t.Error("unknown scenario accepted")
	}
	if _, err := Render(nil, 0, 10); err == nil {
		t.Error("Render accepted a zero fallback width")
	}
}

func ExampleRender() {
	st, err := world.OpenStream(world.Config{Scenario: "default", Task: "fog", Split: world.TestSplit})
	if err != nil {
		panic(err)
	}
	render, err := Render(st, 640, 480)
	if err != nil {
		panic(err)
	}
	var f capture.Frame
	render(0, &f)
	fmt.Println(f.Width, f.Height, len(f.RGB))
	// Output: 640 480 921600
}

// The registered world kind plays the configured stream: frame Seq k is the
// stream's picture k, and the name says which stream.
func TestWorldSourceKind(t *testing.T) {
	cfg := capture.DefaultConfig()
	cfg.Source, cfg.Scenario, cfg.Task, cfg.Width, cfg.Height, cfg.FPS = capture.KindWorld, "default", "shapes-day", 64, 48, 0
	src, err := capture.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws, ok := src.(*Source)
	if !ok {
		t.Fatalf("capture.New returned %T", src)
	}
	if got, want := src.Name(), "world:default/shapes-day/test@64x48"; got != want {
		t.Errorf("name %q, want %q", got, want)
	}
	ctx := t.Context()
	if err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var f capture.Frame
	want := make([]byte, 64*48*3)
	for k := uint64(1); k <= 3; k++ {
		if err := src.Read(ctx, &f); err != nil {
			t.Fatal(err)
		}
		if f.Seq != k || f.Width != 64 || f.Height != 48 {
			t.Fatalf("frame seq %d %dx%d, want seq %d 64x48", f.Seq, f.Width, f.Height, k)
		}
		if _, err := ws.Stream().Render(k, 64, 48, want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.RGB, want) {
			t.Errorf("frame %d differs from the stream's picture %d", k, k)
		}
	}
	cfg.Task = "no-such-task"
	if _, err := capture.New(cfg, nil); err == nil {
		t.Error("unknown task accepted")
	}
}
