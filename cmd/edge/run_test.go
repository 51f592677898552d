package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/accel/onnx"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/internal/yamlstrict"
)

// runEdge runs the CLI in-process with the given environment.
func runEdge(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	isolateState(t)
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: os.Getenv,
		environList: func() []string { return environ }}
	code = runCLI(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// isolateState points the label cache and learner checkpoints at a
// directory of the test's own, kept for the whole test so that several
// commands in one test share it, instead of the user's ~/.local/state.
func isolateState(t *testing.T) {
	t.Helper()
	if os.Getenv("CLIPFLEET_STATE_DIR") == "" {
		t.Setenv("CLIPFLEET_STATE_DIR", t.TempDir())
	}
}

// needORT makes sure ONNX Runtime can be found, and returns the working
// directory the CLI must run in so the default model path resolves.
func needORT(t *testing.T) {
	t.Helper()
	if lib, tried := onnx.ResolveLibrary(""); lib == "" {
		testutil.Missing(t, "ONNX Runtime library (tried %v); run `make deps`", tried)
	}
	t.Chdir(testutil.RepoPath(t))
}

func decodeEvents(t *testing.T, stdout string) []daemon.Event {
	t.Helper()
	var evs []daemon.Event
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var e daemon.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event line %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

func TestRunSyntheticMaxFrames(t *testing.T) {
	needORT(t)
	code, stdout, stderr := runEdge(t, nil, "run", "--max-frames", "6", "--listen", "off")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	evs := decodeEvents(t, stdout)
	if len(evs) != 6 {
		t.Fatalf("%d events, want 6\n%s", len(evs), stdout)
	}
	for _, e := range evs {
		if e.Norm < 0.999 || e.Norm > 1.001 || e.EncodeMs <= 0 || e.LatencyMs < e.EncodeMs {
			t.Fatalf("implausible event %+v", e)
		}
	}
	// The defaults: the tiny CLIP's int8 variant watching the world's
	// daylight shapes.
	for _, want := range []string{"model loaded", "tinyclip-world-v2", "variant=int8", "capture started", "world:default/shapes-day", `reason="max frames reached"`} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("log lacks %q:\n%s", want, stderr)
		}
	}
}

func TestRunVideoFileToEnd(t *testing.T) {
	needORT(t)
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		testutil.Missing(t, "ffmpeg")
	}
	video := filepath.Join(t.TempDir(), "clip.avi")
	gen := exec.Command(ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=3", "-c:v", "mjpeg", video)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	// fps 10 paces the file like a camera, so the pipeline keeps up and
	// every one of the 30 frames becomes an event.
	code, stdout, stderr := runEdge(t, nil, "run", "--listen", "off",
		"--set", "capture.source=file", "--set", "capture.path="+video, "--set", "capture.fps=10")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	evs := decodeEvents(t, stdout)
	last := evs[len(evs)-1]
	if uint64(len(evs))+last.Dropped != 30 {
		t.Fatalf("%d events + %d dropped, want the file's 30 frames\n%s", len(evs), last.Dropped, stderr)
	}
	if !strings.Contains(stderr, `reason="source ended"`) {
		t.Fatalf("run did not end with the file:\n%s", stderr)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(bad, []byte("capture:\n  source: synthetic\n  stall_timout: 3s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		environ []string
		args    []string
		want    string
	}{
		{"unknown key in file", nil, []string{"run", "--config", bad}, "capture.stall_timout: unknown key (line 3)"},
		{"unknown env override", []string{"EDGE_CAPTURE_SORCE=file"}, []string{"run"}, "EDGE_CAPTURE_SORCE"},
		{"unknown --set key", nil, []string{"run", "--set", "accel.modeldir=x"}, `"accel.modeldir" names no config key`},
		{"--set without value", nil, []string{"run", "--set", "accel.model_dir"}, "want key.path=value"},
		{"public listen", nil, []string{"run", "--listen", "0.0.0.0:9310"}, "localhost only"},
		{"bad source kind", []string{"EDGE_CAPTURE_SOURCE=webcam"}, []string{"run"}, "capture.source"},
		{"missing file", nil, []string{"run", "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runEdge(t, tc.environ, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tc.want)
			}
		})
	}
}

func TestConfigLayering(t *testing.T) {
	file := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(file, []byte("capture:\n  fps: 5\n  width: 320\npipeline:\n  top_k: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runEdge(t, []string{"EDGE_CAPTURE_FPS=7", "EDGE_LOG_LEVEL=debug"},
		"run", "--config", file, "--set", "capture.fps=9", "--max-frames", "3", "--print-config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Strictly decoded into an empty config: the printout names every
	// key as a config file does, and nothing else.
	var cfg daemon.Config
	if err := yamlstrict.Decode([]byte(stdout), &cfg); err != nil {
		t.Fatalf("--print-config output is not a valid config: %v\n%s", err, stdout)
	}
	// file < env < --set < flag shortcuts; untouched keys keep defaults.
	if cfg.Capture.FPS != 9 || cfg.Capture.Width != 320 || cfg.Log.Level != "debug" || cfg.Pipeline.TopK != 4 ||
		cfg.Pipeline.MaxFrames != 3 || cfg.Capture.Height != daemon.DefaultConfig().Capture.Height {
		t.Fatalf("effective config wrong: %+v", cfg)
	}
}

func TestExampleConfigsParse(t *testing.T) {
	files, err := filepath.Glob(testutil.RepoPath(t, "configs", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs found: %v", err)
	}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "hub") {
			continue // the fleet hub's config, not the daemon's
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			cf := configFlags{file: f}
			if _, err := cf.load(&cliEnv{environList: func() []string { return nil }}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, stderr := runEdge(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) || !strings.Contains(stderr, "doctor") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
