package eval

import (
	"errors"
	"fmt"
	"slices"

	"github.com/clipfleet/clipfleet/augment"
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
	// Epochs is the training budget per task: how many passes over the
	// task's training set (in its order) a method makes, the same for
	// every method that trains by gradient steps. Methods in SinglePass
	// see each example once whatever Epochs says.
	Epochs int `yaml:"epochs"`
	// SinglePass names the methods whose Learn accumulates sufficient
	// statistics or stores examples (order-free): a second pass would
	// count every example twice instead of training longer, so they get
	// exactly one pass.
	SinglePass []string `yaml:"single_pass"`
	// FewShot is how many examples per class the never-named few-shot
	// measurement teaches; 0 skips it.
	FewShot int `yaml:"few_shot"`
	// FewShotDraws is how many different selections of FewShot examples
	// per class the measurement averages over: the first FewShot of each
	// class in the training set's order, then seeded random ones.
	FewShotDraws int `yaml:"few_shot_draws"`
	// TeachAugment is teach-time augmentation for the never-named
	// few-shot measurement: each of the FewShot pictures per class is
	// taught with TeachAugment.Views augmented views of it (package
	// augment) besides itself — still FewShot examples, as a device would
	// teach them. Views 0 (the default) teaches the pictures alone; the
	// measurement behind that default is in eval/README.md.
	TeachAugment augment.Config `yaml:"teach_augment"`
	// DriftBuckets is how many day buckets the drift curve has.
	DriftBuckets int `yaml:"drift_buckets"`
	// JointMethod is the method the joint upper bound trains offline on all
	// tasks at once. The default is the analytic (ridge-regression) head
	// when registered: a linear head fitted to all data at once is the
	// classic joint bound on frozen features, and unlike a few SGD epochs
	// of finetune it is fitted to convergence. Order-free methods (ncm)
	// score the same jointly and sequentially.
	JointMethod string `yaml:"joint_method"`
	// JointEpochs is how many passes the joint bound makes over the union
	// (a SinglePass method makes one).
	JointEpochs int `yaml:"joint_epochs"`
}

// DefaultConfig returns the harness defaults.
func DefaultConfig() Config {
	return Config{
		Learner:      learner.DefaultConfig(),
		Templates:    labels.DefaultTemplates(),
		BatchSize:    16,
		Epochs:       5,
		SinglePass:   []string{"zeroshot", "ncm", "knn", "analytic", "coleclip"},
		FewShot:      10,
		FewShotDraws: 30,
		TeachAugment: noViews(augment.DefaultConfig()),
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
	if c.Epochs < 1 {
		errs = append(errs, fmt.Errorf("%w: epochs %d < 1", ErrInvalidConfig, c.Epochs))
	}
	if c.FewShot < 0 {
		errs = append(errs, fmt.Errorf("%w: few_shot %d < 0", ErrInvalidConfig, c.FewShot))
	}
	if c.FewShotDraws < 1 {
		errs = append(errs, fmt.Errorf("%w: few_shot_draws %d < 1", ErrInvalidConfig, c.FewShotDraws))
	}
	if err := c.TeachAugment.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: teach_augment: %w", ErrInvalidConfig, err))
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

// epochsFor is the number of passes method name makes over a task.
func (c Config) epochsFor(name string) int {
	if slices.Contains(c.SinglePass, name) {
		return 1
	}
	return c.Epochs
}

// jointEpochs is the passes the joint bound makes: one for a SinglePass
// method, as in the sequential run.
func (c Config) jointEpochs() int {
	if slices.Contains(c.SinglePass, c.JointMethod) {
		return 1
	}
	return c.JointEpochs
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

// noViews is c teaching no views.
func noViews(c augment.Config) augment.Config {
	c.Views = 0
	return c
}
