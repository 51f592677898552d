package cv_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/cv"
)

// runMatWorkload opens, reads and closes every kind of source along its
// success and failure paths. Built with -tags matprofile, the test in
// matprofile_test.go counts gocv Mats around it; without the tag it still
// runs as a test of those paths.
func runMatWorkload(t *testing.T) {
	t.Helper()
	ctx := testContext(t)
	dir := t.TempDir()
	avi := writeMJPG(t, dir)

	for round := 0; round < 2; round++ { // a reopened source must not leak either
		for _, cfg := range []capture.Config{fileConfig(avi), folderConfig(makeFolder(t), false)} {
			src := newSource(t, cfg)
			if _, err := readAll(t, ctx, src, 100); !isEOF(err) {
				t.Fatalf("%s: %v", src.Name(), err)
			}
		}
	}

	looping := fileConfig(avi)
	looping.Loop = true
	if _, err := readAll(t, ctx, newSource(t, looping), vidFrames+2); err != nil { // rewinds once
		t.Fatal(err)
	}

	partial := newSource(t, fileConfig(avi)) // closed mid-file
	if frames, err := readAll(t, ctx, partial, 3); err != nil || len(frames) != 3 {
		t.Fatal(err)
	}

	g, err := capture.NewGrabber(ctx, newSource(t, fileConfig(avi)), fileConfig(avi), nil)
	if err != nil {
		t.Fatal(err)
	}
	var f capture.Frame
	if err := g.Next(ctx, &f); err != nil {
		t.Fatal(err)
	}
	g.Close() // mid-stream

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, avi) }))
	defer srv.Close()
	url := capture.DefaultConfig()
	url.Source, url.URL = capture.KindURL, srv.URL+"/v.avi"
	if _, err := readAll(t, ctx, newSource(t, url), 100); !isEOF(err) {
		t.Fatal(err)
	}

	if _, err := cv.Probe(ctx, fileConfig(avi), nil); err != nil {
		t.Fatal(err)
	}
	failing := []capture.Config{fileConfig(dir + "/missing.avi"), folderConfig(t.TempDir(), false)}
	cam := capture.DefaultConfig()
	cam.Device = "/dev/video9"
	failing = append(failing, cam)
	for _, cfg := range failing {
		if err := newSource(t, cfg).Open(ctx); err == nil {
			t.Fatalf("%+v opened", cfg)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := cv.Probe(canceled, fileConfig(avi), nil); err == nil {
		t.Fatal("Probe with a cancelled context succeeded")
	}
}

func TestMatWorkload(t *testing.T) { runMatWorkload(t) }
