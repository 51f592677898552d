package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/accel/onnx"
	"github.com/clipfleet/clipfleet/capture/cv"
	"github.com/clipfleet/clipfleet/daemon"
)

func init() {
	register(command{name: "doctor", summary: "preflight: OpenCV and GStreamer, ONNX Runtime library, model, camera", run: runDoctor})
}

// check is one preflight line; a failed required check makes doctor exit 1.
type check struct {
	name   string
	ok     bool
	detail string
}

func runDoctor(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge doctor", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	timeout := fs.Duration("timeout", 10*time.Second, "how long the camera may take to deliver a first frame")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge doctor:", err)
		return 2
	}
	checks := doctorChecks(ctx, cfg, *timeout)
	failed := printChecks(env.stdout, checks)
	if failed > 0 {
		fmt.Fprintf(env.stdout, "\n%d check(s) failed\n", failed)
		return 1
	}
	fmt.Fprintln(env.stdout, "\nall checks passed")
	return 0
}

func doctorChecks(ctx context.Context, cfg daemon.Config, timeout time.Duration) []check {
	var out []check
	rep := cv.Doctor()
	out = append(out, check{"opencv", rep.OpenCVVersion != "", fmt.Sprintf("OpenCV %s (gocv %s)", rep.OpenCVVersion, rep.GoCVVersion)})
	for _, b := range []struct {
		name     string
		b        cv.Backend
		required bool
	}{
		{"gstreamer", rep.GStreamer, cfg.Capture.Source == "gstreamer"},
		{"ffmpeg", rep.FFMPEG, cfg.Capture.Source == "url" || cfg.Capture.Source == "file"},
		{"v4l2", rep.V4L2, cfg.Capture.Source == "camera"},
	} {
		detail := b.b.Detail
		if detail == "" {
			detail = "not built into OpenCV"
		}
		if !b.required {
			detail += " (not needed by capture.source=" + cfg.Capture.Source + ")"
		}
		out = append(out, check{"opencv " + b.name, b.b.Available || !b.required, detail})
	}

	if cfg.Accel.Backend == "onnx" {
		lib, tried := onnx.ResolveLibrary(cfg.Accel.ONNX.Library)
		if lib == "" {
			out = append(out, check{"onnxruntime library", false, "not found; tried " + strings.Join(tried, ", ") + " (run `make deps` or set accel.onnx.library / CLIPFLEET_ORT_LIB)"})
		} else {
			out = append(out, check{"onnxruntime library", true, lib})
		}
	}
	quiet := slog.New(slog.DiscardHandler)
	enc, err := accel.Open(ctx, cfg.Accel, quiet)
	if err != nil {
		out = append(out, check{"model", false, err.Error()})
	} else {
		info := enc.Info()
		out = append(out, check{"model", true, fmt.Sprintf("%s (%s, variant %q) dim %d, input %dx%d %s %s, text encoder %v; runtime %s",
			info.ID, cfg.Accel.ModelDir, info.Variant, info.EmbeddingDim, info.Image.Size, info.Image.Size, info.Image.Layout, info.Image.DType, info.HasText, info.Runtime)})
		_ = enc.Close()
	}

	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, err := cv.Probe(pctx, cfg.Capture, quiet)
	if err != nil {
		out = append(out, check{"camera", false, err.Error()})
	} else {
		out = append(out, check{"camera", true, fmt.Sprintf("source %s delivered a %dx%d frame", cfg.Capture.Source, f.Width, f.Height)})
	}
	return out
}

func printChecks(w io.Writer, checks []check) (failed int) {
	for _, c := range checks {
		mark := "ok  "
		if !c.ok {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "[%s] %-20s %s\n", mark, c.name, c.detail)
	}
	return failed
}
