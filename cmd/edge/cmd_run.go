package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/yamlstrict"
)

func init() {
	register(command{name: "run", summary: "run the daemon: capture → CLIP → events, metrics and debug API", run: runDaemon})
}

func runDaemon(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge run", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	maxFrames := fs.Uint64("max-frames", 0, "stop after N frames (0: run until SIGINT/SIGTERM)")
	listen := fs.String("listen", "", "metrics and debug API address, loopback only (overrides http.listen; \"off\" disables)")
	printCfg := fs.Bool("print-config", false, "print the effective config as YAML (a valid --config file) and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var extra []yamlstrict.Override
	if *maxFrames > 0 {
		extra = append(extra, yamlstrict.Override{Path: "pipeline.max_frames", Value: strconv.FormatUint(*maxFrames, 10), From: "--max-frames"})
	}
	if *listen == "off" {
		extra = append(extra, yamlstrict.Override{Path: "http.listen", Value: `""`, From: "--listen"})
	} else if *listen != "" {
		extra = append(extra, yamlstrict.Override{Path: "http.listen", Value: strconv.Quote(*listen), From: "--listen"})
	}
	cfg, det, err := cf.loadBoard(env, extra...)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge run:", err)
		return 2
	}
	if *printCfg {
		if err := writeConfigYAML(env.stdout, cfg); err != nil {
			fmt.Fprintln(env.stderr, "edge run:", err)
			return 1
		}
		return 0
	}
	log := newLogger(env.stderr, cfg.Log)
	logBoard(det, cfg, log)

	for _, pr := range cfg.Accel.ONNX.Providers {
		if pr.EngineCacheDir != "" {
			// TensorRT creates the cache directory but not its parents.
			if err := os.MkdirAll(filepath.Dir(pr.EngineCacheDir), 0o755); err != nil {
				log.Warn("TensorRT engine cache unavailable", "dir", pr.EngineCacheDir, "err", err)
			}
		}
	}
	p, err := openParts(ctx, cfg, log)
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	defer p.close()

	lm, err := openLabels(ctx, cfg, p.enc, env.lookupEnv, log)
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { lm.Watch(watchCtx); close(watchDone) }()
	defer func() { stopWatch(); <-watchDone }()

	sink, closeSink, err := eventSink(env.stdout, cfg.Pipeline)
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	defer closeSink()

	// With learning on, the learner scores frames: its method fuses the
	// label set's text embeddings with what was taught.
	classify := classifyFunc(lm.Classifier(), log)
	var lrn *daemon.Learner
	if cfg.Learn.Enabled {
		if lrn, err = openLearner(cfg, p.enc.Info(), env.lookupEnv, log); err != nil {
			log.Error("startup failed", "err", err)
			return 1
		}
		classify = lrn.ClassifyFunc(lm.Classifier())
		// Not ctx: the last checkpoint is written after the pipeline stops.
		learnCtx, stopLearn := context.WithCancel(context.Background())
		learnDone := make(chan struct{})
		go func() { lrn.Run(learnCtx); close(learnDone) }()
		defer func() { stopLearn(); <-learnDone }()
		log.Info("learner ready", "method", lrn.Method(), "pseudo_labels", cfg.Learner.Pseudo.Enabled)
	}
	var fleet *daemon.Fleet
	if cfg.Sync.Enabled {
		if fleet, err = openFleet(cfg, lrn, p.enc.Info(), env.lookupEnv, log); err != nil {
			log.Error("startup failed", "err", err)
			return 1
		}
		// Stopped after the pipeline, so a delta exported at the end is
		// at least in the outbox; the outbox keeps it for the next run.
		fleetCtx, stopFleet := context.WithCancel(context.Background())
		fleetDone := make(chan struct{})
		go func() {
			defer close(fleetDone)
			if err := fleet.Run(fleetCtx); err != nil {
				log.Error("fleet sync stopped", "err", err)
			}
		}()
		defer func() { stopFleet(); <-fleetDone }()
	} else {
		log.Info("fleet sync off (sync.enabled: false)")
	}

	// Heat lowers the frame rate by pacing the capture stage; the natural
	// rate starts from capture.fps until the throttle has measured it.
	var hint time.Duration
	if cfg.Capture.FPS > 0 {
		hint = time.Duration(float64(time.Second) / cfg.Capture.FPS)
	}
	throttle := daemon.NewThrottle(p.grabber, hint, nil)
	board := startBoard(ctx, cfg, det, throttle, nil, log)
	defer board.stop()
	if det.Board != "" {
		var teacher frameTeacher
		if lrn != nil {
			teacher = lrn
		}
		stopButton := startTeachButton(ctx, cfg.Boards.GPIO, det.Profile.Pins.Button, teacher, nil, log)
		defer stopButton()
	}

	var views daemon.ViewTeacher // not a nil *Learner: that would be a non-nil interface
	if lrn != nil {
		views = lrn
	}
	d, err := daemon.New(daemon.Options{
		Views:         views,
		Frames:        throttle,
		Encoder:       p.enc,
		Log:           log,
		SourceName:    p.src.Name(),
		SourceStats:   p.grabber.Stats,
		Classify:      classify,
		OnEvent:       sink,
		MaxFrames:     cfg.Pipeline.MaxFrames,
		EagerCapture:  cfg.Pipeline.Capture == "eager",
		InlineCapture: cfg.Pipeline.Capture == "inline",
	})
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	if err := d.Register(board.metrics); err != nil {
		log.Error("startup failed", "err", fmt.Errorf("thermal metrics: %w", err))
		return 1
	}
	if fleet != nil {
		if err := d.Register(fleet.Collector()); err != nil {
			log.Error("startup failed", "err", fmt.Errorf("sync metrics: %w", err))
			return 1
		}
	}

	var srv *http.Server
	if cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", cfg.HTTP.Listen)
		if err != nil {
			log.Error("startup failed", "err", fmt.Errorf("http.listen: %w", err))
			return 1
		}
		var h http.Handler = d.Handler()
		endpoints := "/metrics /healthz /api/v1/status /api/v1/events /api/v1/frame.jpg"
		if lrn != nil {
			h = daemon.WithLearner(h, lrn)
			endpoints += " /api/v1/learner /api/v1/teach /api/v1/undo"
		}
		if fleet != nil {
			h = daemon.WithFleet(h, fleet)
			endpoints += " /api/v1/sync /api/v1/sync/export"
		}
		srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		log.Info("debug API listening", "addr", "http://"+ln.Addr().String(), "endpoints", endpoints)
	}

	runErr := d.Run(ctx)
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
	}
	st := d.Status()
	log.Info("stopped", "frames", st.Processed, "dropped", st.Capture.Dropped, "reconnects", st.Capture.Reconnects, "reason", stopReason(ctx, runErr))
	if runErr != nil && !errors.Is(runErr, daemon.ErrStopped) {
		log.Error("pipeline failed", "err", runErr)
		return 1
	}
	return 0
}

