package eval

import (
	"errors"
	"fmt"
	"slices"

	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/learner"
)

// ErrInvalidConfig is wrapped by Config.Validate errors.
var ErrInvalidConfig = errors.New("eval: invalid config")

// JointName is the report name of the joint-training upper bound.
const JointName = "joint"

// Config configures a Harness.
type Config struct {
	// Learner is the base learner configuration; Method is replaced per run
	// and Dim/ModelID are taken from the encoder.
	Learner learner.Config `yaml:"learner"`
	// CacheDir holds embedding caches; "" disables caching.
	CacheDir string `yaml:"cache_dir"`
	// Templates are the prompt templates of class text embeddings.
	Templates []string `yaml:"templates"`
	// BatchSize is how many examples go into one Learn call.
	BatchSize int `yaml:"batch_size"`
	// DriftBuckets is how many day buckets the drift curve has.
	DriftBuckets int `yaml:"drift_buckets"`
	// JointMethod is the method the joint upper bound trains offline on all
	// tasks at once. The default is the analytic (ridge-regression) head
	// when registered: a linear head fitted to all data at once is the
	// classic joint bound on frozen features, and unlike a few SGD epochs
	// of finetune it is fitted to convergence. Order-free methods (ncm)
	// score the same jointly and sequentially.
	JointMethod string `yaml:"joint_method"`
	// JointEpochs is how many passes the joint bound makes over the union.
	JointEpochs int `yaml:"joint_epochs"`
}

// DefaultConfig returns the harness defaults.
func DefaultConfig() Config {
	return Config{
		Learner:      learner.DefaultConfig(),
		Templates:    labels.DefaultTemplates(),
		BatchSize:    16,
		DriftBuckets: 8,
		JointMethod:  defaultJointMethod(),
		JointEpochs:  3,
	}
}

// Validate checks c without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("%w: batch_size %d < 1", ErrInvalidConfig, c.BatchSize))
	}
	if c.DriftBuckets < 1 {
		errs = append(errs, fmt.Errorf("%w: drift_buckets %d < 1", ErrInvalidConfig, c.DriftBuckets))
	}
	if c.JointEpochs < 1 {
		errs = append(errs, fmt.Errorf("%w: joint_epochs %d < 1", ErrInvalidConfig, c.JointEpochs))
	}
	if len(c.Templates) == 0 {
		errs = append(errs, fmt.Errorf("%w: no templates", ErrInvalidConfig))
	}
	for _, t := range c.Templates {
		if !containsPlaceholder(t) {
			errs = append(errs, fmt.Errorf("%w: template %q has no %s", ErrInvalidConfig, t, labels.Placeholder))
		}
	}
	return errors.Join(errs...)
}

// defaultJointMethod is the first registered of the preferred joint heads.
func defaultJointMethod() string {
	have := learner.Methods()
	for _, m := range []string{"analytic", "finetune"} {
		if slices.Contains(have, m) {
			return m
		}
	}
	return "ncm"
}
