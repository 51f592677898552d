package cv_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/internal/testutil"
)

const (
	vidW, vidH = 64, 48
	vidFrames  = 12
)

// frameColour is the solid colour of frame k (from 1) of the test videos;
// every frame differs from its neighbours in all three channels.
func frameColour(k int) [3]byte {
	return [3]byte{byte(20 * k), byte(255 - 15*k), byte(60 + 10*k)}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// writeMJPG writes vidFrames solid frames to an MJPG .avi with OpenCV's own
// writer, so it needs no external encoder.
func writeMJPG(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "solid.avi")
	vw, err := gocv.VideoWriterFile(path, "MJPG", 10, vidW, vidH, true)
	if err != nil {
		t.Fatal(err)
	}
	defer vw.Close()
	if !vw.IsOpened() {
		testutil.Missing(t, "OpenCV cannot write MJPG .avi files")
	}
	for k := 1; k <= vidFrames; k++ {
		c := frameColour(k)
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(c[2]), float64(c[1]), float64(c[0]), 0), vidH, vidW, gocv.MatTypeCV8UC3)
		err := vw.Write(m)
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// writeFFmpegMP4 encodes the same frames with the ffmpeg command to MPEG-4
// in .mp4, a different container and codec than writeMJPG.
func writeFFmpegMP4(t *testing.T, dir string) string {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		testutil.Missing(t, "ffmpeg command: %v", err)
	}
	pngs := t.TempDir()
	for k := 1; k <= vidFrames; k++ {
		c := frameColour(k)
		writePNG(t, filepath.Join(pngs, fmt.Sprintf("%03d.png", k)), vidW, vidH, func(x, y int) [3]byte { return c })
	}
	path := filepath.Join(dir, "solid.mp4")
	cmd := exec.Command(ffmpeg, "-nostdin", "-y", "-loglevel", "error", "-framerate", "10",
		"-i", filepath.Join(pngs, "%03d.png"), "-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return path
}

// writePNG writes a w×h image whose pixel (x, y) is px(x, y) in RGB.
func writePNG(t *testing.T, path string, w, h int, px func(x, y int) [3]byte) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := px(x, y)
			img.SetNRGBA(x, y, color.NRGBA{c[0], c[1], c[2], 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// meanColour is the average RGB of a frame.
func meanColour(f *capture.Frame) [3]float64 {
	var sum [3]float64
	for i := 0; i+2 < len(f.RGB); i += 3 {
		for c := 0; c < 3; c++ {
			sum[c] += float64(f.RGB[i+c])
		}
	}
	n := float64(len(f.RGB) / 3)
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

// checkSolid asserts f is a vidW×vidH frame of roughly frameColour(k):
// lossy codecs move solid colours by a few levels, not by the 10+ that
// separate neighbouring frames.
func checkSolid(t *testing.T, f *capture.Frame, k int) {
	t.Helper()
	if f.Width != vidW || f.Height != vidH || len(f.RGB) != vidW*vidH*3 {
		t.Fatalf("frame %d: %dx%d with %d bytes, want %dx%d", k, f.Width, f.Height, len(f.RGB), vidW, vidH)
	}
	want, got := frameColour(k), meanColour(f)
	for c := 0; c < 3; c++ {
		if d := got[c] - float64(want[c]); d > 6 || d < -6 {
			t.Fatalf("frame %d: mean RGB %.1f, want about %v", k, got, want)
		}
	}
}

// readAll reads src until it fails and returns the frames and the failure.
func readAll(t *testing.T, ctx context.Context, src capture.Source, max int) ([]capture.Frame, error) {
	t.Helper()
	if err := src.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() {
		if err := src.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	var out []capture.Frame
	for len(out) < max {
		var f capture.Frame
		if err := src.Read(ctx, &f); err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

func newSource(t *testing.T, cfg capture.Config) capture.Source {
	t.Helper()
	src, err := capture.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func fileConfig(path string) capture.Config {
	cfg := capture.DefaultConfig()
	cfg.Source, cfg.Path, cfg.FPS = capture.KindFile, path, 0
	return cfg
}

func isEOF(err error) bool { return errors.Is(err, capture.ErrEndOfStream) }
