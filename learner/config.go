package learner

import (
	"errors"
	"fmt"
	"math"
)

// Config configures the learner: which method, its hyper-parameters, and the
// safeguards Trainer applies around it.
type Config struct {
	// Method is a registered method name (Methods lists them).
	Method string `yaml:"method"`
	// Dim is the embedding dimension; 0 in a file means "take it from the
	// encoder" and must be filled in before New.
	Dim int `yaml:"dim"`
	// ModelID is the encoder's manifest id; deltas from another model are
	// refused because their embeddings live in another space. Optional.
	ModelID string `yaml:"model_id"`
	// LogitScale multiplies cosine similarities (CLIP's learned value is 100).
	LogitScale float32 `yaml:"logit_scale"`
	// Seed makes initialisation and sampling reproducible.
	Seed uint64 `yaml:"seed"`
	// TextDuplicate is the cosine at or above which two classes' text
	// embeddings count as the same (LabelSet.InformativeText): the
	// gradient-trained heads (finetune, zscl, modx, sit, moe) then learn a
	// class vector for them instead of keeping the text fixed. Above 1
	// turns this off.
	TextDuplicate float32 `yaml:"text_duplicate"`

	NCM      NCMConfig      `yaml:"ncm"`
	KNN      KNNConfig      `yaml:"knn"`
	Finetune FinetuneConfig `yaml:"finetune"`
	MoE      MoEConfig      `yaml:"moe"`
	Analytic AnalyticConfig `yaml:"analytic"`

	Caps   CapsConfig   `yaml:"caps"`
	Undo   UndoConfig   `yaml:"undo"`
	Pseudo PseudoConfig `yaml:"pseudo"`
}

// NCMConfig configures nearest-class-mean / weight imprinting.
type NCMConfig struct {
	// Alpha mixes the text embedding into each class vector:
	// normalize(α·text + (1-α)·prototype). 1 is pure zero-shot, 0 pure
	// prototypes. Classes missing one of the two use the other.
	Alpha float32 `yaml:"alpha"`
}

// KNNConfig configures the k-nearest-neighbour store.
type KNNConfig struct {
	K        int  `yaml:"k"`        // neighbours that vote
	Capacity int  `yaml:"capacity"` // stored examples at most
	Weighted bool `yaml:"weighted"` // votes weighted by cosine similarity
}

// FinetuneConfig configures the residual adapter baseline.
type FinetuneConfig struct {
	Hidden      int     `yaml:"hidden"`       // adapter bottleneck width
	Optimizer   string  `yaml:"optimizer"`    // "sgd" or "adam"
	LR          float32 `yaml:"lr"`           // learning rate
	Momentum    float32 `yaml:"momentum"`     // sgd only
	Steps       int     `yaml:"steps"`        // gradient steps per Learn call
	WeightDecay float32 `yaml:"weight_decay"` // L2 on adapter weights
}

// CapsConfig bounds how many examples one class may contribute, so a person
// holding the teach button, or a self-reinforcing pseudo-labeller, cannot
// drown the other classes.
type CapsConfig struct {
	MaxTaughtPerClass int `yaml:"max_taught_per_class"` // 0: unlimited
	MaxPseudoPerClass int `yaml:"max_pseudo_per_class"` // 0: unlimited
}

// UndoConfig bounds the undo journal.
type UndoConfig struct {
	Depth int `yaml:"depth"` // teach actions that can be reverted; 0 disables undo
}

// PseudoConfig sets when the device trusts its own predictions enough to
// learn from them.
type PseudoConfig struct {
	Enabled       bool    `yaml:"enabled"`
	MinAttempts   int     `yaml:"min_attempts"`   // observations of a track before deciding
	MinAgreement  float32 `yaml:"min_agreement"`  // share of observations voting for the winner
	MinConfidence float32 `yaml:"min_confidence"` // mean top-1 probability of the winning votes
	Window        int     `yaml:"window"`         // observations kept per track
	MaxTracks     int     `yaml:"max_tracks"`     // tracks followed at once (oldest evicted)
	Weight        float32 `yaml:"weight"`         // example weight of pseudo labels
}