// writeConfigYAML writes cfg as YAML with the keys a config file uses, so the
// output can be edited and fed back with --config; secrets are redacted.
func writeConfigYAML(w io.Writer, cfg daemon.Config) error {
	if cfg.Sync.Broker.Password != "" {
		cfg.Sync.Broker.Password = "<redacted>"
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// openFleet starts fleet sync for the learner; its state lives beside the
// learner's.
func openFleet(cfg daemon.Config, lrn *daemon.Learner, info accel.ModelInfo, getenv func(string) string, log *slog.Logger) (*daemon.Fleet, error) {
	dir, err := cfg.ResolveStateDir(getenv)
	if err != nil {
		return nil, err
	}
	return daemon.OpenFleet(daemon.FleetOptions{Config: cfg.Sync, StateDir: dir, Learner: lrn, Info: info, Log: log})
}

func stopReason(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, daemon.ErrStopped):
		return "max frames reached"
	case ctx.Err() != nil:
		return "signal"
	case err == nil:
		return "source ended"
	}
	return err.Error()
}

// eventSink returns the per-frame event writer the config asks for.
func eventSink(stdout io.Writer, pc daemon.PipelineConfig) (func(daemon.Event), func(), error) {
	var w io.Writer
	closeFn := func() {}
	switch pc.Events {
	case "none":
		return nil, closeFn, nil
	case "stdout":
		w = stdout
	default:
		f, err := os.OpenFile(pc.Events, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("pipeline.events: %w", err)
		}
		w = f
		closeFn = func() { _ = f.Close() }
	}
	var mu sync.Mutex
	if pc.EventFormat == "text" {
		return func(e daemon.Event) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(w, formatEventText(e))
		}, closeFn, nil
	}
	enc := json.NewEncoder(w)
	return func(e daemon.Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(e)
	}, closeFn, nil
}

func formatEventText(e daemon.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "frame %6d  norm %.3f  encode %6.2f ms  latency %6.2f ms  dropped %d", e.FrameSeq, e.Norm, e.EncodeMs, e.LatencyMs, e.Dropped)
	for i, l := range e.Labels {
		if i == 0 {
			b.WriteString("  sees:")
		}
		fmt.Fprintf(&b, " %s %.0f%%", l.Name, 100*l.Prob)
	}
	return b.String()
}

func writeIndentedJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
