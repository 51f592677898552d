package cv_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

// gradient is image k of the folder tests: position-dependent so a flipped,
// transposed or channel-swapped decode shows.
func gradient(k int) func(x, y int) [3]byte {
	return func(x, y int) [3]byte { return [3]byte{byte(x * 4), byte(y * 5), byte(k * 40)} }
}

// makeFolder writes img_001.png, img_002.jpg, img_003.png (in that play
// order, deliberately created out of order), plus files the source must
// skip: a text file, a PNG that does not decode and a directory named .png.
func makeFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "img_003.png"), 40, 30, gradient(3))
	writePNG(t, filepath.Join(dir, "img_001.png"), 40, 30, gradient(1))
	// A JPEG through OpenCV's encoder, in BGR order as OpenCV expects.
	bgr := make([]byte, 40*30*3)
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			c := gradient(2)(x, y)
			copy(bgr[(y*40+x)*3:], []byte{c[2], c[1], c[0]})
		}
	}
	m, err := gocv.NewMatFromBytes(30, 40, gocv.MatTypeCV8UC3, bgr)
	if err != nil {
		t.Fatal(err)
	}
	ok := gocv.IMWriteWithParams(filepath.Join(dir, "img_002.jpg"), m, []int{gocv.IMWriteJpegQuality, 98})
	m.Close()
	if !ok {
		t.Fatal("writing JPEG failed")
	}
	for name, data := range map[string]string{"img_002b_broken.png": "not a png", "notes.txt": "hello"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "img_000.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func folderConfig(dir string, loop bool) capture.Config {
	cfg := capture.DefaultConfig()
	cfg.Source, cfg.Path, cfg.Loop, cfg.FPS = capture.KindFolder, dir, loop, 0
	return cfg
}

// checkGradient compares f with gradient(k), exactly or within tol levels.
func checkGradient(t *testing.T, f *capture.Frame, k, tol int) {
	t.Helper()
	if f.Width != 40 || f.Height != 30 {
		t.Fatalf("image %d decoded as %dx%d, want 40x30", k, f.Width, f.Height)
	}
	want := gradient(k)
	bad := 0
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			w := want(x, y)
			for c := 0; c < 3; c++ {
				if d := int(f.RGB[(y*40+x)*3+c]) - int(w[c]); d > tol || d < -tol {
					bad++
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("image %d: %d channel values off by more than %d", k, bad, tol)
	}
}

func TestFolderSource(t *testing.T) {
	ctx := testContext(t)
	dir := makeFolder(t)
	var logs bytes.Buffer
	src, err := capture.New(folderConfig(dir, false), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, ctx, src, 100)
	if !isEOF(err) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("after %d images: %v, want an end of stream naming the folder", len(frames), err)
	}
	if len(frames) != 3 {
		t.Fatalf("played %d images, want 3", len(frames))
	}
	tols := []int{0, 6, 0} // PNG is lossless, JPEG at quality 98 nearly
	for i := range frames {
		if frames[i].Seq != uint64(i+1) {
			t.Errorf("image %d has Seq %d", i+1, frames[i].Seq)
		}
		checkGradient(t, &frames[i], i+1, tols[i])
	}
	if !strings.Contains(logs.String(), "img_002b_broken.png") {
		t.Errorf("the undecodable image was not logged as skipped; log:\n%s", logs.String())
	}
}

func TestFolderSourceLoops(t *testing.T) {
	frames, err := readAll(t, testContext(t), newSource(t, folderConfig(makeFolder(t), true)), 7)
	if err != nil {
		t.Fatalf("looping folder ended after %d images: %v", len(frames), err)
	}
	for i, k := range []int{1, 2, 3, 1, 2, 3, 1} {
		if frames[i].Seq != uint64(i+1) {
			t.Errorf("frame %d has Seq %d", i+1, frames[i].Seq)
		}
		checkGradient(t, &frames[i], k, 6)
	}
}

func TestFolderErrors(t *testing.T) {
	ctx := testContext(t)
	empty := t.TempDir()
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "a.jpg"), []byte("nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(empty, "missing")

	for _, dir := range []string{empty, missing} {
		if err := newSource(t, folderConfig(dir, false)).Open(ctx); err == nil || !strings.Contains(err.Error(), "capture/cv: open folder "+dir) {
			t.Errorf("Open(%s) = %v, want an error naming it", dir, err)
		}
	}
	for _, loop := range []bool{false, true} { // looping over nothing must not spin
		_, err := readAll(t, ctx, newSource(t, folderConfig(broken, loop)), 5)
		if err == nil || isEOF(err) || !strings.Contains(err.Error(), "none of its 1 images decodes") {
			t.Errorf("folder of broken images (loop %v): %v, want an error", loop, err)
		}
	}
}