// DefaultConfig returns sane defaults for a 512-d CLIP on a small board;
// Dim is left 0 to be taken from the encoder.
func DefaultConfig() Config {
	return Config{
		Method:        "ncm",
		LogitScale:    100,
		Seed:          1,
		TextDuplicate: DefaultTextDuplicate,
		NCM:           NCMConfig{Alpha: 0.5},
		KNN:           KNNConfig{K: 5, Capacity: 2000, Weighted: true},
		Finetune: FinetuneConfig{
			Hidden: 64, Optimizer: "adam", LR: 1e-3, Momentum: 0.9, Steps: 1,
		},
		MoE:      DefaultMoEConfig(),
		Analytic: DefaultAnalyticConfig(),
		Caps:     CapsConfig{MaxTaughtPerClass: 200, MaxPseudoPerClass: 200},
		Undo:     UndoConfig{Depth: 16},
		Pseudo:   PseudoConfig{MinAttempts: 3, MinAgreement: 0.6, MinConfidence: 0.7, Window: 8, MaxTracks: 64, Weight: 0.5},
	}
}

// Validate checks the configuration without side effects. Every problem is
// reported, joined, each wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if _, ok := lookupFactory(c.Method); !ok {
		bad("method %q is not registered (have %v)", c.Method, Methods())
	}
	if c.Dim < 0 {
		bad("dim %d < 0", c.Dim)
	}
	if !(c.LogitScale > 0) || math.IsInf(float64(c.LogitScale), 0) {
		bad("logit_scale %v must be > 0", c.LogitScale)
	}
	if !(c.TextDuplicate > 0) || math.IsInf(float64(c.TextDuplicate), 0) {
		bad("text_duplicate %v must be > 0", c.TextDuplicate)
	}
	if !(c.NCM.Alpha >= 0 && c.NCM.Alpha <= 1) {
		bad("ncm.alpha %v not in [0,1]", c.NCM.Alpha)
	}
	if c.KNN.K < 1 {
		bad("knn.k %d < 1", c.KNN.K)
	}
	if c.KNN.Capacity < c.KNN.K {
		bad("knn.capacity %d < knn.k %d", c.KNN.Capacity, c.KNN.K)
	}
	f := c.Finetune
	if f.Hidden < 1 {
		bad("finetune.hidden %d < 1", f.Hidden)
	}
	if f.Optimizer != "sgd" && f.Optimizer != "adam" {
		bad("finetune.optimizer %q is not sgd or adam", f.Optimizer)
	}
	if !(f.LR > 0) || f.LR > 10 {
		bad("finetune.lr %v not in (0,10]", f.LR)
	}
	if !(f.Momentum >= 0 && f.Momentum < 1) {
		bad("finetune.momentum %v not in [0,1)", f.Momentum)
	}
	if f.Steps < 1 {
		bad("finetune.steps %d < 1", f.Steps)
	}
	if !(f.WeightDecay >= 0) {
		bad("finetune.weight_decay %v < 0", f.WeightDecay)
	}
	if err := c.MoE.Validate(); err != nil {
		bad("moe: %v", err)
	}
	if err := c.Analytic.Validate(); err != nil {
		bad("analytic: %v", err)
	}
	if c.Caps.MaxTaughtPerClass < 0 || c.Caps.MaxPseudoPerClass < 0 {
		bad("caps must be >= 0")
	}
	if c.Undo.Depth < 0 {
		bad("undo.depth %d < 0", c.Undo.Depth)
	}
	p := c.Pseudo
	if p.MinAttempts < 1 {
		bad("pseudo.min_attempts %d < 1", p.MinAttempts)
	}
	if p.Window < p.MinAttempts {
		bad("pseudo.window %d < min_attempts %d", p.Window, p.MinAttempts)
	}
	if !(p.MinAgreement > 0.5 && p.MinAgreement <= 1) {
		// ≤ 0.5 would let two labels both reach consensus on one track.
		bad("pseudo.min_agreement %v not in (0.5,1]", p.MinAgreement)
	}
	if !(p.MinConfidence >= 0 && p.MinConfidence <= 1) {
		bad("pseudo.min_confidence %v not in [0,1]", p.MinConfidence)
	}
	if p.MaxTracks < 1 {
		bad("pseudo.max_tracks %d < 1", p.MaxTracks)
	}
	if !(p.Weight > 0 && p.Weight <= 1) {
		bad("pseudo.weight %v not in (0,1]", p.Weight)
	}
	return errors.Join(errs...)
}
