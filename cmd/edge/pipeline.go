package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/boards"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/labels"

	// Backends and sources register themselves by name.
	_ "github.com/clipfleet/clipfleet/accel/onnx"
	_ "github.com/clipfleet/clipfleet/accel/tflite"
	_ "github.com/clipfleet/clipfleet/capture/cv"
	_ "github.com/clipfleet/clipfleet/capture/synthetic"
	_ "github.com/clipfleet/clipfleet/world/camera"
)

// parts are the opened pieces of a pipeline; close releases them in reverse.
type parts struct {
	src     capture.Source
	grabber *capture.Grabber
	enc     accel.Encoder
}

func (p *parts) close() {
	if p.grabber != nil {
		_ = p.grabber.Close()
	}
	if p.enc != nil {
		_ = p.enc.Close()
	}
}

// openParts loads the encoder and starts the capture grabber, logging what
// is available and what was chosen.
func openParts(ctx context.Context, cfg daemon.Config, log *slog.Logger) (*parts, error) {
	log.Info("registered", "accel_backends", accel.Backends(), "capture_sources", capture.Kinds())
	p := &parts{}
	enc, err := accel.Open(ctx, cfg.Accel, log)
	if err != nil {
		return nil, err
	}
	p.enc = enc
	info := enc.Info()
	log.Info("model loaded", "id", info.ID, "backend", info.Backend, "dim", info.EmbeddingDim,
		"input", fmt.Sprintf("%dx%d %s %s", info.Image.Size, info.Image.Size, info.Image.Layout, info.Image.DType),
		"text_encoder", info.HasText)

	if p.src, p.grabber, err = openCapture(ctx, cfg.Capture, log); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// openCapture builds the configured source and starts its grabber.
func openCapture(ctx context.Context, cfg capture.Config, log *slog.Logger) (capture.Source, *capture.Grabber, error) {
	src, err := capture.New(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	g, err := capture.NewGrabber(ctx, src, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	log.Info("capture started", "source", src.Name())
	return src, g, nil
}

// openLabels builds the label set frames are classified against. Only a
// misconfiguration (unreadable tokenizer or embeddings file, embeddings of
// another model) stops the daemon: a broken label file is logged and the
// daemon runs without labels until the watcher sees it fixed, because a
// robot that cannot name things should still see.
func openLabels(ctx context.Context, cfg daemon.Config, enc accel.Encoder, getenv func(string) string, log *slog.Logger) (*labels.Manager, error) {
	m, err := labels.NewManager(cfg.Labels, labels.ManagerOptions{Encoder: enc, TopK: cfg.Pipeline.TopK, Log: log, Getenv: getenv})
	if err != nil {
		return nil, err
	}
	if _, err := m.Reload(ctx); err != nil {
		log.Error("labels not loaded; running without labels until the label file is fixed", "err", err)
	}
	return m, nil
}

// classifyFunc adapts a label classifier to daemon.Options.Classify. The
// scoring reuses one buffer; the returned slice is new each frame because
// events outlive the frame (event ring, sinks).
func classifyFunc(c *labels.Classifier, log *slog.Logger) func([]float32) []daemon.Label {
	var (
		mu     sync.Mutex
		buf    = make([]labels.Scored, 0, c.TopK())
		warned bool
	)
	return func(emb []float32) []daemon.Label {
		mu.Lock()
		defer mu.Unlock()
		var err error
		buf, err = c.Classify(emb, buf)
		if err != nil {
			if !warned {
				log.Error("classification failed; events carry no labels", "err", err)
				warned = true
			}
			return nil
		}
		if len(buf) == 0 {
			return nil
		}
		out := make([]daemon.Label, len(buf))
		for i, s := range buf {
			out[i] = daemon.Label{Name: s.Name, Prob: s.Prob}
		}
		return out
	}
}

// openLearner opens the learner over the state directory's checkpoints of
// this model and method.
func openLearner(cfg daemon.Config, info accel.ModelInfo, getenv func(string) string, log *slog.Logger) (*daemon.Learner, error) {
	dir, err := cfg.ResolveStateDir(getenv)
	if err != nil {
		return nil, err
	}
	return daemon.OpenLearner(daemon.LearnerOptions{Config: cfg.Learner, Learn: cfg.Learn,
		Dir: daemon.LearnerDir(dir, info.ID, cfg.Learner.Method), Info: info, TopK: cfg.Pipeline.TopK, Log: log})
}

// logBoard says at start which board the daemon runs on and why, and which
// of its defaults the config took (see applyBoardDefaults).
func logBoard(det boards.Detection, cfg daemon.Config, log *slog.Logger) {
	if det.Board == "" {
		log.Info("board: none matched this system; using the built-in defaults", "root", cfg.Boards.Root)
		return
	}
	var skipped []string
	for _, c := range det.Skipped() {
		skipped = append(skipped, c.Board)
	}
	forced := forcedBoard(cfg.Boards)
	log.Info("board", "board", det.Board, "host", det.Host, "forced", forced, "evidence", det.Evidence,
		"accel_defaults", forced || boardRank(det.Board) > boards.RankGeneric,
		"camera_defaults", forced || boardRank(det.Host) > boards.RankGeneric,
		"skipped", skipped)
	for _, c := range det.Skipped() {
		log.Debug("board skipped", "board", c.Board, "matched", c.Matched, "note", c.Note, "evidence", c.Evidence)
	}
}

// boardRun is the board's part of `edge run`: the thermal monitor, which
// paces frames through the throttle and feeds the metrics, and the status
// LED.
type boardRun struct {
	log      *slog.Logger
	throttle *daemon.Throttle
	metrics  *daemon.ThermalMetrics
	led      *boards.Indicator

	mu    sync.Mutex
	shown boards.Signal

	cancel context.CancelFunc
	done   chan struct{}
}

// startBoard opens the LED and starts the thermal monitor for det; clock
// may be nil (wall clock). Nothing here stops the daemon: a board without
// sensors runs unthrottled, a missing LED pin is a warning. The teach
// button is startTeachButton's.
func startBoard(ctx context.Context, cfg daemon.Config, det boards.Detection, throttle *daemon.Throttle, clock capture.Clock, log *slog.Logger) *boardRun {
	b := &boardRun{log: log, throttle: throttle, metrics: daemon.NewThermalMetrics(throttle), done: make(chan struct{})}
	if det.Board == "" {
		close(b.done)
		return b
	}
	if pin := det.Profile.Pins.LED; pin != "" {
		led, err := boards.OpenIndicator(pin, cfg.Boards.GPIO.LEDActiveLow, clock)
		if err != nil {
			log.Warn("status LED unavailable; running without it", "err", err)
		} else {
			b.led = led
			b.show(boards.SignalOK)
		}
	}
	th := boards.NewThermal(cfg.Boards.FS(), det.Profile.Thermal, clock, log)
	st, err := th.Check()
	switch {
	case errors.Is(err, boards.ErrNoThermalData):
		log.Info("thermal monitor off: no usable temperature sensor", "board", det.Board, "err", err)
		close(b.done)
		return b
	case err != nil:
		log.Warn("thermal monitor off", "board", det.Board, "err", err)
		close(b.done)
		return b
	}
	b.update(st)
	interval := cfg.Boards.Thermal.Interval
	if interval <= 0 {
		interval = boards.DefaultConfig().Thermal.Interval
	}
	log.Info("thermal monitor started", "state", st.State, "temp_c", st.MaxC, "sensor", st.Hottest,
		"soft_c", det.Profile.Thermal.SoftC, "hard_c", det.Profile.Thermal.HardC, "interval", interval)
	runCtx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	go func() {
		defer close(b.done)
		_ = th.Run(runCtx, interval, b.update)
	}()
	return b
}

// update applies a thermal status: frame rate, metrics and LED. The
// monitor logs the state changes itself.
func (b *boardRun) update(st boards.ThermalStatus) {
	b.metrics.Update(st)
	if b.throttle != nil {
		b.throttle.SetFactor(st.FrameFactor)
	}
	b.show(boards.SignalFor(st.State))
}

func (b *boardRun) show(s boards.Signal) {
	if b.led == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if s == b.shown {
		return
	}
	b.shown = s
	if err := b.led.Show(s); err != nil {
		b.log.Warn("status LED", "signal", s, "err", err)
	}
}

// stop ends the monitor and turns the LED off.
func (b *boardRun) stop() {
	if b.cancel != nil {
		b.cancel()
	}
	<-b.done
	if b.led != nil {
		if err := b.led.Close(); err != nil {
			b.log.Warn("status LED", "err", err)
		}
	}
}
