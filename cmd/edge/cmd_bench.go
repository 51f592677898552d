package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/yamlstrict"
	"github.com/clipfleet/clipfleet/preprocess"
)

func init() {
	register(command{name: "bench", summary: "measure encoder-only and full-pipeline throughput, latency and memory (one JSON object)", run: runBench})
}

// benchResult is the JSON `edge bench` prints. Both throughputs come from
// the same process, model and run, so their ratio is meaningful.
type benchResult struct {
	Model          string  `json:"model"`
	Backend        string  `json:"backend"`
	Input          string  `json:"input"`
	Source         string  `json:"source"`
	SourceFPS      float64 `json:"source_fps"`
	CPUs           int     `json:"cpus"`
	EncoderFrames  int     `json:"encoder_frames"`
	EncoderFPS     float64 `json:"encoder_fps"`
	PipelineFrames int     `json:"pipeline_frames"`
	PipelineFPS    float64 `json:"pipeline_fps"`
	PipelineRatio  float64 `json:"pipeline_ratio"`
	LatencyMsP50   float64 `json:"latency_ms_p50"`
	LatencyMsP99   float64 `json:"latency_ms_p99"`
	EncodeMsP50    float64 `json:"encode_ms_p50"`
	PreprocMsP50   float64 `json:"preprocess_ms_p50"`
	Dropped        uint64  `json:"frames_dropped"`
	RSSBytes       int64   `json:"rss_bytes"`
}

func runBench(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge bench", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	frames := fs.Int("frames", 300, "frames to encode in each phase")
	warmup := fs.Int("warmup", 20, "frames to encode before measuring")
	sourceFPS := fs.String("source-fps", "auto", `pace of the capture source during the pipeline phase; "auto" is 1.5× the measured encoder rate, so the camera is never the bottleneck`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *frames < 10 || *warmup < 0 {
		fmt.Fprintln(env.stderr, "edge bench: --frames must be ≥ 10 and --warmup ≥ 0")
		return 2
	}
	cfg, err := cf.load(env, yamlstrict.Override{Path: "http.listen", Value: `""`, From: "edge bench"})
	if err != nil {
		fmt.Fprintln(env.stderr, "edge bench:", err)
		return 2
	}
	log := newLogger(env.stderr, cfg.Log)
	res, err := bench(ctx, cfg, log, *frames, *warmup, *sourceFPS)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge bench:", err)
		return 1
	}
	writeIndentedJSON(env.stdout, res)
	return 0
}

func bench(ctx context.Context, cfg daemon.Config, log *slog.Logger, frames, warmup int, sourceFPS string) (*benchResult, error) {
	// Phase 1: encoder only, on one real frame from the configured source.
	encCfg := cfg
	p, err := openParts(ctx, encCfg, log)
	if err != nil {
		return nil, err
	}
	info := p.enc.Info()
	var f capture.Frame
	if err := p.grabber.Next(ctx, &f); err != nil {
		p.close()
		return nil, fmt.Errorf("reading a frame: %w", err)
	}
	var t preprocess.Tensor
	if err := preprocess.Image(&t, f.RGB, f.Width, f.Height, info.Image); err != nil {
		p.close()
		return nil, err
	}
	_ = p.grabber.Close() // the encoder phase must not share the CPU with capture
	emb := make([]float32, info.EmbeddingDim)
	for i := 0; i < warmup; i++ {
		if err := p.enc.EncodeImage(ctx, &t, emb); err != nil {
			p.close()
			return nil, err
		}
	}
	start := time.Now()
	for i := 0; i < frames; i++ {
		if err := p.enc.EncodeImage(ctx, &t, emb); err != nil {
			p.close()
			return nil, err
		}
	}
	encFPS := float64(frames) / time.Since(start).Seconds()
	p.close()

	// Phase 2: the full pipeline, capture → preprocess → encode → event.
	pace := encFPS * 1.5
	if sourceFPS != "auto" {
		v, err := strconv.ParseFloat(sourceFPS, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("--source-fps %q: want auto or a number ≥ 0", sourceFPS)
		}
		pace = v
	}
	pipeCfg := cfg
	pipeCfg.Capture.FPS = pace
	pipeCfg.Pipeline.MaxFrames = uint64(warmup + frames)
	p, err = openParts(ctx, pipeCfg, log)
	if err != nil {
		return nil, err
	}
	defer p.close()
	var (
		lat, encMs, preMs []float64
		measureStart      time.Time
		n                 int
	)
	d, err := daemon.New(daemon.Options{
		Frames: p.grabber, Encoder: p.enc, SourceName: p.src.Name(), SourceStats: p.grabber.Stats,
		MaxFrames: pipeCfg.Pipeline.MaxFrames, EagerCapture: pipeCfg.Pipeline.Capture == "eager",
		OnEvent: func(e daemon.Event) {
			n++
			if n == warmup {
				measureStart = time.Now()
			}
			if n > warmup {
				lat = append(lat, e.LatencyMs)
				encMs = append(encMs, e.EncodeMs)
				preMs = append(preMs, e.PreprocMs)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if warmup == 0 {
		measureStart = time.Now()
	}
	if err := d.Run(ctx); err != nil && !errors.Is(err, daemon.ErrStopped) {
		return nil, err
	}
	if len(lat) == 0 {
		return nil, errors.New("pipeline produced no measured frames (source ended early?)")
	}
	pipeFPS := float64(len(lat)) / time.Since(measureStart).Seconds()
	return &benchResult{
		Model:          info.ID,
		Backend:        info.Backend,
		Input:          fmt.Sprintf("%dx%d %s %s", info.Image.Size, info.Image.Size, info.Image.Layout, info.Image.DType),
		Source:         p.src.Name(),
		SourceFPS:      round(pace, 1),
		CPUs:           runtime.NumCPU(),
		EncoderFrames:  frames,
		EncoderFPS:     round(encFPS, 1),
		PipelineFrames: len(lat),
		PipelineFPS:    round(pipeFPS, 1),
		PipelineRatio:  round(pipeFPS/encFPS, 3),
		LatencyMsP50:   round(percentile(lat, 50), 2),
		LatencyMsP99:   round(percentile(lat, 99), 2),
		EncodeMsP50:    round(percentile(encMs, 50), 2),
		PreprocMsP50:   round(percentile(preMs, 50), 2),
		Dropped:        p.grabber.Stats().Dropped,
		RSSBytes:       peakRSS(),
	}, nil
}

// percentile uses the nearest-rank method on a copy of xs.
func percentile(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p/100*float64(len(s))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func round(x float64, digits int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', digits, 64), 64)
	return v
}

// peakRSS reads the process's high-water resident set size (VmHWM) from
// /proc; 0 where /proc is unavailable.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
