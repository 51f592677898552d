package camera

import (
	"fmt"
	"log/slog"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/synthetic"
	"github.com/clipfleet/clipfleet/world"
)

// Importing the package registers capture.KindWorld, so a daemon config can
// say `capture: {source: world, scenario: default, task: shapes-day}`.
func init() {
	capture.Register(capture.KindWorld, func(cfg capture.Config, _ *slog.Logger) (capture.Source, error) {
		return NewSource(cfg)
	})
}

// Source is a capture source playing a world stream: a synthetic source
// (pacing, frame numbering, reopen behaviour) drawing the stream's frames.
type Source struct {
	*synthetic.Source
	stream *world.Stream
}

// NewSource opens the stream cfg.Scenario/cfg.Task and plays it at
// cfg.Width×cfg.Height, paced to cfg.FPS: a task's training split (what a
// robot learns from), or a zero-shot set, which has only a test split.
// Frame Seq k shows Stream().Sample(k), so a consumer can look up what a
// frame shows.
func NewSource(cfg capture.Config) (*Source, error) {
	sc, err := world.LoadScenario(cfg.Scenario)
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	wc := world.Config{Scenario: cfg.Scenario, Task: cfg.Task, Split: world.TrainSplit}
	for _, z := range sc.ZeroShot {
		if z.Name == cfg.Task {
			wc.Split = world.TestSplit
		}
	}
	st, err := world.NewStream(sc, wc)
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	render, err := Render(st, cfg.Width, cfg.Height)
	if err != nil {
		return nil, err
	}
	src, err := synthetic.New(cfg, render)
	if err != nil {
		return nil, fmt.Errorf("camera: %w", err)
	}
	return &Source{Source: src, stream: st}, nil
}

// Name identifies the stream and frame size ("world:default/shapes-day/test@224x224").
func (s *Source) Name() string {
	return fmt.Sprintf("%s@%s", s.stream.Name(), s.Source.Name()[len("synthetic:"):])
}

// Stream is the world stream played; its Sample(seq) is the ground truth
// of frame seq.
func (s *Source) Stream() *world.Stream { return s.stream }
