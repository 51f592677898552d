package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchPrintsOneMeasuredObject(t *testing.T) {
	needORT(t)
	code, stdout, stderr := runEdge(t, nil, "bench", "--frames", "20", "--warmup", "2", "--set", "log.level=warn")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r benchResult
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("bench output is not one benchResult: %v\n%s", err, stdout)
	}
	if r.EncoderFPS <= 0 || r.PipelineFPS <= 0 || r.PipelineFrames != 20 || r.RSSBytes <= 0 ||
		r.LatencyMsP99 < r.LatencyMsP50 || r.LatencyMsP50 <= 0 || r.Model != "tinyclip-world-v1" ||
		!strings.HasPrefix(r.Source, "world:") {
		t.Fatalf("implausible bench result %+v", r)
	}
	if got := r.PipelineFPS / r.EncoderFPS; got < r.PipelineRatio-0.01 || got > r.PipelineRatio+0.01 {
		t.Fatalf("pipeline_ratio %v disagrees with %v/%v", r.PipelineRatio, r.PipelineFPS, r.EncoderFPS)
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	if code, _, stderr := runEdge(t, nil, "bench", "--frames", "3"); code != 2 || !strings.Contains(stderr, "--frames") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestDoctor(t *testing.T) {
	needORT(t)
	code, stdout, _ := runEdge(t, nil, "doctor")
	if code != 0 || !strings.Contains(stdout, "OpenCV 4.") || !strings.Contains(stdout, "onnxruntime 1.") || !strings.Contains(stdout, "all checks passed") {
		t.Fatalf("doctor on defaults: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runEdge(t, nil, "doctor", "--timeout", "2s",
		"--set", "capture.source=camera", "--set", "capture.device=/dev/video97",
		"--set", "accel.model_dir=/nonexistent/model")
	if code != 1 {
		t.Fatalf("doctor with no camera and no model: exit %d, want 1\n%s", code, stdout)
	}
	for _, want := range []string{"[FAIL] camera", "/dev/video97", "[FAIL] model", "/nonexistent/model", "2 check(s) failed"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("doctor output lacks %q:\n%s", want, stdout)
		}
	}
}
