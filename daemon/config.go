package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/boards"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/learner"
)

// Config is the whole edge daemon configuration: one section per package,
// each validated by its own package.
type Config struct {
	Log      LogConfig      `yaml:"log"`
	Capture  capture.Config `yaml:"capture"`
	Accel    accel.Config   `yaml:"accel"`
	Pipeline PipelineConfig `yaml:"pipeline"`
	Labels   labels.Config  `yaml:"labels"`
	HTTP     HTTPConfig     `yaml:"http"`
	// Learner is the on-device continual learner (see learner.Config and
	// LearnConfig in learn_config.go for the daemon-side knobs).
	Learner learner.Config `yaml:"learner"`
	// Learn holds the daemon's learner plumbing: checkpoints, replay.
	Learn LearnConfig `yaml:"learn"`
	// StateDir holds the device's learned state (checkpoints, eval cache).
	// Empty: labels.dir's resolution ($CLIPFLEET_STATE_DIR, else
	// $XDG_STATE_HOME/clipfleet, else ~/.local/state/clipfleet).
	StateDir string `yaml:"state_dir"`
	// Boards selects the board (detected by default) whose accelerator
	// and camera defaults, thermal limits and GPIO pins the daemon uses.
	Boards boards.Config `yaml:"boards"`
	// Sync ships what the learner learns to the fleet hub and applies the
	// fleet's merged adapter (off by default).
	Sync SyncConfig `yaml:"sync"`
}

// LogConfig selects the slog handler.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// PipelineConfig tunes the frame loop and where events go.
type PipelineConfig struct {
	MaxFrames uint64 `yaml:"max_frames"` // stop after N frames; 0 = run until stopped
	// Events is where per-frame events go: "stdout", "none", or a file path
	// (JSON lines, appended).
	Events      string `yaml:"events"`
	EventFormat string `yaml:"event_format"` // json | text (text is for people watching `make run`)
	TopK        int    `yaml:"top_k"`        // labels per event once a label set is loaded
	// Capture is "just_in_time" (take the newest frame when the encoder is
	// about to need it, preprocessing it while the previous one encodes),
	// "eager" (take it as soon as the previous frame is handed over), or
	// "inline" (take, preprocess and encode one frame at a time: nothing
	// runs beside the encoder, which suits a CPU encoder that keeps every
	// core busy; lowest latency, at the cost of the preprocessing gap).
	Capture string `yaml:"capture"`
}

// DefaultConfig runs out of the box on any machine: the synthetic camera,
// the committed test model on ONNX Runtime's CPU provider, and the debug API
// on localhost. A robot sets capture.source to camera, gstreamer or url.
func DefaultConfig() Config {
	c := Config{
		Log:      LogConfig{Level: "info", Format: "text"},
		Capture:  capture.DefaultConfig(),
		Accel:    accel.DefaultConfig(),
		Pipeline: PipelineConfig{Events: "stdout", EventFormat: "json", TopK: 3, Capture: "just_in_time"},
		Labels:   labels.DefaultConfig(),
		HTTP:     HTTPConfig{Listen: "127.0.0.1:9310"},
		Learner:  learner.DefaultConfig(),
		Learn:    DefaultLearnConfig(),
		Boards:   boards.DefaultConfig(),
		Sync:     DefaultSyncConfig(),
	}
	// The default camera plays the procedural world's daylight shapes, at
	// the model's input size, and the labels are the shapes the tiny CLIP
	// (accel's default model) knows by name: `make run` shows live,
	// checkable zero-shot labels with no hardware.
	c.Capture.Source = capture.KindWorld
	c.Capture.Scenario, c.Capture.Task = "default", "shapes-day"
	c.Capture.Width, c.Capture.Height = 224, 224
	c.Capture.FPS = 15
	c.Labels.Default = []string{"circle", "square", "triangle", "star", "cross", "ring", "hexagon", "heart"}
	c.Capture.StallTimeout = 5 * time.Second
	return c
}

// ErrInvalidConfig is wrapped by Validate errors of the daemon's own sections.
var ErrInvalidConfig = errors.New("invalid config")

// Validate checks every section without side effects (no device is opened,
// no port bound, no file written).
func (c Config) Validate() error {
	var errs []error
	if _, err := ParseLevel(c.Log.Level); err != nil {
		errs = append(errs, err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("%w: log.format: %q (want text or json)", ErrInvalidConfig, c.Log.Format))
	}
	if err := c.Capture.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("capture: %w", err))
	}
	if err := c.Accel.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("accel: %w", err))
	}
	if c.Pipeline.Events == "" {
		errs = append(errs, fmt.Errorf("%w: pipeline.events: empty (want stdout, none or a file path)", ErrInvalidConfig))
	}
	if c.Pipeline.EventFormat != "json" && c.Pipeline.EventFormat != "text" {
		errs = append(errs, fmt.Errorf("%w: pipeline.event_format: %q (want json or text)", ErrInvalidConfig, c.Pipeline.EventFormat))
	}
	if c.Pipeline.Capture != "just_in_time" && c.Pipeline.Capture != "eager" && c.Pipeline.Capture != "inline" {
		errs = append(errs, fmt.Errorf("%w: pipeline.capture: %q (want just_in_time, eager or inline)", ErrInvalidConfig, c.Pipeline.Capture))
	}
	if c.Pipeline.TopK < 1 || c.Pipeline.TopK > 100 {
		errs = append(errs, fmt.Errorf("%w: pipeline.top_k: %d outside [1,100]", ErrInvalidConfig, c.Pipeline.TopK))
	}
	if err := c.Labels.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Learner.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("learner: %w", err))
	}
	if err := c.Learn.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Boards.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Sync.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Sync.Enabled && !c.Learn.Enabled {
		errs = append(errs, fmt.Errorf("%w: sync.enabled needs learn.enabled", ErrInvalidConfig))
	}
	return errors.Join(errs...)
}

// ParseLevel maps a log.level value to a slog level.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%w: log.level: %q (want debug, info, warn or error)", ErrInvalidConfig, s)
}
