package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/clipfleet/clipfleet/accel"
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

	src, err := capture.New(cfg.Capture, log)
	if err != nil {
		p.close()
		return nil, err
	}
	p.src = src
	g, err := capture.NewGrabber(ctx, src, cfg.Capture, log)
	if err != nil {
		p.close()
		return nil, err
	}
	p.grabber = g
	log.Info("capture started", "source", src.Name())
	return p, nil
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
