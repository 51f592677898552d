package cv_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/cv"
	"github.com/clipfleet/clipfleet/internal/testutil"
)

var videoWriters = []struct {
	name  string
	write func(*testing.T, string) string
}{
	{"opencv-mjpg-avi", writeMJPG},
	{"ffmpeg-mpeg4-mp4", writeFFmpegMP4},
}

func TestFileSource(t *testing.T) {
	for _, vw := range videoWriters {
		t.Run(vw.name, func(t *testing.T) {
			ctx := testContext(t)
			path := vw.write(t, t.TempDir())
			src := newSource(t, fileConfig(path))
			if src.Name() != "file:"+path {
				t.Errorf("Name() = %q", src.Name())
			}
			frames, err := readAll(t, ctx, src, 100)
			if !isEOF(err) {
				t.Fatalf("after %d frames: %v, want ErrEndOfStream", len(frames), err)
			}
			if len(frames) != vidFrames {
				t.Fatalf("read %d frames, want %d", len(frames), vidFrames)
			}
			for i := range frames {
				if frames[i].Seq != uint64(i+1) {
					t.Errorf("frame %d has Seq %d", i+1, frames[i].Seq)
				}
				checkSolid(t, &frames[i], i+1)
			}

			// Reopening starts from the beginning again.
			again, err := readAll(t, ctx, src, 1)
			if err != nil || len(again) != 1 {
				t.Fatalf("reopen: %d frames, %v", len(again), err)
			}
			checkSolid(t, &again[0], 1)
		})
	}
}

func TestFileSourceLoops(t *testing.T) {
	ctx := testContext(t)
	cfg := fileConfig(writeMJPG(t, t.TempDir()))
	cfg.Loop = true
	frames, err := readAll(t, ctx, newSource(t, cfg), 2*vidFrames+3)
	if err != nil {
		t.Fatalf("looping file ended after %d frames: %v", len(frames), err)
	}
	for i := range frames {
		if frames[i].Seq != uint64(i+1) {
			t.Fatalf("frame %d has Seq %d; Seq must keep counting across loops", i+1, frames[i].Seq)
		}
		checkSolid(t, &frames[i], i%vidFrames+1)
	}
}

func TestFileThroughGrabber(t *testing.T) {
	ctx := testContext(t)
	cfg := fileConfig(writeMJPG(t, t.TempDir()))
	g, err := capture.NewGrabber(ctx, newSource(t, cfg), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var f capture.Frame
	var last uint64
	for {
		err := g.Next(ctx, &f)
		if isEOF(err) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq <= last {
			t.Fatalf("frame %d after %d", f.Seq, last)
		}
		last = f.Seq
		checkSolid(t, &f, int(f.Seq))
	}
	s := g.Stats()
	if last != vidFrames || s.Read != vidFrames || s.Delivered+s.Dropped != vidFrames || s.Reconnects != 0 {
		t.Errorf("last frame %d, stats %+v: want all %d frames read, the last delivered", last, s, vidFrames)
	}
	<-g.Done()
	if !isEOF(g.Err()) {
		t.Errorf("Err() = %v, want ErrEndOfStream", g.Err())
	}
}

func TestFileErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.avi")
	if err := os.WriteFile(junk, []byte("this is not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       string
	}{
		{"missing", filepath.Join(dir, "missing.avi"), "no such file"},
		{"directory", dir, "folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newSource(t, fileConfig(tt.path)).Open(testContext(t))
			if err == nil || !strings.Contains(err.Error(), "capture/cv: open file "+tt.path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open = %v, want an error naming %s and saying %q", err, tt.path, tt.want)
			}
		})
	}
	t.Run("not a video", func(t *testing.T) {
		src := newSource(t, fileConfig(junk))
		ctx := testContext(t)
		err := src.Open(ctx)
		if err == nil { // some backends accept the open and fail on the first frame
			var f capture.Frame
			err = src.Read(ctx, &f)
			src.Close()
		}
		if err == nil || isEOF(err) || !strings.Contains(err.Error(), junk) {
			t.Errorf("junk file: %v, want an error (not a clean end) naming %s", err, junk)
		}
	})
}

