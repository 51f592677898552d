package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/testutil"
)

// The whole flow against a real `edge run` (fake encoder, synthetic
// camera): teach the next frames over the debug API, undo, and find the
// state checkpointed on shutdown.
func TestRunTeachFramesUndoCheckpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &errb, getenv: os.Getenv}
	args := append([]string{"run", "--listen", addr, "--set", "state_dir=" + state, "--set", "labels.dir=" + state,
		"--set", "pipeline.events=none", "--set", "capture.fps=60"}, fakeModelArgs(t)...)
	done := make(chan int, 1)
	go func() { done <- runCLI(ctx, env, args) }()
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for probeLearner(context.Background(), base) != nil {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("daemon never answered\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	code, stdout, stderr := runEdge(t, nil, "teach", "thing", "--frames", "3", "--daemon", base)
	if code != 0 {
		t.Fatalf("teach frames: exit %d: %s", code, stderr)
	}
	if r := decodeTeach(t, stdout); r.Action.Accepted != 3 {
		t.Errorf("action %+v", r.Action)
	}
	// Views: each of 2 frames and 3 turned-and-recoloured views of it,
	// made and encoded by the running pipeline.
	code, stdout, stderr = runEdge(t, nil, "teach", "crescent", "--frames", "2", "--views", "3", "--augment", "shape", "--daemon", base)
	if code != 0 {
		t.Fatalf("teach frames with views: exit %d: %s", code, stderr)
	}
	if r := decodeTeach(t, stdout); r.Action.Accepted != 2*(1+3) {
		t.Errorf("frames with views: action %+v, want 8 accepted", r.Action)
	}
	for _, bad := range [][]string{{"--views", "65"}, {"--views", "2", "--augment", "fancy"}} {
		args := append([]string{"teach", "crescent", "--frames", "1", "--daemon", base}, bad...)
		if code, _, stderr := runEdge(t, nil, args...); code != 1 || !strings.Contains(stderr, bad[len(bad)-1]) {
			t.Errorf("%v: exit %d: %s", bad, code, stderr)
		}
	}
	code, stdout, stderr = runEdge(t, nil, "teach", "other", "--frames", "2", "--daemon", base)
	if code != 0 {
		t.Fatalf("second teach: exit %d: %s", code, stderr)
	}
	code, stdout, stderr = runEdge(t, nil, "undo", "--daemon", base)
	if code != 0 || !strings.Contains(stdout, `"Accepted":2`) {
		t.Fatalf("undo: exit %d: %s %s", code, stdout, stderr)
	}
	resp, err := http.Get(base + "/api/v1/learner")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run exit %d\n%s", code, errb.String())
	}
	files, _ := filepath.Glob(filepath.Join(state, "learner", "*", "ncm", "ckpt-*.bin"))
	if len(files) == 0 {
		t.Fatalf("no checkpoint written on shutdown\n%s", errb.String())
	}
	// A restart loads what was taught, without the undone action.
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
	counts := map[string]int{}
	for _, c := range lrn.Status().Classes {
		counts[c.Name] = c.Taught
	}
	if counts["thing"] != 3 || counts["other"] != 0 {
		t.Errorf("restored taught counts %v, want thing 3, other 0", counts)
	}
}
