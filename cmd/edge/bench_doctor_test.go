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
		r.LatencyMsP99 < r.LatencyMsP50 || r.LatencyMsP50 <= 0 || r.Model != "tinyclip-world-v2" ||
		!strings.HasPrefix(r.Source, "world:") {
		t.Fatalf("implausible bench result %+v", r)
	}
	if got := r.PipelineFPS / r.EncoderFPS; got < r.PipelineRatio-0.01 || got > r.PipelineRatio+0.01 {
		t.Fatalf("pipeline_ratio %v disagrees with %v/%v", r.PipelineRatio, r.PipelineFPS, r.EncoderFPS)
	}
	// Five alternating rounds share the frames of each phase.
	if r.Rounds != 5 || len(r.RoundRatios) != 5 || r.EncoderFrames != 20 || r.Capture != "just_in_time" {
		t.Fatalf("rounds %d, round ratios %v, encoder frames %d, capture %q; want 5, 5, 20, just_in_time",
			r.Rounds, r.RoundRatios, r.EncoderFrames, r.Capture)
	}
	if r.EncodeMsMean <= 0 || r.EncoderMsMean <= 0 || r.EncoderCPUMs <= 0 || r.PipelineCPUMs <= 0 ||
		r.OtherCPU < 0 || r.OtherCPU > 1 || r.EncoderIdleMs < 0 {
		t.Fatalf("implausible timing breakdown %+v", r)
	}
	if want := 1e3 / r.EncoderFPS; r.EncoderMsMean < want*0.95 || r.EncoderMsMean > want*1.05 {
		t.Fatalf("encoder_ms_mean %v disagrees with encoder_fps %v", r.EncoderMsMean, r.EncoderFPS)
	}
}

// Each schedule runs the pipeline to the frame count asked for.
func TestBenchSchedules(t *testing.T) {
	needORT(t)
	for _, capture := range []string{"eager", "inline"} {
		code, stdout, stderr := runEdge(t, nil, "bench", "--frames", "12", "--warmup", "1", "--rounds", "3",
			"--set", "log.level=warn", "--set", "pipeline.capture="+capture,
			"--set", "capture.source=synthetic", "--set", "capture.width=320", "--set", "capture.height=240")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", capture, code, stderr)
		}
		var r benchResult
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%s: %v\n%s", capture, err, stdout)
		}
		if r.Capture != capture || r.PipelineFrames != 12 || len(r.RoundRatios) != 3 || r.PreprocMsP50 <= 0 {
			t.Fatalf("%s: %+v", capture, r)
		}
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--frames", "3"}, {"--frames", "10", "--rounds", "6"}, {"--rounds", "0"}} {
		if code, _, stderr := runEdge(t, nil, append([]string{"bench"}, args...)...); code != 2 || !strings.Contains(stderr, "--frames") {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
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
