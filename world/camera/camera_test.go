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
