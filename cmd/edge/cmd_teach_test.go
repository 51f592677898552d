package main

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/learner"
)

// fakeModelArgs select the fake encoder over the committed test model's
// manifest, so teach tests need no ONNX Runtime.
func fakeModelArgs(t *testing.T) []string {
	return []string{"--set", "accel.backend=fake", "--set", "accel.model_dir=" + testutil.RepoPath(t, "models", "testclip")}
}

func writePNG(t *testing.T, dir, name string, c color.RGBA) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := range 32 * 32 {
		x, y := i%32, i/32
		if (x/8+y/8)%2 == 0 {
			img.SetRGBA(x, y, c)
		}
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

func decodeTeach(t *testing.T, stdout string) daemon.TeachResponse {
	t.Helper()
	var r daemon.TeachResponse
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("output %q: %v", stdout, err)
	}
	return r
}

func TestTeachImagesIntoStateDir(t *testing.T) {
	dir := t.TempDir()
	a := writePNG(t, dir, "a.png", color.RGBA{200, 30, 30, 255})
	b := writePNG(t, dir, "b.png", color.RGBA{30, 30, 200, 255})
	state := filepath.Join(dir, "state")
	args := append([]string{"teach", "red thing", "--daemon", "off", "--set", "state_dir=" + state}, fakeModelArgs(t)...)
	code, stdout, stderr := runEdge(t, nil, append(args, a, b)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if r := decodeTeach(t, stdout); r.Action.Accepted != 2 || r.Action.Label != learner.IDFor("red thing") {
		t.Errorf("action %+v", r.Action)
	}
	// The daemon would load it: open the state the way `edge run` does.
	cfg := daemon.DefaultConfig()
	cfg.StateDir = state
	cfg.Accel.Backend, cfg.Accel.ModelDir = "fake", testutil.RepoPath(t, "models", "testclip")
	enc, err := accel.Open(context.Background(), cfg.Accel, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	lrn, err := openLearner(cfg, enc.Info(), os.Getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range lrn.Status().Classes {
		found = found || (c.Name == "red thing" && c.Taught == 2)
	}
	if !found {
		t.Errorf("state dir does not hold the taught class: %+v", lrn.Status().Classes)
	}

	// --frames needs a daemon.
	code, _, stderr = runEdge(t, nil, append([]string{"teach", "x", "--frames", "3", "--daemon", "off"}, fakeModelArgs(t)...)...)
	if code != 1 || !strings.Contains(stderr, "needs a running daemon") {
		t.Errorf("--frames offline: exit %d: %s", code, stderr)
	}
	// Offline undo is refused with the reason.
	code, _, stderr = runEdge(t, nil, "undo", "--daemon", "off")
	if code != 1 || !strings.Contains(stderr, "undo history lives in the daemon") {
		t.Errorf("offline undo: exit %d: %s", code, stderr)
	}
}

func TestTeachAndUndoThroughDaemon(t *testing.T) {
	dir := t.TempDir()
	img := writePNG(t, dir, "a.png", color.RGBA{30, 200, 30, 255})
	cfg := daemon.DefaultConfig()
	cfg.Accel.Backend, cfg.Accel.ModelDir = "fake", testutil.RepoPath(t, "models", "testclip")
	enc, err := accel.Open(context.Background(), cfg.Accel, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	lrn, err := daemon.OpenLearner(daemon.LearnerOptions{Config: cfg.Learner, Learn: cfg.Learn, Info: enc.Info(), TopK: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(daemon.WithLearner(http.NotFoundHandler(), lrn))
	defer srv.Close()

	code, stdout, stderr := runEdge(t, nil, append([]string{"teach", "green", "--daemon", srv.URL}, append(fakeModelArgs(t), img, img)...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if r := decodeTeach(t, stdout); r.Action.Accepted != 2 {
		t.Errorf("action %+v", r.Action)
	}
	if h := lrn.Status().History; len(h) != 1 || h[0].Label != learner.IDFor("green") {
		t.Errorf("daemon history %+v", h)
	}
	code, stdout, stderr = runEdge(t, nil, "undo", "1", "--daemon", srv.URL)
	if code != 0 || !strings.Contains(stdout, `"undone"`) {
		t.Fatalf("undo: exit %d: %s %s", code, stdout, stderr)
	}
	if h := lrn.Status().History; len(h) != 0 {
		t.Errorf("history after undo %+v", h)
	}
	code, _, stderr = runEdge(t, nil, "undo", "--daemon", srv.URL)
	if code != 1 || !strings.Contains(stderr, "nothing to undo") {
		t.Errorf("undo of nothing: exit %d: %s", code, stderr)
	}
	// An explicit daemon that does not answer is an error, not a silent
	// fallback to the state directory.
	code, _, _ = runEdge(t, nil, append([]string{"teach", "green", "--daemon", "http://127.0.0.1:1"}, append(fakeModelArgs(t), img)...)...)
	if code != 1 {
		t.Errorf("unreachable daemon: exit %d", code)
	}
}