// TestURLSource streams the test video over HTTP from this process, so the
// FFMPEG network path runs without a camera or the network.
func TestURLSource(t *testing.T) {
	path := writeMJPG(t, t.TempDir())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, path)
	}))
	defer srv.Close()
	ctx := testContext(t)

	cfg := capture.DefaultConfig()
	cfg.Source, cfg.URL = capture.KindURL, srv.URL+"/solid.avi"
	frames, err := readAll(t, ctx, newSource(t, cfg), 100)
	if len(frames) != vidFrames || !isEOF(err) || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("read %d frames then %v, want %d frames then an end of stream naming the URL", len(frames), err, vidFrames)
	}
	checkSolid(t, &frames[vidFrames-1], vidFrames)

	t.Run("credentials are hidden", func(t *testing.T) {
		cfg.URL = strings.Replace(srv.URL, "http://", "http://robot:hunter2@", 1) + "/solid.avi"
		src := newSource(t, cfg)
		if strings.Contains(src.Name(), "hunter2") || !strings.Contains(src.Name(), "robot:xxxxx@") {
			t.Errorf("Name() = %q, want the password hidden", src.Name())
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		ln := httptest.NewServer(http.NotFoundHandler())
		url := ln.URL + "/gone.avi"
		ln.Close() // nothing listens there now
		cfg.URL = url
		err := newSource(t, cfg).Open(ctx)
		if err == nil || !strings.Contains(err.Error(), "capture/cv: open url "+url) {
			t.Errorf("Open = %v, want an error naming %s", err, url)
		}
	})
}

func TestGStreamerSource(t *testing.T) {
	if !cv.Doctor().GStreamer.Available {
		testutil.Missing(t, "OpenCV built without GStreamer")
	}
	cfg := capture.DefaultConfig()
	cfg.Source = capture.KindGStreamer
	cfg.Pipeline = "videotestsrc num-buffers=5 pattern=red ! video/x-raw,width=64,height=48 ! videoconvert ! video/x-raw,format=BGR ! appsink"
	src := newSource(t, cfg)
	ctx := testContext(t)
	if err := src.Open(ctx); err != nil {
		testutil.Missing(t, "GStreamer videotestsrc (package gstreamer1.0-plugins-base): %v", err)
	}
	src.Close()
	frames, err := readAll(t, ctx, src, 100)
	if len(frames) != 5 || !isEOF(err) || !strings.Contains(err.Error(), "videotestsrc") {
		t.Fatalf("read %d frames then %v, want 5 then an end naming the pipeline", len(frames), err)
	}
	if m := meanColour(&frames[0]); m[0] < 200 || m[1] > 50 || m[2] > 50 {
		t.Errorf("pattern=red frame has mean RGB %.0f", m)
	}

	t.Run("broken pipeline", func(t *testing.T) {
		cfg.Pipeline = "nosuchelement ! appsink"
		err := newSource(t, cfg).Open(ctx)
		if err == nil || !strings.Contains(err.Error(), `capture/cv: open gstreamer pipeline "nosuchelement ! appsink"`) {
			t.Errorf("Open = %v, want an error quoting the pipeline", err)
		}
	})
}

func TestCameraThatDoesNotExist(t *testing.T) {
	for _, dev := range []string{"/dev/video9", "9"} {
		t.Run(dev, func(t *testing.T) {
			if _, err := os.Stat("/dev/video9"); err == nil {
				t.Skip("this machine has a /dev/video9")
			}
			cfg := capture.DefaultConfig()
			cfg.Device = dev
			err := newSource(t, cfg).Open(testContext(t))
			if !errors.Is(err, cv.ErrNoDevice) || !strings.Contains(err.Error(), "capture/cv: open camera /dev/video9: ") {
				t.Errorf("Open = %v, want ErrNoDevice naming /dev/video9", err)
			}

			_, err = cv.Probe(testContext(t), cfg, nil)
			if !errors.Is(err, cv.ErrNoDevice) || !strings.Contains(err.Error(), "/dev/video9") {
				t.Errorf("Probe = %v, want ErrNoDevice naming /dev/video9", err)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	ctx := testContext(t)
	f, err := cv.Probe(ctx, fileConfig(writeMJPG(t, t.TempDir())), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSolid(t, &f, 1)

	cfg := fileConfig("/nonexistent/clip.avi")
	if _, err := cv.Probe(ctx, cfg, nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/clip.avi") {
		t.Errorf("Probe(missing file) = %v, want an error naming it", err)
	}
	cfg.ReconnectMin = 0
	if _, err := cv.Probe(ctx, cfg, nil); !errors.Is(err, capture.ErrInvalidConfig) {
		t.Errorf("Probe(bad config) = %v, want ErrInvalidConfig", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := cv.Probe(canceled, fileConfig(writeMJPG(t, t.TempDir())), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Probe(cancelled) = %v, want context.Canceled", err)
	}
}
