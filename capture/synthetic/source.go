package synthetic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clipfleet/clipfleet/capture"
)

func init() {
	capture.Register(capture.KindSynthetic, func(cfg capture.Config, _ *slog.Logger) (capture.Source, error) {
		return New(cfg, nil)
	})
}

// ErrNotOpen is returned by Read before Open or after Close.
var ErrNotOpen = errors.New("synthetic: source not open")

// Source is a capture.Source that draws its frames. It never ends; frame k
// (Seq k, from 1) is render(k, ...), and a reopened source carries on where
// it stopped, like a camera that kept looking while it was disconnected.
type Source struct {
	name          string
	width, height int
	render        Renderer
	pacer         *capture.Pacer

	seq  uint64
	open bool
}

// New returns a source of cfg.Width×cfg.Height frames paced to cfg.FPS
// (0 = as fast as render allows). A nil render means NewScene(cfg.Seed).Render.
func New(cfg capture.Config, render Renderer) (*Source, error) {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("synthetic: frame size must be positive, got %dx%d", cfg.Width, cfg.Height)
	}
	if cfg.FPS < 0 {
		return nil, fmt.Errorf("synthetic: fps must not be negative, got %g", cfg.FPS)
	}
	name := fmt.Sprintf("synthetic:%dx%d", cfg.Width, cfg.Height)
	if render == nil {
		render = NewScene(cfg.Seed).Render
		name = fmt.Sprintf("synthetic:seed=%d,%dx%d", cfg.Seed, cfg.Width, cfg.Height)
	}
	return &Source{
		name:   name,
		width:  cfg.Width,
		height: cfg.Height,
		render: render,
		pacer:  capture.NewPacer(cfg.FPS, nil),
	}, nil
}

// Name implements capture.Source.
func (s *Source) Name() string { return s.name }

// Open implements capture.Source.
func (s *Source) Open(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.open = true
	s.pacer.Reset()
	return nil
}

// Read implements capture.Source; it allocates only when dst.RGB is too small.
func (s *Source) Read(ctx context.Context, dst *capture.Frame) error {
	if !s.open {
		return ErrNotOpen
	}
	if err := s.pacer.Wait(ctx); err != nil {
		return err
	}
	n := s.width * s.height * 3
	if cap(dst.RGB) < n {
		dst.RGB = make([]byte, n)
	}
	dst.RGB = dst.RGB[:n]
	dst.Width, dst.Height = s.width, s.height
	s.seq++
	s.render(s.seq, dst)
	dst.Seq, dst.Time = s.seq, time.Now()
	return nil
}

// Close implements capture.Source.
func (s *Source) Close() error {
	s.open = false
	return nil
}
