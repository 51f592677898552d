package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/daemon"

	// Backends and sources register themselves by name.
	_ "github.com/clipfleet/clipfleet/accel/onnx"
	_ "github.com/clipfleet/clipfleet/accel/tflite"
	_ "github.com/clipfleet/clipfleet/capture/cv"
	_ "github.com/clipfleet/clipfleet/capture/synthetic"
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
