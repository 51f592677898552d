package daemon

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/clipfleet/clipfleet/learner/checkpoint"
	"github.com/clipfleet/clipfleet/learner/replay"
)

// LearnConfig is the daemon's plumbing around the learner (the learner
// itself is configured by the learner section).
type LearnConfig struct {
	// Enabled turns on-device learning on. Off, frames are classified
	// zero-shot by the label set alone and teach requests are refused.
	Enabled bool `yaml:"enabled"`
	// CheckpointInterval is how often changed state is written to
	// state_dir/learner; it is also written on shutdown.
	CheckpointInterval time.Duration     `yaml:"checkpoint_interval"`
	Checkpoint         checkpoint.Config `yaml:"checkpoint"`
	// Replay bounds the memory of taught examples kept for rehearsal and
	// fleet re-training.
	Replay replay.Config `yaml:"replay"`
	// TeachTimeout bounds how long a teach of the next N frames waits.
	TeachTimeout time.Duration `yaml:"teach_timeout"`
}

// DefaultLearnConfig enables learning with a checkpoint a minute.
func DefaultLearnConfig() LearnConfig {
	return LearnConfig{
		Enabled:            true,
		CheckpointInterval: time.Minute,
		Checkpoint:         checkpoint.DefaultConfig(),
		Replay:             replay.DefaultConfig(),
		TeachTimeout:       30 * time.Second,
	}
}

// Validate checks c without side effects.
func (c LearnConfig) Validate() error {
	var errs []error
	if c.CheckpointInterval < time.Second {
		errs = append(errs, fmt.Errorf("%w: learn.checkpoint_interval %v < 1s", ErrInvalidConfig, c.CheckpointInterval))
	}
	if c.TeachTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%w: learn.teach_timeout %v <= 0", ErrInvalidConfig, c.TeachTimeout))
	}
	if err := c.Checkpoint.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("learn.checkpoint: %w", err))
	}
	if err := c.Replay.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("learn.replay: %w", err))
	}
	return errors.Join(errs...)
}

// ResolveStateDir returns state_dir, or, when empty, the directory labels
// use (so one device keeps one state directory).
func (c Config) ResolveStateDir(getenv func(string) string) (string, error) {
	if c.StateDir != "" {
		return filepath.Abs(c.StateDir)
	}
	return c.Labels.ResolveDir(getenv)
}

// LearnerDir is where the checkpoints of one method over one model live
// under the state directory: switching either starts from a fresh state
// and leaves the other's intact, to come back to.
func LearnerDir(stateDir, modelID, method string) string {
	return filepath.Join(stateDir, "learner", safeName(modelID), safeName(method))
}

// safeName keeps a path element to letters, digits and "._-".
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok || (i == 0 && c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// EvalCacheDir is where `edge eval` caches embeddings under the state
// directory.
func EvalCacheDir(stateDir string) string { return filepath.Join(stateDir, "eval-cache") }
